"""GIS outputs (issue 13, point 1): grids.geojson and grids.gpkg of a run, read back with
pyproj, shapely and pyogrio (GDAL, an independent reader of the GeoPackage gridsim writes by
hand through sqlite3; sqlite3 and struct for its tables, geometry headers and R-tree, checked
against OGC 12-128r18); the CRS in summary.json and the manifest; ``gridsim scenario
export``'s lon/lat grids; maps drawing real polygons.

The facts checked come from outside the code under test: the synthetic district is placed at
Suining (105.59 E, 30.53 N, docs/domain.md); a hand-made folder's polygons are given in lon/lat
here, so the files must give back those very positions; areas are measured in a local
Lambert equal-area projection and compared with the grids' ``area_km2``; grids.csv is read
with the csv module.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sqlite3
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from conftest import settings_for
from pyproj import CRS, Geod, Transformer

from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.params import RunConfig, ScriptedIncidentConfig
from gridsim.model.region import SYNTHETIC_CRS
from gridsim.output import geo
from gridsim.output.files import write_outputs
from gridsim.output.metrics import GRID_FIELDS
from gridsim.output.run_folder import read_manifest, result_file_names, run_in_folder
from gridsim.place.folder import export_scenario, load_parts

FAST = ("output.figures=false", "output.progress=false", "output.events_log=false")
SUINING = (105.59, 30.53)  # lon, lat
GEOD = Geod(ellps="WGS84")
TEXT_FIELDS = {"county", "township", "village", "kind", "mode_at_end"}


def read_geojson(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def shapes_of(doc: dict[str, Any]) -> list[Any]:
    return [shapely.geometry.shape(f["geometry"]) for f in doc["features"]]


def equal_area_km2(geoms: list[Any], lon0: float, lat0: float) -> np.ndarray:
    """Areas in km² in a Lambert azimuthal equal-area projection centred at (lon0, lat0)."""
    laea = CRS.from_proj4(f"+proj=laea +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m")
    tr = Transformer.from_crs("EPSG:4326", laea, always_xy=True)
    projected = [_tr(tr, g) for g in geoms]
    return np.array([g.area for g in projected]) / 1e6


def _tr(tr: Transformer, g: Any) -> Any:
    """``g`` with every position transformed by ``tr``."""
    return shapely.transform(g, lambda xy: np.column_stack(tr.transform(*xy.T)))


def right_hand(g: Any) -> bool:
    """RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise."""
    polys = list(g.geoms) if g.geom_type == "MultiPolygon" else [g]
    return all(p.exterior.is_ccw and not any(r.is_ccw for r in p.interiors) for p in polys)


# ----------------------------------------------------------------------------------------------
# a run of the synthetic `small` scenario (squares of the grids' areas)
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    s = settings_for("scenario=small", "hazard=calm", "duration_h=3", *FAST)
    fires = [ScriptedIncidentConfig(hazard="building_fire", grid=g, at_h=0.5 + 0.25 * k)
             for k, g in enumerate((3, 10, 20, 41))]
    result = simulate(dataclasses.replace(s, hazard=dataclasses.replace(s.hazard,
                                                                        incidents=fires)))
    folder = tmp_path_factory.mktemp("geo_small")
    write_outputs(result, folder, "test")
    return result, folder


def test_geojson_is_rfc7946_one_feature_per_grid(small_run: tuple[RunResult, Path]) -> None:
    result, folder = small_run
    doc = read_geojson(folder / geo.GEOJSON)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    feats = doc["features"]
    n = result.scenario.n_grids
    assert len(feats) == n
    assert [f["id"] for f in feats] == list(range(n))
    assert [f["properties"]["grid"] for f in feats] == list(range(n))
    assert all(f["type"] == "Feature" and f["geometry"]["type"] == "Polygon" for f in feats)
    geoms = shapes_of(doc)
    assert all(g.is_valid for g in geoms)
    assert all(right_hand(g) for g in geoms)
    xy = np.array([p for f in feats for ring in f["geometry"]["coordinates"] for p in ring])
    assert xy.shape[1] == 2  # positions [lon, lat], no altitude
    assert np.all(np.abs(xy[:, 0]) <= 180) and np.all(np.abs(xy[:, 1]) <= 90)
    # 6 decimals: every position is a multiple of 1e-6 degree
    assert np.allclose(np.round(xy * 1e6), xy * 1e6, rtol=0, atol=1e-6)
    lo = xy.min(axis=0)
    hi = xy.max(axis=0)
    assert doc["bbox"] == pytest.approx([lo[0], lo[1], hi[0], hi[1]], abs=1e-9)


def test_the_synthetic_district_lands_at_suining(small_run: tuple[RunResult, Path]) -> None:
    result, folder = small_run
    geoms = shapes_of(read_geojson(folder / geo.GEOJSON))
    cx = float(np.mean([g.centroid.x for g in geoms]))
    cy = float(np.mean([g.centroid.y for g in geoms]))
    _, _, d = GEOD.inv(cx, cy, *SUINING)
    assert d < 3_000  # metres: the district's grids are centred on Suining
    # each grid's centre in lon/lat is its (x_m, y_m) in the synthetic CRS (pyproj, by hand)
    g = result.scenario.region.grids
    lon, lat = Transformer.from_crs(SYNTHETIC_CRS, "EPSG:4326", always_xy=True).transform(
        g.x_m, g.y_m)
    centres = np.array([[c.x, c.y] for c in (gm.centroid for gm in geoms)])
    _, _, off = GEOD.inv(centres[:, 0], centres[:, 1], lon, lat)
    assert np.max(off) < 0.5  # metres (rounding to 1e-6 degree and the squares' distortion)


def test_polygon_areas_equal_the_grid_areas(small_run: tuple[RunResult, Path]) -> None:
    result, folder = small_run
    geoms = shapes_of(read_geojson(folder / geo.GEOJSON))
    area = equal_area_km2(geoms, *SUINING)
    np.testing.assert_allclose(area, result.scenario.region.grids.area_km2, rtol=0.01)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_properties_equal_the_rows_of_grids_csv(small_run: tuple[RunResult, Path]) -> None:
    _, folder = small_run
    rows = _csv_rows(folder / "grids.csv")
    feats = read_geojson(folder / geo.GEOJSON)["features"]
    assert len(rows) == len(feats)
    assert list(rows[0]) == list(GRID_FIELDS)
    for row, f in zip(rows, feats, strict=True):
        props = f["properties"]
        assert list(props) == list(GRID_FIELDS)
        for k, cell in row.items():
            if k in TEXT_FIELDS:
                assert props[k] == cell, k
            elif cell == "":
                assert props[k] is None, k
            else:
                assert isinstance(props[k], int | float) and props[k] == float(cell), k
    # the four fires were answered: their grids have response times, the others null
    answered = [f["properties"]["grid"] for f in feats
                if f["properties"]["response_time_p50_s"] is not None]
    assert answered == [3, 10, 20, 41]


def test_gpkg_holds_the_same_grids_in_the_scenario_crs(small_run: tuple[RunResult, Path]
                                                        ) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    result, folder = small_run
    path = folder / geo.GPKG
    info = pyogrio.read_info(path)
    assert info["features"] == result.scenario.n_grids
    assert CRS.from_user_input(info["crs"]).equals(CRS.from_user_input(SYNTHETIC_CRS))
    meta, _, wkb, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    assert names == list(GRID_FIELDS)
    rows = _csv_rows(folder / "grids.csv")
    for j, name in enumerate(names):
        col = fields[j]
        for i, row in enumerate(rows):
            cell = row[name]
            if name in TEXT_FIELDS:
                assert col[i] == cell
            elif cell == "":
                assert col[i] is None or (isinstance(col[i], float) and math.isnan(col[i]))
            else:
                assert float(col[i]) == pytest.approx(float(cell), abs=5e-7), (name, i)
    # geometries in metres; in lon/lat they are grids.geojson's within its rounding
    got = shapely.from_wkb(wkb)
    tr = Transformer.from_crs(SYNTHETIC_CRS, "EPSG:4326", always_xy=True)
    ll = [_tr(tr, g) for g in got]
    ref = shapes_of(read_geojson(folder / geo.GEOJSON))
    assert all(shapely.equals_exact(a, b, tolerance=1e-6) for a, b in zip(ll, ref, strict=True))
    # a GeoPackage (sqlite3): application id "GPKG", no wall-clock time in gpkg_contents
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert db.execute("SELECT last_change FROM gpkg_contents").fetchall() == [
            (geo.GPKG_DATE,)]


def test_same_run_gives_byte_identical_gis_files(small_run: tuple[RunResult, Path],
                                                 tmp_path: Path) -> None:
    result, folder = small_run
    write_outputs(result, tmp_path, "test")
    for name in (geo.GEOJSON, geo.GPKG, "summary.json", "grids.csv"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


def _blob_header(blob: bytes) -> tuple[bytes, int, int, int, tuple[float, ...]]:
    """OGC 12-128r18 §2.1.3: magic, version, flags, srs_id (little-endian: flags bit 0 set),
    envelope [minx, maxx, miny, maxy] (envelope type 1: flags bits 1-3)."""
    magic, version, flags = blob[:2], blob[2], blob[3]
    (srs_id,) = struct.unpack("<i", blob[4:8])
    return magic, version, flags, srs_id, struct.unpack("<4d", blob[8:40])


def test_gpkg_tables_follow_the_geopackage_standard(small_run: tuple[RunResult, Path]) -> None:
    """The required tables and rows of a GeoPackage 1.3 (OGC 12-128r18), read with sqlite3;
    each geometry's header and envelope, and the R-tree, against the grids' squares computed
    here from ``x_m, y_m, area_km2``."""
    result, folder = small_run
    g = result.scenario.region.grids
    half = np.maximum(np.sqrt(g.area_km2) * 1000.0, 1.0) / 2  # a square of the grid's area
    want = np.column_stack([g.x_m - half, g.x_m + half, g.y_m - half, g.y_m + half])
    path = folder / geo.GPKG
    assert not any(p.name.startswith(geo.GPKG) and p.name != geo.GPKG for p in folder.iterdir())
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        q = db.execute
        assert q("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
        assert q("PRAGMA user_version").fetchone()[0] == 10300
        assert q("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert q("PRAGMA foreign_key_check").fetchall() == []
        srs = {r[0]: r[1:] for r in q("SELECT srs_id, organization, organization_coordsys_id,"
                                      " definition FROM gpkg_spatial_ref_sys")}
        assert set(srs) == {-1, 0, 4326, 100000}  # the synthetic CRS has no EPSG code
        assert srs[-1][:2] == ("NONE", -1) and srs[0][:2] == ("NONE", 0)
        assert srs[4326][:2] == ("EPSG", 4326)
        assert CRS.from_wkt(srs[4326][2]).to_epsg() == 4326
        assert srs[100000][0] == "NONE"
        assert CRS.from_wkt(srs[100000][2]).equals(CRS.from_user_input(SYNTHETIC_CRS))
        (contents,) = q("SELECT table_name, data_type, last_change, min_x, min_y, max_x, max_y,"
                        " srs_id FROM gpkg_contents").fetchall()
        assert contents[:3] == ("grids", "features", geo.GPKG_DATE)
        assert contents[3:7] == pytest.approx((want[:, 0].min(), want[:, 2].min(),
                                               want[:, 1].max(), want[:, 3].max()), abs=1e-6)
        assert contents[7] == 100000
        assert q("SELECT * FROM gpkg_geometry_columns").fetchall() == [
            ("grids", "geom", "POLYGON", 100000, 0, 0)]
        rows = q("SELECT fid, geom FROM grids ORDER BY fid").fetchall()
        assert [r[0] for r in rows] == list(range(1, g.n + 1))
        for k, (_, blob) in enumerate(rows):
            magic, version, flags, srs_id, env = _blob_header(blob)
            assert (magic, version, flags, srs_id) == (b"GP", 0, 0b011, 100000)
            assert env == pytest.approx(tuple(want[k]), abs=1e-6)
            poly = shapely.from_wkb(blob[40:])  # standard WKB after the 40-byte header
            assert poly.geom_type == "Polygon" and poly.is_valid
            assert poly.area == pytest.approx(g.area_km2[k] * 1e6, rel=1e-9)
        # the R-tree: one box per feature, each holding its envelope (float32, rounded out)
        assert q("SELECT extension_name, scope FROM gpkg_extensions WHERE table_name = 'grids'"
                 " AND column_name = 'geom'").fetchall() == [("gpkg_rtree_index", "write-only")]
        boxes = np.array(q("SELECT id, minx, maxx, miny, maxy FROM rtree_grids_geom"
                           " ORDER BY id").fetchall())
        np.testing.assert_array_equal(boxes[:, 0], np.arange(1, g.n + 1))
        assert np.all(boxes[:, [1, 3]] <= want[:, [0, 2]])
        assert np.all(boxes[:, [2, 4]] >= want[:, [1, 3]])
        np.testing.assert_allclose(boxes[:, 1:], want, atol=1e-3)  # float32 near 2 km
        # SQLite's own check of the tree gridsim packs (nodes, parents, rowids, boxes), and a
        # query through it against brute force over the envelopes
        assert q("SELECT rtreecheck('rtree_grids_geom')").fetchone() == ("ok",)
        for x0, y0, r in ((0.0, 0.0, 300.0), (float(g.x_m[33]), float(g.y_m[33]), 50.0),
                          (float(g.x_m.min()), float(g.y_m.max()), 1e3)):
            hit = {i for (i,) in q("SELECT id FROM rtree_grids_geom WHERE minx <= ? AND "
                                   "maxx >= ? AND miny <= ? AND maxy >= ?",
                                   (x0 + r, x0 - r, y0 + r, y0 - r))}
            brute = {k + 1 for k in range(g.n) if want[k, 0] <= x0 + r and want[k, 1] >= x0 - r
                     and want[k, 2] <= y0 + r and want[k, 3] >= y0 - r}
            assert hit == brute and brute
        triggers = {r[0] for r in q("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert triggers == {f"rtree_grids_geom_{s}" for s in
                            ("insert", "update1", "update2", "update3", "update4", "delete")}
    # GDAL's spatial filter (through the R-tree): a small box at grid 20's centre finds it
    pyogrio = pytest.importorskip("pyogrio")
    info = pyogrio.read_info(path)
    assert info["geometry_type"] == "Polygon" and info["capabilities"]["fast_spatial_filter"]
    x, y = float(g.x_m[20]), float(g.y_m[20])
    _, fids, _, fields = pyogrio.raw.read(path, bbox=(x - 1, y - 1, x + 1, y + 1),
                                          return_fids=True, columns=["grid"])
    assert 21 in fids.tolist() and 20 in fields[0].tolist()


@pytest.mark.parametrize("count", [1, 51, 52, 3000])
def test_packed_rtree_answers_as_sqlites_own(count: int) -> None:
    """The R-tree grids.gpkg packs (STR, written node by node) for one node, a full one, one
    more, and three levels (3,000 boxes): SQLite's rtreecheck passes and window queries give
    what the same boxes INSERTed one by one into SQLite's R-tree give, and brute force."""
    rng = np.random.default_rng(count)
    x, y = rng.uniform(-5e4, 5e4, count), rng.uniform(-5e4, 5e4, count)
    half = rng.uniform(1.0, 800.0, (count, 2))
    env = np.column_stack([x - half[:, 0], x + half[:, 0], y - half[:, 1], y + half[:, 1]])
    packed = sqlite3.connect(":memory:")
    inserted = sqlite3.connect(":memory:")
    for db in (packed, inserted):
        db.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    geo._pack_rtree(packed, "r", env)
    inserted.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)",
                         zip(range(1, count + 1), *env.T.tolist(), strict=True))
    packed.commit()
    depth = packed.execute("SELECT substr(data, 1, 2) FROM r_node WHERE nodeno = 1").fetchone()
    assert int.from_bytes(depth[0], "big") == {1: 0, 51: 0, 52: 1, 3000: 2}[count]
    fresh = sqlite3.connect(":memory:")  # read back as another connection would
    fresh.deserialize(packed.serialize())
    assert fresh.execute("SELECT rtreecheck('r')").fetchone() == ("ok",)
    assert fresh.execute("SELECT count(*) FROM r").fetchone() == (count,)
    sql = "SELECT id FROM r WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?"
    for _ in range(20):
        cx, cy, r = *rng.uniform(-5e4, 5e4, 2), rng.uniform(0.0, 5e3)
        win = (cx + r, cx - r, cy + r, cy - r)
        got = {i for (i,) in fresh.execute(sql, win)}
        assert got == {i for (i,) in inserted.execute(sql, win)}
        assert got == set((np.flatnonzero((env[:, 0] <= cx + r) & (env[:, 1] >= cx - r)
                                          & (env[:, 2] <= cy + r) & (env[:, 3] >= cy - r))
                           + 1).tolist())


def test_gpkg_needs_neither_pyogrio_nor_gdal(small_run: tuple[RunResult, Path],
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A run writes grids.gpkg with no GIS library importable (the geo extra absent): the
    same bytes as the run's file."""
    result, folder = small_run
    for name in ("pyogrio", "pyogrio.raw", "osgeo", "fiona", "pyarrow"):
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    from gridsim.output.metrics import grid_columns

    assert geo.write_gpkg(tmp_path / geo.GPKG, result.scenario.region, GRID_FIELDS,
                          grid_columns(result))
    assert (tmp_path / geo.GPKG).read_bytes() == (folder / geo.GPKG).read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [geo.GPKG]  # no .part, -journal, -wal


def test_output_gis_false_writes_no_gis_file_and_the_same_rest(
        small_run: tuple[RunResult, Path], tmp_path: Path) -> None:
    """``output.gis=false`` (large sweeps): no grids.geojson nor grids.gpkg; every other file
    is the same as with them."""
    result, folder = small_run
    out = dataclasses.replace(result.settings.output, gis=False)
    quiet = dataclasses.replace(result, settings=dataclasses.replace(result.settings, output=out))
    write_outputs(quiet, tmp_path, "test")
    assert not (tmp_path / geo.GEOJSON).exists() and not (tmp_path / geo.GPKG).exists()
    assert (folder / geo.GEOJSON).exists()
    for name in ("grids.csv", "incidents.csv"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


def test_summary_and_manifest_state_the_crs(small_run: tuple[RunResult, Path],
                                            tmp_path: Path) -> None:
    _, folder = small_run
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["crs"] == SYNTHETIC_CRS
    _, _, d = GEOD.inv(summary["centre_lon"], summary["centre_lat"], *SUINING)
    assert d < 3_000
    assert geo.GEOJSON in result_file_names() and geo.GPKG in result_file_names()
    # the manifest repeats what the summary states
    out = run_in_folder(tmp_path / "run", config={"seed": 1}, inputs=[], seed=1, replication=0,
                        overrides=[], version="test",
                        body=lambda f: {"crs": "EPSG:32648", "centre_lon": 105.5,
                                        "centre_lat": 30.5})
    assert out.status == "done"
    m = read_manifest(tmp_path / "run")
    assert m is not None
    assert (m["crs"], m["centre_lon"], m["centre_lat"]) == ("EPSG:32648", 105.5, 30.5)


# ----------------------------------------------------------------------------------------------
# a hand-made scenario folder: polygons in lon/lat, the scenario in UTM 48N (EPSG:32648)
# ----------------------------------------------------------------------------------------------
def _square(lon0: float, lat0: float, d: float, clockwise: bool = False) -> list[list[float]]:
    ring = [[lon0, lat0], [lon0 + d, lat0], [lon0 + d, lat0 + d], [lon0, lat0 + d], [lon0, lat0]]
    return ring[::-1] if clockwise else ring


#: Four grids as given (lon/lat): a square; a square wound clockwise; a square with a hole
#: (the hole wound counter-clockwise); a MultiPolygon of two squares.
HAND_GEOMS: list[dict[str, Any]] = [
    {"type": "Polygon", "coordinates": [_square(105.590, 30.530, 0.002)]},
    {"type": "Polygon", "coordinates": [_square(105.592, 30.530, 0.002, clockwise=True)]},
    {"type": "Polygon", "coordinates": [_square(105.590, 30.532, 0.004),
                                        _square(105.591, 30.533, 0.001)]},
    {"type": "MultiPolygon", "coordinates": [[_square(105.594, 30.530, 0.002)],
                                             [_square(105.594, 30.533, 0.002)]]},
]


@pytest.fixture(scope="module")
def hand_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hand_utm")
    feats = [{"type": "Feature", "properties": {
        "id": i, "township": "T1", "village": "V1", "kind": "urban_community",
        "population": 1000 + i, "households": 400, "vulnerable_share": 0.1},
        "geometry": gm} for i, gm in enumerate(HAND_GEOMS)]
    (folder / "grids.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                      "features": feats}), encoding="utf-8")
    # roads: a node at each grid's centroid (in UTM, by pyproj here), joined in a chain
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    cents = [shapely.geometry.shape(gm).centroid for gm in HAND_GEOMS]
    xy = [tr.transform(c.x, c.y) for c in cents]
    nodes = "".join(f'<node id="{i}"><data key="x">{x!r}</data><data key="y">{y!r}</data>'
                    "</node>\n" for i, (x, y) in enumerate(xy))
    edges = "".join(f'<edge source="{i}" target="{i + 1}"><data key="length_m">'
                    f"{math.dist(xy[i], xy[i + 1])!r}</data><data key=\"speed_mps\">8.0</data>"
                    '<data key="road_class">urban</data></edge>\n' for i in range(len(xy) - 1))
    (folder / "roads.graphml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
        '<key id="x" for="node" attr.name="x" attr.type="double"/>\n'
        '<key id="y" for="node" attr.name="y" attr.type="double"/>\n'
        '<key id="length_m" for="edge" attr.name="length_m" attr.type="double"/>\n'
        '<key id="speed_mps" for="edge" attr.name="speed_mps" attr.type="double"/>\n'
        '<key id="road_class" for="edge" attr.name="road_class" attr.type="string"/>\n'
        f'<graph id="roads" edgedefault="undirected">\n{nodes}{edges}</graph>\n</graphml>\n',
        encoding="utf-8")
    (folder / "scenario.yaml").write_text(
        "name: hand_utm\ncrs: EPSG:32648\ngrids: grids.geojson\nroads: roads.graphml\n",
        encoding="utf-8")
    return folder


def _hand_settings(folder: Path) -> RunConfig:
    s = settings_for("scenario=small", "hazard=calm", "duration_h=1", *FAST)
    return dataclasses.replace(s, scenario=dataclasses.replace(
        s.scenario, generator="files", path=str(folder)))


@pytest.fixture(scope="module")
def hand_run(hand_folder: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[RunResult, Path]:
    result = simulate(_hand_settings(hand_folder))
    out = tmp_path_factory.mktemp("geo_hand")
    write_outputs(result, out, "test")
    return result, out


def test_a_folders_polygons_come_back_at_their_lonlat(hand_run: tuple[RunResult, Path]
                                                      ) -> None:
    result, out = hand_run
    region = result.scenario.region
    assert region.crs == "EPSG:32648" and region.shapes is not None
    doc = read_geojson(out / geo.GEOJSON)
    got = shapes_of(doc)
    assert [f["geometry"]["type"] for f in doc["features"]] == [
        "Polygon", "Polygon", "Polygon", "MultiPolygon"]
    for g, given in zip(got, HAND_GEOMS, strict=True):
        ref = shapely.geometry.shape(given)
        assert g.is_valid and right_hand(g)
        # the same positions (UTM and back, rounded to 1e-6 degree), orientation aside
        assert shapely.equals_exact(shapely.normalize(g), shapely.normalize(ref),
                                    tolerance=1.01e-6)
    assert len(got[2].interiors) == 1 and len(got[3].geoms) == 2
    # the hole is not part of the grid: its area is the exterior's less the hole's
    area = equal_area_km2(got, 105.592, 30.532)
    np.testing.assert_allclose(area, region.grids.area_km2, rtol=0.01)
    ratio = area[2] / area[0]
    assert ratio == pytest.approx((16 - 1) / 4, rel=0.01)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["crs"] == "EPSG:32648"
    _, _, d = GEOD.inv(summary["centre_lon"], summary["centre_lat"], 105.593, 30.533)
    assert d < 300


def test_a_folders_gpkg_keeps_its_utm_polygons(hand_run: tuple[RunResult, Path]) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    _, out = hand_run
    meta, _, wkb, _ = pyogrio.raw.read(out / geo.GPKG)
    assert CRS.from_user_input(meta["crs"]).to_epsg() == 32648
    assert meta["geometry_type"] == "MultiPolygon"
    with sqlite3.connect(f"file:{out / geo.GPKG}?mode=ro", uri=True) as db:
        assert db.execute("SELECT srs_id, organization, organization_coordsys_id FROM "
                          "gpkg_spatial_ref_sys WHERE srs_id > 4326").fetchall() == [
            (32648, "EPSG", 32648)]
        assert db.execute("SELECT geometry_type_name, srs_id FROM gpkg_geometry_columns"
                          ).fetchall() == [("MULTIPOLYGON", 32648)]
        flags = {_blob_header(b)[2:4] for (b,) in db.execute("SELECT geom FROM grids")}
        assert flags == {(0b011, 32648)}
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    for g, given in zip(shapely.from_wkb(wkb), HAND_GEOMS, strict=True):
        ref = _tr(tr, shapely.geometry.shape(given))
        assert shapely.equals_exact(shapely.normalize(g), shapely.normalize(
            shapely.MultiPolygon([ref]) if ref.geom_type == "Polygon" else ref),
            tolerance=1e-6)  # metres


def test_export_writes_lonlat_and_loads_back_the_same_polygons(
        hand_run: tuple[RunResult, Path], tmp_path: Path) -> None:
    result, _ = hand_run
    sc = result.scenario
    cfg = _hand_settings(Path(result.settings.scenario.path)).scenario
    export_scenario(sc, cfg, tmp_path / "exported")
    spec = (tmp_path / "exported" / "scenario.yaml").read_text(encoding="utf-8")
    assert "crs: EPSG:32648" in spec and "grids: EPSG:4326" in spec
    doc = read_geojson(tmp_path / "exported" / "grids.geojson")
    assert "crs" not in doc
    for g, given in zip(shapes_of(doc), HAND_GEOMS, strict=True):  # in lon/lat, to the digit
        assert right_hand(g)
        assert shapely.equals_exact(shapely.normalize(g),
                                    shapely.normalize(shapely.geometry.shape(given)),
                                    tolerance=1e-9)
    region = load_parts(tmp_path / "exported", cfg)[0]
    a, b = region.shapes, sc.region.shapes
    assert a is not None and b is not None
    np.testing.assert_array_equal(a.ring_ptr, b.ring_ptr)
    np.testing.assert_array_equal(a.ring_hole, b.ring_hole)
    np.testing.assert_array_equal(a.ring_grid, b.ring_grid)
    ga = [shapely.normalize(shapely.polygons(a.xy[s:e])) for s, e in
          zip(a.ring_ptr[:-1], a.ring_ptr[1:], strict=True)]
    gb = [shapely.normalize(shapely.polygons(b.xy[s:e])) for s, e in
          zip(b.ring_ptr[:-1], b.ring_ptr[1:], strict=True)]
    assert all(shapely.equals_exact(x, y, tolerance=1e-3) for x, y in zip(ga, gb, strict=True))
    np.testing.assert_array_equal(region.grids.x_m, sc.region.grids.x_m)
    np.testing.assert_array_equal(region.grids.y_m, sc.region.grids.y_m)


def test_an_exported_synthetic_folder_opens_at_suining(small_run: tuple[RunResult, Path],
                                                       tmp_path: Path) -> None:
    result, _ = small_run
    sc = result.scenario
    export_scenario(sc, result.settings.scenario, tmp_path / "small")
    geoms = shapes_of(read_geojson(tmp_path / "small" / "grids.geojson"))
    cx = float(np.mean([g.centroid.x for g in geoms]))
    cy = float(np.mean([g.centroid.y for g in geoms]))
    _, _, d = GEOD.inv(cx, cy, *SUINING)
    assert d < 3_000
    np.testing.assert_allclose(equal_area_km2(geoms, *SUINING), sc.region.grids.area_km2,
                               rtol=0.01)


def test_maps_draw_a_folders_polygons(hand_run: tuple[RunResult, Path], tmp_path: Path) -> None:
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure

    from gridsim.output import maps

    result, _ = hand_run
    sc = result.scenario
    fig = Figure()
    ax = fig.add_subplot()
    _, grids = maps._draw(ax, sc, "kind", None, maps._DISTRICT)
    assert isinstance(grids, PathCollection)
    paths = grids.get_paths()
    assert len(paths) == sc.n_grids
    shapes = sc.region.shapes
    assert shapes is not None
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    for p, given in zip(paths, HAND_GEOMS, strict=True):
        # each grid's path fills exactly its polygon (the hole left out): same area in km²
        ref = _tr(tr, shapely.geometry.shape(given))
        rings = [shapely.LinearRing(r) for r in p.to_polygons(closed_only=True)]
        signed = sum(shapely.Polygon(r).area * (1 if r.is_ccw else -1) for r in rings)
        assert signed == pytest.approx(ref.area / 1e6, rel=1e-9)
    assert maps.scenario_map(sc, tmp_path / "map.png").stat().st_size > 10_000


def test_a_position_without_lonlat_is_a_clear_error(small_run: tuple[RunResult, Path]) -> None:
    """A scenario whose metres its CRS cannot take to lon/lat (beyond the projection's
    domain) names the grid and the CRS instead of writing ``inf`` into the file."""
    from gridsim.errors import UserError

    result, _ = small_run
    region = result.scenario.region
    far = dataclasses.replace(region.grids, x_m=np.where(np.arange(region.grids.n) == 7,
                                                         1e30, region.grids.x_m))
    with pytest.raises(UserError, match=r"grid 7 of scenario 'small'.*no lon/lat"):
        geo.geojson_text(dataclasses.replace(region, grids=far), ["grid"],
                         [range(region.grids.n)])
