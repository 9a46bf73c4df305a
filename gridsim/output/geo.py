"""GIS files of a run: the grids with their results, for QGIS, geopandas and web maps.

``grids.geojson`` (always written)
    RFC 7946: one FeatureCollection in lon/lat WGS 84 (no ``crs`` member; positions
    ``[lon, lat]`` with :data:`LONLAT_DECIMALS` decimals, about 0.1 m; exterior rings
    counter-clockwise, holes clockwise), one Feature per grid in grid order, ``id`` the grid id,
    and as ``properties`` the row of ``grids.csv`` (the same names, :data:`GRID_FIELDS`, and the
    same values: each number as grids.csv writes it, an empty cell as ``null``). A feature's
    geometry is the grid's real polygon where the scenario has one (a scenario folder:
    :attr:`gridsim.model.region.Region.shapes`), else a square of the grid's area centred on
    its centre (a synthetic scenario), a MultiPolygon for a grid of several parts.
``grids.gpkg`` (when pyogrio, the ``geo`` extra, imports)
    A GeoPackage with one layer ``grids``: the same polygons and columns in the scenario's own
    coordinate system (metres: :attr:`~gridsim.model.region.Region.crs`), positions and numbers
    unrounded, empty cells as NULL. Written by GDAL through pyogrio with the GeoPackage's
    ``last_change`` fixed at :data:`GPKG_DATE`, so that a run's files are byte-identical.

Everything is vectorised over the grids (positions transformed by one pyproj call, texts
joined by ``map``): a city's 18,176 grids cost about a tenth of a second (benchmarks/
bench_geo.py). The lon/lat of the scenario's centre goes to ``summary.json``
(:func:`crs_fields`).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.csvtext import csv_column
from gridsim.fsutil import atomic_target, write_atomic
from gridsim.model.region import Grids, GridShapes, Region

__all__ = ["GEOJSON", "GEO_FILES", "GPKG", "GPKG_DATE", "LONLAT_DECIMALS", "MIN_SIDE_M",
           "crs_fields", "geojson_text", "grid_shapes", "lonlat", "oriented_lonlat",
           "square_shapes", "write_geo", "write_gpkg"]

GEOJSON = "grids.geojson"
GPKG = "grids.gpkg"
#: The GIS files a run may write (:data:`gridsim.output.files.OUTPUT_FILES` lists them too).
GEO_FILES: tuple[str, ...] = (GEOJSON, GPKG)
#: Decimals of lon/lat in grids.geojson (1e-6 degree: 0.11 m of latitude).
LONLAT_DECIMALS = 6
#: A square drawn for a grid is at least this wide (a grid of no area still shows).
MIN_SIDE_M = 1.0
#: ``gpkg_contents.last_change`` of grids.gpkg: no wall-clock time in a run's files.
GPKG_DATE = "1970-01-01T00:00:00.000Z"
_WGS84 = "EPSG:4326"


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

    return Transformer.from_crs(crs, _WGS84, always_xy=True)


def lonlat(crs: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def oriented_lonlat(region: Region) -> tuple[GridShapes, np.ndarray, np.ndarray]:
    """The grids' shapes with rings in the right-hand rule's order, and their positions in
    lon/lat (unrounded)."""
    shapes = grid_shapes(region)
    lon, lat = lonlat(region.crs, shapes.xy[:, 0], shapes.xy[:, 1])
    order = _orientation_order(shapes, lon, lat)
    if order is not None:
        shapes = GridShapes(ring_ptr=shapes.ring_ptr, ring_grid=shapes.ring_grid,
                            ring_hole=shapes.ring_hole, xy=shapes.xy[order])
        lon, lat = lon[order], lat[order]
    return shapes, lon, lat


def _polygon_ptrs(shapes: GridShapes, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(poly_ring_ptr, grid_poly_ptr)``: the rings of each polygon and the polygons of each
    grid, as offsets."""
    starts = np.flatnonzero(~shapes.ring_hole)
    poly_ptr = np.append(starts, shapes.n_rings).astype(np.int64)
    grid_poly_ptr = np.searchsorted(shapes.ring_grid[starts], np.arange(n + 1)).astype(np.int64)
    if (np.diff(grid_poly_ptr) == 0).any():
        raise ValueError("every grid needs a polygon")
    return poly_ptr, grid_poly_ptr


def _property_tokens(column: Sequence[Any] | range) -> list[str]:
    """JSON values of one grids.csv column: a number as grids.csv writes it (an empty cell as
    ``null``), a text as a JSON string."""
    texts = csv_column(column)
    first = next(iter(column), None)
    if isinstance(first, str):
        return [json.dumps(t, ensure_ascii=False) for t in texts]
    return [t if t else "null" for t in texts]


def geojson_text(region: Region, header: Sequence[str],
                 columns: Sequence[Sequence[Any] | range],
                 oriented: tuple[GridShapes, np.ndarray, np.ndarray] | None = None) -> str:
    """The text of grids.geojson: the region's grids with the per-grid table ``header`` /
    ``columns`` (grids.csv's) as properties (``oriented``: :func:`oriented_lonlat` of the
    region, if already made)."""
    n = region.grids.n
    shapes, lon, lat = oriented if oriented is not None else oriented_lonlat(region)
    fmt = f"[%.{LONLAT_DECIMALS}f,%.{LONLAT_DECIMALS}f]"
    pos = list(map(fmt.__mod__, zip(lon.tolist(), lat.tolist(), strict=True)))
    rp = shapes.ring_ptr.tolist()
    rings = ["[" + ",".join(pos[a:b]) + "]" for a, b in itertools.pairwise(rp)]
    poly_ptr, grid_poly_ptr = _polygon_ptrs(shapes, n)
    pp = poly_ptr.tolist()
    polys = ["[" + ",".join(rings[a:b]) + "]" for a, b in itertools.pairwise(pp)]
    gp = grid_poly_ptr.tolist()
    geoms = [('{"type":"Polygon","coordinates":' + polys[a] + "}") if b == a + 1 else
             ('{"type":"MultiPolygon","coordinates":[' + ",".join(polys[a:b]) + "]}")
             for a, b in itertools.pairwise(gp)]
    cols = [[f'"{name}":{tok}' for tok in _property_tokens(col)]
            for name, col in zip(header, columns, strict=True)]
    props = list(map(",".join, zip(*cols, strict=True))) if cols else [""] * n
    feats = [f'{{"type":"Feature","id":{g},"properties":{{{p}}},"geometry":{geom}}}'
             for g, (p, geom) in enumerate(zip(props, geoms, strict=True))]
    d = LONLAT_DECIMALS
    bbox = (",".join(f"{v:.{d}f}" for v in (lon.min(), lat.min(), lon.max(), lat.max()))
            if len(lon) else "")
    return ('{"type":"FeatureCollection","name":"grids",'
            + (f'"bbox":[{bbox}],' if bbox else "") + '"features":[\n'
            + ",\n".join(feats) + "\n]}\n")


def _field_array(column: Sequence[Any] | range) -> np.ndarray:
    """One grids.csv column as a GeoPackage field: int64, float64 (NaN: NULL) or text."""
    if isinstance(column, range):
        return np.asarray(column, dtype=np.int64)
    kinds = set(map(type, column))
    if kinds <= {int, np.int64, np.int32}:
        return np.asarray(column, dtype=np.int64)
    if kinds <= {int, float, np.float64, np.float32, np.int64}:
        return np.asarray(column, dtype=np.float64)
    return np.asarray([str(v) for v in column], dtype=object)


def write_gpkg(path: Path, region: Region, header: Sequence[str],
               columns: Sequence[Sequence[Any] | range],
               shapes: GridShapes | None = None) -> bool:
    """Write grids.gpkg (see the module docstring) atomically; ``False`` (nothing written)
    when pyogrio does not import."""
    try:
        import pyogrio  # optional: the geo extra
        import shapely  # start-up time: shapely only when GIS files are made
        from pyogrio.raw import write
    except ImportError:
        return False
    n = region.grids.n
    shapes = shapes if shapes is not None else grid_shapes(region)
    poly_ptr, grid_poly_ptr = _polygon_ptrs(shapes, n)
    single = bool((np.diff(grid_poly_ptr) == 1).all())
    if single:
        geoms = shapely.from_ragged_array(shapely.GeometryType.POLYGON, shapes.xy,
                                          (shapes.ring_ptr, poly_ptr))
    else:
        geoms = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, shapes.xy,
                                          (shapes.ring_ptr, poly_ptr, grid_poly_ptr))
    fields = [_field_array(c) for c in columns]
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    log = logging.getLogger("pyogrio")  # its "Created N records" stays out of gridsim.log
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        with atomic_target(path) as tmp:
            write(str(tmp), shapely.to_wkb(geoms), fields, list(header), layer="grids",
                  driver="GPKG", crs=region.crs, encoding="UTF-8",
                  geometry_type="Polygon" if single else "MultiPolygon")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
        log.setLevel(level)
    return True


def write_geo(folder: Path, region: Region, header: Sequence[str],
              columns: Sequence[Sequence[Any] | range]) -> list[Path]:
    """Write grids.geojson and (where pyogrio imports) grids.gpkg into ``folder``; returns the
    paths written."""
    folder = Path(folder)
    oriented = oriented_lonlat(region)
    written = [write_atomic(folder / GEOJSON, geojson_text(region, header, columns, oriented))]
    if write_gpkg(folder / GPKG, region, header, columns, oriented[0]):
        written.append(folder / GPKG)
    return written


def crs_fields(region: Region) -> dict[str, Any]:
    """``summary.json``'s coordinate system keys: ``crs``, the scenario's coordinate system of
    every ``x_m, y_m`` (as the scenario names it: ``EPSG:32648``, a PROJ string), and
    ``centre_lon``, ``centre_lat``: the mean of the grids' centres in degrees of WGS 84
    (6 decimals; scalars, so that results tables keep one column each)."""
    g = region.grids
    if g.n == 0:
        return {"crs": region.crs, "centre_lon": None, "centre_lat": None}
    lon, lat = lonlat(region.crs, np.array([g.x_m.mean()]), np.array([g.y_m.mean()]))
    return {"crs": region.crs, "centre_lon": round(float(lon[0]), LONLAT_DECIMALS),
            "centre_lat": round(float(lat[0]), LONLAT_DECIMALS)}
