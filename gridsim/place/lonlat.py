"""Grids on the map: their polygons (real or squares) and positions in lon/lat (WGS 84).

Shared by the run's GIS files (:mod:`gridsim.output.geo`), the maps and ``gridsim scenario
export`` (:mod:`gridsim.place.folder.export`). Vectorised: one pyproj call for every position of
a city's 18,176 grids, rings re-ordered by one index array.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from gridsim.errors import UserError
from gridsim.model.region import Grids, GridShapes, Region

__all__ = ["MIN_SIDE_M", "WGS84", "geometry_texts", "grid_shapes", "oriented", "oriented_lonlat",
           "polygon_ptrs", "square_shapes", "to_lonlat"]

#: A square drawn for a grid is at least this wide (a grid of no area still shows).
MIN_SIDE_M = 1.0
#: Longitude, latitude in degrees (pyproj's ``always_xy`` order).
WGS84 = "EPSG:4326"


def square_shapes(g: Grids) -> GridShapes:
    """Squares of each grid's area (at least :data:`MIN_SIDE_M` a side) centred on its centre,
    counter-clockwise, one ring per grid."""
    half = np.maximum(g.side_m(), MIN_SIDE_M) / 2.0
    x, y = np.asarray(g.x_m, dtype=np.float64), np.asarray(g.y_m, dtype=np.float64)
    xs = np.stack([x - half, x + half, x + half, x - half, x - half], axis=1).ravel()
    ys = np.stack([y - half, y - half, y + half, y + half, y - half], axis=1).ravel()
    return GridShapes(ring_ptr=np.arange(0, 5 * g.n + 1, 5, dtype=np.int64),
                      ring_grid=np.arange(g.n, dtype=np.int32),
                      ring_hole=np.zeros(g.n, dtype=bool), xy=np.column_stack([xs, ys]))


def grid_shapes(region: Region) -> GridShapes:
    """The grids' real polygons where the region has them, else :func:`square_shapes`."""
    return region.shapes if region.shapes is not None else square_shapes(region.grids)


@functools.lru_cache(maxsize=8)
def _transformer(crs: str) -> Any:
    from pyproj import Transformer  # start-up time: pyproj only when GIS files are made

    return Transformer.from_crs(crs, WGS84, always_xy=True)


def to_lonlat(crs: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in metres of ``crs`` as (longitude, latitude) in degrees of WGS 84."""
    lon, lat = _transformer(crs).transform(np.asarray(x, dtype=np.float64),
                                           np.asarray(y, dtype=np.float64))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _signed_areas(x: np.ndarray, y: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Twice the signed area of each closed ring (positive: counter-clockwise), shoelace over
    positions taken relative to their mean (no cancellation at lon 105, lat 30)."""
    if len(x) < 2:
        return np.zeros(len(ptr) - 1)
    x = x - x.mean()
    y = y - y.mean()
    cross = np.concatenate([[0.0], np.cumsum(x[:-1] * y[1:] - x[1:] * y[:-1])])
    return np.asarray(cross[ptr[1:] - 1] - cross[ptr[:-1]])


def _orientation_order(shapes: GridShapes, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The position order that turns every exterior ring counter-clockwise and every hole
    clockwise in ``(x, y)`` (RFC 7946's right-hand rule); ``None`` when they already are."""
    ptr = shapes.ring_ptr
    area = _signed_areas(x, y, ptr)
    flip = np.where(shapes.ring_hole, area > 0, area < 0)
    if not flip.any():
        return None
    idx = np.arange(len(x))
    ring_of = np.repeat(np.arange(shapes.n_rings), np.diff(ptr))
    f = flip[ring_of]
    mirrored = ptr[:-1][ring_of] + ptr[1:][ring_of] - 1 - idx  # s + e - 1 - i within the ring
    idx[f] = mirrored[f]
    return idx


def oriented(shapes: GridShapes) -> GridShapes:
    """``shapes`` with their rings in the right-hand rule's order in their own coordinates
    (exteriors counter-clockwise, holes clockwise: what a non-zero fill needs to leave the
    holes empty)."""
    order = _orientation_order(shapes, shapes.xy[:, 0], shapes.xy[:, 1])
    if order is None:
        return shapes
    return GridShapes(ring_ptr=shapes.ring_ptr, ring_grid=shapes.ring_grid,
                      ring_hole=shapes.ring_hole, xy=shapes.xy[order])


def oriented_lonlat(region: Region) -> tuple[GridShapes, np.ndarray, np.ndarray]:
    """The grids' shapes with rings in the right-hand rule's order, and their positions in
    lon/lat (unrounded)."""
    shapes = grid_shapes(region)
    lon, lat = to_lonlat(region.crs, shapes.xy[:, 0], shapes.xy[:, 1])
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():  # a position the scenario's CRS cannot take to lon/lat (outside its area)
        k = int(np.flatnonzero(bad)[0])
        grid = int(shapes.ring_grid[np.searchsorted(shapes.ring_ptr, k, side="right") - 1])
        raise UserError(f"grid {grid} of scenario {region.name!r}: position "
                        f"({shapes.xy[k, 0]:.1f}, {shapes.xy[k, 1]:.1f}) m has no lon/lat in "
                        f"its coordinate system {region.crs!r}",
                        hint=f"{int(bad.sum())} positions in all; check the scenario's crs")
    order = _orientation_order(shapes, lon, lat)
    if order is not None:
        shapes = GridShapes(ring_ptr=shapes.ring_ptr, ring_grid=shapes.ring_grid,
                            ring_hole=shapes.ring_hole, xy=shapes.xy[order])
        lon, lat = lon[order], lat[order]
    return shapes, lon, lat


def polygon_ptrs(shapes: GridShapes, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(poly_ring_ptr, grid_poly_ptr)``: the rings of each polygon and the polygons of each
    grid, as offsets."""
    starts = np.flatnonzero(~shapes.ring_hole)
    poly_ptr = np.append(starts, shapes.n_rings).astype(np.int64)
    grid_poly_ptr = np.searchsorted(shapes.ring_grid[starts], np.arange(n + 1)).astype(np.int64)
    if (np.diff(grid_poly_ptr) == 0).any():
        raise ValueError("every grid needs a polygon")
    return poly_ptr, grid_poly_ptr


def geometry_texts(shapes: GridShapes, lon: np.ndarray, lat: np.ndarray, n: int,
                   decimals: int | None) -> list[str]:
    """Each grid's GeoJSON geometry (a Polygon, or a MultiPolygon for a grid of several
    polygons) as text, positions ``[lon, lat]`` with ``decimals`` decimals (``None``: every
    digit, the shortest text that reads back as the same double)."""
    fmt = "[%r,%r]" if decimals is None else f"[%.{decimals}f,%.{decimals}f]"
    pos = list(map(fmt.__mod__, zip(lon.tolist(), lat.tolist(), strict=True)))
    rings = ["[" + ",".join(pos[a:b]) + "]" for a, b in itertools.pairwise(
        shapes.ring_ptr.tolist())]
    poly_ptr, grid_poly_ptr = polygon_ptrs(shapes, n)
    polys = ["[" + ",".join(rings[a:b]) + "]" for a, b in itertools.pairwise(poly_ptr.tolist())]
    return [('{"type":"Polygon","coordinates":' + polys[a] + "}") if b == a + 1 else
            ('{"type":"MultiPolygon","coordinates":[' + ",".join(polys[a:b]) + "]}")
            for a, b in itertools.pairwise(grid_poly_ptr.tolist())]
