"""Figures of a run (PNG): response times, grids by mode over time, a map of the 5-minute share.

Matplotlib's object API on an Agg canvas (no pyplot state); each figure is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from gridsim.engine.simulation import RunResult
from gridsim.fsutil import atomic_target
from gridsim.model.vocab import MODES
from gridsim.output.cjk import apply_fonts, bi, zh
from gridsim.output.metrics import FIVE_MINUTES_S, response_arrays

__all__ = ["FIGURES", "write_figures"]

#: File names of the figures of a run.
FIGURES: tuple[str, ...] = ("response_times.png", "modes_over_time.png", "map_within_5min.png")

_MODE_COLOURS = {"PEACE": "#9ecae1", "ALERT": "#fdae6b", "FORWARD_COMMAND": "#e6550d",
                 "RECOVERY": "#a1d99b"}


def _figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure on its own Agg canvas: no pyplot, no global figure registry or backend."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _save(fig: Figure, path: Path) -> None:
    apply_fonts(fig)  # Chinese glyphs beside the Latin ones (gridsim.output.cjk)
    with atomic_target(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")


def response_times(result: RunResult, path: Path) -> None:
    _, resp, occ = response_arrays(result)
    fig, ax = _figure((7, 4))
    if len(resp):
        hi = max(float(np.quantile(occ, 0.99)), FIVE_MINUTES_S * 1.5) / 60.0
        bins = np.linspace(0, hi, 40).tolist()
        ax.hist(np.minimum(occ / 60.0, hi), bins=bins, alpha=0.45, color="#969696",
                label=bi("from occurrence", "自发生起"))
        ax.hist(np.minimum(resp / 60.0, hi), bins=bins, alpha=0.8, color="#3182bd",
                label=bi("from notice (5-minute standard)", "自接报起 五分钟标准"))
        share = float(np.mean(resp <= FIVE_MINUTES_S))
        ax.axvline(FIVE_MINUTES_S / 60.0, color="#de2d26", lw=2,
                   label=bi(f"5 min: {share:.0%} within", "五分钟到场率"))
        ax.legend(frameon=False)
    else:
        ax.text(0.5, 0.5, bi("no incident answered in this run", "本次运行无已响应事件"),
                ha="center", transform=ax.transAxes)
    ax.set_xlabel(bi(
        "minutes to first responder on scene", "首位响应人员到场用时 (分钟)"))
    ax.set_ylabel(bi("incidents", "事件数"))
    ax.set_title(f"{bi('Response times', '响应时间')} ({len(resp)} incidents)")
    _save(fig, path)


def modes_over_time(result: RunResult, path: Path) -> None:
    log = result.ctx.switch.mode_log
    t = np.array([r[0] for r in log] + [result.duration_s]) / 3600.0
    counts = np.array([r[1] for r in log] + [log[-1][1]], dtype=float)
    fig, ax = _figure((8, 4))
    ax.stackplot(t, counts.T, step="post", labels=[bi(m, zh(m)) for m in MODES],
                 colors=[_MODE_COLOURS[m] for m in MODES])
    for w in result.settings.hazard.warnings:
        ax.axvspan(w.start_h, w.start_h + w.duration_h, color="k", alpha=0.06)
        ax.text(w.start_h, counts.sum(axis=1).max() * 1.01, f"{w.name} ({w.level})", fontsize=8)
    ax.set_xlim(0, result.duration_s / 3600.0)
    ax.set_xlabel(bi("hour", "小时"))
    ax.set_ylabel(bi("grids", "网格数"))
    ax.set_title(bi("Grids by mode over time", "各模式网格数"))
    ax.legend(loc="upper left", fontsize=8, frameon=False, bbox_to_anchor=(1.0, 1.0))
    _save(fig, path)


def map_within_5min(result: RunResult, path: Path, share: np.ndarray) -> None:
    sc = result.scenario
    g = sc.region.grids
    roads = sc.roads
    fig, ax = _figure((7, 7))
    seg_x = np.stack([roads.x_m[roads.edge_u], roads.x_m[roads.edge_v]]) / 1000.0
    seg_y = np.stack([roads.y_m[roads.edge_u], roads.y_m[roads.edge_v]]) / 1000.0
    # one collection, not one Line2D per road link (54,000 links at city scale)
    ax.add_collection(LineCollection(list(np.stack([seg_x.T, seg_y.T], axis=2)), colors="#d9d9d9",
                                     linewidths=0.4, zorder=1))
    size = np.clip(g.area_km2 / np.median(g.area_km2) * (4000.0 / max(g.n, 1)), 1.0, 60.0)
    none = ~np.isfinite(share)
    ax.scatter(g.x_m[none] / 1000.0, g.y_m[none] / 1000.0, s=size[none], c="#bdbdbd",
               marker="s", linewidths=0, zorder=2, label=bi("no incident", "无事件"))
    sc_plot = ax.scatter(g.x_m[~none] / 1000.0, g.y_m[~none] / 1000.0, s=size[~none] * 1.5,
                         c=share[~none], cmap="RdYlGn", vmin=0, vmax=1, marker="s",
                         linewidths=0, zorder=3)
    fig.colorbar(sc_plot, ax=ax, shrink=0.7,
                 label=bi("share answered within 5 minutes", "五分钟到场率"))
    ax.set_aspect("equal")
    ax.set_xlabel("km")
    ax.set_ylabel("km")
    ax.set_title(f"{bi('5-minute share by grid', '各网格五分钟到场率')} "
                 f"({sc.region.name}, {g.n} grids)")
    ax.legend(loc="lower right", fontsize=8)
    _save(fig, path)


def write_figures(result: RunResult, folder: Path, share_by_grid: np.ndarray) -> list[Path]:
    """Write every figure of :data:`FIGURES` into ``folder``."""
    paths = [folder / name for name in FIGURES]
    response_times(result, paths[0])
    modes_over_time(result, paths[1])
    map_within_5min(result, paths[2], share_by_grid)
    return paths
