"""CSV text of gridsim's result tables: one cell format for every file a run writes.

A float is written as ``repr(round(v, 6))`` (a NaN or an infinity as an empty cell), a bool as
``1``/``0``, anything else with ``str``; lines end with ``\\n``. The same rows therefore give the
same bytes on every machine.

This module sits below every layer of gridsim (it imports nothing of gridsim), so the run's
files (:mod:`gridsim.output.files`) and the evacuation's (:mod:`gridsim.evacuation.output`)
share it without importing each other.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["csv_cell", "csv_text"]


def csv_cell(v: Any) -> str:
    """One cell's text."""
    t = type(v)  # the common plain types first (hundreds of thousands of cells at city scale)
    if t is str:
        return v
    if t is int:
        return str(v)
    if t is float:
        return repr(round(v, 6)) if math.isfinite(v) else ""
    if isinstance(v, bool | np.bool_):
        return "1" if v else "0"
    if isinstance(v, float | np.floating):
        if not math.isfinite(v):
            return ""
        return repr(round(float(v), 6))
    return str(v)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The CSV text of ``header`` and ``rows``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
    return buf.getvalue()
