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

Travel: inside a grid, Manhattan distance × detour at the grid kind's local speed; between grids,
the road driving time between centres (:class:`gridsim.roads.NearTimes`) plus the local legs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from gridsim.clock import in_hours
from gridsim.config import DispatchConfig
from gridsim.people import role_bit
from gridsim.recorder import EventLog
from gridsim.scenario import Scenario
from gridsim.switch import ALERT, FORWARD, ModeSwitch, people_of
from gridsim.vocab import GRID_KINDS

__all__ = ["Assignment", "Dispatcher", "Request"]

_LEAD_ORDER = ("commander", "grid_leader", "grid_worker", "party_member")


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

    def __init__(self, env: simpy.Environment, scenario: Scenario, cfg: DispatchConfig,
                 rng: np.random.Generator, log: EventLog) -> None:
        self.env = env
        self.scenario = scenario
        self.cfg = cfg
        self.rng = rng
        self.log = log
        roster = scenario.roster
        self.busy = np.zeros(roster.n, dtype=bool)
        self.busy_since = np.zeros(roster.n)
        self.busy_person_s = 0.0
        self.pending: list[Request] = []
        self.switch: ModeSwitch | None = None
        mask = 0
        for r in cfg.peace_roles:
            mask |= role_bit(r)
        self._peace_ok = (roster.roles & mask) != 0
        # leading role of each person -> mobilisation distribution
        lead = np.full(roster.n, -1, dtype=np.int64)
        for i, role in enumerate(reversed(_LEAD_ORDER)):
            lead[(roster.roles & role_bit(role)) != 0] = len(_LEAD_ORDER) - 1 - i
        self._lead = lead
        self._mob = [cfg.mobilisation[r] for r in _LEAD_ORDER]
        self._mob_median = np.array([d.ppf(0.5) for d in self._mob])
        grids = scenario.region.grids
        speed = np.array([cfg.local_speed_mps[k] for k in GRID_KINDS])
        self._speed = speed[grids.kind.astype(np.int64)]
        self._gx, self._gy = grids.x_m, grids.y_m
        # candidates of each grid: people of the grids within the radius, with the road time
        self._cand_cache: dict[int, tuple[np.ndarray, ...]] = {}

    def attach(self, switch: ModeSwitch) -> None:
        self.switch = switch
        switch.listeners.append(lambda g: self.retry())

    # -- candidates ----------------------------------------------------------------------------
    def _candidates(self, g: int) -> tuple[np.ndarray, ...]:
        """The candidates of grid ``g`` and what about them never changes (cached):
        ``(people, road_t, pgrid, cats, lead, post_x, post_y, home_x, home_y, leg_home,
        mob_median, same_grid, peace_ok, peace_ok_in_work_hours)``."""
        c = self._cand_cache.get(g)
        if c is None:
            roster = self.scenario.roster
            idx, t = self.scenario.near.row(g)
            people, pos = people_of(roster, idx.astype(np.int64))
            road_t = t[pos].astype(float)
            pgrid = roster.grid[people].astype(np.int64)
            post_x, post_y = self._gx[pgrid], self._gy[pgrid]
            home_x, home_y = roster.x_m[people], roster.y_m[people]
            # the leg from home to the grid centre (zero for people at the post)
            leg_home = ((np.abs(home_x - post_x) + np.abs(home_y - post_y))
                        * self.cfg.intra_grid_detour / self._speed[pgrid])
            lead = self._lead[people]
            peace_ok = self._peace_ok[people]
            c = (people, road_t, pgrid, roster.categories[people], lead, post_x, post_y,
                 home_x, home_y, leg_home, self._mob_median[lead], pgrid == g, peace_ok,
                 peace_ok & ~roster.away_in_work_hours[people])
            self._cand_cache[g] = c
        return c

    def _night(self, now: float) -> float:
        return self.cfg.night_factor if in_hours(now, self.cfg.night_hours) else 1.0

    def _fill(self, req: Request) -> None:
        now = self.env.now
        sw = self.switch
        assert sw is not None
        g = req.grid
        (people, road_t, pgrid, cats, lead, post_x, post_y, home_x, home_y, leg_home,
         mob_median, same, peace_ok, peace_ok_work) = self._candidates(g)
        mode = sw.mode[pgrid]
        at_post = (sw.assembled_at[people] <= now) & ((mode == ALERT) | (mode == FORWARD))
        avail = ~self.busy[people] & (
            at_post | (peace_ok_work if in_hours(now, self.cfg.work_hours) else peace_ok))
        if not avail.any():
            return
        ox = np.where(at_post, post_x, home_x)
        oy = np.where(at_post, post_y, home_y)
        det = self.cfg.intra_grid_detour
        local = (np.abs(ox - req.x_m) + np.abs(oy - req.y_m)) * det / self._speed[g]
        leg_out = np.where(at_post, 0.0, leg_home)
        leg_in = (abs(self._gx[g] - req.x_m) + abs(self._gy[g] - req.y_m)) * det / self._speed[g]
        travel = np.where(same, local, road_t + leg_out + leg_in)
        night = self._night(now)
        expected = travel + np.where(at_post, 0.0, mob_median * night)
        log = self.log
        for need in req.remaining:
            bit, n = need
            if n <= 0:
                continue
            m = np.flatnonzero(((cats & bit) != 0) & avail)
            if len(m) == 0:
                continue
            pick = m[np.argsort(expected[m], kind="stable")[:n]]
            for i in pick.tolist():
                avail[i] = False
                p = int(people[i])
                mob = 0.0 if at_post[i] else self._mob[lead[i]].ppf(self.rng.random()) * night
                a = Assignment(person=p, assigned_s=now, mobilisation_s=mob,
                               travel_s=float(travel[i]), from_post=bool(at_post[i]))
                req.assigned.append(a)
                self.busy[p] = True
                self.busy_since[p] = now
                if log.enabled:
                    role = _LEAD_ORDER[lead[i]] if lead[i] >= 0 else self.scenario.roster.role_of(p)
                    log.log(now, "dispatched", g, req.incident,
                            f"person {p} ({role}"
                            f"{', from post' if a.from_post else ''}) eta {a.arrive_s:.1f}")
            need[1] -= len(pick)

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
        self.busy[person] = False
        self.busy_person_s += now - self.busy_since[person]
        if self.pending:
            self.retry()

    def busy_person_s_until(self, now: float) -> float:
        """Busy person-seconds so far, counting people still busy up to ``now``."""
        return self.busy_person_s + float(np.sum(now - self.busy_since[self.busy]))
