"""A run's driving times: the tables that depend on the response settings, elaborated per run.

The place (:class:`~gridsim.place.scenario.Scenario`) holds what depends on the place alone:
each department's nearest stations to every grid at the roads' own speeds, and each grid's time
from its township depot. :func:`travel_for` adds what the response settings decide:

* the mutual-aid near times (every grid within ``response.dispatch.mutual_aid_radius_s`` of a
  grid, :func:`~gridsim.place.roads.near_travel_times`), for dispatch and borrowing;
* station times at the departments' speed (``response.department_speed_factor``: every time
  ÷ the factor, which never changes which station is nearest);
* the scenario's slowed grids (a blocked road, :attr:`Scenario.slowed`): driving into such a
  grid takes ``factor`` times as long, from neighbours, stations and the depot alike.

The result, a frozen :class:`Travel`, is cached on the scenario per distinct (radius, factor),
so the replications of a variant elaborate it once; the near times are also kept in the disk
cache beside the place (:func:`~gridsim.place.scenario.cached_table`), for the next process.
Station times are float32 seconds, as the engine has always used them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.model.params import ResponseConfig
from gridsim.place.roads import NearTimes, StationTimes, near_travel_times
from gridsim.place.scenario import Scenario, cached_table

__all__ = ["TRAVEL_CACHE", "Travel", "travel_for"]

#: Travel tables kept per scenario (per distinct mutual-aid radius and department speed).
TRAVEL_CACHE = 4


@dataclass(frozen=True, eq=False)
class Travel:
    """The driving times of a run (see the module docstring). Arrays are read-only."""

    near: NearTimes  # grid -> grids within the mutual-aid radius
    depot_time_s: np.ndarray  # float32 [n_grids]: own township depot -> grid
    stations: StationTimes  # the place's nearest stations, at road speeds
    station_time_s: np.ndarray  # float32 [n_departments, n_grids, k]: those, at this run's speed
    speed_factor: float  # department vehicles' speed × this
    slow: np.ndarray  # float32 [n_grids]: driving into each grid takes this many times as long

    def nearest_stations(self, d: int, g: int) -> tuple[np.ndarray, np.ndarray]:
        """The nearest stations of department ``d`` to grid ``g`` (up to ``stations.k``, by
        time, ties by id) and their driving times at this run's speed."""
        s = self.stations.station[d, g]
        keep = s >= 0
        return s[keep].astype(np.int64), self.station_time_s[d, g][keep]

    def station_times(self, g: int, base_s: np.ndarray) -> np.ndarray:
        """Driving times into grid ``g`` at this run's speed from times at road speeds (as the
        lists hold them: float32 of the time ÷ the factor, × the grid's slowing)."""
        t = (np.asarray(base_s, dtype=np.float64) / self.speed_factor).astype(np.float32)
        f = self.slow[g]
        return t * f if f != 1.0 else t

    def nearest_free(self, g: int, candidates: np.ndarray) -> tuple[int, float]:
        """The station of ``candidates`` (e.g. those with a free unit) nearest to grid ``g``,
        ties by id, and its driving time at this run's speed: exact
        (:meth:`~gridsim.place.roads.StationTimes.nearest_among`)."""
        s, t = self.stations.nearest_among(g, candidates)
        return s, float(self.station_times(g, np.array([t]))[0])


def _bounded_put(memo: dict, kind: str, key: tuple, value: tuple) -> None:
    """``memo[key] = value``, keeping at most :data:`TRAVEL_CACHE` entries of ``kind``."""
    mine = [k for k in memo if isinstance(k, tuple) and k and k[0] == kind]
    for k in mine[: max(0, len(mine) - TRAVEL_CACHE + 1)]:  # the oldest go first
        del memo[k]
    memo[key] = value


def _near(scenario: Scenario, radius_s: float) -> NearTimes:
    """The mutual-aid near times of the scenario's roads (shared by its changed copies)."""
    key = ("near", radius_s)
    got = scenario.memo.get(key)
    if got is not None and got[0] is scenario.roads:
        return got[1]
    # kept on disk beside the place (gridsim.place.scenario.cached_table): the city's cost
    # about 0.4 s of CPU to make, and a few ms to read
    near = cached_table(scenario, f"near {radius_s!r}",
                        lambda: near_travel_times(scenario.roads, radius_s))
    for a in (near.indptr, near.indices, near.time_s):
        a.setflags(write=False)
    _bounded_put(scenario.memo, "near", key, (scenario.roads, near))
    return near


def _travel(scenario: Scenario, radius_s: float, speed_factor: float) -> Travel:
    n = scenario.n_grids
    slow = np.ones(n, dtype=np.float32)
    for g, f in scenario.slowed:
        slow[int(g)] *= np.float32(f)
    near = _near(scenario, radius_s)
    depot = np.asarray(scenario.depot_time_s, dtype=np.float32)
    st = scenario.station_times
    times = (st.time_s / speed_factor).astype(np.float32)
    if scenario.slowed:
        near_t = near.time_s.copy()
        depot = depot.copy()
        for g in np.flatnonzero(slow != 1.0).tolist():
            a, b = int(near.indptr[g]), int(near.indptr[g + 1])
            near_t[a:b] *= slow[g]  # row g: from g's neighbours to g (a uniform factor keeps
            times[:, g, :] *= slow[g]  # the row sorted, and the nearest station nearest)
            depot[g] *= slow[g]
        near_t.setflags(write=False)
        near = NearTimes(indptr=near.indptr, indices=near.indices, time_s=near_t,
                         radius_s=near.radius_s)
    for table in (depot, times, slow):
        table.setflags(write=False)
    return Travel(near=near, depot_time_s=depot, stations=st, station_time_s=times,
                  speed_factor=float(speed_factor), slow=slow)


def travel_for(scenario: Scenario, response: ResponseConfig) -> Travel:
    """The driving times of a run of ``scenario`` with ``response``, cached on the scenario
    (and shared with its changed copies, :attr:`Scenario.memo`): the same roads, stations and
    depots, slowed grids, radius and speed factor give the same :class:`Travel`."""
    radius = float(response.dispatch.mutual_aid_radius_s)
    factor = float(response.department_speed_factor)
    key = ("travel", radius, factor, scenario.slowed)
    got = scenario.memo.get(key)
    if (got is not None and got[0] is scenario.roads and got[1] is scenario.station_times
            and got[2] is scenario.depot_time_s):
        return got[3]
    travel = _travel(scenario, radius, factor)
    _bounded_put(scenario.memo, "travel", key, (scenario.roads, scenario.station_times,
                                                scenario.depot_time_s, travel))
    return travel
