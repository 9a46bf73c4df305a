"""Department stations (部门站点): where fire, police, medical and utilities units wait.

:class:`Stations` is part of the place (a scenario's description, frozen); the driving times
from stations to grids live with the roads (:class:`gridsim.place.roads.StationTimes`) and the
run state (one SimPy resource per station) in :mod:`gridsim.engine.departments`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.model.vocab import DEPARTMENTS

__all__ = ["Stations"]


@dataclass(frozen=True)
class Stations:
    """Department stations: department index (into ``DEPARTMENTS``), grid and units of each."""

    department: np.ndarray  # int64
    grid: np.ndarray  # int64
    units: np.ndarray  # int64

    @property
    def n(self) -> int:
        return len(self.grid)

    def of(self, department: str) -> np.ndarray:
        """The ids of ``department``'s stations, ascending."""
        return np.flatnonzero(self.department == DEPARTMENTS.index(department))
