"""Common random numbers that hold across variants (docs/crn.md): keyed draws.

Call-up delays (:mod:`gridsim.engine.dispatch`) and a member's alert draws
(:mod:`gridsim.engine.switch`) are functions of what they are drawn for (incident, person,
alert number), not of how many draws came before: a variant that changes one dispatch, or the
team size, leaves every other draw as it was. Also the en-route rule: a member on the way to
the post who could be called up in peacetime is sent at the sooner of leaving for the post and
a fresh call-up.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import simpy
from handmade import shipped
from params import ZERO, add_incident, add_warning, one_grid
from scipy import stats

from gridsim.app.hydra_app import compose_settings
from gridsim.engine.dispatch import Request
from gridsim.engine.incident import RunContext
from gridsim.engine.recorder import EventLog
from gridsim.engine.simulation import simulate
from gridsim.engine.switch import LEAD_ORDER, ModeSwitch, person_keys
from gridsim.model.dists import Dist
from gridsim.model.people import Roster, role_bit
from gridsim.model.region import Region
from gridsim.model.streams import Streams, keyed_hash, keyed_uniform, keyed_uniforms, stream_key
from gridsim.place.scenario import build_scenario

N = 100_000


# -- keyed uniforms ----------------------------------------------------------------------------
def test_keyed_uniforms_are_uniform() -> None:
    u = keyed_uniforms(20250718, np.arange(N))
    assert stats.kstest(u, "uniform").pvalue > 0.001
    assert np.all((u > 0.0) & (u < 1.0))
    # in two dimensions too (ids of a (person, draw) table), and for negative ids
    u2 = keyed_uniforms(7, np.arange(-N // 2, N // 2)[:, None], np.arange(3)).ravel()
    assert stats.kstest(u2, "uniform").pvalue > 0.001


def test_neighbouring_ids_are_uncorrelated() -> None:
    u = keyed_uniforms(3, np.arange(N + 1))
    bound = 4.0 / np.sqrt(N)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < bound
    # neighbours in a later id (the draw index of one person), and across keys 0 and 1
    v = keyed_uniforms(3, 11, np.arange(N)[:, None], np.arange(2))
    assert abs(np.corrcoef(v[:, 0], v[:, 1])[0, 1]) < bound
    w0, w1 = keyed_uniforms(0, np.arange(N)), keyed_uniforms(1, np.arange(N))
    assert abs(np.corrcoef(w0, w1)[0, 1]) < bound


def test_keyed_uniforms_are_deterministic_and_differ_by_key_and_ids() -> None:
    ids = np.arange(1000)
    a = keyed_uniforms(42, ids, 5)
    assert np.array_equal(a, keyed_uniforms(42, ids, 5))
    assert np.array_equal(a[::-1], keyed_uniforms(42, ids[::-1], 5))  # not an order of draws
    assert np.mean(a == keyed_uniforms(43, ids, 5)) < 0.01
    assert np.mean(a == keyed_uniforms(42, ids, 6)) < 0.01
    assert np.mean(a == keyed_uniforms(42, 5, ids)) < 0.01  # the order of the ids matters
    # the scalar path is the same function
    assert [keyed_uniform(42, i, 5) for i in range(10)] == a[:10].tolist()
    assert keyed_uniform(2**64 - 1, -3, 2**63) == float(keyed_uniforms(2**64 - 1, -3,
                                                                       np.uint64(2**63)))
    # uint64 ids (a person key) are their own bit pattern
    big = keyed_hash(0, np.array([2**64 - 1], dtype=np.uint64))
    assert big[0] == keyed_hash(0, -1)
    with pytest.raises(TypeError):
        keyed_uniforms(1, np.array([0.5]))


def test_stream_key_comes_from_the_named_stream() -> None:
    assert stream_key(Streams(7).fresh("dispatch")) == stream_key(Streams(7).fresh("dispatch"))
    assert stream_key(Streams(7).fresh("dispatch")) != stream_key(Streams(7).fresh("switch"))
    assert stream_key(Streams(7).fresh("dispatch")) != stream_key(Streams(8).fresh("dispatch"))


# -- a variant changing one dispatch leaves the other call-ups' draws ---------------------------
def _requests(*overrides: str) -> tuple[list[Request], RunContext]:
    reqs: list[Request] = []

    def observe(ctx: RunContext) -> None:
        d = ctx.dispatcher
        ask = d.request

        def watched(*args, **kwargs) -> Request:  # type: ignore[no-untyped-def]
            req = ask(*args, **kwargs)
            reqs.append(req)
            return req

        d.request = watched  # type: ignore[method-assign]

    # calm weather at a rate that gives ~130 incidents in 8 h, only grade I switching a grid
    # (so most grids never switch), a red warning over township 0 from 2 h to 7 h
    s = shipped("scenario=small", "hazard=calm", "hazard.rate_scale=2000", "duration_h=8",
                "seed=5", "response.switch.trigger_grade=I",
                "output.figures=false", "output.progress=false",
                "output.events_log=false",
                "hazard.warnings=[{name: t0_red, level: red, start_h: 2, duration_h: 5,"
                " townships: [0]}]", *overrides)
    r = simulate(s, observe=observe)
    return reqs, r.ctx


@pytest.mark.slow
def test_a_slower_assembly_leaves_other_incidents_call_ups_unchanged() -> None:
    """Assembly × 3 in one township: the members there arrive later, so some of its
    incidents are answered by other people. Every call-up from home of a person whose grid
    switches in neither run, for the same incident at the same moment, has the same delay."""
    fast, ctx_fast = _requests("response.switch.assembly_mobilisation.median_s=300")
    slow, ctx_slow = _requests("response.switch.assembly_mobilisation.median_s=900")
    switched = set(ctx_fast.switch.ep_grid) | set(ctx_slow.switch.ep_grid)
    home = ctx_fast.scenario.roster.grid

    def call_ups(reqs: list[Request]) -> dict[tuple[int, int, float], float]:
        return {(r.incident, a.person, a.assigned_s): a.mobilisation_s for r in reqs
                for a in r.assigned if not a.from_post and int(home[a.person]) not in switched}

    a, b = call_ups(fast), call_ups(slow)
    both = a.keys() & b.keys()
    assert len(both) > 100
    assert all(a[k] == b[k] for k in both), [(k, a[k], b[k]) for k in both if a[k] != b[k]][:5]
    # the variant did change dispatches: some incident got other people or other delays
    crews_fast = {r.incident: [(x.person, x.mobilisation_s) for x in r.assigned] for r in fast}
    crews_slow = {r.incident: [(x.person, x.mobilisation_s) for x in r.assigned] for r in slow}
    assert crews_fast.keys() == crews_slow.keys()
    assert any(crews_fast[i] != crews_slow[i] for i in crews_fast)
    assert not np.array_equal(ctx_fast.switch.latencies()[1], ctx_slow.switch.latencies()[1])


# -- a larger team leaves the existing members' alert draws -------------------------------------
def _roster(workers: int) -> Roster:
    """Two grids by hand: a leader, two commanders, ``workers`` grid workers and three party
    members each, all at the grid centre."""
    roles: list[int] = []
    grid: list[int] = []
    for g in range(2):
        mine = ([role_bit("grid_leader") | role_bit("party_member")]
                + [role_bit("commander") | role_bit("party_member")] * 2
                + [role_bit("grid_worker")] * workers + [role_bit("party_member")] * 3)
        roles += mine
        grid += [g] * len(mine)
    n = len(grid)
    counts = np.bincount(grid, minlength=2)
    return Roster(grid=np.array(grid, dtype=np.int32), roles=np.array(roles, dtype=np.uint8),
                  categories=np.full(n, 1, dtype=np.uint8), x_m=np.zeros(n), y_m=np.zeros(n),
                  away_in_work_hours=np.zeros(n, dtype=bool),
                  by_grid_indptr=np.concatenate([[0], np.cumsum(counts)]))


def _alerted(workers: int, region: Region, grids: list[int]) -> tuple[Roster, ModeSwitch]:
    roster = _roster(workers)
    s = one_grid(1, duration_h=1.0)
    sw_cfg = replace(s.response.switch, alert_delay=Dist.lognormal(120.0, 0.6),
                     assembly_mobilisation=Dist.lognormal(300.0, 0.6))
    env = simpy.Environment()
    sw = ModeSwitch(env, region, roster, sw_cfg, s.response.dispatch,
                    Streams(3).get("switch"), EventLog(enabled=False),
                    np.zeros(roster.n, dtype=bool))
    sw.hold(np.array(grids), "test")
    return roster, sw


def _two_grid_region() -> Region:
    s = one_grid(1, duration_h=1.0)
    sc = replace(s.scenario, urban_grids=2)
    return build_scenario(sc).region


def test_person_keys_ignore_other_roles_counts() -> None:
    small, big = _roster(0), _roster(4)
    ks, kb = person_keys(small), person_keys(big)
    lead_of = {r: i for i, r in enumerate(LEAD_ORDER)}
    assert lead_of["grid_worker"] == 2
    keep = (big.roles & role_bit("grid_worker")) == 0  # everybody but the new workers
    assert np.array_equal(ks, kb[keep])
    assert len(np.unique(kb)) == big.n


def test_more_grid_workers_leave_the_others_alert_draws() -> None:
    """Adding 4 grid workers a grid: the leaders, commanders and party members leave for the
    post at the same moments (their alert and mobilisation draws are theirs)."""
    region = _two_grid_region()
    small, sw_small = _alerted(0, region, [0, 1])
    big, sw_big = _alerted(4, region, [0, 1])
    keep = (big.roles & role_bit("grid_worker")) == 0
    assert np.array_equal(sw_small.leave_at, sw_big.leave_at[keep])
    assert np.all(np.isfinite(sw_small.leave_at))
    assert len(np.unique(sw_small.leave_at)) == small.n  # drawn, not one fixed delay
    # a batch of one grid gives that grid's members the same draws as a batch of both
    _, sw_one = _alerted(4, region, [1])
    in_1 = big.grid == 1
    assert np.array_equal(sw_one.leave_at[in_1], sw_big.leave_at[in_1])
    assert sw_one.planned_ready_s[1] == sw_big.planned_ready_s[1]


# -- en-route members can be phoned ----------------------------------------------------------
def _en_route_run(mobilisation_s: float, leader_peace: bool = True) -> float:
    """One grid of zero area; a warning at 1 h alerts its leader and commander (alert 120 s
    + assembly 300 s: they leave for the post at 1 h + 420 s, at the centre, so travel 0);
    an incident at 1 h + 60 s is dispatched at once. Returns its first arrival on scene."""
    s = one_grid(1, duration_h=2.0)
    d = s.response.dispatch
    mob = dict.fromkeys(d.mobilisation, Dist.fixed(mobilisation_s))
    # (the commander is a party member too: only grid workers leaves them out)
    roles = list(d.peace_roles) if leader_peace else ["grid_worker"]
    s = replace(s, response=replace(s.response, dispatch=replace(
        d, mobilisation=mob, peace_roles=roles, en_route_dispatch=True, night_factor=1.0)))
    s = add_warning(s, 1.0, 0.5)
    s = add_incident(s, "test", 0, 1.0 + 60.0 / 3600.0)
    r = simulate(s)
    (inc,) = r.incidents
    assert inc.mode_at_notice == "ALERT"
    return inc.first_on_scene_s - inc.occurred_s


def test_an_en_route_member_is_phoned_when_a_call_up_is_sooner() -> None:
    """Incident at 3,660 s; the commander would leave for the post at 3,600 + 420 = 4,020 s
    (360 s after the incident). A call-up of 100 s is sooner: on scene 100 s after; one of
    500 s is later: on scene when leaving for the post, 360 s after. A commander whose role
    is not called in peacetime waits for the post's leave even if a call-up would be
    sooner."""
    assert _en_route_run(100.0) == pytest.approx(100.0, abs=1e-6)
    assert _en_route_run(500.0) == pytest.approx(360.0, abs=1e-6)
    assert _en_route_run(100.0, leader_peace=False) == pytest.approx(360.0, abs=1e-6)


def test_zero_call_up_is_the_no_warning_answer() -> None:
    """The phone rule never makes a member in ALERT slower than in PEACE: with a zero call-up
    delay the answer is immediate, as without the warning."""
    assert _en_route_run(0.0) == pytest.approx(0.0, abs=1e-6)
    assert ZERO.ppf(0.5) == 0.0


def test_more_grid_workers_leave_everybody_elses_home_and_job_as_they_were() -> None:
    """The synthetic roster draws each person's home and away-at-work flag keyed on who they are
    (grid, kind of member, rank), so a team-size variant moves nobody else (before, one draw
    over the whole roster shifted every later person's home with each added worker)."""
    rosters = {}
    for w in (0, 3):
        s, _ = compose_settings(["scenario=small", f"scenario.people.grid_workers_per_grid={w}"])
        rosters[w] = build_scenario(s.scenario, reuse=False).roster
    a, b = rosters[0], rosters[3]
    assert b.n == a.n + 3 * len(a.by_grid_indptr[:-1])
    keep = (b.roles & role_bit("grid_worker")) == 0
    assert np.array_equal(a.x_m, b.x_m[keep]) and np.array_equal(a.y_m, b.y_m[keep])
    assert np.array_equal(a.away_in_work_hours, b.away_in_work_hours[keep])
    assert np.array_equal(a.roles, b.roles[keep]) and np.array_equal(a.grid, b.grid[keep])
    # the workers themselves get homes of their own: not all at one spot, inside their grids
    workers = ~keep
    assert len(np.unique(b.x_m[workers])) == int(workers.sum())
