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

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import ROOT, DevTools, chromium, open_page

from gridsim.app import cli
from gridsim.experiments.report import build_report


def check_page(html: Path, profile: Path, variants: int, figures: int,
               browser: DevTools | None = None) -> dict[str, Any]:
    """Open the page (in ``browser``'s new tab, if given); check it loads without errors, shows
    every figure and has one row per variant; its state."""
    state, errors = open_page(html, profile, browser)
    assert not errors, f"{html}: console errors: {errors}"
    assert len(state["images"]) == figures, state
    for i, img in enumerate(state["images"]):
        assert img["complete"] and img["w"] > 0, f"{html}: figure {i} not decoded: {img}"
        assert img["shown"] > 0, f"{html}: figure {i} not shown: {img}"
    assert state["variantRows"] == variants, state
    return state


FONT_STATE = """(async () => {
  await document.fonts.ready;
  const el = document.querySelector(".headlines .zh");
  const text = el.textContent;
  // its Chinese alone: digits and brackets come from the Latin families of the stack
  const han = text.replace(/[^\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/g, "");
  const ctx = document.createElement("canvas").getContext("2d");
  const width = font => { ctx.font = font; return ctx.measureText(han).width; };
  return {
    text, han,
    loaded: [...document.fonts].filter(f => f.family.replace(/"/g, "") === "gridsim CJK"
                                          && f.status === "loaded").length,
    check: document.fonts.check('16px "gridsim CJK"', han),
    page: width("16px " + getComputedStyle(el).fontFamily),
    cjk: width('16px "gridsim CJK"'),
    fallback: width("16px sans-serif"),
  };
})()"""


@pytest.mark.slow  # about 9 s: a report with its figures and map, then the browser
def test_html_report_draws_its_chinese_with_the_bundled_font_and_shows_every_figure(
        tmp_path: Path) -> None:
    """One page, in one browser: no console error, every figure shown, one row per variant
    named in plain words, the headline's Chinese drawn in the inline "gridsim CJK" font (its
    width in the page's font stack is its width in that font alone, not the fallback's: boxes
    or another font), and a screenshot that is not blank."""
    import json

    import numpy as np
    from browser import PAGE_STATE, Page
    from PIL import Image
    from test_report import make_sweep  # hand-made runs of known numbers

    chromium()
    sweep = make_sweep(tmp_path / "sweep")
    assert cli.main(["report", str(sweep), "--out", str(tmp_path / "report")]) == 0
    rep = build_report(sweep)
    figures = len(list((tmp_path / "report" / "figures").glob("*.png")))
    assert figures == 3
    with Page(tmp_path / "report" / "report.html", tmp_path / "profile") as pg:
        state = json.loads(pg.evaluate(PAGE_STATE))
        fonts = pg.evaluate(FONT_STATE, await_promise=True)
        shot = pg.screenshot(tmp_path / "report.png")
        assert not pg.errors, pg.errors
    assert len(state["images"]) == figures and all(
        i["complete"] and i["w"] > 0 and i["shown"] > 0 for i in state["images"]), state
    assert state["variantRows"] == len(rep.variants)
    assert state["variantCells"] == [f"{n} grid worker{'s' if n > 1 else ''} per grid "
                                     f"每网格{n}名网格员" for n in (1, 2, 4)]
    assert "每网格4名网格员相比每网格1名网格员" in fonts["text"]
    assert fonts["loaded"] >= 1 and fonts["check"], fonts
    assert fonts["page"] == fonts["cjk"] != fonts["fallback"], fonts
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape[0] > 100 and pixels.std() > 10  # drawn, not blank
    assert len(np.unique(pixels)) > 50  # text anti-aliased: many grey levels


COMMITTED = sorted((ROOT / "reports").glob("*/report.html"))


@pytest.fixture(scope="module")
def shared_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    """One chromium for the committed reports (its start is most of a page's cost)."""
    browser = DevTools(chromium(), tmp_path_factory.mktemp("browser") / "profile")
    yield browser
    browser.close()


@pytest.mark.parametrize("html", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_committed_reference_report_loads_in_the_browser(html: Path, tmp_path: Path,
                                                         shared_browser: DevTools) -> None:
    import pandas as pd

    variants = pd.read_csv(html.parent / "statistics.csv")["variant"].nunique()
    figures = len(list((html.parent / "figures").glob("*.png")))
    check_page(html, tmp_path / "profile", variants=variants, figures=figures,
               browser=shared_browser)


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
