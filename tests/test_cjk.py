"""Chinese beside English in figures (gridsim.output.cjk): the bundled font covers gridsim's own
Chinese text, and every figure of a run draws its Chinese terms without a missing glyph."""

from __future__ import annotations

import warnings
from pathlib import Path

from fontTools.ttLib import TTFont
from handmade import settings_for
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from gridsim import __version__
from gridsim.engine.simulation import simulate
from gridsim.output import figures
from gridsim.output.cjk import FONT_FILE, apply_fonts, bi, cjk_chars, own_text, zh
from gridsim.output.files import write_outputs

REPO = Path(__file__).resolve().parents[1]


def test_the_bundled_font_covers_every_chinese_character_of_gridsim() -> None:
    chars = cjk_chars(own_text(REPO))
    assert len(chars) > 300  # the vocabulary, labels and drill actions
    cmap = TTFont(FONT_FILE).getBestCmap()
    missing = sorted(c for c in chars if ord(c) not in cmap)
    assert not missing, (f"the bundled font lacks {''.join(missing)}: rebuild it with "
                         f"scripts/subset_cjk_font.py")


def test_labels_put_the_chinese_term_beside_the_english_one() -> None:
    assert bi("FORWARD_COMMAND", zh("FORWARD_COMMAND")) == "FORWARD_COMMAND 前线指挥部"
    assert bi("no term", zh("not a vocabulary key")) == "no term"


def _draw(text: str, fonts: bool) -> list[str]:
    """Draw ``text`` in a figure (with gridsim's fonts or matplotlib's default) and return
    the warnings that drawing raised."""
    fig = Figure(figsize=(3, 1))
    FigureCanvasAgg(fig)
    fig.subplots().set_title(text)
    if fonts:
        apply_fonts(fig)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    return [str(w.message) for w in caught]


def test_chinese_draws_with_the_bundled_font_and_not_without() -> None:
    text = bi("Grids by mode", "各模式网格数")
    assert not _draw(text, fonts=True)
    # the check above could fail: the default font has none of these glyphs
    assert any("missing from font" in w for w in _draw(text, fonts=False))


def test_the_figures_of_a_run_carry_chinese_terms(monkeypatch, tmp_path: Path) -> None:
    texts: dict[str, list[str]] = {}
    real_save = figures._save

    def spy(fig: Figure, path: Path) -> None:  # every figure of a run is written by _save
        texts[Path(path).name] = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
        real_save(fig, path)

    monkeypatch.setattr(figures, "_save", spy)
    r = simulate(settings_for("output.progress=false", "seed=3"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would raise here
        write_outputs(r, tmp_path, __version__)
    want = {"response_times.png": "响应时间", "modes_over_time.png": "前线指挥部",
            "map_within_5min.png": "五分钟到场率"}
    for name, term in want.items():
        assert any(term in t for t in texts[name]), (name, texts[name])
        assert (tmp_path / name).stat().st_size > 0


def test_figures_are_drawn_with_dejavu_then_the_bundled_font() -> None:
    fig = Figure()
    FigureCanvasAgg(fig)
    fig.subplots().set_title("x")
    apply_fonts(fig)
    families = fig.axes[0].title.get_fontfamily()
    assert families[:2] == ["DejaVu Sans", "WenQuanYi Micro Hei gridsim subset"]

