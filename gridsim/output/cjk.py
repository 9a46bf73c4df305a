"""Chinese beside English in figures (图中中英对照): the bundled CJK font and bilingual labels.

Matplotlib's default font, DejaVu Sans, has no Chinese glyphs, and a fresh machine often has no
CJK font at all. gridsim therefore ships ``cjk_font/wqy-microhei-gridsim.ttf``: a subset of
WenQuanYi Micro Hei 文泉驿微米黑 (Apache-2.0, see ``cjk_font/NOTICE.txt``) holding every CJK
character of gridsim's own text, that is, the vocabulary, labels and drill actions in
``gridsim/``, ``conf/`` and ``scenarios/``. Its family is "WenQuanYi Micro Hei gridsim subset",
so that it never stands in for a full copy on the machine. ``scripts/subset_cjk_font.py``
rebuilds it, and ``tests/test_cjk.py`` fails when a new character is not covered.

Before a figure is saved, :func:`apply_fonts` gives each of its texts the family list DejaVu
Sans, then the bundled subset, then a CJK font of the machine if it has one. Matplotlib takes
each glyph from the first family that has it: Latin text comes from DejaVu Sans, gridsim's
Chinese from the subset, and other Chinese (a user's own names) from the machine's font.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib import font_manager
from matplotlib.text import Text

from gridsim.model.vocab import ZH

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FONT_FILE", "SOURCES", "apply_fonts", "bi", "cjk_chars", "font_families", "own_text",
           "zh"]

#: The bundled subset font.
FONT_FILE = Path(__file__).with_name("cjk_font") / "wqy-microhei-gridsim.ttf"

#: CJK ideographs, CJK punctuation and full-width forms: what DejaVu Sans cannot draw.
_CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                  r"\ufe30-\ufe4f\uff00-\uffef]")

#: Families of CJK fonts often installed, tried after the bundled subset (the first found).
_SYSTEM_CJK = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Micro Hei",
               "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "SimHei", "Heiti SC",
               "Arial Unicode MS")


#: Where gridsim's own text lives, in a checkout: what the bundled font must cover.
SOURCES: tuple[str, ...] = ("gridsim/**/*.py", "conf/**/*.yaml", "conf/**/*.yml",
                            "scenarios/**/*.yaml", "experiments/**/*.yaml")


def own_text(root: Path) -> list[str]:
    """The text of every file of :data:`SOURCES` under the checkout ``root``."""
    return [p.read_text(encoding="utf-8")
            for pattern in SOURCES for p in sorted(root.glob(pattern))]


def cjk_chars(texts: Iterable[str]) -> set[str]:
    """The CJK characters in ``texts``."""
    out: set[str] = set()
    for t in texts:
        out.update(_CJK.findall(t))
    return out


def zh(key: str) -> str:
    """The Chinese term of a vocabulary key (:data:`gridsim.model.vocab.ZH`), or ``""``."""
    return ZH.get(key, "")


def bi(en: str, zh_text: str) -> str:
    """``"English 中文"``: a figure label with the Chinese term beside the English one."""
    return f"{en} {zh_text}" if zh_text else en


@functools.cache
def _families() -> tuple[str, ...]:
    """DejaVu Sans, the bundled subset, and a CJK font of the machine if there is one (the
    bundled font is registered with matplotlib's font manager on the first call)."""
    font_manager.fontManager.addfont(str(FONT_FILE))
    bundled = str(font_manager.FontProperties(fname=FONT_FILE).get_name())
    installed = {f.name for f in font_manager.fontManager.ttflist}
    system = [f for f in _SYSTEM_CJK if f in installed][:1]
    return ("DejaVu Sans", bundled, *system)


def font_families() -> list[str]:
    """The family list, for matplotlib's ``font.family`` setting
    (``rc_context({"font.family": font_families()})``): every text made in that context takes
    it, without walking a finished figure (:func:`apply_fonts`, which makes every tick of every
    axis to reach their labels)."""
    return list(_families())


def apply_fonts(fig: Figure) -> None:
    """Give every text of ``fig`` the family list (call before saving: layout happens then)."""
    families = list(_families())
    for text in fig.findobj(Text):
        text.set_fontfamily(families)
