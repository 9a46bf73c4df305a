"""Site-model instances from a scenario: demand points, their weights, candidate sites, and the
road travel times between them as sparse pairs (:class:`~gridsim.planning.instance.Instance`).

* **Demand points** are the scenario's grids, at their centres (``Grids.x_m``, ``y_m``), with
  ids ``"0"``, ``"1"``, ... (the grid indices). Their weights (``planning.demand``):

  - ``residents``: the grid's population;
  - ``exposures``: the grid's expected incidents per day at base rates, summed over the
    catalogue's hazard types (:func:`gridsim.model.rates.base_rates_per_day` times
    ``hazard.rate_scale``: the base of a run's rate field, before weather and warnings);
  - a run folder or a sweep folder (every run folder under it whose manifest says ``done``):
    the grid's **late** incidents (answered, but the first responder on scene more than five
    minutes after the notice: the complement of ``within_5min_share``,
    :data:`gridsim.output.metrics.FIVE_MINUTES_S`) plus its **unmet** ones (no responder on
    scene by the end of the run), summed over the runs' ``incidents.csv``.

* **Candidates** are the grids too (a chosen candidate's grid is ``int(candidate_id)``), all of
  them (``planning.candidates=0``) or the ``planning.candidates`` grids of largest weight (ties
  by index). Each costs 1 (LSCP then opens the fewest sites). A candidate whose road node is
  missing or has no link to another node is refused (:class:`UserError` naming the ids).

* **Pairs**: the road driving time of every (demand, candidate) pair within the search radius,
  ``planning.search_radius_s`` or, when it is 0, ``planning.radius_s`` for LSCP and MCLP and
  four times it for p-median and p-center (which assign every demand point to an open site).
  With every grid a candidate they come from :func:`gridsim.place.roads.near_travel_times`
  (grid-to-grid Dijkstra with a search limit, cell by cell: linear in the city, never a dense
  table); with fewer, from the same bounded search run from the candidates only
  (:func:`candidate_times`). Both at the roads' own speeds (times the departments' speed
  factor for ``planning.sites=stations``). The road graph is undirected, so the time from a
  candidate to a demand point is the time back.
"""

from __future__ import annotations

import csv
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csgraph

from gridsim.errors import UserError
from gridsim.model.params import RunConfig
from gridsim.model.rates import base_rates_per_day, unit_rates_per_day
from gridsim.output.metrics import FIVE_MINUTES_S
from gridsim.output.run_folder import MANIFEST, read_manifest
from gridsim.place.roads import (
    cell_groups,
    disc_dijkstra,
    near_travel_times,
    seconds_per_metre,
)
from gridsim.place.scenario import Scenario
from gridsim.planning.instance import Instance

__all__ = ["DEMAND_KINDS", "IncidentCounts", "candidate_grids", "candidate_times", "demand_weights",
           "from_scenario", "incident_counts", "late_or_unmet", "off_network", "run_folders",
           "search_radius"]

#: The named demand weights; any other ``planning.demand`` is a run or sweep folder.
DEMAND_KINDS: tuple[str, ...] = ("residents", "exposures")
#: The search radius of p-median and p-center, as a multiple of ``planning.radius_s``
#: (``planning.search_radius_s=0``) [assumed].
ASSIGN_RADIUS_FACTOR = 4.0
#: How many ids an error names.
SHOWN = 10

Progress = Callable[[str], None]


def _named(ids: list[int] | list[str]) -> str:
    shown = ", ".join(str(i) for i in ids[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def search_radius(settings: RunConfig) -> float:
    """The travel time within which pairs are kept (see the module docstring)."""
    pc = settings.planning
    if pc.search_radius_s > 0:
        return float(pc.search_radius_s)
    if pc.model in ("pmedian", "pcenter"):
        return float(pc.radius_s) * ASSIGN_RADIUS_FACTOR
    return float(pc.radius_s)


# ----------------------------------------------------------------------------------------------
# demand weights
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IncidentCounts:
    """Late and unmet incidents per grid over the runs of a folder."""

    late: np.ndarray  # int64 [n_grids]
    unmet: np.ndarray  # int64 [n_grids]
    runs: tuple[Path, ...]  # the run folders read, sorted


def run_folders(folder: Path) -> list[Path]:
    """The finished run folders of ``folder``: itself, if its manifest says ``done``, or every
    folder under it whose manifest does (a sweep), sorted. UserError if there is none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"planning.demand: {folder} is neither residents, exposures nor a folder",
                        hint="give residents, exposures or a run or sweep folder of gridsim run")
    found = [m.parent for m in sorted(folder.rglob(MANIFEST))]
    done = [f for f in found if (read_manifest(f) or {}).get("status") == "done"]
    if not done:
        what = (f"{len(found)} run folder(s), none finished" if found else "no run folders")
        raise UserError(f"planning.demand: {folder} holds {what} ({MANIFEST} with status done)",
                        hint="run the simulation first (gridsim run or gridsim experiment), "
                             "then plan from its folder")
    return done


def _float_cell(path: Path, line: int, column: str, text: str) -> float:
    """A float of incidents.csv: an empty cell is not finite (csvtext writes inf and NaN so)."""
    if text == "":
        return math.inf
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{path}: line {line}, column {column}: expected a number, "
                        f"got {text!r}") from None


def _grid_count(run: Path) -> int:
    path = run / "grids.csv"
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return max(sum(1 for _ in csv.reader(fh)) - 1, 0)
    except OSError as exc:
        raise UserError(f"planning.demand: cannot read {path} ({exc.strerror})",
                        hint="the run folder is incomplete: run it again") from None


def incident_counts(folder: Path, n_grids: int) -> IncidentCounts:
    """The late and unmet incidents per grid of the finished runs in ``folder`` (a run or a sweep
    folder). A run of another scenario (its grids.csv has another number of grids) or a row
    that does not read is a :class:`UserError` naming the file, line and column."""
    late = np.zeros(n_grids, dtype=np.int64)
    unmet = np.zeros(n_grids, dtype=np.int64)
    runs = run_folders(folder)
    for run in runs:
        n = _grid_count(run)
        if n != n_grids:
            raise UserError(f"planning.demand: the run {run} has {n} grids, the scenario "
                            f"{n_grids}: it is a run of another scenario",
                            hint="plan with the scenario=... of the runs")
        config = (read_manifest(run) or {}).get("config") or {}
        try:
            end_s = float(config["duration_h"]) * 3600.0
        except (KeyError, TypeError, ValueError):
            raise UserError(f"planning.demand: {run / MANIFEST} has no config.duration_h",
                            hint="the run folder is not one of gridsim run: run it again") from None
        path = run / "incidents.csv"
        try:
            fh = open(path, encoding="utf-8", newline="")
        except OSError as exc:
            raise UserError(f"planning.demand: cannot read {path} ({exc.strerror})",
                            hint="the run folder is incomplete: run it again") from None
        with fh:
            reader = csv.DictReader(fh)
            need = ("grid", "notified_s", "first_on_scene_s")
            missing = [c for c in need if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(f"{path}: line 1: missing column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                try:
                    g = int(row["grid"])
                except (TypeError, ValueError):
                    g = -1
                if not 0 <= g < n_grids:
                    raise UserError(f"{path}: line {line}, column grid: expected a grid "
                                    f"0..{n_grids - 1}, got {row['grid']!r}")
                on_scene = _float_cell(path, line, "first_on_scene_s", row["first_on_scene_s"])
                notified = _float_cell(path, line, "notified_s", row["notified_s"])
                kind = late_or_unmet(notified, on_scene, end_s)
                if kind == "unmet":
                    unmet[g] += 1
                elif kind == "late":
                    late[g] += 1
    return IncidentCounts(late=late, unmet=unmet, runs=tuple(runs))


def late_or_unmet(notified_s: float, first_on_scene_s: float, end_s: float) -> str:
    """``"unmet"`` when nobody was on scene by the run's end ``end_s`` (censored), ``"late"``
    when the first responder came more than :data:`~gridsim.output.metrics.FIVE_MINUTES_S`
    after the notice, else ``""``: the rule of the run-folder weights and of the
    simulation-optimisation loop (:mod:`gridsim.planning.loop`). A notice time that is not
    finite (never noticed) is not late."""
    if not (math.isfinite(first_on_scene_s) and first_on_scene_s <= end_s):
        return "unmet"
    if first_on_scene_s - notified_s > FIVE_MINUTES_S:
        return "late"
    return ""


def demand_weights(settings: RunConfig, scenario: Scenario) -> np.ndarray:
    """The weight of every grid as a demand point, by ``planning.demand`` (module docstring)."""
    grids = scenario.region.grids
    demand = str(settings.planning.demand)
    if demand == "residents":
        return grids.population.astype(np.float64)
    if demand == "exposures":
        total = np.zeros(grids.n, dtype=np.float64)
        for hc in settings.catalogue.hazards.values():
            total += base_rates_per_day(unit_rates_per_day(hc), hc.exposure, grids)
        return total * float(settings.hazard.rate_scale)
    counts = incident_counts(Path(demand), grids.n)
    w = (counts.late + counts.unmet).astype(np.float64)
    if not w.any():
        raise UserError(f"planning.demand: the {len(counts.runs)} run(s) under {demand} have no "
                        "late or unmet incidents: every demand weight would be 0",
                        hint="plan by residents or exposures, or from runs of a harder hazard")
    return w


# ----------------------------------------------------------------------------------------------
# candidates and pairs
# ----------------------------------------------------------------------------------------------
def candidate_grids(weight: np.ndarray, n: int) -> np.ndarray:
    """Every grid (``n == 0``) or the ``n`` grids of largest weight, ties by index; sorted."""
    idx = np.arange(len(weight), dtype=np.int64)
    if n <= 0 or n >= len(weight):
        return idx
    order = np.lexsort((idx, -np.asarray(weight, dtype=np.float64)))
    return np.sort(order[:n])


def off_network(scenario: Scenario, grids: np.ndarray) -> list[int]:
    """The grids of ``grids`` whose road node is missing or links to no other node."""
    roads = scenario.roads
    node = np.asarray(roads.grid_node, dtype=np.int64)[grids]
    u, v = np.asarray(roads.edge_u, np.int64), np.asarray(roads.edge_v, np.int64)
    link = u != v
    degree = (np.bincount(u[link], minlength=roads.n_nodes)
              + np.bincount(v[link], minlength=roads.n_nodes))
    valid = (node >= 0) & (node < roads.n_nodes)
    bad = ~valid
    bad[valid] = degree[node[valid]] == 0
    return [int(g) for g in grids[bad]]


def from_scenario(settings: RunConfig, scenario: Scenario, *,
                  progress: Progress | None = None, weight: np.ndarray | None = None
                  ) -> Instance:
    """The instance of ``settings.planning`` on ``scenario`` (see the module docstring);
    ``weight`` (one per grid) instead of ``planning.demand``'s (the loop's reweighted demand,
    :mod:`gridsim.planning.loop`)."""
    say = progress or (lambda msg: None)
    pc = settings.planning
    grids = scenario.region.grids
    if weight is None:
        weight = demand_weights(settings, scenario)
    cands = candidate_grids(weight, int(pc.candidates))
    bad = off_network(scenario, cands)
    if bad:
        raise UserError(f"candidate sites off the road network ({len(bad)}): grids {_named(bad)}",
                        hint="their road node links to no other node: fix the scenario's roads "
                             "or choose fewer candidates (planning.candidates=N)")
    radius = search_radius(settings)
    speed = (float(settings.response.department_speed_factor) if pc.sites == "stations"
             else 1.0)
    say(f"road times within {radius:g} s from {len(cands):,} candidates to {grids.n:,} grids ...")
    if len(cands) == grids.n:  # every grid: the grid-to-grid search of the runs' travel times
        near = near_travel_times(scenario.roads, radius, speed_factor=speed)
        rows = np.repeat(np.arange(grids.n, dtype=np.int64), np.diff(near.indptr))
        c = np.asarray(near.indices, dtype=np.int64)
        t = np.asarray(near.time_s, dtype=np.float64)
    else:
        rows, c, t = candidate_times(scenario, cands, radius, speed, say)
    say(f"  {len(t):,} pairs")
    ids = tuple(str(i) for i in range(grids.n))
    xy = np.column_stack([grids.x_m, grids.y_m]).astype(np.float64)
    return Instance.from_pairs(
        demand_ids=ids, weight=weight, demand_xy=xy,
        candidate_ids=tuple(ids[g] for g in cands), candidate_xy=xy[cands],
        cost=np.ones(len(cands)), demand_index=rows, candidate_index=c, time_s=t,
        radius_s=radius)


def candidate_times(scenario: Scenario, cands: np.ndarray, radius_s: float, speed_factor: float,
                    say: Progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(demand grid, candidate index, time)`` of every grid within ``radius_s`` of a
    candidate grid: Dijkstra with a search limit from the candidates only, cell by cell on the
    subgraph a path of ``radius_s`` can reach at all (as
    :func:`gridsim.place.roads.near_travel_times` does from every grid), so a few candidates
    cost a few searches, each in proportion to its disc; never a candidate × node table.
    Grids sharing a road node all get its time. Progress with the time left on ``say``."""
    roads = scenario.roads
    graph = roads.time_graph(speed_factor)
    gnode = np.asarray(roads.grid_node, dtype=np.int64)
    by_node = np.argsort(gnode, kind="stable")  # the grids of each node, in grid order
    node_first = np.searchsorted(gnode[by_node], np.arange(roads.n_nodes + 1))
    spm = seconds_per_metre(roads, speed_factor)
    reach_m = radius_s / spm if spm > 0 else math.inf
    origin = gnode[cands]
    nx_, ny_ = roads.x_m, roads.y_m
    if math.isfinite(reach_m):
        groups = cell_groups(nx_[origin], ny_[origin], max(reach_m, 1.0))
        from scipy import spatial  # as roads.near_travel_times: scipy.special only here

        tree = spatial.cKDTree(np.column_stack([nx_, ny_]))
    else:  # no geometric bound: the whole network, candidates in chunks
        groups = np.array_split(np.arange(len(cands)), max(1, len(cands) // 256))
        tree = None
    scratch = np.full(roads.n_nodes, -1, dtype=np.int64)
    rows, cols, vals = [], [], []
    start, done, shown = time.monotonic(), 0, 0.0
    for grp in groups:
        if tree is not None:
            sub, d = disc_dijkstra(graph, tree, roads, origin[grp], reach_m, radius_s, scratch)
        else:
            sub = np.arange(roads.n_nodes, dtype=np.int64)
            d = csgraph.dijkstra(graph, directed=True, indices=origin[grp], limit=radius_s)
        r, k = np.nonzero(np.isfinite(d))
        node = sub[k]
        n_at = node_first[node + 1] - node_first[node]  # grids at each reached node
        pos = np.repeat(node_first[node], n_at) + (np.arange(int(n_at.sum()))
                                                   - np.repeat(np.cumsum(n_at) - n_at, n_at))
        rows.append(by_node[pos])
        cols.append(np.repeat(grp[r], n_at))
        vals.append(np.repeat(d[r, k], n_at))
        done += len(grp)
        elapsed = time.monotonic() - start
        if elapsed - shown >= 5.0 and done < len(cands):
            shown = elapsed
            left = elapsed * (len(cands) - done) / done
            say(f"  {done:,}/{len(cands):,} candidates, about {left:.0f} s left")
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    # float32 as near_travel_times stores them: the same pair has the same time either way
    return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
            np.concatenate(vals).astype(np.float32).astype(np.float64))


def stderr_progress(msg: str) -> None:
    """Progress lines on stderr."""
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()
