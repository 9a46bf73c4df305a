"""Mesoscopic movement: household groups as flow units queueing at link entrances.

A *group* (a household, which moves together) walks or drives from its origin node to a shelter.
Each link entrance is a FIFO server per mode that discharges at the link's capacity: a group of
``n`` units (persons on foot, one vehicle by car) holds the entrance for ``n / capacity``
seconds. A group is a platoon with a head and a tail:

* the head enters at ``max(head arrives, entrance free)`` (queues form at bottlenecks);
* the tail enters at ``max(head enters + n / capacity, tail arrives)``, and the entrance is free
  again when the tail has entered;
* both cross the link at the free speed (× the group's speed factor) and reach the next node
  ``length / speed`` later.

So the flow into a link never exceeds its capacity, a busy entrance discharges at exactly its
capacity, and a platoon on a chain of links of equal capacity keeps its length instead of paying
the service at every link. Queues are point queues at the entrances (no spill-back onto the link
upstream, no slowing with density).

Route choice is made by the head at every node, among the links that lead *downhill* towards
the group's shelter (closer by free travel time, so no loops): the one that minimises
``queue wait + n / capacity + (link time + time from its end to the shelter) / speed factor``.
With no queues this is the shortest path; with queues groups spread over parallel doors and
roads. The choice is myopic: a group sees the queue at the next link only, so a bottleneck two
links ahead diverts people only once they reach it (on one path and on parallel paths the
clearance meets the quickest-flow bound; on a road network it can exceed it by some 10 %).

A shelter that is full when a group's head reaches it sends the group on to the nearest
shelter (from where it stands) with room for it. A closure (a landslide, a flood) removes links
at its time; groups waiting at the entrance of a closed link go back to its tail node and choose
again with travel times recomputed on the remaining network; groups already on it go on.

The engine is one event loop over a heap of ``(time, sequence, kind, group)`` entries — one
entry per group per link, with no per-person and no per-group SimPy process; the sequence
number breaks ties in the order events were scheduled, so runs are deterministic.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gridsim.evacuation.network import EvacNetwork

__all__ = ["Closure", "FlowRecord", "Groups", "LinkStats", "ShelterSites", "move"]

_CLOSE, _DEPART, _AT_NODE, _SHELTERED = 0, 1, 2, 3
_INF = math.inf


@dataclass(frozen=True)
class Groups:
    """Flow units as arrays indexed by group: who moves, how, from where and when.

    ``depart_s``: the group leaves home (it stops being *not yet left*); ``ready_s``: its head
    reaches ``origin`` (after walking inside the grid); ``shelter``: index of its assigned
    shelter; ``speed_factor`` scales free speeds (slow walkers < 1).
    """

    persons: np.ndarray
    mode: np.ndarray
    origin: np.ndarray
    depart_s: np.ndarray
    ready_s: np.ndarray
    speed_factor: np.ndarray
    shelter: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.persons)
        for name, arr in self.__dict__.items():
            if len(arr) != n:
                raise ValueError(f"Groups.{name} has {len(arr)} entries, expected {n}")
        if n and np.any(self.ready_s < self.depart_s):
            raise ValueError("Groups: ready_s before depart_s")
        if n and np.any(self.persons < 1):
            raise ValueError("Groups: a group of fewer than one person")

    @property
    def n(self) -> int:
        return len(self.persons)


@dataclass(frozen=True)
class ShelterSites:
    """Shelters as the flow sees them: a node and a capacity in persons each."""

    node: np.ndarray
    capacity: np.ndarray


@dataclass(frozen=True)
class Closure:
    """Links closed at ``time_s`` (list both directions of a road)."""

    time_s: float
    links: tuple[int, ...]
    reason: str = ""


@dataclass
class LinkStats:
    """Per link and mode (arrays ``[2, n_links]``): groups and units that entered, the longest
    wait at the entrance and the longest queue a group found there (units ahead of it), the
    total person-seconds of waiting, and the time the entrance was busy."""

    groups: np.ndarray
    units: np.ndarray
    persons: np.ndarray
    max_wait_s: np.ndarray
    max_queue: np.ndarray
    wait_person_s: np.ndarray
    busy_s: np.ndarray
    max_wait_at_s: np.ndarray  # when the longest wait began


@dataclass
class FlowRecord:
    """What the movement leaves behind.

    Per group: the time its tail reached a shelter (NaN if never), the shelter (-1), how often a
    full shelter sent it on, whether it was stranded (no shelter reachable with room), its total
    queueing time. ``levels`` (with ``trace``): ``(time, not_left, on_the_way, sheltered)``
    persons after every event; ``entries`` (with ``trace``): ``(link, mode, group, head_enters,
    tail_enters, units)`` of every link entry, and ``withdrawn`` (with ``trace``): ``(link,
    mode, group, head_enters)`` of the entries that a closure cancelled before the head got in.
    Link statistics count only entries that took place (a cancelled one's wait until the
    closure stays in the waiting time, not in the longest wait and queue).
    """

    sheltered_s: np.ndarray
    shelter: np.ndarray
    redirected: np.ndarray
    stranded: np.ndarray
    wait_s: np.ndarray
    links_used: np.ndarray
    links: LinkStats
    occupancy: np.ndarray
    first_arrival_s: np.ndarray
    last_arrival_s: np.ndarray
    turned_away: np.ndarray
    closures: list[tuple[float, tuple[int, ...], int]]  # (time, links, groups sent back)
    events: int
    horizon_s: float
    levels: list[tuple[float, int, int, int]] | None = None
    entries: list[tuple[int, int, int, float, float, float]] | None = field(default=None)
    withdrawn: list[tuple[int, int, int, float]] | None = field(default=None)


def move(network: EvacNetwork, groups: Groups, shelters: ShelterSites,
         closures: Sequence[Closure] = (), horizon_s: float = _INF,
         trace: bool = False) -> FlowRecord:
    """Move ``groups`` over ``network`` to ``shelters`` until every group is sheltered or
    stranded, or the clock passes ``horizon_s`` (see the module docstring)."""
    n_links = network.n_links
    n_nodes = network.n_nodes
    n_sh = len(shelters.node)
    G = groups.n
    if n_sh == 0 and G:
        raise ValueError("move: no shelters")
    if G and (np.any(groups.shelter < 0) or np.any(groups.shelter >= n_sh)):
        raise ValueError("move: a group's shelter is not one of the shelters")
    closed = np.zeros(n_links, dtype=bool)
    modes_used = sorted(set(np.unique(groups.mode).tolist())) if G else []
    l_from = network.link_from.tolist()
    l_to = network.link_to.tolist()
    # per mode (index 0/1; unused modes stay empty)
    cap: list[list[float]] = [network.capacity[m].tolist() for m in (0, 1)]
    ftime: list[list[float]] = [network.free_time_s(m).tolist() for m in (0, 1)]
    free_at: list[list[float]] = [[0.0] * n_links for _ in (0, 1)]
    out: list[list[list[int]]] = [[], []]
    # [mode][shelter] -> time to it from each node; compact C doubles that index as floats
    dist: list[list[array]] = [[], []]
    sh_node = shelters.node.astype(np.int64).tolist()
    sh_cap = shelters.capacity.astype(np.int64).tolist()

    def rebuild() -> None:
        for m in modes_used:
            ok = network.usable(m, closed)
            lists: list[list[int]] = [[] for _ in range(n_nodes)]
            for lk in np.flatnonzero(ok).tolist():
                lists[l_from[lk]].append(lk)
            out[m] = lists
            d = network.times_to(shelters.node, m, closed)
            dist[m] = [array("d", np.ascontiguousarray(row, dtype=float).tobytes()) for row in d]

    rebuild()

    # group state
    persons = groups.persons.astype(np.int64).tolist()
    mode = groups.mode.astype(np.int64).tolist()
    units = [float(p) if m == 0 else 1.0 for p, m in zip(persons, mode, strict=True)]
    factor = groups.speed_factor.astype(float).tolist()
    node = groups.origin.astype(np.int64).tolist()
    target = groups.shelter.astype(np.int64).tolist()
    ready0 = groups.ready_s.astype(float).tolist()
    tail = list(ready0)  # when the tail reaches `node` (absolute time)
    prev_tail = list(tail)
    cur_link = [-1] * G
    cur_entry = [_INF] * G
    cur_arrive = [0.0] * G  # when the head reached the entrance of cur_link
    prev_busy = [0.0] * G  # how long it holds that entrance
    version = [0] * G
    sheltered_s = [math.nan] * G
    shelter_of = [-1] * G
    redirected = [0] * G
    stranded = [False] * G
    wait_g = [0.0] * G
    links_used = [0] * G
    # link statistics
    st_groups = np.zeros((2, n_links), dtype=np.int64)
    st_units = np.zeros((2, n_links))
    st_persons = np.zeros((2, n_links), dtype=np.int64)
    st_max_wait = [[0.0] * n_links for _ in (0, 1)]
    st_max_wait_at = [[math.nan] * n_links for _ in (0, 1)]
    st_max_queue = [[0.0] * n_links for _ in (0, 1)]
    st_wait_ps = [[0.0] * n_links for _ in (0, 1)]
    st_busy = [[0.0] * n_links for _ in (0, 1)]
    occ = [0] * n_sh
    first_arr = [math.nan] * n_sh
    last_arr = [math.nan] * n_sh
    turned = [0] * n_sh
    closure_log: list[tuple[float, tuple[int, ...], int]] = []
    levels: list[tuple[float, int, int, int]] | None = [] if trace else None
    entries: list[tuple[int, int, int, float, float, float]] | None = [] if trace else None
    withdrawn: list[tuple[int, int, int, float]] | None = [] if trace else None

    not_left = int(sum(persons))
    on_way = 0
    sheltered = 0
    if levels is not None:
        levels.append((-_INF, not_left, on_way, sheltered))

    heap: list[tuple[float, int, int, int, int]] = []
    seq = 0
    closure_list = sorted(closures, key=lambda c: c.time_s)
    for i, c in enumerate(closure_list):
        heap.append((c.time_s, seq, _CLOSE, i, 0))
        seq += 1
    for g, t in enumerate(groups.depart_s.tolist()):
        heap.append((t, seq, _DEPART, g, 0))
        seq += 1
    heapq.heapify(heap)
    heappush, heappop = heapq.heappush, heapq.heappop
    events = 0

    def choose_shelter(g: int, at: int) -> int:
        """The nearest shelter (from node ``at``) with room for group ``g``, or -1."""
        m, n = mode[g], persons[g]
        best, best_d = -1, _INF
        for s in range(n_sh):
            if occ[s] + n <= sh_cap[s]:
                d = dist[m][s][at]
                if d < best_d:
                    best, best_d = s, d
        return best

    while heap:
        t, _, kind, g, ver = heappop(heap)
        if t > horizon_s:
            break
        events += 1
        if kind == _AT_NODE:
            if ver != version[g]:
                continue
            x = node[g]
            m = mode[g]
            s = target[g]
            # at the shelter: in if there is room, else on to the next one
            while x == sh_node[s] or dist[m][s][x] == _INF:
                if x == sh_node[s]:
                    if occ[s] + persons[g] <= sh_cap[s]:
                        break
                    turned[s] += 1
                    redirected[g] += 1
                s2 = choose_shelter(g, x)
                if s2 < 0 or dist[m][s2][x] == _INF:
                    s = -1
                    break
                s = s2
                target[g] = s
            if s < 0:
                stranded[g] = True
                continue
            if x == sh_node[s]:
                occ[s] += persons[g]
                shelter_of[g] = s
                heappush(heap, (max(t, tail[g]), seq, _SHELTERED, g, 0))
                seq += 1
                continue
            ds = dist[m][s]
            dx = ds[x]
            f = factor[g]
            u = units[g]
            fa = free_at[m]
            cp = cap[m]
            ft = ftime[m]
            best, best_c = -1, _INF
            for lk in out[m][x]:
                dh = ds[l_to[lk]]
                tl = ft[lk]
                if not (dh < dx or (tl == 0.0 and dh <= dx)):
                    continue
                w = fa[lk] - t
                c = (w if w > 0.0 else 0.0) + u / cp[lk] + (tl + dh) / f
                if c < best_c:
                    best, best_c = lk, c
            if best < 0:  # cannot happen with a finite distance; kept as a guard
                stranded[g] = True
                continue
            lk = best
            free_before = fa[lk]
            head_in = t if t > free_before else free_before
            tail_in = head_in + u / cp[lk]
            if tail[g] > tail_in:
                tail_in = tail[g]
            fa[lk] = tail_in
            w = head_in - t
            if w > 0.0:
                wait_g[g] += w
                st_wait_ps[m][lk] += w * persons[g]
                if w > st_max_wait[m][lk]:
                    st_max_wait[m][lk] = w
                    st_max_wait_at[m][lk] = t
                q = w * cp[lk]
                if q > st_max_queue[m][lk]:
                    st_max_queue[m][lk] = q
            st_busy[m][lk] += tail_in - head_in
            prev_busy[g] = tail_in - head_in
            st_groups[m, lk] += 1
            st_units[m, lk] += u
            st_persons[m, lk] += persons[g]
            links_used[g] += 1
            if entries is not None:
                entries.append((lk, m, g, head_in, tail_in, u))
            tl = ft[lk] / f
            prev_tail[g] = tail[g]
            tail[g] = tail_in + tl
            cur_link[g] = lk
            cur_entry[g] = head_in
            cur_arrive[g] = t
            node[g] = l_to[lk]
            heappush(heap, (head_in + tl, seq, _AT_NODE, g, version[g]))
            seq += 1
        elif kind == _DEPART:
            n = persons[g]
            not_left -= n
            on_way += n
            heappush(heap, (ready0[g], seq, _AT_NODE, g, version[g]))
            seq += 1
        elif kind == _SHELTERED:
            n = persons[g]
            on_way -= n
            sheltered += n
            sheltered_s[g] = t
            s = shelter_of[g]
            if not first_arr[s] <= t:
                first_arr[s] = t
            last_arr[s] = t
        else:  # _CLOSE
            c = closure_list[g]
            gone = [lk for lk in c.links if not closed[lk]]
            closed[list(c.links)] = True
            gone_set = set(gone)
            back = 0
            if gone_set:
                rebuild()
                # groups waiting at a closed entrance (not yet in) go back and choose again
                for h in range(G):
                    if cur_link[h] in gone_set and cur_entry[h] > t and not math.isfinite(
                            sheltered_s[h]) and not stranded[h]:
                        lk = cur_link[h]
                        mh = mode[h]
                        head_in = cur_entry[h]
                        # undo the entry that will not take place; the wait so far stays
                        waited = t - cur_arrive[h]
                        wait_g[h] += waited - (head_in - cur_arrive[h])
                        st_wait_ps[mh][lk] += (waited - (head_in - cur_arrive[h])) * persons[h]
                        st_groups[mh, lk] -= 1
                        st_units[mh, lk] -= units[h]
                        st_persons[mh, lk] -= persons[h]
                        st_busy[mh][lk] -= (prev_busy[h])
                        links_used[h] -= 1
                        if withdrawn is not None:
                            withdrawn.append((lk, mh, h, head_in))
                        version[h] += 1
                        node[h] = l_from[lk]
                        tail[h] = prev_tail[h]
                        cur_link[h] = -1
                        cur_entry[h] = _INF
                        heappush(heap, (t, seq, _AT_NODE, h, version[h]))
                        seq += 1
                        back += 1
            closure_log.append((t, tuple(c.links), back))
        if levels is not None:
            levels.append((t, not_left, on_way, sheltered))

    links = LinkStats(
        groups=st_groups, units=st_units, persons=st_persons,
        max_wait_s=np.array(st_max_wait), max_queue=np.array(st_max_queue),
        wait_person_s=np.array(st_wait_ps), busy_s=np.array(st_busy),
        max_wait_at_s=np.array(st_max_wait_at))
    return FlowRecord(
        sheltered_s=np.array(sheltered_s, dtype=float),
        shelter=np.array(shelter_of, dtype=np.int64),
        redirected=np.array(redirected, dtype=np.int64),
        stranded=np.array(stranded, dtype=bool),
        wait_s=np.array(wait_g, dtype=float),
        links_used=np.array(links_used, dtype=np.int64),
        links=links,
        occupancy=np.array(occ, dtype=np.int64),
        first_arrival_s=np.array(first_arr, dtype=float),
        last_arrival_s=np.array(last_arr, dtype=float),
        turned_away=np.array(turned, dtype=np.int64),
        closures=closure_log, events=events, horizon_s=float(horizon_s),
        levels=levels, entries=entries, withdrawn=withdrawn)
