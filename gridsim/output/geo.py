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

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.csvtext import csv_column
from gridsim.fsutil import atomic_target, write_atomic
from gridsim.model.region import GridShapes, Region
from gridsim.place.lonlat import (
    geometry_texts,
    grid_shapes,
    oriented_lonlat,
    polygon_ptrs,
    to_lonlat,
)

__all__ = ["GEOJSON", "GEO_FILES", "GPKG", "GPKG_DATE", "LONLAT_DECIMALS", "crs_fields",
           "geojson_text", "write_geo", "write_gpkg"]

GEOJSON = "grids.geojson"
GPKG = "grids.gpkg"
#: The GIS files a run may write (:data:`gridsim.output.files.OUTPUT_FILES` lists them too).
GEO_FILES: tuple[str, ...] = (GEOJSON, GPKG)
#: Decimals of lon/lat in grids.geojson (1e-6 degree: 0.11 m of latitude).
LONLAT_DECIMALS = 6
#: ``gpkg_contents.last_change`` of grids.gpkg: no wall-clock time in a run's files.
GPKG_DATE = "1970-01-01T00:00:00.000Z"


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
    geoms = geometry_texts(shapes, lon, lat, n, LONLAT_DECIMALS)
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
    poly_ptr, grid_poly_ptr = polygon_ptrs(shapes, n)
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
    lon, lat = to_lonlat(region.crs, np.array([g.x_m.mean()]), np.array([g.y_m.mean()]))
    return {"crs": region.crs, "centre_lon": round(float(lon[0]), LONLAT_DECIMALS),
            "centre_lat": round(float(lat[0]), LONLAT_DECIMALS)}
