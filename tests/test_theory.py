"""The simulator against theory: Erlang C, Little's law, conservation of stock and incidents.

Each test asserts a formula with a stated tolerance, never a number the simulator produced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from handmade import shipped
from params import changed, one_grid

from gridsim.engine.dispatch import Request
from gridsim.engine.incident import Incident, RunContext
from gridsim.engine.simulation import RunResult, build, simulate
from gridsim.model.dists import Dist
from gridsim.model.params import RunConfig
from gridsim.model.theory import erlang_b, erlang_c


def test_erlang_formulas_match_reference_values() -> None:
    # docs/references.md: M/M/3, λ=0.2, μ=0.1 → P(wait)=0.4444, Wq=4.444; M/M/1 λ=0.5 μ=1 → Wq=1
    p, wq = erlang_c(0.2, 0.1, 3)
    assert p == pytest.approx(0.4444, abs=1e-4)
    assert wq == pytest.approx(4.444, abs=1e-3)
    assert erlang_c(0.5, 1.0, 1)[1] == pytest.approx(1.0)
    assert erlang_b(2, 3) == pytest.approx(0.2105, abs=1e-4)
    assert erlang_b(5, 8) == pytest.approx(0.0700, abs=1e-4)


def _queue_waits(c: int, lam_per_min: float, mean_service_min: float, hours: float,
                 seeds: range, warmup_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-replication mean wait (s) and share waiting, from the one-grid M/M/c set-up."""
    means, shares = [], []
    scenario = None
    for seed in seeds:
        s = one_grid(c, duration_h=hours, rate_per_day=lam_per_min * 1440.0,
                     handling=Dist.exponential(mean_service_min * 60.0), seed=seed)
        if scenario is None:
            scenario = build(s)
            assert scenario.roster.n == c + 1  # c commanders + the grid leader (no rescuer)
        r = simulate(s, scenario=scenario)
        w = np.array([i.response_s for i in r.incidents
                      if i.occurred_s >= warmup_h * 3600 and math.isfinite(i.first_on_scene_s)])
        means.append(w.mean())
        shares.append(np.mean(w > 0))
    return np.array(means), np.array(shares)


@pytest.mark.slow
def test_one_grid_matches_erlang_c() -> None:
    """c = 3 commanders, λ = 0.2/min, μ = 0.1/min (ρ = 2/3). Theory: P(wait) = 0.4444,
    Wq = 4.444 min. About 8 × 24,000 customers: the 95 % interval of the mean wait is about ±3 %;
    we accept 3 standard errors of the replication means, at most 6 % of Wq."""
    p_theory, wq_theory = erlang_c(0.2, 0.1, 3)
    means, shares = _queue_waits(3, 0.2, 10.0, hours=2000, seeds=range(1, 9), warmup_h=20)
    wq = means.mean() / 60.0
    se = means.std(ddof=1) / math.sqrt(len(means)) / 60.0
    assert abs(wq - wq_theory) <= max(3 * se, 0.01 * wq_theory)
    assert abs(wq - wq_theory) <= 0.06 * wq_theory
    p = shares.mean()
    p_se = shares.std(ddof=1) / math.sqrt(len(shares))
    assert abs(p - p_theory) <= max(3 * p_se, 0.005)
    assert abs(p - p_theory) <= 0.02


@pytest.mark.slow
def test_one_grid_matches_mm1() -> None:
    """M/M/1 with λ = 0.5/min, μ = 1/min: Wq = 1 min, P(wait) = ρ = 0.5. 4 × ~7,000
    customers (a replication's mean wait has a 5 % standard deviation at this length, measured
    over 12 of them); tolerance 3 standard errors of the replication means, at most 10 %."""
    _, wq_theory = erlang_c(0.5, 1.0, 1)
    means, shares = _queue_waits(1, 0.5, 1.0, hours=240, seeds=range(1, 5), warmup_h=5)
    wq = means.mean() / 60.0
    se = means.std(ddof=1) / math.sqrt(len(means)) / 60.0
    assert abs(wq - wq_theory) <= max(3 * se, 0.01)
    assert abs(wq - wq_theory) <= 0.10 * wq_theory
    assert shares.mean() == pytest.approx(0.5, abs=0.02)


@dataclass
class _Observed:
    result: RunResult
    requests: list[Request]


def _observed(s: RunConfig) -> _Observed:
    """Run ``s``, recording every request for people as the engine makes it."""
    requests: list[Request] = []

    def observe(ctx: RunContext) -> None:
        ask = ctx.dispatcher.request

        def recorded(*args, **kwargs) -> Request:  # type: ignore[no-untyped-def]
            req = ask(*args, **kwargs)
            requests.append(req)
            return req

        ctx.dispatcher.request = recorded  # type: ignore[method-assign]

    return _Observed(simulate(s, observe=observe), requests)


@pytest.fixture(scope="module")
def rainstorm() -> _Observed:
    """The small scenario through the day-long rainstorm, rates × 25: warnings, forward command,
    escalations, some 240 incidents (most of them rain-driven floods now that rates follow
    exposure), a few dozen still open at the end."""
    return _observed(shipped("scenario=small", "hazard=rainstorm_day", "duration_h=48",
                             "output.figures=false", "output.progress=false",
                             "hazard.rate_scale=25"))


@pytest.fixture(scope="module")
def overloaded() -> _Observed:
    """One commander, incidents twice as fast as they can be handled: a queue at the end."""
    return _observed(one_grid(1, duration_h=12, rate_per_day=288.0,
                              handling=Dist.exponential(600.0)))


def test_littles_law_holds_exactly_over_the_horizon(rainstorm: _Observed) -> None:
    """L = λW: the time-average number of open incidents (integrated as they open and close)
    equals the arrival rate times the mean time in system, with times truncated at the end of
    the run (an identity for a finite horizon: tolerance 1e-6 relative)."""
    r = rainstorm.result
    T = r.duration_s
    assert len(r.incidents) > 200
    # some truncated (about 10: residents' own calls bring departments that take over)
    assert sum(not math.isfinite(i.resolved_s) for i in r.incidents) >= 5
    soj = [min(i.resolved_s if math.isfinite(i.resolved_s) else T, T) - i.occurred_s
           for i in r.incidents]
    lam = len(r.incidents) / T
    L = r.ctx.open_incidents.mean(T)
    assert L == pytest.approx(lam * np.mean(soj), rel=1e-6)


def test_littles_law_long_run_untruncated() -> None:
    """Over a long calm run, L from the level record matches λW computed from the resolved
    incidents alone within 3 % (edge effects of a 30-day horizon are well under that). Rates
    × 150: the calm rates per unit of exposure give the small scenario about 0.1 incidents a
    day, so this is about 450 incidents (as × 20 of the old per-grid rates gave)."""
    s = shipped("hazard=calm", "duration_h=720", "scenario=small", "output.figures=false",
                "output.progress=false", "output.events_log=false", "hazard.rate_scale=150")
    r = simulate(s)
    T = r.duration_s
    done = [i for i in r.incidents if math.isfinite(i.resolved_s)]
    assert len(done) > 300
    lam = len(r.incidents) / T
    W = np.mean([i.resolved_s - i.occurred_s for i in done])
    assert r.ctx.open_incidents.mean(T) == pytest.approx(lam * W, rel=0.03)


@pytest.mark.parametrize("borrow", [True, False])
def test_stock_is_conserved_and_never_negative(borrow: bool) -> None:
    """Tiny supply points force shortages, borrowing (or, without it, depot fetches) and county
    deliveries: initial + delivered = on hand + consumed + in transit, no stock ever goes
    negative, and what was used or went unmet is what the incidents that reached their supplies
    needed (the catalogue's units for each)."""
    s = shipped("scenario=small", "duration_h=96", "output.figures=false",
                "output.progress=false", "output.events_log=false", "hazard.rate_scale=6",
                "response.storm_work.enabled=false")  # incidents' supplies only (no sandbag task)
    s = changed(s, {
        "scenario.supplies.grid_stock": {
            kind: {k: 1 if k != "sandbag" else 20 for k in items}
            for kind, items in s.scenario.supplies.grid_stock.items()},
        "scenario.supplies.depot_stock_per_grid": {"alarm": 0, "extinguisher": 1,
                                                   "first_aid_kit": 0, "sandbag": 10},
        "response.supply.county_lead_time": Dist.fixed(3600.0),
        "response.supply.borrow_from_neighbours": borrow})
    r = simulate(s)
    led = r.ctx.supply.ledger
    assert led.shortages > 0
    assert (led.borrowed > 0) if borrow else (led.borrowed == 0 and led.fetched_from_depot > 0)
    assert led.delivered_from_county > 0
    points = r.scenario.supplies
    assert led.initial_total == int(points.grid_stock.sum() + points.depot_stock.sum())
    assert led.balance() == 0
    assert led.in_transit == int(led.on_order.sum())
    assert led.min_stock_seen >= 0
    assert led.stock.min() >= 0 and led.depot.min() >= 0
    # units taken (consumed) or missing (unmet), against what the incidents needed: every
    # incident whose handling began took its supplies first; one still waiting for borrowed
    # or fetched units at the end had taken them too, once its crew was on scene
    need = {name: sum(h.supplies.values()) for name, h in s.catalogue.hazards.items()}
    started = sum(need[i.hazard] for i in r.incidents if math.isfinite(i.handling_start_s))
    on_scene = sum(need[i.hazard] for i in r.incidents if math.isfinite(i.crew_on_scene_s))
    used = led.consumed + r.ctx.supply.unmet_units
    assert started > 0
    assert started <= used <= on_scene


def test_every_incident_resolved_or_open_and_stages_in_order(rainstorm: _Observed) -> None:
    r = rainstorm.result
    stages = ("occurred_s", "notified_s", "dispatched_s", "crew_on_scene_s",
              "handling_start_s", "resolved_s")
    n_resolved = 0
    assert len(r.incidents) > 200
    for i in r.incidents:
        times = [getattr(i, f) for f in stages]
        reached = [t for t in times if math.isfinite(t)]
        # stages are reached in order and none is skipped
        assert times[: len(reached)] == reached
        assert reached == sorted(reached)
        if math.isfinite(i.first_on_scene_s):
            assert i.notified_s <= i.first_on_scene_s <= i.crew_on_scene_s
        if math.isfinite(i.resolved_s):
            n_resolved += 1
            assert i.resolved_by in ("grid", "department")
            assert i.resolved_s <= r.duration_s
    by = {b: sum(i.resolved_by == b for i in r.incidents) for b in ("grid", "department")}
    assert by["grid"] > 50 and by["department"] > 0  # both endings were exercised
    open_now = r.ctx.open_incidents.level
    assert 0 < n_resolved < len(r.incidents)
    assert n_resolved + open_now == len(r.incidents)


def _release_s(i: Incident) -> float:
    """When an incident lets its crew go: at its end if the grid handled it; when a department
    takes over (its arrival, or the start of handling if the department was there first),
    resolved by then or not; inf if neither has happened."""
    if i.resolved_by == "grid":
        return i.resolved_s
    if math.isfinite(i.department_arrived_s) and math.isfinite(i.handling_start_s):
        return max(i.department_arrived_s, i.handling_start_s)
    return math.inf


@pytest.mark.parametrize("case", ["rainstorm", "overloaded"])
def test_busy_at_the_end_means_on_an_open_incident_or_on_the_way_back(
        case: str, request: pytest.FixtureRequest) -> None:
    """Nobody is left busy who is not on an incident that still holds them or on the way back
    (released, plus the outbound travel time, after the end), and everybody who is, is busy.
    Each person's last assignment decides; requests still waiting belong to open incidents;
    people held by a post task (storm work, tests/test_storm.py) are left out."""
    run: _Observed = request.getfixturevalue(case)
    r = run.result
    T = r.duration_s
    by_id = {i.id: i for i in r.incidents}
    last: dict[int, tuple[float, float]] = {}  # person -> (assigned at, back at)
    for req in run.requests:
        back = _release_s(by_id[req.incident])
        for a in req.assigned:
            if a.person not in last or a.assigned_s >= last[a.person][0]:
                last[a.person] = (a.assigned_s, back + a.travel_s)
    expected = {p for p, (_, back) in last.items() if back >= T}
    d = r.ctx.dispatcher  # people held by a post's task (storm work) are busy there instead
    busy = set(np.flatnonzero(d.busy & (d.held_priority < 0)).tolist())
    assert expected  # some were still out at the end
    assert busy == expected
    pending = r.ctx.dispatcher.pending
    if case == "overloaded":
        assert len(pending) > 5 and last.keys() == {1}  # the commander is person 1
    else:
        assert len(last) > 100
    assert all(not math.isfinite(by_id[req.incident].resolved_s) for req in pending)
    assert all(req.open and not req.assigned for req in pending)
