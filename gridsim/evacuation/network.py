"""The evacuation network: nodes, directed links with a length, a clear width, free speeds and a
capacity per travel mode, doors from homes onto the roads, closures, and flow bounds.

A link carries walkers and cars side by side (pavement and carriageway), each mode with its own
free speed and capacity, so a link is two servers, one per mode:

* walking capacity (persons/s) = specific flow × effective width, with the effective width the
  clear width less a boundary layer on each side. Defaults follow the SFPE hydraulic model
  (``docs/references.md``): at most 1.3 persons per metre of effective width per second, and
  0.15 m on each side;
* driving capacity (vehicles/s) = lanes × lane capacity.

A *door* is a link from a grid's homes (its *home node*) onto the road network at the grid's
centre: the compound gates and village paths that every household of the grid passes.

Quickest-flow lower bounds (:func:`quickest_flow_bound`) follow the temporally repeated flow
argument (Ford and Fulkerson; Burkard, Dlaska and Klinz 1993): ``N`` people from the sources
to the sinks need at least ``T* = min_v (N + C(v)) / v``, with ``C(v)`` the least cost (sum of
free travel times) of a static flow of value ``v``. One path: ``T* = τ + N/u``; parallel paths
all used: ``T* = (N + Σ uᵢτᵢ) / Σ uᵢ``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from gridsim.model.params import EvacuationConfig
from gridsim.model.region import Grids
from gridsim.model.vocab import GRID_KINDS
from gridsim.place.roads import ROAD_CLASSES, RoadNetwork

__all__ = [
    "DOOR",
    "DRIVE",
    "MODE_NAMES",
    "ROAD",
    "WALK",
    "EvacNetwork",
    "effective_width_m",
    "quickest_flow_bound",
    "scenario_network",
    "walking_capacity_pps",
]

#: Travel modes (index of the per-mode arrays).
WALK, DRIVE = 0, 1
MODE_NAMES: tuple[str, ...] = ("walk", "drive")
#: Link kinds.
ROAD, DOOR = 0, 1


def effective_width_m(clear_width_m: np.ndarray | float, boundary_layer_m: float = 0.15
                      ) -> np.ndarray:
    """The effective width: clear width less a boundary layer on each side (SFPE), at least 0."""
    return np.maximum(np.asarray(clear_width_m, dtype=float) - 2.0 * boundary_layer_m, 0.0)


def walking_capacity_pps(clear_width_m: np.ndarray | float, specific_flow_ppms: float = 1.3,
                         boundary_layer_m: float = 0.15) -> np.ndarray:
    """Walking capacity in persons per second: specific flow × effective width (SFPE:
    1.3 persons/(m·s) at most, 0.15 m boundary layer on each side)."""
    return specific_flow_ppms * effective_width_m(clear_width_m, boundary_layer_m)


def _frozen(a: np.ndarray, dtype: type | np.dtype) -> np.ndarray:
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class EvacNetwork:
    """A directed evacuation network as arrays indexed by node and by link.

    ``speed_mps[m, l]`` and ``capacity[m, l]`` are the free speed and the capacity of link ``l``
    for mode ``m`` (:data:`WALK`: persons/s; :data:`DRIVE`: vehicles/s); a capacity of 0 closes
    the link to that mode. ``road_edge[l]`` is the edge of the scenario's road network the link
    runs along (-1 for doors and hand-made links); ``home_node[i]`` is the home node of the
    ``i``-th grid of ``home_grid`` (the grids being evacuated), ``grid_node[g]`` the node at the
    centre of grid ``g``.
    """

    x_m: np.ndarray
    y_m: np.ndarray
    link_from: np.ndarray
    link_to: np.ndarray
    length_m: np.ndarray
    clear_width_m: np.ndarray  # walkers' clear width (reported; capacity is what counts)
    speed_mps: np.ndarray  # [2, n_links]
    capacity: np.ndarray  # [2, n_links]
    kind: np.ndarray  # ROAD or DOOR
    road_edge: np.ndarray
    grid_node: np.ndarray
    home_grid: np.ndarray
    home_node: np.ndarray

    def __post_init__(self) -> None:
        n_links = len(self.link_from)
        for name in ("link_to", "length_m", "clear_width_m", "kind", "road_edge"):
            if len(getattr(self, name)) != n_links:
                raise ValueError(f"EvacNetwork.{name}: {len(getattr(self, name))} entries, "
                                 f"expected {n_links}")
        for name in ("speed_mps", "capacity"):
            if np.shape(getattr(self, name)) != (2, n_links):
                raise ValueError(f"EvacNetwork.{name}: shape {np.shape(getattr(self, name))}, "
                                 f"expected (2, {n_links})")
        n = len(self.x_m)
        if n_links and (min(self.link_from.min(), self.link_to.min()) < 0
                        or max(self.link_from.max(), self.link_to.max()) >= n):
            raise ValueError("EvacNetwork: a link ends outside the nodes")
        if np.any(self.length_m < 0):
            raise ValueError("EvacNetwork: negative link length")
        if len(self.home_grid) != len(self.home_node):
            raise ValueError("EvacNetwork: home_grid and home_node differ in length")
        for name, dtype in (("x_m", float), ("y_m", float), ("link_from", np.int64),
                            ("link_to", np.int64), ("length_m", float), ("clear_width_m", float),
                            ("speed_mps", float), ("capacity", float), ("kind", np.int8),
                            ("road_edge", np.int64), ("grid_node", np.int64),
                            ("home_grid", np.int64), ("home_node", np.int64)):
            object.__setattr__(self, name, _frozen(getattr(self, name), dtype))

    # -- constructors ------------------------------------------------------------------------
    @staticmethod
    def from_links(n_nodes: int, link_from: Sequence[int], link_to: Sequence[int],
                   length_m: Sequence[float], clear_width_m: Sequence[float],
                   walk_speed_mps: float | Sequence[float], *,
                   specific_flow_ppms: float = 1.3, boundary_layer_m: float = 0.15,
                   drive_speed_mps: float | Sequence[float] = 0.0,
                   drive_capacity_vps: float | Sequence[float] = 0.0,
                   x_m: Sequence[float] | None = None, y_m: Sequence[float] | None = None,
                   kind: Sequence[int] | None = None) -> EvacNetwork:
        """A hand-made network (tests, drills on a plan): walking capacity from the clear width
        by the SFPE rule; no cars unless ``drive_capacity_vps`` is given."""
        n_links = len(link_from)

        def per_link(v: float | Sequence[float]) -> np.ndarray:
            return np.broadcast_to(np.asarray(v, dtype=float), (n_links,)).copy()

        width = per_link(clear_width_m)
        cap_walk = walking_capacity_pps(width, specific_flow_ppms, boundary_layer_m)
        return EvacNetwork(
            x_m=np.zeros(n_nodes) if x_m is None else np.asarray(x_m, float),
            y_m=np.zeros(n_nodes) if y_m is None else np.asarray(y_m, float),
            link_from=np.asarray(link_from), link_to=np.asarray(link_to),
            length_m=per_link(length_m), clear_width_m=width,
            speed_mps=np.stack([per_link(walk_speed_mps), per_link(drive_speed_mps)]),
            capacity=np.stack([cap_walk, per_link(drive_capacity_vps)]),
            kind=np.zeros(n_links) if kind is None else np.asarray(kind),
            road_edge=np.full(n_links, -1), grid_node=np.zeros(0), home_grid=np.zeros(0),
            home_node=np.zeros(0),
        )

    # -- queries -----------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.x_m)

    @property
    def n_links(self) -> int:
        return len(self.link_from)

    def free_time_s(self, mode: int) -> np.ndarray:
        """Free travel time of every link for ``mode`` (inf where the mode cannot use it)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(self.speed_mps[mode] > 0, self.length_m / self.speed_mps[mode], np.inf)
        t[~(self.capacity[mode] > 0)] = np.inf
        return t

    def usable(self, mode: int, closed: np.ndarray | None = None) -> np.ndarray:
        """Links that ``mode`` can use (capacity and speed > 0, not closed)."""
        ok = (self.capacity[mode] > 0) & (self.speed_mps[mode] > 0)
        if closed is not None:
            ok &= ~closed
        return ok

    def links_between(self, a: int, b: int) -> np.ndarray:
        """Ids of the links from node ``a`` to node ``b`` and from ``b`` to ``a``."""
        return np.flatnonzero(((self.link_from == a) & (self.link_to == b))
                              | ((self.link_from == b) & (self.link_to == a)))

    def times_to(self, targets: np.ndarray, mode: int, closed: np.ndarray | None = None,
                 speed_factor: float = 1.0) -> np.ndarray:
        """Free travel times ``[len(targets), n_nodes]`` from every node to each target node
        by ``mode`` (inf where unreachable): Dijkstra on the reversed graph."""
        ok = self.usable(mode, closed)
        t = self.length_m[ok] / (self.speed_mps[mode][ok] * speed_factor)
        # reversed: an edge head -> tail, so that distances from a target are times *to* it
        g = _min_graph(self.link_to[ok], self.link_from[ok], t, self.n_nodes)
        targets = np.asarray(targets, dtype=np.int64)
        if len(targets) == 0:
            return np.zeros((0, self.n_nodes))
        uniq, inv = np.unique(targets, return_inverse=True)
        d = csgraph.dijkstra(g, directed=True, indices=uniq)
        return np.asarray(d[inv], dtype=float)


def _min_graph(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sparse.csr_matrix:
    """A CSR matrix of edge weights keeping the least weight of parallel edges (a plain sparse
    matrix would add them up). Zero weights are stored as a tiny positive number, because
    csgraph reads explicit zeros in a sparse matrix as missing edges."""
    if len(u) == 0:
        return sparse.csr_matrix((n, n))
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]
    w = np.maximum(w[first], 1e-12)
    return sparse.csr_matrix((w, (u[first], v[first])), shape=(n, n))


# ----------------------------------------------------------------------------------------------
# quickest flow lower bound
# ----------------------------------------------------------------------------------------------
def quickest_flow_bound(network: EvacNetwork, sources: Sequence[int], sinks: Sequence[int],
                        people: float, mode: int = WALK,
                        closed: np.ndarray | None = None) -> float:
    """A lower bound on the time to bring ``people`` from ``sources`` to ``sinks``, all ready
    at time 0: the quickest (temporally repeated) flow time
    ``T* = min over v of (N + C(v)) / v``, with ``C(v)`` the least total free travel time of
    a static flow of value ``v`` (successive shortest paths; the minimum lies at a breakpoint).

    People may leave from any source (a super source), which can only lower the bound, so it
    stays a valid bound for any split of the people over the sources. For small networks
    (tests, plans): Bellman–Ford on the residual graph, O(paths × nodes × links).
    """
    if people <= 0:
        return 0.0
    ok = network.usable(mode, closed)
    n = network.n_nodes
    s, t = n, n + 1
    tails = list(network.link_from[ok]) + [s] * len(sources) + list(sinks)
    heads = list(network.link_to[ok]) + list(sources) + [t] * len(sinks)
    cost = list(network.length_m[ok] / network.speed_mps[mode][ok]) + [0.0] * (
        len(sources) + len(sinks))
    cap = list(network.capacity[mode][ok]) + [np.inf] * (len(sources) + len(sinks))
    # residual arcs: 2k forward, 2k+1 backward
    arc_to: list[int] = []
    arc_cost: list[float] = []
    arc_cap: list[float] = []
    out: list[list[int]] = [[] for _ in range(n + 2)]
    for a, b, c, u in zip(tails, heads, cost, cap, strict=True):
        out[int(a)].append(len(arc_to))
        arc_to.append(int(b))
        arc_cost.append(float(c))
        arc_cap.append(float(u))
        out[int(b)].append(len(arc_to))
        arc_to.append(int(a))
        arc_cost.append(-float(c))
        arc_cap.append(0.0)
    value, total_cost, best = 0.0, 0.0, np.inf
    eps = 1e-12
    while True:
        dist = [np.inf] * (n + 2)
        pred = [-1] * (n + 2)
        dist[s] = 0.0
        for _ in range(n + 1):  # Bellman–Ford (residual costs may be negative)
            changed = False
            for a in range(n + 2):
                da = dist[a]
                if da == np.inf:
                    continue
                for e in out[a]:
                    if arc_cap[e] > eps and da + arc_cost[e] < dist[arc_to[e]] - 1e-12:
                        dist[arc_to[e]] = da + arc_cost[e]
                        pred[arc_to[e]] = e
                        changed = True
            if not changed:
                break
        if dist[t] == np.inf:
            break
        push, node = np.inf, t
        while node != s:
            e = pred[node]
            push = min(push, arc_cap[e])
            node = arc_to[e ^ 1]
        if push == np.inf:  # an uncapacitated path: the bound is its travel time
            return float(dist[t])
        node = t
        while node != s:
            e = pred[node]
            arc_cap[e] -= push
            arc_cap[e ^ 1] += push
            node = arc_to[e ^ 1]
        value += push
        total_cost += push * dist[t]
        best = min(best, (people + total_cost) / value)
        if dist[t] >= best:  # later paths are no shorter: the bound cannot improve
            break
    return float(best)


# ----------------------------------------------------------------------------------------------
# the network of a scenario
# ----------------------------------------------------------------------------------------------
def scenario_network(roads: RoadNetwork, grids: Grids, evacuated: np.ndarray,
                     cfg: EvacuationConfig) -> EvacNetwork:
    """The evacuation network of a scenario: every road edge as two directed links (walkers on
    a clear width and cars on lanes set by the road class), plus, for each grid in
    ``evacuated``, a home node at its centre and a door link from it onto the road node of the
    grid (gate width and lanes by grid kind, length 0: walking inside the grid is the access
    time of each household, see :mod:`gridsim.evacuation.model`)."""
    n_road = roads.n_nodes
    e = len(roads.edge_u)
    cls = np.asarray(roads.road_class, dtype=np.int64)
    cls_names = [ROAD_CLASSES[c] for c in range(len(ROAD_CLASSES))]
    width_by_cls = np.array([cfg.road_walk_width_m[c] for c in cls_names], dtype=float)
    lanes_by_cls = np.array([cfg.road_lanes[c] for c in cls_names], dtype=float)
    evacuated = np.asarray(evacuated, dtype=np.int64)
    k = len(evacuated)
    home = n_road + np.arange(k)
    kinds = grids.kind[evacuated].astype(np.int64)
    door_w = np.array([cfg.door_walk_width_m[name] for name in GRID_KINDS], dtype=float)[kinds]
    door_lanes = np.array([cfg.door_lanes[name] for name in GRID_KINDS], dtype=float)[kinds]
    width = np.concatenate([width_by_cls[cls], width_by_cls[cls], door_w])
    lanes = np.concatenate([lanes_by_cls[cls], lanes_by_cls[cls], door_lanes])
    cap_walk = walking_capacity_pps(width, cfg.specific_flow_ppms, cfg.boundary_layer_m)
    cap_drive = lanes * cfg.lane_capacity_vph / 3600.0
    drive_speed = np.concatenate([roads.speed_mps, roads.speed_mps,
                                  np.full(k, cfg.drive_access_speed_mps)])
    gnode = np.asarray(roads.grid_node, dtype=np.int64)
    return EvacNetwork(
        x_m=np.concatenate([roads.x_m, grids.x_m[evacuated]]),
        y_m=np.concatenate([roads.y_m, grids.y_m[evacuated]]),
        link_from=np.concatenate([roads.edge_u, roads.edge_v, home]),
        link_to=np.concatenate([roads.edge_v, roads.edge_u, gnode[evacuated]]),
        length_m=np.concatenate([roads.length_m, roads.length_m, np.zeros(k)]),
        clear_width_m=width,
        speed_mps=np.stack([np.full(2 * e + k, cfg.walk_speed_mps), drive_speed]),
        capacity=np.stack([cap_walk, cap_drive]),
        kind=np.concatenate([np.full(2 * e, ROAD), np.full(k, DOOR)]),
        road_edge=np.concatenate([np.arange(e), np.arange(e), np.full(k, -1)]),
        grid_node=gnode, home_grid=evacuated, home_node=home,
    )
