"""gridsim.csvtext: the column-at-a-time formatting gives exactly the text of the cell format
(``repr(round(v, 6))`` for a float, empty for NaN/inf, ``1``/``0`` for a bool, ``str`` else),
written here independently of the module, cell by cell with the csv module."""

from __future__ import annotations

import csv
import io
import math
import random

import numpy as np
import pytest

from gridsim.csvtext import csv_cell, csv_column, csv_columns, csv_text


def _cell(v: object) -> str:
    """The documented cell format."""
    if isinstance(v, bool | np.bool_):
        return "1" if v else "0"
    if isinstance(v, float | np.floating):
        return repr(round(float(v), 6)) if math.isfinite(v) else ""
    return str(v)


def _reference(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([_cell(v) for v in row])
    return buf.getvalue()


def _floats() -> list[float]:
    rng = random.Random(10)
    out = [rng.uniform(-1, 1) * 10.0 ** e for e in range(-12, 13) for _ in range(2000)]
    out += [k / 2 ** m for m in range(1, 30) for k in range(-40, 40)]  # exact binary ties
    out += [round(rng.uniform(-1e4, 1e4), rng.randrange(9)) for _ in range(20000)]
    out += [i * 0.1 for i in range(-3000, 3000)] + [float(i) for i in range(-500, 500)]
    out += [0.0, -0.0, -1e-7, 4e-7, 5e-7, 9.9995e-5, 1e-4, 1.00005e-4, 0.00012, 999999998.9999999,
            999999999.0, 1e9, 123456789.1234565, 1e15, 1e16, 1e300, 1e-320, 5e-324,
            math.nan, math.inf, -math.inf, 0.0078125, 2.5e-6, 1.0000005]
    return out


def test_floats_have_the_text_of_repr_round_6() -> None:
    floats = _floats()
    assert csv_column(floats) == [_cell(v) for v in floats]
    # the same values as numpy scalars (float64 and float32) and as an array
    arr = np.array(floats)
    assert csv_column(list(arr)) == [_cell(v) for v in floats]
    f32 = list(arr[~(np.abs(arr) > 1e38)].astype(np.float32))  # NaN kept
    assert csv_column(f32) == [_cell(v) for v in f32]
    assert csv_column(arr) == [_cell(v) for v in floats]


@pytest.mark.parametrize("column", [
    [True, False, True], [np.True_, np.False_], [1, 2, -3, 10**20], ["a", "b,c", 'q"', "x\ny", ""],
    [np.int64(3), np.int32(-4)], [None, None], [1, "a"], [1, 2.5, True, None, "x", math.nan],
    [np.str_("z"), "y"], [1.5, np.float64(2.25)], [],
])
def test_every_kind_of_column(column: list) -> None:
    assert csv_column(column) == [_cell(v) for v in column]
    assert csv_column(column) == [csv_cell(v) for v in column]


def test_tables_by_rows_and_by_columns_give_the_reference_bytes() -> None:
    rng = random.Random(3)
    header = ("t", "event", "grid", "ok", "share", "note", "mixed")
    rows = [(rng.uniform(0, 3e5), rng.choice(["occurred", "notified"]), rng.randrange(18176),
             rng.random() < 0.5, rng.choice([math.nan, rng.random()]),
             rng.choice(["", "a, b", 'say "hi"', "c\rd", "e\nf", "plain"]),
             rng.choice([1, 2.0, None, "s"]))
            for _ in range(3000)]
    expected = _reference(header, rows)
    assert csv_text(header, rows) == expected
    assert csv_text(header, iter(rows)) == expected
    assert csv_columns(header, [list(c) for c in zip(*rows, strict=True)]) == expected
    assert csv_text(header, []) == ",".join(header) + "\n"
    # a single empty cell is quoted by the csv module (a blank line would be no row)
    assert csv_text(("a",), [("",)]) == _reference(("a",), [("",)]) == 'a\n""\n'


def test_ragged_tables_are_refused() -> None:
    with pytest.raises(ValueError):
        csv_text(("a", "b"), [(1, 2), (3,)])
    with pytest.raises(ValueError):
        csv_columns(("a", "b"), [[1, 2], [3]])
    with pytest.raises(ValueError):
        csv_columns(("a", "b"), [[1, 2]])
