"""Figures of a run: skipped with nothing of matplotlib imported, cheap and readable at city
scale (a raster map with the urban core enlarged; the switched grids, not all of them), and
bilingual.

Parameters are built by hand (tests/params.py); figures are inspected as matplotlib objects
(captured before saving) and as PNG files, never timed here (benchmarks/bench_figures.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gridsim.model.vocab import GRID_KINDS
from gridsim.output import figures
from gridsim.output.cjk import cjk_chars
from gridsim.output.raster import RASTER_GRIDS, core_box, grid_raster

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------------
# off means off: no figure, no matplotlib
# ----------------------------------------------------------------------------------------------
_RUN_WITHOUT_FIGURES = """
import json, sys
from pathlib import Path
from dataclasses import replace
from tests.params import add_warning, changed, one_grid
from gridsim.engine.simulation import simulate
from gridsim.output.files import write_outputs

s = changed(one_grid(2, duration_h=12.0, rate_per_day=20.0), {"output.figures": False})
s = add_warning(s, start_h=1.0, duration_h=4.0)
s = changed(s, {"hazard.warnings": [replace(s.hazard.warnings[0], evacuate=True)]})
result = simulate(s)
write_outputs(result, Path(sys.argv[1]), "test")
print(json.dumps({"evacuations": len(result.evacuations),
                  "matplotlib": sorted(m for m in sys.modules if m.startswith("matplotlib"))}))
"""


def test_figures_off_skips_every_figure_and_imports_no_matplotlib(tmp_path: Path) -> None:
    """A run that evacuates (so it has evacuation figures too) with ``output.figures=false``:
    its files are written, no PNG, and matplotlib is never imported (a fresh interpreter)."""
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", _RUN_WITHOUT_FIGURES, str(out)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["evacuations"] == 1  # the case where evacuation figures would be drawn
    assert report["matplotlib"] == []
    names = sorted(p.name for p in out.iterdir())
    assert "summary.json" in names and any(n.startswith("evacuation") for n in names)
    assert [n for n in names if n.endswith(".png")] == []


# ----------------------------------------------------------------------------------------------
# the raster: each pixel takes the value of the grid whose square holds its centre
# ----------------------------------------------------------------------------------------------
def test_raster_pixels_take_the_value_of_their_grid() -> None:
    """Two squares of side 2 and 1 on a 10 x 5 box of 1-unit pixels: the pixels whose centre
    lies in a square (widened by the module's margin, 1.2: sides 2.4 and 1.2) carry its value,
    the others are empty."""
    image, covered = grid_raster(np.array([2.0, 7.0]), np.array([2.0, 2.5]),
                                 np.array([2.0, 1.0]), np.array([0.25, np.nan]),
                                 (0.0, 10.0, 0.0, 5.0), pixels=10)
    assert image.shape == covered.shape == (5, 10)
    centres = np.arange(10) + 0.5
    rows = np.arange(5) + 0.5
    want_a = (np.abs(centres[None, :] - 2.0) <= 1.2) & (np.abs(rows[:, None] - 2.0) <= 1.2)
    want_b = (np.abs(centres[None, :] - 7.0) <= 0.6) & (np.abs(rows[:, None] - 2.5) <= 0.6)
    assert np.array_equal(covered, want_a | want_b)
    assert np.all(image[want_a] == 0.25)
    assert np.all(np.isnan(image[want_b]))  # a grid with no value: covered, NaN
    assert np.all(np.isnan(image[~covered]))


def test_raster_puts_small_grids_on_top_and_keeps_grids_smaller_than_a_pixel() -> None:
    """A big square with a small one inside: the small one's pixels are its own; a grid a
    tenth of a pixel across still takes the pixel of its centre."""
    image, covered = grid_raster(np.array([5.0, 5.0, 8.55]), np.array([5.0, 5.0, 8.55]),
                                 np.array([8.0, 2.0, 0.1]), np.array([1.0, 2.0, 3.0]),
                                 (0.0, 10.0, 0.0, 10.0), pixels=10)
    assert image[5, 5] == 2.0 and image[4, 4] == 2.0  # pixel centres 5.5 and 4.5: small square
    assert image[2, 2] == 1.0  # 2.5 from the centre: only the big one
    assert image[8, 8] == 3.0 and covered[8, 8]


def test_raster_covers_the_area_of_the_grids() -> None:
    """Squares laid edge to edge on a 40 x 40 lattice: every pixel of the lattice is covered,
    none outside it."""
    side = 1.0
    c = np.arange(40) * side + side / 2
    x, y = np.meshgrid(c, c)
    _, covered = grid_raster(x.ravel(), y.ravel(), np.full(1600, side),
                                 np.arange(1600, dtype=float), (-10.0, 50.0, -10.0, 50.0),
                                 pixels=600)
    px = -10.0 + (np.arange(600) + 0.5) * 0.1
    inside = (px >= -0.06) & (px <= 40.06)  # the margin widens the lattice by 0.1 on each side
    assert covered[np.ix_(inside, inside)].all()
    assert not covered[np.ix_(~inside, np.ones(600, dtype=bool))].any()


def test_core_box_frames_the_urban_grids_of_a_large_map_only() -> None:
    rng = np.random.default_rng(0)
    n = RASTER_GRIDS + 500
    kind = np.full(n, GRID_KINDS.index("rural"))
    kind[:300] = GRID_KINDS.index("urban_community")
    x = np.where(kind == GRID_KINDS.index("rural"), rng.uniform(-40, 40, n), rng.normal(0, 1, n))
    y = np.where(kind == GRID_KINDS.index("rural"), rng.uniform(-40, 40, n), rng.normal(0, 1, n))
    box = core_box(x, y, kind)
    assert box is not None
    x0, x1, y0, y1 = box
    inside = (x[:300] >= x0) & (x[:300] <= x1) & (y[:300] >= y0) & (y[:300] <= y1)
    assert inside.mean() >= 0.98 and x1 - x0 < 20  # the core, not the 80 km map
    assert core_box(x[:500], y[:500], kind[:500]) is None  # a district: no inset


# ----------------------------------------------------------------------------------------------
# the figures at district and city scale (captured before saving)
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list:
    """The figures the module saves (they are still written, as PNG)."""
    figs: list = []
    save = figures._save

    def keep(fig, path: Path) -> None:
        figs.append(fig)
        save(fig, path)

    monkeypatch.setattr(figures, "_save", keep)
    return figs


def _axes(fig) -> list:
    """Every axes of ``fig``, insets and secondary axes (children of an axes) included."""
    out = []
    for ax in fig.axes:
        out += [ax, *ax.child_axes]
    return out


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def _scenario(urban: int, rural: int):
    """A synthetic scenario of ``urban`` urban and ``rural`` rural grids (built, not run)."""
    from gridsim.model.params import KindConfig
    from gridsim.place.scenario import build_scenario
    from tests.params import changed, one_grid

    s = changed(one_grid(2, duration_h=24.0, rate_per_day=1.0), {
        "scenario.urban_grids": urban, "scenario.rural_grids": rural,
        "scenario.townships_per_county": 4,
        "scenario.kinds": {
            "urban_community": KindConfig(zone="urban", weight=1.0, area_km2=0.05,
                                          population=3000.0),
            "rural": KindConfig(zone="rural", weight=1.0, area_km2=2.0, population=400.0)}})
    return s, build_scenario(s.scenario)


def _result(s, scenario, log=None):
    n = scenario.region.grids.n
    log = log or [(0.0, (n, 0, 0, 0))]
    return SimpleNamespace(settings=s, scenario=scenario, duration_s=s.duration_h * 3600.0,
                           ctx=SimpleNamespace(switch=SimpleNamespace(mode_log=log)))


@pytest.mark.slow
def test_a_city_scale_map_is_a_raster_with_the_core_enlarged(tmp_path: Path, captured) -> None:
    """Above RASTER_GRIDS grids: one image per panel (not a marker per grid), the urban core
    in an inset, a colour bar of the share's classes with their numbers of grids, Chinese
    beside the English; the grid with share 0 is red, and at least 3 pixels wide on the whole
    city's panel although an urban grid is smaller than a pixel there."""
    from matplotlib.collections import PathCollection
    from matplotlib.image import AxesImage

    s, scenario = _scenario(urban=600, rural=RASTER_GRIDS)
    g = scenario.region.grids
    share = np.full(g.n, np.nan)
    urban = np.flatnonzero(g.kind != GRID_KINDS.index("rural"))
    share[urban[:50]] = 1.0
    share[urban[50]] = 0.0
    figures.map_within_5min(_result(s, scenario), tmp_path / "map.png", share)
    (fig,) = captured
    images = [im for ax in _axes(fig) for im in ax.get_images() if isinstance(im, AxesImage)]
    assert len(images) == 2  # the city and the enlarged core
    assert not any(isinstance(c, PathCollection) for ax in _axes(fig) for c in ax.collections)
    texts = _texts(fig)
    assert any("urban core (enlarged) 城区放大" in t for t in texts)
    assert any("share answered within 5 minutes (grids) 五分钟到场率 (网格数)" in t for t in texts)
    # the classes' numbers of grids: 50 grids at 100 %, one at 0 (set above)
    assert {"< 50 %\n(1)", "50–80 %\n(0)", "80–<100 %\n(0)", "100 %\n(50)"} <= set(texts)
    assert any(t.startswith("5-minute share by grid 各网格五分钟到场率") and f"{g.n:,} grids" in t
               and "51 with an incident" in t for t in texts)
    # the core panel: the pixel at the red grid's centre is red (RdYlGn at 0)
    core = images[1]
    x0, x1, y0, y1 = core.get_extent()
    rgba = np.asarray(core.get_array(), dtype=float)
    if np.asarray(core.get_array()).dtype == np.uint8:  # 8-bit RGBA
        rgba = rgba / 255.0
    j = int((g.x_m[urban[50]] / 1000.0 - x0) / (x1 - x0) * rgba.shape[1])
    i = int((g.y_m[urban[50]] / 1000.0 - y0) / (y1 - y0) * rgba.shape[0])
    r, gr, b, a = rgba[i, j]
    assert a == 1.0 and r > 0.6 and gr < 0.1 and b < 0.2, rgba[i, j]
    # the whole city's panel (600 pixels over about 70 km: an urban grid of 0.05 km² is about
    # two pixels wide): the red grid covers at least 3 × 3 pixels, more than its own square
    whole = np.asarray(images[0].get_array())
    red = np.all(whole == np.asarray(core.get_array())[i, j], axis=-1)
    k = urban[50]
    x0w, x1w, y0w, y1w = images[0].get_extent()
    _, own = grid_raster(g.x_m[[k]] / 1000.0, g.y_m[[k]] / 1000.0, g.side_m()[[k]] / 1000.0,
                         np.zeros(1), (x0w, x1w, y0w, y1w), 600)
    assert red.sum() >= 9 and red.sum() > own.sum(), (red.sum(), own.sum())
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_a_district_map_draws_every_grid_as_a_square(tmp_path: Path, captured) -> None:
    from matplotlib.collections import PathCollection

    s, scenario = _scenario(urban=40, rural=20)
    share = np.full(scenario.region.grids.n, np.nan)
    share[:10] = np.linspace(0, 1, 10)
    figures.map_within_5min(_result(s, scenario), tmp_path / "map.png", share)
    (fig,) = captured
    points = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in points) == scenario.region.grids.n
    assert fig.axes[0].get_images() == []


def test_modes_over_time_shows_the_few_switched_grids(tmp_path: Path, captured) -> None:
    """3 of 18,176 grids out of peacetime at most: the axis spans those 3 (not 18,176), the
    title gives their share of all grids."""
    s, scenario = _scenario(urban=40, rural=20)
    n = 18_176
    log = [(0.0, (n, 0, 0, 0)), (3600.0, (n - 1, 1, 0, 0)), (4000.0, (n - 3, 0, 2, 1)),
           (20000.0, (n - 1, 0, 0, 1)), (30000.0, (n, 0, 0, 0))]
    result = _result(s, scenario, log)
    result.scenario = SimpleNamespace(region=SimpleNamespace(grids=SimpleNamespace(n=n)))
    figures.modes_over_time(result, tmp_path / "modes.png")
    (fig,) = captured
    ax = fig.axes[0]
    assert 3 <= ax.get_ylim()[1] <= 4  # the peak (3 grids) and a little room
    stacked = [c for c in ax.collections if c.get_label() != "_nolegend_"]
    assert [c.get_label() for c in stacked] == [
        "ALERT 预警", "FORWARD_COMMAND 前线指挥部", "RECOVERY 恢复"]
    assert "PEACE" not in {c.get_label().split()[0] for c in stacked}
    title = ax.get_title()
    assert "各模式网格数" in title
    assert "(18,176 grids; at most 3, 0.017 % of all grids 占全部网格比例" in title
    # the right axis: the same counts as a percentage of the 18,176 grids
    (right,) = ax.child_axes
    assert right.get_ylabel() == "% of all grids 占全部网格比例"
    lo, hi = right.get_ylim()
    assert lo == 0 and hi == pytest.approx(ax.get_ylim()[1] * 100 / n)


def test_every_label_of_the_run_figures_has_chinese_beside_english(tmp_path: Path,
                                                                   captured) -> None:
    """Titles, axis labels, legends and colour bars of the modes figure and the map carry
    Chinese (tick labels and km are left as they are)."""
    s, scenario = _scenario(urban=40, rural=20)
    share = np.full(scenario.region.grids.n, np.nan)
    share[:5] = 1.0
    result = _result(s, scenario, [(0.0, (60, 0, 0, 0)), (3600.0, (58, 0, 2, 0))])
    result.incidents = []
    result.ctx.incidents = []
    for name, draw in (("modes", figures.modes_over_time),
                       ("map", lambda r, p: figures.map_within_5min(r, p, share))):
        draw(result, tmp_path / f"{name}.png")
    for fig in captured:
        for ax in _axes(fig):
            title = ax.get_title() if hasattr(ax, "get_title") else ""
            for label in (title, ax.get_xlabel(), ax.get_ylabel()):
                if any(ch.isalpha() for ch in label) and label != "km":
                    assert cjk_chars([label]), label
            legend = ax.get_legend()
            for t in legend.get_texts() if legend else []:
                assert cjk_chars([t.get_text()]), t.get_text()



def test_warnings_are_one_shaded_period_and_a_ribbon_row_per_level(tmp_path: Path,
                                                                   captured) -> None:
    """Five overlapping warnings of two levels (as a forecast storm issues them, tens at a
    time): the shading is the union of their hours, each level's row of the ribbon the union of
    its own warnings' hours, one legend entry per level with its count (the higher level
    first), and no text per warning."""
    from gridsim.model.params import WarningConfig
    from tests.params import changed

    s, scenario = _scenario(urban=40, rural=20)
    hours = [(1.0, 2.0, "blue"), (2.0, 2.0, "blue"), (2.5, 1.0, "red"), (8.0, 1.0, "blue"),
             (3.0, 0.5, "red")]
    s = changed(s, {"hazard.warnings": [
        WarningConfig(name=f"w{i}", level=lv, start_h=a, duration_h=d, townships=[],
                      rate_multipliers={}, triggers_switch=True)
        for i, (a, d, lv) in enumerate(hours)]})
    n = scenario.region.grids.n
    result = _result(s, scenario, [(0.0, (n, 0, 0, 0)), (3600.0, (n - 2, 0, 2, 0))])
    figures.modes_over_time(result, tmp_path / "modes.png")
    (fig,) = captured
    ax = fig.axes[0]
    bars = [c for c in ax.collections if c.get_label() == "_nolegend_"]
    spans = [sorted((round(float(p.vertices[:, 0].min()), 6),
                     round(float(p.vertices[:, 0].max()), 6)) for p in c.get_paths())
             for c in bars]
    # the shading and the blue row: [1, 4] (blue [1, 3], [2, 4] and red overlapping), [8, 9]
    assert spans.count([(1.0, 4.0), (8.0, 9.0)]) == 2
    assert [(2.5, 3.5)] in spans  # red: [2.5, 3.5] holds [3, 3.5]
    assert len(bars) == 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "red warning 红色预警 (2)" in labels and "blue warning 蓝色预警 (3)" in labels
    assert labels.index("red warning 红色预警 (2)") < labels.index("blue warning 蓝色预警 (3)")
    assert [t for t in ax.texts if t.get_text().strip()] == []


# ----------------------------------------------------------------------------------------------
# saving: drawn once, cropped to what is drawn
# ----------------------------------------------------------------------------------------------
def _png(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def _labelled(title: str):
    fig, ax = figures._figure((4.0, 3.0))
    fig.subplots_adjust(bottom=0.2, top=0.85)  # room for the labels on the canvas
    ax.plot([0.0, 1.0], [0.0, 1.0], color="#000000")
    ax.set_title(title)
    ax.set_xlabel("hour 小时")
    return fig


def test_a_saved_figure_is_its_tight_box_with_a_white_margin(tmp_path: Path) -> None:
    """The PNG is what matplotlib's ``bbox_inches="tight"`` gives (the same size, to the pixel
    rounding of the box), with its margin of ``savefig.pad_inches`` white on every side, and
    it is drawn once (the canvas's draw, no ``savefig``)."""
    from matplotlib import rcParams

    fig = _labelled("Response times 响应时间")
    calls: list[str] = []
    fig.savefig = lambda *a, **k: calls.append("savefig")  # type: ignore[method-assign]
    figures._save(fig, tmp_path / "ours.png")
    assert calls == []
    ours = _png(tmp_path / "ours.png")

    ref = _labelled("Response times 响应时间")
    from gridsim.output.cjk import apply_fonts

    apply_fonts(ref)
    ref.savefig(tmp_path / "ref.png", dpi=figures._DPI, bbox_inches="tight")
    theirs = _png(tmp_path / "ref.png")
    assert abs(ours.shape[1] - theirs.shape[1]) <= 2

    # (less the half-width of the axes' frame, which the box of the axes leaves out)
    pad = round(rcParams["savefig.pad_inches"] * figures._DPI) - 3
    for edge in (ours[:pad], ours[-pad:], ours[:, :pad], ours[:, -pad:]):
        assert (edge == 255).all()
    # and something is drawn inside: the line, the texts
    assert (ours[pad:-pad, pad:-pad] < 128).any()
    assert abs(ours.shape[0] - theirs.shape[0]) <= 2


def test_a_figure_drawn_past_its_canvas_is_saved_whole(tmp_path: Path) -> None:
    """A title wider than the canvas is not cut off: the PNG is wider than the canvas (the box
    of everything drawn, as ``savefig`` writes it)."""
    fig = _labelled("a very long title " * 12)
    canvas_width = fig.get_figwidth() * figures._DPI
    figures._save(fig, tmp_path / "long.png")
    assert _png(tmp_path / "long.png").shape[1] > canvas_width + 100


@pytest.mark.slow
def test_a_city_scale_scenario_map_is_a_raster_with_one_line_per_road_class(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``gridsim scenario map`` above RASTER_GRIDS grids: the grids are one image per panel
    (the city and the enlarged core), no polygon per grid; a road class is one line, not a
    path per link; the pixel at an urban grid's centre has its kind's colour; drawn once."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    from gridsim.output import maps

    _s, scenario = _scenario(urban=600, rural=RASTER_GRIDS)
    figs: list = []
    save = maps._save
    monkeypatch.setattr(maps, "_save", lambda fig, path: (figs.append(fig), save(fig, path)))
    monkeypatch.setattr(Figure, "savefig", lambda *a, **k: pytest.fail("drawn twice"))
    maps.scenario_map(scenario, tmp_path / "map.png")
    (fig,) = figs
    axes = _axes(fig)
    images = [im for ax in axes for im in ax.get_images()]
    assert len(images) == 2
    assert not any(isinstance(c, PolyCollection | LineCollection)
                   for ax in axes for c in ax.collections)
    roads = scenario.roads
    classes = {int(c) for c in roads.road_class}
    main_lines = [ln for ln in axes[0].get_lines() if len(ln.get_xdata())]
    assert len(main_lines) == len(classes)
    assert sum(len(ln.get_xdata()) for ln in main_lines) == 3 * len(roads.edge_u)
    g = scenario.region.grids
    k = int(np.flatnonzero(g.kind != GRID_KINDS.index("rural"))[0])
    core = images[1]
    x0, x1, y0, y1 = core.get_extent()
    rgba = np.asarray(core.get_array())
    j = int((g.x_m[k] / 1000.0 - x0) / (x1 - x0) * rgba.shape[1])
    i = int((g.y_m[k] / 1000.0 - y0) / (y1 - y0) * rgba.shape[0])
    want = np.round(np.array(to_rgba(maps._KIND_COLOURS[GRID_KINDS[int(g.kind[k])]])) * 255)
    assert (rgba[i, j] == want).all(), (rgba[i, j], want)
    assert (tmp_path / "map.png").stat().st_size > 10_000
