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
``grids.gpkg`` (always written)
    A GeoPackage (OGC GeoPackage Encoding Standard 1.3, OGC 12-128r18) with one feature table
    ``grids`` (geometry column ``geom``, a POLYGON or, when some grid has several parts,
    MULTIPOLYGON layer): the same polygons and columns in the scenario's own coordinate system
    (metres: :attr:`~gridsim.model.region.Region.crs`), positions and numbers unrounded, empty
    cells as NULL; an R-tree spatial index ``rtree_grids_geom`` where SQLite has its rtree
    module. Written by hand through the standard library's sqlite3 (GDAL through pyogrio cost
    every run process 0.56 s CPU for ``import pyogrio`` alone), with the GeoPackage's
    ``last_change`` fixed at :data:`GPKG_DATE`, so that a run's files are byte-identical.

Everything is vectorised over the grids (positions transformed by one pyproj call, texts
joined by ``map``; the GeoPackage's R-tree packed in one pass): for a city's 18,176 grids
grids.geojson costs about 0.2 s CPU, grids.gpkg about 0.2 s and both files about 0.4 s
(benchmarks/bench_geo.py, a shared 2-core machine). The scenario's CRS and
the lon/lat of its centre go to ``summary.json`` (:func:`crs_fields`).
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.csvtext import csv_column
from gridsim.fsutil import write_atomic
from gridsim.model.region import GridShapes, Region
from gridsim.place.lonlat import (
    geometry_texts,
    grid_shapes,
    oriented_lonlat,
    polygon_ptrs,
    to_lonlat,
)

__all__ = ["GEOJSON", "GEO_FILES", "GPKG", "GPKG_APPLICATION_ID", "GPKG_DATE",
           "GPKG_PRIVATE_SRS_ID", "GPKG_USER_VERSION", "LONLAT_DECIMALS", "crs_fields",
           "geojson_text", "gpkg_srs", "write_geo", "write_gpkg"]

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
    # each feature's text from one template (a %s per value: the id, each property's JSON
    # value, the geometry), filled by one % per feature: about half the CPU of joining a
    # feature's pieces made a column at a time
    if len(header) != len(columns):
        raise ValueError(f"{len(columns)} columns for {len(header)} header names")
    tokens = [_property_tokens(col, tx) for col, tx in zip(columns, texts, strict=True)]
    template = ('{"type":"Feature","id":%s,"properties":{'
                + ",".join('"' + name.replace("%", "%%") + '":%s' for name in header)
                + '},"geometry":%s')
    feats = list(map(template.__mod__, zip(range(n), *tokens, geoms, strict=True)))
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


#: The GeoPackage's ``PRAGMA application_id`` ('GPKG') and ``user_version`` (1.3.0): OGC
#: GeoPackage Encoding Standard 1.3 (OGC 12-128r18), requirements 2 and 3.
GPKG_APPLICATION_ID = 0x47504B47
GPKG_USER_VERSION = 10300
#: First ``srs_id`` of a coordinate system without an EPSG code (organization ``NONE``).
GPKG_PRIVATE_SRS_ID = 100000
#: The GeoPackageBinary header of each geometry: 'GP', version 0, flags (bit 0: little-endian,
#: bits 1-3 = 1: an envelope [minx, maxx, miny, maxy]), srs_id, envelope (OGC 12-128r18 §2.1.3).
_GP_HEADER = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs_id", "<i4"),
                       ("envelope", "<f8", (4,))])
_GP_FLAGS = 0b0000_0011

_GPKG_TABLES = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
"""

#: The R-tree extension's triggers (OGC 12-128r18 Annex F.3), ``{t}`` the feature table,
#: ``{c}`` its geometry column, ``{i}`` its primary key: they keep the index right when a GIS
#: edits the layer (the ST_ functions are the GIS's; SQLite resolves them only when they run).
_RTREE_TRIGGERS = """
CREATE TRIGGER rtree_{t}_{c}_insert AFTER INSERT ON {t}
  WHEN (new.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  INSERT OR REPLACE INTO rtree_{t}_{c} VALUES (NEW.{i},
    ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}));
END;
CREATE TRIGGER rtree_{t}_{c}_update1 AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  INSERT OR REPLACE INTO rtree_{t}_{c} VALUES (NEW.{i},
    ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}));
END;
CREATE TRIGGER rtree_{t}_{c}_update2 AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM rtree_{t}_{c} WHERE id = OLD.{i};
END;
CREATE TRIGGER rtree_{t}_{c}_update3 AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM rtree_{t}_{c} WHERE id = OLD.{i};
  INSERT OR REPLACE INTO rtree_{t}_{c} VALUES (NEW.{i},
    ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}));
END;
CREATE TRIGGER rtree_{t}_{c}_update4 AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM rtree_{t}_{c} WHERE id IN (OLD.{i}, NEW.{i});
END;
CREATE TRIGGER rtree_{t}_{c}_delete AFTER DELETE ON {t}
  WHEN old.{c} NOT NULL
BEGIN
  DELETE FROM rtree_{t}_{c} WHERE id = OLD.{i};
END;
"""


@functools.lru_cache(maxsize=8)
def gpkg_srs(crs: str) -> tuple[int, str, str, int, str]:
    """The ``gpkg_spatial_ref_sys`` row of a scenario's coordinate system: ``(srs_id,
    srs_name, organization, organization_coordsys_id, definition)``; its EPSG code as srs_id
    where pyproj finds one, else :data:`GPKG_PRIVATE_SRS_ID` of organization ``NONE``. The
    definition is WKT 1 (GDAL's flavour), the version the standard's ``definition`` column
    holds (WKT 2 would need the ``gpkg_crs_wkt`` extension's extra column)."""
    from pyproj import CRS  # start-up time: pyproj only when GIS files are made

    c = CRS.from_user_input(crs)
    wkt = c.to_wkt("WKT1_GDAL")
    epsg = c.to_epsg()
    if epsg is not None:
        return epsg, c.name, "EPSG", epsg, wkt
    return GPKG_PRIVATE_SRS_ID, c.name, "NONE", GPKG_PRIVATE_SRS_ID, wkt


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_cells(column: Sequence[Any] | range) -> tuple[str, list[Any]]:
    """One grids.csv column as a GeoPackage column: its SQL type and its cells (int, float
    with NaN as NULL, or text)."""
    arr = _field_array(column)
    if arr.dtype == np.int64:
        return "INTEGER", arr.tolist()
    if arr.dtype == np.float64:
        cells: list[Any] = arr.tolist()
        if np.isnan(arr).any():
            cells = [None if v != v else v for v in cells]
        return "REAL", cells
    return "TEXT", arr.tolist()


def _outward_float32(v: np.ndarray, up: bool) -> np.ndarray:
    """``v`` as float32 rounded outward (down for a minimum, ``up`` for a maximum), so that a
    box of float32 still holds the box of doubles (what SQLite's R-tree stores)."""
    f = v.astype(np.float32)
    wrong = f < v if up else f > v
    if wrong.any():
        f[wrong] = np.nextafter(f[wrong], np.float32(np.inf if up else -np.inf))
    return f


def _str_order(boxes: np.ndarray, m: int) -> np.ndarray:
    """Sort-Tile-Recursive order of ``boxes`` (rows minx, maxx, miny, maxy) for nodes of ``m``
    entries: slabs of ``s * m`` boxes by centre x (``s`` the square root of the number of
    nodes), each slab by centre y (Leutenegger, Lopez & Edgington 1997)."""
    k = len(boxes)
    s = math.ceil(math.sqrt(math.ceil(k / m)))
    cx = boxes[:, 0] + boxes[:, 1]
    cy = boxes[:, 2] + boxes[:, 3]
    by_x = np.lexsort((np.arange(k), cx))
    slab = np.empty(k, dtype=np.int64)
    slab[by_x] = np.arange(k) // (s * m)
    return np.lexsort((np.arange(k), cy, slab))


def _pack_rtree(db: sqlite3.Connection, name: str, env: np.ndarray) -> None:
    """Fill the (just created, empty) SQLite R-tree ``name`` with the boxes ``env`` (row ``k``
    the box of fid ``k + 1``: minx, maxx, miny, maxy) by writing its nodes directly, packed
    bottom-up in STR order: a tenth of the CPU of 18,176 INSERTs, which split nodes one
    insertion at a time, and a tree of full nodes.

    SQLite's R-tree keeps its tree in three tables beside it (its documented file format,
    sqlite.org/src/file/ext/rtree/rtree.c): ``<name>_node(nodeno, data)``, each node a blob
    of the root's length: 2 bytes the tree's depth (the root's only), 2 bytes the number of
    cells, then per cell an int64 (a rowid in a leaf, a child's nodeno above) and the four
    coordinates as float32, all big-endian; node 1 is the root; ``<name>_rowid(rowid,
    nodeno)`` (each entry's leaf) and ``<name>_parent(nodeno, parentnode)``. SQLite's
    ``rtreecheck()`` verifies the result (tests/test_geo_outputs.py)."""
    size = db.execute(f"SELECT length(data) FROM {name}_node WHERE nodeno = 1").fetchone()[0]
    m = (size - 4) // 24  # cells per node: SQLite's own choice for the page size
    # levels bottom-up: each level's cells (a child: a fid, or a node's index in the level
    # below), their boxes and the index of the node holding each; full nodes of m cells
    child = np.arange(1, len(env) + 1, dtype=np.int64)
    box = np.column_stack([_outward_float32(env[:, 0], False), _outward_float32(env[:, 1], True),
                           _outward_float32(env[:, 2], False), _outward_float32(env[:, 3], True)])
    levels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while True:
        order = _str_order(box.astype(np.float64), m)
        child, box = child[order], box[order]
        node_of = np.arange(len(child)) // m
        levels.append((child, box, node_of))
        if len(child) <= m:
            break
        starts = np.arange(0, len(child), m)
        box = np.column_stack([np.minimum.reduceat(box[:, 0], starts),
                               np.maximum.reduceat(box[:, 1], starts),
                               np.minimum.reduceat(box[:, 2], starts),
                               np.maximum.reduceat(box[:, 3], starts)])
        child = np.arange(len(starts), dtype=np.int64)
    # node numbers: the root is 1, the levels below it follow from the top down
    counts = [(len(c) + m - 1) // m or 1 for c, _, _ in levels]
    numbers: list[np.ndarray] = []
    first = 1
    for count in reversed(counts):
        numbers.insert(0, np.arange(first, first + count, dtype=np.int64))
        first += count
    depth = len(levels) - 1
    cell = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])
    nodes: list[tuple[int, bytes]] = []
    parent_of = np.zeros(first, dtype=np.int64)  # by node number (0: none, the root's)
    for lev, (child, box, node_of) in enumerate(levels):
        ids = numbers[lev - 1][child] if lev else child
        cells = np.zeros(len(ids), dtype=cell)
        cells["id"] = ids
        cells["box"] = box
        raw = cells.tobytes()
        ptr = np.searchsorted(node_of, np.arange(counts[lev] + 1))
        for j, nodeno in enumerate(numbers[lev].tolist()):
            lo, hi = int(ptr[j]), int(ptr[j + 1])
            data = (struct.pack(">HH", depth if nodeno == 1 else 0, hi - lo)
                    + raw[lo * cell.itemsize:hi * cell.itemsize])
            nodes.append((nodeno, data + bytes(size - len(data))))
        if lev:
            parent_of[ids] = numbers[lev][node_of]
    leaf_fid, _, leaf_node = levels[0]
    leaf_of = np.empty(len(env), dtype=np.int64)  # by fid - 1
    leaf_of[leaf_fid - 1] = numbers[0][leaf_node]
    nodes.sort(key=lambda nd: nd[0])  # every table in key order
    db.execute(f"DELETE FROM {name}_node")
    db.executemany(f"INSERT INTO {name}_node (nodeno, data) VALUES (?, ?)", nodes)
    db.executemany(f"INSERT INTO {name}_rowid (rowid, nodeno) VALUES (?, ?)",
                   zip(range(1, len(env) + 1), leaf_of.tolist(), strict=True))
    db.executemany(f"INSERT INTO {name}_parent (nodeno, parentnode) VALUES (?, ?)",
                   zip(range(2, first), parent_of[2:].tolist(), strict=True))


def _gpkg_bytes(region: Region, header: Sequence[str],
                columns: Sequence[Sequence[Any] | range], shapes: GridShapes) -> bytes:
    """The whole GeoPackage, built in an in-memory SQLite database and serialised."""
    import shapely  # start-up time: shapely only when GIS files are made

    n = region.grids.n
    poly_ptr, grid_poly_ptr = polygon_ptrs(shapes, n)
    single = bool((np.diff(grid_poly_ptr) == 1).all())
    if single:
        geoms = shapely.from_ragged_array(shapely.GeometryType.POLYGON, shapes.xy,
                                          (shapes.ring_ptr, poly_ptr))
    else:
        geoms = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, shapes.xy,
                                          (shapes.ring_ptr, poly_ptr, grid_poly_ptr))
    wkb = shapely.to_wkb(geoms, output_dimension=2, byte_order=1, include_srid=False)
    bounds = shapely.bounds(geoms)  # minx, miny, maxx, maxy per grid
    srs_id, srs_name, org, org_id, wkt = gpkg_srs(region.crs)
    head = np.zeros(n, dtype=_GP_HEADER)
    head["magic"] = b"GP"
    head["flags"] = _GP_FLAGS
    head["srs_id"] = srs_id
    env = bounds[:, [0, 2, 1, 3]]  # minx, maxx, miny, maxy
    head["envelope"] = env
    hb = head.tobytes()
    size = _GP_HEADER.itemsize
    blobs = list(map(bytes.__add__, [hb[k:k + size] for k in range(0, n * size, size)], wkb))
    gtype = "POLYGON" if single else "MULTIPOLYGON"
    typed = [_sql_cells(c) for c in columns]
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        db.execute("BEGIN")
        for stmt in _GPKG_TABLES.split(";"):
            if stmt.strip():
                db.execute(stmt)
        srs_rows = [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined",
             "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined",
             "undefined geographic coordinate reference system"),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, gpkg_srs("EPSG:4326")[4],
             "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid")]
        if srs_id not in (-1, 0, 4326):
            srs_rows.append((srs_name, srs_id, org, org_id, wkt, f"the scenario's {region.crs}"))
        db.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", srs_rows)
        lo = bounds[:, :2].min(axis=0).tolist() if n else [None, None]
        hi = bounds[:, 2:].max(axis=0).tolist() if n else [None, None]
        db.execute("INSERT INTO gpkg_contents VALUES ('grids', 'features', 'grids', ?, ?, "
                   "?, ?, ?, ?, ?)", (f"grids of scenario {region.name}", GPKG_DATE,
                                      lo[0], lo[1], hi[0], hi[1], srs_id))
        db.execute("INSERT INTO gpkg_geometry_columns VALUES ('grids', 'geom', ?, ?, 0, 0)",
                   (gtype, srs_id))
        cols = ", ".join(f"{_sql_name(h)} {t}" for h, (t, _) in zip(header, typed, strict=True))
        db.execute("CREATE TABLE grids (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
                   f"geom {gtype}" + (f", {cols}" if cols else "") + ")")
        marks = ", ".join("?" * (len(header) + 2))
        db.executemany(f"INSERT INTO grids VALUES ({marks})",
                       zip(range(1, n + 1), blobs, *(cells for _, cells in typed),
                           strict=True))
        try:  # the R-tree spatial index, where SQLite has its rtree module (most builds)
            db.execute("CREATE VIRTUAL TABLE rtree_grids_geom USING "
                       "rtree(id, minx, maxx, miny, maxy)")
        except sqlite3.OperationalError:
            pass
        else:
            _pack_rtree(db, "rtree_grids_geom", env)
            for stmt in _RTREE_TRIGGERS.format(t="grids", c="geom", i="fid").split("END;"):
                if stmt.strip():
                    db.execute(stmt + "END;")
            db.execute("INSERT INTO gpkg_extensions VALUES ('grids', 'geom', "
                       "'gpkg_rtree_index', 'http://www.geopackage.org/spec120/"
                       "#extension_rtree', 'write-only')")
        db.execute("COMMIT")
        return db.serialize()
    finally:
        db.close()


def write_gpkg(path: Path, region: Region, header: Sequence[str],
               columns: Sequence[Sequence[Any] | range],
               shapes: GridShapes | None = None) -> bool:
    """Write grids.gpkg (see the module docstring) atomically: the database is built in
    memory and its bytes written through a ``.part`` file and a rename (no journal left
    beside it). Returns ``True`` (the file is always written now; the ``bool`` is kept for
    callers of the time when it depended on pyogrio)."""
    shapes = shapes if shapes is not None else grid_shapes(region)
    write_atomic(path, _gpkg_bytes(region, header, columns, shapes))
    return True


def write_geo(folder: Path, region: Region, header: Sequence[str],
              columns: Sequence[Sequence[Any] | range],
              cell_texts: Sequence[list[str]] | None = None) -> list[Path]:
    """Write grids.geojson and grids.gpkg into ``folder``; returns the paths written
    (``cell_texts``: the columns' cells as grids.csv writes them, if made)."""
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
