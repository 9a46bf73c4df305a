"""The files of a calibration (``reports/calibration/`` by default), each written atomically.

* ``calibration.md``: the targets (simulated against the account, with intervals, met or not),
  the fitted parameters with their bounds and starts, the method, the command, the number of
  evaluations and the CPU time;
* ``calibration.json``: the same, machine-readable (no time in it);
* ``targets.csv``: one row per target; ``trace.csv``: one row per evaluation (θ, the targets'
  replication means, the objective);
* ``calibration.png``: per target, the band around the account's value, the simulated mean with
  its 95 % interval and the range of single replications.

Every file but ``calibration.md`` is byte-identical for the same spec, overrides and seed;
``calibration.md`` differs only in its line of CPU and wall time.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gridsim import __version__
from gridsim.csvtext import csv_text
from gridsim.experiments.calibrate import Calibration, TargetResult
from gridsim.fsutil import atomic_target, write_atomic
from gridsim.output.cjk import apply_fonts, bi

__all__ = ["FILES", "METHOD", "write_calibration"]

FILES = ("calibration.md", "calibration.json", "targets.csv", "trace.csv", "calibration.png")

METHOD = (
    "Simulated method of moments with common random numbers (公共随机数): every "
    "candidate θ runs the same replications 0..R-1 of the same root seed on one built scenario; "
    "the objective is Σ_k w_k·d_k², d_k the distance of the replication mean to the account's "
    "value in band half-widths ((m−t)/(r·|t|) for ±r, ln(m/t)/ln f for a factor f, the excess "
    "over the bound for at most / at least), so |d_k| ≤ 1 exactly when the mean is in a "
    "two-sided band, and d_k = 0 within a one-sided one. "
    "Search over log θ scaled to the unit box: the start, a Latin-hypercube design, then "
    "Nelder–Mead with bounds (scipy.optimize), restarted from the best with a smaller simplex "
    "while that improves it. Final evaluation: F other replications "
    "(R..R+F-1) at the best θ; mean ± t(0.975, F−1)·s/√F, and the 2.5–97.5 % range of single "
    "replications. A target is met when its mean lies in its band.")


def _num(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _g(v: float) -> str:
    """A figure for the tables: thousands separated, four significant digits below 1,000."""
    if not math.isfinite(v):
        return "—" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    if abs(v) >= 1000 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:.4g}"


def _band_text(r: TargetResult) -> str:
    low, high = r.target.band.interval(r.target.value)
    if r.target.band.kind == "at_most":
        return f"≤ {_g(high)}"
    if r.target.band.kind == "at_least":
        return f"≥ {_g(low)}"
    return f"{r.target.band.describe()}: [{_g(low)}, {_g(high)}]"


def _label(r: TargetResult) -> str:
    t = r.target
    return bi(t.label or t.name, t.label_zh)


def _as_json(cal: Calibration, command: str) -> dict[str, Any]:
    spec = cal.spec
    return {
        "name": spec.name,
        "title": spec.title,
        "spec": spec.source,
        "command": command,
        "overrides": list(spec.overrides),
        "seed": spec.seed,
        "replications": spec.replications,
        "final_replications": spec.final_replications,
        "budget": {"max_evaluations": spec.max_evaluations, "design": spec.design,
                   "xatol": spec.xatol},
        "method": METHOD,
        "evaluations": len(cal.evaluations),
        "optimizer": cal.optimizer,
        "best_evaluation": cal.best.index,
        "best_objective": _num(cal.best.objective),
        "final_objective": _num(cal.final_objective),
        "all_met": cal.all_met,
        "parameters": [
            {"name": p.name, "paths": list(p.paths), "leaves": list(leaves), "mode": p.mode,
             "log": p.log, "low": p.low, "high": p.high, "start": start, "fitted": fitted,
             "note": p.note}
            for p, leaves, start, fitted in cal.parameters],
        "targets": [
            {"name": r.target.name, "label": r.target.label, "label_zh": r.target.label_zh,
             "expr": r.target.expr, "value": r.target.value, "band": r.target.band.kind,
             "band_width": r.target.band.width,
             "band_low": _num(r.target.band.interval(r.target.value)[0]),
             "band_high": _num(r.target.band.interval(r.target.value)[1]),
             "mean": _num(r.mean), "sd": _num(r.sd), "ci95_low": _num(r.ci95_low),
             "ci95_high": _num(r.ci95_high), "range95_low": _num(r.range95_low),
             "range95_high": _num(r.range95_high), "distance": _num(r.distance),
             "met": r.met, "source": r.target.source,
             "values": [_num(v) for v in r.values]}
            for r in cal.final],
        "gridsim_version": __version__,
    }


TARGET_COLUMNS = ("target", "label", "label_zh", "expr", "value", "band", "band_low",
                  "band_high", "mean", "ci95_low", "ci95_high", "range95_low", "range95_high",
                  "distance", "met")


def _targets_csv(cal: Calibration) -> str:
    rows = []
    for r in cal.final:
        low, high = r.target.band.interval(r.target.value)
        rows.append([r.target.name, r.target.label, r.target.label_zh, r.target.expr,
                     r.target.value, r.target.band.describe(), low, high, r.mean, r.ci95_low,
                     r.ci95_high, r.range95_low, r.range95_high, r.distance,
                     "yes" if r.met else "no"])
    return csv_text(list(TARGET_COLUMNS), rows)


def _trace_csv(cal: Calibration) -> str:
    names = [p.name for p, *_ in cal.parameters]
    targets = [t.name for t in cal.spec.targets]
    header = ["evaluation", "phase", *names, *(f"mean.{t}" for t in targets), "objective"]
    rows = [[e.index, e.phase, *e.theta, *e.means, e.objective] for e in cal.evaluations]
    return csv_text(header, rows)


def _markdown(cal: Calibration, command: str) -> str:
    spec = cal.spec
    met = sum(r.met for r in cal.final)
    title = spec.title or spec.name
    lines = [
        f"# Calibration 模型率定: {title}",
        "",
        f"{met} of {len(cal.final)} targets met (目标达成 {met}/{len(cal.final)}) at the fitted "
        f"parameters, over {spec.final_replications} replications not used in the fit.",
        "",
        "## Targets 目标",
        "",
        "| target 目标 | account value 报告值 | band 目标区间 | simulated mean 模拟均值 "
        "| 95 % CI 置信区间 | replications 2.5–97.5 % | met 达成 |",
        "|---|---:|---|---:|---|---|---|",
    ]
    for r in cal.final:
        lines.append(
            f"| {_label(r)} | {_g(r.target.value)} | {_band_text(r)} | {_g(r.mean)} "
            f"| [{_g(r.ci95_low)}, {_g(r.ci95_high)}] "
            f"| [{_g(r.range95_low)}, {_g(r.range95_high)}] "
            f"| {'yes 是' if r.met else 'no 否'} |")
    lines += ["", "Expressions over `summary.json` keys, and sources:", ""]
    for r in cal.final:
        src = f" — {r.target.source}" if r.target.source else ""
        lines.append(f"- `{r.target.name}` = `{r.target.expr}`{src}")
    lines += [
        "",
        "## Fitted parameters 拟合参数",
        "",
        "| parameter 参数 | config paths 配置项 | mode | bounds 范围 | start 初值 "
        "| fitted 拟合值 |",
        "|---|---|---|---|---:|---:|",
    ]
    for p, leaves, start, fitted in cal.parameters:
        paths = ", ".join(f"`{x}`" for x in p.paths)
        extra = f" ({len(leaves)} values)" if len(leaves) > len(p.paths) else ""
        scale = "log" if p.log else "linear"
        lines.append(f"| {p.name} | {paths}{extra} | {p.mode}, {scale} "
                     f"| [{p.low:g}, {p.high:g}] | {start:.6g} | {fitted:.6g} |")
    notes = [(p.name, p.note) for p, *_ in cal.parameters if p.note]
    if notes:
        lines += ["", *(f"- {name}: {note}" for name, note in notes)]
    lines += [
        "",
        "## Method 方法",
        "",
        METHOD,
        "",
        f"Seed {spec.seed}; {spec.replications} replications an evaluation; a design of "
        f"{spec.design} points; at most {spec.max_evaluations} evaluations; Nelder–Mead's "
        f"tolerance {spec.xatol:g} of each range. The search ended: {cal.optimizer}. Best "
        f"evaluation #{cal.best.index} (objective {cal.best.objective:.4g}); at the final "
        f"replications the objective is {cal.final_objective:.4g}.",
        "",
        "## Command 命令",
        "",
        f"    {command}",
        "",
        f"Spec: `{spec.source}`; overrides: "
        + (" ".join(f"`{o}`" for o in spec.overrides) or "none") + ".",
        "",
        "## Cost 成本",
        "",
        f"{len(cal.evaluations)} evaluations of {spec.replications} replications, then "
        f"{spec.final_replications}: "
        f"{len(cal.evaluations) * spec.replications + spec.final_replications} runs. "
        f"CPU {cal.cpu_s:.1f} s, wall {cal.wall_s:.1f} s (this line is the only one that "
        "differs between two calibrations of the same spec and seed).",
        "",
        "Files: `calibration.json`, `targets.csv`, `trace.csv` (every evaluation), "
        "`calibration.png`.",
        "",
    ]
    return "\n".join(lines)


def _figure(cal: Calibration, path: Path) -> None:
    """Per target a row: the band (shaded), the account's value (a line), the simulated mean
    with its 95 % interval (a dot and bar) and the range of single replications (a thin bar)."""
    n = len(cal.final)
    fig = Figure(figsize=(7.5, 1.15 * n + 0.9))
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for ax, r in zip(axes, cal.final, strict=True):
        t = r.target
        low, high = t.band.interval(t.value)
        finite = [v for v in (t.value, low, high, r.mean, r.ci95_low, r.ci95_high,
                              r.range95_low, r.range95_high) if math.isfinite(v)]
        lo_x, hi_x = min(finite), max(finite)
        pad = 0.15 * (hi_x - lo_x) if hi_x > lo_x else max(abs(hi_x), 1.0) * 0.5
        x0, x1 = lo_x - pad, hi_x + pad
        colour = "#31a354" if r.met else "#de2d26"
        ax.axvspan(max(low, x0), min(high, x1), color="#bdbdbd", alpha=0.5,
                   label=bi("band", "目标区间"))
        ax.axvline(t.value, color="#636363", linewidth=1.2, label=bi("account", "报告值"))
        if math.isfinite(r.range95_low):
            ax.plot([r.range95_low, r.range95_high], [0, 0], color=colour, linewidth=1,
                    alpha=0.6)
        if math.isfinite(r.mean):
            err = ([[r.mean - r.ci95_low], [r.ci95_high - r.mean]]
                   if math.isfinite(r.ci95_low) else None)
            ax.errorbar([r.mean], [0], xerr=err, fmt="o", color=colour, capsize=4,
                        label=bi("simulated, 95 % CI", "模拟值与95%置信区间"))
        ax.set_xlim(x0, x1)
        ax.set_ylim(-1, 1)
        ax.set_yticks([])
        ax.set_title(f"{_label(r)}: {'met' if r.met else 'not met'}", fontsize=9,
                     loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=7, frameon=False, loc="upper right", ncols=3)
    fig.suptitle(bi(f"Calibration: {cal.spec.title or cal.spec.name}", "模型率定"), fontsize=10)
    apply_fonts(fig)  # before the layout, which measures the text
    fig.tight_layout()
    with atomic_target(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png", metadata={"Software": None})


def write_calibration(cal: Calibration, out: Path, command: str) -> list[Path]:
    """Write the calibration's files (:data:`FILES`) into ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_as_json(cal, command), indent=2, ensure_ascii=False) + "\n"
    written = [
        write_atomic(out / "calibration.md", _markdown(cal, command)),
        write_atomic(out / "calibration.json", text),
        write_atomic(out / "targets.csv", _targets_csv(cal)),
        write_atomic(out / "trace.csv", _trace_csv(cal)),
    ]
    _figure(cal, out / "calibration.png")
    written.append(out / "calibration.png")
    return written
