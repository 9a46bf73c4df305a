"""Geometric consistency checks of scenario folders (gridsim.place.folder.geometry): each
against brute force on hand-made points, and on an exported folder perturbed as the issue
measured (roads moved 50 km, households = 10 × population)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from gridsim.app.scenario_cmd import scenario_main
from gridsim.place.folder import validate_folder
from gridsim.place.folder.geometry import far_road_nodes, isolated_grids


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("geo") / "small_folder"
    assert scenario_main(["export", "small", str(folder)]) == 0
    return folder


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_far_road_nodes_against_brute_force() -> None:
    rng = np.random.default_rng(1)
    gx, gy = rng.uniform(0, 5000, 40), rng.uniform(0, 5000, 40)
    nx, ny = rng.uniform(-20000, 25000, 300), rng.uniform(-20000, 25000, 300)
    idx, dist = far_road_nodes(nx, ny, gx, gy, 8000.0)
    brute = np.hypot(nx[:, None] - gx[None, :], ny[:, None] - gy[None, :]).min(axis=1)
    assert set(idx.tolist()) == set(np.flatnonzero(brute > 8000.0).tolist())
    np.testing.assert_allclose(dist, brute[idx])
    assert (np.diff(dist) <= 0).all()  # farthest first


def test_isolated_grid_hand_worked() -> None:
    # a 10 x 10 lattice of 300 m spacing (median nearest spacing 300 m) and one grid 30 km out
    xs, ys = np.meshgrid(np.arange(10) * 300.0, np.arange(10) * 300.0)
    x = np.r_[xs.ravel(), 30000.0]
    y = np.r_[ys.ravel(), 0.0]
    area = np.full(len(x), 0.09)
    bad, other, dist, median = isolated_grids(x, y, area, 5.0, 10.0)
    assert median == pytest.approx(300.0)
    assert bad.tolist() == [100] and other.tolist() == [9]  # nearest: (2700, 0)
    assert dist[0] == pytest.approx(30000.0 - 2700.0)
    # a big rural grid (100 km², radius 5.64 km) 10 km from the others is not isolated: the
    # limit is 2 × (5.64 + 0.17) km
    area[100] = 100.0
    x[100] = 2700.0 + 10000.0
    assert isolated_grids(x, y, area, 5.0, 10.0)[0].size == 0


def test_untouched_export_is_valid(exported: Path) -> None:
    assert validate_folder(exported) == []


def test_roads_moved_50_km_fail(exported: Path, tmp_path: Path) -> None:
    folder = _copy(exported, tmp_path / "moved")
    graphml = folder / "roads.graphml"
    text = graphml.read_text(encoding="utf-8")
    moved = re.sub(r'<data key="x">([-0-9.eE+]+)</data>',
                   lambda m: f'<data key="x">{float(m.group(1)) + 50000.0!r}</data>', text)
    assert moved != text
    graphml.write_text(moved, encoding="utf-8")
    errors = validate_folder(folder)
    far = [e for e in errors if e.startswith("roads.graphml: ") and ": position: " in e]
    assert len(far) == 1, errors[-3:]
    farthest = float(far[0].split("the farthest ")[1].split(" km")[0])
    assert 49.0 < farthest < 52.0  # 50 km minus the district's half-width at most
    assert "road_far_km = 10 km" in far[0] and "(100%)" in far[0]
    assert any("got 50000 m" in e for e in errors)  # each grid's named node, beyond max_snap_m


def test_households_above_population_fail(exported: Path, tmp_path: Path) -> None:
    folder = _copy(exported, tmp_path / "hh")
    path = folder / "grids.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    p = data["features"][4]["properties"]
    p["households"] = 10 * p["population"]
    path.write_text(json.dumps(data), encoding="utf-8")
    (err,) = validate_folder(folder)
    assert err.startswith(f"grids.geojson: feature 4 (id {p['id']}): households: expected at "
                          f"most the grid's population ({p['population']:,}")
    assert err.endswith("(10 households per resident)")


def test_duplicated_geojson_property_is_an_error(exported: Path, tmp_path: Path) -> None:
    folder = _copy(exported, tmp_path / "dup")
    path = folder / "grids.geojson"
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    pop = data["features"][2]["properties"]["population"]
    # the same name twice in feature 2's properties (json.dumps cannot write that: by hand)
    marker = f'"population": {pop}'
    head, sep, tail = text.partition('"features"')
    idx = [m.start() for m in re.finditer(re.escape('"population": '), tail)][2]
    tail = tail[:idx] + '"population": 5, ' + tail[idx:]
    path.write_text(head + sep + tail, encoding="utf-8")
    assert marker in text
    errors = validate_folder(folder)
    assert errors == [f"grids.geojson: feature 2 (id 2): population: expected each property "
                      f"name once, got 'population' 2 times (values 5, {pop})"]
