"""Writing a :class:`gridsim.experiments.report.Report`: tables, figures, Markdown and
self-contained HTML."""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from gridsim.experiments import campaign_report as cr
from gridsim.experiments.headlines import Headline
from gridsim.experiments.labels import key_name, value_label, value_tick
from gridsim.experiments.report import (
    Report,
    best_and_worst,
    findings,
    headline_pair,
    label,
    own_labels,
    variant_names,
    variant_values,
)
from gridsim.experiments.tables import write_tables
from gridsim.fsutil import write_atomic
from gridsim.output.cjk import apply_fonts, bi
from gridsim.output.figures import _figure, _save
from gridsim.output.html import page

__all__ = ["write_report"]

#: The grid maps' panels, in Chinese.
_TAG_ZH = {"best": "最好", "worst": "最差", "only": "唯一方案", "variant": "方案",
           "baseline": "基准"}

METHOD = ("Per variant: mean ± t(0.975, n−1)·s/√n (Student t, 95 %), cut to the metric's "
          "range: at 0 for counts and times, and at 1 as well for shares. Pairs: differences "
          "per replication (common random numbers: the same incidents in both variants), "
          "same interval on the differences (not cut). Replications needed: least n with "
          "t(0.975, n−1)·s/√n ≤ wanted half-width.")


def _both(en: str, zh: str) -> str:
    """English and Chinese side by side, once when they are the same text (a raw key)."""
    return en if en == zh else bi(en, zh)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue()


def _columns(rows: list[dict[str, Any]], params: list[str]) -> list[str]:
    first = ["run", "variant", *params, "seed", "replication", "status", "wall_s", "error"]
    rest = sorted({k for r in rows for k in r} - set(first))
    return first + rest


def _stat(rep: Report, variant: str, metric: str) -> dict[str, Any]:
    return next(s for s in rep.statistics if s["variant"] == variant and s["metric"] == metric)


def _numeric(values: list[str]) -> np.ndarray | None:
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        return None


def _variant_values(rep: Report) -> dict[str, dict[str, str]]:
    """Each variant's value of each swept parameter (``param.`` prefix removed)."""
    return variant_values(rep)


def _axes_plan(rep: Report) -> tuple[str | None, str | None]:
    """``(x, series)``: the numeric parameter whose levels go along the x axis and the
    parameter to draw one series of points per value of (or None), when the sweep has one or
    two parameters and one of them is numeric; ``(None, None)`` for one point per variant."""
    values = _variant_values(rep)
    names = [k.removeprefix("param.") for k in rep.params]
    if not 1 <= len(names) <= 2:
        return None, None
    numeric = [k for k in names if _numeric([v[k] for v in values.values()]) is not None]
    if not numeric:
        return None, None
    x = max(numeric, key=lambda k: len({v[k] for v in values.values()}))
    other = [k for k in names if k != x]
    return x, (other[0] if other else None)


def _tick_labels(ax: Any, labels: list[str], start: int = 0) -> None:
    """Variant names under a categorical axis, slanted when they would collide."""
    long = sum(len(t) for t in labels) > 60
    ax.set_xticks(range(start, start + len(labels)), labels, fontsize=8,
                  rotation=30 if long else 0, ha="right" if long else "center")


def _metric_axes(n: int, row_height: float) -> tuple[Figure, np.ndarray]:
    """A figure with a grid of axes for ``n`` metrics, two per row (flattened)."""
    cols = min(2, n)
    rows_ = math.ceil(n / cols)
    fig, ax0 = _figure((6.0 * cols, row_height * rows_))
    fig.delaxes(ax0)
    return fig, fig.subplots(rows_, cols, squeeze=False).ravel()


_COLOURS = ["#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363", "#d6616b", "#8c6d31"]


def _legend_below(fig: Figure, handles: list[Any], labels: list[str], title: str | None = None,
                  top: float = 1.0) -> None:
    """One legend for the whole figure, below every axes (never over data): the layout keeps
    a strip at the bottom for it."""
    ncol = min(len(labels), 3)
    rows_ = math.ceil(len(labels) / max(ncol, 1)) + (1 if title else 0)
    height = float(fig.get_size_inches()[1])
    strip = min(0.45, (0.25 + 0.22 * rows_) / height)
    fig.tight_layout(rect=(0.0, strip, 1.0, top))
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
               fontsize=8, frameon=False, title=title, title_fontsize=8)


def fig_metrics(rep: Report, path: Path) -> None:
    """Each metric's mean per variant as a point with its 95 % interval: the swept levels are
    discrete, so points are never joined by lines or bands. With a numeric parameter its
    levels go along the x axis (one series of points per value of a second parameter, side by
    side); otherwise one point per variant."""
    n = len(rep.metrics)
    fig, axes = _metric_axes(n, 3.6)
    xkey, series = _axes_plan(rep)
    values = _variant_values(rep)
    own = own_labels(rep)
    groups: dict[str, list[str]] = {}
    for v in rep.variants:
        groups.setdefault(values[v][series] if series else "", []).append(v)
    levels = (sorted({values[v][xkey] for v in rep.variants}, key=float)
              if xkey is not None else [])
    k = len(groups)
    offsets = (np.arange(k) - (k - 1) / 2) * (0.6 / k) if k > 1 else np.zeros(1)
    ci = bi("mean, 95 % CI", "均值与95%置信区间")
    for ax, metric in zip(axes, rep.metrics, strict=False):
        if xkey is not None:
            for i, (g, vs) in enumerate(groups.items()):
                st = [_stat(rep, v, metric) for v in vs]
                x = np.array([levels.index(values[v][xkey]) for v in vs]) + offsets[i]
                mean, lo, hi = (np.array([s[c] for s in st], dtype=float)
                                for c in ("mean", "ci95_low", "ci95_high"))
                name = _both(*value_label(series, g, own)) if series else ci
                ax.errorbar(x, mean, yerr=_yerr(mean, lo, hi), fmt="o", capsize=4,
                            color=_COLOURS[i % len(_COLOURS)], linestyle="none", markersize=5,
                            label=name)
            ax.set_xticks(range(len(levels)), [value_tick(xkey, lv, own) for lv in levels])
            ax.set_xlim(-0.5, len(levels) - 0.5)
            ax.set_xlabel(_both(*key_name(xkey, own)), fontsize=8)
        else:
            st = [_stat(rep, v, metric) for v in rep.variants]
            mean, lo, hi = (np.array([s[c] for s in st], dtype=float)
                            for c in ("mean", "ci95_low", "ci95_high"))
            x = np.arange(len(rep.variants))
            ax.errorbar(x, mean, yerr=_yerr(mean, lo, hi), fmt="o", capsize=5,
                        color=_COLOURS[0], linestyle="none", label=ci)
            names, axis = _short_names(rep)
            _tick_labels(ax, names)
            ax.set_xlim(-0.5, len(rep.variants) - 0.5)
            ax.set_xlabel(axis, fontsize=8)
        ax.set_title(label(metric, "\n"), fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    for ax in axes[n:]:
        fig.delaxes(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    apply_fonts(fig)  # before the layout, which measures the text
    bars = bi("bars: 95 % CI", "误差线为95%置信区间")
    _legend_below(fig, handles, labels,
                  title=f"{_both(*key_name(series, own))}; {bars}" if series else None)
    _save(fig, path)


def _yerr(mean: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Error bar lengths below and above (0 where the interval is undefined)."""
    return np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(min=0.0)


def _short_key(key: str, keys: list[str]) -> str:
    """A swept key for a figure: without the dotted prefix every swept key shares
    (``response.switch.alert_delay.median_s`` -> ``alert_delay.median_s``), or its last two
    parts when it is the only one."""
    parts = key.split(".")
    if len(keys) < 2:
        return ".".join(parts[-2:])
    common = 0
    others = [k.split(".") for k in keys]
    while all(len(o) > common + 1 and o[common] == parts[common] for o in others):
        common += 1
    return ".".join(parts[common:])


def _short_names(rep: Report) -> tuple[list[str], str]:
    """Variant names for a categorical axis (the plain names of
    :mod:`gridsim.experiments.labels`, English over Chinese), and the axis label (the swept
    keys' plain names)."""
    keys = [k.removeprefix("param.") for k in rep.params]
    names = variant_names(rep)
    own = own_labels(rep)
    return ([f"{names[v][0]}\n{names[v][1]}" if names[v][1] != names[v][0] else names[v][0]
             for v in rep.variants],
            " / ".join(_both(*key_name(k, own)) for k in keys))


def fig_distributions(rep: Report, path: Path) -> None:
    """Distributions of each metric per variant (box plots with the runs as points)."""
    n = len(rep.metrics)
    fig, axes = _metric_axes(n, 3.4)
    names, axis = _short_names(rep)
    for ax, metric in zip(axes, rep.metrics, strict=False):
        data = []
        for v in rep.variants:
            vals = [float(r[metric]) for r in rep.rows
                    if r["variant"] == v and r.get("status") == "done"
                    and r.get(metric) is not None]
            data.append([x for x in vals if math.isfinite(x)])
        ax.boxplot(data, showfliers=False)
        for i, d in enumerate(data):
            jitter = np.linspace(-0.12, 0.12, len(d)) if len(d) > 1 else np.zeros(len(d))
            ax.scatter(np.full(len(d), i + 1) + jitter, d, s=8, color="#636363", zorder=3)
        _tick_labels(ax, names, start=1)
        ax.set_xlabel(axis, fontsize=8)
        ax.set_title(label(metric, "\n"), fontsize=10)
    for ax in axes[n:]:
        fig.delaxes(ax)
    apply_fonts(fig)  # before the layout, which measures the text
    fig.tight_layout()
    _save(fig, path)


def _grid_share(folder: Path, rep: Report, variant: str) -> tuple[np.ndarray, ...] | None:
    """Per-grid 5-minute share of a variant, pooled over its replications."""
    x = y = area = None
    answered: np.ndarray | None = None
    within: np.ndarray | None = None
    for r in rep.rows:
        if r["variant"] != variant or r.get("status") != "done":
            continue
        path = folder / r["run"] / "grids.csv"
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as f:
            recs = list(csv.DictReader(f))
        resp = np.array([float(g["responded"] or 0) for g in recs])
        share = np.array([float(g["within_5min_share"]) if g["within_5min_share"] else 0.0
                          for g in recs])
        if x is None:
            x = np.array([float(g["x_m"]) for g in recs])
            y = np.array([float(g["y_m"]) for g in recs])
            area = np.array([float(g["area_km2"]) for g in recs])
            answered, within = np.zeros(len(recs)), np.zeros(len(recs))
        assert answered is not None and within is not None
        answered += resp
        within += resp * share
    if x is None or answered is None or within is None:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(answered > 0, within / answered, np.nan)
    return x, y, area, share  # type: ignore[return-value]


def grid_map_panels(rep: Report) -> tuple[list[tuple[str, str]], str]:
    """The variants the grid maps show, each with its tag, and the figure's verdict: the best
    and the worst variant by mean 5-minute share when their paired interval excludes 0;
    otherwise the headline pair (variant, baseline), tagged by name only, and the verdict that
    no variant differs significantly."""
    extremes = best_and_worst(rep, "within_5min_share")
    if extremes is not None:
        best, worst, d = extremes
        lo, hi = (f"{100 * d[k]:.1f}" for k in ("ci95_low", "ci95_high"))
        return ([(best, "best"), (worst, "worst")],
                bi(f"best − worst: [{lo}, {hi}] points (paired 95 % CI)",
                   f"最好与最差的差 [{lo}, {hi}] 个百分点（配对95%置信区间）"))
    pair = headline_pair(rep)
    if pair is None:
        return [(rep.variants[0], "only")], ""
    return ([(pair[0], "variant"), (pair[1], "baseline")],
            bi("no significant difference between variants", "各方案间无显著差异"))


def fig_grid_maps(folder: Path, rep: Report, path: Path) -> str | None:
    """Per-grid 5-minute share of two variants (:func:`grid_map_panels`); the figure's caption,
    or None when there is nothing to draw."""
    if "within_5min_share" not in rep.metrics or len(rep.variants) < 1:
        return None
    if not any(math.isfinite(s["mean"]) for s in rep.statistics
               if s["metric"] == "within_5min_share"):
        return None
    panels, verdict = grid_map_panels(rep)
    data = [(v, tag, _grid_share(folder, rep, v)) for v, tag in panels]
    data = [d for d in data if d[2] is not None]
    if not data:
        return None
    names = variant_names(rep)
    fig, ax0 = _figure((6.5 * len(data), 6.4))
    fig.delaxes(ax0)
    axes = fig.subplots(1, len(data), squeeze=False).ravel()
    sc_plot = none_plot = None
    for ax, (v, tag, arrays) in zip(axes, data, strict=True):
        assert arrays is not None
        x, y, area, share = arrays
        size = np.clip(area / np.median(area) * (3000.0 / max(len(x), 1)), 2.0, 80.0)
        none = ~np.isfinite(share)
        none_plot = ax.scatter(x[none] / 1000, y[none] / 1000, s=size[none], c="#d9d9d9",
                               marker="s", linewidths=0)
        sc_plot = ax.scatter(x[~none] / 1000, y[~none] / 1000, s=size[~none] * 1.4,
                             c=share[~none], cmap="RdYlGn", vmin=0, vmax=1, marker="s",
                             linewidths=0)
        ax.set_aspect("equal")
        mean = _stat(rep, v, "within_5min_share")["mean"]
        head = f"{bi(tag, _TAG_ZH[tag])}: " if tag in _TAG_ZH else ""
        ax.set_title(f"{head}{names[v][0]}\n{names[v][1]}\n"
                     f"{bi('mean 5-minute share', '平均五分钟到场率')} {mean:.1%}", fontsize=10)
        ax.set_xlabel("km")
    if verdict:
        fig.suptitle(verdict, fontsize=10)
    apply_fonts(fig)  # before the layout, which measures the text
    _legend_below(fig, [none_plot], [bi("no incident", "无事件")],
                  top=1.0 - 0.35 / 6.4 if verdict else 1.0)
    if sc_plot is not None:
        fig.colorbar(sc_plot, ax=list(axes), shrink=0.7,
                     label=bi("share within 5 minutes", "五分钟到场率"))
    _save(fig, path)
    if verdict.startswith("best"):
        return ("5-minute share by grid, best and worst variant (paired interval excludes 0) "
                "最好/最差方案网格五分钟到场率")
    if len(data) == 1:
        return "5-minute share by grid 网格五分钟到场率"
    return ("5-minute share by grid; no significant difference between variants "
            "网格五分钟到场率（各方案间无显著差异）")


def _table_md(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _table_html(headers: list[str], rows: list[list[str]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _variant_column(rep: Report) -> tuple[str, dict[str, str]]:
    """The header of the tables' variant column and each variant's plain name in it."""
    names = variant_names(rep)
    return "variant 方案", {v: (n[0] if n[0] == n[1] else f"{n[0]} {n[1]}")
                           for v, n in names.items()}


def _swept(rep: Report) -> str:
    """What the experiment sweeps, in plain words: ``2 variants 方案: drills a year 每年演练次数
    ∈ {1, 4}``."""
    values = _variant_values(rep)
    own = own_labels(rep)
    parts = []
    for k in (k.removeprefix("param.") for k in rep.params):
        seen = list(dict.fromkeys(value_tick(k, values[v][k], own) for v in rep.variants))
        parts.append(f"{_both(*key_name(k, own))} ∈ {{{', '.join(seen)}}}")
    return f"{len(rep.variants)} variants 方案" + (": " + " × ".join(parts) if parts else "")


def _summary_rows(rep: Report) -> tuple[list[str], list[list[str]]]:
    """One row per variant: n and mean [95 % CI] of each metric."""
    head, name = _variant_column(rep)
    headers = [head, "runs 次数"] + [label(m) for m in rep.metrics]
    rows = []
    for v in rep.variants:
        n = sum(1 for r in rep.rows if r["variant"] == v and r.get("status") == "done")
        cells = [name[v], str(n)]
        for m in rep.metrics:
            s = _stat(rep, v, m)
            cells.append(f"{_fmt(s['mean'])} [{_fmt(s['ci95_low'])}, {_fmt(s['ci95_high'])}]")
        rows.append(cells)
    return headers, rows


def _paired_rows(rep: Report) -> tuple[list[str], list[list[str]]]:
    head, name = _variant_column(rep)
    headers = [head, "baseline 基准", "metric 指标", "n", "mean difference 均值差",
               "95 % CI", "significant 显著"]
    rows = [[name[p["variant"]], name[p["baseline"]], label(p["metric"]), str(p["n"]),
             _fmt(p["mean_difference"]), f"[{_fmt(p['ci95_low'])}, {_fmt(p['ci95_high'])}]",
             "yes 是" if p["significant"] else "no 否"] for p in rep.paired]
    return headers, rows


def _needed_rows(rep: Report) -> tuple[list[str], list[list[str]]]:
    head, name = _variant_column(rep)
    headers = [head, "metric 指标", "n", "sd", "half-width 半宽", "wanted 目标",
               "replications needed 所需重复次数"]
    rows = [[name[s["variant"]], label(s["metric"]), str(s["n"]), _fmt(s["sd"]),
             _fmt(s["half_width"]), _fmt(s["wanted_half_width"]),
             _fmt(s["replications_needed"])]
            for s in rep.statistics]
    return headers, rows


def _settings_rows(rep: Report) -> tuple[list[str], list[list[str]]]:
    """The only table with the raw config keys: each variant's plain name and its overrides."""
    _, name = _variant_column(rep)
    values = _variant_values(rep)
    rows = [[name[v], v, ", ".join(f"{k}={values[v][k]}" for k in values[v]) or "(none)"]
            for v in rep.variants]
    return ["variant 方案", "id (results.csv)", "overrides 配置覆盖"], rows


def _write_map(folder: Path, rep: Report, out: Path) -> tuple[Path, str] | None:
    """``map.html``: the interactive map (:mod:`gridsim.output.webmap`) of the baseline's first
    replication (the headline pair's baseline, else the first variant); with the run it shows.
    None when that run has no per-grid table."""
    # the map module (its bundled script) only when a report is written (start-up time)
    from gridsim.output.webmap import map_from_run, write_map

    pair = headline_pair(rep)
    baseline = pair[1] if pair else rep.variants[0]
    runs = sorted((int(r.get("replication") or 0), r["run"]) for r in rep.rows
                  if r["variant"] == baseline and r.get("status") == "done")
    if not runs:
        return None
    data = map_from_run(folder / runs[0][1])
    if data is None:
        return None
    name = variant_names(rep)[baseline]
    what = f"{name[0]} {name[1]}, replication 重复 {runs[0][0]}"
    write_map(data, out / MAP_HTML, title=f"{_title(rep, folder)}: {what}")
    return out / MAP_HTML, what


MAP_HTML = "map.html"

_CSS = """.headlines li{margin:.35em 0;padding:.2em .5em;border-left:4px solid #bbb;list-style:none}
.headlines ul{padding-left:0}.headlines .zh{color:#444}
.headlines li.better{border-color:#31a354}.headlines li.worse{border-color:#de2d26}
.headlines li.different{border-color:#3182bd}.note{color:#555;font-size:90%}
iframe.map{width:100%;height:560px;border:1px solid #ccc}
.tables{overflow-x:auto}
"""


def _title(rep: Report, folder: Path) -> str:
    return str(rep.experiment.get("title") or rep.experiment.get("name") or folder.name)


def _headline_html(items: list[Headline]) -> str:
    return "<ul>" + "".join(
        f'<li class="{h.verdict}"><span lang="en">{html.escape(h.en)}</span><br>'
        f'<span class="zh" lang="zh">{html.escape(h.zh)}</span></li>' for h in items) + "</ul>"


def _details(summary: str, inner: str, rows: int) -> str:
    """A table under a heading that opens when clicked (open from the start when short)."""
    return (f"<details{' open' if rows <= 8 else ''}><summary>{html.escape(summary)}"
            f"</summary><div class=\"tables\">{inner}</div></details>")


def campaign_section(rep: Report, folder: Path, out: Path
                     ) -> tuple[list[str], str, list[Path]] | None:
    """The e-bike campaign's section (:mod:`gridsim.experiments.campaign_report`) when the
    experiment sweeps ``campaign`` with ``none``: its Markdown lines, its HTML and the files
    written (``campaign.csv``, ``campaign_targets.csv``); None otherwise."""
    if not cr.applies(rep.rows, rep.params):
        return None
    values = _variant_values(rep)
    names = {values[v]["campaign"]: n for v, n in variant_names(rep).items()}
    rows = cr.campaign_rows(rep.rows, folder, [values[v]["campaign"] for v in rep.variants])
    targets = cr.target_rows(rows)
    table, target_table = cr.write_campaign_csv(rows, targets)
    write_atomic(out / "campaign.csv", table)
    write_atomic(out / "campaign_targets.csv", target_table)
    return (cr.section_markdown(rows, targets, names), cr.section_html(rows, targets, names),
            [out / "campaign.csv", out / "campaign_targets.csv"])


def write_report(rep: Report, folder: Path, out: Path) -> list[Path]:
    """Write every output of the report into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    figs = out / "figures"
    figs.mkdir(exist_ok=True)
    written: list[Path] = []
    columns = _columns(rep.rows, rep.params)
    write_atomic(out / "results.csv", _csv(rep.rows, columns))
    written += write_tables(rep.rows, columns, rep.params, out)  # results(_long).parquet
    stat_cols = ["variant", "metric", "n", "mean", "sd", "ci95_low", "ci95_high", "half_width",
                 "wanted_half_width", "replications_needed"]
    write_atomic(out / "statistics.csv", _csv(rep.statistics, stat_cols))
    pair_cols = ["variant", "baseline", "metric", "n", "mean_difference", "sd", "ci95_low",
                 "ci95_high", "significant"]
    write_atomic(out / "paired_differences.csv", _csv(rep.paired, pair_cols))
    written += [out / n for n in ("results.csv", "results.parquet", "statistics.csv",
                                  "paired_differences.csv")]
    pictures = [("metrics.png", "Metrics by variant: means with 95 % intervals "
                                "各方案指标均值及95%置信区间"),
                ("distributions.png", "Distributions over replications 重复运行分布")]
    fig_metrics(rep, figs / "metrics.png")
    fig_distributions(rep, figs / "distributions.png")
    caption = fig_grid_maps(folder, rep, figs / "grid_maps.png")
    if caption:
        pictures.append(("grid_maps.png", caption))
    written += [figs / p for p, _ in pictures]
    mapped = _write_map(folder, rep, out)
    if mapped:
        written.append(mapped[0])
    title = _title(rep, folder)
    done = sum(1 for r in rep.rows if r.get("status") == "done")
    failed = [r for r in rep.rows if r.get("status") == "failed"]
    heads = findings(rep)
    pair = headline_pair(rep)
    every = findings(rep, ("*", "*")) if len({(p["variant"], p["baseline"])
                                              for p in rep.paired}) > 1 else []
    note = (f"Each line: the paired difference over common replications (common random "
            f"numbers), mean [95 % CI]; “no clear difference” when the interval spans 0. "
            f"{len(heads)} metrics 指标."
            if heads else "One variant only: nothing to compare 只有一个方案，无比较。")
    tables = [("Results by variant 各方案结果 (mean [95 % CI])", _summary_rows(rep), "variants"),
              ("Paired differences 配对差异", _paired_rows(rep), "paired"),
              ("Replications needed 所需重复次数", _needed_rows(rep), "needed"),
              ("Variants and their settings 方案与配置", _settings_rows(rep), "settings")]
    extra = campaign_section(rep, folder, out)  # the e-bike campaign's own section, or None
    if extra:
        written += extra[2]
    # Markdown
    md = [f"# {title}", "",
          f"{done} runs done 完成, {len(failed)} failed 失败; {_swept(rep)}.", "",
          *(extra[0] if extra else []), "## Findings 主要发现", ""]
    md += [f"- {h.en}  \n  {h.zh}" for h in heads] or ["(one variant)"]
    md += ["", note, ""]
    for name, cap in pictures:
        md += [f"### {cap}", "", f"![{cap}](figures/{name})", ""]
    if mapped:
        md += ["## Map 地图", "", f"[Interactive map 交互地图: {mapped[1]}]({MAP_HTML})", ""]
    if every:
        md += ["## Every comparison 全部比较", ""] + [f"- {h.en}  \n  {h.zh}" for h in every]
        md += [""]
    for cap, (hd, rows), _ in tables:
        md += [f"## {cap}", "", _table_md(hd, rows) if rows else "(one variant)", ""]
    md += ["## Method 方法", "", METHOD, ""]
    if failed:
        md += ["## Failed runs 失败运行", ""] + [f"- `{r['run']}`: {r['error']}" for r in failed]
    write_atomic(out / "report.md", "\n".join(md) + "\n")
    # HTML (self-contained: figures embedded as data URIs, the font inline; the map beside it)
    imgs = "".join(
        f'<figure><img alt="{html.escape(c)}" src="data:image/png;base64,'
        f'{base64.b64encode((figs / n).read_bytes()).decode()}"/>'
        f"<figcaption>{html.escape(c)}</figcaption></figure>" for n, c in pictures)
    fails = "".join(f"<li><code>{html.escape(r['run'])}</code>: {html.escape(str(r['error']))}"
                    "</li>" for r in failed)
    names = variant_names(rep)
    lead = (f"{names[pair[0]][0]} compared with {names[pair[1]][0]} "
            f"{names[pair[0]][1]}与{names[pair[1]][1]}比较" if pair else "")
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p>{done} runs done 完成, {len(failed)} failed 失败; "
            f"{html.escape(_swept(rep))}.</p>", extra[1] if extra else "",
            '<section class="headlines"><h2>Findings 主要发现</h2>',
            f"<p>{html.escape(lead)}</p>" if lead else "",
            _headline_html(heads), f'<p class="note">{html.escape(note)}</p></section>',
            f"<h2>Figures 图</h2>{imgs}"]
    if mapped:
        body.append(f'<h2>Map 地图</h2><p><a href="{MAP_HTML}">{html.escape(mapped[1])}: '
                    f'open the interactive map 打开交互地图</a></p>'
                    f'<iframe class="map" src="{MAP_HTML}" title="map 地图"></iframe>')
    if every:
        body.append(_details(f"Every comparison 全部比较 ({len(every)})",
                             f'<div class="headlines">{_headline_html(every)}</div>', 99))
    body.append("<h2>Tables 表</h2>")
    for cap, (hd, rows), css in tables:
        inner = _table_html(hd, rows, css) if rows else "<p>(one variant)</p>"
        body.append(_details(cap, inner, len(rows) * max(1, len(hd) // 8)))
    body.append(f"<h2>Method 方法</h2><p>{html.escape(METHOD)}</p>")
    if failed:
        body.append("<h2>Failed runs 失败运行</h2><ul>" + fails + "</ul>")
    write_atomic(out / "report.html", page(title, "\n".join(body), css=_CSS))
    written += [out / "report.md", out / "report.html"]
    return written
