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
        self._ids = {d: stations.of(d).tolist() for d in DEPARTMENTS}
        self._count = {d: len(v) for d, v in self._ids.items()}

    def _free(self, s: int) -> bool:
        res = self.resources[s]
        return res.count < res.capacity

    def choose(self, department: str, grid: int) -> tuple[int, float]:
        """The station to send from and its driving time to ``grid``: the nearest with a free
        unit, else the nearest (ties by station id).

        The place lists each grid's few nearest stations; when none of them has a free unit,
        the nearest of the stations with one comes from searches out of those stations
        (:meth:`gridsim.engine.travel.Travel.nearest_free`, kept for later runs)."""
        tr = self.travel
        d = DEPARTMENTS.index(department)
        ids, times = tr.nearest_stations(d, grid)
        for s, t in zip(ids.tolist(), times.tolist(), strict=True):
            if self._free(s):
                return s, t
        if len(ids) < self._count[department]:
            free = [s for s in self._ids[department] if self._free(s)]
            if free:
                return tr.nearest_free(grid, np.array(free, dtype=np.int64))
        return int(ids[0]), float(times[0])
