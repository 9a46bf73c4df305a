"""The region: the responsibility hierarchy county → township → village → grid, and the grids.

Grids are state, not objects: :class:`Grids` is a struct of arrays indexed by grid id, so that a
city of 18,176 grids (docs/domain.md) is a few arrays, and peacetime work over all of them is one
vectorised step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.model.vocab import EXPOSURES, GRID_KINDS

__all__ = ["SYNTHETIC_CRS", "Adjacency", "GridShapes", "Grids", "Hierarchy", "Region"]

#: The coordinate system of synthetic scenarios: metres from a centre placed at Suining (a
#: transverse Mercator projection centred there), so that a synthetic district lies on the map
#: where the real one does (re-exported as ``gridsim.place.folder.export.SYNTHETIC_CRS``).
SYNTHETIC_CRS = ("+proj=tmerc +lat_0=30.53 +lon_0=105.59 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 "
                 "+units=m +no_defs +type=crs")


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
class GridShapes:
    """The grids' polygons as rings in CSR form, in the scenario's metres (``Region.crs``).

    Ring ``r`` has the positions ``xy[ring_ptr[r]:ring_ptr[r + 1]]`` (closed: the first
    repeated at the end), belongs to grid ``ring_grid[r]`` (rings are sorted by grid) and is
    either the exterior of a new polygon of its grid (``ring_hole[r]`` False; a grid of a
    MultiPolygon has several) or a hole of the polygon before it. Three small arrays and the
    positions: a city's 18,176 grids cost a few MB, not 18,176 objects."""

    ring_ptr: np.ndarray  # int64, n_rings + 1
    ring_grid: np.ndarray  # int32, n_rings (non-decreasing)
    ring_hole: np.ndarray  # bool, n_rings
    xy: np.ndarray  # float64, ring_ptr[-1] x 2

    def __post_init__(self) -> None:
        n = len(self.ring_grid)
        if len(self.ring_ptr) != n + 1 or len(self.ring_hole) != n:
            raise ValueError(f"GridShapes: {len(self.ring_ptr)} ring offsets, "
                             f"{len(self.ring_hole)} hole flags for {n} rings")
        if self.xy.shape != (int(self.ring_ptr[-1]) if n else 0, 2):
            raise ValueError(f"GridShapes: positions of shape {self.xy.shape}, expected "
                             f"({int(self.ring_ptr[-1]) if n else 0}, 2)")
        for name, arr in self.__dict__.items():
            object.__setattr__(self, name, _frozen(arr))

    @property
    def n_rings(self) -> int:
        return len(self.ring_grid)

    def grid_ptr(self, n_grids: int) -> np.ndarray:
        """Offsets of each grid's rings: grid ``g`` has rings ``grid_ptr[g]:grid_ptr[g + 1]``."""
        return np.searchsorted(self.ring_grid, np.arange(n_grids + 1)).astype(np.int64)

    @staticmethod
    def from_shapely(geoms: np.ndarray) -> GridShapes:
        """The shapes of an array of shapely Polygons or MultiPolygons (one per grid, in grid
        order), every position kept exactly."""
        import shapely  # start-up time: shapely only where a scenario has polygons

        geoms = np.asarray(geoms, dtype=object)
        kind, xy, offsets = shapely.to_ragged_array(geoms)
        if kind == shapely.GeometryType.POLYGON:  # all Polygons: one polygon per grid
            ring_ptr, poly_ptr = offsets
            grid_poly_ptr = np.arange(len(geoms) + 1)
        elif kind == shapely.GeometryType.MULTIPOLYGON:  # some MultiPolygons (all promoted)
            ring_ptr, poly_ptr, grid_poly_ptr = offsets
        else:
            raise ValueError(f"GridShapes: expected Polygons or MultiPolygons, got {kind.name}")
        rings_per_grid = np.diff(poly_ptr[grid_poly_ptr])
        hole = np.ones(len(ring_ptr) - 1, dtype=bool)
        hole[poly_ptr[:-1]] = False  # the first ring of each polygon is its exterior
        return GridShapes(ring_ptr=np.asarray(ring_ptr, dtype=np.int64),
                          ring_grid=np.repeat(np.arange(len(geoms), dtype=np.int32),
                                              rings_per_grid),
                          ring_hole=hole, xy=np.asarray(xy, dtype=np.float64))


@dataclass(frozen=True)
class Region:
    """A named region: its hierarchy, its grids and which grids are next to which.

    ``crs`` names the coordinate system of every position in metres of the scenario (grids,
    roads, people): a string pyproj reads (``EPSG:32648``, a PROJ string); synthetic regions
    are in :data:`SYNTHETIC_CRS`. ``shapes`` holds the grids' real polygons where the scenario
    has them (a scenario folder), ``None`` where grids are only centres and areas."""

    name: str
    hierarchy: Hierarchy
    grids: Grids
    neighbours: Adjacency
    crs: str = SYNTHETIC_CRS
    shapes: GridShapes | None = None

    def township_grids(self, townships: list[int] | None) -> np.ndarray:
        """Ids of the grids in ``townships`` (all grids when ``None`` or empty)."""
        if not townships:
            return np.arange(self.grids.n)
        return np.flatnonzero(np.isin(self.grids.township, np.asarray(townships)))
