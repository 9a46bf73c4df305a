"""Writing a :class:`gridsim.report.Report`: tables, figures, Markdown and self-contained HTML."""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.figures import _figure, _save
from gridsim.outputs import write_atomic
from gridsim.report import Report, english, label

__all__ = ["write_report"]

METHOD = ("Per variant: mean ± t(0.975, n−1)·s/√n (Student t, 95 %). Pairs: differences "
          "per replication (common random numbers: the same incidents in both variants), "
          "same interval on the differences. Replications needed: least n with "
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


def fig_metrics(rep: Report, path: Path) -> None:
    """Each metric against the variants (or the swept parameter) with 95 % intervals."""
    n = len(rep.metrics)
    cols = min(2, n)
    rows_ = math.ceil(n / cols)
    fig, ax0 = _figure((6.0 * cols, 3.4 * rows_))
    fig.delaxes(ax0)
    axes = fig.subplots(rows_, cols, squeeze=False).ravel()
    single = len(rep.params) == 1
    xs_raw = [v.split("=", 1)[-1] for v in rep.variants] if single else rep.variants
    xnum = _numeric(xs_raw) if single else None
    x = xnum if xnum is not None else np.arange(len(rep.variants))
    for ax, metric in zip(axes, rep.metrics, strict=False):
        st = [_stat(rep, v, metric) for v in rep.variants]
        mean = np.array([s["mean"] for s in st])
        lo = np.array([s["ci95_low"] for s in st])
        hi = np.array([s["ci95_high"] for s in st])
        if xnum is not None:
            order = np.argsort(x)
            ax.plot(x[order], mean[order], "o-", color="#3182bd")
            ax.fill_between(x[order], lo[order], hi[order], color="#3182bd", alpha=0.25,
                            label="95 % CI")
            ax.set_xlabel(rep.params[0].removeprefix("param."))
        else:
            ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="o", capsize=5,
                        color="#3182bd", label="mean, 95 % CI")
            ax.set_xticks(x, xs_raw, rotation=15 if len(x) > 3 else 0, fontsize=8)
        ax.set_title(english(metric), fontsize=10)
        ax.legend(fontsize=7, frameon=False)
    for ax in axes[n:]:
        fig.delaxes(ax)
    fig.tight_layout()
    _save(fig, path)


def fig_distributions(rep: Report, path: Path) -> None:
    """Distributions of each metric per variant (box plots with the runs as points)."""
    n = len(rep.metrics)
    cols = min(2, n)
    rows_ = math.ceil(n / cols)
    fig, ax0 = _figure((6.0 * cols, 3.4 * rows_))
    fig.delaxes(ax0)
    axes = fig.subplots(rows_, cols, squeeze=False).ravel()
    names = [v.split("=", 1)[-1] if len(rep.params) == 1 else v for v in rep.variants]
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
        ax.set_xticks(range(1, len(names) + 1), names, fontsize=8,
                      rotation=15 if len(names) > 3 else 0)
        ax.set_title(english(metric), fontsize=10)
    for ax in axes[n:]:
        fig.delaxes(ax)
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
                   linewidths=0, label="no incident")
        sc_plot = ax.scatter(x[~none] / 1000, y[~none] / 1000, s=size[~none] * 1.4,
                             c=share[~none], cmap="RdYlGn", vmin=0, vmax=1, marker="s",
                             linewidths=0)
        ax.set_aspect("equal")
        ax.set_title(f"{tag}: {v}\nmean 5-minute share {means[v]:.1%}", fontsize=10)
        ax.set_xlabel("km")
        ax.legend(loc="lower right", fontsize=7)
    if sc_plot is not None:
        fig.colorbar(sc_plot, ax=list(axes), shrink=0.7, label="share within 5 minutes")
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


def _summary_rows(rep: Report) -> tuple[list[str], list[list[str]]]:
    """One row per variant: n and mean [95 % CI] of each metric."""
    headers = ["variant 方案", "runs 次数"] + [label(m) for m in rep.metrics]
    rows = []
    for v in rep.variants:
        n = sum(1 for r in rep.rows if r["variant"] == v and r.get("status") == "done")
        cells = [v, str(n)]
        for m in rep.metrics:
            s = _stat(rep, v, m)
            cells.append(f"{_fmt(s['mean'])} [{_fmt(s['ci95_low'])}, {_fmt(s['ci95_high'])}]")
        rows.append(cells)
    return headers, rows


def _paired_rows(rep: Report) -> tuple[list[str], list[list[str]]]:
    headers = ["variant 方案", "baseline 基准", "metric 指标", "n", "mean difference 均值差",
               "95 % CI", "significant 显著"]
    rows = [[p["variant"], p["baseline"], label(p["metric"]), str(p["n"]),
             _fmt(p["mean_difference"]), f"[{_fmt(p['ci95_low'])}, {_fmt(p['ci95_high'])}]",
             "yes 是" if p["significant"] else "no 否"] for p in rep.paired]
    return headers, rows


def _needed_rows(rep: Report) -> tuple[list[str], list[list[str]]]:
    headers = ["variant 方案", "metric 指标", "n", "sd", "half-width 半宽", "wanted 目标",
               "replications needed 所需重复次数"]
    rows = [[s["variant"], label(s["metric"]), str(s["n"]), _fmt(s["sd"]), _fmt(s["half_width"]),
             _fmt(s["wanted_half_width"]), _fmt(s["replications_needed"])]
            for s in rep.statistics]
    return headers, rows


def write_report(rep: Report, folder: Path, out: Path) -> list[Path]:
    """Write every output of the report into ``out``; returns the files written."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    figs = out / "figures"
    figs.mkdir(exist_ok=True)
    written: list[Path] = []
    columns = _columns(rep.rows, rep.params)
    write_atomic(out / "results.csv", _csv(rep.rows, columns))
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rep.rows], columns=columns)
    for c in frame.columns:  # parquet wants one type per column
        if frame[c].dtype == object:
            frame[c] = frame[c].map(lambda v: None if v is None else str(v))
    tmp = out / "results.parquet.part"
    frame.to_parquet(tmp, index=False)
    tmp.replace(out / "results.parquet")
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
          f"{done} runs done 完成, {len(failed)} failed 失败; variants 方案: "
          f"{', '.join(rep.variants)}.", "",
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
<p>{done} runs done 完成, {len(failed)} failed 失败.</p>
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
