"""Bad scenario data gets a precise error: the file, the feature or row, the field and what was
expected; every problem at once; and nothing is returned (or simulated) from a folder with any
problem."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import settings_for

from gridsim.model.params import RunConfig
from gridsim.place.folder import ScenarioDataError, export_scenario, load_parts, validate_folder
from gridsim.place.scenario import build_scenario


@pytest.fixture(scope="module")
def small() -> RunConfig:
    return settings_for("scenario=small", "output.figures=false", "output.progress=false")


@pytest.fixture(scope="module")
def exported(small: RunConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 70 grids of `small` as a scenario folder (the starting point of every broken one)."""
    folder = tmp_path_factory.mktemp("good") / "small"
    sc = build_scenario(small.scenario)
    export_scenario(sc, small.scenario, folder)
    assert validate_folder(folder) == []
    return folder


@pytest.fixture
def broken(exported: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(exported, folder)
    return folder


def edit_grids(folder: Path, fn: Callable[[list[dict[str, Any]]], None]) -> None:
    path = folder / "grids.geojson"
    geo = json.loads(path.read_text(encoding="utf-8"))
    fn(geo["features"])
    path.write_text(json.dumps(geo), encoding="utf-8")


def edit_text(path: Path, fn: Callable[[str], str]) -> None:
    path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8")


def in_metres(folder: Path) -> Path:
    """``folder`` with grids.geojson in metres of the scenario crs (``input_crs.grids`` the
    scenario crs) instead of the export's lon/lat (``input_crs.grids: EPSG:4326``): the form a
    planner's GIS may write, and the one the tests below add features to in metres. pyproj
    projects the lon/lat back; the folder still validates."""
    from pyproj import Transformer

    spec = folder / "scenario.yaml"
    text = spec.read_text(encoding="utf-8")
    crs = re.search(r"^crs: (.+)$", text, re.MULTILINE)
    assert crs is not None and "input_crs:\n  grids: EPSG:4326\n" in text
    to_m = Transformer.from_crs("EPSG:4326", crs.group(1), always_xy=True)

    def project(feats: list[dict[str, Any]]) -> None:
        for f in feats:
            g = f["geometry"]
            polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
            for poly in polys:
                for ring in poly:
                    ring[:] = [list(to_m.transform(lon, lat)) for lon, lat in ring]

    edit_grids(folder, project)
    spec.write_text(text.replace("input_crs:\n  grids: EPSG:4326\n",
                                 f"input_crs:\n  grids: {crs.group(1)}\n"), encoding="utf-8")
    assert validate_folder(folder) == []
    return folder


def problems(folder: Path, small: RunConfig) -> list[str]:
    """The problems of ``folder``; loading it raises with the same list."""
    errors = validate_folder(folder)
    assert errors, "expected problems"
    with pytest.raises(ScenarioDataError) as e:
        load_parts(folder, small.scenario)
    assert e.value.errors == errors
    assert isinstance(e.value, ValueError)
    return errors


# ----------------------------------------------------------------------------------------------
# the problems the issue lists
# ----------------------------------------------------------------------------------------------
def test_polygon_not_closed(broken: Path, small: RunConfig) -> None:
    def unclose(feats: list[dict[str, Any]]) -> None:
        ring = feats[2]["geometry"]["coordinates"][0]
        ring[-1] = [ring[-1][0] + 5.0, ring[-1][1]]

    edit_grids(broken, unclose)
    (err,) = problems(broken, small)
    assert err.startswith("grids.geojson: feature 2 (id 2): geometry: expected a closed ring "
                          "(the first position repeated at the end) in ring 0, got first ")


def test_ring_with_too_few_positions(broken: Path, small: RunConfig) -> None:
    def shorten(feats: list[dict[str, Any]]) -> None:
        ring = feats[6]["geometry"]["coordinates"][0]
        feats[6]["geometry"]["coordinates"][0] = [ring[0], ring[1], ring[0]]

    edit_grids(broken, shorten)
    assert problems(broken, small) == [
        "grids.geojson: feature 6 (id 6): geometry: expected at least 4 positions in ring 0 (a "
        "closed ring), got 3"]


def test_negative_population(broken: Path, small: RunConfig) -> None:
    edit_grids(broken, lambda f: f[3]["properties"].update(population=-5))
    assert problems(broken, small) == [
        "grids.geojson: feature 3 (id 3): population: expected an integer >= 0, got -5"]


def test_duplicate_ids(broken: Path, small: RunConfig) -> None:
    edit_grids(broken, lambda f: f[5]["properties"].update(id=4))
    assert problems(broken, small) == [
        "grids.geojson: feature 5 (id 4): id: expected a unique id (id 4 is also feature 4), "
        "got 4"]


def test_ids_must_number_the_grids(broken: Path, small: RunConfig) -> None:
    edit_grids(broken, lambda f: f[69]["properties"].update(id=512))
    assert problems(broken, small) == [
        "grids.geojson: feature 69 (id 512): id: expected an id in 0..69 (grid ids number the 70 "
        "grids from 0), got 512"]


def test_facility_off_the_road_network(broken: Path, small: RunConfig) -> None:
    edit_text(broken / "stations.csv", lambda s: s + "fire,2,,25000.0,-3000.5\n")
    (err,) = problems(broken, small)
    assert err.startswith("stations.csv: row 6 (fire): x, y: expected a position within "
                          "max_snap_m = 500 m (scenario.yaml) of a road, got the nearest road ")
    assert err.endswith(" m away")
    dist = float(err.split("nearest road ")[1].split(" m")[0])
    assert 20_000 < dist < 26_000


def test_grid_centre_off_the_road_network(broken: Path, small: RunConfig) -> None:
    def move(feats: list[dict[str, Any]]) -> None:
        p = feats[7]["properties"]
        del p["road_node"]  # snapped, not named
        p["centre_x_m"] += 9000.0

    edit_grids(broken, move)
    # 9 km away it is also far from every other grid (the geometric check: docs "Geometric
    # checks"), a problem of its own
    err, isolated = problems(broken, small)
    assert err.startswith("grids.geojson: feature 7 (id 7): centre: expected a road node within "
                          "max_snap_m = 500 m (scenario.yaml) of the grid's centre, got the "
                          "nearest road ")
    assert err.endswith(" m away in roads.graphml")
    assert isolated.startswith("grids.geojson: feature 7 (id 7): centre: expected a grid near "
                               "the others")


def test_grids_unreachable_on_the_road_graph(broken: Path, small: RunConfig) -> None:
    """Two grids 6 km east of the district, on a road of their own: one error lists them."""
    in_metres(broken)  # the new grids' squares below are in metres
    x0 = 6000.0

    def add(feats: list[dict[str, Any]]) -> None:
        for k in (70, 71):
            x = x0 + 300.0 * (k - 70)
            ring = [[x - 100, -100], [x + 100, -100], [x + 100, 100], [x - 100, 100],
                    [x - 100, -100]]
            props = dict(feats[0]["properties"], id=k, neighbours=[141 - k],
                         centre_x_m=x, centre_y_m=0.0, area_km2=0.04)
            del props["road_node"]
            feats.append({"type": "Feature", "properties": props,
                          "geometry": {"type": "Polygon", "coordinates": [ring]}})

    edit_grids(broken, add)
    edit_text(broken / "roads.graphml", lambda s: s.replace("  </graph>", (
        f'    <node id="e1"><data key="x">{x0}</data><data key="y">0.0</data></node>\n'
        f'    <node id="e2"><data key="x">{x0 + 300}</data><data key="y">0.0</data></node>\n'
        '    <edge source="e1" target="e2"><data key="length_m">300.0</data>'
        '<data key="speed_mps">7.0</data><data key="road_class">rural</data></edge>\n'
        "  </graph>")))
    assert problems(broken, small) == [
        "roads.graphml: grids 70, 71: connectivity: expected every grid to be reachable by road "
        "from the others, got 2 grids whose nearest roads are not connected to the road network "
        "of the other 70 grids"]


def test_many_unreachable_grids_are_listed_with_a_count(tmp_path: Path, small: RunConfig) -> None:
    """A hand-made folder: 30 grids in a row, each on a road stub of its own; the stubs of grids
    0-4 are linked into one network, the main one (it reaches most grids). The other 25 grids
    are listed (the first 20) and counted, in one line."""
    feats = []
    nodes = []
    edges = []
    road = '<data key="road_class">residential</data>'
    for k in range(30):
        x = 1000.0 * k
        ring = [[x - 50, -50], [x + 50, -50], [x + 50, 50], [x - 50, 50], [x - 50, -50]]
        feats.append({"type": "Feature", "properties": {
            "id": k, "township": "T1", "village": "V1", "kind": "rural", "population": 10,
            "households": 4, "vulnerable_share": 0.1}, "geometry": {
                "type": "Polygon", "coordinates": [ring]}})
        nodes += [f'<node id="a{k}"><data key="x">{x}</data><data key="y">0</data></node>',
                  f'<node id="b{k}"><data key="x">{x}</data><data key="y">10</data></node>']
        edges.append(f'<edge source="a{k}" target="b{k}">{road}</edge>')
    edges += [f'<edge source="a{k}" target="a{k + 1}">{road}</edge>' for k in range(4)]
    (tmp_path / "grids.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    (tmp_path / "roads.graphml").write_text(
        '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="x" for="node" attr.name="x" attr.type="double"/>'
        '<key id="y" for="node" attr.name="y" attr.type="double"/>'
        '<key id="road_class" for="edge" attr.name="road_class" attr.type="string"/>'
        '<graph edgedefault="undirected">' + "".join(nodes + edges) + "</graph></graphml>",
        encoding="utf-8")
    (tmp_path / "scenario.yaml").write_text(
        "name: strung\ncrs: EPSG:32648\ninput_crs: {grids: EPSG:32648}\n"
        "grids: grids.geojson\nroads: roads.graphml\n", encoding="utf-8")
    assert problems(tmp_path, small) == [
        "roads.graphml: grids 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, "
        "23, 24 (and 5 more): connectivity: expected every grid to be reachable by road from the "
        "others, got 25 grids whose nearest roads are not connected to the road network of the "
        "other 5 grids"]


def test_unknown_coordinate_system(broken: Path, small: RunConfig) -> None:
    edit_text(broken / "scenario.yaml",
              lambda s: "\n".join("crs: EPSG:999999" if ln.startswith("crs:") else ln
                                  for ln in s.splitlines()))
    (err,) = problems(broken, small)
    assert err.startswith("scenario.yaml: crs: expected a projected coordinate system in metres "
                          "(e.g. EPSG:32648), got 'EPSG:999999' (unknown coordinate system: ")


def test_geographic_coordinate_system(broken: Path, small: RunConfig) -> None:
    edit_text(broken / "scenario.yaml",
              lambda s: "\n".join("crs: EPSG:4326" if ln.startswith("crs:") else ln
                                  for ln in s.splitlines()))
    assert problems(broken, small) == [
        "scenario.yaml: crs: expected a projected coordinate system in metres (e.g. EPSG:32648), "
        "got 'EPSG:4326', a geographic (lon/lat) one"]


def test_unknown_input_coordinate_system(broken: Path, small: RunConfig) -> None:
    in_metres(broken)  # input_crs.grids is the scenario's tmerc, then made unknown
    edit_text(broken / "scenario.yaml", lambda s: s.replace("input_crs:\n  grids: ",
                                                            "input_crs:\n  grids: NOPE"))
    (err,) = problems(broken, small)
    assert err.startswith("scenario.yaml: input_crs.grids: expected a coordinate system (e.g. "
                          "EPSG:4326), got 'NOPE+proj=tmerc")


# ----------------------------------------------------------------------------------------------
# all at once, and more fields
# ----------------------------------------------------------------------------------------------
def test_every_problem_at_once(broken: Path, small: RunConfig) -> None:
    """Two problems in grids.geojson and two in stations.csv: all four, in file order."""
    def two(feats: list[dict[str, Any]]) -> None:
        feats[1]["geometry"]["coordinates"][0].pop()  # no longer closed
        feats[4]["properties"]["population"] = -1

    edit_grids(broken, two)
    edit_text(broken / "stations.csv",
              lambda s: s.replace("police,2,", "polis,2,", 1).replace("medical,3,", "medical,x,"))
    errors = problems(broken, small)
    assert len(errors) == 4, errors
    assert errors[0].startswith("grids.geojson: feature 1 (id 1): geometry: expected a closed "
                                "ring")
    assert errors[1:] == [
        "grids.geojson: feature 4 (id 4): population: expected an integer >= 0, got -1",
        "stations.csv: row 3 (polis): department: expected one of fire, police, medical, "
        "utilities, got 'polis'",
        "stations.csv: row 4 (medical): units: expected a number of units >= 1, got 'x'"]


def test_csv_rows_and_columns(broken: Path, small: RunConfig) -> None:
    edit_text(broken / "rosters.csv", lambda s: s.replace(
        "commander|party_member", "commander|boss", 1))
    edit_text(broken / "supply_points.csv", lambda s: s.replace(",sandbag", ",sandbags", 1))
    edit_text(broken / "depots.csv", lambda s: s.replace("C1-T3,", "C1-T9,", 1))
    assert problems(broken, small) == [
        "supply_points.csv: sandbag: expected a column 'sandbag', got columns grid, alarm, "
        "extinguisher, first_aid_kit, sandbags",
        "depots.csv: row 4: township: expected a township of 4 in the grids (a name such as "
        "'C1-T1', or an id 0..3), got 'C1-T9'",
        "rosters.csv: row 3: roles: expected names of grid_leader, commander, grid_worker, "
        "party_member joined by '|', got 'commander|boss'"]


def test_more_grid_fields(broken: Path, small: RunConfig) -> None:
    def bad(feats: list[dict[str, Any]]) -> None:
        feats[0]["properties"]["kind"] = "suburb"
        feats[1]["properties"]["vulnerable_share"] = 1.5
        feats[2]["properties"]["area_km2"] *= 2
        del feats[3]["properties"]["households"]

    edit_grids(broken, bad)
    errors = problems(broken, small)
    assert errors[:3] == [
        "grids.geojson: feature 0 (id 0): kind: expected one of urban_community, rural, "
        "enterprise, commercial, got 'suburb'",
        "grids.geojson: feature 3 (id 3): households: expected an integer >= 0, got an empty cell",
        "grids.geojson: feature 1 (id 1): vulnerable_share: expected a share in [0, 1], got 1.5"]
    assert len(errors) == 3  # the area is checked once the rest is right
    edit_grids(broken, lambda f: f[3]["properties"].update(households=5))
    edit_grids(broken, lambda f: f[0]["properties"].update(kind="rural"))
    edit_grids(broken, lambda f: f[1]["properties"].update(vulnerable_share=0.5))
    (err,) = problems(broken, small)
    assert err.startswith("grids.geojson: feature 2 (id 2): area_km2: expected the polygon's "
                          "area within 5% (")


def test_metres_read_as_lon_lat(broken: Path, small: RunConfig) -> None:
    """Grids in metres without input_crs: GeoJSON is lon/lat unless said otherwise."""
    in_metres(broken)
    edit_text(broken / "scenario.yaml", lambda s: s.replace("input_crs:\n  grids: ",
                                                            "input_crs:\n  depots: "))
    errors = problems(broken, small)
    assert len(errors) > 1
    assert errors[0].startswith("grids.geojson: feature ")
    assert ": geometry: expected lon/lat in degrees (WGS 84); set input_crs.grids in "\
           "scenario.yaml if the file is in metres, got [" in errors[0]


def test_missing_and_unknown_files_and_keys(broken: Path, small: RunConfig) -> None:
    edit_text(broken / "scenario.yaml", lambda s: s.replace("stations: stations.csv",
                                                            "stations: nothing.csv\nstation: x"))
    assert problems(broken, small) == [
        "scenario.yaml: station: unknown key; expected one of grids, roads, supply_points, "
        "depots, stations, shelters, rosters, exposures, name, description, crs, input_crs, "
        "max_snap_m, "
        "neighbour_tolerance_m, county, counties, townships, road_speeds_kmh, generate, "
        "allow_outside_files, checks",
        f"scenario.yaml: stations: expected an existing file in {broken}, got 'nothing.csv'"]


def test_graphml_link_without_a_speed(broken: Path, small: RunConfig) -> None:
    edit_text(broken / "roads.graphml", lambda s: re.sub(
        r'<data key="speed_mps">[^<]*</data><data key="road_class">[a-z]+</data>',
        '<data key="road_class">lane</data>', s, count=1))
    errors = problems(broken, small)
    assert len(errors) == 1
    assert errors[0].startswith("roads.graphml: edge '0'-'")
    assert ": speed: expected speed_mps, speed_kmh, a numeric maxspeed or a road_class with a "\
           "known speed (motorway, " in errors[0]
    assert errors[0].endswith("got road_class 'lane' and no speed")


def test_a_column_of_problems_is_cut_short(broken: Path, small: RunConfig) -> None:
    def all_negative(feats: list[dict[str, Any]]) -> None:
        for f in feats:
            f["properties"]["population"] = -1

    edit_grids(broken, all_negative)
    errors = problems(broken, small)
    assert len(errors) == 51
    assert errors[-1] == ("grids.geojson: population: ... and 20 more problems of this field "
                          "(not listed)")
