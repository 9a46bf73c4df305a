"""Figures of an evacuation (PNG): the evacuation curve and a map of the bottlenecks.

Matplotlib's object API on an Agg canvas (no pyplot state), written atomically, like
:mod:`gridsim.output.figures`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.collections import LineCollection

from gridsim.evacuation.network import DOOR
from gridsim.evacuation.results import EvacuationResult
from gridsim.output.cjk import bi
from gridsim.output.figures import _figure, _save
from gridsim.place.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["bottleneck_map", "evacuation_curve", "replication_curves"]


def evacuation_curve(result: EvacuationResult, path: Path, step_s: float, title: str = ""
                     ) -> Figure:
    """People not yet left, on the way and sheltered over time since the warning, with the
    deadline and the clearance time; the figure (saved). The legend sits outside the axes, to
    the right: inside, it hid a band of the stack."""
    c = result.curve(step_s)
    t = c["since_warning_s"] / 60.0
    fig, ax = _figure((8, 4.5))
    ax.stackplot(t, c["sheltered"], c["on_the_way"], c["not_left"],
                 labels=[bi("sheltered", "已安置"), bi("on the way", "转移途中"),
                         bi("not yet left", "尚未撤离")],
                 colors=["#31a354", "#fdae6b", "#bdbdbd"], step="post")
    dl = (result.deadline_s - result.start_s) / 60.0
    ax.axvline(dl, color="#de2d26", lw=1.5, ls="--",
               label=f"{bi('deadline', '时限')}: "
                     f"{result.not_sheltered_by(result.deadline_s):,} not sheltered")
    clr = result.clearance_time_s()
    if math.isfinite(clr):
        ax.axvline(clr / 60.0, color="k", lw=1.2,
                   label=f"{bi('clearance', '清空')} {clr / 60.0:.0f} min")
    ax.set_xlim(0, max(float(t[-1]), dl) if len(t) else dl)
    ax.set_ylim(0, max(result.population, 1))
    ax.set_xlabel(bi("minutes since the warning", "预警后分钟数"))
    ax.set_ylabel(bi("people", "人数"))
    ax.set_title(f"{bi('Evacuation', '转移避险')} {title} "
                 f"({result.population:,} people, {len(result.grids)} grids)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8,
              frameon=False)
    _save(fig, path)
    return fig


def replication_curves(results: Sequence[EvacuationResult], path: Path, step_s: float,
                       title: str = "") -> Figure:
    """Share sheltered over time in each of several replications, with the clearance times
    (their distribution over replications); the figure (saved). The legend sits below the
    axes."""
    fig, ax = _figure((8, 4.5))
    clear = []
    for r in results:
        c = r.curve(step_s)
        ax.plot(c["since_warning_s"] / 60.0, c["sheltered"] / max(r.population, 1),
                color="#3182bd", alpha=0.35, lw=1)
        clear.append(r.clearance_time_s() / 60.0)
    ok = [x for x in clear if math.isfinite(x)]
    if ok:
        ax.axvline(float(np.median(ok)), color="k", lw=1.2,
                   label=f"{bi('median clearance', '清空时间中位数')} {np.median(ok):.0f} min "
                         f"(range {min(ok):.0f}–{max(ok):.0f}, {len(results)} replications)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), borderaxespad=0.0,
                  fontsize=8, frameon=False)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(bi("minutes since the warning", "预警后分钟数"))
    ax.set_ylabel(bi("share sheltered", "安置比例"))
    ax.set_title(f"{bi('Evacuation curves', '转移曲线')} {title}")
    _save(fig, path)
    return fig


def bottleneck_map(result: EvacuationResult, scenario: Scenario, path: Path, top: int,
                   title: str = "") -> Figure:
    """Roads, the evacuated grids, shelters (size by capacity, colour by occupancy) and the
    links where people waited longest (width by the longest queue); the figure (saved). The
    legend sits below the map (inside, the shelters covered it)."""
    net = result.network
    roads = scenario.roads
    g = scenario.region.grids
    fig, ax = _figure((7.5, 7))
    # the area around the evacuated grids
    ex, ey = g.x_m[result.grids], g.y_m[result.grids]
    sx = np.concatenate([ex, g.x_m[result.shelters.grid]]) if result.shelters.n else ex
    sy = np.concatenate([ey, g.y_m[result.shelters.grid]]) if result.shelters.n else ey
    pad = 0.08 * max(float(np.ptp(sx)), float(np.ptp(sy)), 500.0)
    x0, x1, y0, y1 = sx.min() - pad, sx.max() + pad, sy.min() - pad, sy.max() + pad
    ux, vx = roads.x_m[roads.edge_u], roads.x_m[roads.edge_v]
    uy, vy = roads.y_m[roads.edge_u], roads.y_m[roads.edge_v]
    near = ((np.maximum(ux, vx) >= x0) & (np.minimum(ux, vx) <= x1)
            & (np.maximum(uy, vy) >= y0) & (np.minimum(uy, vy) <= y1))
    seg = np.stack([np.stack([ux[near], uy[near]], 1), np.stack([vx[near], vy[near]], 1)], 1)
    ax.add_collection(LineCollection(list(seg / 1000.0), colors="#d9d9d9", linewidths=0.6,
                                     zorder=1))
    ax.scatter(ex / 1000.0, ey / 1000.0, s=12, c="#9ecae1", marker="s", linewidths=0,
               zorder=2, label=bi("evacuated grids", "转移网格"))
    st = result.flow.links
    wait = st.max_wait_s.max(axis=0)
    queue = st.max_queue.max(axis=0)
    order = [int(x) for x in np.argsort(-wait, kind="stable")[:top] if wait[x] > 0]
    if order:
        ids = np.array(order)
        a, b = net.link_from[ids], net.link_to[ids]
        lines = np.stack([np.stack([net.x_m[a], net.y_m[a]], 1),
                          np.stack([net.x_m[b], net.y_m[b]], 1)], 1) / 1000.0
        width = 1.5 + 6.0 * queue[ids] / max(float(queue[ids].max()), 1e-9)
        ax.add_collection(LineCollection(list(lines), colors="#de2d26", linewidths=width,
                                         zorder=4))
        doors = ids[net.kind[ids] == DOOR]
        if len(doors):
            ax.scatter(net.x_m[net.link_to[doors]] / 1000.0, net.y_m[net.link_to[doors]] / 1000.0,
                       s=60, facecolors="none", edgecolors="#de2d26", linewidths=1.5, zorder=5,
                       label=bi("grid exits with queues", "排队的网格出口"))
        ax.plot([], [], color="#de2d26", lw=3,
                label=f"{bi('longest waits', '最长等待')} "
                      f"(max {wait[ids].max():.0f} s, queue {queue[ids].max():.0f})")
    if result.shelters.n:
        occ = result.flow.occupancy / np.maximum(result.shelters.capacity, 1)
        size = 30 + 170 * result.shelters.capacity / max(int(result.shelters.capacity.max()), 1)
        sc = ax.scatter(g.x_m[result.shelters.grid] / 1000.0, g.y_m[result.shelters.grid] / 1000.0,
                        s=size, c=occ, cmap="viridis", vmin=0, vmax=1, marker="^",
                        edgecolors="k", linewidths=0.5, zorder=6, label=bi("shelters", "避难场所"))
        fig.colorbar(sc, ax=ax, shrink=0.6,
                     label=bi("shelter occupancy (share of capacity)", "避难场所占用率"))
    ax.set_xlim(x0 / 1000.0, x1 / 1000.0)
    ax.set_ylim(y0 / 1000.0, y1 / 1000.0)
    ax.set_aspect("equal")
    ax.set_xlabel("km")
    ax.set_ylabel("km")
    ax.set_title(f"{bi('Evacuation bottlenecks', '转移瓶颈')} {title}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), borderaxespad=0.0, fontsize=7,
              ncol=2, frameon=False)
    _save(fig, path)
    return fig
