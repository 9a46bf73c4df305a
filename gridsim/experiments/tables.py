"""The report's Parquet tables, typed for pandas, polars or DuckDB, written with pyarrow alone.

* ``results.parquet``: one row per run, the columns of ``results.csv``. Swept values are
  numbers where every run's value is one (``scenario.people.grid_workers_per_grid=2`` gives
  the integer 2, ``hazard.rate_scale=1.5`` the float 1.5, ``true``/``false`` booleans, as
  Hydra's override grammar reads them), text otherwise (``scenario=small``); a run without an
  error has ``error`` null, not ``''``. ``results.csv`` is written as before.
* ``results_long.parquet``: one row per run and metric (``run, variant, replication, seed,
  metric, value``; ``value`` a double): every numeric metric of the runs' summaries (nested
  ones as ``a.b``, as ``gridsim report`` flattens them); a metric a run lacks (a failed run)
  has no row.

The arrays are made from their buffers: ``pyarrow.array`` imports pandas (to ask whether its
input is a pandas object), which costs ``gridsim report`` about a second of CPU.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.fsutil import atomic_target

__all__ = ["LONG_COLUMNS", "RUN_COLUMNS", "arrow_column", "long_rows", "typed_rows",
           "typed_value", "write_parquet", "write_tables"]

#: The columns of ``results.csv`` that describe a run rather than measure it.
RUN_COLUMNS = ("run", "variant", "seed", "replication", "status", "wall_s", "error")
#: The columns of ``results_long.parquet``.
LONG_COLUMNS = ("run", "variant", "replication", "seed", "metric", "value")

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|nan)",
                    re.IGNORECASE)


def typed_value(text: str) -> Any:
    """An override's value as Hydra's grammar reads an unquoted literal: ``2`` -> 2, ``1.5``
    and ``1e3`` -> float, ``true``/``false`` (any case) -> bool, ``null`` -> None; anything
    else (a name, a list, a quoted string) the text itself."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    return text


def _typed_column(values: list[Any]) -> list[Any]:
    """A swept column's values typed when every value present reads as a number (or every
    one as a boolean); else as they were."""
    if not all(v is None or isinstance(v, str) for v in values):
        return values
    typed = [None if v is None else typed_value(v) for v in values]
    present = [t for t in typed if t is not None]
    if not present:
        return values
    numbers = all(isinstance(t, int | float) and not isinstance(t, bool) for t in present)
    booleans = all(isinstance(t, bool) for t in present)
    return typed if numbers or booleans else values


def typed_rows(rows: Sequence[dict[str, Any]], params: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``results.csv`` as ``results.parquet`` holds them: the columns ``params``
    (the swept keys) typed (:func:`_typed_column`), ``error`` None where empty. New dicts: the
    rows given are left as they are."""
    out = [dict(r) for r in rows]
    for key in params:
        column = _typed_column([r.get(key) for r in rows])
        for r, v in zip(out, column, strict=True):
            if key in r:
                r[key] = v
    for r in out:
        if r.get("error") == "":
            r["error"] = None
    return out


def long_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str],
              params: Sequence[str]) -> list[dict[str, Any]]:
    """``results_long.parquet``'s rows: one per run and numeric metric (a column of
    ``columns`` that is neither a run's description nor a swept key, whose values are numbers
    or missing), in the order of the runs, then of ``columns``."""
    skip = set(RUN_COLUMNS) | set(params)
    metrics = [c for c in columns if c not in skip and all(
        r.get(c) is None or (isinstance(r.get(c), int | float)
                             and not isinstance(r.get(c), bool)) for r in rows)
        and any(r.get(c) is not None for r in rows)]
    out: list[dict[str, Any]] = []
    for r in rows:
        for m in metrics:
            v = r.get(m)
            if v is None:
                continue
            out.append({"run": r.get("run"), "variant": r.get("variant"),
                        "replication": r.get("replication"), "seed": r.get("seed"),
                        "metric": m, "value": float(v)})
    return out


def _validity(valid: list[bool]) -> Any:
    """An Arrow validity bitmap (None when every value is there)."""
    import pyarrow as pa  # start-up time: pyarrow only for the Parquet table

    if all(valid):
        return None
    return pa.py_buffer(np.packbits(np.array(valid, dtype=bool), bitorder="little").tobytes())


def arrow_column(values: list[Any], kind: str | None = None) -> Any:
    """One column of a Parquet table, typed as pandas types a DataFrame's column: all ints
    int64; numbers with a missing value or a float double (NaN and missing as null); all bools
    bool; nothing but missing values null; anything else text (``str(v)``, missing as null).
    ``kind="double"`` makes it a double column whatever its values (``value`` of the long
    table, also when it has no row)."""
    import pyarrow as pa  # start-up time: pyarrow only for the Parquet table

    n = len(values)
    present = [v for v in values if v is not None]
    if not present and kind != "double":
        return pa.nulls(n)
    arr: Any = None
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if len(present) == n and n and all(type(v) is bool for v in present):
        bits = np.packbits(np.array(values, dtype=bool), bitorder="little")
        arr = pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits.tobytes())])
    elif numeric:
        if kind != "double" and len(present) == n and all(
                isinstance(v, int) for v in present) and all(-2**63 <= v < 2**63
                                                             for v in present):
            data = np.array(values, dtype="<i8")
            arr = pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(data.tobytes())])
        else:
            floats = [None if v is None else float(v) for v in values]
            valid = [f is not None and not math.isnan(f) for f in floats]
            data = np.array([f if ok else 0.0 for f, ok in zip(floats, valid, strict=True)],
                            dtype="<f8")
            arr = pa.Array.from_buffers(pa.float64(), n,
                                        [_validity(valid), pa.py_buffer(data.tobytes())])
    if arr is None:
        texts = [None if v is None else str(v).encode("utf-8") for v in values]
        offsets = np.cumsum([0] + [len(t) if t is not None else 0 for t in texts], dtype="<i8")
        arr = pa.Array.from_buffers(
            pa.large_string(), n,
            [_validity([t is not None for t in texts]), pa.py_buffer(offsets.tobytes()),
             pa.py_buffer(b"".join(t for t in texts if t is not None))])
    arr.validate(full=True)
    return arr


def write_parquet(rows: Sequence[dict[str, Any]], columns: Sequence[str], path: Path,
                  kinds: dict[str, str] | None = None) -> None:
    """The rows in ``columns``, one type per column (:func:`arrow_column`; ``kinds``: a
    column's kind when it must not depend on its values), written atomically with pyarrow
    (Snappy compression, as pandas writes it)."""
    import pyarrow as pa  # start-up time: pyarrow only for the Parquet table
    import pyarrow.parquet as pq  # ... and its Parquet writer

    kinds = kinds or {}
    table = pa.Table.from_arrays([arrow_column([r.get(c) for r in rows], kinds.get(c))
                                  for c in columns], names=list(columns))
    with atomic_target(path) as tmp:
        pq.write_table(table, tmp, compression="snappy")


def write_tables(rows: Sequence[dict[str, Any]], columns: Sequence[str],
                 params: Sequence[str], out: Path) -> list[Path]:
    """Write ``results.parquet`` (:func:`typed_rows`) and ``results_long.parquet``
    (:func:`long_rows`) into ``out``; returns the files written beside ``results.parquet``
    (which the report lists with ``results.csv``)."""
    write_parquet(typed_rows(rows, params), columns, out / "results.parquet")
    long_path = out / "results_long.parquet"
    write_parquet(long_rows(rows, columns, params), LONG_COLUMNS, long_path,
                  kinds={"value": "double"})
    return [long_path]
