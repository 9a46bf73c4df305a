"""Rebuild gridsim's bundled CJK font: a subset of WenQuanYi Micro Hei (文泉驿微米黑) with every
CJK character of gridsim's own text.

    apt-get download fonts-wqy-microhei && dpkg-deb -x fonts-wqy-microhei_*.deb wqy
    python scripts/subset_cjk_font.py wqy/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

Run it when tests/test_cjk.py says a character is missing. Needs fontTools (a dependency of
matplotlib). The output is gridsim/output/cjk_font/wqy-microhei-gridsim.ttf; its licence notice is
gridsim/output/cjk_font/NOTICE.txt (Apache-2.0, as the font).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gridsim.output.cjk import FONT_FILE, cjk_chars, own_text  # noqa: E402

#: Added to the font's names.
SUFFIX = "gridsim subset"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(argv[0])
    chars = cjk_chars(own_text(ROOT))
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the family name and the licence strings
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # figures are drawn at 110 dpi by Agg, which does not need hints
    font = (TTCollection(str(source)).fonts[0] if source.suffix.lower() == ".ttc"
            else subset.load_font(str(source), options))
    sub = subset.Subsetter(options)
    sub.populate(text="".join(sorted(chars)))
    sub.subset(font)
    font.recalcTimestamp = False  # keep the source's date: the same input gives the same bytes
    # a name of its own, so that it cannot shadow a full WenQuanYi Micro Hei on the machine
    # (which then still draws a user's own Chinese text: gridsim.output.cjk)
    names = font["name"]
    for rec in list(names.names):
        if rec.nameID in (1, 3, 4, 16):
            rec.string = f"{rec.toUnicode()} {SUFFIX}"
        elif rec.nameID == 6:
            rec.string = f"{rec.toUnicode()}-{SUFFIX.replace(' ', '')}"
    FONT_FILE.parent.mkdir(parents=True, exist_ok=True)
    tmp = FONT_FILE.with_name(FONT_FILE.name + ".part")
    font.save(str(tmp))
    tmp.replace(FONT_FILE)
    print(f"{FONT_FILE.relative_to(ROOT)}: {len(chars)} CJK characters, "
          f"{FONT_FILE.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
