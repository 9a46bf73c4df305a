"""The offline interactive map (gridsim.output.webmap): its data from a small run's folder, the
mode timeline it reads (grid_modes.csv, checked against the event log and grids.csv), a page
with no network reference, and the page itself in headless chromium (drawn, the slider moves
a switched grid's colour, the metric select changes the legend, hover names the grid).
"""

from __future__ import annotations

import csv
import math
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gridsim.engine.simulation import simulate
from gridsim.model.vocab import MODES
from gridsim.output.files import write_outputs
from gridsim.output.webmap import (
    GRID_MODES_FILE,
    MODE_COLOURS,
    map_from_result,
    map_from_run,
    write_map,
)
from tests.conftest import settings_for

#: The moves the switch may make (gridsim/engine/switch.py's docstring): a hold moves PEACE or
#: RECOVERY to ALERT, readiness ALERT to FORWARD_COMMAND, the last release ALERT or
#: FORWARD_COMMAND to RECOVERY, and ``recovery_h`` later RECOVERY goes back to PEACE.
_LEGAL = {("PEACE", "ALERT"), ("RECOVERY", "ALERT"), ("ALERT", "FORWARD_COMMAND"),
          ("ALERT", "RECOVERY"), ("FORWARD_COMMAND", "RECOVERY"), ("RECOVERY", "PEACE")}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    """A small run through its first rainstorm warning (the warning comes at 29 h), files
    written without figures; ``(result, folder)``."""
    s = settings_for("scenario=small", "duration_h=36", "output.figures=false",
                     "output.progress=false")
    result = simulate(s)
    folder = tmp_path_factory.mktemp("webmap") / "run"
    write_outputs(result, folder, "test")
    return result, folder


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_grid_modes_are_the_logged_changes_and_end_in_each_grids_final_mode(run) -> None:
    """grid_modes.csv holds exactly the mode changes of events.csv, in time order; every grid's
    changes are moves the switch can make, starting from PEACE, and its last mode is the
    ``mode_at_end`` of grids.csv."""
    _, folder = run
    modes = _rows(folder / GRID_MODES_FILE)
    logged = [(r["grid"], r["time_s"], r["event"][len("mode_"):].upper())
              for r in _rows(folder / "events.csv") if r["event"].startswith("mode_")]
    assert len(modes) > 0  # the warning switched grids
    assert [(r["grid"], r["t_s"], r["mode"]) for r in modes] == logged
    times = [float(r["t_s"]) for r in modes]
    assert times == sorted(times)
    last = {r["grid"]: r["mode_at_end"] for r in _rows(folder / "grids.csv")}
    now = dict.fromkeys(last, "PEACE")
    for r in modes:
        assert (now[r["grid"]], r["mode"]) in _LEGAL, r
        now[r["grid"]] = r["mode"]
    assert now == last
    # without figures: the timeline, but no page (gridsim.output.run_report)
    assert not (folder / "report.html").exists() and not (folder / "map.html").exists()


def test_the_timeline_is_the_switchs_record_with_or_without_the_log(run, tmp_path: Path) -> None:
    """The switch's record of the mode changes (RunResult.mode_changes) is the event log's
    ``mode_*`` rows, in time order (how grid_modes.csv was read from the log before); the same
    run with ``output.events_log=false`` writes a grid_modes.csv of the same bytes, and its
    results are the same bytes too (the record draws nothing)."""
    result, folder = run
    code = {f"mode_{m.lower()}": i for i, m in enumerate(MODES)}
    logged = sorted(((t, g, code[e]) for t, e, g, _, _ in result.ctx.log.rows if e in code),
                    key=lambda r: r[0])
    g, t, m = result.mode_changes
    assert len(logged) > 0 and list(zip(t.tolist(), g.tolist(), m.tolist(), strict=True)) == logged
    assert (g.dtype, t.dtype, m.dtype) == (np.int64, np.float64, np.int8)
    off = replace(result.settings, output=replace(result.settings.output, events_log=False))
    quiet = simulate(off)
    assert not quiet.ctx.log.enabled and quiet.ctx.log.rows == []
    write_outputs(quiet, tmp_path / "off", "test")
    assert not (tmp_path / "off" / "events.csv").exists()
    for name in (GRID_MODES_FILE, "summary.json", "grids.csv", "incidents.csv"):
        assert (tmp_path / "off" / name).read_bytes() == (folder / name).read_bytes(), name
    data = map_from_run(tmp_path / "off")
    assert data is not None and data.changes is not None and not data.notes


def test_map_from_run_reads_the_folder(run, tmp_path: Path) -> None:
    """The map's grids, values and changes are the folder's; the outlines are grids.geojson's
    polygons, or squares of each grid's area (shoelace area = area_km2) without that file;
    None without grids.csv."""
    result, folder = run
    grids = _rows(folder / "grids.csv")
    data = map_from_run(folder)
    assert data is not None and data.n == len(grids) == result.scenario.region.grids.n
    assert data.lonlat and data.source.startswith("grids.geojson")
    numeric = dict(data.numeric)
    assert {"population", "within_5min_share", "switch_episodes"} <= set(numeric)
    assert numeric["population"].tolist() == [float(r["population"]) for r in grids]
    assert dict(data.text)["kind"] == tuple(r["kind"] for r in grids)
    assert data.changes is not None and len(data.changes[0]) == len(_rows(folder / GRID_MODES_FILE))
    assert data.duration_s == 36 * 3600.0

    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(folder / "grids.csv", bare / "grids.csv")
    squares = map_from_run(bare)
    assert squares is not None and not squares.lonlat and squares.changes is None
    assert squares.notes  # says that the timeline is missing
    for i in (0, len(grids) - 1):
        r0, r1 = squares.grid_rings[i], squares.grid_rings[i + 1]
        ring = squares.xy[squares.ring_offsets[r0]:squares.ring_offsets[r1]]
        x, y = ring[:, 0], ring[:, 1]
        shoelace = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        assert math.isclose(shoelace, float(grids[i]["area_km2"]) * 1e6, rel_tol=1e-9)
        assert math.isclose(float(x.mean()), float(grids[i]["x_m"]), abs_tol=1e-6)
    assert map_from_run(tmp_path / "nothing") is None


def test_map_from_result_agrees_with_the_folder(run) -> None:
    result, folder = run
    mem, disk = map_from_result(result), map_from_run(folder)
    assert disk is not None and mem.changes is not None and disk.changes is not None
    assert [k for k, _ in mem.numeric] == [k for k, _ in disk.numeric]
    for (k, a), (_, b) in zip(mem.numeric, disk.numeric, strict=True):
        # grids.csv keeps 6 decimals
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=5.1e-7, equal_nan=True, err_msg=k)
    np.testing.assert_array_equal(mem.changes[0], disk.changes[0])
    np.testing.assert_array_equal(mem.changes[2], disk.changes[2])


def test_page_is_offline_and_byte_identical(run, tmp_path: Path) -> None:
    """No http(s) or protocol-relative reference anywhere in the page (the script, the font
    and the data are inline); the same data give the same bytes."""
    _, folder = run
    data = map_from_run(folder)
    assert data is not None
    a = write_map(data, tmp_path / "a.html", title="map 网格地图")
    b = write_map(data, tmp_path / "b.html", title="map 网格地图")
    text = a.read_text(encoding="utf-8")
    assert a.read_bytes() == b.read_bytes()
    assert not re.search(r"https?:", text, re.IGNORECASE)
    assert not re.search(r"""(src|href)\s*=\s*["']?//""", text, re.IGNORECASE)
    assert "<canvas" in text and "gridsim-map-data" in text


def test_map_in_chromium(run, tmp_path: Path) -> None:
    """The page in headless chromium: no console error; the canvas draws; moving the slider
    over the first change of a switched grid changes that grid's colour from peace's to its new
    mode's; choosing a metric changes the legend; hovering a grid names it; a screenshot is
    not blank."""
    from tests.browser import Page  # only this test drives the browser (skips without it)

    _, folder = run
    data = map_from_run(folder)
    assert data is not None and data.changes is not None
    page = write_map(data, tmp_path / "map.html", title="map 网格地图")
    g, t, m = (int(data.changes[0][0]), float(data.changes[1][0]), int(data.changes[2][0]))
    with Page(page, tmp_path / "profile", width=1000, height=700) as pg:
        assert pg.wait_until("window.gridsimMap && window.gridsimMap.ready")
        assert pg.evaluate("gridsimMap.n") == data.n
        drawn = pg.evaluate("""(() => {const c = document.getElementById('gm-canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let k = 0; for (let i = 0; i < d.length; i += 4)
              if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) k++;
            return k / (d.length / 4);})()""")
        assert drawn > 0.05

        def slide(value: int) -> str:
            return pg.evaluate(f"""(() => {{const s = document.getElementById('gm-slider');
                s.value = '{value}'; s.dispatchEvent(new Event('input'));
                return gridsimMap.fillOf({g});}})()""")

        dur = data.duration_s
        before = math.floor(1000 * t / dur) - 1  # a slider step before the change
        after = math.ceil(1000 * t / dur)  # the first step at or after it
        assert slide(0) == MODE_COLOURS["PEACE"]
        assert slide(before) == MODE_COLOURS["PEACE"]
        assert slide(after) == MODE_COLOURS[MODES[m]]
        assert pg.evaluate(f"gridsimMap.modeOf({g})") == MODES[m]

        legend_modes = pg.evaluate("gridsimMap.legend()")
        pg.evaluate("""(() => {const s = document.getElementById('gm-metric');
            s.value = String(gridsimMap.metrics.indexOf('population'));
            s.dispatchEvent(new Event('change'));})()""")
        legend_pop = pg.evaluate("gridsimMap.legend()")
        assert legend_pop != legend_modes and "population 人口" in legend_pop
        assert "peace 平时" in legend_modes

        x, y = pg.evaluate(f"gridsimMap.centreOf({g})")
        tip = pg.evaluate(f"""(() => {{const c = document.getElementById('gm-canvas');
            const r = c.getBoundingClientRect();
            c.dispatchEvent(new MouseEvent('mousemove', {{clientX: r.left + {x},
                                                          clientY: r.top + {y}}}));
            return document.getElementById('gm-tip').textContent;}})()""")
        assert f"grid 网格 {int(data.grid[g])}" in tip
        shot = pg.screenshot(tmp_path / "map.png")
        assert pg.errors == []
    from PIL import Image  # matplotlib's own dependency, for the screenshot's colours

    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20
