"""The road network and travel times on it.

Shortest paths come from :mod:`scipy.sparse.csgraph`, computed once when a scenario is built.
At city scale (18,176 grids) a dense grid-by-grid matrix would take 1.3 GB, so travel times are
kept in two sparse or thin forms:

* :class:`NearTimes`: for each grid, the driving time to every grid within a radius (the
  neighbours that may lend people or supplies), as CSR rows;
* dense ``sources × grids`` arrays for the few sources that reach everywhere (department
  stations, township depots).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

__all__ = ["ROAD_CLASSES", "NearTimes", "RoadNetwork", "near_travel_times", "times_from"]

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


def near_travel_times(
    roads: RoadNetwork, radius_s: float, speed_factor: float = 1.0, chunk: int = 1024
) -> NearTimes:
    """Grid-to-grid driving times within ``radius_s`` (Dijkstra with a search limit, in chunks
    of origins so that no dense grid-by-grid matrix is ever held)."""
    graph = roads.time_graph(speed_factor)
    gnode = roads.grid_node
    n_grids = len(gnode)
    # map node -> grid (nodes that are not grid centres map to -1)
    node_grid = np.full(roads.n_nodes, -1, dtype=np.int64)
    node_grid[gnode] = np.arange(n_grids)
    rows_idx: list[np.ndarray] = []
    rows_t: list[np.ndarray] = []
    counts = np.zeros(n_grids, dtype=np.int64)
    for start in range(0, n_grids, chunk):
        src = gnode[start : start + chunk]
        d = csgraph.dijkstra(graph, directed=False, indices=src, limit=radius_s)
        d = d[:, gnode]  # columns: grids
        for k in range(d.shape[0]):
            row = d[k]
            j = np.flatnonzero(np.isfinite(row))
            t = row[j]
            order = np.argsort(t, kind="stable")
            rows_idx.append(j[order].astype(np.int32))
            rows_t.append(t[order].astype(np.float32))
            counts[start + k] = len(j)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return NearTimes(
        indptr=indptr,
        indices=np.concatenate(rows_idx) if rows_idx else np.zeros(0, np.int32),
        time_s=np.concatenate(rows_t) if rows_t else np.zeros(0, np.float32),
        radius_s=float(radius_s),
    )


def times_from(roads: RoadNetwork, source_nodes: np.ndarray, speed_factor: float = 1.0) -> np.ndarray:
    """Driving times (float32, seconds) from each source node to every grid: ``sources × grids``."""
    if len(source_nodes) == 0:
        return np.zeros((0, len(roads.grid_node)), dtype=np.float32)
    graph = roads.time_graph(speed_factor)
    uniq, inv = np.unique(source_nodes, return_inverse=True)
    d = csgraph.dijkstra(graph, directed=False, indices=uniq)[:, roads.grid_node]
    return d[inv].astype(np.float32)
