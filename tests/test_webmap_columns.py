"""The run's map reads the per-grid table in memory (gridsim.output.webmap._result_columns) as if
each value had been written as text and read back (_cell, then _columns, the way of a run folder
read back): numbers straight to arrays, everything else through the texts. Checked against that
text round trip on hand-made columns of every kind a column may hold."""

from __future__ import annotations

import math

import numpy as np

from gridsim.output.webmap import _cell, _columns, _result_columns


def _through_text(names: list[str], cols: list) -> tuple:
    """The definition: each value as its text (a text as it is), then read back."""
    return _columns(names, [[v if isinstance(v, str) else _cell(v) for v in c] for c in cols])


def _same(a: tuple, b: tuple) -> None:
    (num_a, txt_a), (num_b, txt_b) = a, b
    assert [n for n, _ in num_a] == [n for n, _ in num_b]
    for (_, va), (_, vb) in zip(num_a, num_b, strict=True):
        assert va.dtype == vb.dtype == np.float64
        assert np.array_equal(va, vb, equal_nan=True)
    assert txt_a == txt_b


def test_every_kind_of_column_reads_as_its_text_round_trip() -> None:
    cols = [
        range(4),                                   # grid: a place column, left out
        [0, 1, 2**60 + 1, -7],                      # ints (one past 2**53: rounded alike)
        [0.1, 1e-7, 123456789.123456789, -0.0],     # floats, their shortest repr read back
        [math.nan, math.inf, -math.inf, 2.5],       # not finite: empty cells, NaN
        [1, 2.5, 3, math.nan],                      # ints and floats mixed
        ["urban", "rural", "urban", "x"],           # names
        ["1", "2.5", "", "3"],                      # numbers as texts: numeric when read back
        [True, False, True, False],                 # bools: "True"/"False", a text column
        [1.0, True, 2.0, 3.0],                      # a bool among floats: text, as written
        [None, 1.0, 2.0, 3.0],                      # None: "None", a text column
        [np.float64(0.5), np.int64(3), 1.0, 2.0],   # numpy scalars: through their texts
        ["nan", "inf", "1", "2"],                   # texts float() reads
    ]
    names = ["grid"] + [f"c{k}" for k in range(1, len(cols))]
    _same(_result_columns(names, cols), _through_text(names, cols))


def test_an_empty_table() -> None:
    names = ["grid", "a", "b"]
    cols: list = [range(0), [], []]
    _same(_result_columns(names, cols), _through_text(names, cols))
