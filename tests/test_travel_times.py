"""Travel times on the road network: the sparse and thin forms equal the dense shortest paths,
and preparing them at scale never holds a dense grid-by-grid matrix."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from conftest import settings_for
from scipy.sparse import csgraph

from gridsim.place.roads import RoadNetwork, near_travel_times, times_from, township_times
from gridsim.place.scenario import generate_parts


def _dense(roads: RoadNetwork, speed_factor: float = 1.0) -> np.ndarray:
    """All grid-to-grid driving times, the plain way (small networks only)."""
    d = csgraph.dijkstra(roads.time_graph(speed_factor), directed=False,
                         indices=roads.grid_node)
    return d[:, roads.grid_node]


def _near_from_dense(d: np.ndarray, radius_s: float) -> list[tuple[np.ndarray, np.ndarray]]:
    rows = []
    for row in d:
        j = np.flatnonzero(row <= radius_s)
        order = np.argsort(row[j], kind="stable")  # by time, ties by grid id
        rows.append((j[order], row[j][order].astype(np.float32)))
    return rows


def _random_network(seed: int, n_nodes: int, n_grids: int, same_place: bool = False
                    ) -> RoadNetwork:
    """A connected random network whose grids sit on some of its nodes (not all, not in order)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 20_000, n_nodes)
    y = rng.uniform(0, 20_000, n_nodes)
    if same_place:  # every node at one point: no geometric bound on how far a path goes
        x[:] = 0.0
        y[:] = 0.0
    # a random spanning tree plus random extra links
    perm = rng.permutation(n_nodes)
    u = [int(perm[i]) for i in range(1, n_nodes)]
    v = [int(perm[rng.integers(0, i)]) for i in range(1, n_nodes)]
    extra = rng.integers(0, n_nodes, size=(n_nodes, 2))
    extra = extra[extra[:, 0] != extra[:, 1]]
    eu = np.concatenate([u, extra[:, 0]])
    ev = np.concatenate([v, extra[:, 1]])
    straight = np.hypot(x[eu] - x[ev], y[eu] - y[ev])
    length = straight * rng.uniform(1.0, 1.6, len(eu)) + (50.0 if same_place else 0.0)
    klass = rng.integers(0, 3, len(eu)).astype(np.int8)
    speed = np.array([7.0, 11.0, 16.7])[klass]
    grid_node = rng.choice(n_nodes, size=n_grids, replace=False)
    return RoadNetwork(x_m=x, y_m=y, edge_u=eu.astype(np.int64), edge_v=ev.astype(np.int64),
                       length_m=length, speed_mps=speed, road_class=klass, grid_node=grid_node)


def _assert_near_equal(roads: RoadNetwork, radius_s: float, speed_factor: float = 1.0) -> None:
    near = near_travel_times(roads, radius_s, speed_factor)
    expected = _near_from_dense(_dense(roads, speed_factor), radius_s)
    assert len(near.indptr) == len(expected) + 1
    for g, (j, t) in enumerate(expected):
        idx, ts = near.row(g)
        np.testing.assert_array_equal(idx, j)
        np.testing.assert_array_equal(ts, t)


@pytest.mark.parametrize("radius_s", [60.0, 300.0, 1200.0])
def test_near_times_equal_dense_shortest_paths_small_scenario(radius_s: float) -> None:
    _, roads, *_ = generate_parts(settings_for("scenario=small").scenario)
    _assert_near_equal(roads, radius_s)
    _assert_near_equal(roads, radius_s, speed_factor=0.6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_near_times_equal_dense_shortest_paths_random_network(seed: int) -> None:
    roads = _random_network(seed, n_nodes=600, n_grids=250)
    for radius_s in (120.0, 400.0, 1500.0):
        _assert_near_equal(roads, radius_s)


def test_near_times_without_a_geometric_bound() -> None:
    roads = _random_network(4, n_nodes=120, n_grids=60, same_place=True)
    _assert_near_equal(roads, 20.0)


def test_township_times_equal_dense_selection() -> None:
    region, roads, _, supplies, _ = generate_parts(settings_for("scenario=district").scenario)
    township = region.grids.township
    for speed_factor in (1.0, 0.7):
        dense = times_from(roads, roads.grid_node[supplies.depot_grid], speed_factor)
        expected = dense[township, np.arange(region.grids.n)]
        got = township_times(roads, supplies.depot_grid, township, speed_factor)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)


def test_township_times_with_a_depot_outside_its_township() -> None:
    roads = _random_network(5, n_nodes=300, n_grids=200)
    township = np.arange(200) % 4
    depot = np.array([1, 0, 3, 2])  # grid 1 is in township 1, not 0, and so on
    dense = times_from(roads, roads.grid_node[depot])
    np.testing.assert_array_equal(township_times(roads, depot, township),
                                  dense[township, np.arange(200)])


def test_no_dense_grid_by_grid_matrix_when_preparing_travel_times() -> None:
    """A dense 6,000 × 6,000 float64 matrix is 288 MB; preparation stays far below that."""
    roads = _random_network(6, n_nodes=6000, n_grids=6000)
    tracemalloc.start()
    try:
        near_travel_times(roads, 300.0)
        township_times(roads, np.arange(0, 6000, 100), np.arange(6000) // 100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6000 * 6000 * 8 / 10
