"""Storm 前置 teams answer incidents where they were sent (gridsim.engine.moves with
Dispatcher.station / unstation).

The micro case: two grids of 1 km² joined by one road, fixed switch delays, walking inside a
grid at 2 m/s (× the detour 1.3). Grid 0 (members 0, 1, 2: its leader and two on-site
commanders) is warned at 1800 s for 2 h and stands down at 9000 s; its relocation (priority
80, below incidents' 100) takes up to 4 people for 4 × 60 person-min. Grid 1 (members 3, 4, 5,
the same roles) is not warned; its whole team is moved to grid 0 at the warning and stays
there until grid 0 is back in peacetime, 900 s after the stand-down. Leaders serve no rescue:
the rescuers are 1, 2 (grid 0) and 4, 5 (grid 1). The road time T between the centres is the
road's length over its speed. Mobilisation and decisions take no time.
"""

from __future__ import annotations

import numpy as np
import pytest
from params import add_warning, checked, one_grid

from gridsim.engine.dispatch import Dispatcher, Request
from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.dists import Dist
from gridsim.model.frozen import changed
from gridsim.model.params import (
    CommandConfig,
    DetectionChannelConfig,
    KindConfig,
    RunConfig,
    ScriptedIncidentConfig,
    StormTaskConfig,
    StormWorkConfig,
)
from gridsim.model.people import category_bit
from gridsim.model.plan import Move
from gridsim.model.vocab import GRID_KINDS

OFF = StormTaskConfig(enabled=False)
WARN_S = 1800.0
END_S = WARN_S + 2 * 3600.0
RECOVERY_S = 900.0  # grid 0 is back in peacetime this long after its stand-down
BACK_S = END_S + RECOVERY_S
SPEED = 2.0  # m/s inside a grid
DETOUR = 1.3
RESCUE = category_bit("rescue")
TEAM = [Move("team", 1, 0, people=3)]  # all of grid 1: members 3, 4, 5


def _settings(*, incident_needs: int = 0, incident_at_h: float = 1.5) -> RunConfig:
    s = one_grid(2, duration_h=3)
    s = changed(s, {"output.events_log": True,
                    "response.switch.alert_delay": Dist.fixed(60.0),
                    "response.switch.assembly_mobilisation": Dist.fixed(120.0),
                    "response.switch.supply_open_delay": Dist.fixed(100.0),
                    "response.switch.recovery_h": RECOVERY_S / 3600.0})
    s = add_warning(s, start_h=WARN_S / 3600.0, duration_h=2.0)
    s = changed(s, {"hazard.warnings": [changed(s.hazard.warnings[0], {"grids": [0]})]})
    relocate = StormTaskConfig(priority=80, people=4, minutes_per_unit=60.0,
                               exposure={"residents": 0.002})
    work = StormWorkConfig(enabled=True, incident_priority=100, patrol_channel="patrol",
                           patrol_coverage=0.0, staff_post=OFF, relocate=relocate, warn=OFF,
                           sandbag=OFF, patrol=OFF)
    patrol = DetectionChannelConfig(delay=Dist.fixed(900.0),
                                    coverage=dict.fromkeys(GRID_KINDS, 0.0))
    kinds = {"urban_community": KindConfig(zone="urban", weight=1.0, area_km2=1.0, area_cv=0.0,
                                           population=2000.0, population_cv=0.0),
             "rural": KindConfig(zone="rural", weight=1.0, area_km2=1.0, area_cv=0.0,
                                 population=100.0, population_cv=0.0)}
    s = changed(s, {
        "response.storm_work": work, "catalogue.detection.patrol": patrol,
        "response.command": CommandConfig(township_transfer=False, county_transfer=False),
        "scenario.kinds": kinds, "scenario.rural_grids": 1,
        "response.dispatch.local_speed_mps": dict.fromkeys(GRID_KINDS, SPEED),
        "response.dispatch.intra_grid_detour": DETOUR})
    if incident_needs:
        test = changed(s.catalogue.hazards["test"], {"needs": {"rescue": incident_needs}})
        s = changed(s, {"catalogue.hazards": {"test": test}, "hazard.incidents": [
            ScriptedIncidentConfig(hazard="test", grid=0, at_h=incident_at_h, grade="IV")]})
    return checked(s)


def _road_s(r: RunResult) -> float:
    roads = r.ctx.scenario.roads
    assert len(roads.edge_u) == 1
    return float(roads.length_m[0] / roads.speed_mps[0])


def _recount(d: Dispatcher) -> None:
    """Every count the dispatcher keeps, against a recount from its per-person state."""
    n_grids = len(d.grid_busy)
    at = d.station_of
    assert d.n_stationed == int(np.count_nonzero(at >= 0))
    assert d._n_stationed.tolist() == np.bincount(at[at >= 0], minlength=n_grids).tolist()
    assert {g: sorted(ps) for g, ps in d.stationed.items()} == {
        g: sorted(np.flatnonzero(at == g).tolist()) for g in np.unique(at[at >= 0]).tolist()}
    assert d.n_held == int(np.count_nonzero(d.held_priority >= 0))
    assert not ((d.held_priority >= 0) & ~d.busy).any()
    home = d.scenario.roster.grid
    assert d.grid_busy == np.bincount(home[d.busy], minlength=n_grids).tolist()
    not_on_incident = ~d.busy | (d.held_priority >= 0)
    cats = d._cats[not_on_incident]
    assert d._ready_cat == [int(np.count_nonzero(cats & (1 << b)))
                            for b in range(len(d._ready_cat))]


_Ran = tuple[RunResult, list[Request], list[list[int]], list[tuple[float, list[int]]]]


def _run(moves: list[Move], requests: list[tuple[float, int, float, float, int]],
         release_s: list[float]) -> _Ran:
    """The micro case with ``moves``; each request ``(time, grid, dx, dy, rescuers)`` asks the
    dispatcher for rescuers at the grid's centre + (dx, dy); at each time of ``release_s``,
    everybody sent before and still on the incident is released; each person's hold just
    before each request is kept. Counts are recounted every minute; the stationed people are
    recorded then."""
    reqs: list[Request] = []
    holds: list[list[int]] = []  # each person's hold just before each request
    seen: list[tuple[float, list[int]]] = []

    def observe(ctx) -> None:
        env, d = ctx.env, ctx.dispatcher
        gx, gy = ctx.scenario.region.grids.x_m, ctx.scenario.region.grids.y_m

        def ask():
            due = sorted(release_s)
            for t, g, dx, dy, n in requests:
                while due and due[0] < t:
                    yield env.timeout(due.pop(0) - env.now)
                    for req in reqs:
                        for a in req.assigned:
                            if d.busy[a.person] and d.held_priority[a.person] < 0:
                                d.release(a.person)
                yield env.timeout(t - env.now)
                holds.append(d.held_priority.tolist())
                reqs.append(d.request(90_000 + len(reqs), g, float(gx[g] + dx),
                                      float(gy[g] + dy), ((RESCUE, n),)))

        def check():
            while True:
                _recount(d)
                seen.append((env.now, np.flatnonzero(d.station_of >= 0).tolist()))
                yield env.timeout(60.0)

        env.process(ask())
        env.process(check())

    r = simulate(_settings(), observe=observe, moves=moves)
    return r, reqs, holds, seen


def _leg(r: RunResult, x: float, y: float, g: int) -> float:
    """Walking time from (x, y) to grid ``g``'s centre: Manhattan × detour / speed."""
    grids = r.ctx.scenario.region.grids
    return (abs(x - float(grids.x_m[g])) + abs(y - float(grids.y_m[g]))) * DETOUR / SPEED


def test_premoved_members_answer_from_the_post_and_go_home_at_the_stand_down() -> None:
    """(a) At 4000 s, 3 rescuers at grid 0's centre + (300, 400): 1, 2 and 4 (moved there; the
    team reached the post before grid 0's own members and took the relocation), all from grid
    0's post: 700 m × 1.3 / 2 m/s = 455 s, no call-up; those on the relocation are pre-empted
    off it (4 like the grid's own), those standing by just go. (b) At 4100 s, 1 rescuer in
    grid 1 (whose members are all at grid 0) at its centre + (100, 0): 5, standing by at grid
    0's post, from there: T + 65 s, not from home. Released at 5000 s. (c) The post stands down
    at 9000 s; at 9300 s, in grid 0's recovery, 2 rescuers at its centre + (300, 400): the two
    nearest of 1 and 2 from their homes (called up at once) and 4 and 5 still at the post (455
    s); released at 9400 s. (d) Back in peacetime at 9900 s, the team is home at 9900 + T; at
    10300 s, 4 rescuers at grid 0's centre + (300, 400): 4 and 5 come from their homes in
    grid 1 (call-up 0, walk to grid 1's centre, the road, 455 s), no longer from grid 0's
    post. Every count the dispatcher keeps matches a recount, every minute."""
    r, reqs, holds, seen = _run(TEAM, [(4000.0, 0, 300.0, 400.0, 3), (4100.0, 1, 100.0, 0.0, 1),
                                       (9300.0, 0, 300.0, 400.0, 2),
                                       (10300.0, 0, 300.0, 400.0, 4)], release_s=[5000.0, 9400.0])
    t = _road_s(r)
    assert BACK_S + t < 10300.0
    a, b, c, e = reqs
    assert [x.person for x in a.assigned] == [1, 2, 4]
    for x in a.assigned:
        assert (x.from_post, x.mobilisation_s) == (True, 0.0)
        assert x.travel_s == pytest.approx(700.0 * DETOUR / SPEED, abs=1e-9)
    # those on the relocation (held at its 80) were taken off it, the others were free or
    # standing by (held at 0): no task pre-empted for them
    pre = [d for tt, e, _, _, d in r.ctx.log.sorted_rows()
           if e == "storm_preempted" and tt == 4000.0]
    on_task = [p for p in (1, 2, 4) if holds[0][p] == 80]
    assert 4 in on_task and {holds[0][p] for p in (1, 2, 4)} <= {-1, 0, 80}
    assert pre == [f"person {p} off relocate" for p in on_task]
    (x,) = b.assigned
    assert holds[1][5] == 0  # standing by at grid 0's post (below incidents)
    assert (x.person, x.from_post, x.mobilisation_s) == (5, True, 0.0)
    assert x.travel_s == pytest.approx(t + 100.0 * DETOUR / SPEED, abs=1e-3)
    roster = r.ctx.scenario.roster
    gx, gy = r.ctx.scenario.region.grids.x_m, r.ctx.scenario.region.grids.y_m
    x_in, y_in = float(gx[0]) + 300.0, float(gy[0]) + 400.0
    post = 700.0 * DETOUR / SPEED
    times = {p: (abs(float(roster.x_m[p]) - x_in) + abs(float(roster.y_m[p]) - y_in))
             * DETOUR / SPEED for p in (1, 2)} | {4: post, 5: post}
    nearest = sorted(times, key=lambda p: (times[p], p))[:2]
    assert 4 in nearest or 5 in nearest  # (else the case tests nothing of the stay)
    assert sorted(x.person for x in c.assigned) == sorted(nearest)
    for x in c.assigned:
        assert x.travel_s == pytest.approx(times[x.person], abs=1e-6)
        assert x.from_post == (x.person >= 3)
    assert sorted(x.person for x in e.assigned) == [1, 2, 4, 5]
    for x in e.assigned:
        assert not x.from_post and x.mobilisation_s == 0.0
        if x.person >= 3:  # from home in grid 1: walk to its centre, drive, walk in
            home = _leg(r, float(roster.x_m[x.person]), float(roster.y_m[x.person]), 1)
            assert x.travel_s == pytest.approx(home + t + 700.0 * DETOUR / SPEED, abs=1e-3)
    # stationed at grid 0 from their arrival until it is back in peacetime, and never after
    for now, who in seen:
        if WARN_S + t < now < BACK_S:
            assert who == [3, 4, 5], now
        elif now < WARN_S or now > BACK_S:
            assert who == [], now
    d = r.ctx.dispatcher
    assert r.ctx.command is not None and r.ctx.command.n_lent == 0
    assert d.n_stationed == 0 and not d.stationed


def test_a_premoved_team_speeds_up_an_incident_in_the_warned_grid() -> None:
    """An incident at grid 0's centre at 1.5 h needing 4 rescuers: with grid 1's team moved
    there, 1, 2, 4, 5 are all at the post (the crew is on scene at dispatch: travel 0 to the
    centre); without, 4 and 5 come from their homes in grid 1 (walk, then the road T)."""
    s = _settings(incident_needs=4)
    with_moves, without = simulate(s, moves=TEAM), simulate(s)
    (a,), (b,) = with_moves.incidents, without.incidents
    assert a.dispatched_s == b.dispatched_s
    assert a.crew_on_scene_s == pytest.approx(a.dispatched_s, abs=1e-9)
    assert a.from_post == 4 and b.from_post == 2
    t = _road_s(without)
    roster = without.ctx.scenario.roster
    legs = [_leg(without, float(roster.x_m[p]), float(roster.y_m[p]), 1) for p in (4, 5)]
    assert b.crew_on_scene_s == pytest.approx(b.dispatched_s + t + max(legs), abs=1e-3)
    assert with_moves.ctx.dispatcher.n_stationed == 0  # all home at the end
