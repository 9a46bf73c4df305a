"""Professional departments (部门): fire, police, medical, utilities, at stations on the roads.

They answer a grid's escalation (网格吹哨、部门报到). :class:`Stations` is the scenario's
description; :class:`DepartmentUnits` is the run state, one SimPy resource per station whose
capacity is its number of units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from gridsim.model.vocab import DEPARTMENTS

__all__ = ["DepartmentUnits", "Stations"]


@dataclass(frozen=True)
class Stations:
    """Department stations: department index (into DEPARTMENTS), grid, units, and the driving
    time from each station to every grid (``n_stations × n_grids`` seconds)."""

    department: np.ndarray
    grid: np.ndarray
    units: np.ndarray
    time_to_grid_s: np.ndarray

    @property
    def n(self) -> int:
        return len(self.grid)

    def of(self, department: str) -> np.ndarray:
        return np.flatnonzero(self.department == DEPARTMENTS.index(department))


class DepartmentUnits:
    """The units of every station during a run."""

    def __init__(self, env: simpy.Environment, stations: Stations) -> None:
        self.stations = stations
        self.resources = [simpy.Resource(env, capacity=int(u)) for u in stations.units]
        self._by_dept = {d: stations.of(d) for d in DEPARTMENTS}

    def choose(self, department: str, grid: int) -> int:
        """The station to send from: the nearest with a free unit, else the nearest."""
        ids = self._by_dept[department]
        times = self.stations.time_to_grid_s[ids, grid]
        order = ids[np.argsort(times, kind="stable")]
        for s in order:
            res = self.resources[int(s)]
            if res.count < res.capacity:
                return int(s)
        return int(order[0])
