"""The command structure at the post (gridsim.engine.command): functional groups under a span
of control and by category, township and county transfers, evacuation helpers held while they
help, and everything off leaving the run as it was.

Micro-timelines on the hand-built one-grid case (tests/params.py): zero area (no travel), fixed
delays; the grid (leader = person 0, commanders = persons 1 and 2) is a forward command post at
1980 s (warning at 1800 s, alert 60 s + assembly 120 s; supply point 100 s). The transfer
cases add a second grid (a road between them); the evacuation cases are described where built.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest
from params import add_incident, add_warning, checked, one_grid

from gridsim.engine.command import Command
from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.dists import Dist
from gridsim.model.frozen import changed
from gridsim.model.params import (
    CommandConfig,
    DetectionChannelConfig,
    KindConfig,
    RunConfig,
    StormTaskConfig,
    StormWorkConfig,
)
from gridsim.model.vocab import CATEGORIES, GRID_KINDS
from gridsim.output.metrics import summarize
from tests.conftest import settings_for

OFF = StormTaskConfig(enabled=False)
READY_S = 1980.0
#: relocate 2 units × 10 person-min (1,200 s for one person), warn 4 × 10 (2,400 s)
RELOCATE = StormTaskConfig(priority=80, people=1, minutes_per_unit=10.0, exposure={"grid": 2.0},
                           roles=["commander"])
WARN = StormTaskConfig(priority=60, people=1, minutes_per_unit=10.0, exposure={"grid": 4.0},
                       roles=["commander"])


def _case(command: CommandConfig) -> RunConfig:
    s = one_grid(2, duration_h=3)
    s = changed(s, {"output.events_log": True,
                    "response.switch.alert_delay": Dist.fixed(60.0),
                    "response.switch.assembly_mobilisation": Dist.fixed(120.0),
                    "response.switch.supply_open_delay": Dist.fixed(100.0)})
    s = add_warning(s, start_h=0.5, duration_h=2.0)
    work = StormWorkConfig(enabled=True, incident_priority=100, patrol_channel="patrol",
                           patrol_coverage=0.0, staff_post=OFF, relocate=RELOCATE, warn=WARN,
                           sandbag=OFF, patrol=OFF)
    patrol = DetectionChannelConfig(delay=Dist.fixed(900.0),
                                    coverage=dict.fromkeys(GRID_KINDS, 0.0))
    return checked(changed(s, {"response.storm_work": work, "catalogue.detection.patrol": patrol,
                               "response.command": command}))


def _done(r: RunResult) -> list[tuple[float, str]]:
    return [(round(t, 6), d) for t, e, _, _, d in r.ctx.log.sorted_rows()
            if e == "storm_task_done"]


def test_without_groups_both_tasks_run_at_once() -> None:
    """Groups off: relocate (commander 1) and warn (commander 2) both start at 1980 s."""
    r = simulate(_case(CommandConfig()))
    assert _done(r) == [(READY_S + 1200.0, "relocate"), (READY_S + 2400.0, "warn")]


def test_a_group_beyond_the_span_waits_for_one_to_end() -> None:
    """Span of control 1: the commander directs one group at a time. Relocate (the higher
    priority) starts at 1980 s with commander 1; warn waits although commander 2 is free, and
    starts when relocate ends at 3180 s (commander 1, the first free member): done at 5580 s."""
    r = simulate(_case(CommandConfig(groups=True, span_of_control=1)))
    assert _done(r) == [(READY_S + 1200.0, "relocate"), (READY_S + 1200.0 + 2400.0, "warn")]
    tasks = summarize(r, "test")["storm_tasks"]
    assert tasks["warn"]["units_done"] == 4
    assert tasks["warn"]["person_hours"] == round(2400.0 / 3600.0, 3)
    assert not r.ctx.dispatcher.busy.any() and r.ctx.dispatcher.n_held == 0


def test_a_span_of_two_lets_both_groups_run() -> None:
    """Span 2 with two work groups: the same timeline as without groups."""
    r = simulate(_case(CommandConfig(groups=True, span_of_control=2)))
    assert _done(r) == [(READY_S + 1200.0, "relocate"), (READY_S + 2400.0, "warn")]


def test_everything_off_is_the_run_without_the_command_structure() -> None:
    """A run with every mechanism of response.command off writes the same summary as one
    with its dataclass defaults (the mechanisms are only built when on)."""
    off = CommandConfig(groups=False, township_transfer=False, county_transfer=False,
                        concurrent_evacuation=False, span_of_control=1)
    a = summarize(simulate(_case(off)), "test")
    b = summarize(simulate(_case(CommandConfig())), "test")
    assert a == b


# -- 三级包保: township and county transfers -----------------------------------------------------
#: Two grids of 1 km² (so a road between their centres), every member of any role and
#: category: grid 0, urban, 2,000 residents; grid 1, rural, 100. Relocation is 1 unit per 500
#: residents (rounded: 4 units in grid 0, none in grid 1) of 60 person-min, for up to 4 people.
#: Grid 0's three members (leader 0, commanders 1, 2) take it at 1980 s; grid 1's (3, 4, 5)
#: have nothing to do. Walking inside a grid is made instant (1e9 m/s), so the posts are ready
#: at 1980 s as in the one-grid case, and only the road between the grids takes time.
LAG = StormTaskConfig(priority=80, people=4, minutes_per_unit=60.0,
                      exposure={"residents": 0.002})
WORK_S = 4 * 3600.0


def _two_grids(command: CommandConfig, townships: int = 1) -> RunConfig:
    kinds = {"urban_community": KindConfig(zone="urban", weight=1.0, area_km2=1.0, area_cv=0.0,
                                           population=2000.0, population_cv=0.0),
             "rural": KindConfig(zone="rural", weight=1.0, area_km2=1.0, area_cv=0.0,
                                 population=100.0, population_cv=0.0)}
    s = _case(command)
    s = changed(s, {"scenario.kinds": kinds, "scenario.rural_grids": 1,
                    "scenario.townships_per_county": townships,
                    "response.storm_work.relocate": LAG,
                    "response.storm_work.warn": OFF,
                    # walking inside a grid takes no time to speak of (< 1e-5 s)
                    "response.dispatch.local_speed_mps": dict.fromkeys(GRID_KINDS, 1e9)})
    return checked(s)


def _road_s(r: RunResult) -> float:
    """The driving time between the two grids' centres: the one road's length over its speed
    (the scenario's network, independent of the command code)."""
    roads = r.ctx.scenario.roads
    assert len(roads.edge_u) == 1
    return float(roads.length_m[0] / roads.speed_mps[0])


def _rows(r: RunResult, event: str) -> list[tuple[float, int, str]]:
    return [(t, g, d) for t, e, g, _, d in r.ctx.log.sorted_rows() if e == event]


class _OnePlace:
    """A listener over the dispatcher: a person is never taken (by a task, an incident, a trip
    or an evacuation) while someone already has them, and every release is of a taken person."""

    def __init__(self, r_ctx_dispatcher) -> None:
        d = self.d = r_ctx_dispatcher
        self.taken = 0
        occupy, vacate, release = d.occupy, d.vacate, d.release

        def _occupy(p: int, priority: int) -> None:
            assert not d.busy[p], f"person {p} taken twice"
            self.taken += 1
            occupy(p, priority)

        def _vacate(p: int, offer: bool = True) -> None:
            assert d.busy[p] and d.held_priority[p] >= 0, f"person {p} vacated while free"
            vacate(p, offer)

        def _release(p: int) -> None:
            assert d.busy[p] and d.held_priority[p] < 0, f"person {p} released while not out"
            release(p)

        d.occupy, d.vacate, d.release = _occupy, _vacate, _release


def _transfer_run(command: CommandConfig, townships: int = 1) -> tuple[RunResult, list]:
    """The two-grid run with every take and free of a person checked (:class:`_OnePlace`);
    returns the run and the times person 3 is let go (by the road, a task)."""
    seen: list = []

    def observe(ctx) -> None:
        one = _OnePlace(ctx.dispatcher)
        vacate = ctx.dispatcher.vacate

        def _vacate(p: int, offer: bool = True) -> None:
            if p == 3:
                seen.append(ctx.env.now)
            vacate(p, offer)

        ctx.dispatcher.vacate = _vacate
        seen.append(one)

    r = simulate(_two_grids(command, townships), observe=observe)
    assert seen[0].taken >= 3  # the check saw the takes (the relocation's team at least)
    return r, seen[1:]


def test_the_township_lends_a_spare_member_at_its_review() -> None:
    """At 3600 s (the second review; at 1800 s no post stands) grid 0's relocation has one
    place unfilled and 4 h - 3 × 1620 s = 9540 person-s (159 min >= 60) left: it lags. Grid 1
    has no task, so its first member (3) is sent at 3600 s, on the road for T (the road's
    length over its speed), joins at 3600 + T and the four finish 9540 - 3T person-s later:
    at 3600 + T + (9540 - 3T) / 4. Person 3 then drives home: free at that time + T."""
    r, home = _transfer_run(CommandConfig(township_transfer=True))
    trip = _road_s(r)
    assert _rows(r, "command_transfer") == [
        (3600.0, 0, f"person 3 from grid 1 by the township, {trip:.1f} s")]
    left = WORK_S - 3 * (3600.0 - READY_S)
    done = 3600.0 + trip + (left - 3 * trip) / 4
    assert [t for t, _, _ in _rows(r, "storm_task_done")] == pytest.approx([done], abs=1e-4)
    # off the road at grid 0, off the task when it ends, home after the trip back
    assert home == pytest.approx([3600.0 + trip, done, done + trip], abs=1e-4)
    cmd = summarize(r, "test")["command_transfers"]
    assert cmd == {"township": 1, "county": 0, "road_person_hours": round(2 * trip / 3600.0, 3),
                   "lent_person_hours": round((done - 3600.0 - trip) / 3600.0, 3)}
    assert not r.ctx.dispatcher.busy.any() and r.ctx.dispatcher.n_held == 0


def test_donors_go_by_load_then_road_time_then_grid() -> None:
    """The township's donors to a lagging grid: the least loaded first; among equal loads the
    nearest by road (a grid is 0 s from itself, the other grid the road's time T away), then
    the lower grid. Road times are looked up only to break ties of load: the order must be
    the plain sort by (load, road time, grid)."""
    got = {}

    def observe(ctx) -> None:
        got["command"] = ctx.command

    r = simulate(_two_grids(CommandConfig(township_transfer=True)), observe=observe)
    cmd, trip = got["command"], _road_s(r)
    assert cmd._trip_s(0, 0) == 0.0
    assert cmd._trip_s(1, 0) == pytest.approx(trip, abs=0.05)
    assert cmd._trip_s(0, 1) == pytest.approx(trip, abs=0.05)
    tie = {0: 0.5, 1: 0.5}
    assert cmd._by_load_trip([1, 0], tie, 0) == [0, 1]  # grid 0 is nearer to itself
    assert cmd._by_load_trip([0, 1], tie, 1) == [1, 0]
    assert cmd._by_load_trip([0, 1], {0: 0.6, 1: 0.5}, 0) == [1, 0]  # load first
    assert cmd._by_load_trip([1, 0], {0: 0.25, 1: 0.5}, 1) == [0, 1]
    # the first k of the order (a review asks at most as many donors as it wants people)
    for donors, loads, g in (([1, 0], tie, 0), ([0, 1], tie, 1), ([0, 1], {0: 0.6, 1: 0.5}, 0)):
        whole = cmd._by_load_trip(list(donors), loads, g)
        for k in (1, 2, 3):
            assert cmd._by_load_trip(list(donors), loads, g, k) == whole[:k]


def test_without_transfers_the_lagging_grid_works_alone() -> None:
    """The same run with transfers off: grid 0's three finish the 4 h at 1980 + 14400 / 3."""
    r, home = _transfer_run(CommandConfig())
    assert _rows(r, "command_transfer") == []
    assert [t for t, _, _ in _rows(r, "storm_task_done")] == pytest.approx(
        [READY_S + WORK_S / 3], abs=1e-4)
    assert home == []


def test_the_county_lends_between_townships_and_the_township_cannot() -> None:
    """Each grid its own township: the township has nobody spare (township transfers alone
    send nobody); the county sends person 3 at the same review, with the same timeline."""
    r, _ = _transfer_run(CommandConfig(township_transfer=True), townships=2)
    assert len(set(r.ctx.scenario.region.grids.township.tolist())) == 2
    assert _rows(r, "command_transfer") == []
    r, home = _transfer_run(CommandConfig(township_transfer=True, county_transfer=True),
                            townships=2)
    trip = _road_s(r)
    assert _rows(r, "command_transfer") == [
        (3600.0, 0, f"person 3 from grid 1 by the county, {trip:.1f} s")]
    done = 3600.0 + trip + (WORK_S - 3 * (3600.0 - READY_S) - 3 * trip) / 4
    assert [t for t, _, _ in _rows(r, "storm_task_done")] == pytest.approx([done], abs=1e-4)
    assert home == pytest.approx([3600.0 + trip, done, done + trip], abs=1e-4)
    cmd = summarize(r, "test")["command_transfers"]
    assert (cmd["township"], cmd["county"]) == (0, 1)


def _takes(s: RunConfig) -> list[tuple[float, int, int]]:
    """Every take of a person by a task or a helper's hold: (time, person, priority)."""
    seen: list[tuple[float, int, int]] = []

    def observe(ctx) -> None:
        occupy = ctx.dispatcher.occupy

        def _occupy(p: int, priority: int) -> None:
            seen.append((ctx.env.now, p, priority))
            occupy(p, priority)

        ctx.dispatcher.occupy = _occupy

    simulate(s, observe=observe)
    return seen


def test_a_task_takes_the_members_of_its_category_first() -> None:
    """Mixed categories: the grid leader (person 0) serves order and information only, the
    commanders (1, 2) every category. Relocate (priority 80) and warn (60), one person each,
    any role. Without groups the first free members go in roster order: relocate takes 0,
    warn 1. With relocate's group rescue and warn's information, relocate takes commander 1
    (0 has no rescue) and warn the leader 0; commander 2 stays free."""
    relocate = replace(RELOCATE, roles=[])
    warn = replace(WARN, roles=[])
    base = changed(_case(CommandConfig()), {"response.storm_work.relocate": relocate,
                                            "response.storm_work.warn": warn})
    cats = simulate(checked(base)).ctx.scenario.roster.categories
    rescue, info = 1 << CATEGORIES.index("rescue"), 1 << CATEGORIES.index("information")
    assert not cats[0] & rescue and cats[0] & info and all(cats[1:3] & rescue)
    assert _takes(checked(base)) == [(READY_S, 0, 80), (READY_S, 1, 60)]
    groups = CommandConfig(groups=True, task_groups={"relocate": "rescue", "warn": "information"})
    grouped = checked(changed(base, {"response.command": groups}))
    assert _takes(grouped) == [(READY_S, 1, 80), (READY_S, 0, 60)]


# -- concurrent evacuation --------------------------------------------------------------------
def _evacuating(concurrent: bool, incident: bool = True) -> RunConfig:
    """One grid of zero area, 40 residents (6 households with a vulnerable member, helped:
    ``helped_households: any``), one commander who helps (``helper_roles``), 600 s a
    household; the red warning at 1800 s orders the evacuation, the post is ready at 2400 s
    (one_grid's switch delays: the supply point opens 600 s after the warning), and one incident
    at 3600 s needs a rescuer: only the commander serves rescue (the leader does not)."""
    s = one_grid(1, duration_h=4)
    s = changed(s, {"scenario.kinds": {"urban_community": KindConfig(
        zone="urban", weight=1.0, area_km2=0.0, population=40.0, population_cv=0.0)}})
    s = add_warning(s, start_h=0.5, duration_h=2.0)
    s = changed(s, {"hazard.warnings": [replace(s.hazard.warnings[0], evacuate=True)],
                    "output.events_log": True,
                    "evacuation.helper_roles": ["commander"],
                    "evacuation.helped_households": "any",
                    "evacuation.help_time": Dist.fixed(600.0),
                    "response.command": CommandConfig(concurrent_evacuation=concurrent)})
    if incident:
        s = add_incident(s, "test", 0, 1.0)
    return checked(s)


def test_a_helper_is_not_sent_to_an_incident_while_helping() -> None:
    """Concurrent: commander 1 helps the 6 households from 2400 s (post ready), 600 s each,
    until 2400 + 6 × 600 = 6000 s, held from the order (1800 s): the incident at 3600 s waits
    for them and is dispatched at 6000 s. Held 4,200 s = 1.167 h. Off: dispatched at once."""
    r = simulate(_evacuating(True))
    assert [t for t, e, *_ in r.ctx.log.sorted_rows() if e == "mode_forward_command"] == [2400.0]
    h = r.evacuations[0].helpers
    assert h.person.tolist() == [1] and h.households.tolist() == [6]
    assert h.start_s.tolist() == [2400.0] and h.end_s.tolist() == [2400.0 + 6 * 600.0]
    assert [t for t, e, *_ in r.ctx.log.sorted_rows() if e == "dispatched"] == [6000.0]
    assert summarize(r, "test")["evacuation_helpers"] == {
        "held": 1, "person_hours": round((6000.0 - 1800.0) / 3600.0, 3)}
    off = simulate(_evacuating(False))
    assert [t for t, e, *_ in off.ctx.log.sorted_rows() if e == "dispatched"] == [3600.0]
    assert summarize(off, "test")["evacuation_helpers"] == {"held": 0, "person_hours": 0.0}


def test_the_evacuation_is_the_same_worked_out_at_the_order_or_after_the_run() -> None:
    """Nobody busy at the order and the post ready as planned: the households' and helpers'
    times are those of the pass after the run (concurrent evacuation off)."""
    a = simulate(_evacuating(True, incident=False)).evacuations[0]
    b = simulate(_evacuating(False, incident=False)).evacuations[0]
    for x, y in ((a.households, b.households), (a.helpers, b.helpers)):
        for f in fields(x):
            assert np.array_equal(getattr(x, f.name), getattr(y, f.name)), f.name
    assert (a.helpers.end_s > 2400.0).all()  # the case has help to compare


# -- 三级包保 at scale: the review's incremental donor lists against a brute force ---------------
def _brute_force_review(cmd) -> list[tuple[int, int, int, str]]:
    """The sends of one review as the module docstring states them, by brute force: every post
    standing that does not lag may give its spare members (free, at the post, not lent; in
    roster order), the lagging grids most behind first (then by grid) each take at most
    ``max_transfer`` less those already sent, from the donors of their township (then, still
    wanting, of their county but another township) with someone spare, sorted by the whole key
    (load = busy share, road time to the grid, grid). ``(person, from, to, level)`` in order."""
    storm, d, cfg, now = cmd.storm, cmd.dispatcher, cmd.cfg, cmd.env.now
    indptr = cmd.roster.by_grid_indptr
    lagging = []
    for g in storm.tasks:
        work = [t for t in storm.tasks[g] if t.kind == "work" and t.wants()]
        for t in work:
            t.account()
        places = sum(int(t.cfg.people) - len(t.team) for t in work)
        backlog = sum(t.left_s for t in work)
        if places > 0 and backlog >= cfg.backlog_min * 60.0:
            lagging.append((-backlog, g, places))
    lagging.sort()
    lag = {g for _, g, _ in lagging}
    spare = {g: [p for p in range(int(indptr[g]), int(indptr[g + 1]))
                 if not d.busy[p] and cmd.switch.assembled_at[p] <= now and cmd._lent[p] < 0]
             for g in storm.tasks if g not in lag}
    load = {g: d.grid_busy[g] / max(int(indptr[g + 1] - indptr[g]), 1) for g in spare}
    sent: dict[int, int] = {}
    out = []
    levels = ([("township", cmd.township)] if cfg.township_transfer else []) + (
        [("county", cmd.county)] if cfg.county_transfer else [])
    for level, unit in levels:
        for _, g, places in lagging:
            want = min(places, int(cfg.max_transfer)) - sent.get(g, 0)
            donors = sorted((x for x in spare if spare[x] and unit[x] == unit[g]
                             and (level == "township" or cmd.township[x] != cmd.township[g])),
                            key=lambda x: (load[x], cmd._trip_s(x, g), x))
            for x in donors:
                while want > 0 and spare[x]:
                    out.append((spare[x].pop(0), x, g, level))
                    sent[g] = sent.get(g, 0) + 1
                    want -= 1
    return out


#: The small scenario's storm made heavy (relocation 200 person-min a resident moved, by teams of
#: up to 20; warnings by 4), 20 townships of a few grids each and a low backlog threshold: many
#: grids lag and townships run out of spare members.
_HEAVY = ("scenario=small", "scenario.townships_per_county=20", "duration_h=48",
          "response.command.backlog_min=10", "response.storm_work.relocate.minutes_per_unit=200",
          "response.storm_work.warn.people=4")


@pytest.mark.parametrize("command", [
    {"max_transfer": 20, "relocate_people": 20},
    {"max_transfer": 3, "relocate_people": 6, "township_transfer": False},
], ids=["township-and-county", "county-alone"])
def test_every_review_sends_whom_the_brute_force_sends(command) -> None:
    """A heavy storm (:data:`_HEAVY`): at every review the sends (person, from, to, level) are
    those of :func:`_brute_force_review` worked out just before it, at both levels (the county
    alone too: its donors are of other townships only). (Ties of load: the next test.)"""
    reviews: list[tuple[list, list]] = []

    def observe(ctx) -> None:
        cmd = ctx.command
        review, send = cmd.review, cmd._send

        def _review() -> None:
            expected = _brute_force_review(cmd)
            got: list = []

            def _send(p: int, src: int, dst: int, level: str) -> None:
                got.append((p, src, dst, level))
                send(p, src, dst, level)

            cmd._send = _send
            review()
            cmd._send = send
            reviews.append((expected, got))

        cmd.review = _review

    s = settings_for(*_HEAVY, "output.figures=false", "output.progress=false",
                     "output.events_log=false",
                     f"response.storm_work.relocate.people={command['relocate_people']}",
                     *(f"response.command.{k}={v}" for k, v in command.items()
                       if k != "relocate_people"))
    simulate(s, observe=observe)
    assert len(reviews) == 48 * 2 - 1  # every 30 min, up to (not at) the end
    for expected, got in reviews:
        assert got == expected
    levels = {level for _, got in reviews for *_, level in got}
    assert levels == ({"township", "county"} if command.get("township_transfer", True)
                      else {"county"})
    assert sum(len(got) for _, got in reviews) >= 10


def test_the_donor_walk_is_the_sort_by_load_road_time_and_grid() -> None:
    """:meth:`Command._first_donors` on random hand-made unit lists (loads of few values, so
    many ties; road times of few values, so ties of those too, broken by grid; donors with
    nobody spare left; a township skipped): the first ``want`` of the plain sort by (load, road
    time, grid) of the donors with someone spare not of that township; and nothing past the
    walked front is needed (the same answer from that front alone)."""
    rng = np.random.default_rng(13)
    for _ in range(300):
        n = int(rng.integers(1, 30))
        grid = sorted(rng.choice(1000, size=n, replace=False).tolist())
        loads = rng.choice([0.0, 0.25, 0.5, 1.0], size=n).tolist()
        twn = rng.integers(0, 3, size=n).tolist()
        end = [1] * n
        nxt = rng.choice([0, 1], size=n, p=[0.7, 0.3]).tolist()  # 1: nobody spare left
        trip = {x: float(rng.choice([10.0, 20.0, 30.0])) for x in grid}
        g, want = int(rng.integers(1000, 2000)), int(rng.integers(1, 8))
        skip = int(rng.integers(-1, 3))  # -1: no township skipped (the township level)

        def road(_self, a: int, b: int, trip=trip, g=g) -> float:
            assert b == g
            return trip[a]

        fake = type("Cmd", (), {"_trip_s": road})()
        lst = sorted(range(n), key=lambda k: (loads[k], grid[k]))
        expected = sorted((k for k in lst if nxt[k] < end[k] and twn[k] != skip),
                          key=lambda k: (loads[k], trip[grid[k]], grid[k]))[:want]
        got, walked = Command._first_donors(fake, lst, g, want, skip, grid, loads, twn, nxt, end)
        assert got == expected
        front, _ = Command._first_donors(fake, lst[:walked], g, want, skip, grid, loads, twn,
                                         nxt, end)
        assert front == expected
