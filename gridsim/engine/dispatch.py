"""Dispatch: the on-site commander sends the nearest available people of the needed categories.

Candidates are the people of the incident's grid and of the grids within the mutual-aid radius.
A person can be sent if not busy and either

* assembled at a forward command post (then sent from the post with no call-up delay: the
  people "convert in place" into responders), or
* of a role callable in peacetime and not away at work (then called up from home, with the
  role's mobilisation delay, slower at night).

Each need ``(category, count)`` takes the candidates of that category with the least expected
time to scene (mobilisation + travel). A request that cannot be filled waits in one FIFO queue;
when a person is released, or a grid's post is ready, or people come back from work, the oldest
waiting requests are served first. With zero travel and delays this is the M/M/c queue of
Erlang C (tested).

Priorities and pre-emption (storm work, :mod:`gridsim.engine.storm`): a person may be *held* by
a post task at a priority (:meth:`Dispatcher.occupy`). Such a person is busy, but a request of a
higher priority (an incident's, ``request_priority``) counts them as available, at the post;
when picked, the task's hook (``preempt_hook``) takes them off the task (its SimPy process is
interrupted) before they go. Nobody is held with storm work off, and dispatch is then as before.

Free people by category: the dispatcher counts, for each standby category, the people who are
free or held by post tasks (not on an incident; a post task's hold and release leave the count
as it is). A request none of whose needs has a category anybody free or held has cannot be
filled by anyone, so :meth:`Dispatcher._fill` returns at once: a
waiting queue behind busy commanders costs one count per request at each release, not a search
(the Erlang C test: about 611,000 searches for 192,000 customers before, one per customer now).
The count only skips searches that would have assigned nobody: who is sent, and in what order,
is as before.

Members on their way to the post (``en_route_dispatch``): a member of a grid in ALERT who has
not yet reached the post is available too. Still alerting or getting going, they are at home and
leave when they would have left for the post; on the way, they are where their trip has got to,
interpolated between home and post, and travel from there. One still at home who could be
called up in peacetime now (a peace role, not away at work in working hours) can be phoned:
their mobilisation is ``min(wait, call-up delay)``, the sooner of leaving for the post and a
fresh call-up (ranked by ``min(wait, median call-up delay)``). Members coming back from work,
or of roles not called in peacetime, leave when they would have left for the post.

Call-up delays are keyed draws (common random numbers, docs/crn.md): the uniform of a call-up
is a function of the ``dispatch`` stream's key, the incident id, the person's stable key
(:func:`gridsim.engine.switch.person_keys`) and how many times this incident has called this
person before (normally 0), never of how many call-ups came before. A variant that sends other
people to one incident leaves every other call-up's delay as it was.

Travel: inside a grid, Manhattan distance × detour at the grid kind's local speed; between grids,
the road driving time between centres (:class:`gridsim.place.roads.NearTimes`) plus the local legs.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from gridsim.engine.compiled import local_speeds
from gridsim.engine.recorder import EventLog
from gridsim.engine.switch import LEAD_ORDER, ModeSwitch, lead_roles, people_of, person_keys
from gridsim.model.clock import in_hours
from gridsim.model.params import DispatchConfig
from gridsim.model.people import role_bit
from gridsim.model.streams import keyed_uniform, stream_key
from gridsim.place.roads import NearTimes
from gridsim.place.scenario import Scenario

__all__ = ["Assignment", "Dispatcher", "Request"]

_LEAD_ORDER = LEAD_ORDER
# candidate sets up to this size are searched in Python, larger ones with arrays (_choose)
_SMALL = 24
# one person picked: (person, at_post, travel_s, wait_s, phone, lead role index)
_Pick = tuple[int, bool, float, float, bool, int]
# the people stationed near a request (Dispatcher._stationed_near): people, road time to their
# station, station grid, rank
_Stationed = tuple[list[int], list[float], list[int], list[int]]


@dataclass
class Assignment:
    """One person sent to one incident."""

    person: int
    assigned_s: float
    mobilisation_s: float
    travel_s: float
    from_post: bool

    @property
    def arrive_s(self) -> float:
        return self.assigned_s + self.mobilisation_s + self.travel_s


@dataclass
class Request:
    """An incident's call for people: what is still missing and who has been sent."""

    incident: int
    grid: int
    x_m: float
    y_m: float
    remaining: list[list[int]]  # [category bit, people still needed]
    filled: simpy.Event
    created_s: float
    assigned: list[Assignment] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return any(n > 0 for _, n in self.remaining)


class Dispatcher:
    """Who is busy, and matching requests to the nearest available people."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, near: NearTimes,
                 cfg: DispatchConfig, rng: np.random.Generator, log: EventLog) -> None:
        self.env = env
        self.scenario = scenario
        self.near = near  # the run's mutual-aid near times (gridsim.engine.travel)
        self.cfg = cfg
        self.rng = rng
        self._key = stream_key(rng)  # call-ups are keyed draws (docs/crn.md): its one draw
        self.log = log
        roster = scenario.roster
        self._person_key = person_keys(roster).tolist()  # Python ints: one call-up at a time
        self._calls: dict[tuple[int, int], int] = {}  # (incident, person) -> call-ups so far
        self.busy = np.zeros(roster.n, dtype=bool)
        self.busy_since = [0.0] * roster.n  # a list: set and read one person at a time
        self.busy_person_s = 0.0  # on incidents (time held by post tasks is not counted)
        self.pending: list[Request] = []
        self.switch: ModeSwitch | None = None
        # post tasks (gridsim.engine.storm): the priority a person is held at (-1: not held),
        # how many are held, the priority of incidents' requests, the hook that takes a held
        # person off their task, and who is told when a person is free
        self.held_priority = np.full(roster.n, -1, dtype=np.int64)
        # the same two arrays' memory, one person at a time: an element read or written
        # through a memoryview is a Python bool or int (the same value), at a fraction of a
        # numpy scalar's cost (the post tasks read and set them for every join and release)
        self.busy_v = self.busy.data
        self.held_v = self.held_priority.data
        self.n_held = 0
        self.request_priority = 0
        self.preempt_hook: Callable[[int], None] | None = None
        self.free_listeners: list[Callable[[int], None]] = []
        # busy people of each home grid, integrated over time (incidents and tasks alike):
        # Python lists, changed one element at a time (grid_busy_s gathers the few it sums)
        n_grids = scenario.region.grids.n
        self._home = roster.grid.tolist()
        self.grid_busy = [0] * n_grids
        self._grid_area = [0.0] * n_grids
        self._grid_last = [0.0] * n_grids
        mask = 0
        for r in cfg.peace_roles:
            mask |= role_bit(r)
        self._peace_ok = (roster.roles & mask) != 0
        # leading role of each person -> mobilisation distribution
        lead = lead_roles(roster)
        self._lead = lead
        self._mob = [cfg.mobilisation[r] for r in _LEAD_ORDER]
        self._mob_median = np.array([d.ppf(0.5) for d in self._mob])
        grids = scenario.region.grids
        self._speed = local_speeds(cfg)[grids.kind.astype(np.int64)]
        self._gx, self._gy = grids.x_m, grids.y_m
        # the same as Python floats, read one grid at a time (the same IEEE doubles)
        self._speed_l = self._speed.tolist()
        self._gx_l, self._gy_l = grids.x_m.tolist(), grids.y_m.tolist()
        # what never changes about each person, as rows (one fancy index takes a candidate
        # list's): home and post (grid centre) positions, the leg between them, the median
        # call-up delay; categories and leading role; callable in peacetime (in working hours)
        pgrid = roster.grid.astype(np.int64)
        post_x, post_y = self._gx[pgrid], self._gy[pgrid]
        leg_home = ((np.abs(roster.x_m - post_x) + np.abs(roster.y_m - post_y))
                    * cfg.intra_grid_detour / self._speed[pgrid])
        self._pf = np.column_stack([roster.x_m, roster.y_m, post_x, post_y, leg_home,
                                    self._mob_median[lead]])
        self._pi = np.column_stack([roster.categories.astype(np.int64), lead])
        self._pb = np.column_stack([self._peace_ok,
                                    self._peace_ok & ~roster.away_in_work_hours])
        # candidates of each grid: people of the grids within the radius, with the road time
        self._rows: dict[int, tuple[np.ndarray, ...]] = {}
        self._cand_cache: dict[int, tuple[int, tuple]] = {}
        # people beyond the grid's own looked at first (see _fill), and how many grids that is
        self._prefix = 64
        self._k_first: dict[int, int] = {}
        # people of each category who are free or held by post tasks, i.e. not on an incident
        # (module docstring): a request none of whose categories has anybody there is not
        # searched. Only an assignment and a release change it, not occupy and vacate.
        n_cat = max(int(np.max(roster.categories, initial=0)).bit_length(), 1)
        cats = roster.categories.astype(np.int64)
        self._cats = cats
        self._bits_of: dict[int, tuple[int, ...]] = {}
        self._bits_p = [self._bits(m) for m in cats.tolist()]  # each person's category bits
        self._ready_cat = [int(np.count_nonzero(cats & (1 << b))) for b in range(n_cat)]
        # people stationed at another grid's post (storm 前置, gridsim.engine.moves: station):
        # each one's grid (-1: at home), the people of each grid stationed there in the order
        # they came, how many there are at each grid, and in all (0: dispatch as before)
        self.station_of = np.full(roster.n, -1, dtype=np.int64)
        self.stationed: dict[int, list[int]] = {}
        self._n_stationed = np.zeros(n_grids, dtype=np.int64)
        self.n_stationed = 0

    def attach(self, switch: ModeSwitch) -> None:
        self.switch = switch
        switch.listeners.append(lambda g: self.retry())

    # -- candidates ----------------------------------------------------------------------------
    def _row(self, g: int) -> tuple[np.ndarray, ...]:
        """The grids within the mutual-aid radius of ``g``, ``g`` first and then by road time
        (cached): ``(grids, road_t, people_before, rank_base)`` where ``people_before[k]`` counts
        the people of the first ``k`` grids and ``rank_base`` is where each grid's people start
        in the candidate list in the mutual-aid row's stored order (the order that breaks ties;
        the same order unless another grid shares ``g``'s place at time 0)."""
        r = self._rows.get(g)
        if r is None:
            idx, t = self.near.row(g)
            idx = idx.astype(np.int64)
            t = t.astype(float)
            indptr = self.scenario.roster.by_grid_indptr
            counts = indptr[idx + 1] - indptr[idx]
            before = np.concatenate([[0], np.cumsum(counts)])
            if len(idx) and idx[0] == g:  # rows are stored by time with the origin first
                r = (idx, t, before, before[:-1])
            else:
                order = np.lexsort((np.arange(len(idx)), t, idx != g))
                r = (idx[order], t[order], np.concatenate([[0], np.cumsum(counts[order])]),
                     before[:-1][order])
            self._rows[g] = r
        return r

    def _candidates(self, g: int, k: int) -> tuple:
        """The candidates of the first ``k`` grids of :meth:`_row` and what about them never
        changes (cached per grid for the largest ``k`` asked): ``(people, road_t, pgrid, cats,
        lead, post_x, post_y, home_x, home_y, leg_home, mob_median, same_grid, peace_ok,
        peace_ok_in_work_hours, rank, rows)``; ``rows`` is the same, one tuple of Python
        scalars per candidate (``index, person, road_t, pgrid, cat, lead, post_x, post_y, home_x,
        home_y, leg_home, mob_median, same_grid, peace_ok, peace_ok_in_work_hours, rank``),
        for a set of at most ``_SMALL`` candidates (searched in Python: :meth:`_choose_small`),
        else None."""
        c = self._cand_cache.get(g)
        if c is not None and c[0] >= k:
            return c[1]
        grids, t, _, base = self._row(g)
        roster = self.scenario.roster
        people, pos = people_of(roster, grids[:k])
        pgrid = grids[pos]
        rank = base[pos] + (people - roster.by_grid_indptr[pgrid])
        f, i, b = self._pf[people], self._pi[people], self._pb[people]
        arrays = (people, t[pos], pgrid, i[:, 0], i[:, 1], f[:, 2], f[:, 3], f[:, 0], f[:, 1],
                  f[:, 4], f[:, 5], pgrid == g, b[:, 0], b[:, 1], rank)
        rows = None
        if len(people) <= _SMALL:  # .tolist(): the same doubles and ints, as Python scalars
            rows = list(zip(range(len(people)), *(a.tolist() for a in arrays), strict=True))
        out = (*arrays, rows)
        self._cand_cache[g] = (k, out)
        return out

    def _night(self, now: float) -> float:
        return self.cfg.night_factor if in_hours(now, self.cfg.night_hours) else 1.0

    def _fill(self, req: Request) -> None:
        """Assign the nearest available people to what ``req`` still needs.

        Exactly the choice over all candidates (least expected time to scene, ties to the
        candidate listed first: grids in mutual-aid row order, people by id), found on the
        nearest grids first: nobody in a
        grid beyond them can arrive sooner than the road time to that grid plus the leg from
        its centre to the incident, so the choice stands when every need is met by people
        nearer than that bound. Otherwise about four times as many people are looked at, until
        the choice stands or every candidate has been seen."""
        needs = [need for need in req.remaining if need[1] > 0]
        if not needs or not self._anyone_for(needs):
            return
        now = self.env.now
        sw = self.switch
        assert sw is not None
        g = req.grid
        grids, road_t, people_before, _ = self._row(g)
        n_grids = len(grids)
        det = self.cfg.intra_grid_detour
        speed_g = self._speed_l[g]  # Python floats: the same doubles as the arrays' elements
        leg_in = (abs(self._gx_l[g] - req.x_m) + abs(self._gy_l[g] - req.y_m)) * det / speed_g
        in_work = in_hours(now, self.cfg.work_hours)
        night = self._night(now)
        want = int(people_before[1]) + self._prefix
        k = self._k_first.get(g)
        if k is None:  # the first k of every search from g (the same want each time)
            k = self._k_first[g] = min(n_grids, int(np.searchsorted(people_before, want)) + 1)
        total = int(people_before[-1])
        while True:
            c = self._candidates(g, k)
            bound = math.inf if k >= n_grids else float(road_t[k]) + leg_in
            extra = self._stationed_near(grids, road_t, k, total) if self.n_stationed else None
            picks = self._choose(c, bound, now, sw, req, leg_in, in_work, night, det, speed_g,
                                 needs, extra)
            if picks is not None:
                break
            want *= 4
            k = min(n_grids, int(np.searchsorted(people_before, want)) + 1)
        log = self.log
        for need, pick in zip(needs, picks, strict=True):
            for p, at_post, travel, wait, phone, lead in pick:
                if at_post:
                    mob = 0.0
                elif math.isfinite(wait):
                    mob = wait  # on the way to the post ...
                    if mob > 0.0 and phone:  # ... or phoned at home, whichever is sooner
                        mob = min(mob, self._call_up(req.incident, p, lead, night))
                else:
                    mob = self._call_up(req.incident, p, lead, night)
                a = Assignment(person=p, assigned_s=now, mobilisation_s=mob,
                               travel_s=travel, from_post=at_post)
                req.assigned.append(a)
                self._count(p, -1)  # on an incident now, from a post task or free
                if self.held_priority[p] >= 0:  # taken off a post task
                    self.held_priority[p] = -1
                    self.n_held -= 1
                    assert self.preempt_hook is not None
                    self.preempt_hook(p)
                else:
                    self._busy_change(p, now, +1)
                self.busy[p] = True
                self.busy_since[p] = now
                if log.enabled:
                    role = _LEAD_ORDER[lead] if lead >= 0 else self.scenario.roster.role_of(p)
                    log.log(now, "dispatched", g, req.incident,
                            f"person {p} ({role}"
                            f"{', from post' if a.from_post else ''}) eta {a.arrive_s:.1f}")
            need[1] -= len(pick)

    def _bits(self, mask: int) -> tuple[int, ...]:
        """The category bit numbers set in ``mask`` (cached)."""
        bits = self._bits_of.get(mask)
        if bits is None:
            bits = tuple(b for b in range(mask.bit_length()) if mask >> b & 1)
            self._bits_of[mask] = bits
        return bits

    def _count(self, p: int, delta: int) -> None:
        """Person ``p`` comes back from (+1) or goes to (-1) an incident."""
        ready = self._ready_cat
        for b in self._bits_p[p]:
            ready[b] += delta

    def _anyone_for(self, needs: list[list[int]]) -> bool:
        """Whether anybody free or held by a post task has a category of ``needs``: when
        nobody has, no candidate of any grid is available to them (:meth:`_choose`) and a
        search would assign nobody."""
        ready = self._ready_cat
        n_cat = len(ready)
        for bit, _ in needs:
            for b in self._bits(bit):
                if b < n_cat and ready[b]:
                    return True
        return False

    def free_by_category(self) -> tuple[list[int], list[int]]:
        """``(free, held)``: for each category bit, how many people are free and how many are
        held by post tasks. Their sum is the count that lets a request nobody could serve skip
        its search (kept as people go to and come back from incidents); the held ones are
        counted here from ``busy`` and ``held_priority``."""
        held = self._cats[self.busy & (self.held_priority >= 0)]
        n_held = [int(np.count_nonzero(held & (1 << b))) for b in range(len(self._ready_cat))]
        return [r - h for r, h in zip(self._ready_cat, n_held, strict=True)], n_held

    def _call_up(self, incident: int, p: int, lead: int, night: float) -> float:
        """The call-up delay of person ``p`` for ``incident``: a keyed draw (module docstring)."""
        k = (incident, p)
        n = self._calls.get(k, 0)
        self._calls[k] = n + 1
        u = keyed_uniform(self._key, incident, self._person_key[p], n)
        return float(self._mob[lead].ppf(u)) * night

    def _stationed_near(self, grids: np.ndarray, road_t: np.ndarray, k: int, total: int
                        ) -> _Stationed | None:
        """The people stationed at the first ``k`` grids of a :meth:`_row` (``grids``,
        ``road_t``), by row order then the order they came: ``(people, road_t, grid, rank)``,
        ranked after every member of the row (``total``: how many that is), or None."""
        at = np.flatnonzero(self._n_stationed[grids[:k]])
        if not len(at):
            return None
        people: list[int] = []
        times: list[float] = []
        where: list[int] = []
        for q in at.tolist():
            s = int(grids[q])
            here = self.stationed[s]
            people.extend(here)
            times.extend([float(road_t[q])] * len(here))
            where.extend([s] * len(here))
        return people, times, where, list(range(total, total + len(people)))

    def _choose(self, c: tuple, bound: float, now: float, sw: ModeSwitch,
                req: Request, leg_in: float, in_work: bool, night: float, det: float,
                speed_g: float, needs: list[list[int]], extra: _Stationed | None = None
                ) -> list[list[_Pick]] | None:
        """The picks of every need among the candidates ``c``, nearest first, or None when
        someone beyond them might be nearer than a pick (``bound``: see :meth:`_fill`). A pick
        is ``(person, at_post, travel_s, wait_s, phone, lead)``: ``wait_s`` is the time until a
        member on the way to the post leaves (inf for the others), ``phone`` whether such a
        member could be called up instead.

        A set of at most ``_SMALL`` candidates is searched in Python (:meth:`_choose_small`),
        a larger one with arrays; both make the same float operations in the same order, so
        they pick the same people (tested).

        ``extra``: the people stationed at the first grids (:meth:`station`), candidates at
        their station's post (from its centre, no call-up), after the members of the row (by
        rank) at equal times; stationed people are no candidates of their home grid."""
        rows = c[15]
        if rows is not None:
            return self._choose_small(rows, bound, now, sw, req, leg_in, in_work, night, det,
                                      speed_g, needs, extra)
        (people, road_t, _, cats, lead, post_x, post_y, home_x, home_y, leg_home,
         mob_median, same, peace_ok, peace_ok_work, rank, _) = c
        whole = bound == math.inf
        # people at a post: only members of grids in ALERT or FORWARD_COMMAND have a finite
        # assembly time (ModeSwitch stands them down, back to infinity, on RECOVERY)
        assembled = sw.assembled_at[people]
        away = None
        if self.n_stationed:  # away at another grid's post; the stationed, there
            away = self.station_of[people] >= 0
            if extra is not None:
                xp = np.array(extra[0], dtype=np.int64)
                xg = np.array(extra[2], dtype=np.int64)
                f, i = self._pf[xp], self._pi[xp]
                zero = np.zeros(len(xp))
                people = np.concatenate([people, xp])
                road_t = np.concatenate([road_t, np.array(extra[1], dtype=float)])
                cats = np.concatenate([cats, i[:, 0]])
                lead = np.concatenate([lead, i[:, 1]])
                post_x = np.concatenate([post_x, self._gx[xg]])
                post_y = np.concatenate([post_y, self._gy[xg]])
                home_x = np.concatenate([home_x, self._gx[xg]])
                home_y = np.concatenate([home_y, self._gy[xg]])
                leg_home = np.concatenate([leg_home, zero])
                mob_median = np.concatenate([mob_median, f[:, 5]])
                same = np.concatenate([same, xg == req.grid])
                peace_ok = np.concatenate([peace_ok, np.ones(len(xp), dtype=bool)])
                peace_ok_work = np.concatenate([peace_ok_work, np.ones(len(xp), dtype=bool)])
                rank = np.concatenate([rank, np.array(extra[3], dtype=np.int64)])
                assembled = np.concatenate([assembled, np.full(len(xp), -math.inf)])
                away = np.concatenate([away, np.zeros(len(xp), dtype=bool)])
        at_post = assembled <= now
        free = ~self.busy[people]
        if self.n_held:  # people held by post tasks below this request's priority
            held = self.held_priority[people]
            free |= (held >= 0) & (held < self.request_priority)
        if away is not None:
            free &= ~away
        peace_now = peace_ok_work if in_work else peace_ok
        callable_now = at_post | peace_now
        wait = phone = None
        if self.cfg.en_route_dispatch:
            en_route = np.isfinite(assembled) & ~at_post
            if en_route.any():
                callable_now = callable_now | en_route
                phone = en_route & peace_now
                leave = sw.leave_at[people]
                wait = np.where(en_route, np.maximum(leave - now, 0.0), math.inf)
                with np.errstate(invalid="ignore", divide="ignore"):
                    done = np.where(en_route & (leave < now),
                                    (now - leave) / (assembled - leave), 0.0)
        avail = callable_now & free
        if not avail.any():
            return [[] for _ in needs] if whole else None
        home = ~at_post
        ox = np.where(at_post, post_x, home_x)
        oy = np.where(at_post, post_y, home_y)
        leg = leg_home * home
        if wait is not None:
            ox = np.where(en_route, home_x + done * (post_x - home_x), ox)
            oy = np.where(en_route, home_y + done * (post_y - home_y), oy)
            leg = np.where(en_route, leg_home * (1.0 - done), leg)
        local = (np.abs(ox - req.x_m) + np.abs(oy - req.y_m)) * det / speed_g
        travel = np.where(same, local, road_t + leg + leg_in)
        if wait is None:
            expected = travel + mob_median * (home * night)
        else:
            assert phone is not None  # set with wait
            call = mob_median * (home * night)
            expected = travel + np.where(en_route, np.where(phone, np.minimum(wait, call), wait),
                                         call)
        out: list[list[_Pick]] = []
        for bit, n in needs:
            m = np.flatnonzero(((cats & bit) != 0) & avail)
            if len(m) < n and not whole:
                return None
            if len(m) == 0:
                out.append([])
                continue
            pick = m[np.lexsort((rank[m], expected[m]))[:n]]
            if expected[pick[-1]] >= bound:
                return None
            avail[pick] = False
            out.append([(int(people[i]), bool(at_post[i]), float(travel[i]),
                         math.inf if wait is None else float(wait[i]),
                         False if phone is None else bool(phone[i]), int(lead[i]))
                        for i in pick.tolist()])
        return out

    def _choose_small(self, rows: list[tuple], bound: float, now: float, sw: ModeSwitch,
                      req: Request, leg_in: float, in_work: bool, night: float, det: float,
                      speed_g: float, needs: list[list[int]], extra: _Stationed | None = None
                      ) -> list[list[_Pick]] | None:
        """:meth:`_choose` over a few candidates (``rows``: :meth:`_candidates`), one at a
        time in Python. Only the candidates that are available and have a needed category are
        looked at (the others are never picked); for them, every float is computed by the
        operations of the array version in the same order (Python floats are the same IEEE
        doubles, and ``max``/the minimum below follow ``np.maximum``/``np.minimum``, NaN
        included), and the order is ``np.lexsort``'s: by expected time (NaN last), then rank,
        then place in the list. ``extra``: as :meth:`_choose`'s."""
        whole = bound == math.inf
        n_home = len(rows)
        away = self.station_of if self.n_stationed else None
        if extra is not None:  # rows of the stationed: at their station's post
            pf, pi = self._pf, self._pi
            gx, gy = self._gx_l, self._gy_l
            rows = rows + [(n_home + j, p, t, s, int(pi[p, 0]), int(pi[p, 1]), gx[s], gy[s],
                            gx[s], gy[s], 0.0, float(pf[p, 5]), s == req.grid, True, True, r)
                           for j, (p, t, s, r) in enumerate(zip(*extra, strict=True))]
        assembled_at, leave_at, busy = sw.assembled_at, sw.leave_at, self.busy
        held = self.held_priority if self.n_held else None
        priority = self.request_priority
        en_route_ok = self.cfg.en_route_dispatch
        x, y = float(req.x_m), float(req.y_m)
        mask = 0
        for bit, _ in needs:
            mask |= bit
        cands = []  # (sort key, category, pick)
        for (i, p, road_t, _, cat, lead, post_x, post_y, home_x, home_y, leg_home, mob_median,
             same, peace_ok, peace_ok_work, rank) in rows:
            if not cat & mask:
                continue
            if busy[p]:
                if held is None:
                    continue
                h = held[p]
                if not (h >= 0 and h < priority):
                    continue
            if i >= n_home:
                assembled = -math.inf  # stationed: at the post
            elif away is not None and away[p] >= 0:
                continue  # away at another grid's post
            else:
                assembled = float(assembled_at[p])
            at_post = assembled <= now
            peace_now = peace_ok_work if in_work else peace_ok
            en_route = en_route_ok and not at_post and math.isfinite(assembled)
            if not (at_post or peace_now or en_route):
                continue
            wait = math.inf
            if at_post:
                ox, oy, leg, home = post_x, post_y, leg_home * 0.0, 0.0
            elif en_route:
                leave = float(leave_at[p])
                wait = max(leave - now, 0.0)  # np.maximum's result, NaN included
                done = (now - leave) / (assembled - leave) if leave < now else 0.0
                ox = home_x + done * (post_x - home_x)
                oy = home_y + done * (post_y - home_y)
                leg, home = leg_home * (1.0 - done), 1.0
            else:
                ox, oy, leg, home = home_x, home_y, leg_home * 1.0, 1.0
            local = (abs(ox - x) + abs(oy - y)) * det / speed_g
            travel = local if same else road_t + leg + leg_in
            call = mob_median * (home * night)
            if not en_route:
                expected = travel + call
            elif peace_now:  # np.minimum(wait, call): NaN if either is
                expected = travel + (wait if wait <= call or wait != wait else call)
            else:
                expected = travel + wait
            nan = expected != expected
            cands.append(((nan, 0.0 if nan else expected, rank, i), cat,
                          (p, at_post, float(travel), wait, en_route and peace_now, lead)))
        out: list[list[_Pick]] = []
        for bit, n in needs:
            m = [cand for cand in cands if cand[1] & bit]
            if len(m) < n and not whole:
                return None
            if not m:
                out.append([])
                continue
            m.sort()
            pick = m[:n]
            last = pick[-1][0]
            if not last[0] and last[1] >= bound:  # a NaN time is never >= bound
                return None
            if len(m) < len(cands):
                taken = {cand[0] for cand in pick}
                cands = [cand for cand in cands if cand[0] not in taken]
            else:
                cands = m[n:]
            out.append([cand[2] for cand in pick])
        return out

    # -- public --------------------------------------------------------------------------------
    def request(self, incident: int, grid: int, x_m: float, y_m: float,
                needs: tuple[tuple[int, int], ...]) -> Request:
        """Ask for people; assigns what it can now, queues the rest. ``filled`` succeeds when
        every need is met."""
        req = Request(incident=incident, grid=grid, x_m=x_m, y_m=y_m,
                      remaining=[[b, n] for b, n in needs], filled=self.env.event(),
                      created_s=self.env.now)
        if self.pending:
            # older requests first: this one joins the back of the queue
            self.pending.append(req)
            self.retry()
        else:
            self._fill(req)
            if req.open:
                self.pending.append(req)
            else:
                req.filled.succeed(req)
        return req

    def retry(self) -> None:
        """Serve waiting requests, oldest first."""
        if not self.pending:
            return
        still = []
        for req in self.pending:
            self._fill(req)
            if req.open:
                still.append(req)
            else:
                req.filled.succeed(req)
        self.pending = still

    def release(self, person: int) -> None:
        """A person is free again (back at base)."""
        now = self.env.now
        if self.busy[person] and self.held_priority[person] < 0:  # on an incident until now
            self._count(person, +1)
        self.busy[person] = False
        self.busy_person_s += now - self.busy_since[person]
        self._busy_change(person, now, -1)
        self._freed(person)

    def _freed(self, person: int) -> None:
        """Waiting requests first, then whoever else wants a free person (post tasks)."""
        if self.pending:
            self.retry()
        if self.free_listeners and not self.busy[person]:
            for listener in self.free_listeners:
                listener(person)

    def station(self, person: int, grid: int) -> None:
        """``person`` answers incidents from ``grid``'s post until :meth:`unstation` (storm
        前置: a member moved there ahead of a storm): a candidate of the requests whose
        mutual-aid row has ``grid``, at that post (no call-up; travel from the grid's centre,
        as its own members at the post), after its members at equal times; no candidate of
        their home grid meanwhile. Busy, held and counts by category are as they were: an
        incident takes them by the same rules (a hold below its priority is pre-empted). Their
        busy time still counts for their home grid (:meth:`grid_busy_s`)."""
        assert self.station_of[person] < 0, f"person {person} is stationed already"
        self.station_of[person] = grid
        self.stationed.setdefault(grid, []).append(person)
        self._n_stationed[grid] += 1
        self.n_stationed += 1

    def unstation(self, person: int) -> None:
        """``person`` leaves the post :meth:`station` put them at (a home grid's member again)."""
        g = int(self.station_of[person])
        assert g >= 0, f"person {person} is not stationed"
        self.station_of[person] = -1
        here = self.stationed[g]
        here.remove(person)
        if not here:
            del self.stationed[g]
        self._n_stationed[g] -= 1
        self.n_stationed -= 1

    def occupy(self, person: int, priority: int) -> None:
        """A free person is held by a post task at ``priority``."""
        busy = self.busy_v
        assert not busy[person]
        busy[person] = True
        self.held_v[person] = priority
        self.n_held += 1
        # self._busy_change(person, now, +1), inline: a post task's every join comes here
        g = self._home[person]
        now = self.env._now
        grid_busy = self.grid_busy
        self._grid_area[g] += grid_busy[g] * (now - self._grid_last[g])
        self._grid_last[g] = now
        grid_busy[g] += 1

    def vacate(self, person: int, offer: bool = True) -> None:
        """A person held by a post task is free again (the task is done or stopped); if
        ``offer``, waiting requests and other tasks may take them at once."""
        held = self.held_v
        assert held[person] >= 0
        busy = self.busy_v
        busy[person] = False
        held[person] = -1
        self.n_held -= 1
        # self._busy_change(person, now, -1), inline (as in occupy)
        g = self._home[person]
        now = self.env._now
        grid_busy = self.grid_busy
        self._grid_area[g] += grid_busy[g] * (now - self._grid_last[g])
        self._grid_last[g] = now
        grid_busy[g] -= 1
        if offer:  # self._freed(person), inline
            if self.pending:
                self.retry()
            if self.free_listeners and not busy[person]:
                for listener in self.free_listeners:
                    listener(person)

    def _busy_change(self, person: int, now: float, delta: int) -> None:
        g = self._home[person]
        busy = self.grid_busy
        self._grid_area[g] += busy[g] * (now - self._grid_last[g])
        self._grid_last[g] = now
        busy[g] += delta

    def grid_busy_s(self, grids: np.ndarray, now: float) -> float:
        """Busy person-seconds of the people of ``grids`` (by home grid) from 0 to ``now``:
        each grid's term as the array expression had it, summed by ``np.sum`` as before."""
        idx = np.asarray(grids).tolist()
        lists = (self._grid_area, self.grid_busy, self._grid_last)
        if len(idx) > 1:
            get = operator.itemgetter(*idx)
            a, b, t = (get(v) for v in lists)
        else:  # itemgetter of one index gives the element, not a tuple
            a, b, t = ([v[g] for g in idx] for v in lists)
        area, busy = np.array(a, dtype=float), np.array(b, dtype=np.int64)
        last = np.array(t, dtype=float)
        return float(np.sum(area + busy * (now - last)))

    def busy_person_s_until(self, now: float) -> float:
        """Person-seconds on incidents so far, counting people still on one up to ``now``."""
        on_incident = self.busy & (self.held_priority < 0)
        since = np.array(self.busy_since, dtype=float)
        return self.busy_person_s + float(np.sum(now - since[on_incident]))
