"""Travel times on the road network: the sparse and thin forms equal the dense shortest paths,
and preparing them at scale never holds a dense grid-by-grid matrix."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest
from conftest import settings_for
from scipy.sparse import csgraph

from gridsim.place.roads import (
    RoadNetwork,
    near_travel_times,
    station_times,
    times_from,
    township_times,
)
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


# ----------------------------------------------------------------------------------------------
# department stations: the k nearest per grid, linear in the city, equal to the dense ranking
# ----------------------------------------------------------------------------------------------
def _dense_nearest(roads: RoadNetwork, sgrid: np.ndarray, dept: np.ndarray, n_dept: int,
                   k: int) -> tuple[np.ndarray, np.ndarray]:
    """The plain definition: every station's time to every grid, each department's stations
    sorted by time and then by id, the first k (``-1``/``inf`` past the last)."""
    dense = csgraph.dijkstra(roads.time_graph(), directed=True,
                             indices=roads.grid_node[sgrid])[:, roads.grid_node]
    n = dense.shape[1]
    out_s = np.full((n_dept, n, k), -1)
    out_t = np.full((n_dept, n, k), np.inf)
    for d in range(n_dept):
        ids = np.flatnonzero(dept == d)
        for g in range(n):
            o = np.lexsort((ids, dense[ids, g]))[:k]
            out_s[d, g, :len(o)] = ids[o]
            out_t[d, g, :len(o)] = dense[ids[o], g]
    return out_s, out_t


def _lattice(m: int, with_gap: bool = False) -> RoadNetwork:
    """An m × m street grid of equal links: many stations exactly equally near (ties)."""
    idx = np.arange(m * m).reshape(m, m)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    if with_gap:  # cut the lattice in two: the left columns reach no station on the right
        cut = (u % m == m // 3 - 1) & (v % m == m // 3)
        u, v = u[~cut], v[~cut]
    xs, ys = np.meshgrid(np.arange(m) * 100.0, np.arange(m) * 100.0)
    n = len(u)
    return RoadNetwork(x_m=xs.ravel(), y_m=ys.ravel(), edge_u=u, edge_v=v,
                       length_m=np.full(n, 100.0), speed_mps=np.full(n, 10.0),
                       road_class=np.zeros(n, np.int8), grid_node=np.arange(m * m))


def _assert_stations_equal(roads: RoadNetwork, sgrid: np.ndarray, dept: np.ndarray,
                           n_dept: int, k: int) -> None:
    got = station_times(roads, sgrid, dept, n_dept, k)
    want_s, want_t = _dense_nearest(roads, sgrid, dept, n_dept, k)
    np.testing.assert_array_equal(got.station, want_s)
    np.testing.assert_array_equal(got.time_s, want_t)
    assert got.station.shape == (n_dept, len(roads.grid_node), k)  # linear in the grids


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("seed", [1, 2])
def test_nearest_stations_equal_the_dense_ranking_random_network(k: int, seed: int) -> None:
    roads = _random_network(seed, n_nodes=600, n_grids=250)
    rng = np.random.default_rng(seed)
    sgrid = rng.choice(250, size=40, replace=True)  # some stations share a grid
    dept = rng.integers(0, 3, size=40)
    dept[:3] = [0, 1, 2]
    _assert_stations_equal(roads, sgrid, dept, 4, k)  # department 3 has no station


@pytest.mark.parametrize("k", [1, 2, 3])
def test_nearest_stations_break_exact_ties_by_id(k: int) -> None:
    for seed in range(4):
        rng = np.random.default_rng(seed)
        roads = _lattice(14, with_gap=seed == 3)
        sgrid = rng.choice(14 * 14, size=24, replace=True)
        dept = rng.integers(0, 2, size=24)
        _assert_stations_equal(roads, sgrid, dept, 2, k)


def test_nearest_stations_of_the_presets() -> None:
    for name in ("small", "district"):
        _, roads, _, _, (dept, sgrid, _) = generate_parts(settings_for(f"scenario={name}")
                                                          .scenario)
        for k in (1, 2):
            _assert_stations_equal(roads, sgrid, dept, 4, k)


@pytest.mark.slow
def test_nearest_stations_of_the_city() -> None:
    _, roads, _, _, (dept, sgrid, _) = generate_parts(
        settings_for("scenario=suining_city").scenario)
    got = station_times(roads, sgrid, dept, 4)
    dense = csgraph.dijkstra(roads.time_graph(), directed=True,
                             indices=roads.grid_node[sgrid])[:, roads.grid_node]
    for d in range(4):
        ids = np.flatnonzero(dept == d)
        o = np.lexsort((np.broadcast_to(ids[:, None], dense[ids].shape), dense[ids]),
                       axis=0)[:got.k]
        np.testing.assert_array_equal(got.station[d], ids[o].T)
        np.testing.assert_array_equal(got.time_s[d], np.take_along_axis(dense[ids], o, 0).T)


@pytest.mark.parametrize("lattice", [False, True])
def test_nearest_among_any_stations_is_the_dense_answer(lattice: bool) -> None:
    """The nearest of a set of stations (those with a free unit), ties by id: equal to the
    dense answer, on a random network and on a lattice with a cut (exact ties, no road)."""
    roads = _lattice(14, with_gap=True) if lattice else _random_network(7, 500, 200)
    n_grids = len(roads.grid_node)
    rng = np.random.default_rng(7)
    sgrid = rng.choice(n_grids, size=30)
    dept = rng.integers(0, 2, size=30)
    st = station_times(roads, sgrid, dept, 2, 2)
    dense = st.dense()
    np.testing.assert_array_equal(dense, csgraph.dijkstra(
        roads.time_graph(), indices=roads.grid_node[sgrid])[:, roads.grid_node])
    searched = 0
    for trial in range(200):
        g = int(rng.integers(n_grids))
        cands = np.flatnonzero(rng.random(30) < rng.uniform(0.05, 0.5))
        got = st.nearest_among(g, cands)
        if len(cands) == 0:
            assert got == (-1, np.inf)
            continue
        o = cands[np.lexsort((cands, dense[cands, g]))]
        assert got == (int(o[0]), float(dense[o[0], g])), (trial, g)
        searched = len(st.reached)
    assert 0 < searched <= 30  # stations searched, and kept for the next questions


def test_no_dense_station_by_grid_table_when_preparing_station_times() -> None:
    """300 stations over 6,000 grids: a dense table is 14 MB; the lists stay far below it."""
    roads = _random_network(8, n_nodes=6000, n_grids=6000)
    rng = np.random.default_rng(8)
    sgrid = rng.choice(6000, size=300, replace=False)
    dept = np.arange(300) % 4
    tracemalloc.start()
    try:
        st = station_times(roads, sgrid, dept, 4, 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    dense_bytes = 300 * 6000 * 8
    assert st.nbytes() == 4 * 6000 * 2 * (4 + 8)
    assert peak < dense_bytes / 3


# ----------------------------------------------------------------------------------------------
# the engine's choice of station: the nearest with a free unit, else the nearest
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("factor", [1.0, 0.7])
def test_department_choice_equals_the_dense_definition(factor: float) -> None:
    """Many stations (so the place lists only the nearest two of each department), units
    taken at random: the choice and its time are those of the plain definition over every
    station's dense times (float32 of time ÷ speed factor, × 2.5 into a blocked grid)."""
    import simpy

    from gridsim.engine.departments import DepartmentUnits
    from gridsim.engine.travel import travel_for
    from gridsim.model.vocab import DEPARTMENTS
    from gridsim.place.scenario import build_scenario

    s = settings_for("scenario=small", "scenario.departments.fire.stations=12",
                     "scenario.departments.police.stations=9",
                     f"response.department_speed_factor={factor}")
    sc = build_scenario(s.scenario)
    blocked = 7
    sc = dataclasses.replace(sc, slowed=((blocked, 2.5),))
    travel = travel_for(sc, s.response)
    dense = sc.station_times.dense()
    rng = np.random.default_rng(3)
    farther = 0
    for trial in range(60):
        env = simpy.Environment()
        units = DepartmentUnits(env, sc.stations, travel)
        busy = rng.random(sc.stations.n) < rng.uniform(0.3, 1.0)
        for i in np.flatnonzero(busy).tolist():
            for _ in range(int(sc.stations.units[i])):
                units.resources[i].request()
        env.run()
        for dep in ("fire", "police"):
            d = DEPARTMENTS.index(dep)
            ids = sc.stations.of(dep)
            for g in rng.choice(sc.n_grids, size=10).tolist():
                t = (dense[ids, g] / factor).astype(np.float32)
                if g == blocked:
                    t = t * np.float32(2.5)
                order = ids[np.lexsort((ids, dense[ids, g]))]
                free = [i for i in order.tolist() if not busy[i]]
                want = free[0] if free else int(order[0])
                got, travel_s = units.choose(dep, g)
                assert got == want, (trial, dep, g)
                assert travel_s == float(t[list(ids).index(want)])
                farther += want not in travel.nearest_stations(d, g)[0].tolist()
    assert farther > 20  # the on-demand ranking was needed, and agreed
