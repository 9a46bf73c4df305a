"""Dispatch looks at the nearest grids first (:class:`gridsim.engine.dispatch.Dispatcher`); its
choice must be exactly the one over every candidate within the mutual-aid radius.

The check watches the dispatcher from outside: before each public call that assigns people
(``request``, ``retry``), it works out from the run's public state (roster, mutual-aid rows,
the switch, who is busy, the settings) whom the plain definition would send to every request
served, in queue order, and compares with the assignments the call made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from handmade import shipped

from gridsim.engine.dispatch import Dispatcher, Request
from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import simulate
from gridsim.engine.switch import ALERT, FORWARD, people_of
from gridsim.model.clock import in_hours
from gridsim.model.people import role_bit
from gridsim.model.vocab import GRID_KINDS

#: Mobilisation delays go by a person's leading role, in this order (README "Dispatch").
LEAD_ORDER = ("commander", "grid_leader", "grid_worker", "party_member")
#: The rainstorm's forecast warnings come from about 34 h, its peak at 40 h: 42 h covers
#: peacetime and forward command, and ends with incidents still open; the rate scale gives the
#: exposure-based rates enough requests to compare (some 90 incidents).
HOURS = ("duration_h=42", "hazard.rate_scale=5")


@dataclass
class _Ask:
    """What a request still needs when a call begins."""

    grid: int
    x_m: float
    y_m: float
    remaining: list[tuple[int, int]]


class _Definition:
    """Whom to send, by the definition: least expected time to scene (mobilisation median
    unless at a post, × the night factor, plus travel), ties to the candidate listed first
    (grids in mutual-aid row order, people by id)."""

    def __init__(self, d: Dispatcher) -> None:
        self.d = d
        cfg, roster, grids = d.cfg, d.scenario.roster, d.scenario.region.grids
        speed = np.array([cfg.local_speed_mps[k] for k in GRID_KINDS])
        self.speed = speed[grids.kind.astype(np.int64)]
        mask = 0
        for r in cfg.peace_roles:
            mask |= role_bit(r)
        self.peace_ok = (roster.roles & mask) != 0
        lead = np.full(roster.n, -1, dtype=np.int64)
        for i in reversed(range(len(LEAD_ORDER))):  # the first role a person holds leads
            lead[(roster.roles & role_bit(LEAD_ORDER[i])) != 0] = i
        assert (lead >= 0).all()
        medians = np.array([cfg.mobilisation[r].ppf(0.5) for r in LEAD_ORDER])
        self.mob_median = medians[lead]

    def choose(self, asks: list[_Ask], busy: np.ndarray) -> list[list[int]]:
        """The people sent to each of ``asks``, served in order from the same moment."""
        d, cfg, roster = self.d, self.d.cfg, self.d.scenario.roster
        sw, now = d.switch, d.env.now
        assert sw is not None
        gx, gy = d.scenario.region.grids.x_m, d.scenario.region.grids.y_m
        det = cfg.intra_grid_detour
        night = cfg.night_factor if in_hours(now, cfg.night_hours) else 1.0
        in_work = in_hours(now, cfg.work_hours)
        busy = busy.copy()
        held = d.held_priority.copy()  # people held by post tasks (storm work) ...
        out = []
        for ask in asks:
            g = ask.grid
            idx, t = d.near.row(g)
            people, pos = people_of(roster, idx.astype(np.int64))
            road_t = t[pos].astype(float)
            pgrid = roster.grid[people].astype(np.int64)
            mode = sw.mode[pgrid]
            at_post = (sw.assembled_at[people] <= now) & ((mode == ALERT) | (mode == FORWARD))
            callable_ = self.peace_ok[people]
            if in_work:
                callable_ = callable_ & ~roster.away_in_work_hours[people]
            # ... below the request's priority are free for it
            free = ~busy[people] | ((held[people] >= 0) & (held[people] < d.request_priority))
            # members on their way to their post: from where their trip has got to
            arrive = sw.assembled_at[people]
            leave = sw.leave_at[people]
            en_route = (np.isfinite(arrive) & (arrive > now) if cfg.en_route_dispatch
                        else np.zeros(len(people), dtype=bool))
            share = np.zeros(len(people))
            moving = en_route & (leave < now)
            share[moving] = (now - leave[moving]) / (arrive[moving] - leave[moving])
            wait = np.where(en_route, np.maximum(leave - now, 0.0), 0.0)
            avail = free & (at_post | callable_ | en_route)
            hx, hy = roster.x_m[people], roster.y_m[people]
            ox = np.where(at_post, gx[pgrid], hx + share * (gx[pgrid] - hx))
            oy = np.where(at_post, gy[pgrid], hy + share * (gy[pgrid] - hy))
            local = (np.abs(ox - ask.x_m) + np.abs(oy - ask.y_m)) * det / self.speed[g]
            leg_home = ((np.abs(hx - gx[pgrid]) + np.abs(hy - gy[pgrid]))
                        * det / self.speed[pgrid])
            leg_in = (abs(gx[g] - ask.x_m) + abs(gy[g] - ask.y_m)) * det / self.speed[g]
            travel = np.where(pgrid == g, local,
                              road_t + np.where(at_post, 0.0, leg_home * (1.0 - share)) + leg_in)
            # ... who leave when they would have left for the post, or, if they could be
            # called up in peacetime now, at the sooner of that and a call-up
            call = self.mob_median[people] * night
            expected = travel + np.where(at_post, 0.0, np.where(
                en_route, np.where(callable_, np.minimum(wait, call), wait), call))
            chosen: list[int] = []
            for bit, n in ask.remaining:
                if n <= 0:
                    continue
                m = np.flatnonzero(((roster.categories[people] & bit) != 0) & avail)
                pick = m[np.argsort(expected[m], kind="stable")[:n]]
                avail[pick] = False
                chosen.extend(int(p) for p in people[pick])
            busy[chosen] = True
            held[chosen] = -1
            out.append(chosen)
        return out


@dataclass
class _Tally:
    calls: int = 0
    assigned: int = 0


def _watch(ctx: RunContext, tally: _Tally) -> None:
    """Check every assigning call of the run's dispatcher against the definition."""
    d = ctx.dispatcher
    rule = _Definition(d)
    ask, retry = d.request, d.retry
    depth = [0]

    def asks_of(reqs: list[Request]) -> list[_Ask]:
        return [_Ask(r.grid, r.x_m, r.y_m, [(b, n) for b, n in r.remaining]) for r in reqs]

    def compare(served: list[Request], before: list[int], want: list[list[int]]) -> None:
        for req, k, w in zip(served, before, want, strict=True):
            got = [a.person for a in req.assigned[k:]]
            assert got == w, f"incident {req.incident} at t = {d.env.now}"
            tally.assigned += len(got)
        tally.calls += 1

    def checked_request(incident, grid, x_m, y_m, needs) -> Request:  # type: ignore[no-untyped-def]
        queue = list(d.pending)
        want = rule.choose([*asks_of(queue), _Ask(grid, x_m, y_m, list(needs))], d.busy)
        before = [len(r.assigned) for r in queue]
        depth[0] += 1
        try:
            req = ask(incident, grid, x_m, y_m, needs)
        finally:
            depth[0] -= 1
        compare([*queue, req], [*before, 0], want)
        return req

    def checked_retry() -> None:
        if depth[0]:  # inside request(): checked there
            retry()
            return
        queue = list(d.pending)
        want = rule.choose(asks_of(queue), d.busy)
        before = [len(r.assigned) for r in queue]
        retry()
        compare(queue, before, want)

    d.request = checked_request  # type: ignore[method-assign]
    d.retry = checked_retry  # type: ignore[method-assign]


@pytest.mark.parametrize("overrides", [
    (),  # the default run: a rainstorm puts many grids in forward command (people at posts)
    ("response=prepared", "seed=3"),
    ("response.dispatch.mutual_aid_radius_s=900", "seed=4"),  # many candidates per request
])
def test_nearest_grids_first_gives_the_exhaustive_choice(overrides: tuple[str, ...]) -> None:
    tally = _Tally()
    s = shipped(*HOURS, "output.figures=false", "output.progress=false",
                "output.events_log=false", *overrides)
    r = simulate(s, observe=lambda ctx: _watch(ctx, tally))
    answered = [i for i in r.incidents if math.isfinite(i.first_on_scene_s)]
    assert len(answered) > 30
    assert tally.calls >= len(r.incidents)
    # every person sent was checked: the crews of answered incidents, and whoever was already
    # sent to a request still waiting for the rest of its crew at the end
    waiting = sum(len(req.assigned) for req in r.ctx.dispatcher.pending)
    assert tally.assigned == sum(i.responders for i in answered) + waiting
    assert sum(i.from_post for i in r.incidents) > 0  # people were sent from posts


@pytest.mark.slow
def test_how_far_dispatch_looks_first_does_not_change_results() -> None:
    """From the own grid only (growing the look often), from every candidate at once (which
    is the definition itself), or as shipped: the same run. (``_prefix``, the size of the
    first look beyond the grid's own people, has no public setting: it is set here directly.)"""

    def run(prefix: int | None) -> list[tuple]:
        def observe(ctx: RunContext) -> None:
            if prefix is not None:
                ctx.dispatcher._prefix = prefix

        s = shipped(*HOURS, "output.figures=false", "output.progress=false", "seed=9")
        r = simulate(s, observe=observe)
        assert len(r.incidents) > 30
        assert any(math.isnan(i.resolved_s) for i in r.incidents)  # hence the None below
        return [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in
                      (i.id, i.first_on_scene_s, i.crew_on_scene_s, i.resolved_s, i.responders,
                       i.from_post)) for i in r.incidents] + r.ctx.log.rows

    shipped_run = run(None)
    assert run(0) == shipped_run
    assert run(10**9) == shipped_run
