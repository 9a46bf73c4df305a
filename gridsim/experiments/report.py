"""``gridsim report``: one tidy table of an experiment's runs, statistics, figures and reports.

Reads every run folder under an experiment's output folder (``manifest.json`` +
``summary.json``) and writes, into the output folder (default: the experiment folder):

* ``results.csv`` and ``results.parquet``: one row per run — run folder, status, variant
  parameters (the overrides that differ between runs, the replication aside), seed,
  replication, wall time and every summary metric (nested ones flattened as ``a.b``);
* ``statistics.csv``: per variant and metric, n, mean, standard deviation, the 95 % confidence
  interval (Student t) and the replications needed to reach the wanted half-width;
* ``paired_differences.csv``: for each pair of variants, the paired difference per metric
  (runs matched by replication, i.e. by common random numbers) with its 95 % interval;
* figures (``figures/*.png``), ``report.md`` and a self-contained ``report.html`` (figures
  embedded), with Chinese beside English for domain terms.

Methods: mean ± t(0.975, n−1) · s/√n; paired differences d = x_a − x_b over common
replications (runs matched by replication and seed: common random numbers), same interval on
d; required replications: the least n ≥ 2 with t(0.975, n−1) · s/√n ≤ h, for the wanted
half-width h.

Input checks (:func:`collect_runs`), so that a report never mixes, guesses or silently drops:

* a ``manifest.json`` that does not read (truncated, not JSON, not an object, no list of
  overrides): the report **refuses**, one line per such file naming it and what is wrong. Without
  its manifest a run cannot be placed in a variant or matched by replication, so any report
  would be a guess; running the experiment again redoes that run (resume skips the others);
* a ``summary.json`` that does not read (or is missing) beside a manifest saying ``done``: the
  run **counts as failed** (its row says so, with the file and the problem as its error, and it
  is listed under "Failed runs"), and a warning line names the file. The run is known, only its
  results are missing, which is what a failed run is in a report;
* a folder holding **more than one experiment refuses**, naming both: runs whose manifests carry
  different ``experiment.name``; runs that do not all set the swept keys (one sweeps ``a``, the
  other ``b``); runs whose settings differ outside the swept keys (two experiment files with one
  name, or a sweep half rerun after a change), naming the first such setting and a run of each
  side; two runs of the same variant, replication and seed (one experiment run into two
  folders, or two sessions of different experiment files). A report of each is made from each
  one's own folder. Runs of one experiment whose ``experiment`` block differs (the title or the
  metrics were edited between sessions; the block does not change results) are reported under
  the block of the most recently started run.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from gridsim.errors import UserError
from gridsim.experiments.headlines import Headline, headline, sense
from gridsim.experiments.labels import variant_label
from gridsim.output.run_folder import MANIFEST, SUMMARY, read_json

__all__ = ["LABELS", "Report", "best_and_worst", "better_direction", "build_report",
           "collect_runs", "findings", "headline_pair", "label", "metric_range",
           "ordered_variants", "own_labels", "paired_difference", "required_replications",
           "variant_names", "variant_values"]

#: Labels of metrics: (English, 中文).
LABELS: dict[str, tuple[str, str]] = {
    "incidents": ("incidents", "事件数"),
    "response_time_p50_s": ("response time p50 (s)", "响应时间中位数"),
    "response_time_p90_s": ("response time p90 (s)", "响应时间90分位"),
    "response_time_mean_s": ("response time mean (s)", "平均响应时间"),
    "response_from_occurrence_p50_s": ("first response from occurrence p50 (s)",
                                       "发生至首达中位数"),
    "response_from_occurrence_p90_s": ("first response from occurrence p90 (s)",
                                       "发生至首达90分位"),
    "within_5min_share": ("within 5 minutes", "五分钟到场率"),
    "switch_latency_p50_s": ("switch latency p50 (s)", "平急转换时延中位数"),
    "switch_latency_p90_s": ("switch latency p90 (s)", "平急转换时延90分位"),
    "escalations": ("escalations", "网格吹哨次数"),
    "report_on_time_share": ("reports on time", "信息按时上报率"),
    "supply_shortages": ("supply shortages", "物资短缺次数"),
    "supply_delay_mean_s": ("mean supply delay (s)", "物资到场平均延误"),
    "supply_delayed_incidents": ("incidents waiting for supplies", "等待物资事件数"),
    "premoved_people": ("people moved ahead of the storm", "前置人员"),
    "premoved_units": ("stock units moved ahead of the storm", "前置物资"),
    "responder_utilization": ("responder utilization", "力量利用率"),
    "mean_time_in_system_s": ("time to resolution (s)", "事件处置时长"),
    "response_by_mode_at_notice.ALERT.responded": ("incidents answered while assembling",
                                                   "集结期间响应事件数"),
    "response_by_mode_at_notice.ALERT.response_time_p50_s": (
        "response time p50 while assembling (s)", "集结期间响应时间中位数"),
    "response_by_mode_at_notice.FORWARD_COMMAND.response_time_p50_s": (
        "response time p50 in forward command (s)", "前指状态响应时间中位数"),
    "response_by_mode_at_notice.FORWARD_COMMAND.responded": (
        "incidents answered in forward command", "前指状态响应事件数"),
    "response_by_mode_at_notice.PEACE.responded": ("incidents answered in peacetime",
                                                   "平时状态响应事件数"),
    "response_by_mode_at_notice.RECOVERY.responded": ("incidents answered in stand-down",
                                                      "恢复状态响应事件数"),
    "switch_episodes": ("switch episodes", "平急转换次数"),
    "response_by_mode_at_notice.PEACE.within_5min_share": ("within 5 minutes in peacetime",
                                                           "平时状态五分钟到场率"),
    "storm_utilization": ("busy share of warned grids' people", "预警期间人员占用率"),
    "rescues": ("rescues by grid forces", "网格救援次数"),
    "people_trapped": ("people trapped", "被困人数"),
    "people_spared_by_relocation": ("people spared by relocation", "转移避险避免被困人数"),
    "people_rescued": ("people rescued", "救出人数"),
    "deaths": ("deaths", "遇难人数"),
    "injuries": ("seriously injured", "重伤人数"),
    "losses_cny": ("direct losses (CNY)", "直接经济损失 (元)"),
    "losses_averted_cny": ("losses averted (CNY)", "挽回经济损失 (元)"),
    "evacuation_p50_s": ("half sheltered (s)", "半数安置用时"),
    "evacuation_p90_s": ("90 % sheltered (s)", "九成安置用时"),
    "clearance_time_s": ("clearance time (s)", "清空时间"),
    "not_sheltered_by_deadline": ("not sheltered by the deadline", "时限内未安置人数"),
    "grid_clearance_p50_s": ("grid clearance p50 (s)", "网格清空时间中位数"),
    "grid_clearance_max_s": ("grid clearance max (s)", "网格清空时间最大值"),
    "evacuated": ("people sheltered", "已安置人数"),
    "incidents_by_hazard.ebike_fire": ("e-bike fires", "电动自行车火灾"),
    "ebike_fires_indoor": ("indoor e-bike fires", "室内电动自行车火灾"),
    "incidents_averted.ebike_fire": ("e-bike fires averted", "避免电动自行车火灾"),
    "campaign_cost_cny": ("campaign cost (CNY)", "整治行动成本 (元)"),
    "hazards_found": ("hazards found", "发现隐患数"),
    "hazards_rectified": ("hazards rectified", "整改隐患数"),
    "hazards_rectified_by_class.ebike_indoor": ("e-bike hazards fixed", "整改电动车隐患"),
    "incidents_by_hazard.building_fire": ("building fires", "建筑火灾"),
}

_DEFAULT_METRICS = ("response_time_p50_s", "within_5min_share", "switch_latency_p50_s",
                    "response_from_occurrence_p50_s", "report_on_time_share")


def label(metric: str, sep: str = " ") -> str:
    en, zh = LABELS.get(metric, (metric, ""))
    return f"{en}{sep}{zh}" if zh else en


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _parse_override(o: str) -> tuple[str, str] | None:
    if "=" not in o or o.startswith(("hydra", "~")):
        return None
    k, v = o.lstrip("+").split("=", 1)
    return k, v


def _warn_stderr(line: str) -> None:
    sys.stderr.write(f"gridsim: {line}\n")
    sys.stderr.flush()


def _manifests(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every run's manifest under ``folder``; a :class:`UserError` with one line per manifest
    that does not read."""
    found: list[tuple[Path, dict[str, Any]]] = []
    problems: list[str] = []
    for path in sorted(folder.rglob(MANIFEST)):
        try:
            m = read_json(path, "manifest", _REDO)
            overrides = m.get("overrides", [])
            if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
                raise UserError("the manifest has no list of overrides (a list of strings)",
                                path, _REDO)
            if not isinstance(m.get("config", {}), dict):
                raise UserError("the manifest's config is not a mapping", path, _REDO)
        except UserError as exc:
            problems += exc.lines
            continue
        found.append((path.parent, m))
    if problems:
        err = UserError(problems[0])
        err.lines = problems
        raise err
    return found


_REDO = "run the experiment again to redo that run"


def _rel(run: Path, folder: Path) -> str:
    return run.relative_to(folder).as_posix() or "."


def _params(m: dict[str, Any]) -> dict[str, str]:
    return dict(p for o in m.get("overrides", []) if (p := _parse_override(str(o))))


def _refuse(what: str, folder: Path) -> UserError:
    return UserError(f"{what}; one report would mix them", folder,
                     "report each experiment from its own folder (its hydra.sweep.dir)")


def _drop(config: dict[str, Any], dotted: str) -> None:
    """Remove the setting (or the config group, ``a/b``) a swept key sets."""
    parts = dotted.replace("/", ".").split(".")
    node: Any = config
    for p in parts[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(p), dict):
            return
        child = dict(node[p])  # a copy: the manifest's config stays as it was
        node[p] = child
        node = child
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def _base(m: dict[str, Any], swept: set[str]) -> dict[str, Any]:
    """A run's settings apart from what the sweep varies, the replication and the seed, and
    what does not change results (the experiment block, the progress display)."""
    config = dict(m.get("config") or {})
    for key in (*swept, "experiment", "replication", "seed", "output.progress"):
        _drop(config, key)
    return config


def _first_difference(a: Any, b: Any, prefix: str = "") -> tuple[str, Any, Any] | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return (f"{prefix}{k}", a.get(k, "(not set)"), b.get(k, "(not set)"))
            d = _first_difference(a[k], b[k], f"{prefix}{k}.")
            if d is not None:
                return d
        return None
    return None if a == b else (prefix.rstrip("."), a, b)


def _short(v: Any, n: int = 60) -> str:
    text = json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= n else text[: n - 1] + "…"


def _check_one_experiment(folder: Path, runs: list[tuple[Path, dict[str, Any]]]) -> None:
    """Refuse (a :class:`UserError` naming both sides) runs that are not of one experiment."""
    names: dict[str, list[Path]] = {}
    for run, m in runs:
        exp = (m.get("config") or {}).get("experiment") or {}
        names.setdefault(str(exp.get("name") or "") if isinstance(exp, dict) else "",
                         []).append(run)
    if len(names) > 1:
        listed = "; ".join(f"{n or '(no experiment)'}: {len(r)} runs, e.g. {_rel(r[0], folder)}"
                           for n, r in sorted(names.items()))
        raise _refuse(f"the folder holds the runs of {len(names)} experiments ({listed})", folder)
    params = [(run, _params(m)) for run, m in runs]
    values: dict[str, set[str]] = {}
    for _, p in params:
        for k, v in p.items():
            values.setdefault(k, set()).add(v)
    swept = {k for k, v in values.items() if len(v) > 1}
    sides: dict[frozenset[str], list[Path]] = {}
    for run, p in params:
        sides.setdefault(frozenset(swept & set(p)), []).append(run)
    if len(sides) > 1:
        listed = "; ".join(f"{len(r)} runs sweeping {', '.join(sorted(k)) or 'nothing'}, e.g. "
                           f"{_rel(r[0], folder)}"
                           for k, r in sorted(sides.items(), key=lambda kv: sorted(kv[0])))
        raise _refuse(f"the runs do not sweep the same keys ({listed})", folder)
    first_run, first = runs[0][0], _base(runs[0][1], swept)
    for run, m in runs[1:]:
        d = _first_difference(first, _base(m, swept))
        if d is not None:
            setting, a, b = d
            raise _refuse(f"the runs differ in a setting that is not swept: {setting} is "
                          f"{_short(a)} in {_rel(first_run, folder)} and {_short(b)} in "
                          f"{_rel(run, folder)}", folder)
    seen: dict[tuple[Any, ...], Path] = {}
    for (run, m), (_, p) in zip(runs, params, strict=True):
        key = (tuple(sorted((k, v) for k, v in p.items() if k in swept
                            and k not in ("replication", "seed"))),
               m.get("replication"), m.get("seed"))
        if key in seen:
            raise _refuse(f"two runs of the same variant, replication and seed: "
                          f"{_rel(seen[key], folder)} and {_rel(run, folder)}", folder)
        seen[key] = run


def collect_runs(folder: Path, warn: Callable[[str], None] | None = None
                 ) -> tuple[list[dict[str, Any]], list[str], dict[str, Any]]:
    """Rows (one per run folder with a manifest), the variant parameter names, and the
    experiment settings (those of the most recently started run), after the input checks of
    the module docstring (:class:`UserError` when the report refuses). ``warn`` gets one line
    per run that counts as failed because its summary does not read (default: stderr)."""
    warn = warn or _warn_stderr
    runs = _manifests(folder)
    if runs:
        _check_one_experiment(folder, runs)
    rows: list[dict[str, Any]] = []
    experiment: dict[str, Any] = {}
    newest = -math.inf
    for run, m in runs:
        exp = (m.get("config") or {}).get("experiment") or {}
        started = m.get("started_unix")
        started = float(started) if isinstance(started, int | float) else -math.inf
        if isinstance(exp, dict) and (not experiment or started > newest):
            experiment, newest = dict(exp), started
        params = _params(m)
        row: dict[str, Any] = {"run": _rel(run, folder), "status": m.get("status"),
                               "wall_s": m.get("wall_s"), "error": m.get("error") or ""}
        row.update({f"param.{k}": v for k, v in params.items()
                    if k not in ("replication", "seed")})
        if m.get("status") == "done":
            try:
                row.update(_flatten(read_json(run / SUMMARY, "summary", hint=None)))
            except UserError as exc:
                warn(f"{exc.lines[0]} (the run counts as failed)")
                row.update(status="failed", error=exc.lines[0])
        row.setdefault("seed", m.get("seed"))
        row.setdefault("replication", m.get("replication"))
        rows.append(row)
    names = sorted({k for r in rows for k in r if k.startswith("param.")})
    # a key is swept when the runs that set it give it two values or more (an override of one
    # value in some runs only, e.g. added on resuming, does not make a variant of its own)
    varying = ([k for k in names if len({str(r[k]) for r in rows if k in r}) > 1]
               or [k for k in names if all(k in r for r in rows)])
    for r in rows:
        r["variant"] = ", ".join(f"{k[len('param.'):]}={r.get(k)}" for k in varying) or "all"
    return rows, varying, experiment


def ci95(x: np.ndarray) -> tuple[float, float, float, float]:
    """``(mean, sd, low, high)`` of a Student-t 95 % interval (NaN where undefined)."""
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    h = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - h, mean + h


def metric_range(metric: str, x: np.ndarray) -> tuple[float, float]:
    """Where a metric's mean can lie, to cut its interval to: a share (``..._share``,
    ``responder_utilization``) in [0, 1], any other metric of gridsim's summary (counts, times)
    at or above 0. No bound when a run's value lies outside (a metric of one's own)."""
    x = x[np.isfinite(x)]
    low, high = 0.0, (1.0 if metric.endswith(("_share", "utilization")) else math.inf)
    if len(x) and (float(x.min()) < low or float(x.max()) > high):
        return -math.inf, math.inf
    return low, high


def required_replications(sd: float, half_width: float, cap: int = 1_000_000) -> float:
    """The least n >= 2 with t(0.975, n-1) · sd / sqrt(n) <= half_width."""
    if not (math.isfinite(sd) and half_width > 0):
        return math.nan
    if sd == 0:
        return 2
    n = max(2, math.ceil((1.96 * sd / half_width) ** 2))
    while n > 2 and float(stats.t.ppf(0.975, n - 2)) * sd / math.sqrt(n - 1) <= half_width:
        n -= 1
    while float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n) > half_width and n < cap:
        n += 1
    return n


@dataclass
class Report:
    """An experiment's tables, for writing and for tests."""

    rows: list[dict[str, Any]]
    params: list[str]
    experiment: dict[str, Any]
    metrics: list[str]
    variants: list[str]
    statistics: list[dict[str, Any]]
    paired: list[dict[str, Any]]


def _values(rows: list[dict[str, Any]], variant: str, metric: str
            ) -> dict[tuple[int, str], float]:
    """A variant's values of a metric by (replication, seed): the runs paired across variants
    (common random numbers); each key is one run (:func:`collect_runs` refuses duplicates)."""
    out = {}
    for r in rows:
        if r["variant"] == variant and r.get("status") == "done":
            v = r.get(metric)
            key = (int(r.get("replication") or 0), str(r.get("seed")))
            out[key] = float(v) if v is not None else math.nan
    return out


def _sort_key(value: Any) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def ordered_variants(rows: list[dict[str, Any]], params: list[str]) -> list[str]:
    """The variants in the order of their parameter values (numbers as numbers: 60 < 120)."""
    keys: dict[str, tuple[tuple[int, float, str], ...]] = {}
    for r in rows:
        keys.setdefault(r["variant"], tuple(_sort_key(r.get(k)) for k in params))
    return sorted(keys, key=lambda v: (keys[v], v))


def build_report(folder: Path, warn: Callable[[str], None] | None = None) -> Report:
    """Gather the runs under ``folder`` (checked as :func:`collect_runs` says; ``warn`` gets
    its warnings) and compute the statistics."""
    rows, params, experiment = collect_runs(folder, warn)
    if not rows:
        raise FileNotFoundError(f"no run with a {MANIFEST} under {folder}")
    metrics = [m for m in (experiment.get("metrics") or _DEFAULT_METRICS)]
    variants = ordered_variants(rows, params)
    wanted = dict(experiment.get("half_width") or {})
    rel = float(experiment.get("relative_half_width") or 0.05)
    statistics = []
    for v in variants:
        for metric in metrics:
            x = np.array(list(_values(rows, v, metric).values()), dtype=float)
            mean, sd, lo, hi = ci95(x)
            h = float(wanted.get(metric, rel * abs(mean) if math.isfinite(mean) else math.nan))
            floor, ceiling = metric_range(metric, x)
            statistics.append({
                "variant": v, "metric": metric, "n": int(np.isfinite(x).sum()),
                "mean": mean, "sd": sd,
                # the interval within the metric's range; the half-width stays the t one
                "ci95_low": max(lo, floor), "ci95_high": min(hi, ceiling),
                "half_width": (hi - lo) / 2 if math.isfinite(hi) else math.nan,
                "wanted_half_width": h, "replications_needed": required_replications(sd, h),
            })
    pairs = _pairs(experiment, variants)
    paired = [paired_difference(rows, a, b, metric) for a, b in pairs for metric in metrics]
    return Report(rows, params, experiment, metrics, variants, statistics, paired)


def paired_difference(rows: list[dict[str, Any]], a: str, b: str, metric: str
                      ) -> dict[str, Any]:
    """Variant ``a`` minus variant ``b`` in ``metric``, over their common replications: n, mean
    difference, sd, 95 % interval and whether it excludes 0."""
    xa, xb = _values(rows, a, metric), _values(rows, b, metric)
    common = sorted(set(xa) & set(xb))
    d = np.array([xa[k] - xb[k] for k in common], dtype=float)
    mean, sd, lo, hi = ci95(d)
    return {"variant": a, "baseline": b, "metric": metric,
            "n": int(np.isfinite(d).sum()), "mean_difference": mean, "sd": sd,
            "ci95_low": lo, "ci95_high": hi,
            "significant": bool(math.isfinite(lo) and (lo > 0 or hi < 0))}


def variant_values(rep: Report) -> dict[str, dict[str, str]]:
    """Each variant's value of each swept parameter (``param.`` prefix removed)."""
    out: dict[str, dict[str, str]] = {}
    for r in rep.rows:
        out.setdefault(r["variant"], {k.removeprefix("param."): str(r.get(k))
                                      for k in rep.params})
    return out


def own_labels(rep: Report) -> dict[str, str]:
    """The experiment file's own ``labels`` (see :mod:`gridsim.experiments.labels`)."""
    own = rep.experiment.get("labels") or {}
    return {str(k): str(v) for k, v in own.items()} if isinstance(own, dict) else {}


def variant_names(rep: Report) -> dict[str, tuple[str, str]]:
    """Each variant's plain name ``(en, zh)`` (:func:`gridsim.experiments.labels.variant_label`)."""
    own = own_labels(rep)
    return {v: variant_label(vals, own) for v, vals in variant_values(rep).items()}


def headline_pair(rep: Report) -> tuple[str, str] | None:
    """The comparison the report opens with: the experiment's first named pair, else the last
    variant (in the order of the swept values) against the first."""
    if len(rep.variants) < 2:
        return None
    if rep.experiment.get("pairs") and rep.paired:
        return rep.paired[0]["variant"], rep.paired[0]["baseline"]
    return rep.variants[-1], rep.variants[0]


def findings(rep: Report, pair: tuple[str, str] | None = None) -> list[Headline]:
    """One headline per metric for ``pair`` (default :func:`headline_pair`; every paired
    difference when ``pair`` is ``("*", "*")``)."""
    names = variant_names(rep)
    if pair == ("*", "*"):
        rows = rep.paired
    else:
        pair = pair or headline_pair(rep)
        if pair is None:
            return []
        rows = [p for p in rep.paired if (p["variant"], p["baseline"]) == pair] or [
            paired_difference(rep.rows, pair[0], pair[1], m) for m in rep.metrics]
    return [headline(p["metric"], names[p["variant"]], names[p["baseline"]], p, LABELS)
            for p in rows]


def better_direction(metric: str) -> str | None:
    """``"higher"``, ``"lower"`` or None (:data:`gridsim.experiments.headlines.METRICS`)."""
    return sense(metric, LABELS).better


def best_and_worst(rep: Report, metric: str) -> tuple[str, str, dict[str, Any]] | None:
    """``(best, worst, their paired difference)`` by mean ``metric`` when its better direction
    is known and the paired 95 % interval of best − worst excludes 0; else None (no variant is
    named best or worst without a significant difference)."""
    better = better_direction(metric)
    means = [(s["mean"], s["variant"]) for s in rep.statistics
             if s["metric"] == metric and math.isfinite(s["mean"])]
    if better is None or len(means) < 2:
        return None
    means.sort()
    low, high = means[0][1], means[-1][1]
    best, worst = (high, low) if better == "higher" else (low, high)
    d = paired_difference(rep.rows, best, worst, metric)
    return (best, worst, d) if d["significant"] else None


def _pairs(experiment: dict[str, Any], variants: list[str]) -> list[tuple[str, str]]:
    """Pairs named in the experiment (by variant value, e.g. ``[pilot_after, pilot_before]``),
    else every variant against the first."""
    named = []
    for p in experiment.get("pairs") or []:
        a = next((v for v in variants if _matches(v, str(p[0]))), None)
        b = next((v for v in variants if _matches(v, str(p[1]))), None)
        if a and b:
            named.append((a, b))
    if named:
        return named
    return [(v, variants[0]) for v in variants[1:]]


def _matches(variant: str, name: str) -> bool:
    return variant == name or any(part.split("=", 1)[-1] == name for part in variant.split(", "))
