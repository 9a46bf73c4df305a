"""Figures of a run (PNG): response times, grids out of peacetime over time, a map of the 5-minute
share.

Matplotlib's object API on an Agg canvas (no pyplot state); each figure is written atomically.
Labels carry the Chinese term beside the English one (:mod:`gridsim.output.cjk`).

``output.figures=false`` skips every figure of a run (the evacuation's too), and then nothing of
matplotlib is imported: this module imports it inside the functions that draw, because start-up
time needs it (matplotlib and the font cost about half a second of CPU to import).

Scale: the map draws every grid as a square of its own area up to
:data:`~gridsim.output.raster.RASTER_GRIDS` grids (a district) and a raster above (a city:
18,176 grids), with the urban core enlarged beside it; the modes figure stacks the grids that
are out of peacetime (the few switched grids of a city would be a 1-pixel strip on top of all
of them), with the peak's share of all grids in the title.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

import numpy as np

from gridsim.fsutil import atomic_target
from gridsim.model.vocab import MODES
from gridsim.output.metrics import FIVE_MINUTES_S, response_arrays
from gridsim.output.raster import RASTER_GRIDS, core_box, grid_raster
from gridsim.place.roads import ROAD_CLASSES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from gridsim.engine.simulation import RunResult

__all__ = ["FIGURES", "RASTER_GRIDS", "write_figures"]

#: File names of the figures of a run.
FIGURES: tuple[str, ...] = ("response_times.png", "modes_over_time.png", "map_within_5min.png")

_MODE_COLOURS = {"PEACE": "#9ecae1", "ALERT": "#fdae6b", "FORWARD_COMMAND": "#e6550d",
                 "RECOVERY": "#a1d99b"}
#: Grids with no incident answered in the run, on the map: light, so that the few grids with
#: one stand out at city scale (a run of a few days answers incidents in a few hundred of the
#: city's 18,176 grids).
_NO_INCIDENT = "#ececec"
#: Classes of the 5-minute share on the maps: a grid's share is a ratio of a few incidents
#: (mostly 0, 1/2 or 1), so a continuous scale shows one green; four classes of strong contrast
#: show where the standard is missed. Upper bounds; the last class is exactly 100 %.
_SHARE_BOUNDS = (0.0, 0.5, 0.8, 1.0, 1.0 + 1e-9)
_SHARE_COLOURS = ("#b2182b", "#f4a582", "#92c5de", "#2166ac")
_SHARE_CLASSES = ("< 50 %", "50–80 %", "80–<100 %", "100 %")
#: At city scale a grid with an incident is drawn at least this many pixels wide on the map's
#: raster, on top of the others (an urban grid is about one pixel of the whole city).
_MIN_INCIDENT_PIXELS = 3

_P = ParamSpec("_P")
#: Resolution of every PNG (dots per inch).
_DPI = 110


def _in_fonts(draw: Callable[_P, None]) -> Callable[_P, None]:
    """``draw`` (a figure made and saved) with the family list of :mod:`gridsim.output.cjk` as
    matplotlib's font setting: every text it makes, tick labels included, takes the families
    when it is made (cheaper than :func:`~gridsim.output.cjk.apply_fonts` on the finished
    figure, which makes every tick of every axis to reach their labels); titles placed at the
    top of their axes."""

    @functools.wraps(draw)
    def drawn(*args: _P.args, **kwargs: _P.kwargs) -> None:
        # matplotlib only when a figure is drawn (start-up time: see the module's docstring)
        from matplotlib import rc_context

        from gridsim.output.cjk import font_families

        # titles at the top of their axes (axes.titley), where matplotlib's automatic place
        # puts them in these figures (no axis has ticks on top): the automatic place measures
        # every tick label of every axes of the figure for each title, twice per save
        with rc_context({"font.family": font_families(), "axes.titley": 1.0}):
            draw(*args, **kwargs)

    return drawn


def _figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure on its own Agg canvas: no pyplot, no global figure registry or backend."""
    # matplotlib only when a figure is drawn (start-up time: see the module's docstring)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _save(fig: Figure, path: Path) -> None:
    """Write ``fig`` with Chinese glyphs beside the Latin ones: a figure made under
    :func:`_in_fonts` has them already; any other (maps, evacuation figures) gets them from
    :func:`~gridsim.output.cjk.apply_fonts` here.

    The figure is drawn once, on its own canvas, and the PNG is that canvas cropped to the
    tight box of everything drawn (plus ``savefig.pad_inches``): the box is measured on the
    renderer the canvas then draws with, so every text is laid out once. (``savefig`` with a
    box draws on a new renderer of the box's size, which lays out every text and tick label
    again: about a third of a figure's cost.) A figure whose box leaves its canvas (a very long
    title) is saved as before, ``savefig`` with the box, so nothing is cut off."""
    # matplotlib only when a figure is drawn (start-up time: see the module's docstring)
    from matplotlib import rc_context, rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from gridsim.output.cjk import apply_fonts, font_families

    if list(rcParams["font.family"]) != font_families():
        apply_fonts(fig)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.set_dpi(_DPI)
    with rc_context(_TEXT_RC), atomic_target(path) as tmp:
        # the box first, on the canvas's renderer: the draw below reuses that renderer and so
        # the text layouts the box needed
        drawn = fig.get_tightbbox(canvas.get_renderer())
        width, height = canvas.get_width_height(physical=True)
        # in whole pixels of the canvas (display coordinates: y up from the bottom)
        x0, x1 = math.floor(drawn.x0 * _DPI), math.ceil(drawn.x1 * _DPI)
        y0, y1 = math.floor(drawn.y0 * _DPI), math.ceil(drawn.y1 * _DPI)
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:  # something drawn off the canvas
            fig.savefig(tmp, dpi=_DPI, format="png",
                        bbox_inches=drawn.padded(rcParams["savefig.pad_inches"]))
            return
        canvas.draw()
        pad = round(rcParams["savefig.pad_inches"] * _DPI)
        # the padding in the figure's face colour where it goes past the canvas; rows from the
        # top; opaque, so RGB
        face = np.round(np.array(fig.get_facecolor()[:3]) * 255).astype(np.uint8)
        image = np.empty((y1 - y0 + 2 * pad, x1 - x0 + 2 * pad, 3), dtype=np.uint8)
        image[:] = face
        c0, c1 = max(x0 - pad, 0), min(x1 + pad, width)
        r0, r1 = max(y0 - pad, 0), min(y1 + pad, height)
        top, left = (y1 + pad) - r1, c0 - (x0 - pad)
        image[top:top + r1 - r0, left:left + c1 - c0] = \
            np.asarray(canvas.buffer_rgba())[height - r1:height - r0, c0:c1, :3]
        _write_png(tmp, image)


#: Text drawn without hinting: FreeType's autohinter (matplotlib's default, ``force_autohint``)
#: fits every glyph to the pixel grid each time a text is laid out, which costs about a tenth
#: of a figure; at 110 dpi the unhinted glyphs read the same.
_TEXT_RC: dict[Any, Any] = {"text.hinting": "no_hinting"}

#: zlib level of the PNGs: 1 compresses a figure (large flat areas) within 5 % of the default 6,
#: in two thirds of the time (the city map: 112 against 108 kB, 16 against 24 ms).
_PNG_COMPRESSION = 1


def _write_png(path: Path, image: np.ndarray) -> None:
    """``image`` (rows from the top, RGB bytes) as a PNG at :data:`_DPI`, with matplotlib's
    ``Software`` entry as ``savefig`` writes it."""
    # Pillow is matplotlib's own dependency, loaded with it (start-up time: the module's docstring)
    from matplotlib import __version__ as mpl_version
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Software", f"Matplotlib version{mpl_version}, https://matplotlib.org/")
    Image.fromarray(np.ascontiguousarray(image)).save(
        path, format="png", dpi=(_DPI, _DPI), pnginfo=info, compress_level=_PNG_COMPRESSION)


@_in_fonts
def response_times(result: RunResult, path: Path) -> None:
    from gridsim.output.cjk import bi  # imports matplotlib (start-up time)

    _, resp, occ = response_arrays(result)
    fig, ax = _figure((7, 4))
    fig.subplots_adjust(bottom=0.13)  # the x label's descenders on the canvas (_save)
    if len(resp):
        hi = max(float(np.quantile(occ, 0.99)), FIVE_MINUTES_S * 1.5) / 60.0
        bins = np.linspace(0, hi, 40).tolist()
        # one filled outline per histogram (not a patch per bin)
        ax.hist(np.minimum(occ / 60.0, hi), bins=bins, alpha=0.45, color="#969696",
                histtype="stepfilled", label=bi("from occurrence", "自发生起"))
        ax.hist(np.minimum(resp / 60.0, hi), bins=bins, alpha=0.8, color="#3182bd",
                histtype="stepfilled", label=bi("from notice (5-minute standard)",
                                                "自接报起 五分钟标准"))
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


@_in_fonts
def modes_over_time(result: RunResult, path: Path) -> None:
    """The grids out of peacetime (alert, forward command, recovery) stacked over time, the
    peak and its share of all grids in the title; warnings shaded."""
    from gridsim.output.cjk import bi, zh  # imports matplotlib (start-up time)

    log = result.ctx.switch.mode_log
    n = max(int(result.scenario.region.grids.n), 1)
    t = np.array([r[0] for r in log] + [result.duration_s]) / 3600.0
    counts = np.array([r[1] for r in log] + [log[-1][1]], dtype=float)
    modes = [m for m in MODES if m != "PEACE"]
    out = counts[:, [MODES.index(m) for m in modes]]
    peak = int(out.sum(axis=1).max()) if len(out) else 0
    # the axes as large as before (5.88 by 3.1 inches, 0.98 in from the left), the legend's
    # column beside them inside the canvas (room for its longest label, a level's warnings
    # counted in three digits), room for a two-line title: the figure is cropped to what is
    # drawn (_save); a legend past the canvas's edge would make _save draw it twice
    width = 10.6
    fig, ax = _figure((width, 4.4))
    fig.subplots_adjust(left=0.98 / width, right=6.86 / width, bottom=0.1, top=0.8)
    ax.stackplot(t, out.T, step="post", labels=[bi(m, zh(m)) for m in modes],
                 colors=[_MODE_COLOURS[m] for m in modes])
    top = max(peak * 1.2, 1.0)  # room for the warnings' ribbon
    ax.set_ylim(0, top)
    ax.set_xlim(0, result.duration_s / 3600.0)
    handles = ax.get_legend_handles_labels()[0]
    handles += _warning_ribbon(ax, result.settings.hazard.warnings, bi)
    ax.set_xlabel(bi("hour", "小时"))
    ax.set_ylabel(bi("grids out of peacetime", "平时以外的网格"))
    # the same counts as a share of all the grids, on the right: at city scale a few hundred
    # switched grids read as the small part of the city they are
    share = ax.secondary_yaxis("right", functions=(functools.partial(_percent, n=n),
                                                   functools.partial(_count, n=n)))
    share.set_ylabel(bi("% of all grids", "占全部网格比例"))
    ax.set_title(f"{bi('Grids by mode over time', '各模式网格数')}\n({n:,} grids; at most "
                 f"{peak:,}, {100 * peak / n:.2g} % {bi('of all grids', '占全部网格比例')}, out of "
                 "peacetime at once)")
    ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False,
              bbox_to_anchor=(1.13, 1.0))
    _save(fig, path)


def _percent(v: Any, n: int) -> Any:
    """Grids as a percentage of ``n`` grids (the modes figure's right axis)."""
    return np.asarray(v, dtype=float) * (100.0 / n)


def _count(p: Any, n: int) -> Any:
    return np.asarray(p, dtype=float) * (n / 100.0)


#: Colours of the warning levels (预警信号: 蓝色, 黄色, 橙色, 红色).
_LEVEL_COLOURS = {"blue": "#3182bd", "yellow": "#f2c200", "orange": "#f28c28", "red": "#d62728"}
_LEVEL_ZH = {"blue": "蓝色预警", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警"}
#: Height of one level's row of the warning ribbon, in axes fraction.
_RIBBON_ROW = 0.035


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of ``(start, end)`` intervals as disjoint ``(start, width)`` pairs, in order."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b - a) for a, b in out]


def _warning_ribbon(ax: Axes, warnings: list, bi: Callable[[str, str], str]) -> list:
    """The warnings of the run (scripted and forecast), however many: the hours when any was in
    force shaded over the whole height (one span per disjoint period), and a ribbon along the
    top, one row per level (the highest on top), marking when a warning of that level was in
    force somewhere; one legend entry per level with its number of warnings. A forecast storm
    issues tens of overlapping local warnings: one span and one name each would be a dark,
    unreadable smear (and cost a text each)."""
    # matplotlib only when a figure is drawn (start-up time: see the module's docstring)
    from matplotlib.patches import Patch

    from gridsim.model.weather import LEVELS

    if not warnings:
        return []
    trans = ax.get_xaxis_transform()  # x in hours, y in axes fraction
    spans = [(w.start_h, w.start_h + w.duration_h) for w in warnings]
    ax.broken_barh(_merged(spans), (0.0, 1.0), transform=trans, facecolors="k", alpha=0.06,
                   linewidth=0, zorder=0, label="_nolegend_")
    levels = [lv for lv in reversed(LEVELS) if any(w.level == lv for w in warnings)]
    levels += sorted({w.level for w in warnings} - set(levels))  # (validation allows no other)
    handles = []
    for row, level in enumerate(levels):
        of = [s for w, s in zip(warnings, spans, strict=True) if w.level == level]
        colour = _LEVEL_COLOURS.get(level, "#636363")
        ax.broken_barh(_merged(of), (1.0 - (row + 1) * _RIBBON_ROW, _RIBBON_ROW),
                       transform=trans, facecolors=colour, linewidth=0, zorder=4,
                       label="_nolegend_")
        zh_level = _LEVEL_ZH.get(level, "预警")
        handles.append(Patch(facecolor=colour,
                             label=f"{bi(level + ' warning', zh_level)} ({len(of)})"))
    return handles


def _share_scale():
    """The colour map and norm of the 5-minute share's classes (:data:`_SHARE_BOUNDS`)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap  # (start-up time)

    return (ListedColormap(list(_SHARE_COLOURS), name="gridsim_share"),
            BoundaryNorm(list(_SHARE_BOUNDS), len(_SHARE_COLOURS)))


def _share_bar(fig: Figure, ax: Axes, share: np.ndarray, bi: Callable[[str, str], str],
               **kw: Any) -> None:
    """The colour bar of the share's classes, each labelled with its number of grids."""
    from matplotlib.cm import ScalarMappable  # (start-up time)

    cmap, norm = _share_scale()
    fin = share[np.isfinite(share)]
    counts = np.histogram(np.clip(fin, 0.0, 1.0), bins=list(_SHARE_BOUNDS))[0]
    bounds = np.array(_SHARE_BOUNDS)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, spacing="uniform",
                       ticks=((bounds[:-1] + bounds[1:]) / 2).tolist(), **kw)
    labels = [f"{c}\n({k:,})" for c, k in zip(_SHARE_CLASSES, counts.tolist(), strict=True)]
    if kw.get("location") == "bottom":
        bar.ax.set_xticklabels(labels)
    else:
        bar.ax.set_yticklabels([t.replace("\n", " ") for t in labels])
    bar.ax.tick_params(length=0)
    bar.set_label(bi("share answered within 5 minutes (grids)", "五分钟到场率 (网格数)"))


def _vector_map(result: RunResult, ax: Axes, share: np.ndarray):
    """Every grid a square marker of its own area over the road network (a district)."""
    from matplotlib.collections import LineCollection  # (start-up time)

    from gridsim.output.cjk import bi

    sc = result.scenario
    g = sc.region.grids
    roads = sc.roads
    seg_x = np.stack([roads.x_m[roads.edge_u], roads.x_m[roads.edge_v]]) / 1000.0
    seg_y = np.stack([roads.y_m[roads.edge_u], roads.y_m[roads.edge_v]]) / 1000.0
    ax.add_collection(LineCollection(list(np.stack([seg_x.T, seg_y.T], axis=2)), colors="#d9d9d9",
                                     linewidths=0.4, zorder=1))
    size = np.clip(g.area_km2 / np.median(g.area_km2) * (4000.0 / max(g.n, 1)), 1.0, 60.0)
    none = ~np.isfinite(share)
    ax.scatter(g.x_m[none] / 1000.0, g.y_m[none] / 1000.0, s=size[none], c=_NO_INCIDENT,
               marker="s", linewidths=0.3, edgecolors="#bdbdbd", zorder=2,
               label=bi("no incident", "无事件"))
    cmap, norm = _share_scale()
    ax.scatter(g.x_m[~none] / 1000.0, g.y_m[~none] / 1000.0, s=size[~none] * 1.5,
               c=np.clip(share[~none], 0.0, 1.0), cmap=cmap, norm=norm, marker="s",
               linewidths=0, zorder=3)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)


def _raster_panel(ax: Axes, result: RunResult, share: np.ndarray,
                  box: tuple[float, float, float, float], pixels: int, road_width: float
                  ) -> None:
    """The share of every grid as a raster over ``box`` (km) in the share's classes, grids
    with no incident light grey, those with one at least :data:`_MIN_INCIDENT_PIXELS` wide on
    top; arterial roads on top."""
    from matplotlib.collections import LineCollection  # (start-up time)
    from matplotlib.colors import to_rgba

    sc = result.scenario
    g = sc.region.grids
    x, y, side = g.x_m / 1000.0, g.y_m / 1000.0, g.side_m() / 1000.0
    image, covered = grid_raster(x, y, side, share, box, pixels)
    inc = np.isfinite(share)
    if inc.any():  # the grids with an incident again, none narrower than a few pixels
        pixel = max(box[1] - box[0], box[3] - box[2]) / pixels
        over, on = grid_raster(x[inc], y[inc], np.maximum(side[inc], _MIN_INCIDENT_PIXELS * pixel),
                               share[inc], box, pixels)
        image[on] = over[on]
        covered |= on
    # 8-bit RGBA: what the PNG holds anyway, and matplotlib resamples it faster than floats
    palette = np.round(np.array([to_rgba(c) for c in (*_SHARE_COLOURS, _NO_INCIDENT)]) * 255
                       ).astype(np.uint8)
    cls = np.where(np.isnan(image), len(_SHARE_COLOURS),
                   np.clip(np.searchsorted(_SHARE_BOUNDS, np.nan_to_num(image), side="right") - 1,
                           0, len(_SHARE_COLOURS) - 1))
    rgba = palette[cls]
    rgba[~covered] = 0
    x0, x1, y0, y1 = box
    ax.imshow(rgba, origin="lower", extent=(x0, x1, y0, y1), interpolation="nearest",
              zorder=1)
    roads = sc.roads
    art = roads.road_class == ROAD_CLASSES.index("arterial")
    ux, uy = roads.x_m[roads.edge_u[art]] / 1000.0, roads.y_m[roads.edge_u[art]] / 1000.0
    vx, vy = roads.x_m[roads.edge_v[art]] / 1000.0, roads.y_m[roads.edge_v[art]] / 1000.0
    on = ((np.maximum(ux, vx) >= x0) & (np.minimum(ux, vx) <= x1)
          & (np.maximum(uy, vy) >= y0) & (np.minimum(uy, vy) <= y1))
    if on.any():
        segs = np.stack([np.stack([ux[on], uy[on]], axis=1), np.stack([vx[on], vy[on]], axis=1)],
                        axis=1)
        ax.add_collection(LineCollection(list(segs), colors="#404040", linewidths=road_width,
                                         alpha=0.6, zorder=2))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")


def _raster_map(result: RunResult, fig: Figure, ax: Axes, share: np.ndarray) -> None:
    """The city as a raster, the urban core enlarged beside it (a city)."""
    from matplotlib.lines import Line2D  # (start-up time)
    from matplotlib.patches import Patch

    from gridsim.output.cjk import bi

    g = result.scenario.region.grids
    x, y, half = g.x_m / 1000.0, g.y_m / 1000.0, g.side_m() / 2000.0
    lo_x, hi_x = float((x - half).min()), float((x + half).max())
    lo_y, hi_y = float((y - half).min()), float((y + half).max())
    pad = 0.02 * max(hi_x - lo_x, hi_y - lo_y, 0.1)
    _raster_panel(ax, result, share, (lo_x - pad, hi_x + pad, lo_y - pad, hi_y + pad), 600, 0.4)
    handles = [Patch(facecolor=_NO_INCIDENT, label=bi("no incident", "无事件")),
               Line2D([], [], color="#404040", lw=0.8, alpha=0.6,
                      label=bi("arterial roads", "干线公路"))]
    box = core_box(x, y, g.kind)
    if box is not None:
        inset = ax.inset_axes((1.04, 0.0, 0.55, 0.55))
        _raster_panel(inset, result, share, box, 400, 0.8)
        inset.set_title(bi("urban core (enlarged)", "城区放大"), fontsize=9)
        inset.tick_params(labelsize=7)
        ax.indicate_inset_zoom(inset, edgecolor="#252525", alpha=0.8)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.04, 1.0), fontsize=8,
              frameon=False)


@_in_fonts
def map_within_5min(result: RunResult, path: Path, share: np.ndarray) -> None:
    """The share of each grid's incidents answered within 5 minutes: grid squares for a
    district, a raster above :data:`RASTER_GRIDS` grids."""
    from gridsim.output.cjk import bi  # imports matplotlib (start-up time)

    sc = result.scenario
    g = sc.region.grids
    raster = g.n > RASTER_GRIDS
    fig, ax = _figure((11.0, 7.5) if raster else (7, 7))
    if raster:
        _raster_map(result, fig, ax, share)
        _share_bar(fig, ax, share, bi, location="bottom", shrink=0.6, pad=0.08, aspect=40)
    else:
        _vector_map(result, ax, share)
        _share_bar(fig, ax, share, bi, shrink=0.7)
    ax.set_xlabel("km")
    ax.set_ylabel("km")
    with_incident = int(np.isfinite(share).sum())
    ax.set_title(f"{bi('5-minute share by grid', '各网格五分钟到场率')}\n"
                 f"({sc.region.name}, {g.n:,} grids, {with_incident:,} with an incident)")
    _save(fig, path)


def write_figures(result: RunResult, folder: Path, share_by_grid: np.ndarray) -> list[Path]:
    """Write every figure of :data:`FIGURES` into ``folder``."""
    paths = [folder / name for name in FIGURES]
    response_times(result, paths[0])
    modes_over_time(result, paths[1])
    map_within_5min(result, paths[2], share_by_grid)
    return paths
