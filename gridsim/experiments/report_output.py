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

from gridsim.experiments.report import Report, label
from gridsim.fsutil import atomic_target, write_atomic
from gridsim.output.cjk import apply_fonts, bi
from gridsim.output.figures import _figure, _save

__all__ = ["write_report"]

#: The grid maps' panels, in Chinese.
_TAG_ZH = {"best": "最好", "worst": "最差", "only": "唯一方案"}

METHOD = ("Per variant: mean ± t(0.975, n−1)·s/√n (Student t, 95 %), cut to the metric's "
          "range: at 0 for counts and times, and at 1 as well for shares. Pairs: differences "
          "per replication (common random numbers: the same incidents in both variants), "
          "same interval on the differences (not cut). Replications needed: least n with "
          "t(0.975, n−1)·s/√n ≤ wanted half-width.")


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
    out: dict[str, dict[str, str]] = {}
    for r in rep.rows:
        out.setdefault(r["variant"], {k.removeprefix("param."): str(r.get(k))
                                      for k in rep.params})
    return out


def _axes_plan(rep: Report) -> tuple[str | None, str | None]:
    """``(x, series)``: the numeric parameter to put on the x axis and the parameter to draw
    one line per value of (or None), when the sweep has one or two parameters and one of them
    is numeric; ``(None, None)`` for a categorical plot of the variants."""
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


def fig_metrics(rep: Report, path: Path) -> None:
    """Each metric against the swept parameter (a line per value of a second parameter) with
    95 % confidence bands; for categorical variants, means with 95 % interval bars."""
    n = len(rep.metrics)
    fig, axes = _metric_axes(n, 3.6)
    xkey, series = _axes_plan(rep)
    values = _variant_values(rep)
    names_ = [k.removeprefix("param.") for k in rep.params]
    groups: dict[str, list[str]] = {}
    for v in rep.variants:
        groups.setdefault(values[v][series] if series else "", []).append(v)
    colours = ["#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363", "#d6616b", "#8c6d31"]
    for ax, metric in zip(axes, rep.metrics, strict=False):
        if xkey is not None:
            for i, (g, vs) in enumerate(groups.items()):
                st = [_stat(rep, v, metric) for v in vs]
                x = np.array([float(values[v][xkey]) for v in vs])
                order = np.argsort(x)
                mean, lo, hi = (np.array([s[k] for s in st])[order]
                                for k in ("mean", "ci95_low", "ci95_high"))
                c = colours[i % len(colours)]
                name = f"{_short_key(series, names_)}={g}" if series else "mean"
                ax.plot(x[order], mean, "o-", color=c, label=name, markersize=4)
                ax.fill_between(x[order], lo, hi, color=c, alpha=0.1 if series else 0.18,
                                linewidth=0,
                                label=None if series else bi("95 % CI", "95%置信区间"))
                if series:  # overlapping bands blur: their edges as thin lines
                    ax.plot(x[order], lo, color=c, linewidth=0.6, alpha=0.6)
                    ax.plot(x[order], hi, color=c, linewidth=0.6, alpha=0.6)
            ticks = sorted({float(values[v][xkey]) for v in rep.variants})
            if len(ticks) <= 8:
                ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
            ax.set_xlabel(_short_key(xkey, names_), fontsize=8)
            ax.legend(fontsize=7, frameon=False,
                      title=bi("bands: 95 % CI", "阴影为95%置信区间") if series else None,
                      title_fontsize=7)
        else:
            st = [_stat(rep, v, metric) for v in rep.variants]
            mean = np.array([s["mean"] for s in st])
            lo = np.array([s["ci95_low"] for s in st])
            hi = np.array([s["ci95_high"] for s in st])
            x = np.arange(len(rep.variants))
            ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="o", capsize=5,
                        color="#3182bd", label=bi("mean, 95 % CI", "均值与95%置信区间"))
            names, axis = _short_names(rep)
            _tick_labels(ax, names)
            ax.set_xlabel(axis, fontsize=8)
            ax.legend(fontsize=7, frameon=False)
        ax.set_title(label(metric, "\n"), fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[n:]:
        fig.delaxes(ax)
    apply_fonts(fig)  # before the layout, which measures the text
    fig.tight_layout()
    _save(fig, path)


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


def _short_variant(rep: Report, variant: str, sep: str = ", ") -> str:
    """A variant named with short keys."""
    keys = [k.removeprefix("param.") for k in rep.params]
    values = _variant_values(rep)[variant]
    return sep.join(f"{_short_key(k, keys)}={values[k]}" for k in keys) or variant


def _short_names(rep: Report) -> tuple[list[str], str]:
    """Variant names for a categorical axis, and the axis label: the values alone (joined by
    " / " when several parameters are swept) under the parameter names."""
    keys = [k.removeprefix("param.") for k in rep.params]
    if not keys:
        return list(rep.variants), ""
    values = _variant_values(rep)
    names = [" / ".join(values[v][k] for k in keys) for v in rep.variants]
    return names, " / ".join(_short_key(k, keys) for k in keys)


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


def fig_grid_maps(folder: Path, rep: Report, path: Path) -> bool:
    """Per-grid 5-minute share of the best and the worst variant (by mean share)."""
    if "within_5min_share" not in rep.metrics or len(rep.variants) < 1:
        return False
    means = {v: _stat(rep, v, "within_5min_share")["mean"] for v in rep.variants}
    ranked = sorted((m, v) for v, m in means.items() if math.isfinite(m))
    if not ranked:
        return False
    worst, best = ranked[0][1], ranked[-1][1]
    maps = [(best, "best"), (worst, "worst")] if best != worst else [(best, "only")]
    data = [(v, tag, _grid_share(folder, rep, v)) for v, tag in maps]
    data = [d for d in data if d[2] is not None]
    if not data:
        return False
    fig, ax0 = _figure((6.5 * len(data), 6.0))
    fig.delaxes(ax0)
    axes = fig.subplots(1, len(data), squeeze=False).ravel()
    sc_plot = None
    for ax, (v, tag, arrays) in zip(axes, data, strict=True):
        assert arrays is not None
        x, y, area, share = arrays
        size = np.clip(area / np.median(area) * (3000.0 / max(len(x), 1)), 2.0, 80.0)
        none = ~np.isfinite(share)
        ax.scatter(x[none] / 1000, y[none] / 1000, s=size[none], c="#d9d9d9", marker="s",
                   linewidths=0, label=bi("no incident", "无事件"))
        sc_plot = ax.scatter(x[~none] / 1000, y[~none] / 1000, s=size[~none] * 1.4,
                             c=share[~none], cmap="RdYlGn", vmin=0, vmax=1, marker="s",
                             linewidths=0)
        ax.set_aspect("equal")
        ax.set_title(f"{bi(tag, _TAG_ZH[tag])}: {_short_variant(rep, v, sep=chr(10))}\n"
                     f"{bi('mean 5-minute share', '平均五分钟到场率')} {means[v]:.1%}",
                     fontsize=10)
        ax.set_xlabel("km")
        ax.legend(loc="lower right", fontsize=7)
    if sc_plot is not None:
        fig.colorbar(sc_plot, ax=list(axes), shrink=0.7,
                     label=bi("share within 5 minutes", "五分钟到场率"))
    _save(fig, path)
    return True


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
    """The header of the tables' variant column and each variant's name in it: its swept values
    (joined by " / " when several parameters are swept) under the parameters' short names."""
    names, axis = _short_names(rep)
    return (f"variant 方案 ({axis})" if axis else "variant 方案"), dict(
        zip(rep.variants, names, strict=True))


def _swept(rep: Report) -> str:
    """What the experiment sweeps: ``12 variants 方案: a ∈ {1, 2} × b ∈ {x, y, z}``."""
    values = _variant_values(rep)
    parts = []
    for k in (k.removeprefix("param.") for k in rep.params):
        seen = list(dict.fromkeys(values[v][k] for v in rep.variants))
        parts.append(f"{k} ∈ {{{', '.join(seen)}}}")
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


def _validity(valid: list[bool]) -> Any:
    """An Arrow validity bitmap (None when every value is there)."""
    import pyarrow as pa  # start-up time: pyarrow only for the Parquet table

    if all(valid):
        return None
    return pa.py_buffer(np.packbits(np.array(valid, dtype=bool), bitorder="little").tobytes())


def _arrow_column(values: list[Any]) -> Any:
    """One column of the Parquet table, typed as pandas typed it when the table was written
    through a DataFrame: all ints int64; numbers with a missing value or a float double (NaN
    and missing as null); all bools bool; nothing but missing values null; anything else text
    (``str(v)``, missing as null).

    The arrays are made from their buffers: ``pyarrow.array`` imports pandas (to ask whether
    its input is a pandas object), which costs ``gridsim report`` about a second of CPU."""
    import pyarrow as pa  # start-up time: pyarrow only for the Parquet table

    n = len(values)
    present = [v for v in values if v is not None]
    if not present:
        return pa.nulls(n)
    arr: Any = None
    if len(present) == n and all(type(v) is bool for v in present):
        bits = np.packbits(np.array(values, dtype=bool), bitorder="little")
        arr = pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits.tobytes())])
    elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        if len(present) == n and all(isinstance(v, int) for v in present) and all(
                -2**63 <= v < 2**63 for v in present):
            data = np.array(values, dtype="<i8")
            arr = pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(data.tobytes())])
        else:
            floats = [None if v is None else float(v) for v in values]
            valid = [f is not None and not math.isnan(f) for f in floats]
            data = np.array([f if ok else 0.0 for f, ok in zip(floats, valid, strict=True)],
                            dtype="<f8")
            arr = pa.Array.from_buffers(pa.float64(), n,
                                        [_validity(valid), pa.py_buffer(data.tobytes())])
    if arr is None:
        texts = [None if v is None else str(v).encode("utf-8") for v in values]
        offsets = np.cumsum([0] + [len(t) if t is not None else 0 for t in texts], dtype="<i8")
        arr = pa.Array.from_buffers(
            pa.large_string(), n,
            [_validity([t is not None for t in texts]), pa.py_buffer(offsets.tobytes()),
             pa.py_buffer(b"".join(t for t in texts if t is not None))])
    arr.validate(full=True)
    return arr


def _write_parquet(rows: list[dict[str, Any]], columns: list[str], path: Path) -> None:
    """``results.parquet``: the rows in ``columns``, one type per column
    (:func:`_arrow_column`), written with pyarrow (Snappy compression, as pandas wrote it)."""
    import pyarrow as pa  # start-up time: pyarrow only for the Parquet table
    import pyarrow.parquet as pq  # ... and its Parquet writer

    table = pa.Table.from_arrays([_arrow_column([r.get(c) for r in rows]) for c in columns],
                                 names=columns)
    with atomic_target(path) as tmp:
        pq.write_table(table, tmp, compression="snappy")


def write_report(rep: Report, folder: Path, out: Path) -> list[Path]:
    """Write every output of the report into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    figs = out / "figures"
    figs.mkdir(exist_ok=True)
    written: list[Path] = []
    columns = _columns(rep.rows, rep.params)
    write_atomic(out / "results.csv", _csv(rep.rows, columns))
    _write_parquet(rep.rows, columns, out / "results.parquet")
    stat_cols = ["variant", "metric", "n", "mean", "sd", "ci95_low", "ci95_high", "half_width",
                 "wanted_half_width", "replications_needed"]
    write_atomic(out / "statistics.csv", _csv(rep.statistics, stat_cols))
    pair_cols = ["variant", "baseline", "metric", "n", "mean_difference", "sd", "ci95_low",
                 "ci95_high", "significant"]
    write_atomic(out / "paired_differences.csv", _csv(rep.paired, pair_cols))
    written += [out / n for n in ("results.csv", "results.parquet", "statistics.csv",
                                  "paired_differences.csv")]
    pictures = [("metrics.png", "Metrics by variant with 95 % intervals 各方案指标及95%置信区间"),
                ("distributions.png", "Distributions over replications 重复运行分布")]
    fig_metrics(rep, figs / "metrics.png")
    fig_distributions(rep, figs / "distributions.png")
    if fig_grid_maps(folder, rep, figs / "grid_maps.png"):
        pictures.append(("grid_maps.png", "5-minute share by grid, best and worst variant "
                                          "最优/最差方案网格五分钟到场率"))
    written += [figs / p for p, _ in pictures]
    title = str(rep.experiment.get("title") or rep.experiment.get("name") or folder.name)
    done = sum(1 for r in rep.rows if r.get("status") == "done")
    failed = [r for r in rep.rows if r.get("status") == "failed"]
    sh, sr = _summary_rows(rep)
    ph, pr = _paired_rows(rep)
    nh, nr = _needed_rows(rep)
    # Markdown
    md = [f"# {title}", "",
          f"{done} runs done 完成, {len(failed)} failed 失败; {_swept(rep)}.", "",
          "## Results by variant 各方案结果 (mean [95 % CI])", "", _table_md(sh, sr), "",
          "## Paired differences 配对差异", "", _table_md(ph, pr) if pr else "(one variant)", "",
          "## Replications needed 所需重复次数", "", _table_md(nh, nr), "",
          "## Method 方法", "", METHOD, ""]
    for name, caption in pictures:
        md += [f"### {caption}", "", f"![{caption}](figures/{name})", ""]
    if failed:
        md += ["## Failed runs 失败运行", ""] + [f"- `{r['run']}`: {r['error']}" for r in failed]
    write_atomic(out / "report.md", "\n".join(md) + "\n")
    # HTML (self-contained: figures embedded as data URIs)
    imgs = "".join(
        f'<figure><img alt="{html.escape(c)}" src="data:image/png;base64,'
        f'{base64.b64encode((figs / n).read_bytes()).decode()}"/>'
        f"<figcaption>{html.escape(c)}</figcaption></figure>" for n, c in pictures)
    fails = "".join(f"<li><code>{html.escape(r['run'])}</code>: {html.escape(str(r['error']))}"
                    "</li>" for r in failed)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0;font-size:90%}}td,th{{border:1px solid #ccc;
padding:4px 8px;text-align:left}}th{{background:#f0f0f0}}img{{max-width:100%}}
figure{{margin:1.5em 0}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{done} runs done 完成, {len(failed)} failed 失败; {html.escape(_swept(rep))}.</p>
<h2>Results by variant 各方案结果 (mean [95 % CI])</h2>
{_table_html(sh, sr, "variants")}
<h2>Paired differences 配对差异</h2>
{_table_html(ph, pr, "paired") if pr else "<p>(one variant)</p>"}
<h2>Replications needed 所需重复次数</h2>
{_table_html(nh, nr, "needed")}
<h2>Method 方法</h2><p>{html.escape(METHOD)}</p>
<h2>Figures 图</h2>{imgs}
{"<h2>Failed runs 失败运行</h2><ul>" + fails + "</ul>" if failed else ""}
</body></html>
"""
    write_atomic(out / "report.html", page)
    written += [out / "report.md", out / "report.html"]
    return written
