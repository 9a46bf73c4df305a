"""A single run's report.html (gridsim.output.run_report): written beside the run's files when
figures are on, its headline numbers the summary's, its figures embedded and decoded in headless
chromium, the map beside it; listed among the run's result files (a run without figures writes no
page: tests/test_webmap.py).
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pytest

from gridsim.engine.simulation import simulate
from gridsim.output.figures import FIGURES
from gridsim.output.files import write_outputs
from gridsim.output.run_folder import result_file_names
from gridsim.output.run_report import REPORT_FILE, RUN_PAGE_FILES
from gridsim.output.webmap import GRID_MODES_FILE, MAP_FILE
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run through its first rainstorm warning (at 29 h), figures on."""
    s = settings_for("scenario=small", "duration_h=31", "output.progress=false")
    out = tmp_path_factory.mktemp("report") / "run"
    write_outputs(simulate(s), out, "test")
    return out


def test_report_holds_the_summary_figures_map_and_files(folder: Path) -> None:
    """The headline cards carry the summary's values as the terminal table formats them; every
    figure of the folder is embedded with the same bytes; the map is framed; the file table
    links the run's data files."""
    text = (folder / REPORT_FILE).read_text(encoding="utf-8")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    cards = dict(re.findall(r'data-key="([^"]+)"><div class="v">([^<]*)</div>', text))
    assert html.unescape(cards["incidents"]) == str(summary["incidents"])
    assert html.unescape(cards["within_5min_share"]) == f"{summary['within_5min_share']:.1%}"
    assert html.unescape(cards["deaths"]) == str(summary["deaths"])
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert [base64.b64decode(e) for e in embedded] == \
        [(folder / n).read_bytes() for n in FIGURES]
    assert f'src="{MAP_FILE}"' in text and (folder / MAP_FILE).is_file()
    for name in ("grids.csv", "incidents.csv", "summary.json", GRID_MODES_FILE):
        assert f'href="{name}"' in text
    assert str(folder) not in text  # no absolute path in a run's files
    assert set(RUN_PAGE_FILES) <= result_file_names()


def test_report_in_chromium(folder: Path, tmp_path: Path) -> None:
    """The report loads without a console error, each figure decoded (a natural width), and its
    Chinese drawn with the bundled font."""
    from tests.browser import Page  # only this test drives the browser (skips without it)

    with Page(folder / REPORT_FILE, tmp_path / "profile") as pg:
        pg.wait_until("document.readyState === 'complete'")
        images = pg.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth])")
        assert len(images) == len(FIGURES) and all(ok and w > 100 for ok, w in images)
        assert pg.evaluate("document.fonts.check('16px \"gridsim CJK\"', '运行报告')")
        assert pg.evaluate("document.querySelectorAll('.card').length") >= 10
        shot = pg.screenshot(tmp_path / "report.png")
        assert pg.errors == []
    assert shot.stat().st_size > 10_000

