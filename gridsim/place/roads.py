"""The road network and travel times on it.

Shortest paths come from :mod:`scipy.sparse.csgraph`, computed once when a scenario is built.
At city scale (18,176 grids) a dense grid-by-grid matrix would take 1.3 GB (float32) or
2.6 GB (float64), so no such matrix is ever made, not even in chunks; travel times are kept in
sparse or thin forms:

* :class:`NearTimes`: for each grid, the driving time to every grid within a radius (the
  neighbours that may lend people or supplies), as CSR rows, computed cell by cell on small
  subgraphs (:func:`near_travel_times`);
* dense ``sources × grids`` arrays for the few sources that reach everywhere (department
  stations, :func:`times_from`);
* one time per grid from its own township's depot (:func:`township_times`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse, spatial
from scipy.sparse import csgraph

__all__ = [
    "ROAD_CLASSES",
    "NearTimes",
    "RoadNetwork",
    "near_travel_times",
    "times_from",
    "township_times",
]

#: Road classes of a synthetic network (index into this tuple).
ROAD_CLASSES: tuple[str, ...] = ("urban", "rural", "arterial")


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


def _seconds_per_metre(roads: RoadNetwork, speed_factor: float) -> float:
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


def near_travel_times(
    roads: RoadNetwork, radius_s: float, speed_factor: float = 1.0, cell_m: float | None = None
) -> NearTimes:
    """Grid-to-grid driving times within ``radius_s`` (Dijkstra with a search limit).

    Origins are taken in square cells of the plane; for each cell, Dijkstra runs on the
    subgraph of the nodes that a path of ``radius_s`` seconds from the cell can reach at all
    (a disc bounded by the fastest link, see :func:`_seconds_per_metre`). Every path within the
    radius stays inside that subgraph, so the times are exactly those on the whole network, and
    no dense grid-by-grid (or cell-by-network) array is ever held.
    """
    graph = roads.time_graph(speed_factor)
    gnode = np.asarray(roads.grid_node, dtype=np.int64)
    n_grids = len(gnode)
    node_grid = np.full(roads.n_nodes, -1, dtype=np.int64)
    node_grid[gnode] = np.arange(n_grids)
    spm = _seconds_per_metre(roads, speed_factor)
    reach_m = radius_s / spm if spm > 0 else np.inf
    rows, cols, vals = [], [], []
    if n_grids and np.isfinite(reach_m) and roads.n_nodes > 1:
        nx, ny = roads.x_m, roads.y_m
        tree = spatial.cKDTree(np.column_stack([nx, ny]))
        side = float(cell_m) if cell_m else max(reach_m, 1.0)
        gx, gy = nx[gnode], ny[gnode]
        cx = np.floor((gx - gx.min()) / side).astype(np.int64)
        cy = np.floor((gy - gy.min()) / side).astype(np.int64)
        cell = cx * (int(cy.max()) + 1) + cy
        order = np.argsort(cell, kind="stable")
        bounds = np.flatnonzero(np.diff(cell[order])) + 1
        for grp in np.split(order, bounds):
            sx, sy = gx[grp], gy[grp]
            mx, my = (sx.min() + sx.max()) / 2, (sy.min() + sy.max()) / 2
            half_diag = float(np.max(np.hypot(sx - mx, sy - my)))
            sub = np.array(sorted(tree.query_ball_point([mx, my], reach_m + half_diag + 1.0)),
                           dtype=np.int64)
            local = np.full(roads.n_nodes, -1, dtype=np.int64)
            local[sub] = np.arange(len(sub))
            g_sub = graph[sub][:, sub]
            d = csgraph.dijkstra(g_sub, directed=True, indices=local[gnode[grp]], limit=radius_s)
            r, c = np.nonzero(np.isfinite(d))
            dest = node_grid[sub[c]]
            keep = dest >= 0
            r, c, dest = r[keep], c[keep], dest[keep]
            t = d[r, c]
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
    """
    graph = roads.time_graph(speed_factor)
    gnode = np.asarray(roads.grid_node, dtype=np.int64)
    n_grids = len(gnode)
    out = np.full(n_grids, np.inf, dtype=np.float32)
    township = np.asarray(township, dtype=np.int64)
    order = np.argsort(township, kind="stable")
    starts = np.searchsorted(township[order], np.arange(len(depot_grid) + 1))
    for t, dg in enumerate(np.asarray(depot_grid, dtype=np.int64).tolist()):
        ids = order[starts[t]:starts[t + 1]]
        if len(ids) == 0:
            continue
        nodes = gnode[ids]
        src = gnode[dg]
        limit = np.inf
        at = np.flatnonzero(nodes == src)
        if len(at):
            inner = csgraph.dijkstra(graph[nodes][:, nodes], directed=True, indices=int(at[0]))
            bound = float(inner.max())
            if np.isfinite(bound):
                limit = bound * (1.0 + 1e-9) + 1e-6
        d = csgraph.dijkstra(graph, directed=True, indices=int(src), limit=limit)
        out[ids] = d[nodes].astype(np.float32)
    return out
