"""The region: the responsibility hierarchy county → township → village → grid, and the grids.

Grids are state, not objects: :class:`Grids` is a struct of arrays indexed by grid id, so that a
city of 18,176 grids (docs/domain.md) is a few arrays, and peacetime work over all of them is one
vectorised step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.model.vocab import EXPOSURES, GRID_KINDS

__all__ = ["Adjacency", "Grids", "Hierarchy", "Region"]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Adjacency:
    """A sparse neighbour list in CSR form: the neighbours of ``g`` are
    ``indices[indptr[g]:indptr[g + 1]]``."""

    indptr: np.ndarray
    indices: np.ndarray

    def of(self, g: int) -> np.ndarray:
        return self.indices[self.indptr[g] : self.indptr[g + 1]]

    @staticmethod
    def from_edges(n: int, u: np.ndarray, v: np.ndarray) -> Adjacency:
        """Undirected adjacency of ``n`` nodes from edge lists (duplicates removed)."""
        a = np.concatenate([u, v]).astype(np.int64)
        b = np.concatenate([v, u]).astype(np.int64)
        keep = a != b
        key = np.sort(a[keep] * n + b[keep])  # sorted and deduplicated (as np.unique, faster
        key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key  # for integers)
        src, dst = key // n, key % n
        indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))]).astype(np.int64)
        return Adjacency(_frozen(indptr), _frozen(dst.astype(np.int32)))


@dataclass(frozen=True)
class Hierarchy:
    """The three-level responsibility chain above the grids (三级包保)."""

    county_names: tuple[str, ...]
    township_names: tuple[str, ...]
    township_county: np.ndarray  # township id -> county id
    village_names: tuple[str, ...]
    village_township: np.ndarray  # village id -> township id

    @property
    def n_townships(self) -> int:
        return len(self.township_names)

    @property
    def n_villages(self) -> int:
        return len(self.village_names)


@dataclass(frozen=True)
class Grids:
    """All grids (网格) of a region as arrays indexed by grid id.

    ``kind`` indexes :data:`gridsim.model.vocab.GRID_KINDS`; coordinates are metres in the
    scenario's projected coordinate system; ``vulnerable_share`` is the share of residents who
    cannot leave alone; ``compounds`` is the number of residential compounds (小区) the grid
    manages (0 where none are modelled); ``monitoring_points`` counts its key monitoring points
    (重点监测点).

    Exposures (what hazards strike; :data:`gridsim.model.vocab.EXPOSURES`, read by name with
    :meth:`exposure`): ``population`` (residents), ``households``, ``buildings``, ``ebikes``,
    ``enterprises`` (counts), ``forest_km2`` and ``steep_slope_km2`` (land, km², at most the
    grid's area), ``flood_prone_share`` (the share of residents living in flood-prone areas,
    0-1), ``compounds`` and ``monitoring_points``. The new exposures are int32 and float32: a
    city's 18,176 grids cost 4 bytes each per exposure.
    """

    village: np.ndarray
    township: np.ndarray
    county: np.ndarray
    kind: np.ndarray
    area_km2: np.ndarray
    population: np.ndarray
    households: np.ndarray
    vulnerable_share: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    compounds: np.ndarray
    monitoring_points: np.ndarray
    buildings: np.ndarray
    ebikes: np.ndarray
    enterprises: np.ndarray
    forest_km2: np.ndarray
    steep_slope_km2: np.ndarray
    flood_prone_share: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.kind)
        for name, arr in self.__dict__.items():
            if len(arr) != n:
                raise ValueError(f"Grids.{name} has {len(arr)} entries, expected {n}")
            object.__setattr__(self, name, _frozen(arr))

    @property
    def n(self) -> int:
        return len(self.kind)

    def kind_name(self, g: int) -> str:
        return GRID_KINDS[int(self.kind[g])]

    def exposure(self, name: str) -> np.ndarray:
        """The exposure ``name`` (one of :data:`~gridsim.model.vocab.EXPOSURES`) of every grid,
        as float64 units: ``grid`` is 1 per grid, ``flood_prone_residents`` (households) the
        residents (households) times the flood-prone share."""
        if name == "grid":
            return np.ones(self.n)
        if name == "residents":
            return self.population.astype(np.float64)
        if name == "flood_prone_residents":
            return self.population * self.flood_prone_share.astype(np.float64)
        if name == "flood_prone_households":
            return self.households * self.flood_prone_share.astype(np.float64)
        if name not in EXPOSURES:
            raise KeyError(f"unknown exposure {name!r}; expected one of {', '.join(EXPOSURES)}")
        return np.asarray(getattr(self, name), dtype=np.float64)

    def side_m(self) -> np.ndarray:
        """The side of a square of the grid's area, in metres."""
        return np.sqrt(self.area_km2) * 1000.0


@dataclass(frozen=True)
class Region:
    """A named region: its hierarchy, its grids and which grids are next to which."""

    name: str
    hierarchy: Hierarchy
    grids: Grids
    neighbours: Adjacency

    def township_grids(self, townships: list[int] | None) -> np.ndarray:
        """Ids of the grids in ``townships`` (all grids when ``None`` or empty)."""
        if not townships:
            return np.arange(self.grids.n)
        return np.flatnonzero(np.isin(self.grids.township, np.asarray(townships)))
