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
replications, same interval on d; required replications: the least n ≥ 2 with
t(0.975, n−1) · s/√n ≤ h, for the wanted half-width h.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from gridsim.experiments.sweep import MANIFEST, read_manifest

__all__ = ["LABELS", "Report", "build_report", "collect_runs", "label", "metric_range",
           "ordered_variants", "required_replications"]

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
    "responder_utilization": ("responder utilization", "力量利用率"),
    "mean_time_in_system_s": ("time to resolution (s)", "事件处置时长"),
    "response_by_mode_at_notice.ALERT.responded": ("incidents answered while assembling",
                                                   "集结期间响应事件数"),
    "response_by_mode_at_notice.ALERT.response_time_p50_s": (
        "response time p50 while assembling (s)", "集结期间响应时间中位数"),
    "response_by_mode_at_notice.FORWARD_COMMAND.response_time_p50_s": (
        "response time p50 in forward command (s)", "前指状态响应时间中位数"),
    "evacuation_p50_s": ("half sheltered (s)", "半数安置用时"),
    "evacuation_p90_s": ("90 % sheltered (s)", "九成安置用时"),
    "clearance_time_s": ("clearance time (s)", "清空时间"),
    "not_sheltered_by_deadline": ("not sheltered by the deadline", "时限内未安置人数"),
    "grid_clearance_p50_s": ("grid clearance p50 (s)", "网格清空时间中位数"),
    "grid_clearance_max_s": ("grid clearance max (s)", "网格清空时间最大值"),
    "evacuated": ("people sheltered", "已安置人数"),
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


def collect_runs(folder: Path) -> tuple[list[dict[str, Any]], list[str], dict[str, Any]]:
    """Rows (one per run folder with a manifest), the variant parameter names, and the
    experiment settings (from the first manifest)."""
    rows: list[dict[str, Any]] = []
    experiment: dict[str, Any] = {}
    for path in sorted(folder.rglob(MANIFEST)):
        run = path.parent
        m = read_manifest(run)
        if m is None:
            continue
        if not experiment:
            experiment = dict((m.get("config") or {}).get("experiment") or {})
        params = dict(p for o in m.get("overrides", []) if (p := _parse_override(str(o))))
        row: dict[str, Any] = {"run": run.relative_to(folder).as_posix(),
                               "status": m.get("status"), "wall_s": m.get("wall_s"),
                               "error": m.get("error") or ""}
        row.update({f"param.{k}": v for k, v in params.items()
                    if k not in ("replication", "seed")})
        summary = run / "summary.json"
        if m.get("status") == "done" and summary.is_file():
            row.update(_flatten(json.loads(summary.read_text(encoding="utf-8"))))
        row.setdefault("seed", m.get("seed"))
        row.setdefault("replication", m.get("replication"))
        rows.append(row)
    names = sorted({k for r in rows for k in r if k.startswith("param.")})
    varying = [k for k in names if len({str(r.get(k)) for r in rows}) > 1] or names
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


def _values(rows: list[dict[str, Any]], variant: str, metric: str) -> dict[int, float]:
    out = {}
    for r in rows:
        if r["variant"] == variant and r.get("status") == "done":
            v = r.get(metric)
            out[int(r.get("replication") or 0)] = float(v) if v is not None else math.nan
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


def build_report(folder: Path) -> Report:
    """Gather the runs under ``folder`` and compute the statistics."""
    rows, params, experiment = collect_runs(folder)
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
    paired = []
    for a, b in pairs:
        for metric in metrics:
            xa, xb = _values(rows, a, metric), _values(rows, b, metric)
            common = sorted(set(xa) & set(xb))
            d = np.array([xa[k] - xb[k] for k in common], dtype=float)
            mean, sd, lo, hi = ci95(d)
            paired.append({"variant": a, "baseline": b, "metric": metric,
                           "n": int(np.isfinite(d).sum()), "mean_difference": mean, "sd": sd,
                           "ci95_low": lo, "ci95_high": hi,
                           "significant": bool(math.isfinite(lo) and (lo > 0 or hi < 0))})
    return Report(rows, params, experiment, metrics, variants, statistics, paired)


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
