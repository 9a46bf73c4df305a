"""CSV text of gridsim's result tables: one cell format for every file a run writes.

A float is written as ``repr(round(v, 6))`` (a NaN or an infinity as an empty cell), a bool as
``1``/``0``, anything else with ``str``; lines end with ``\\n``. The same rows therefore give the
same bytes on every machine.

Tables are formatted a column at a time: a column whose cells are all of one kind (the usual
case: a table's column holds one type) is turned into text by ``map`` over builtins, with no
Python call per cell (the city rainstorm run writes 85,000 rows); a column of mixed kinds goes
through :func:`csv_cell` cell by cell. Both give the text :func:`csv_cell` gives for each cell.

This module sits below every layer of gridsim (it imports nothing of gridsim), so the run's
files (:mod:`gridsim.output.files`) and the evacuation's (:mod:`gridsim.evacuation.output`)
share it without importing each other.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np

__all__ = ["csv_cell", "csv_column", "csv_columns", "csv_text"]

_BOOLS = (bool, np.bool_)
_FLOATS = (float, np.floating)
#: What ``repr(round(v, 6))`` gives for a NaN or an infinity (written as an empty cell).
_NOT_FINITE = frozenset({"nan", "inf", "-inf"})


def csv_cell(v: Any) -> str:
    """One cell's text."""
    t = type(v)  # the common plain types first
    if t is str:
        return v
    if t is int:
        return str(v)
    if t is float:
        return repr(round(v, 6)) if math.isfinite(v) else ""
    if isinstance(v, _BOOLS):
        return "1" if v else "0"
    if isinstance(v, _FLOATS):
        if not math.isfinite(v):
            return ""
        return repr(round(float(v), 6))
    return str(v)


def _float_texts(floats: Sequence[float]) -> list[str]:
    """``csv_cell`` of each of ``floats`` (plain Python floats).

    ``repr(round(v, 6))`` is ``"%.6f" % v`` without its trailing zeros (one kept after the
    point) wherever the rounded value has at most 15 significant digits and no exponent in its
    repr, that is, is 0 or 1e-4 <= |v| < 1e9: both round the exact binary value to 6 decimals
    the same way (correctly, ties to even), and the double nearest such a decimal has that
    decimal as its shortest repr. ``%`` formatting skips the shortest-repr search, which costs
    more than the rounding. The other values (and NaN and infinities) take ``csv_cell``'s way.
    """
    mag = np.abs(np.asarray(floats, dtype=float))
    plain = (mag < 999_999_999.0) & ((mag >= 1.0001e-4) | (mag == 0.0))
    text = list(map(str.rstrip, map("%.6f".__mod__, floats), repeat("0")))
    text = [s + "0" if s[-1] == "." else s for s in text]
    if not plain.all():
        for i in np.flatnonzero(~plain).tolist():
            v = floats[i]
            text[i] = repr(round(v, 6)) if math.isfinite(v) else ""
    return text


#: Characters that make the csv module quote a cell (delimiter, quote, line ends).
_QUOTED = (",", '"', "\n", "\r")


def _cells(values: Iterable[Any]) -> tuple[list[str], bool]:
    """One column's texts (:func:`csv_cell` of each cell) and whether a text may need quoting
    (only text that comes from ``str`` can: numbers and bools never do)."""
    col = values if isinstance(values, list | tuple) else list(values)
    types = set(map(type, col))
    if types == {str}:
        return list(col), True
    if types == {int}:
        return list(map(str, col)), False
    if all(issubclass(t, _FLOATS) and not issubclass(t, _BOOLS) for t in types):
        return _float_texts(col if types == {float} else list(map(float, col))), False
    if all(issubclass(t, _BOOLS) for t in types):
        return ["1" if v else "0" for v in col], False
    if not any(issubclass(t, _BOOLS + _FLOATS) for t in types):
        return list(map(str, col)), True  # str(v) is what csv_cell gives every other type
    return list(map(csv_cell, col)), True  # mixed kinds in one column


def csv_column(values: Iterable[Any]) -> list[str]:
    """The cells' texts of one column: ``[csv_cell(v) for v in values]``, faster."""
    return _cells(values)[0]


def _quoted(texts: list[str]) -> list[str]:
    """``texts`` with each text that needs quoting as :class:`csv.writer` quotes it (the writer
    itself quotes each distinct such text once)."""
    special = [v for v in set(texts) if any(ch in v for ch in _QUOTED)]
    if not special:
        return texts
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    as_written = {}
    for v in special:
        buf.seek(0)
        buf.truncate()
        w.writerow((v,))
        as_written[v] = buf.getvalue()[:-1]
    return list(map(as_written.get, texts, texts))


def _table(header: Sequence[str], columns: list[tuple[list[str], bool]]) -> str:
    """The CSV text of ``header`` and the columns' texts, as :class:`csv.writer` writes them.

    With two columns or more, the lines are joined directly, each cell that needs quoting
    quoted as the writer does; a table of one column goes through the writer (which also
    quotes a row's single empty cell)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    if not columns:
        return buf.getvalue()
    texts = [t for t, _ in columns]
    n = len(texts[0])
    if any(len(t) != n for t in texts):
        raise ValueError(f"columns of {sorted({len(t) for t in texts})} cells in one table")
    if len(texts) == 1:
        w.writerows(zip(texts[0]))
    elif n:
        texts = [_quoted(t) if may_quote else t for t, may_quote in columns]
        buf.write("\n".join(map(",".join, zip(*texts, strict=True))))
        buf.write("\n")
    return buf.getvalue()


def csv_columns(header: Sequence[str], columns: Sequence[Iterable[Any]]) -> str:
    """The CSV text of ``header`` and a table given as its ``columns`` (all the same length,
    one per header name)."""
    if len(columns) != len(header):
        raise ValueError(f"{len(columns)} columns for {len(header)} header names")
    return _table(header, [_cells(c) for c in columns])


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The CSV text of ``header`` and ``rows`` (each as long as the others)."""
    rows = rows if isinstance(rows, list) else list(rows)
    widths = set(map(len, rows))
    if len(widths) > 1:
        raise ValueError(f"rows of {sorted(widths)} cells in one table")
    # the rows' columns (none when there is no row), each pulled out in one pass
    width = max(widths, default=0)
    return _table(header, [_cells(list(map(itemgetter(k), rows))) for k in range(width)])
