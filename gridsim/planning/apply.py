"""A plan applied to a scenario (``gridsim run plan=DIR``): its sites and stock change the place.

:func:`apply_plan` returns a changed copy of the scenario (:func:`dataclasses.replace`; a
:class:`~gridsim.place.scenario.Scenario` is immutable and shared by the runs of a process,
so it is never modified). Exactly what the plan names changes; everything else is the
scenario's, the same arrays:

* ``sites.kind == "supply_points"``: a new supply point (a hub) in each chosen grid, added to
  the grid's own: its stock becomes the scenario's plus the units ``holds`` gives for each
  item it names (items it does not name keep the scenario's stock), so a hub never lowers a
  grid's stock (a plan that should set levels exactly names them in ``stock``). The run's
  ledger (:class:`gridsim.engine.supplies.SupplyLedger`) starts from these
  levels, and they are also the targets the grid reorders back up to from its depot. Such a
  hub serves its neighbours through borrowing: an incident short of an item takes it from the
  grids within the mutual-aid radius (``response.dispatch.mutual_aid_radius_s``, 300 s by road
  by default), nearest first (the run's near times, :class:`~gridsim.place.roads.NearTimes`,
  each row sorted by time), before it fetches from the township depot. A hub farther than that
  radius from a grid is not reached by it: plan supply points with ``planning.radius_s`` at
  most the mutual-aid radius for them to count.
* ``"stations"``: a new station of ``sites.department`` in each chosen grid, with
  ``holds.units`` vehicles, after the scenario's stations (their ids are unchanged). The
  nearest-station tables (:func:`gridsim.place.roads.station_times`) are built again for the
  changed stations, so dispatch finds the new ones like any other.
* ``"posts"``: a standby duty post (值守点) in each chosen grid, with ``holds.people`` duty
  members added to that grid's roster, after its own people. A duty member is on duty at the
  post: they live at the grid's centre (the post), never work away, hold the ``grid_worker``
  role (callable in peacetime, with a grid worker's mobilisation delay) and serve every
  standby category (a duty team answers whatever comes, as the on-site commanders do). They
  are people of the grid like any other: dispatched to its incidents and its neighbours'
  within the mutual-aid radius, assembling at its forward command post when it switches. The
  other people keep their order (person ids after the grid shift by the members added), and
  their keyed draws (:func:`gridsim.engine.switch.person_keys`: home grid, leading role, rank)
  are unchanged, so the other members' draws stay as they were (common random numbers).
* ``stock``: each level sets exactly that (grid or township depot, item), after the sites.

Moves (``plan.moves``) do not change the place: the engine carries them out during the run
(:mod:`gridsim.engine.moves`), from the plan :func:`planned_scenario` returns beside the
scenario.

A run applies the plan once per process: :func:`planned_scenario` keeps the applied scenario
per (content digest of the plan's files, scenario object), so replications reuse it, and a
plan whose files change is read again. A plan that names what the scenario lacks
(:func:`check_plan`) is refused with one :class:`~gridsim.errors.UserError` listing every
problem, before the run starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

from gridsim.errors import UserError, os_error
from gridsim.fsutil import file_sha256
from gridsim.model.people import ALL_CATEGORIES, Roster, role_bit
from gridsim.model.plan import Plan
from gridsim.model.stations import Stations
from gridsim.model.supplies import SupplyPoints
from gridsim.model.vocab import DEPARTMENTS, SUPPLY_ITEMS
from gridsim.place.roads import station_times
from gridsim.place.scenario import Scenario
from gridsim.planning.plan_io import check_plan, plan_files, read_plan

__all__ = ["DUTY_ROLE", "PLAN_CACHE", "apply_plan", "check_plan", "plan_digest",
           "planned_scenario"]

#: The role of a duty post's members (see the module docstring).
DUTY_ROLE = "grid_worker"
#: Applied scenarios kept per process (the most recently used).
PLAN_CACHE = 4


def _readonly(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.setflags(write=False)


def _supplies(plan: Plan, sp: SupplyPoints) -> SupplyPoints:
    s = plan.sites
    hub = s is not None and s.kind == "supply_points" and bool(s.grids) and bool(s.holds)
    if not hub and not plan.stock:
        return sp
    grid = np.array(sp.grid_stock, dtype=sp.grid_stock.dtype, copy=True)
    depot = np.array(sp.depot_stock, dtype=sp.depot_stock.dtype, copy=True)
    if hub:
        assert s is not None
        rows = np.asarray(s.grids, dtype=np.int64)
        for item, units in s.holds:  # added to the grid's own (the grids are distinct)
            grid[rows, SUPPLY_ITEMS.index(item)] += units
    for lv in plan.stock:
        (grid if lv.site == "grid" else depot)[lv.id, SUPPLY_ITEMS.index(lv.item)] = lv.units
    _readonly(grid, depot)
    return dataclasses.replace(sp, grid_stock=grid, depot_stock=depot)


def _stations(plan: Plan, st: Stations) -> Stations | None:
    s = plan.sites
    if s is None or s.kind != "stations" or not s.grids:
        return None
    k = len(s.grids)
    units = dict(s.holds)["units"]
    dept = np.concatenate([st.department, np.full(k, DEPARTMENTS.index(s.department))]
                          ).astype(st.department.dtype)
    grid = np.concatenate([st.grid, np.asarray(s.grids)]).astype(st.grid.dtype)
    n_units = np.concatenate([st.units, np.full(k, units)]).astype(st.units.dtype)
    _readonly(dept, grid, n_units)
    return Stations(department=dept, grid=grid, units=n_units)


def _roster(plan: Plan, scenario: Scenario) -> Roster:
    r = scenario.roster
    s = plan.sites
    if s is None or s.kind != "posts" or not s.grids:
        return r
    per = dict(s.holds)["people"]
    if per == 0:
        return r
    new_grid = np.repeat(np.asarray(s.grids, dtype=np.int64), per)
    gx, gy = scenario.region.grids.x_m, scenario.region.grids.y_m
    grid = np.concatenate([r.grid, new_grid.astype(r.grid.dtype)])
    # stable: each grid's own people first, in their order, then its duty members
    order = np.argsort(grid, kind="stable")
    m = len(new_grid)

    def joined(old: np.ndarray, new: np.ndarray) -> np.ndarray:
        return np.concatenate([old, new.astype(old.dtype)])[order]

    counts = np.bincount(grid, minlength=scenario.n_grids)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(r.by_grid_indptr.dtype)
    return Roster(grid=grid[order],
                  roles=joined(r.roles, np.full(m, role_bit(DUTY_ROLE))),
                  categories=joined(r.categories, np.full(m, ALL_CATEGORIES)),
                  x_m=joined(r.x_m, gx[new_grid]), y_m=joined(r.y_m, gy[new_grid]),
                  away_in_work_hours=joined(r.away_in_work_hours, np.zeros(m, dtype=bool)),
                  by_grid_indptr=indptr)


def apply_plan(plan: Plan, scenario: Scenario) -> Scenario:
    """``scenario`` with ``plan``'s sites and stock (see the module docstring), a changed copy;
    ``scenario`` itself when the plan changes nothing of the place (no sites, no stock).
    Raises :class:`UserError` listing what the plan names that the scenario lacks."""
    _refuse(check_plan(plan, scenario))
    supplies = _supplies(plan, scenario.supplies)
    stations = _stations(plan, scenario.stations)
    roster = _roster(plan, scenario)
    if supplies is scenario.supplies and stations is None and roster is scenario.roster:
        return scenario
    changes: dict[str, object] = {"supplies": supplies, "roster": roster,
                                  # the duty members stand by at their posts: the place's
                                  # own people still hunt its hazards (Scenario.peace_roster)
                                  "peace_roster": scenario.peacetime_roster,
                                  # its own memo: a copy of the scenario's tables (each entry
                                  # checks the parts it was made from), so that what the runs
                                  # of the changed place add is not shared with the original
                                  "memo": dict(scenario.memo)}
    if stations is not None:
        times = station_times(scenario.roads, stations.grid, stations.department,
                              len(DEPARTMENTS), k=scenario.station_times.k)
        _readonly(times.station, times.time_s, times.department, times.node,
                  times.component_size)
        changes["stations"] = stations
        changes["station_times"] = times
    return dataclasses.replace(scenario, **changes)  # type: ignore[arg-type]


def _refuse(problems: list[str], where: str = "") -> None:
    if problems:
        head = f"the plan{' ' + where if where else ''} does not fit the scenario"
        err = UserError(head)
        err.lines = [head + ":", *problems]
        raise err


def plan_digest(path: Path | str) -> str:
    """SHA-256 over the content of the plan's files (:func:`plan_files`), a missing file
    hashed as missing."""
    h = hashlib.sha256()
    for f in plan_files(path):
        try:
            d = file_sha256(f)
        except OSError as exc:
            raise os_error(exc, "plan: cannot read") from None
        h.update(f"{f.name}\0{d or 'missing'}\0".encode())
    return h.hexdigest()


#: (plan digest, id of the scenario) -> (the scenario, the plan, the applied scenario)
_APPLIED: OrderedDict[tuple[str, int], tuple[Scenario, Plan, Scenario]] = OrderedDict()


def planned_scenario(path: Path | str, scenario: Scenario) -> tuple[Scenario, Plan]:
    """The plan of ``path`` (a plan folder or its plan.yaml, :func:`read_plan`) and
    ``scenario`` with it applied, checked first (a :class:`UserError` lists every problem).
    Kept per (content digest of the plan's files, scenario object) for the runs of this
    process (:data:`PLAN_CACHE` of them); a scenario that is already the plan's applied one
    (a run's second pass) is returned as it is."""
    digest = plan_digest(path)
    for (d, _), (_, plan, applied) in _APPLIED.items():
        if d == digest and applied is scenario:
            return scenario, plan
    key = (digest, id(scenario))
    got = _APPLIED.get(key)
    if got is not None and got[0] is scenario:
        _APPLIED.move_to_end(key)
        return got[2], got[1]
    plan = read_plan(path)
    _refuse(check_plan(plan, scenario), f"{path}")
    applied = apply_plan(plan, scenario)
    _APPLIED[key] = (scenario, plan, applied)  # the scenario is held: its id is not reused
    while len(_APPLIED) > PLAN_CACHE:
        _APPLIED.popitem(last=False)
    return applied, plan
