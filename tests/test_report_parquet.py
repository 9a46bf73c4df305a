"""``results.parquet`` written with pyarrow alone holds the table pandas would write (same
column types and values), swept numbers as numbers and no error as null; ``results_long.parquet``
holds one row per run and metric; ``gridsim report`` does not import pandas."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gridsim.experiments.tables import long_rows, typed_rows, typed_value, write_tables
from gridsim.experiments.tables import write_parquet as _write_parquet

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
            "from gridsim.experiments.tables import write_tables; "
            "write_tables([{'run': 'r', 'a': 1, 'b': 'x', 'c': None}], ['run', 'a', 'b', 'c'], "
            f"[], Path({str(tmp_path)!r})); "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
    assert pq.read_table(tmp_path / "results.parquet").to_pylist() == [
        {"run": "r", "a": 1, "b": "x", "c": None}]
    assert pq.read_table(tmp_path / "results_long.parquet").to_pylist() == [
        {"run": "r", "variant": None, "replication": None, "seed": None, "metric": "a",
         "value": 1.0}]


# what collect_runs gives the report: swept values as the overrides' text, no error as ''
RUNS = [
    {"run": "g=1,r=0", "variant": "g=1, scale=0.5, scenario=small", "param.g": "1",
     "param.scale": "0.5", "param.scenario": "small", "param.flag": "true", "seed": 7,
     "replication": 0, "status": "done", "wall_s": 1.5, "error": "", "incidents": 4,
     "within_5min_share": 0.25, "scenario": "small", "evacuation.cleared_s": 600.0},
    {"run": "g=2,r=0", "variant": "g=2, scale=1e1, scenario=district", "param.g": "2",
     "param.scale": "1e1", "param.scenario": "district", "param.flag": "False", "seed": 8,
     "replication": 1, "status": "failed", "wall_s": 0.5, "error": "ValueError: x"},
]
PARAMS = ["param.g", "param.scale", "param.scenario", "param.flag"]
COLS = ["run", "variant", *PARAMS, "seed", "replication", "status", "wall_s", "error",
        "evacuation.cleared_s", "incidents", "scenario", "within_5min_share"]


def test_override_values_read_as_hydras_grammar_reads_them() -> None:
    assert [typed_value(t) for t in ("2", "-3", "0.5", "1e3", ".5", "inf", "TRUE", "false",
                                     "null", "small", "'2'", "[1,2]", "1.2.3")] == [
        2, -3, 0.5, 1000.0, 0.5, float("inf"), True, False, None, "small", "'2'", "[1,2]",
        "1.2.3"]


def test_results_parquet_keeps_swept_numbers_as_numbers_and_no_error_as_null(
        tmp_path: Path) -> None:
    written = write_tables(RUNS, COLS, PARAMS, tmp_path)
    assert written == [tmp_path / "results_long.parquet"]
    table = pq.read_table(tmp_path / "results.parquet")
    types = {f.name: str(f.type) for f in table.schema}
    assert types["param.g"] == "int64" and types["param.scale"] == "double"
    assert types["param.flag"] == "bool" and types["param.scenario"] == "large_string"
    assert table["param.g"].to_pylist() == [1, 2]
    assert table["param.scale"].to_pylist() == [0.5, 10.0]
    assert table["param.flag"].to_pylist() == [True, False]
    assert table["error"].to_pylist() == [None, "ValueError: x"]
    assert table.column_names == COLS
    # the rows given are left as they were (results.csv is written from them)
    assert RUNS[0]["param.g"] == "1" and RUNS[0]["error"] == ""
    assert typed_rows(RUNS, ["param.scenario"])[0]["param.scenario"] == "small"


def test_the_long_table_has_one_row_per_run_and_numeric_metric(tmp_path: Path) -> None:
    write_tables(RUNS, COLS, PARAMS, tmp_path)
    table = pq.read_table(tmp_path / "results_long.parquet")
    assert table.column_names == ["run", "variant", "replication", "seed", "metric", "value"]
    assert str(table.schema.field("value").type) == "double"
    # the failed run has no metric: three rows of the first run, in the columns' order
    assert table.to_pylist() == [
        {"run": "g=1,r=0", "variant": RUNS[0]["variant"], "replication": 0, "seed": 7,
         "metric": m, "value": v}
        for m, v in (("evacuation.cleared_s", 600.0), ("incidents", 4.0),
                     ("within_5min_share", 0.25))]
    assert long_rows([], COLS, PARAMS) == []
    write_tables([], COLS, PARAMS, tmp_path)
    empty = pq.read_table(tmp_path / "results_long.parquet")
    assert empty.num_rows == 0 and str(empty.schema.field("value").type) == "double"
