"""What an evacuation leaves behind: per household, helper, shelter and link, and the figures a
planner reads off them (clearance, the evacuation curve, people not sheltered by a deadline,
per-grid clearance, shelter occupancy, bottlenecks, helper workload).

Times are absolute seconds of the run's clock; ``start_s`` is the warning. A household is
*not yet left* before ``depart_s``, *on the way* from then until its tail reaches a shelter
(``sheltered_s``; also when it is stranded), and *sheltered* after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gridsim.evacuation.flow import Closure, FlowRecord
from gridsim.evacuation.network import DOOR, MODE_NAMES, EvacNetwork

if TYPE_CHECKING:
    from gridsim.place.shelters import Shelters

__all__ = ["EvacuationResult", "HelperTable", "HouseholdTable", "summary_keys"]


@dataclass(frozen=True)
class HouseholdTable:
    """Every household (a group that moves together) as arrays: its grid, size, vulnerable
    members, mode (0 walk, 1 drive), when the warning reached it (inf: never) and through which
    channel (index into ``EvacuationResult.channels``), when it left home and reached its
    grid's exit, when it was sheltered (NaN: not by the horizon) and where, the shelter it was
    assigned, how often a full shelter sent it on, whether it was stranded, its time queueing,
    and its helper (row of the helper table, -1 if none)."""

    grid: np.ndarray
    persons: np.ndarray
    vulnerable: np.ndarray
    mode: np.ndarray
    warned_s: np.ndarray
    warned_by: np.ndarray
    depart_s: np.ndarray
    ready_s: np.ndarray
    sheltered_s: np.ndarray
    assigned_shelter: np.ndarray
    shelter: np.ndarray
    redirected: np.ndarray
    stranded: np.ndarray
    wait_s: np.ndarray
    helper: np.ndarray

    @property
    def n(self) -> int:
        return len(self.persons)


@dataclass(frozen=True)
class HelperTable:
    """Everybody who helped vulnerable households: roster person (-1: a responder sent from
    outside), grid, households helped, when they set out and when the last one was at the
    grid's exit."""

    person: np.ndarray
    grid: np.ndarray
    households: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray

    @property
    def n(self) -> int:
        return len(self.person)

    @property
    def busy_s(self) -> np.ndarray:
        return self.end_s - self.start_s


def _r(x: float, nd: int = 3) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


@dataclass(frozen=True)
class EvacuationResult:
    """One evacuation: households, helpers, shelters, the network and its flow record."""

    start_s: float
    deadline_s: float
    horizon_s: float
    grids: np.ndarray
    grid_ready_s: np.ndarray  # per evacuated grid: forward command post ready (NaN: never)
    drills_per_year: np.ndarray  # per evacuated grid
    channels: tuple[str, ...]
    households: HouseholdTable
    helpers: HelperTable
    shelters: Shelters
    network: EvacNetwork
    flow: FlowRecord
    closures: tuple[Closure, ...]

    # -- people ------------------------------------------------------------------------------
    @property
    def population(self) -> int:
        return int(self.households.persons.sum())

    def sheltered_mask(self) -> np.ndarray:
        return np.isfinite(self.households.sheltered_s)

    @property
    def sheltered(self) -> int:
        return int(self.households.persons[self.sheltered_mask()].sum())

    def last_sheltered_s(self) -> float:
        """The time the last person was sheltered (NaN if nobody was)."""
        t = self.households.sheltered_s
        ok = np.isfinite(t)
        return float(t[ok].max()) if ok.any() else math.nan

    def clearance_time_s(self) -> float:
        """Clearance: from the warning to the last person sheltered; NaN if somebody was not
        sheltered by the horizon."""
        if self.sheltered < self.population or self.population == 0:
            return math.nan
        return self.last_sheltered_s() - self.start_s

    def time_to_share_s(self, share: float) -> float:
        """From the warning until ``share`` of the people were sheltered (NaN if never)."""
        t = self.households.sheltered_s
        ok = np.isfinite(t)
        if not ok.any() or self.population == 0:
            return math.nan
        order = np.argsort(t[ok], kind="stable")
        cum = np.cumsum(self.households.persons[ok][order])
        need = share * self.population
        i = int(np.searchsorted(cum, need - 1e-9))
        return float(t[ok][order][i]) - self.start_s if i < len(cum) else math.nan

    def not_sheltered_by(self, t_s: float) -> int:
        """People not sheltered at time ``t_s``."""
        t = self.households.sheltered_s
        return self.population - int(self.households.persons[np.isfinite(t) & (t <= t_s)].sum())

    def counts_at(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(not_left, on_the_way, sheltered)`` persons at each time of ``t_s``."""
        t_s = np.asarray(t_s, dtype=float)
        hh = self.households

        def cum_at(times: np.ndarray) -> np.ndarray:
            ok = np.isfinite(times)
            order = np.argsort(times[ok], kind="stable")
            ts = times[ok][order]
            cum = np.concatenate([[0], np.cumsum(hh.persons[ok][order])])
            return cum[np.searchsorted(ts, t_s, side="right")]

        left = cum_at(hh.depart_s)
        sheltered = cum_at(hh.sheltered_s)
        pop = self.population
        return pop - left, left - sheltered, sheltered

    def curve(self, step_s: float) -> dict[str, np.ndarray]:
        """The evacuation curve every ``step_s`` from the warning until everybody is sheltered
        (or the horizon): times (absolute and since the warning) and persons not yet left, on
        the way and sheltered."""
        end = self.horizon_s
        if math.isfinite(self.clearance_time_s()):
            end = self.last_sheltered_s()
        n = math.ceil(max(end - self.start_s, 0.0) / step_s) + 1
        t = self.start_s + step_s * np.arange(n)
        not_left, on_way, sheltered = self.counts_at(t)
        return {"time_s": t, "since_warning_s": t - self.start_s, "not_left": not_left,
                "on_the_way": on_way, "sheltered": sheltered}

    # -- per grid ----------------------------------------------------------------------------
    def per_grid(self) -> dict[str, np.ndarray]:
        """Per evacuated grid (in the order of ``grids``): people, households, vulnerable,
        helpers, households they helped and the longest a helper was busy, first and last
        warning, departure and shelter arrival, people sheltered and
        not sheltered by the deadline, and clearance (warning → the grid's last person
        sheltered; NaN if one was not)."""
        hh = self.households
        k = len(self.grids)
        pos = np.searchsorted(self.grids, hh.grid)
        p = hh.persons

        def agg(values: np.ndarray, fn: Any, fill: float) -> np.ndarray:
            out = np.full(k, fill)
            ok = np.isfinite(values)
            fn.at(out, pos[ok], values[ok])
            return out

        pop = np.bincount(pos, weights=p, minlength=k).astype(np.int64)
        sh = self.sheltered_mask()
        sheltered = np.bincount(pos[sh], weights=p[sh], minlength=k).astype(np.int64)
        by_deadline = sh & (hh.sheltered_s <= self.deadline_s)
        n_deadline = np.bincount(pos[by_deadline], weights=p[by_deadline], minlength=k)
        last = agg(hh.sheltered_s, np.maximum, -np.inf)
        all_in = (sheltered == pop) & (pop > 0)
        clearance = np.where(all_in, last - self.start_s, np.nan)
        hp = np.searchsorted(self.grids, self.helpers.grid)
        helpers = np.bincount(hp, minlength=k) if self.helpers.n else np.zeros(k, np.int64)
        busy_max = np.full(k, np.nan)
        if self.helpers.n:
            np.fmax.at(busy_max, hp, self.helpers.busy_s)
        fallback = (np.bincount(np.searchsorted(self.grids, self.helpers.grid),
                                weights=self.helpers.person < 0, minlength=k) > 0
                    if self.helpers.n else np.zeros(k, bool))
        def inf_to_nan(a: np.ndarray) -> np.ndarray:
            return np.where(np.isfinite(a), a, np.nan)

        return {
            "grid": self.grids,
            "population": pop,
            "households": np.bincount(pos, minlength=k),
            "vulnerable": np.bincount(pos, weights=hh.vulnerable, minlength=k).astype(np.int64),
            "vulnerable_households": np.bincount(pos, weights=hh.vulnerable > 0, minlength=k
                                                 ).astype(np.int64),
            "helpers": helpers,
            "helped_households": np.bincount(pos, weights=hh.helper >= 0, minlength=k
                                             ).astype(np.int64),
            "helper_busy_max_s": busy_max,
            "fallback_helpers": fallback,
            "drills_per_year": self.drills_per_year,
            "switch_ready_s": self.grid_ready_s,
            "warned_first_s": inf_to_nan(agg(hh.warned_s, np.minimum, np.inf)),
            "warned_last_s": inf_to_nan(agg(hh.warned_s, np.maximum, -np.inf)),
            "never_warned": np.bincount(pos, weights=p * ~np.isfinite(hh.warned_s),
                                        minlength=k).astype(np.int64),
            "departed_first_s": inf_to_nan(agg(hh.depart_s, np.minimum, np.inf)),
            "departed_last_s": inf_to_nan(agg(hh.depart_s, np.maximum, -np.inf)),
            "sheltered_first_s": inf_to_nan(agg(hh.sheltered_s, np.minimum, np.inf)),
            "sheltered_last_s": inf_to_nan(last),
            "sheltered": sheltered,
            "not_sheltered_by_deadline": pop - n_deadline.astype(np.int64),
            "clearance_s": clearance,
        }

    # -- shelters ----------------------------------------------------------------------------
    def per_shelter(self) -> dict[str, Any]:
        """Per shelter: capacity, people assigned, sheltered, occupancy share, first and last
        arrival, groups turned away because it was full."""
        s = self.shelters
        hh = self.households
        assigned = np.bincount(hh.assigned_shelter, weights=hh.persons, minlength=s.n)
        cap = s.capacity.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(cap > 0, self.flow.occupancy / cap, np.nan)
        return {"shelter": np.arange(s.n), "name": s.name, "grid": s.grid, "node": s.node,
                "capacity": s.capacity, "assigned": assigned.astype(np.int64),
                "sheltered": self.flow.occupancy, "occupancy_share": share,
                "first_arrival_s": self.flow.first_arrival_s,
                "last_arrival_s": self.flow.last_arrival_s,
                "turned_away_groups": self.flow.turned_away}

    # -- links -------------------------------------------------------------------------------
    def bottlenecks(self, k: int) -> list[dict[str, Any]]:
        """The ``k`` links (per mode) with the longest wait at their entrance, longest first."""
        st = self.flow.links
        net = self.network
        m, lk = np.nonzero(st.max_wait_s > 0)
        order = np.lexsort((lk, m, -st.max_wait_s[m, lk]))[:k]
        node_grid = np.full(net.n_nodes, -1, dtype=np.int64)
        if len(net.grid_node):
            node_grid[net.grid_node] = np.arange(len(net.grid_node))
        node_grid[net.home_node] = net.home_grid
        rows = []
        for i in order.tolist():
            mm, ll = int(m[i]), int(lk[i])
            span = st.busy_s[mm, ll]
            rows.append({
                "link": ll, "mode": MODE_NAMES[mm],
                "kind": "door" if net.kind[ll] == DOOR else "road",
                "from_grid": int(node_grid[net.link_from[ll]]),
                "to_grid": int(node_grid[net.link_to[ll]]),
                "length_m": float(net.length_m[ll]), "clear_width_m": float(net.clear_width_m[ll]),
                "capacity_per_s": float(net.capacity[mm, ll]),
                "groups": int(st.groups[mm, ll]), "persons": int(st.persons[mm, ll]),
                "max_queue": float(st.max_queue[mm, ll]),
                "max_wait_s": float(st.max_wait_s[mm, ll]),
                "max_wait_at_s": float(st.max_wait_at_s[mm, ll]),
                "wait_person_s": float(st.wait_person_s[mm, ll]),
                "busy_s": float(span),
            })
        return rows

    # -- the summary -------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The evacuation's keys of ``summary.json`` (documented in README "Metrics")."""
        hh = self.households
        grid = self.per_grid()
        st = self.flow.links
        helpers = self.helpers
        vul_done = (hh.vulnerable > 0) & np.isfinite(hh.depart_s) & (hh.helper >= 0)
        clearance_g = grid["clearance_s"]
        walk_queue = st.max_queue[0]
        return {
            "evacuation_population": self.population,
            "evacuation_grids": len(self.grids),
            "evacuated": self.sheltered,
            "clearance_time_s": _r(self.clearance_time_s()),
            "evacuation_p50_s": _r(self.time_to_share_s(0.5)),
            "evacuation_p90_s": _r(self.time_to_share_s(0.9)),
            "not_sheltered_by_deadline": self.not_sheltered_by(self.deadline_s),
            "not_sheltered": self.population - self.sheltered,
            "stranded": int(hh.persons[hh.stranded].sum()),
            "never_warned": int(hh.persons[~np.isfinite(hh.warned_s)].sum()),
            "grid_clearance_p50_s": _r(float(np.nanquantile(clearance_g, 0.5))
                                       if np.isfinite(clearance_g).any() else math.nan),
            "grid_clearance_max_s": _r(float(np.nanmax(clearance_g))
                                       if np.isfinite(clearance_g).any() else math.nan),
            "shelters": self.shelters.n,
            "shelters_full": int(np.sum(self.flow.turned_away > 0)),
            "shelter_redirected_households": int(np.sum(hh.redirected > 0)),
            "shelter_occupancy_max_share": _r(float(np.max(
                self.flow.occupancy / np.maximum(self.shelters.capacity, 1))), 6),
            "bottleneck_max_queue_persons": _r(float(walk_queue.max()) if len(walk_queue)
                                               else 0.0, 1),
            "bottleneck_max_wait_s": _r(float(st.max_wait_s.max()) if st.max_wait_s.size
                                        else 0.0),
            "vulnerable_residents": int(hh.vulnerable.sum()),
            "vulnerable_helped": int(hh.vulnerable[vul_done].sum()),
            "helpers": helpers.n,
            "helper_households_max": int(helpers.households.max()) if helpers.n else 0,
            "helper_busy_max_s": _r(float(helpers.busy_s.max()) if helpers.n else math.nan),
            "road_closures": len(self.closures),
            "rerouted_groups": int(sum(b for _, _, b in self.flow.closures)),
        }


def summary_keys() -> tuple[str, ...]:
    """The keys :meth:`EvacuationResult.summary` adds to ``summary.json``."""
    return ("evacuation_population", "evacuation_grids", "evacuated", "clearance_time_s",
            "evacuation_p50_s", "evacuation_p90_s", "not_sheltered_by_deadline", "not_sheltered",
            "stranded", "never_warned", "grid_clearance_p50_s", "grid_clearance_max_s",
            "shelters", "shelters_full", "shelter_redirected_households",
            "shelter_occupancy_max_share", "bottleneck_max_queue_persons",
            "bottleneck_max_wait_s", "vulnerable_residents", "vulnerable_helped", "helpers",
            "helper_households_max", "helper_busy_max_s", "road_closures", "rerouted_groups")
