"""A map of a scenario (PNG): grids coloured by kind or by population density, with roads,
department stations, township depots and key monitoring points.

Grids are drawn as their real polygons where the scenario has them (a scenario folder:
:attr:`gridsim.model.region.Region.shapes`; one :class:`~matplotlib.collections.PathCollection`
of a compound path per grid, holes left empty, edges of width 0 at city scale), else as squares
of their own area (one :class:`~matplotlib.collections.PolyCollection`) up to
:data:`~gridsim.output.raster.RASTER_GRIDS` grids (a district), and above it (a city of 18,176
grids) as one raster of :data:`~gridsim.output.raster.RASTER_PIXELS` pixels a side, each the
colour of the grid whose square holds it (:func:`~gridsim.output.raster.grid_raster`);
roads as :class:`~matplotlib.collections.LineCollection` s (one per road class). At city scale
lines and markers are thinner and an inset shows the urban core, whose grids are too small to
see at full extent.

`gridsim scenario --help` imports this module for :data:`COLOURINGS`: matplotlib is imported
inside the functions that draw (start-up time).

Matplotlib's object API on an Agg canvas (no pyplot state); the file is written under a
temporary name and renamed into place. Labels carry the Chinese term beside the English one,
drawn with the font gridsim bundles (:mod:`gridsim.output.cjk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gridsim.model.vocab import DEPARTMENTS, GRID_KINDS
from gridsim.output.figures import _figure, _save
from gridsim.output.raster import (
    CITY_SCALE_GRIDS,
    RASTER_GRIDS,
    RASTER_PIXELS,
    core_box,
    grid_raster,
)
from gridsim.place.roads import ROAD_CLASSES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PathCollection, PolyCollection
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from gridsim.model.region import Grids
    from gridsim.place.scenario import Scenario

#: Road classes in Chinese, for the legend.
_ROAD_ZH = {"urban": "城市道路", "rural": "乡村道路", "arterial": "干线公路"}

__all__ = ["CITY_SCALE_GRIDS", "COLOURINGS", "scenario_map"]

#: How ``gridsim scenario map --colour`` may colour the grids.
COLOURINGS: tuple[str, ...] = ("kind", "density")

_KIND_COLOURS = {"urban_community": "#fdae6b", "commercial": "#de77ae", "enterprise": "#8c6bb1",
                 "rural": "#c7e9c0"}
# road class -> (colour, line width at district scale, alpha, drawing order)
_ROAD_STYLE = {"urban": ("#737373", 0.5, 0.6, 2), "rural": ("#969696", 0.5, 0.6, 2),
               "arterial": ("#404040", 1.3, 0.9, 3)}
_DEPT_STYLE = {"fire": ("#e31a1c", "^"), "police": ("#1f78b4", "s"), "medical": ("#33a02c", "P"),
               "utilities": ("#ff7f00", "D")}


@dataclass(frozen=True)
class _Style:
    """Sizes of one panel: line widths are multiplied by ``line``, marker areas by ``marker``."""

    line: float
    road_line: float
    marker: float
    edge: float  # line width of the grid squares' edges
    monitoring: float  # marker area of a key monitoring point
    spread: float  # stations in one grid: ring radius as a share of the grid's side


_DISTRICT = _Style(line=1.0, road_line=1.0, marker=1.0, edge=0.3, monitoring=10.0,
                   spread=0.35)
_CITY = _Style(line=0.5, road_line=0.3, marker=0.55, edge=0.0, monitoring=1.5,
               spread=1.0)
_CORE = _Style(line=0.8, road_line=0.8, marker=0.7, edge=0.15, monitoring=5.0,
               spread=0.5)


def _squares(x_km: np.ndarray, y_km: np.ndarray, side_km: np.ndarray) -> np.ndarray:
    """Corners of axis-aligned squares centred on the grids: ``[n, 4, 2]``."""
    h = side_km / 2.0
    xs = np.stack([x_km - h, x_km + h, x_km + h, x_km - h], axis=1)
    ys = np.stack([y_km - h, y_km - h, y_km + h, y_km + h], axis=1)
    return np.stack([xs, ys], axis=2)


def _spread(at: np.ndarray, x: np.ndarray, y: np.ndarray, side: np.ndarray, factor: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """Positions of markers on grids ``at``: those sharing a grid on a small ring around its
    centre (radius ``factor`` × the grid's side), so that none hides another."""
    px, py = x[at].astype(float), y[at].astype(float)
    order = np.argsort(at, kind="stable")
    _, start, count = np.unique(at[order], return_index=True, return_counts=True)
    for s0, m in zip(start, count, strict=True):
        if m < 2:
            continue
        idx = order[s0:s0 + m]
        angle = 2.0 * np.pi * np.arange(m) / m + np.pi / 4.0
        r = factor * side[at[idx[0]]]
        px[idx] += r * np.cos(angle)
        py[idx] += r * np.sin(angle)
    return px, py


def _draw(ax: Axes, sc: Scenario, colour: str, norm: Normalize | None, style: _Style,
          box: tuple[float, float, float, float] | None = None
          ) -> tuple[list[Patch | Line2D], PolyCollection | PathCollection | ScalarMappable]:
    """Draw every layer of the map on ``ax`` (only what lies in ``box`` = x0, x1, y0, y1 km,
    if given); returns the legend handles and what a colour bar of the grids reads."""
    g = sc.region.grids
    x, y = g.x_m / 1000.0, g.y_m / 1000.0
    side = g.side_m() / 1000.0
    if box is None:
        keep = np.ones(g.n, dtype=bool)
    else:
        x0, x1, y0, y1 = box
        gx0, gx1, gy0, gy1 = _grid_bounds(sc)
        keep = (gx1 >= x0) & (gx0 <= x1) & (gy1 >= y0) & (gy0 <= y1)
    handles: list[Patch | Line2D] = []

    if sc.region.shapes is not None:  # the scenario's own polygons, at any scale
        grids: PolyCollection | PathCollection | ScalarMappable = _polygon_grids(
            ax, sc, colour, norm, style, keep, handles)
    elif g.n > RASTER_GRIDS:  # a city: the grids as one raster (gridsim.output.raster)
        grids = _raster_grids(ax, sc, colour, norm, box or _extent(x, y, side))
        if colour == "kind":
            handles += _kind_handles(g)
    else:  # grids: squares of their own area
        grids = _square_grids(ax, sc, colour, norm, style, keep, handles)

    _draw_layers(ax, sc, style, box, keep, handles)
    return handles, grids


def _grid_bounds(sc: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each grid's bounding box in km (``x0, x1, y0, y1``): of its polygons where the scenario
    has them, else of its square."""
    shapes = sc.region.shapes
    g = sc.region.grids
    if shapes is None:
        x, y, half = g.x_m / 1000.0, g.y_m / 1000.0, g.side_m() / 2000.0
        return x - half, x + half, y - half, y + half
    start = shapes.ring_ptr[shapes.grid_ptr(g.n)[:-1]]  # each grid's first position
    xy = shapes.xy / 1000.0
    return (np.minimum.reduceat(xy[:, 0], start), np.maximum.reduceat(xy[:, 0], start),
            np.minimum.reduceat(xy[:, 1], start), np.maximum.reduceat(xy[:, 1], start))


def _grid_paths(sc: Scenario, keep: np.ndarray) -> list:
    """One compound path (km) per kept grid: each ring a closed sub-path, holes wound against
    their exterior (:func:`gridsim.place.lonlat.oriented`), so that a non-zero fill leaves them
    empty."""
    from matplotlib.path import Path as MplPath  # (start-up time: see the module's docstring)

    from gridsim.place.lonlat import oriented  # (pyproj-free; imported with the drawing)

    g = sc.region.grids
    assert sc.region.shapes is not None
    shapes = oriented(sc.region.shapes)
    ptr = shapes.ring_ptr
    codes = np.full(len(shapes.xy), MplPath.LINETO, dtype=MplPath.code_type)
    codes[ptr[:-1]] = MplPath.MOVETO
    codes[ptr[1:] - 1] = MplPath.CLOSEPOLY
    xy = shapes.xy / 1000.0
    at = ptr[shapes.grid_ptr(g.n)].tolist()
    return [MplPath(xy[at[i]:at[i + 1]], codes[at[i]:at[i + 1]])
            for i in np.flatnonzero(keep).tolist()]


def _polygon_grids(ax: Axes, sc: Scenario, colour: str, norm: Normalize | None, style: _Style,
                   keep: np.ndarray, handles: list) -> PathCollection:
    """The grids kept as their own polygons (a scenario folder's, at any scale: a city's
    18,176 paths with edges of width 0 cost matplotlib well under a second)."""
    from matplotlib.collections import PathCollection  # (start-up time: see the docstring)

    g = sc.region.grids
    paths = _grid_paths(sc, keep)
    if colour == "kind":
        face = [_KIND_COLOURS[GRID_KINDS[int(k)]] for k in g.kind[keep]]
        grids = PathCollection(paths, facecolors=face, edgecolors="white",
                               linewidths=style.edge, zorder=1)
        handles += _kind_handles(g)
    else:
        assert norm is not None
        density = g.population / np.maximum(g.area_km2, 1e-9)
        grids = PathCollection(paths, cmap="YlOrRd", norm=norm, edgecolors="white",
                               linewidths=style.edge, zorder=1)
        grids.set_array(np.maximum(density[keep], norm.vmin or 0.0))
    ax.add_collection(grids)
    return grids


def _extent(x: np.ndarray, y: np.ndarray, side: np.ndarray) -> tuple[float, float, float, float]:
    """The grids' extent (km) with the margin :func:`_limits` gives the axes."""
    x0, x1 = float((x - side / 2).min()), float((x + side / 2).max())
    y0, y1 = float((y - side / 2).min()), float((y + side / 2).max())
    pad = 0.02 * max(x1 - x0, y1 - y0, 0.1)
    return x0 - pad, x1 + pad, y0 - pad, y1 + pad


def _kind_handles(g: Grids) -> list[Patch]:
    """One legend entry per grid kind present, with its number of grids."""
    from matplotlib.patches import Patch  # (start-up time: see the module's docstring)

    from gridsim.output.cjk import bi, zh

    handles = []
    for k in sorted({int(k) for k in g.kind}):
        name = GRID_KINDS[k]
        handles.append(Patch(facecolor=_KIND_COLOURS[name], edgecolor="#bdbdbd",
                             label=f"{bi(name.replace('_', ' ') + ' grids', zh(name))} "
                                   f"({int(np.count_nonzero(g.kind == k)):,})"))
    return handles


def _raster_grids(ax: Axes, sc: Scenario, colour: str, norm: Normalize | None,
                  box: tuple[float, float, float, float]) -> ScalarMappable:
    """The grids in ``box`` (km) as one image of :data:`~gridsim.output.raster.RASTER_PIXELS`
    on its longer side, each pixel the colour of the grid whose square holds it (a city's
    18,176 squares as polygons cost matplotlib about a second and show its rural grids as
    specks); returns what a colour bar of the density reads."""
    # matplotlib only when a map is drawn (start-up time: see the module's docstring)
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import to_rgba

    g = sc.region.grids
    x, y, side = g.x_m / 1000.0, g.y_m / 1000.0, g.side_m() / 1000.0
    if colour == "kind":
        values = g.kind.astype(float)
    else:
        assert norm is not None
        values = np.maximum(g.population / np.maximum(g.area_km2, 1e-9), norm.vmin or 0.0)
    image, covered = grid_raster(x, y, side, values, box, RASTER_PIXELS)
    rgba = np.zeros((*image.shape, 4), dtype=np.uint8)  # transparent where no grid is
    if colour == "kind":
        table = np.array([np.round(np.array(to_rgba(_KIND_COLOURS[k])) * 255) for k in GRID_KINDS],
                         dtype=np.uint8)
        rgba[covered] = table[image[covered].astype(np.int64)]
    else:
        assert norm is not None  # a population map has its norm (above)
        rgba[covered] = colormaps["YlOrRd"](norm(image[covered]), bytes=True)
    x0, x1, y0, y1 = box
    ax.imshow(rgba, origin="lower", extent=(x0, x1, y0, y1), interpolation="nearest", zorder=1)
    return ScalarMappable(norm=norm, cmap="YlOrRd")


def _square_grids(ax: Axes, sc: Scenario, colour: str, norm: Normalize | None, style: _Style,
                  keep: np.ndarray, handles: list) -> PolyCollection:
    """The grids kept as squares of their own area (a district)."""
    from matplotlib.collections import PolyCollection  # (start-up time: see the module's docstring)

    g = sc.region.grids
    x, y = g.x_m / 1000.0, g.y_m / 1000.0
    side = g.side_m() / 1000.0
    polys = _squares(x[keep], y[keep], side[keep])
    if colour == "kind":
        face = [_KIND_COLOURS[GRID_KINDS[int(k)]] for k in g.kind[keep]]
        grids = PolyCollection(list(polys), facecolors=face, edgecolors="white",
                               linewidths=style.edge, zorder=1)
        handles += _kind_handles(g)
    else:
        assert norm is not None
        density = g.population / np.maximum(g.area_km2, 1e-9)
        grids = PolyCollection(list(polys), cmap="YlOrRd", norm=norm, edgecolors="white",
                               linewidths=style.edge, zorder=1)
        grids.set_array(np.maximum(density[keep], norm.vmin or 0.0))
    ax.add_collection(grids)
    return grids


def _draw_layers(ax: Axes, sc: Scenario, style: _Style,
                 box: tuple[float, float, float, float] | None, keep: np.ndarray,
                 handles: list) -> None:
    """Roads, key monitoring points, township depots and stations over the grids."""
    from matplotlib.lines import Line2D  # (start-up time: see the module's docstring)

    from gridsim.output.cjk import bi, zh

    g = sc.region.grids
    roads = sc.roads
    x, y = g.x_m / 1000.0, g.y_m / 1000.0
    side = g.side_m() / 1000.0

    # roads: one line per road class, its links as pieces broken by NaN (one path to draw: a
    # collection of a city's 54,000 links made a path object per link, about a second)
    ux, uy = roads.x_m[roads.edge_u] / 1000.0, roads.y_m[roads.edge_u] / 1000.0
    vx, vy = roads.x_m[roads.edge_v] / 1000.0, roads.y_m[roads.edge_v] / 1000.0
    if box is None:
        on = np.ones(len(ux), dtype=bool)
    else:
        x0, x1, y0, y1 = box
        on = ((np.maximum(ux, vx) >= x0) & (np.minimum(ux, vx) <= x1)
              & (np.maximum(uy, vy) >= y0) & (np.minimum(uy, vy) <= y1))
    for c, cls in enumerate(ROAD_CLASSES):
        every = roads.road_class == c
        sel = every & on
        col, lw, alpha, z = _ROAD_STYLE.get(cls, ("#969696", 0.5, 0.6, 2))
        width = lw * (style.line if cls == "arterial" else style.road_line)
        if sel.any():
            gap = np.full(int(sel.sum()), np.nan)
            ax.add_line(Line2D(np.stack([ux[sel], vx[sel], gap], axis=1).ravel(),
                               np.stack([uy[sel], vy[sel], gap], axis=1).ravel(), color=col,
                               lw=width, alpha=alpha, zorder=z, solid_capstyle="butt"))
        if every.any():
            handles.append(Line2D([], [], color=col, lw=lw * 1.2, alpha=alpha,
                                  label=f"{bi(cls + ' roads', _ROAD_ZH.get(cls, ''))} "
                                        f"({int(every.sum()):,} links)"))

    # key monitoring points (重点监测点): a dot on each grid that has any
    mp = g.monitoring_points > 0
    if mp.any():
        sel = mp & keep
        ax.scatter(x[sel], y[sel], s=style.monitoring, c="#08306b", marker=".", linewidths=0,
                   alpha=0.8, zorder=4)
        handles.append(Line2D([], [], ls="", marker=".", color="#08306b", markersize=6,
                              label=f"{bi('key monitoring points', '重点监测点')} "
                                    f"({int(g.monitoring_points.sum()):,}"
                                    f" on {int(mp.sum()):,} grids)"))

    # township depots (乡镇物资储备库)
    dep = sc.supplies.depot_grid
    dsel = dep[keep[dep]]
    ax.scatter(x[dsel], y[dsel], s=55 * style.marker, c="#ffffff", edgecolors="#252525",
               marker="h", linewidths=0.9, zorder=5)
    handles.append(Line2D([], [], ls="", marker="h", markerfacecolor="#ffffff",
                          markeredgecolor="#252525", markersize=7,
                          label=f"{bi('township depots', '乡镇物资储备库')} ({len(dep):,})"))

    # department stations (部门站点); stations in the same grid are set around its centre
    st = sc.stations
    sx, sy = _spread(st.grid, x, y, side, style.spread)
    for d, name in enumerate(DEPARTMENTS):
        of = st.department == d
        if not of.any():
            continue
        col, marker = _DEPT_STYLE.get(name, ("#000000", "o"))
        sel = of & keep[st.grid]
        ax.scatter(sx[sel], sy[sel], s=60 * style.marker, c=col, marker=marker,
                   edgecolors="white", linewidths=0.6, zorder=6)
        handles.append(Line2D([], [], ls="", marker=marker, color=col, markeredgecolor="white",
                              markersize=7,
                              label=f"{bi(name + ' stations', zh(name))} ({int(of.sum()):,})"))


def _limits(ax: Axes, x0: float, x1: float, y0: float, y1: float) -> None:
    pad = 0.02 * max(x1 - x0, y1 - y0, 0.1)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")


def _core_box(sc: Scenario) -> tuple[float, float, float, float] | None:
    """The square around the urban grids (km), if they are a small part of a large map."""
    g = sc.region.grids
    return core_box(g.x_m / 1000.0, g.y_m / 1000.0, g.kind)


def scenario_map(sc: Scenario, path: Path, colour: str = "kind", title: str | None = None) -> Path:
    """Write a map of ``sc`` to ``path`` (PNG) and return ``path``.

    ``colour`` is ``"kind"`` (grid kinds, 网格类型) or ``"density"`` (residents per km², on a
    log scale). Lines and markers are thinner at city scale, where an inset shows the urban core.
    """
    if colour not in COLOURINGS:
        raise ValueError(f"colour must be one of {', '.join(COLOURINGS)}, got {colour!r}")
    from matplotlib.colors import LogNorm  # (start-up time: see the module's docstring)
    from matplotlib.ticker import NullFormatter

    from gridsim.output.cjk import bi
    g = sc.region.grids
    big = g.n > CITY_SCALE_GRIDS
    # the axes as large as matplotlib's default places them in an 11 x 10 (city) or 8 x 7 inch
    # figure, with the canvas wide enough for the inset and the legend beside them: the PNG is
    # the canvas cropped to what is drawn (figures._save), drawn once when all of it is on
    fig, ax = _figure((16.0, 10.0) if big else (11.5, 7.0))
    fig.subplots_adjust(left=1.375 / 16.0, right=9.9 / 16.0) if big else \
        fig.subplots_adjust(left=1.0 / 11.5, right=7.2 / 11.5)

    norm: Normalize | None = None
    if colour == "density":
        density = g.population / np.maximum(g.area_km2, 1e-9)
        positive = density[density > 0]
        lo = float(positive.min()) if len(positive) else 1.0
        hi = float(positive.max()) if len(positive) else 10.0
        norm = LogNorm(vmin=lo, vmax=max(hi, lo * 10.0))

    handles, grids = _draw(ax, sc, colour, norm, _CITY if big else _DISTRICT)
    gx0, gx1, gy0, gy1 = _grid_bounds(sc)
    _limits(ax, float(gx0.min()), float(gx1.max()), float(gy0.min()), float(gy1.max()))
    ax.set_xlabel("km")
    ax.set_ylabel("km")

    box = _core_box(sc)
    if box is not None:  # the urban core, enlarged, beside the map under the legend
        inset = ax.inset_axes((1.03, 0.0, 0.5, 0.5))
        _draw(inset, sc, colour, norm, _CORE, box)
        _limits(inset, *box)
        inset.set_title(bi("urban core (enlarged)", "城区放大"), fontsize=9)
        inset.tick_params(labelsize=7)
        ax.indicate_inset_zoom(inset, edgecolor="#252525", alpha=0.8)

    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
              frameon=False)
    if colour == "density":
        bar = fig.colorbar(grids, ax=ax, location="bottom", shrink=0.6, pad=0.1, aspect=40,
                           label=bi("residents per km² (log scale)", "人口密度"))
        bar.ax.xaxis.set_minor_formatter(NullFormatter())
    name = title or sc.region.name
    ax.set_title(f"{name}: {g.n:,} grids 网格 · {int(g.population.sum()):,} people 人 · "
                 f"{float(g.area_km2.sum()):,.0f} km² · {sc.region.hierarchy.n_townships:,} "
                 f"townships · {sc.stations.n:,} stations")
    _save(fig, path)
    return path
