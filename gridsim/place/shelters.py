"""Emergency shelters (应急避难场所) of a place: the one shelters type of gridsim.

A scenario carries its shelters (:attr:`gridsim.place.scenario.Scenario.shelters`): a scenario
folder's shelters file, read with the rest of the folder, or none for a synthetic scenario,
whose runs place shelters per township from the evacuation settings
(:func:`gridsim.evacuation.model.place_shelters`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gridsim.model.region import Region
from gridsim.place.roads import RoadNetwork

__all__ = ["Shelters"]


class _Place(Protocol):
    """What :meth:`Shelters.at_grids` needs of a place (a scenario has both)."""

    @property
    def region(self) -> Region: ...

    @property
    def roads(self) -> RoadNetwork: ...


@dataclass(frozen=True)
class Shelters:
    """Shelters: name, capacity (persons), the grid each stands in, the road node it is reached
    at (its grid's), and its position (scenario CRS, metres). Arrays are read-only."""

    name: tuple[str, ...]
    capacity: np.ndarray  # int64
    grid: np.ndarray  # int64
    node: np.ndarray  # int64
    x_m: np.ndarray  # float64
    y_m: np.ndarray  # float64

    def __post_init__(self) -> None:
        n = len(self.name)
        object.__setattr__(self, "name", tuple(str(s) for s in self.name))
        for f, dtype in (("capacity", np.int64), ("grid", np.int64), ("node", np.int64),
                         ("x_m", np.float64), ("y_m", np.float64)):
            a = np.array(getattr(self, f), dtype=dtype)
            if a.shape != (n,):
                raise ValueError(f"Shelters.{f} has {a.size} entries, expected {n}")
            a.setflags(write=False)
            object.__setattr__(self, f, a)
        if n and np.any(self.capacity < 0):
            raise ValueError("Shelters: negative capacity")

    @property
    def n(self) -> int:
        return len(self.name)

    @staticmethod
    def empty() -> Shelters:
        none_i, none_f = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=float)
        return Shelters(name=(), capacity=none_i, grid=none_i, node=none_i, x_m=none_f,
                        y_m=none_f)

    @staticmethod
    def at_grids(place: _Place, grid: np.ndarray | Sequence[int], capacity: np.ndarray,
                 name: Sequence[str] | None = None) -> Shelters:
        """Shelters standing at the centres of ``grid`` of ``place`` (reached at each grid's
        road node), named ``S0``, ``S1``, ... unless ``name`` is given."""
        grid = np.asarray(grid, dtype=np.int64)
        g = place.region.grids
        names = tuple(name) if name is not None else tuple(f"S{i}" for i in range(len(grid)))
        return Shelters(name=names, capacity=np.asarray(capacity, dtype=np.int64), grid=grid,
                        node=place.roads.grid_node[grid], x_m=g.x_m[grid], y_m=g.y_m[grid])
