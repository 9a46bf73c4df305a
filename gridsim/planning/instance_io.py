"""The instance folder: a site-model instance as three CSV files (issue 12's contract), so that
anyone can check a plan's solution, or solve a published benchmark instance with
``gridsim plan planning.instance=<folder>``.

* ``demand.csv``: ``id``, ``weight``, ``x_m``, ``y_m`` (one row per demand point);
* ``candidates.csv``: ``id``, ``x_m``, ``y_m``, ``cost`` (one row per candidate site);
* ``travel.csv``: ``demand_id``, ``candidate_id``, ``travel_time_s``: every pair within the
  largest radius used (pairs absent are farther);
* ``instance.json`` (written by gridsim, optional when read): ``radius_s``, the radius within
  which every pair is present. Without it, the radius of a read instance is the largest travel
  time in ``travel.csv``.

Numbers are written as Python's shortest round-trip text (``repr``), so an instance read back
equals the one written. Reading checks every row and stops at the first problem with one line:
the file, the line, the column and what was expected (a missing column, an empty or duplicate
id, a value that is not a number, negative or not finite, an id of travel.csv that demand.csv
or candidates.csv lacks, a pair listed twice). Other columns are ignored.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gridsim.errors import UserError
from gridsim.fsutil import write_atomic
from gridsim.planning.instance import Instance

__all__ = ["CANDIDATE_COLUMNS", "DEMAND_COLUMNS", "INSTANCE_FILES", "TRAVEL_COLUMNS",
           "read_instance", "write_instance"]

DEMAND_COLUMNS: tuple[str, ...] = ("id", "weight", "x_m", "y_m")
CANDIDATE_COLUMNS: tuple[str, ...] = ("id", "x_m", "y_m", "cost")
TRAVEL_COLUMNS: tuple[str, ...] = ("demand_id", "candidate_id", "travel_time_s")
#: The files of an instance folder, in the order they are written.
INSTANCE_FILES: tuple[str, ...] = ("demand.csv", "candidates.csv", "travel.csv", "instance.json")
_HINT = "see the instance format in docs/planning.md (\"gridsim plan\")"


def _num(v: float) -> str:
    return repr(float(v))


def _csv_text(header: tuple[str, ...], rows: Iterator[tuple[object, ...]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_instance(instance: Instance, folder: Path) -> list[Path]:
    """Write ``instance`` into ``folder`` (created), each file atomically; the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    inst = instance
    d_ids, c_ids = inst.demand_ids, inst.candidate_ids
    demand = _csv_text(DEMAND_COLUMNS, (
        (d_ids[i], _num(inst.weight[i]), _num(inst.demand_xy[i, 0]), _num(inst.demand_xy[i, 1]))
        for i in range(inst.n_demand)))
    cands = _csv_text(CANDIDATE_COLUMNS, (
        (c_ids[j], _num(inst.candidate_xy[j, 0]), _num(inst.candidate_xy[j, 1]),
         _num(inst.cost[j])) for j in range(inst.n_candidates)))
    rows = inst.rows().tolist()
    travel = _csv_text(TRAVEL_COLUMNS, (
        (d_ids[r], c_ids[c], _num(t))
        for r, c, t in zip(rows, inst.cand.tolist(), inst.time_s.tolist(), strict=True)))
    meta = {"radius_s": inst.radius_s if math.isfinite(inst.radius_s) else None,
            "n_demand": inst.n_demand, "n_candidates": inst.n_candidates, "n_pairs": inst.nnz}
    texts = (demand, cands, travel, json.dumps(meta, indent=2) + "\n")
    return [write_atomic(folder / name, text)
            for name, text in zip(INSTANCE_FILES, texts, strict=True)]


# ----------------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------------
def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells of columns)`` of each data row of ``path``."""
    try:
        fh = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        why = "it is missing" if isinstance(exc, FileNotFoundError) else exc.strerror
        raise UserError(f"instance: cannot read {path} ({why})", hint=_HINT) from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise UserError(f"{path}: the file is empty; expected the header "
                            f"{','.join(columns)}", hint=_HINT) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: line 1: does not read as CSV ({exc})", hint=_HINT) from None
        missing = [c for c in columns if c not in header]
        if missing:
            raise UserError(f"{path}: line 1: missing column(s) {', '.join(missing)}; expected "
                            f"{','.join(columns)}", hint=_HINT)
        at = [header.index(c) for c in columns]
        line = 1
        try:
            for cells in reader:
                line = reader.line_num
                if not cells or all(not c.strip() for c in cells):
                    continue
                if len(cells) < len(header):
                    raise UserError(f"{path}: line {line}: {len(cells)} cells, expected "
                                    f"{len(header)} ({','.join(header)})", hint=_HINT)
                yield line, [cells[k].strip() for k in at]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: line {line + 1}: does not read as CSV ({exc})",
                            hint=_HINT) from None


def _number(path: Path, line: int, column: str, text: str, *, nonneg: bool) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise UserError(f"{path}: line {line}, column {column}: expected a finite number, "
                        f"got {text!r}", hint=_HINT)
    if nonneg and v < 0:
        raise UserError(f"{path}: line {line}, column {column}: expected a number >= 0, "
                        f"got {text!r}", hint=_HINT)
    return v


def _points(path: Path, columns: tuple[str, ...], nonneg: tuple[str, ...]
            ) -> tuple[list[str], dict[str, list[float]]]:
    ids: list[str] = []
    seen: dict[str, int] = {}
    values: dict[str, list[float]] = {c: [] for c in columns[1:]}
    for line, cells in _rows(path, columns):
        pid = cells[0]
        if not pid:
            raise UserError(f"{path}: line {line}, column id: empty id", hint=_HINT)
        if pid in seen:
            raise UserError(f"{path}: line {line}, column id: duplicate id {pid!r} (first on "
                            f"line {seen[pid]})", hint=_HINT)
        seen[pid] = line
        ids.append(pid)
        for col, text in zip(columns[1:], cells[1:], strict=True):
            values[col].append(_number(path, line, col, text, nonneg=col in nonneg))
    return ids, values


def _radius(path: Path, largest: float) -> float:
    """The radius of ``instance.json`` if there is one (not below the largest time), else
    ``largest``."""
    if not path.exists():
        return largest
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: does not read as JSON ({exc})",
                        hint="delete it: the radius is then the largest travel time") from None
    r = meta.get("radius_s") if isinstance(meta, dict) else None
    if r is None and isinstance(meta, dict) and "radius_s" in meta:
        return math.inf  # written for an instance of every pair
    if isinstance(r, bool) or not isinstance(r, int | float) or not r >= 0:
        raise UserError(f"{path}: radius_s: expected a number >= 0, got {r!r}",
                        hint="delete it: the radius is then the largest travel time")
    if r < largest:
        raise UserError(f"{path}: radius_s {r:g} is below the largest travel time "
                        f"{largest:g} of travel.csv", hint="fix radius_s or delete the file")
    return float(r)


def read_instance(folder: Path) -> Instance:
    """The instance in ``folder`` (``demand.csv``, ``candidates.csv``, ``travel.csv`` and,
    optionally, ``instance.json``), every row checked (see the module docstring)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"planning.instance: {folder} is not a folder",
                        hint="give a folder holding demand.csv, candidates.csv and travel.csv")
    d_path, c_path, t_path = (folder / n for n in INSTANCE_FILES[:3])
    d_ids, d_val = _points(d_path, DEMAND_COLUMNS, ("weight",))
    c_ids, c_val = _points(c_path, CANDIDATE_COLUMNS, ("cost",))
    if not d_ids:
        raise UserError(f"{d_path}: no demand points", hint=_HINT)
    if not c_ids:
        raise UserError(f"{c_path}: no candidate sites", hint=_HINT)
    d_of = {k: i for i, k in enumerate(d_ids)}
    c_of = {k: j for j, k in enumerate(c_ids)}
    di: list[int] = []
    ci: list[int] = []
    ts: list[float] = []
    seen: dict[tuple[int, int], int] = {}
    for line, (d, c, text) in _rows(t_path, TRAVEL_COLUMNS):
        i = d_of.get(d)
        if i is None:
            raise UserError(f"{t_path}: line {line}, column demand_id: {d!r} is not an id of "
                            f"demand.csv", hint=_HINT)
        j = c_of.get(c)
        if j is None:
            raise UserError(f"{t_path}: line {line}, column candidate_id: {c!r} is not an id of "
                            f"candidates.csv", hint=_HINT)
        if (i, j) in seen:
            raise UserError(f"{t_path}: line {line}: the pair ({d}, {c}) is listed twice (first "
                            f"on line {seen[i, j]})", hint=_HINT)
        seen[i, j] = line
        di.append(i)
        ci.append(j)
        ts.append(_number(t_path, line, "travel_time_s", text, nonneg=True))
    largest = max(ts) if ts else 0.0
    radius = _radius(folder / INSTANCE_FILES[3], largest)
    return Instance.from_pairs(
        demand_ids=d_ids, weight=np.array(d_val["weight"]),
        demand_xy=np.column_stack([d_val["x_m"], d_val["y_m"]]),
        candidate_ids=c_ids, candidate_xy=np.column_stack([c_val["x_m"], c_val["y_m"]]),
        cost=np.array(c_val["cost"]), demand_index=np.array(di, dtype=np.int64),
        candidate_index=np.array(ci, dtype=np.int64), time_s=np.array(ts), radius_s=radius)
