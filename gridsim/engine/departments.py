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

    def _free(self, s: int) -> bool:
        res = self.resources[s]
        return res.count < res.capacity

    def choose(self, department: str, grid: int) -> tuple[int, float]:
        """The station to send from and its driving time to ``grid``: the nearest with a free
        unit, else the nearest (ties by station id).

        The place lists each grid's few nearest stations; when none of them has a free unit,
        the farther ones come from a search out of the grid, bounded at twice the farthest
        listed time and doubled until a free station is found or every station is ranked
        (:meth:`gridsim.engine.travel.Travel.ranked_stations`, kept for later runs)."""
        d = DEPARTMENTS.index(department)
        tr = self.travel
        ids, times = tr.nearest_stations(d, grid)
        for s, t in zip(ids.tolist(), times.tolist(), strict=True):
            if self._free(s):
                return s, t
        n = self._count[department]
        if len(ids) >= n:
            return int(ids[0]), float(times[0])
        limit = max(2.0 * float(times[-1]), 60.0)
        while True:
            limit, r_ids, r_t = tr.ranked_stations(d, grid, limit)
            for s, t in zip(r_ids.tolist(), r_t.tolist(), strict=True):
                if self._free(s):
                    return s, t
            if len(r_ids) >= n or not np.isfinite(limit):
                return int(ids[0]), float(times[0])
            limit *= 2.0
