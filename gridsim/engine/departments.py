"""Professional departments (部门): fire, police, medical, utilities, at stations on the roads.

They answer a grid's escalation (网格吹哨、部门报到). The stations are part of the place
(:class:`gridsim.model.stations.Stations`); :class:`DepartmentUnits` is the run state, one SimPy
resource per station whose capacity is its number of units.
"""

from __future__ import annotations

import numpy as np
import simpy

from gridsim.engine.travel import Travel
from gridsim.model.stations import Stations
from gridsim.model.vocab import DEPARTMENTS

__all__ = ["DepartmentUnits"]


class DepartmentUnits:
    """The units of every station during a run."""

    def __init__(self, env: simpy.Environment, stations: Stations, travel: Travel) -> None:
        self.stations = stations
        self.travel = travel
        self.resources = [simpy.Resource(env, capacity=int(u)) for u in stations.units]
        self._count = {d: int(stations.of(d).size) for d in DEPARTMENTS}
        # (department, grid) -> (limit, stations, times): the farther stations found so far
        self._ranked: dict[tuple[int, int], tuple[float, np.ndarray, np.ndarray]] = {}

    def _free(self, s: int) -> bool:
        res = self.resources[s]
        return res.count < res.capacity

    def choose(self, department: str, grid: int) -> tuple[int, float]:
        """The station to send from and its driving time to ``grid``: the nearest with a free
        unit, else the nearest (ties by station id).

        The place lists each grid's few nearest stations; when none of them has a free unit,
        the farther ones come from a search out of the grid, bounded at twice the farthest
        listed time and doubled until a free station is found or every station is ranked
        (kept per grid for the rest of the run)."""
        d = DEPARTMENTS.index(department)
        tr = self.travel
        ids, times = tr.nearest_stations(d, grid)
        for s, t in zip(ids.tolist(), times.tolist(), strict=True):
            if self._free(s):
                return s, t
        n = self._count[department]
        if len(ids) >= n:
            return int(ids[0]), float(times[0])
        key = (d, grid)
        got = self._ranked.get(key)
        limit = got[0] if got is not None else max(2.0 * float(times[-1]), 60.0)
        while True:
            if got is None or got[0] < limit:
                r_ids, r_t = tr.ranked_stations(d, grid, limit)
                got = (limit, r_ids, r_t)
                self._ranked[key] = got
            _, r_ids, r_t = got
            for s, t in zip(r_ids.tolist(), r_t.tolist(), strict=True):
                if self._free(s):
                    return s, t
            if len(r_ids) >= n or not np.isfinite(limit):
                return int(ids[0]), float(times[0])
            limit *= 2.0
