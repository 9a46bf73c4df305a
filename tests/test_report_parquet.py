"""``results.parquet`` written with pyarrow alone holds the table pandas wrote before (same
column types and values), and ``gridsim report`` does not import pandas."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gridsim.experiments.report_output import _write_parquet

ROWS = [
    {"ints": 1, "ints_missing": 3, "floats": 1.5, "mixed_num": 1, "text": "a", "bools": True,
     "bool_missing": True, "none": None, "mixed": 1, "nan": float("nan"), "lists": [1, 2],
     "unicode": "网格"},
    {"ints": -2, "ints_missing": None, "floats": 2.0, "mixed_num": 2.25, "text": None,
     "bools": False, "bool_missing": None, "none": None, "mixed": "x", "nan": 0.5,
     "lists": None, "unicode": "é"},
    {"ints": 2**40, "ints_missing": 7, "floats": -0.0, "mixed_num": None, "text": "c,d",
     "bools": True, "bool_missing": False, "none": None, "mixed": True, "nan": None,
     "lists": {"k": 1}, "unicode": ""},
]
COLUMNS = list(ROWS[0])


def _as_pandas_wrote_it(rows: list[dict], columns: list[str], path: Path) -> None:
    """What gridsim's report did before: a DataFrame, object columns as text, to_parquet."""
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)
    for c in frame.columns:
        if frame[c].dtype == object:
            frame[c] = frame[c].map(lambda v: None if v is None else str(v))
    frame.to_parquet(path, index=False)


def _same(a: pa.Table, b: pa.Table) -> None:
    assert a.schema.remove_metadata() == b.schema.remove_metadata()
    for name in a.column_names:
        left, right = a[name].to_pylist(), b[name].to_pylist()
        for x, y in zip(left, right, strict=True):
            if isinstance(x, float) and math.isnan(x):
                assert isinstance(y, float) and math.isnan(y), name
            else:
                assert x == y and type(x) is type(y), (name, x, y)


def test_the_table_is_the_one_pandas_wrote(tmp_path: Path) -> None:
    _as_pandas_wrote_it(ROWS, COLUMNS, tmp_path / "pandas.parquet")
    _write_parquet(ROWS, COLUMNS, tmp_path / "arrow.parquet")
    before = pq.read_table(tmp_path / "pandas.parquet")
    after = pq.read_table(tmp_path / "arrow.parquet")
    _same(before, after)
    types = {f.name: str(f.type) for f in after.schema}
    assert types["ints"] == "int64" and types["bools"] == "bool" and types["none"] == "null"
    assert types["ints_missing"] == types["mixed_num"] == "double"
    assert after["nan"].to_pylist() == [None, 0.5, None]  # NaN and missing alike are null
    assert after["mixed"].to_pylist() == ["1", "x", "True"]


def test_no_rows(tmp_path: Path) -> None:
    _as_pandas_wrote_it([], ["a", "b"], tmp_path / "pandas.parquet")
    _write_parquet([], ["a", "b"], tmp_path / "arrow.parquet")
    _same(pq.read_table(tmp_path / "pandas.parquet"), pq.read_table(tmp_path / "arrow.parquet"))


def test_writing_it_does_not_import_pandas(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; "
            "from gridsim.experiments.report_output import _write_parquet; "
            "_write_parquet([{'a': 1, 'b': 'x', 'c': None}], ['a', 'b', 'c'], "
            f"Path({str(tmp_path / 'x.parquet')!r})); "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
    assert pq.read_table(tmp_path / "x.parquet").to_pylist() == [{"a": 1, "b": "x", "c": None}]
