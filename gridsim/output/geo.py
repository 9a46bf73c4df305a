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
``grids.gpkg`` (when pyogrio >= 0.10, the ``geo`` extra, imports)
    A GeoPackage with one layer ``grids`` (geometry column ``geom``): the same polygons and
    columns in the scenario's own coordinate system (metres: :attr:`~gridsim.model.region.
    Region.crs`), positions and numbers unrounded, empty cells as NULL. Written by GDAL
    through pyogrio's Arrow writer with the GeoPackage's ``last_change`` fixed at
    :data:`GPKG_DATE`, so that a run's files are byte-identical.

Everything is vectorised over the grids (positions transformed by one pyproj call, texts
joined by ``map``): for a city's 18,176 grids grids.geojson costs about 0.2 s CPU and both
files about 0.35 s (benchmarks/bench_geo.py, a loaded 2-core machine). The scenario's CRS and
the lon/lat of its centre go to ``summary.json`` (:func:`crs_fields`).
"""

from __future__ import annotations

import json
import logging
import warnings
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


def _property_tokens(column: Sequence[Any] | range, texts: list[str] | None = None
                     ) -> list[str]:
    """JSON values of one grids.csv column: a number as grids.csv writes it (an empty cell as
    ``null``), a text as a JSON string (``texts``: the column's cells as grids.csv writes them,
    if already made)."""
    texts = csv_column(column) if texts is None else texts
    first = next(iter(column), None)
    if isinstance(first, str):  # names: few distinct ones, each quoted once
        quoted = {t: json.dumps(t, ensure_ascii=False) for t in set(texts)}
        return list(map(quoted.__getitem__, texts))
    if "" not in texts:
        return texts
    return [t if t else "null" for t in texts]


def geojson_text(region: Region, header: Sequence[str],
                 columns: Sequence[Sequence[Any] | range],
                 oriented: tuple[GridShapes, np.ndarray, np.ndarray] | None = None,
                 cell_texts: Sequence[list[str]] | None = None) -> str:
    """The text of grids.geojson: the region's grids with the per-grid table ``header`` /
    ``columns`` (grids.csv's) as properties (``oriented``: :func:`oriented_lonlat` of the
    region, ``cell_texts``: the columns' cells as grids.csv writes them, if already made)."""
    n = region.grids.n
    shapes, lon, lat = oriented if oriented is not None else oriented_lonlat(region)
    geoms = geometry_texts(shapes, lon, lat, n, LONLAT_DECIMALS)
    texts = cell_texts if cell_texts is not None else [None] * len(columns)
    # each feature's text as the concatenation of its pieces, a column at a time
    pieces: list[list[str]] = [[f'{{"type":"Feature","id":{g},"properties":{{'
                                for g in range(n)]]
    for k, (name, col, tx) in enumerate(zip(header, columns, texts, strict=True)):
        pieces.append(list(map((("," if k else "") + f'"{name}":').__add__,
                               _property_tokens(col, tx))))
    pieces.append(list(map('},"geometry":'.__add__, geoms)))
    feats = list(map("".join, zip(*pieces, strict=True)))
    d = LONLAT_DECIMALS
    bbox = (",".join(f"{v:.{d}f}" for v in (lon.min(), lat.min(), lon.max(), lat.max()))
            if len(lon) else "")
    return ('{"type":"FeatureCollection","name":"grids",'
            + (f'"bbox":[{bbox}],' if bbox else "") + '"features":[\n'
            + "},\n".join(feats) + "}\n]}\n")


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
        from pyogrio.raw import write_arrow
    except ImportError:
        return False
    import pyarrow as pa  # start-up time: Arrow only when a GeoPackage is written
    import shapely  # start-up time: shapely only when GIS files are made

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
    # an Arrow table (NaN as null), handed to GDAL in one piece: about half the CPU of
    # pyogrio.raw.write's field-by-field copy for a city's 18,176 rows
    table = pa.table({**{name: pa.array(_field_array(c), from_pandas=True)
                         for name, c in zip(header, columns, strict=True)},
                      "geom": pa.array(shapely.to_wkb(geoms))})
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    log = logging.getLogger("pyogrio")  # its "Created N records" stays out of gridsim.log
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        with atomic_target(path) as tmp, warnings.catch_warnings():
            # the temporary name ends in .part (the run folder's convention), not .gpkg
            warnings.filterwarnings("ignore", message="The filename extension should be")
            write_arrow(table, str(tmp), layer="grids", driver="GPKG", crs=region.crs,
                        encoding="UTF-8", geometry_name="geom",
                        geometry_type="Polygon" if single else "MultiPolygon")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
        log.setLevel(level)
    return True


def write_geo(folder: Path, region: Region, header: Sequence[str],
              columns: Sequence[Sequence[Any] | range],
              cell_texts: Sequence[list[str]] | None = None) -> list[Path]:
    """Write grids.geojson and (where pyogrio imports) grids.gpkg into ``folder``; returns the
    paths written (``cell_texts``: the columns' cells as grids.csv writes them, if made)."""
    folder = Path(folder)
    oriented = oriented_lonlat(region)
    written = [write_atomic(folder / GEOJSON, geojson_text(region, header, columns, oriented,
                                                            cell_texts))]
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
