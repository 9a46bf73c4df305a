"""The road network and travel times on it.

Shortest paths come from :mod:`scipy.sparse.csgraph`. At city scale (18,176 grids) a dense
grid-by-grid matrix would take 1.3 GB (float32) or 2.6 GB (float64), and at four times the
city even a dense ``stations × grids`` table grows as the square of the city (four times the
stations over four times the grids), so no dense table is ever made: every search is bounded
and travel times are kept in sparse or thin forms whose size and cost grow linearly with the
city:

* :class:`NearTimes`: for each grid, the driving time to every grid within a radius (the
  neighbours that may lend people or supplies), as CSR rows, computed cell by cell on small
  subgraphs (:func:`near_travel_times`);
* :class:`StationTimes`: for each department and grid, its ``k`` nearest stations by driving
  time, found by searches bounded to a few station catchments (:func:`station_times`), and the
  nearest of any set of stations on demand (:meth:`StationTimes.nearest_among`: searches out
  of those stations, bounded by what the question needs and kept for the next);
* one time per grid from its own township's depot (:func:`township_times`).

:func:`times_from` (dense ``sources × grids``) remains for small networks and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from gridsim.model.vocab import ROAD_CLASSES  # re-exported: the network's classes

__all__ = [
    "ROAD_CLASSES",
    "NearTimes",
    "RoadNetwork",
    "StationTimes",
    "cell_groups",
    "disc_dijkstra",
    "near_travel_times",
    "seconds_per_metre",
    "station_times",
    "subgraph",
    "times_from",
    "township_times",
]



@dataclass(frozen=True)
class RoadNetwork:
    """An undirected road graph: nodes with coordinates, links with length and driving speed.

    ``grid_node[g]`` is the node at the centre of grid ``g``.
    """

    x_m: np.ndarray
    y_m: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    length_m: np.ndarray
    speed_mps: np.ndarray
    road_class: np.ndarray
    grid_node: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.x_m)

    def time_graph(self, speed_factor: float = 1.0) -> sparse.csr_matrix:
        """The symmetric sparse matrix of link travel times in seconds."""
        t = self.length_m / (self.speed_mps * speed_factor)
        n = self.n_nodes
        m = sparse.coo_matrix(
            (np.concatenate([t, t]),
             (np.concatenate([self.edge_u, self.edge_v]),
              np.concatenate([self.edge_v, self.edge_u]))),
            shape=(n, n),
        ).tocsr()
        m.sum_duplicates()
        return m

    def components(self) -> np.ndarray:
        """Connected-component label of every node."""
        _, labels = csgraph.connected_components(self.time_graph(), directed=False)
        return labels


@dataclass(frozen=True)
class NearTimes:
    """Driving times from each grid to the grids within a radius, in CSR form (row = origin).

    Each row includes the origin itself at time 0 and is sorted by time.
    """

    indptr: np.ndarray
    indices: np.ndarray
    time_s: np.ndarray
    radius_s: float

    def row(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[g], self.indptr[g + 1]
        return self.indices[a:b], self.time_s[a:b]

    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.indices.nbytes + self.time_s.nbytes)


def seconds_per_metre(roads: RoadNetwork, speed_factor: float) -> float:
    """The least driving time per metre of straight line over all links (0 if unknown).

    No path of ``T`` seconds leaves the disc of radius ``T / s`` around its start, where ``s`` is
    this figure, because every link takes at least ``s`` seconds per metre of straight line."""
    if len(roads.edge_u) == 0:
        return 0.0
    t = roads.length_m / (roads.speed_mps * speed_factor)
    d = np.hypot(roads.x_m[roads.edge_u] - roads.x_m[roads.edge_v],
                 roads.y_m[roads.edge_u] - roads.y_m[roads.edge_v])
    ok = d > 0
    if not ok.any():
        return 0.0
    return float(np.min(t[ok] / d[ok]))


def subgraph(graph: sparse.csr_matrix, nodes: np.ndarray,
             scratch: np.ndarray | None = None) -> sparse.csr_matrix:
    """``graph[nodes][:, nodes]`` for sorted, unique ``nodes``, in time proportional to the links
    of ``nodes`` (scipy's column indexing walks all the graph's columns, which would make many
    small searches cost as much as the whole city each). ``scratch``: an int64 array of ``-1``
    of length ``n_nodes`` reused between calls, returned as it was given."""
    nodes = np.asarray(nodes, dtype=np.int64)
    m = len(nodes)
    # the rows' bounds alone, as int64 (a cast of the whole indptr would cost the city per call)
    starts = graph.indptr[nodes].astype(np.int64)
    counts = graph.indptr[nodes + 1].astype(np.int64) - starts
    offs = np.cumsum(counts) - counts
    pos = np.repeat(starts - offs, counts) + np.arange(int(counts.sum()))
    local = scratch if scratch is not None else np.full(graph.shape[0], -1, dtype=np.int64)
    local[nodes] = np.arange(m)
    cols = local[graph.indices[pos]]
    local[nodes] = -1
    keep = cols >= 0
    row_counts = np.bincount(np.repeat(np.arange(m), counts)[keep], minlength=m)
    new_indptr = np.concatenate([[0], np.cumsum(row_counts)])
    return sparse.csr_matrix((graph.data[pos][keep], cols[keep], new_indptr), shape=(m, m))


def cell_groups(x: np.ndarray, y: np.ndarray, side: float) -> list[np.ndarray]:
    """The indices of the points ``(x, y)`` grouped by square cells of ``side`` metres, cell by
    cell, each group in index order (a stable sort): the origins one bounded search serves."""
    cx = np.floor((x - x.min()) / side).astype(np.int64)
    cy = np.floor((y - y.min()) / side).astype(np.int64)
    cell = cx * (int(cy.max()) + 1) + cy
    order = np.argsort(cell, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(cell[order])) + 1)


def disc_dijkstra(graph: sparse.csr_matrix, tree: Any, roads: RoadNetwork, nodes: np.ndarray,
                  reach_m: float, radius_s: float, scratch: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Dijkstra limited to ``radius_s`` from the road ``nodes`` of one cell, on the subgraph of
    the nodes a path of ``radius_s`` (``reach_m`` metres of straight line at most, see
    :func:`seconds_per_metre`) from any of them can reach at all: ``(the subgraph's nodes,
    sorted; the times, one row per origin, one column per subgraph node)``. ``tree`` is a
    :class:`scipy.spatial.cKDTree` of every node; ``scratch`` an all ``-1`` int64 array of one
    entry per node (:func:`subgraph`). Every path within the radius stays in the subgraph, so
    the times are those on the whole network."""
    sx, sy = roads.x_m[nodes], roads.y_m[nodes]
    mx, my = (sx.min() + sx.max()) / 2, (sy.min() + sy.max()) / 2
    half_diag = float(np.max(np.hypot(sx - mx, sy - my)))
    sub = np.array(sorted(tree.query_ball_point([mx, my], reach_m + half_diag + 1.0)),
                   dtype=np.int64)
    d = csgraph.dijkstra(subgraph(graph, sub, scratch), directed=True,
                         indices=np.searchsorted(sub, nodes), limit=radius_s)
    return sub, d


def near_travel_times(
    roads: RoadNetwork, radius_s: float, speed_factor: float = 1.0, cell_m: float | None = None
) -> NearTimes:
    """Grid-to-grid driving times within ``radius_s`` (Dijkstra with a search limit).

    Origins are taken in square cells of the plane; for each cell, Dijkstra runs on the
    subgraph of the nodes that a path of ``radius_s`` seconds from the cell can reach at all
    (a disc bounded by the fastest link, see :func:`seconds_per_metre`). Every path within the
    radius stays inside that subgraph, so the times are exactly those on the whole network, and
    no dense grid-by-grid (or cell-by-network) array is ever held; each cell costs in proportion
    to its disc, so the whole costs in proportion to the city.
    """
    graph = roads.time_graph(speed_factor)
    gnode = np.asarray(roads.grid_node, dtype=np.int64)
    n_grids = len(gnode)
    node_grid = np.full(roads.n_nodes, -1, dtype=np.int64)
    node_grid[gnode] = np.arange(n_grids)
    spm = seconds_per_metre(roads, speed_factor)
    reach_m = radius_s / spm if spm > 0 else np.inf
    rows, cols, vals = [], [], []
    if n_grids and np.isfinite(reach_m) and roads.n_nodes > 1:
        nx, ny = roads.x_m, roads.y_m
        from scipy import spatial  # here: it imports scipy.special (~0.2 s), which a run's
        # config check (ROAD_CLASSES from this module) and a skipped run do not need

        tree = spatial.cKDTree(np.column_stack([nx, ny]))
        scratch = np.full(roads.n_nodes, -1, dtype=np.int64)
        side = float(cell_m) if cell_m else max(reach_m, 1.0)
        for grp in cell_groups(nx[gnode], ny[gnode], side):
            sub, d = disc_dijkstra(graph, tree, roads, gnode[grp], reach_m, radius_s, scratch)
            r, c = np.nonzero(np.isfinite(d))  # row by row, each in node order
            sub_grid = node_grid[sub]
            dest = sub_grid[c]
            keep = dest >= 0
            r, c, dest = r[keep], c[keep], dest[keep]
            t = d[r, c]
            on = sub_grid[sub_grid >= 0]
            if len(on) < 2 or bool(np.all(on[1:] > on[:-1])):  # grid ids follow node order:
                o = np.lexsort((t, r))  # a stable sort by time keeps ties by grid id
            else:
                o = np.lexsort((dest, t, r))  # each row by time, ties by grid id
            rows.append(grp[r[o]])
            cols.append(dest[o])
            vals.append(t[o])
    else:  # no geometric bound: origins in chunks on the whole network
        for start in range(0, n_grids, 256):
            grp = np.arange(start, min(start + 256, n_grids))
            d = csgraph.dijkstra(graph, directed=True, indices=gnode[grp], limit=radius_s)
            r, c = np.nonzero(np.isfinite(d))
            dest = node_grid[c]
            keep = dest >= 0
            r, c, dest = r[keep], c[keep], dest[keep]
            t = d[r, c]
            o = np.lexsort((dest, t, r))
            rows.append(grp[r[o]])
            cols.append(dest[o])
            vals.append(t[o])
    row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    t = np.concatenate(vals) if vals else np.zeros(0)
    # rows come cell by cell, each already sorted: put them in grid order without a full sort
    counts = np.bincount(row, minlength=n_grids)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if len(row) else np.zeros(0, np.int64)
    src_start = np.zeros(n_grids, dtype=np.int64)
    src_start[row[first]] = first
    o = np.repeat(src_start - indptr[:-1], counts) + np.arange(len(row))
    return NearTimes(
        indptr=indptr,
        indices=col[o].astype(np.int32),
        time_s=t[o].astype(np.float32),
        radius_s=float(radius_s),
    )


def times_from(roads: RoadNetwork, source_nodes: np.ndarray, speed_factor: float = 1.0
               ) -> np.ndarray:
    """Driving times (float32, seconds) from each source node to every grid: ``sources × grids``."""
    if len(source_nodes) == 0:
        return np.zeros((0, len(roads.grid_node)), dtype=np.float32)
    graph = roads.time_graph(speed_factor)
    uniq, inv = np.unique(source_nodes, return_inverse=True)
    # the graph is symmetric, so the directed search is the undirected one, without the
    # transposed copy that ``directed=False`` makes
    d = csgraph.dijkstra(graph, directed=True, indices=uniq)[:, roads.grid_node]
    return d[inv].astype(np.float32)


def township_times(roads: RoadNetwork, depot_grid: np.ndarray, township: np.ndarray,
                   speed_factor: float = 1.0) -> np.ndarray:
    """Driving time (float32, seconds) from the depot of each grid's township to the grid:
    ``times_from(roads, grid_node[depot_grid])[township, grid]``, without the dense
    ``townships × grids`` array.

    Each depot's search is limited to the longest time it takes to reach a grid of its own
    township on the township's own roads: a bound on the true times, so the result is exact.
    The search runs on the nodes a path within that limit can reach at all (a disc, see
    :func:`seconds_per_metre`), so each township costs in proportion to its own size.
    """
    graph = roads.time_graph(speed_factor)
    gnode = np.asarray(roads.grid_node, dtype=np.int64)
    n_grids = len(gnode)
    out = np.full(n_grids, np.inf, dtype=np.float32)
    township = np.asarray(township, dtype=np.int64)
    order = np.argsort(township, kind="stable")
    starts = np.searchsorted(township[order], np.arange(len(depot_grid) + 1))
    scratch = np.full(roads.n_nodes, -1, dtype=np.int64)
    spm = seconds_per_metre(roads, speed_factor)
    from scipy import spatial  # here: start-up, as in near_travel_times

    tree = spatial.cKDTree(np.column_stack([roads.x_m, roads.y_m])) if spm > 0 else None
    for t, dg in enumerate(np.asarray(depot_grid, dtype=np.int64).tolist()):
        ids = order[starts[t]:starts[t + 1]]
        if len(ids) == 0:
            continue
        nodes = gnode[ids]
        src = int(gnode[dg])
        limit = np.inf
        own = np.unique(nodes)
        at = np.searchsorted(own, src)
        if at < len(own) and own[at] == src:
            inner = csgraph.dijkstra(subgraph(graph, own, scratch), directed=True, indices=int(at))
            bound = float(inner.max())
            if np.isfinite(bound):
                limit = bound * (1.0 + 1e-9) + 1e-6
        if np.isfinite(limit) and tree is not None:
            disc = np.array(sorted(tree.query_ball_point(
                [roads.x_m[src], roads.y_m[src]], limit / spm + 1.0)), dtype=np.int64)
            d = csgraph.dijkstra(subgraph(graph, disc, scratch), directed=True,
                                 indices=int(np.searchsorted(disc, src)), limit=limit)
            pos = np.minimum(np.searchsorted(disc, nodes), len(disc) - 1)
            # every grid of the township is within the limit, hence in the disc
            out[ids] = np.where(disc[pos] == nodes, d[pos], np.inf).astype(np.float32)
        else:
            d = csgraph.dijkstra(graph, directed=True, indices=src, limit=limit)
            out[ids] = d[nodes].astype(np.float32)
    return out


#: Landmarks for the lower bounds of :meth:`StationTimes.nearest_among` (each a search over
#: the whole network and a row of times per node: linear in the city).
LANDMARKS = 8

#: Stations kept per department and grid (:class:`StationTimes`): the nearest, and the next
#: for when the nearest has no free unit (farther ones are searched on demand). Measured on the
#: city rainstorm: 1, 2, 3 and 4 cost about the same per run with their on-demand searches, 4
#: and more cost more to build; 2 builds in half the time of 3.
NEAREST_STATIONS = 2


@dataclass(frozen=True, eq=False)
class StationTimes:
    """Driving times (seconds, at the roads' own speeds) from department stations to grids,
    in memory linear in the city.

    ``station[d, g]`` holds the ``k`` stations of department ``d`` nearest to grid ``g`` by
    driving time, ties by station id (``-1`` past the department's last station), and
    ``time_s[d, g]`` their times (float64; ``inf``: no road leads there). The nearest of any
    other set of stations (e.g. those with a free unit): :meth:`nearest_among`.
    """

    k: int
    station: np.ndarray  # int32 [n_departments, n_grids, k]
    time_s: np.ndarray  # float64 [n_departments, n_grids, k]
    department: np.ndarray  # int64 [n_stations]
    node: np.ndarray  # int64 [n_stations]: each station's road node
    roads: RoadNetwork
    graph: sparse.csr_matrix  # the roads' link times (for the searches of nearest_among())
    seconds_per_metre: float  # no path is faster than this per metre of straight line
    component_size: np.ndarray  # int64 [n_stations]: nodes a station's roads connect it to
    #: station -> (limit, grids, times): every grid within ``limit`` of the station, found by
    #: the searches nearest_among() made (each only grows; kept for later questions and runs)
    reached: dict[int, tuple[float, np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)
    #: other tables made on demand (the landmarks' times)
    memo: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def count(self, d: int) -> int:
        """The number of stations of department ``d``."""
        return int(np.count_nonzero(self.department == d))

    def complete(self, d: int) -> bool:
        """Whether the lists hold every station of department ``d``."""
        return self.count(d) <= self.k

    def nearest(self, d: int, g: int) -> tuple[np.ndarray, np.ndarray]:
        """The up to ``k`` nearest stations of department ``d`` to grid ``g`` and their times."""
        s = self.station[d, g]
        keep = s >= 0
        return s[keep].astype(np.int64), self.time_s[d, g][keep]

    def _search(self, s: int, limit: float) -> tuple[float, np.ndarray, np.ndarray]:
        """Station ``s``'s search out to ``limit`` (``inf`` once it reaches all it can)."""
        full = csgraph.dijkstra(self.graph, directed=True, indices=int(self.node[s]),
                                limit=limit)
        if np.count_nonzero(np.isfinite(full)) == self.component_size[s]:
            limit = np.inf  # every node it can reach is in
        d = full[self.roads.grid_node]
        grids = np.flatnonzero(np.isfinite(d)).astype(np.int32)
        times = d[grids]
        grids.setflags(write=False)
        times.setflags(write=False)
        got = (float(limit), grids, times)
        self.reached[s] = got
        return got

    def time_within(self, s: int, g: int) -> tuple[float, bool]:
        """``(time, True)`` if station ``s``'s searches so far reach grid ``g``, else
        ``(limit, False)``: the time is then more than that limit."""
        got = self.reached.get(s)
        if got is None:
            return 0.0, False
        limit, grids, times = got
        i = int(np.searchsorted(grids, g))
        if i < len(grids) and grids[i] == g:
            return float(times[i]), True
        return (np.inf, True) if not np.isfinite(limit) else (limit, False)

    def _landmark_times(self) -> np.ndarray:
        """Times from a few landmarks to every node (``LANDMARKS × n_nodes``, made at the first
        question): the first the farthest node from station 0, each next the node farthest
        from those before (unreachable nodes are left out of the choice)."""
        got = self.memo.get("landmarks")
        if got is None:
            n = self.graph.shape[0]
            rows: list[np.ndarray] = []
            start = int(self.node[0]) if len(self.node) else 0
            far = csgraph.dijkstra(self.graph, directed=True, indices=start)
            nearest = np.full(n, np.inf)
            for _ in range(min(LANDMARKS, n)):
                pick = np.where(np.isfinite(far), far, -1.0)
                if len(rows):
                    pick = np.where(np.isfinite(nearest), nearest, -1.0)
                lm = int(np.argmax(pick))
                d = csgraph.dijkstra(self.graph, directed=True, indices=lm)
                rows.append(d)
                nearest = np.minimum(nearest, d)
            got = np.array(rows)
            got.setflags(write=False)
            self.memo["landmarks"] = got
        return got

    def lower_bounds(self, g: int, candidates: np.ndarray) -> np.ndarray:
        """Lower bounds of the times from ``candidates`` to grid ``g``: the straight line at
        the fastest speed any link allows, and for each landmark ``L`` the triangle
        inequality ``|T(L, s) - T(L, g)| <= T(s, g)`` (the roads are undirected)."""
        gn = int(self.roads.grid_node[g])
        nodes = self.node[candidates]
        geo = np.hypot(self.roads.x_m[nodes] - self.roads.x_m[gn],
                       self.roads.y_m[nodes] - self.roads.y_m[gn]) * self.seconds_per_metre
        lm = self._landmark_times()
        with np.errstate(invalid="ignore"):
            diff = np.abs(lm[:, nodes] - lm[:, [gn]])
        diff[~np.isfinite(diff)] = 0.0  # a landmark that does not reach both says nothing
        return np.maximum(geo, diff.max(axis=0, initial=0.0))

    def nearest_among(self, g: int, candidates: np.ndarray) -> tuple[int, float]:
        """The station of ``candidates`` nearest to grid ``g`` by driving time, ties by id, and
        its time (``(-1, inf)`` for none): exact.

        Each candidate starts with a lower bound (:meth:`lower_bounds`). The candidate with the
        least time or bound is taken (a bound first at a tie): a bound becomes the time if the
        station's searches so far reach ``g``, else more than their limit, else the station is
        searched out to half as far again as the bound (at least twice as far as before);
        the first time taken is the answer. The searches
        are kept, so a station is searched a few times for a whole run (and the runs after
        it), not once per question."""
        import heapq  # only here: the rest of the module needs no heap

        cands = np.asarray(candidates, dtype=np.int64)
        if len(cands) == 0:
            return -1, np.inf
        # (value, known, station): a time (known 1) or a lower bound (0, popped first at a tie)
        heap = [(lb, 0, s) for s, lb in zip(cands.tolist(), self.lower_bounds(g, cands).tolist(),
                                            strict=True)]
        heapq.heapify(heap)
        while True:
            value, known, s = heapq.heappop(heap)
            if known:
                return s, value
            t, known_now = self.time_within(s, g)  # what its searches so far say
            if not known_now and t <= value:
                done = self.reached.get(s)
                limit = max(2.0 * done[0] if done is not None else 0.0, 1.5 * value, 60.0)
                self._search(s, limit)
                t, known_now = self.time_within(s, g)
            heapq.heappush(heap, (t, 1, s) if known_now else (max(t, value), 0, s))

    def dense(self) -> np.ndarray:
        """Every station's time to every grid, ``n_stations × n_grids`` (float64; for small
        scenarios and tests: the table whose size grows as the square of the city)."""
        return csgraph.dijkstra(self.graph, directed=True,
                                indices=self.node)[:, self.roads.grid_node]

    def nbytes(self) -> int:
        return int(self.station.nbytes + self.time_s.nbytes)


def _grids_of_nodes(gnode: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(order, start)``: the grids at node ``v`` are ``order[start[v]:start[v + 1]]``."""
    order = np.argsort(gnode, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(gnode, minlength=n_nodes))])
    return order, start


def _k_smallest(g: np.ndarray, s: np.ndarray, t: np.ndarray, n_grids: int, k: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per grid, the ``k`` candidates ``(station, time)`` with the least time, ties by station:
    ``[n_grids, k]`` arrays (``-1`` / ``inf`` where there are fewer)."""
    out_s = np.full((n_grids, k), -1, dtype=np.int32)
    out_t = np.full((n_grids, k), np.inf)
    if len(g) == 0:
        return out_s, out_t
    o = np.lexsort((s, t, g))
    g, s, t = g[o], s[o], t[o]
    first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    rank = np.arange(len(g)) - np.repeat(first, np.diff(np.r_[first, len(g)]))
    keep = rank < k
    out_s[g[keep], rank[keep]] = s[keep]
    out_t[g[keep], rank[keep]] = t[keep]
    return out_s, out_t


def _insert(best_s: np.ndarray, best_t: np.ndarray, g: np.ndarray, t: np.ndarray, s: int
            ) -> None:
    """Put station ``s`` at times ``t`` into the sorted lists of grids ``g`` (each once), where
    it ranks among the first ``k`` by time, ties by station id."""
    k = best_s.shape[1]
    bt, bs = best_t[g], best_s[g]
    pos = (bt < t[:, None]).sum(axis=1) + ((bt == t[:, None]) & (bs < s) & (bs >= 0)).sum(axis=1)
    m = pos < k
    g, t, pos = g[m], t[m], pos[m]
    for j in range(k - 1, 0, -1):
        sel = pos < j
        gs = g[sel]
        best_s[gs, j] = best_s[gs, j - 1]
        best_t[gs, j] = best_t[gs, j - 1]
    best_s[g, pos] = s
    best_t[g, pos] = t


def _owners(graph: sparse.csr_matrix, ids: np.ndarray, uniq: np.ndarray, inv: np.ndarray
            ) -> np.ndarray:
    """The catchment of every node: the index (into ``uniq``, the stations' distinct nodes) of
    its nearest station, ties to the station with the lowest id (``-1``: no road to any).

    One multi-source search gives the nearest time and a nearest station; where several are
    equally near, the lowest id travels along the links that are tight (``d[u] + w = d[v]``,
    exactly as the search added them), which are those of every shortest path."""
    n_nodes = graph.shape[0]
    dist, _, src = csgraph.dijkstra(graph, directed=True, indices=uniq, min_only=True,
                                    return_predecessors=True)
    cell_of_node = np.full(n_nodes, -1, dtype=np.int64)
    cell_of_node[uniq] = np.arange(len(uniq))
    owner = np.where(src >= 0, cell_of_node[np.maximum(src, 0)], -1)
    # the lowest station id at each distinct node (stations at one node share a catchment)
    low = np.full(len(uniq), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(low, inv, ids)
    big = np.iinfo(np.int64).max
    key = np.where(owner >= 0, low[np.maximum(owner, 0)], big)
    a = np.repeat(np.arange(n_nodes), np.diff(graph.indptr))
    b = graph.indices.astype(np.int64)
    tight = np.isfinite(dist[a]) & (dist[a] + graph.data == dist[b])
    a, b = a[tight], b[tight]
    while True:  # as many rounds as the longest chain of equally near links (1 without ties)
        better = key[a] < key[b]
        if not better.any():
            break
        np.minimum.at(key, b[better], key[a[better]])
    order = np.argsort(low)
    at = np.searchsorted(low[order], np.minimum(key, low.max()))
    return np.where(key != big, order[np.minimum(at, len(low) - 1)], -1)


def _department_nearest(roads: RoadNetwork, graph: sparse.csr_matrix, ids: np.ndarray,
                        nodes: np.ndarray, k: int, scratch: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest of the stations ``ids`` (at road nodes ``nodes``) to every grid.

    One multi-source search gives every node its nearest station: the station's catchment
    (network Voronoi cell). If station ``s`` is among the ``k`` nearest to grid ``g``, every
    node ``v`` on the shortest path from ``s`` to ``g`` belongs to the catchment of a station
    no farther from ``g`` than ``s`` (its own nearest station ``o`` has ``T(o, v) ≤ T(s, v)``,
    so ``T(o, g) ≤ T(s, g)``): the path stays within the catchments of ``g``'s ``k`` nearest,
    which are linked to each other, hence within ``k - 1`` catchments of ``s``'s. So a search
    from each station over the catchments within ``k - 1`` links of its own gives exactly the
    times that matter (and over-estimates, never under-estimates, the others); each search
    covers a few catchments, and all of them together a few times the city.
    """
    gnode = np.asarray(roads.grid_node, dtype=np.int64)
    n_grids, n_nodes = len(gnode), roads.n_nodes
    uniq, inv = np.unique(nodes, return_inverse=True)  # stations at one node share a catchment
    if len(ids) <= k:  # every station is in every list: a thin table
        d = csgraph.dijkstra(graph, directed=True, indices=uniq)[:, gnode][inv]
        g = np.tile(np.arange(n_grids), len(ids))
        return _k_smallest(g, np.repeat(ids, n_grids), d.ravel(), n_grids, k)
    owner = _owners(graph, ids, uniq, inv)
    n_cells = len(uniq)
    cu, cv = owner[roads.edge_u], owner[roads.edge_v]
    link = (cu != cv) & (cu >= 0) & (cv >= 0)
    adj = sparse.coo_matrix((np.ones(2 * int(link.sum()) + n_cells),
                             (np.r_[cu[link], cv[link], np.arange(n_cells)],
                              np.r_[cv[link], cu[link], np.arange(n_cells)])),
                            shape=(n_cells, n_cells)).tocsr()
    ball = sparse.identity(n_cells, format="csr") if k == 1 else adj
    for _ in range(k - 2):
        ball = ball @ adj
    ball = ball.tocsr()
    ball.sum_duplicates()
    ball.sort_indices()
    node_order = np.argsort(owner, kind="stable")
    node_start = np.searchsorted(owner[node_order], np.arange(n_cells + 1))
    g_order, g_start = _grids_of_nodes(gnode, n_nodes)
    stations_of = [ids[inv == c] for c in range(n_cells)]
    out_s = np.full((n_grids, k), -1, dtype=np.int32)
    out_t = np.full((n_grids, k), np.inf)
    for c in range(n_cells):
        cells = ball.indices[ball.indptr[c]:ball.indptr[c + 1]]
        sub = np.sort(np.concatenate([node_order[node_start[j]:node_start[j + 1]]
                                      for j in cells.tolist()]))
        d = csgraph.dijkstra(subgraph(graph, sub, scratch), directed=True,
                             indices=int(np.searchsorted(sub, uniq[c])))
        n_at = g_start[sub + 1] - g_start[sub]  # grids at each node of the subgraph
        n_at[~np.isfinite(d)] = 0
        if not n_at.any():
            continue
        offs = np.cumsum(n_at) - n_at
        pos = np.repeat(g_start[sub] - offs, n_at) + np.arange(int(n_at.sum()))
        grids = g_order[pos]
        times = np.repeat(d, n_at)
        for s in stations_of[c].tolist():
            _insert(out_s, out_t, grids, times, s)
    # a grid with fewer than k listed has no road to the other stations: they follow at inf,
    # by id, as in a full ranking
    want = min(k, len(ids))
    short = np.flatnonzero(out_s[:, want - 1] < 0)
    for gi in short.tolist():
        have = [int(x) for x in out_s[gi] if x >= 0]
        rest = [int(x) for x in ids if int(x) not in have][: want - len(have)]
        out_s[gi, len(have):len(have) + len(rest)] = rest
    return out_s, out_t


def station_times(roads: RoadNetwork, station_grid: np.ndarray, department: np.ndarray,
                  n_departments: int, k: int = NEAREST_STATIONS) -> StationTimes:
    """The ``k`` nearest stations of each department to every grid (:class:`StationTimes`),
    at the roads' own speeds, in time and memory linear in the city (see
    :func:`_department_nearest`)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    graph = roads.time_graph()
    gnode = np.asarray(roads.grid_node, dtype=np.int64)
    department = np.asarray(department, dtype=np.int64)
    nodes = gnode[np.asarray(station_grid, dtype=np.int64)]
    n_grids = len(gnode)
    station = np.full((n_departments, n_grids, k), -1, dtype=np.int32)
    time_s = np.full((n_departments, n_grids, k), np.inf)
    scratch = np.full(roads.n_nodes, -1, dtype=np.int64)
    for d in range(n_departments):
        ids = np.flatnonzero(department == d)
        if len(ids) and n_grids:
            station[d], time_s[d] = _department_nearest(roads, graph, ids, nodes[ids], k,
                                                        scratch)
    _, labels = csgraph.connected_components(graph, directed=False)
    return StationTimes(k=k, station=station, time_s=time_s, department=department,
                        node=nodes, roads=roads, graph=graph,
                        seconds_per_metre=seconds_per_metre(roads, 1.0),
                        component_size=np.bincount(labels)[labels[nodes]].astype(np.int64))
