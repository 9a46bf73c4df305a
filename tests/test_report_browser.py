"""The HTML report in a real headless browser (Debian's chromium).

The page is opened through the Chrome DevTools Protocol, spoken over the pipe chromium offers
with ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-terminated JSON): no driver, no
downloaded browser, no Python package beyond the standard library. The test checks that the
page loads with no console error or exception, that every figure is decoded and shown
(``naturalWidth > 0``, laid out with a width), and that the variants table has one row per
variant. It runs on a report made here from hand-made runs, and on every committed reference
report under ``reports/``.

``.ci/run`` installs chromium when it is missing. Without chromium the test is skipped, except
in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import ROOT, chromium, open_page

from gridsim.app import cli
from gridsim.experiments.report import build_report


def check_page(html: Path, profile: Path, variants: int, figures: int) -> dict[str, Any]:
    """Open the page; check it loads without errors, shows every figure and has one row per
    variant; its state."""
    state, errors = open_page(html, profile)
    assert not errors, f"{html}: console errors: {errors}"
    assert len(state["images"]) == figures, state
    for i, img in enumerate(state["images"]):
        assert img["complete"] and img["w"] > 0, f"{html}: figure {i} not decoded: {img}"
        assert img["shown"] > 0, f"{html}: figure {i} not shown: {img}"
    assert state["variantRows"] == variants, state
    return state


def test_html_report_loads_shows_every_figure_and_one_row_per_variant(tmp_path: Path) -> None:
    from test_report import make_sweep  # hand-made runs of known numbers

    chromium()
    sweep = make_sweep(tmp_path / "sweep")
    assert cli.main(["report", str(sweep), "--out", str(tmp_path / "report")]) == 0
    rep = build_report(sweep)
    figures = len(list((tmp_path / "report" / "figures").glob("*.png")))
    assert figures == 3
    state = check_page(tmp_path / "report" / "report.html", tmp_path / "profile",
                       variants=len(rep.variants), figures=figures)
    assert state["variantCells"] == ["1", "2", "4"]  # grid workers per grid


COMMITTED = sorted((ROOT / "reports").glob("*/report.html"))


@pytest.mark.parametrize("html", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_committed_reference_report_loads_in_the_browser(html: Path, tmp_path: Path) -> None:
    import pandas as pd

    chromium()
    variants = pd.read_csv(html.parent / "statistics.csv")["variant"].nunique()
    figures = len(list((html.parent / "figures").glob("*.png")))
    check_page(html, tmp_path / "profile", variants=variants, figures=figures)


def test_the_check_catches_a_broken_page(tmp_path: Path) -> None:
    """A console error, a figure that does not decode and a missing row are all noticed."""
    chromium()
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>'
                    '<body><img src="data:image/png;base64,AAAA"/>'
                    '<table class="variants"><tbody><tr><td>a</td></tr></tbody></table>'
                    '<script>console.error("boom")</script></body></html>', encoding="utf-8")
    state, errors = open_page(page, tmp_path / "profile")
    assert any("boom" in e for e in errors), errors
    assert state["images"][0]["w"] == 0
    with pytest.raises(AssertionError):
        check_page(page, tmp_path / "profile2", variants=2, figures=1)
