"""The command structure at the post: functional groups under a span of control (分类嵌入),
the township and the county sending people between grids (三级包保), and the evacuation's
helpers held by it while they help (docs/command.md). Config ``response.command``.

* **Functional groups.** Each post task is the work of a functional group whose category is
  ``task_groups[task]`` (a category of :data:`gridsim.model.vocab.CATEGORIES`). A task takes
  the free members of its category first (the roster's category bits), then the others its
  roles allow. A post's commander directs at most ``span_of_control`` groups at once (ICS/NIMS:
  a span of 3 to 7, 5 optimal; FEMA, *National Incident Management System*, 3rd ed., 2017):
  a work group (every task but ``staff_post``, which is the commander's own post) beyond the
  span does not start until another group has ended or lost its whole team. A post whose
  on-site commanders are all away on incidents (or never came) is directed by the grid leader
  (the same span); with neither at hand, by whoever is there, ``leaderless_span`` groups at
  once (``[assumed]``).
* **三级包保.** Every ``township_review_min`` the township reads its grids' reports (the posts'
  tasks and their people) and sends spare members (free at a post whose own tasks do not lag)
  to the grids whose tasks lag (``backlog_min`` person-minutes or more of work with places
  unfilled), most behind first, from its least-loaded grids (the lowest busy share), at most
  ``max_transfer`` people a grid at a review. The county then does the same across its
  townships for the grids still lagging. The trip is the road time between the grids' centres
  (the mutual-aid near times, else through the township seat: the depot's times). A lent
  member works the tasks of the grid they were sent to and goes home (the same trip) when no
  task there wants them. Lent members are not taken by incidents (they are away from their
  grid; dispatch knows people at their own grid's post). Linear in the city: one pass over
  the posts standing, and the near-time row of each lagging grid.
* **Concurrent evacuation.** With ``concurrent_evacuation``, an evacuation order is worked out
  at the order itself (:meth:`gridsim.evacuation.run.RunEvacuation.order`: the switch already
  knows when each post will be ready) and each helper is held in the dispatcher, at
  ``evacuation_priority`` (above incidents: never pre-empted), from the order until their last
  household is at the grid's exit; helpers are members free at the order.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

import numpy as np
import simpy

from gridsim.engine.dispatch import Dispatcher
from gridsim.engine.recorder import EventLog
from gridsim.engine.switch import ModeSwitch, people_of
from gridsim.model.clock import ProcessGenerator
from gridsim.model.params import CommandConfig
from gridsim.model.people import category_bit, role_bit
from gridsim.place.roads import NearTimes
from gridsim.place.scenario import Scenario

__all__ = ["Command", "summary_of"]

_WORK = "work"


class Command:
    """The command structure of every post (see the module docstring)."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, cfg: CommandConfig,
                 dispatcher: Dispatcher, switch: ModeSwitch, storm: Any, near: NearTimes,
                 depot_time_s: np.ndarray, log: EventLog) -> None:
        self.env = env
        self.cfg = cfg
        self.dispatcher = dispatcher
        self.switch = switch
        self.storm = storm
        self.near = near
        self.depot_time_s = np.asarray(depot_time_s, dtype=float)
        self.log = log
        roster = scenario.roster
        self.roster = roster
        grids = scenario.region.grids
        self.township = grids.township.astype(np.int64)
        self.county = grids.county.astype(np.int64)
        self.groups = cfg.groups and storm.enabled
        self._cmd = (roster.roles & role_bit("commander")) != 0
        self._leader = (roster.roles & role_bit("grid_leader")) != 0
        self._lead = (self._cmd | self._leader).tolist()  # either leads the post (span)
        # the people who may lead each grid's post, in roster order (span reads these alone)
        lead_ids = np.flatnonzero(self._cmd | self._leader)
        cut = np.searchsorted(lead_ids, roster.by_grid_indptr).tolist()
        ids = lead_ids.tolist()
        self._leaders = [ids[a:b] for a, b in itertools.pairwise(cut)]
        self._cats = roster.categories.tolist()  # plain ints: read one person at a time
        self._assembled_v = switch.assembled_at.data  # likewise: Python floats
        self.n_lent = 0  # members lent to another grid now
        self._rows: dict[int, dict[int, float]] = {}  # near-time rows read by _trip_s
        self._bits = {t: category_bit(c) for t, c in cfg.task_groups.items()}
        self._lent = np.full(roster.n, -1, dtype=np.int64)  # grid a member is lent to
        self._sent_now: dict[int, int] = {}  # people sent to each grid at this review
        self.transfers = {"township": 0, "county": 0}  # members sent between grids
        self.transfer_person_s = 0.0  # time on the road for it (there and back)
        self._lent_since = np.zeros(roster.n)
        self.lent_person_s = 0.0  # time lent members spent at the grid they were sent to
        self.helpers_held = 0  # evacuation helpers held in the dispatcher
        self.helper_person_s = 0.0
        self._helping_since: dict[int, float] = {}  # helpers held now -> since when
        # storm 前置 (gridsim.engine.moves): members moved ahead of a storm stay lent until the
        # post they were sent to stands down (idle ones stand by, held); the exact road times
        # of the moves' grid pairs, read before the near times by _trip_s
        self.staying: set[int] = set()
        self.standby: Any = None  # called with a staying member nothing wants (Moves.stand_by)
        self.road_s: dict[tuple[int, int], float] = {}
        if storm.enabled and (cfg.township_transfer or cfg.county_transfer):
            storm.command = self
            env.process(self._reviews())
            switch.recovery_listeners.append(self._on_recover)
        if self.groups:
            storm.command = self

    # -- functional groups ---------------------------------------------------------------------
    def span(self, g: int) -> int:
        """Task groups grid ``g``'s post may run at once: its commander's span, else (no
        on-site commander at the post, or all on incidents) the grid leader's, else
        ``leaderless_span``."""
        now = self.env._now
        d = self.dispatcher
        at = self._assembled_v
        busy, held = d.busy_v, d.held_v  # (the arrays' memory: Python scalars)
        for p in self._leaders[g]:  # a commander, else a grid leader, at the post, not on incidents
            if at[p] <= now and not (busy[p] and held[p] < 0):
                return int(self.cfg.span_of_control)
        return int(self.cfg.leaderless_span)

    def order(self, task: str, left: list[int]) -> list[int]:
        """``left`` with the members of ``task``'s functional group first (stable)."""
        bit = self._bits.get(task, 0) if self.groups else 0
        if not bit:
            return left
        cats = self._cats
        first = [p for p in left if cats[p] & bit]
        if not first or len(first) == len(left):
            return left  # already in order
        return first + [p for p in left if not cats[p] & bit]

    # -- 三级包保 --------------------------------------------------------------------------------
    def lent_to(self, p: int) -> int:
        return int(self._lent[p])

    def _reviews(self) -> ProcessGenerator:
        period = self.cfg.township_review_min * 60.0
        while True:
            yield self.env.timeout(period)
            self.review()

    def review(self) -> None:
        """One review by every township (then county) of its posts: spare members to the
        grids whose tasks lag (see the module docstring).

        Each level's donors (posts with spare members) are sorted once per unit by ``(load,
        grid)`` and walked from the front for each lagging grid, equal loads ordered by road
        time (:meth:`_by_load_trip`'s order); a donor left with nobody spare is dropped from
        its unit's list as the walk passes it, so a review costs the donors it builds and
        walks, not lagging grids × donors of the township."""
        storm, d, now = self.storm, self.dispatcher, self.env.now
        at = self.switch.assembled_at
        indptr = self.roster.by_grid_indptr
        lagging: list[tuple[float, int, int]] = []
        # only a post with a work task that wants people can lag (storm.wanting: those posts,
        # kept up to date by the tasks); every other post standing may give
        for g in sorted(storm.wanting):
            work = [t for t in storm.tasks[g] if t.kind == _WORK and t.wants()]
            for t in work:
                t.account()  # the work left up to now, not at the team's last change
            places = sum(int(t.cfg.people) - len(t.team) for t in work)
            backlog = sum(t.left_s for t in work)
            if places > 0 and backlog >= self.cfg.backlog_min * 60.0:
                lagging.append((-backlog, g, places))
        if not lagging:
            return
        lag = np.array(sorted(g for _, g, _ in lagging), dtype=np.int64)
        posts = np.sort(np.fromiter(storm.tasks, dtype=np.int64, count=len(storm.tasks)))
        others = posts[~np.isin(posts, lag)]
        # donors can only be in a lagging grid's township (or county): look at those alone
        keep = np.isin(self.township[others], self.township[lag])
        if self.cfg.county_transfer:
            keep |= np.isin(self.county[others], self.county[lag])
        cand = others[keep]
        if not len(cand):
            return
        people, pos = people_of(self.roster, cand)
        free = ~d.busy[people] & (at[people] <= now) & (self._lent[people] < 0)
        n_free = np.bincount(pos[free], minlength=len(cand))
        has = n_free > 0
        if not has.any():
            return
        # donor k: grid donor[k], its spare members ids[nxt[k]:end[k]] (roster order)
        donor = cand[has]
        ends = np.cumsum(n_free[has])
        end = ends.tolist()
        nxt = (ends - n_free[has]).tolist()
        ids = people[free].tolist()
        gb = d.grid_busy
        size = np.maximum(indptr[donor + 1] - indptr[donor], 1)
        load = np.fromiter(map(gb.__getitem__, donor.tolist()), dtype=float,
                           count=len(donor)) / size  # float(busy) / size, as a Python float
        grid = donor.tolist()
        loads = load.tolist()
        twn = self.township[donor].tolist()
        lagging.sort()
        levels = [("township", self.township)] if self.cfg.township_transfer else []
        if self.cfg.county_transfer:
            levels.append(("county", self.county))
        max_transfer = int(self.cfg.max_transfer)
        for level, unit in levels:
            by_unit = self._by_unit(unit[donor], load, np.array(nxt) < ends)
            county = level == "county"
            for _, g, places in lagging:
                want = min(places, max_transfer) - self._sent_now.get(g, 0)
                if want <= 0:  # served at the township level already: no donor is asked
                    continue
                lst = by_unit.get(int(unit[g]))
                if not lst:
                    continue
                # other townships only at the county level: the township has had its turn
                skip = int(self.township[g]) if county else -1
                chosen, walked = self._first_donors(lst, g, want, skip, grid, loads, twn,
                                                    nxt, end)
                for k in chosen:
                    while want > 0 and nxt[k] < end[k]:
                        self._send(ids[nxt[k]], grid[k], g, level)
                        nxt[k] += 1
                        want -= 1
                    if want <= 0:
                        break
                # drop the donors of the walked front that have nobody spare left
                lst[:walked] = [k for k in lst[:walked] if nxt[k] < end[k]]
        self._sent_now.clear()

    @staticmethod
    def _by_unit(units: np.ndarray, load: np.ndarray, alive: np.ndarray) -> dict[int, list[int]]:
        """Donors ``k`` (``alive``) of each unit, sorted by ``(load[k], k)`` (``k`` in grid
        order)."""
        k = np.flatnonzero(alive)
        order = k[np.lexsort((k, load[k], units[k]))]
        u = units[order]
        cut = np.flatnonzero(u[1:] != u[:-1]) + 1
        firsts = u[np.concatenate([[0], cut])].tolist() if len(u) else []
        bounds = [0, *cut.tolist(), len(u)]
        flat = order.tolist()
        return {x: flat[a:b] for x, a, b in zip(firsts, bounds, bounds[1:], strict=False)}

    def _first_donors(self, lst: list[int], g: int, want: int, skip: int, grid: list[int],
                      loads: list[float], twn: list[int], nxt: list[int], end: list[int]
                      ) -> tuple[list[int], int]:
        """The first ``want`` donors of ``lst`` (sorted by ``(load, grid)``) with someone spare
        and not of township ``skip``, in :meth:`_by_load_trip`'s order to grid ``g`` (equal
        loads by road time, then grid); and how far into ``lst`` the walk went."""
        out: list[int] = []
        i, n = 0, len(lst)
        while i < n and len(out) < want:
            k = lst[i]
            i += 1
            if nxt[k] >= end[k] or twn[k] == skip:
                continue
            level = loads[k]
            if i == n or loads[lst[i]] != level:  # alone at its load
                out.append(k)
                continue
            run = [k]
            while i < n and loads[lst[i]] == level:
                x = lst[i]
                if nxt[x] < end[x] and twn[x] != skip:
                    run.append(x)
                i += 1
            if len(run) == 1:
                out.append(k)
            else:  # the (trip, grid) keys are distinct: the least few
                out.extend(heapq.nsmallest(want - len(out), run,
                                           key=lambda x: (self._trip_s(grid[x], g), grid[x])))
        return out, i

    def _by_load_trip(self, donors: list[int], load: dict[int, float], g: int,
                      first: int | None = None) -> list[int]:
        """``donors`` sorted by ``(load, trip to g, grid)``: by load and grid first, then each
        run of equal loads by trip and grid (the road time is looked up for those alone);
        with ``first``, only the first ``first`` of that order (runs past them unread)."""
        donors.sort(key=lambda x: (load[x], x))
        out: list[int] = []
        i, n = 0, len(donors)
        while i < n and (first is None or len(out) < first):
            j = i + 1
            while j < n and load[donors[j]] == load[donors[i]]:
                j += 1
            if j - i == 1:
                out.append(donors[i])
            elif first is not None:  # the (trip, grid) keys are distinct: the least few
                out.extend(heapq.nsmallest(first - len(out), donors[i:j],
                                           key=lambda x: (self._trip_s(x, g), x)))
            else:
                out.extend(sorted(donors[i:j], key=lambda x: (self._trip_s(x, g), x)))
            i = j
        return out if first is None else out[:first]

    def _trip_s(self, a: int, b: int) -> float:
        """Road time from grid ``a``'s centre to ``b``'s: the near times, else through the
        township seat (the depot's times)."""
        if self.road_s:
            exact = self.road_s.get((a, b))
            if exact is not None:
                return exact
        row = self._rows.get(a)
        if row is None:  # the near-time row of a, as a dict (first entry of a grid kept)
            idx, t = self.near.row(a)
            row = self._rows[a] = dict(zip(reversed(idx.tolist()), reversed(t.tolist()),
                                           strict=True))
        hit = row.get(b)
        if hit is not None:
            return float(hit)
        return float(self.depot_time_s[a] + self.depot_time_s[b])

    def _send(self, p: int, src: int, dst: int, level: str) -> None:
        self._sent_now[dst] = self._sent_now.get(dst, 0) + 1
        trip = self._trip_s(src, dst)
        self.transfers[level] += 1
        self.log.log(self.env.now, "command_transfer", dst, -1,
                     f"person {p} from grid {src} by the {level}, {trip:.1f} s")
        self.env.process(self._trip(p, dst, trip, arrive=True))

    def _trip(self, p: int, dst: int, trip_s: float, arrive: bool) -> ProcessGenerator:
        """Hold ``p`` on the road for ``trip_s``; then lend them to ``dst`` (``arrive``) or
        set them free at home."""
        d = self.dispatcher
        d.occupy(p, max(d.request_priority, 1))
        if trip_s > 0:
            yield self.env.timeout(trip_s)
        self.transfer_person_s += trip_s
        if arrive and dst in self.storm.tasks:
            self._lent[p] = dst
            self.n_lent += 1
            self._lent_since[p] = self.env.now
            self.storm.lent_in.setdefault(dst, []).append(p)
            d.vacate(p, offer=False)
            self.storm._offer(dst)
            if not d.busy[p]:  # nothing there wants them any more: home again
                self._go_home(p, dst)
            elif d.held_priority[p] >= 0:
                d.held_priority[p] = max(int(d.held_priority[p]), d.request_priority)
            return
        if arrive:  # the post stood down on the way: straight back
            self._lent[p] = dst
            self.n_lent += 1
            self._lent_since[p] = self.env.now
            self.storm.lent_in.setdefault(dst, []).append(p)
            self._go_home(p, dst, occupied=True)
            return
        d.vacate(p, offer=True)

    def _go_home(self, p: int, at: int, occupied: bool = False) -> None:
        if p in self.staying and self.dispatcher.station_of[p] >= 0:
            self.dispatcher.unstation(p)  # storm 前置: no longer a responder of ``at``
        self.staying.discard(p)
        self._lent[p] = -1
        self.n_lent -= 1
        self.lent_person_s += self.env.now - self._lent_since[p]
        self.storm.lent_in[at].remove(p)
        src = int(self.roster.grid[p])
        if occupied:
            self.dispatcher.vacate(p, offer=False)
        self.env.process(self._trip(p, src, self._trip_s(at, src), arrive=False))

    def released(self, p: int) -> bool:
        """A lent member is free again (their task there ended): another task of the grid they
        were lent to takes them, else they go home. True if handled here."""
        if not self.n_lent:
            return False  # nobody is lent
        at = int(self._lent[p])
        if at < 0:
            return False
        self.storm._offer(at)
        d = self.dispatcher
        if not d.busy[p]:
            if p in self.staying:  # moved ahead of the storm: stands by until the stand-down
                self.standby(p)
            else:
                self._go_home(p, at)
        elif d.held_priority[p] >= 0 and p not in self.staying:  # (staying: answer incidents)
            d.held_priority[p] = max(int(d.held_priority[p]), d.request_priority)
        return True

    def _on_recover(self, grids: np.ndarray) -> None:
        for g in grids.tolist():
            for p in list(self.storm.lent_in.get(g, [])):
                if not self.dispatcher.busy[p] and p not in self.staying:  # (storm 前置: stay)
                    self._go_home(p, g)

    # -- concurrent evacuation -----------------------------------------------------------------
    def hold_helpers(self, person: np.ndarray, start_s: np.ndarray, end_s: np.ndarray) -> None:
        """Hold each evacuation helper (roster ids; -1, a responder from outside, is skipped)
        from now until ``end_s``."""
        d = self.dispatcher
        now = self.env.now
        for p, e in zip(person.tolist(), end_s.tolist(), strict=True):
            if p < 0 or d.busy[p]:
                continue
            d.occupy(p, int(self.cfg.evacuation_priority))
            self.helpers_held += 1
            self.env.process(self._helping(p, max(float(e) - now, 0.0)))
        del start_s  # the hold starts at the order: they set out for the post to help

    def _helping(self, p: int, hold_s: float) -> ProcessGenerator:
        self._helping_since[p] = self.env.now
        if hold_s > 0:
            yield self.env.timeout(hold_s)
        del self._helping_since[p]
        self.helper_person_s += hold_s
        self.dispatcher.vacate(p, offer=True)

    def summary(self) -> dict[str, dict[str, float | int]]:
        """Summary keys ``command_transfers`` (members sent by the township and by the county,
        person-hours on the road there and back, person-hours at the grids they were sent to,
        counting those still there up to now) and ``evacuation_helpers`` (helpers held, and
        their person-hours held, counting those still helping up to now)."""
        return summary_of(self)

    def _summary(self) -> dict[str, dict[str, float | int]]:
        now = self.env.now
        lent = self.lent_person_s + float(np.sum(now - self._lent_since[self._lent >= 0]))
        helping = self.helper_person_s + sum(now - t for t in self._helping_since.values())
        return {"command_transfers": {
                    "township": self.transfers["township"],
                    "county": self.transfers["county"],
                    "road_person_hours": round(self.transfer_person_s / 3600.0, 3),
                    "lent_person_hours": round(lent / 3600.0, 3)},
                "evacuation_helpers": {
                    "held": self.helpers_held,
                    "person_hours": round(helping / 3600.0, 3)}}



def summary_of(command: Command | None) -> dict[str, dict[str, float | int]]:
    """:meth:`Command.summary` of a run's command structure, zeros without one (the same
    keys either way)."""
    if command is not None:
        return command._summary()
    return {"command_transfers": {"township": 0, "county": 0, "road_person_hours": 0.0,
                                  "lent_person_hours": 0.0},
            "evacuation_helpers": {"held": 0, "person_hours": 0.0}}
