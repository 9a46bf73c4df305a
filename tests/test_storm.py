"""Storm work (gridsim.engine.storm): post tasks on the dispatch roster, pre-emption by incidents,
detection by patrols, members sent from their way to the post, and the queue it leaves alone.

Micro-timelines on the hand-built one-grid case (tests/params.py): zero area (no travel), fixed
delays, so every time below is worked out by hand in the docstring and asserted exactly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Generator

import numpy as np
import pytest
import simpy
from params import add_incident, add_warning, checked, one_grid

from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.dists import Dist
from gridsim.model.frozen import changed
from gridsim.model.params import (
    DetectionChannelConfig,
    RunConfig,
    StormTaskConfig,
    StormWorkConfig,
)
from gridsim.model.storm import next_pass_s, round_time_s
from gridsim.model.theory import erlang_c
from gridsim.model.vocab import GRID_KINDS
from gridsim.output.metrics import summarize

OFF = StormTaskConfig(enabled=False)
#: A warning from 1800 s to 9000 s; alert 60 s + assembly 120 s, supply point 100 s: the grid
#: (leader = person 0, commanders = persons 1 and 2) is a forward command post at 1980 s.
WARN_S, READY_S, LIFTED_S = 1800.0, 1980.0, 9000.0


def _storm(s: RunConfig, **tasks: StormTaskConfig) -> RunConfig:
    """``s`` with storm work of ``tasks`` only, and a patrol detection channel that covers
    nothing in peacetime (and no incident lies on a storm patrol's route: coverage 0)."""
    work = StormWorkConfig(enabled=True, incident_priority=100, patrol_channel="patrol",
                           patrol_coverage=0.0, **{t: tasks.get(t, OFF) for t in (
                               "staff_post", "relocate", "warn", "sandbag", "patrol")})
    patrol = DetectionChannelConfig(delay=Dist.fixed(900.0),
                                    coverage=dict.fromkeys(GRID_KINDS, 0.0))
    return changed(s, {"response.storm_work": work, "catalogue.detection.patrol": patrol})


def _case(**tasks: StormTaskConfig) -> RunConfig:
    s = one_grid(2, duration_h=3)
    s = changed(s, {"output.events_log": True,
                    "response.switch.alert_delay": Dist.fixed(60.0),
                    "response.switch.assembly_mobilisation": Dist.fixed(120.0),
                    "response.switch.supply_open_delay": Dist.fixed(100.0)})
    s = add_warning(s, start_h=0.5, duration_h=2.0)
    return _storm(s, **tasks)


def _events(r: RunResult, prefix: str) -> list[tuple[float, str, str]]:
    return [(round(t, 6), e, d) for t, e, _, _, d in r.ctx.log.sorted_rows()
            if e.startswith(prefix)]


PATROL = StormTaskConfig(priority=10, people=2, minutes_per_unit=5.0, min_units=1,
                         round_period_min=60.0, roles=["commander"])
POST = StormTaskConfig(priority=110, people=1, roles=["grid_leader"])


def test_incident_preempts_a_patrol_and_the_patroller_comes_back() -> None:
    """The leader staffs the post (priority 110) and both commanders patrol (priority 10) from
    1980 s. The incident at 3600 s (detected, decided at once; handling 600 s; zero travel)
    takes commander 1 off the patrol; commander 2 goes on alone; commander 1 is back on patrol
    at 4200 s. The warning is lifted at 9000 s: the post stands down and the tasks stop."""
    r = simulate(checked(add_incident(_case(staff_post=POST, patrol=PATROL), "test", 0, 1.0)))
    (inc,) = r.incidents
    assert (inc.dispatched_s, inc.first_on_scene_s, inc.resolved_s) == (3600.0, 3600.0, 4200.0)
    assert inc.from_post == 1
    assert _events(r, "storm_") == [(3600.0, "storm_preempted", "person 1 off patrol")]
    tasks = summarize(r, "test")["storm_tasks"]
    post_s = LIFTED_S - READY_S
    patrol_s = (3600.0 - READY_S) + (LIFTED_S - 4200.0) + post_s  # commander 1, commander 2
    assert tasks["staff_post"]["person_hours"] == pytest.approx(post_s / 3600, abs=1e-3)
    assert tasks["patrol"]["person_hours"] == pytest.approx(patrol_s / 3600, abs=1e-3)
    assert tasks["patrol"]["preempted"] == 1 and tasks["staff_post"]["preempted"] == 0
    # one round: 1 point × 5 min, at most every 60 min: rounds start at 1980 + 3600 k < 9000
    assert tasks["patrol"]["rounds"] == 2
    # the warned grid's 3 people: busy all the time from 1980 s (task or incident) to 9000 s
    share = 3 * (LIFTED_S - READY_S) / (3 * (LIFTED_S - WARN_S))
    assert r.ctx.storm.utilization(r.duration_s) == pytest.approx(share, rel=1e-12)
    assert not r.ctx.dispatcher.busy.any() and r.ctx.dispatcher.n_held == 0


def test_a_work_task_goes_on_with_the_rest_of_its_team() -> None:
    """Warning 4 households of 10 person-minutes (2,400 person-s) by the two commanders from
    1980 s. At 2700 s (1,440 person-s done) the incident takes commander 1: commander 2 goes on
    alone until commander 1 is back at 3300 s (600 s more), and the last 360 person-s take both
    180 s: done at 3480 s, 4 households warned, 2,400 person-s in all."""
    warn = StormTaskConfig(priority=60, people=2, minutes_per_unit=10.0, exposure={"grid": 4.0},
                           roles=["commander"])
    r = simulate(checked(add_incident(_case(warn=warn), "test", 0, 0.75)))
    (inc,) = r.incidents
    assert (inc.first_on_scene_s, inc.resolved_s) == (2700.0, 3300.0)
    ev = _events(r, "storm_")
    assert ev[0] == (2700.0, "storm_preempted", "person 1 off warn")
    assert ev[1][:2] == (3480.0, "storm_task_done")
    tasks = summarize(r, "test")["storm_tasks"]
    assert tasks["warn"]["units_done"] == 4
    assert tasks["warn"]["person_hours"] == pytest.approx(2400.0 / 3600, abs=1e-3)


def test_a_task_above_incidents_is_not_preempted() -> None:
    """A task held at the incidents' own priority is not theirs to take: with both
    commanders on it, the incident at 3600 s waits until the post stands down at 9000 s."""
    hold = StormTaskConfig(priority=100, people=2, roles=["commander"])
    r = simulate(checked(add_incident(_case(staff_post=hold), "test", 0, 1.0)))
    (inc,) = r.incidents
    assert inc.first_on_scene_s == LIFTED_S


def test_sandbags_come_out_of_the_supply_point_then_the_depot() -> None:
    """70 bags to place (exposure 'grid' × 70), 1 person-minute each, 20 at a time: the supply
    point's 60 (tests/params.py) and 10 of the depot's 60, which are on the spot at once (the
    depot stands in the grid); the stock is conserved."""
    bags = StormTaskConfig(priority=40, people=2, minutes_per_unit=1.0, exposure={"grid": 70.0},
                           consumes={"sandbag": 1}, batch_units=20, roles=["commander"])
    r = simulate(checked(_case(sandbag=bags)))
    led = r.ctx.supply.ledger
    tasks = summarize(r, "test")["storm_tasks"]
    assert tasks["sandbag"]["units_done"] == 70 and tasks["sandbag"]["units_short"] == 0
    assert led.consumed == 70
    assert led.balance() == 0
    # 70 person-minutes by two: done 35 min after the post is ready
    assert _events(r, "storm_task_done")[0][0] == READY_S + 35 * 60.0


def test_a_patrol_finds_an_incident_when_it_passes() -> None:
    """Residents would report it after 5,000 s; the patrol (from 1980 s, rounds of 300 s every
    3,600 s) passes the incident's spot at its own phase φ of each round: it occurs at 3600 s,
    after the first round, so the patrol finds it at 1980 + 3600 + 300 φ."""
    s = _case(patrol=PATROL)
    slow = DetectionChannelConfig(delay=Dist.fixed(5000.0),
                                  coverage=dict.fromkeys(GRID_KINDS, 1.0))
    s = changed(s, {"catalogue.detection.resident_report": slow,
                    "response.storm_work.patrol_coverage": 1.0})
    s = checked(add_incident(s, "test", 0, 1.0))
    (inc,) = simulate(s).incidents
    phase = float(inc.u[2 + 1])  # the patrol channel's delay uniform (channel 1)
    assert inc.detected_by == "patrol"
    assert inc.notified_s == pytest.approx(READY_S + 3600.0 + 300.0 * phase, abs=1e-9)
    # the same incident with storm work off: the residents' report
    (off,) = simulate(changed(s, {"response.storm_work.enabled": False})).incidents
    assert (off.detected_by, off.notified_s) == ("resident_report", 3600.0 + 5000.0)


def test_next_pass_and_round_time_by_formula() -> None:
    assert next_pass_s(100.0, 300.0, 3600.0, 0.5, 0.0) == 250.0
    assert next_pass_s(100.0, 300.0, 3600.0, 0.5, 251.0) == 3850.0
    assert next_pass_s(100.0, 300.0, 3600.0, 0.5, 3850.0) == 3850.0
    # 4 points over 1 km²: a round of 0.7124 × 2 km, × detour 1.3 at 2 m/s, + 4 × 5 min
    t = round_time_s(np.array([4.0]), np.array([1.0]), 1.3, np.array([2.0]), 5.0)
    assert t[0] == pytest.approx(0.7124 * 2000.0 * 1.3 / 2.0 + 1200.0)


def test_members_on_their_way_are_sent_from_where_they_are() -> None:
    """A grid of 0.04 km², nobody callable in peacetime. Warning at 1800 s: members leave home at
    1800 + 60 + 120 = 1980 s and reach the post (the centre) at 1980 + their leg. An incident at
    the centre at 1996.875 s: sent from where they are, a commander gets there when they would
    have reached the post, the earliest of them (if none is there yet); without it, the
    incident waits for the post to be ready."""
    s = _case()
    s = changed(s, {"scenario.kinds.urban_community.area_km2": 0.04,
                    "response.dispatch.peace_roles": [],
                    "response.storm_work.enabled": False})
    s = add_incident(s, "test", 0, 0.5546875)  # 1996.875 s
    r_on = simulate(checked(changed(s, {"response.dispatch.en_route_dispatch": True})))
    r_off = simulate(checked(s))
    (inc_on,), (inc_off,) = r_on.incidents, r_off.incidents
    sw, roster, grids = r_off.ctx.switch, r_off.scenario.roster, r_off.scenario.region.grids
    _, lat = sw.latencies()
    ready = sw.ep_trigger_s[0] + lat[0]
    cmd = np.flatnonzero(roster.has_role("commander"))
    leg = ((np.abs(roster.x_m[cmd] - grids.x_m[0]) + np.abs(roster.y_m[cmd] - grids.y_m[0]))
           * 1.3 / 1.6)  # the detour and the local speed of tests/params.py
    first_cmd = float(np.min(READY_S + leg))
    assert first_cmd > 1996.875  # nobody at the post yet (else the case proves nothing)
    assert inc_off.first_on_scene_s == ready
    assert inc_on.first_on_scene_s == pytest.approx(min(first_cmd, ready), rel=1e-12)
    assert inc_on.first_on_scene_s < ready and inc_on.from_post == 0


def _mm1_waits(storm: bool, seeds: range) -> np.ndarray:
    """M/M/1 (λ = 0.5/min, μ = 1/min) in a grid in forward command all the time (a warning over
    the whole run), with or without a patrol that holds the one commander between incidents."""
    means = []
    for seed in seeds:
        s = one_grid(1, duration_h=240, rate_per_day=0.5 * 1440.0,
                     handling=Dist.exponential(60.0), seed=seed)
        s = add_warning(s, start_h=0.0, duration_h=1000.0)
        s = _storm(s, patrol=PATROL)
        if not storm:
            s = changed(s, {"response.storm_work.enabled": False})
        r = simulate(checked(s))
        w = np.array([i.response_s for i in r.incidents
                      if i.occurred_s >= 5 * 3600 and math.isfinite(i.first_on_scene_s)])
        means.append(w.mean())
    return np.array(means)


@pytest.mark.slow
@pytest.mark.parametrize("storm", [False, True])
def test_erlang_c_holds_with_storm_work_off_and_under_preemptive_priority(storm: bool) -> None:
    """Storm work off: the M/M/1 queue of test_theory, answered from the post. On, a patrol of
    the lowest priority holds the commander whenever no incident does; incidents pre-empt it,
    so they see the same M/M/1 queue (preemptive priority leaves the top class alone).
    Wq = 1 min; tolerance 3 standard errors of 4 replication means, at most 10 %."""
    _, wq_theory = erlang_c(0.5, 1.0, 1)
    means = _mm1_waits(storm, range(1, 5)) / 60.0
    se = means.std(ddof=1) / math.sqrt(len(means))
    assert abs(means.mean() - wq_theory) <= max(3 * se, 0.01)
    assert abs(means.mean() - wq_theory) <= 0.10 * wq_theory


def _trapping(s: RunConfig, relocatable: float) -> RunConfig:
    """``s`` whose test hazard traps exactly one person every time (of whom ``relocatable``
    are residents the post's relocation moves out first)."""
    return changed(s, {
        "catalogue.hazards.test.consequences.trapped.any_share": 1.0,
        "catalogue.hazards.test.consequences.trapped.mean_if_any": 1.0,
        "catalogue.hazards.test.consequences.survival.source": "[assumed] test",
        "catalogue.hazards.test.consequences.relocatable_share": relocatable})


RELOCATE = StormTaskConfig(priority=80, people=2, minutes_per_unit=10.0,
                           exposure={"grid": 6.0}, roles=["commander"])


def test_relocation_spares_the_people_it_has_moved_out() -> None:
    """Six residents to move, 10 person-minutes each (3,600 person-s), by the two commanders
    from 1980 s: half moved at 2880 s, all at 3780 s (moved_share, sampled). An incident at
    900 s, before the warning, traps its one person; one at 3960 s finds them moved out
    (relocatable share 1): spared, not trapped. With storm work off both trap their person,
    and so do they in the world without the grid (the counterfactual sees every potential)."""
    s = _trapping(_case(relocate=RELOCATE), 1.0)
    s = add_incident(add_incident(s, "test", 0, 0.25), "test", 0, 1.1)
    seen: dict[float, float] = {}

    def sample(ctx) -> None:
        def at(t: float):
            yield ctx.env.timeout(t)
            seen[t] = ctx.storm.moved_share(0)
        for t in (1000.0, 1980.0, 2880.0, 3780.0, 5000.0):
            ctx.env.process(at(t))

    r = simulate(checked(s), observe=sample)
    assert seen == {1000.0: 0.0, 1980.0: 0.0, 2880.0: 0.5, 3780.0: 1.0, 5000.0: 1.0}
    early, late = sorted(r.incidents, key=lambda i: i.occurred_s)
    assert (early.people_trapped, early.people_spared) == (1, 0)
    assert (late.people_trapped, late.people_spared) == (0, 1)
    summary = summarize(r, "test")
    assert summary["people_trapped"] == 1 and summary["people_spared_by_relocation"] == 1
    assert summary["storm_tasks"]["relocate"]["people_moved"] == 6
    off = simulate(checked(changed(s, {"response.storm_work.enabled": False})))
    assert [i.people_trapped for i in off.incidents] == [1, 1]
    assert [i.people_spared for i in off.incidents] == [0, 0]
    # a share of 0 (the catalogue's default): relocation spares nobody
    none = simulate(checked(changed(s, {
        "catalogue.hazards.test.consequences.relocatable_share": 0.0})))
    assert [i.people_trapped for i in none.incidents] == [1, 1]


def test_relocated_residents_stay_away_until_the_grid_is_back_in_peacetime() -> None:
    """The post stands down at 9000 s with everybody moved: the share stays 1 through the
    stand-down (RECOVERY, recovery_h = 6) and a new warning at 3 h re-opens the post with
    nobody left to move (no relocate task); back in peacetime the residents are home again."""
    s = changed(_case(relocate=RELOCATE), {"duration_h": 20.0})
    first = s.hazard.warnings[0]
    again = dataclasses.replace(first, name="again", start_h=3.0, duration_h=1.0)
    s = dataclasses.replace(s, hazard=dataclasses.replace(s.hazard, warnings=[first, again]))
    seen: dict[float, float] = {}

    def sample(ctx) -> None:
        def at(t: float):
            yield ctx.env.timeout(t)
            seen[t] = ctx.storm.moved_share(0)
        for t in (9500.0, 12000.0, 15000.0, 15000.0 + 6 * 3600.0 + 1.0):
            ctx.env.process(at(t))

    r = simulate(checked(s), observe=sample)
    assert seen[9500.0] == 1.0 and seen[12000.0] == 1.0 and seen[15000.0] == 1.0
    assert seen[15000.0 + 6 * 3600.0 + 1.0] == 0.0
    assert summarize(r, "test")["storm_tasks"]["relocate"]["count"] == 1


def _moved_at(s: RunConfig, t: float) -> float:
    """Grid 0's relocated share at time ``t`` of the run of ``s``."""
    seen: list[float] = []

    def sample(ctx: RunContext) -> None:
        def at() -> Generator[simpy.Event, None, None]:
            yield ctx.env.timeout(t)
            seen.append(ctx.storm.moved_share(0))
        ctx.env.process(at())

    simulate(checked(s), observe=sample)
    return seen[0]


def test_a_slower_switch_leaves_less_relocated_when_the_incident_comes() -> None:
    """The lever's channel in a forecast storm: with the alert 3 times longer (180 s instead of
    60 s) the post is ready at 2100 s instead of 1980 s, so at 2880 s its relocation has moved
    (2880 - 2100) x 2 / 3600 = 0.4333 of the residents instead of 0.5; by the formula of
    still_in_danger an incident then leaves, in expectation, 1 - 0.4333 of its would-be trapped
    in danger instead of 1 - 0.5."""
    shares = {alert: _moved_at(changed(_case(relocate=RELOCATE), {
        "response.switch.alert_delay": Dist.fixed(alert)}), 2880.0) for alert in (60.0, 180.0)}
    assert shares[60.0] == pytest.approx(0.5, abs=1e-12)
    assert shares[180.0] == pytest.approx((2880.0 - 2100.0) * 2 / 3600.0, abs=1e-12)
