"""The plan folder that ``gridsim plan`` writes (issue 12's contract).

* ``plan.yaml`` (and ``plan_stock.csv`` / ``plan_moves.csv`` for the stock and storm models):
  the plan itself, by :func:`gridsim.planning.plan_io.write_plan` (``gridsim run plan=DIR``
  applies it);
* ``plan_sites.csv`` (site models): one row per chosen site: ``candidate_id``, ``x_m``,
  ``y_m``, what it holds (one column per ``planning.holds.<sites>`` entry: item units, ``people``
  or ``units``), ``grid`` (from a scenario only: the grid the site stands in),
  ``assigned_weight`` (the demand weight whose nearest open site it is) and ``demand_covered``
  (of that, the weight within ``radius_s``);
* ``plan_sites.geojson``: the same rows as points, in the scenario's coordinates (metres; a
  synthetic scenario's are those of :data:`gridsim.place.folder.export.SYNTHETIC_CRS`, named in
  the collection's ``crs`` member as a scenario export does in its scenario.yaml);
* ``plan_summary.json``: ``model``, ``objective``, ``covered_share``, ``solver``, ``gap``,
  ``iterations`` (optimise-simulate-reweight iterations: 1 for one solve) and ``p``,
  ``radius_s``, ``search_radius_s``, ``sites``, ``department``, ``demand``, ``status``,
  ``bound``, ``solver_iterations`` (branch-and-bound nodes or improving swaps), ``n_open``,
  ``n_demand``, ``n_candidates``, ``n_pairs``, ``scenario``, ``instance``, ``seed``; no
  wall-clock times, so that the same config gives the same bytes (NaN is written as null);
* ``instance/`` (site models): the instance solved (:mod:`gridsim.planning.instance_io`);
* ``iterations/<k>/`` (the simulation-optimisation loop, ``planning.iterations > 1``,
  :mod:`gridsim.planning.loop`): iteration ``k``'s ``plan.yaml``, ``plan_sites.csv`` and
  ``weights.csv`` (``id``, ``weight``: the demand weights it solved with; ``late``, ``unmet``,
  ``short_cny``: the late and unmet incidents per grid over its runs and the value of what its
  own stock lacked, of which the next iteration's weights blend in one, by
  ``planning.reweight_by``).

The folder is built whole in a temporary sibling and renamed into place: a plan folder is
either the old one or the new one, never half of each. An existing folder is replaced only if
it holds nothing but a plan folder's files.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.errors import UserError, os_error
from gridsim.fsutil import PARTIAL_SUFFIX, write_atomic
from gridsim.model.plan import Plan
from gridsim.output.run_folder import check_path_length
from gridsim.planning.instance import Instance
from gridsim.planning.instance_io import INSTANCE_FILES, write_instance

__all__ = ["ITERATIONS_DIR", "PLAN_FOLDER_FILES", "SITES_CSV", "SITES_GEOJSON", "SUMMARY_JSON",
           "IterationFiles", "SiteTable", "check_plan_folder", "site_table", "write_plan_folder"]

SITES_CSV = "plan_sites.csv"
SITES_GEOJSON = "plan_sites.geojson"
SUMMARY_JSON = "plan_summary.json"
INSTANCE_DIR = "instance"
ITERATIONS_DIR = "iterations"
WEIGHTS_CSV = "weights.csv"
#: Every name a plan folder may hold (plan_io's files included).
PLAN_FOLDER_FILES: frozenset[str] = frozenset({
    "plan.yaml", "plan_stock.csv", "plan_moves.csv", SITES_CSV, SITES_GEOJSON, SUMMARY_JSON,
    INSTANCE_DIR, ITERATIONS_DIR})
_TMP_PREFIX = ".plan-tmp-"
_OLD_PREFIX = ".plan-old-"
#: The longest name written in the folder, for the path-length check.
_LONGEST = max((*PLAN_FOLDER_FILES, *INSTANCE_FILES), key=len) + PARTIAL_SUFFIX
#: ... and under iterations/<k>/ (k of up to 4 digits)
_LONGEST_ITERATION = f"{ITERATIONS_DIR}/0000/{SITES_CSV}{PARTIAL_SUFFIX}"


@dataclass(frozen=True)
class SiteTable:
    """The rows of plan_sites.csv: ``columns`` and one list of cells per chosen site."""

    columns: tuple[str, ...]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class IterationFiles:
    """What ``iterations/<k>/`` holds: the plan of iteration ``k``, its sites and the text of
    its ``weights.csv``."""

    k: int
    plan: Plan
    sites: SiteTable
    weights_csv: str


def site_table(instance: Instance, open_: np.ndarray, assign: np.ndarray,
               assign_time_s: np.ndarray, radius_s: float, holds: Sequence[tuple[str, int]],
               grids: Sequence[int] | None) -> SiteTable:
    """The chosen sites ``open_`` (candidate indices) with what they hold and the demand they
    serve; ``grids`` the grid of each chosen site (None: an instance without a scenario)."""
    m = instance.n_candidates
    w = instance.weight
    ok = assign >= 0
    assigned = np.bincount(assign[ok], weights=w[ok], minlength=m)
    near = ok & (assign_time_s <= radius_s)
    covered = np.bincount(assign[near], weights=w[near], minlength=m)
    columns = ("candidate_id", "x_m", "y_m", *(k for k, _ in holds),
               *(("grid",) if grids is not None else ()), "assigned_weight", "demand_covered")
    rows = []
    for k, j in enumerate(np.asarray(open_, dtype=np.int64).tolist()):
        rows.append([instance.candidate_ids[j], float(instance.candidate_xy[j, 0]),
                     float(instance.candidate_xy[j, 1]), *(int(n) for _, n in holds),
                     *((int(grids[k]),) if grids is not None else ()),
                     float(assigned[j]), float(covered[j])])
    return SiteTable(columns=columns, rows=rows)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    text = str(v)
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _sites_csv(table: SiteTable) -> str:
    lines = [",".join(table.columns)] + [",".join(_cell(v) for v in r) for r in table.rows]
    return "\n".join(lines) + "\n"


def _sites_geojson(table: SiteTable, crs: str | None) -> str:
    feats = []
    for r in table.rows:
        props = dict(zip(table.columns, r, strict=True))
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Point", "coordinates": [props["x_m"], props["y_m"]]}})
    doc: dict[str, Any] = {"type": "FeatureCollection", "name": "plan_sites"}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    doc["features"] = feats
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def _plain(v: Any) -> Any:
    """JSON-ready: NaN and infinities as null, numpy scalars as Python numbers."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def summary_text(summary: dict[str, Any]) -> str:
    """plan_summary.json's text (keys in the order given; NaN as null)."""
    return json.dumps(_plain(summary), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# ----------------------------------------------------------------------------------------------
# the folder, whole or not at all
# ----------------------------------------------------------------------------------------------
def _foreign(folder: Path) -> list[str]:
    """The entries of an existing ``folder`` that a plan folder does not hold."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(n for n in names if n not in PLAN_FOLDER_FILES
                  and not n.endswith(PARTIAL_SUFFIX))


def check_plan_folder(folder: Path) -> None:
    """Refuse, before any work, a plan folder that cannot be written: a name too long, a file
    in the way, a place read-only or not ours, or an existing folder holding other files than a
    plan's (replacing it would lose them). One line (:class:`UserError`)."""
    folder = Path(folder)
    check_path_length(folder, reserve=max(len(_LONGEST) + len(INSTANCE_DIR) + 2,
                                           len(_LONGEST_ITERATION) + 1))
    check_path_length(folder.parent / (_TMP_PREFIX + folder.name + "-" + "0" * 12))
    action = "cannot write the plan folder"
    target = Path(os.path.abspath(folder))
    if target.exists():
        if not target.is_dir():
            raise os_error(OSError(errno.EEXIST, "a file is in the way", str(target)), action)
        other = _foreign(target)
        if other:
            shown = ", ".join(other[:5]) + (f" and {len(other) - 5} more" if len(other) > 5
                                            else "")
            raise UserError(f"{action}: {target} exists and holds files that are not a plan "
                            f"folder's ({shown})",
                            hint="choose another --out, or empty the folder")
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise os_error(OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing)), action)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise os_error(OSError(errno.EACCES, os.strerror(errno.EACCES), str(existing)), action)


def write_plan_folder(folder: Path, *, plan: Plan, summary: dict[str, Any],
                      sites: SiteTable | None = None, instance: Instance | None = None,
                      crs: str | None = None,
                      write_plan: Callable[[Plan, Path], list[Path]] | None = None,
                      iterations: Sequence[IterationFiles] = ()) -> list[Path]:
    """Write the plan folder (module docstring) atomically as a whole; the files, as they
    stand in ``folder``. ``write_plan`` writes plan.yaml and its tables (default
    :func:`gridsim.planning.plan_io.write_plan`); ``iterations``: the loop's
    ``iterations/<k>/`` folders."""
    if write_plan is None:
        from gridsim.planning import plan_io  # plan.yaml's writer, on demand (it reads YAML)

        write_plan = plan_io.write_plan
    folder = Path(os.path.abspath(folder))
    tmp = folder.parent / f"{_TMP_PREFIX}{folder.name}-{uuid.uuid4().hex[:12]}"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        written = list(write_plan(plan, tmp))
        if sites is not None:
            written.append(write_atomic(tmp / SITES_CSV, _sites_csv(sites)))
            written.append(write_atomic(tmp / SITES_GEOJSON, _sites_geojson(sites, crs)))
        if instance is not None:
            written += write_instance(instance, tmp / INSTANCE_DIR)
        for it in iterations:
            sub = tmp / ITERATIONS_DIR / str(it.k)
            sub.mkdir(parents=True)
            written += list(write_plan(it.plan, sub))
            written.append(write_atomic(sub / SITES_CSV, _sites_csv(it.sites)))
            written.append(write_atomic(sub / WEIGHTS_CSV, it.weights_csv))
        written.append(write_atomic(tmp / SUMMARY_JSON, summary_text(summary)))
        _swap(tmp, folder)
    except OSError as exc:
        if exc.filename is None:
            exc = OSError(exc.errno, exc.strerror, str(folder))
        raise os_error(exc, "cannot write the plan folder") from None
    except UserError as exc:  # plan_io's own report of a file-system problem
        exc.lines[0] = exc.lines[0].replace(str(tmp), str(folder))
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [folder / p.relative_to(tmp) for p in map(Path, written)]


def _swap(tmp: Path, folder: Path) -> None:
    """Put the finished ``tmp`` where ``folder`` is (an old plan folder goes, whole)."""
    if not folder.exists():
        os.rename(tmp, folder)
        return
    old = folder.parent / f"{_OLD_PREFIX}{folder.name}-{uuid.uuid4().hex[:12]}"
    os.rename(folder, old)
    try:
        os.rename(tmp, folder)
    except OSError:
        os.rename(old, folder)  # put the old plan back
        raise
    shutil.rmtree(old, ignore_errors=True)
