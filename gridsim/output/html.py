"""HTML pages gridsim writes (报告网页): one page skeleton and the bundled CJK font, inline.

A report is opened on machines that have no CJK font at all (a planner's laptop abroad, a
headless browser in CI). The page therefore carries gridsim's own subset font
(:data:`gridsim.output.cjk.FONT_FILE`) as an inline ``@font-face`` (base64, no file beside the
page, no network) limited to the CJK ranges, first in every text's font stack: gridsim's Chinese
comes from the subset, Latin text from the Latin families after it, and other Chinese (a user's
own names) from a CJK font of the machine if it has one.

:func:`page` is the one skeleton of gridsim's HTML pages (the experiment report, a single run's
report, the interactive map): UTF-8, the font, a readable width, collapsible tables.
"""

from __future__ import annotations

import base64
import functools
import html

from gridsim.output.cjk import FONT_FILE

__all__ = ["FONT_FAMILY", "FONT_STACK", "UNICODE_RANGE", "font_face_css", "page"]

#: The family name the page's ``@font-face`` declares for the bundled subset.
FONT_FAMILY = "gridsim CJK"

#: The page's font stack: the bundled subset first, but only for CJK characters (its
#: ``unicode-range``), so that Latin text falls through to the Latin families; then CJK fonts of
#: the machine for Chinese the subset lacks (a user's own names). (With the subset after a
#: Latin family, headless Chromium drew gridsim's Chinese as boxes: it did not fall back to it.)
FONT_STACK = (f'"{FONT_FAMILY}", "DejaVu Sans", "Helvetica Neue", Arial, "Noto Sans CJK SC", '
              '"Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif')

#: The CJK ranges of :mod:`gridsim.output.cjk`: ideographs, CJK punctuation, full-width forms.
UNICODE_RANGE = ("U+2E80-2FFF, U+3000-303F, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, "
                 "U+FE30-FE4F, U+FF00-FFEF")

_BASE_CSS = f"""body{{font-family:{FONT_STACK};max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}}
table{{border-collapse:collapse;font-size:90%}}td,th{{border:1px solid #ccc;padding:2px 6px}}
th{{background:#f3f3f3}}img{{max-width:100%}}figure{{margin:1em 0}}
details>summary{{cursor:pointer;font-weight:600;margin:.5em 0}}
"""


@functools.cache
def font_face_css() -> str:
    """An ``@font-face`` rule carrying the bundled CJK subset inline (base64 TrueType)."""
    data = base64.b64encode(FONT_FILE.read_bytes()).decode("ascii")
    return (f'@font-face{{font-family:"{FONT_FAMILY}";'
            f'src:url(data:font/ttf;base64,{data}) format("truetype");'
            f"unicode-range:{UNICODE_RANGE};"
            "font-weight:normal;font-style:normal;font-display:block}")


def page(title: str, body: str, *, css: str = "", head: str = "", lang: str = "en") -> str:
    """A whole HTML document: ``title`` (escaped here), ``body`` (HTML, as it is), extra
    ``css`` and ``head`` elements; the bundled font and the base style come with it."""
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title>\n"
            f"<style>{font_face_css()}\n{_BASE_CSS}{css}</style>{head}</head>\n"
            f"<body>\n{body}\n</body></html>\n")
