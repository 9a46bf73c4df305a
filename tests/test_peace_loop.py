"""The peacetime loop engine (gridsim.model.peace, gridsim.engine.peacetime) on hand-built
models: queueing theory (Erlang C, Little's law), conservation, the steady state, an exact
timeline, and what each lever moves."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from gridsim.engine.peacetime import PeaceLoop, _Rows
from gridsim.model.dists import Dist
from gridsim.model.levers import LeverPhase, Levers
from gridsim.model.peace import CHANNEL_LABELS, PeaceModel, StageModel, erlang_c, periodic_unfound
from gridsim.model.validate import validate
from gridsim.model.vocab import HAZARD_CLASSES, LOOP_STAGES
from tests.params import one_grid

C = len(HAZARD_CLASSES)
DAY = 86400.0
WORK = LOOP_STAGES.index("work")


def _stage(name: str, servers: int | list[int], time: Dist | None, *, n_grids: int = 1,
           pool_of_grid: list[int] | None = None, work: tuple[Dist, ...] = ()) -> StageModel:
    pool = np.array(pool_of_grid if pool_of_grid is not None else range(n_grids), np.int64)
    n_pools = int(pool.max()) + 1
    srv = np.array(servers if isinstance(servers, list) else [servers] * n_pools, np.int64)
    mean = (np.array([w.mean() / DAY for w in work]) if time is None
            else np.full(C, time.mean() / DAY))
    return StageModel(name=name, actor="committee", pool_of_grid=pool, n_pools=n_pools,
                      servers=srv, time=time, mean_days=mean)


def hand_model(*, n_grids: int = 1, lam: np.ndarray, find: np.ndarray,
               times: dict[str, Dist], work: Dist | tuple[Dist, ...],
               servers: dict[str, int] | None = None, rework: float | np.ndarray = 0.0,
               deadline: float | np.ndarray = 7.0, pool_of_grid: dict[str, list[int]] | None = None,
               raises: np.ndarray | None = None, video: np.ndarray | None = None,
               inspection: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
               ) -> PeaceModel:
    """A PeaceModel written by hand: ``lam`` (C, G) new a day; ``find`` (C,) the snapshot find
    rate; stage times and servers; ``inspection`` = (find_prob (C,), person-days (G,), cover per
    person-day (G,), false-positive person-days per unit of video factor (G,))."""
    works = work if isinstance(work, tuple) else (work,) * C
    stages = []
    for name in LOOP_STAGES:
        n_srv = (servers or {}).get(name, 1)
        pog = (pool_of_grid or {}).get(name)
        stages.append(_stage(name, n_srv, None if name == "work" else times[name],
                             n_grids=n_grids, pool_of_grid=pog, work=works))
    zeros_cg = np.zeros((C, n_grids))
    ins = inspection or (np.zeros(C), np.zeros(n_grids), np.zeros(n_grids), np.zeros(n_grids))
    m = PeaceModel(
        n_grids=n_grids, lam=np.asarray(lam, float), inspect_find_prob=ins[0],
        inspect_person_days=ins[1], inspect_cover_per_person_day=ins[2], fp_person_days=ins[3],
        snapshot_per_day=np.asarray(find, float), door_per_day=zeros_cg,
        video_per_day=zeros_cg if video is None else video,
        inspection_period_days=0.0, inspection_active_days=0.0,
        deadline_days=np.broadcast_to(np.asarray(deadline, float), (C,)).copy(),
        rework_share=np.broadcast_to(np.asarray(rework, float), (C,)).copy(), work=works,
        stages=tuple(stages), raises=np.zeros((1, C)) if raises is None else raises,
        hazard_names=("t",) if raises is None else tuple(f"t{i}" for i in range(len(raises))),
        baseline_open=zeros_cg)
    object.__setattr__(m, "baseline_open", m.steady_open(Levers.neutral(n_grids)))
    return m


def _one_class(rate: float, c: int = 0, n_grids: int = 1) -> np.ndarray:
    lam = np.zeros((C, n_grids))
    lam[c] = rate
    return lam


ZERO = Dist.fixed(0.0)
INSTANT = {s: ZERO for s in LOOP_STAGES}
FAST = np.full(C, 1e6)  # found at once


def _run(m: PeaceModel, days: float, dt: float, seed: int = 1,
         phases: list[LeverPhase] | None = None) -> PeaceLoop:
    loop = PeaceLoop.start(m, phases or [], np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1000)
    for _ in range(round(days / dt)):
        loop.step(dt, rng)
    return loop


def _erlang_c_textbook(c: int, a: float) -> float:
    """P(wait) of M/M/c: (a^c / c!) / (1 − ρ) over Σ_{k<c} a^k / k! + that."""
    rho = a / c
    top = a ** c / math.factorial(c) / (1.0 - rho)
    return top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)


# -- queueing theory -----------------------------------------------------------------------------
def test_erlang_c_matches_the_textbook_formula() -> None:
    for c, a in ((1, 0.5), (2, 1.2), (5, 3.9), (30, 21.0)):
        assert erlang_c(np.array([c]), np.array([a]))[0] == pytest.approx(
            _erlang_c_textbook(c, a), rel=1e-9)


def test_work_stage_meets_erlang_c_and_littles_law() -> None:
    """40 independent grids, each 2 servers at work, exponential work of mean 0.8 day, 1.5
    cases a day (found at once; the other stages take no time): P(wait) = C(2, 1.2) = 0.45 and
    the mean wait C / (c μ − λ) = 0.45 day. About 30,000 cases (seeded); tolerances 8 % on the
    wait, 5 % on P(wait) (four seeds gave 0.42-0.47 and 0.44-0.46)."""
    lam, mean, c, n = 1.5, 0.8, 2, 40
    m = hand_model(n_grids=n, lam=_one_class(lam, n_grids=n), find=FAST, times=INSTANT,
                   work=Dist.exponential(mean * DAY), servers={"work": c})
    loop = _run(m, 500.0, 5.0)
    p_wait = _erlang_c_textbook(c, lam * mean)
    assert p_wait == pytest.approx(0.45)
    wq = p_wait / (c / mean - lam)
    rows = {(r["stage"], r["hazard_class"]): r for r in loop.stage_rows()}
    work = rows[("work", "all")]
    assert work["mean_wait_days"] == pytest.approx(wq, rel=0.08)
    waits = np.concatenate([w for _, w in loop.stats.waits[WORK]])
    assert float(np.mean(waits > 0)) == pytest.approx(p_wait, rel=0.05)
    # Little's law per stage: time-average number = arrival rate × mean time in the stage
    for stage in ("work", "rate"):
        r = rows[(stage, "all")]
        assert r["mean_in_stage"] == pytest.approx(
            r["arrivals"] / loop.now_day * r["mean_time_days"], rel=0.03)
    assert rows[("work", "all")]["mean_time_days"] == pytest.approx(wq + mean, rel=0.08)


# -- conservation --------------------------------------------------------------------------------
def test_conservation_per_class() -> None:
    lam = np.zeros((C, 3))
    lam[0], lam[3], lam[5] = 0.8, 0.3, 0.05
    find = np.array([0.3, 0.0, 0.0, 0.02, 0.0, 0.1])
    times = {s: Dist.exponential(0.5 * DAY) for s in LOOP_STAGES}
    m = hand_model(n_grids=3, lam=lam, find=find, times=times, work=Dist.exponential(DAY),
                   rework=0.2, deadline=3.0, pool_of_grid={"dispatch": [0, 0, 1]},
                   servers={"work": 2, "dispatch": 3})
    removal = Levers(new_factor=np.ones((C, 3)), find_extra_per_day=np.zeros((C, 3)),
                     remove_share=np.full((C, 3), 0.5))
    loop = _run(m, 120.0, 0.25, phases=[LeverPhase(60.0, removal)])
    unfound = loop.unfound().sum(axis=1)
    in_loop = np.bincount(loop.rows.cls, minlength=C)
    found = loop.found_by.sum(axis=0)
    assert loop.new_by_class.sum() > 0 and found.sum() > 0 and loop.removed_loop.sum() > 0
    np.testing.assert_array_equal(loop.new_by_class,
                                  found + unfound - loop.unfound_start + loop.removed_unfound)
    np.testing.assert_array_equal(loop.loop_start + found,
                                  loop.rectified_by_class + in_loop + loop.removed_loop)
    in_loop_run = np.bincount(loop.rows.cls[loop.rows.in_run], minlength=C)
    np.testing.assert_array_equal(found, loop.rectified_in_run_by_class + in_loop_run
                                  + loop.removed_loop_in_run)
    np.testing.assert_array_equal(loop.stock_end().sum(axis=1), unfound + in_loop)
    assert loop.found_total == sum(loop.found_by_channel().values())
    rows = [r for r in loop.stage_rows() if r["hazard_class"] == "all"]
    # every stage passes its cases on: what entered a stage entered the next, or is still there
    for a, b in itertools.pairwise(rows):
        if b["stage"] != "work":
            assert a["completed"] <= b["arrivals"]


# -- the steady state ----------------------------------------------------------------------------
@pytest.mark.slow
def test_long_run_mean_open_stock_is_steady_open() -> None:
    """Exponential stages, the same work time for both classes and a village pool: a Jackson
    network, so steady_open is exact; the run's time-average open stock meets it within 6 % and
    the incident multipliers average 1 (± 0.04; three other seeds gave 0.96-1.04)."""
    k = 20  # twenty independent villages of two grids each
    lam = np.zeros((C, 2 * k))
    lam[0] = [0.6, 0.4] * k
    lam[2] = [0.2, 0.5] * k
    find = np.array([0.2, 0.0, 0.5, 0.0, 0.0, 0.0])
    times = {s: Dist.exponential(0.6 * DAY) for s in LOOP_STAGES}
    raises = np.zeros((1, C))
    raises[0, 0], raises[0, 2] = 0.5, 0.3
    village = [g // 2 for g in range(2 * k)]
    m = hand_model(n_grids=2 * k, lam=lam, find=find, times=times, work=Dist.exponential(DAY),
                   pool_of_grid={"dispatch": village, "work": village},
                   servers={"work": 3, "dispatch": 2}, rework=0.1, raises=raises)
    steady = m.steady_open(Levers.neutral(2 * k))
    loop = PeaceLoop.start(m, [], np.random.default_rng(3))
    rng = np.random.default_rng(4)
    acc, acc_m, n = np.zeros((C, 2 * k)), 0.0, 0
    for _ in range(600):
        loop.step(1.0, rng)
        acc += loop.stock_end()
        acc_m += float(loop.multipliers()[0].mean())
        n += 1
    mean = acc / n
    for c in (0, 2):
        assert mean[c].sum() == pytest.approx(steady[c].sum(), rel=0.06)
    assert acc_m / n == pytest.approx(1.0, abs=0.04)


def test_start_draws_the_steady_state() -> None:
    """Over 400 starts, the mean initial open stock is steady_open (5 %; its standard error is
    about 1.5 %)."""
    lam = _one_class(2.0, c=1)
    times = {s: Dist.exponential(0.3 * DAY) for s in LOOP_STAGES}
    m = hand_model(lam=lam, find=np.full(C, 0.25), times=times, work=Dist.exponential(DAY),
                   servers={"work": 3, "raise": 2})
    steady = m.steady_open(Levers.neutral(1))[1, 0]
    per_stage = m.stage_open(Levers.neutral(1))[:, 1, 0]
    assert steady == pytest.approx(2.0 / 0.25 + per_stage.sum())
    got = [PeaceLoop.start(m, [], np.random.default_rng(s)).stock_end()[1, 0]
           for s in range(400)]
    assert float(np.mean(got)) == pytest.approx(steady, rel=0.05)


# -- an exact timeline ----------------------------------------------------------------------------
def test_one_hazard_timeline_with_rework_and_supervision() -> None:
    """One hazard found at t ≈ 0; raise 0.5, file 1, dispatch 0.25, work 2, rate 1 (days,
    fixed). Its deadline is 3 days: it passes during the first work, which is supervised there.
    The owners send it back once: work again 4.75-6.75, rated 6.75-7.75, fixed at 7.75, late."""
    times = {"raise": Dist.fixed(0.5 * DAY), "file": Dist.fixed(DAY),
             "dispatch": Dist.fixed(0.25 * DAY), "work": ZERO, "rate": Dist.fixed(DAY)}
    m = hand_model(lam=np.zeros((C, 1)), find=np.full(C, 1e9), times=times,
                   work=Dist.fixed(2 * DAY), deadline=3.0)
    object.__setattr__(m, "rework_share", np.ones(C))  # the owners send it back the first time
    loop = PeaceLoop(m, [])
    loop.u_cls, loop.u_grid = np.array([3]), np.array([0])
    loop._refresh()
    rng = np.random.default_rng(0)
    loop.step(5.0, rng)  # first rating ends at 4.75: back to work (rework share 1)
    r = loop.rows
    assert len(r) == 1 and int(r.stage[0]) == WORK and bool(r.busy[0])
    assert float(r.t_end[0]) == pytest.approx(6.75, abs=1e-6)
    object.__setattr__(m, "rework_share", np.zeros(C))  # satisfied the second time
    loop.step(5.0, rng)
    assert len(loop.rows) == 0
    assert loop.rectified_total == 1 and loop.rectified_on_time_share == 0.0
    rows = {r["stage"]: r for r in loop.stage_rows() if r["hazard_class"] == "ebike_indoor"}
    assert rows["raise"]["mean_time_days"] == pytest.approx(0.5, abs=1e-6)
    assert rows["file"]["mean_time_days"] == pytest.approx(1.0, abs=1e-6)
    assert rows["dispatch"]["mean_time_days"] == pytest.approx(0.25, abs=1e-6)
    assert rows["work"]["arrivals"] == 2 and rows["work"]["mean_time_days"] == pytest.approx(2.0)
    assert rows["rate"]["rework"] == 1 and rows["rate"]["completed"] == 2
    assert rows["work"]["supervised"] == 1
    assert sum(r["supervised"] for r in rows.values()) == 1
    assert rows["rate"]["on_time_share"] == 0.0
    assert loop.found_by_channel()["snapshot"] == 1


def test_overdue_case_goes_first() -> None:
    """One work server busy until day 1; B waits since 0.2 (deadline 50), A since 0.5 (deadline
    0.8, overdue at 1): A starts at 1 and ends at 2 (work 1 day), then B 2-3."""
    m = hand_model(lam=np.zeros((C, 1)), find=np.zeros(C), times=INSTANT, work=Dist.fixed(DAY))
    loop = PeaceLoop(m, [])
    loop.rows = _Rows(cls=np.zeros(3, np.int64), grid=np.zeros(3, np.int64),
                      stage=np.full(3, WORK, np.int64), busy=np.array([True, False, False]),
                      t_arr=np.array([0.0, 0.2, 0.5]), t_end=np.array([1.0, np.inf, np.inf]),
                      t_found=np.zeros(3), deadline=np.array([50.0, 50.0, 0.8]),
                      channel=np.zeros(3, np.int64), in_run=np.ones(3, bool))
    loop.free_since[WORK][:] = np.inf
    loop._refresh()
    loop.step(1.5, np.random.default_rng(0))
    r = loop.rows
    busy = np.flatnonzero(r.busy & (r.stage == WORK))
    assert len(busy) == 1 and float(r.deadline[busy[0]]) == 0.8
    assert float(r.t_end[busy[0]]) == pytest.approx(2.0)
    loop.step(1.0, np.random.default_rng(0))
    r = loop.rows
    busy = np.flatnonzero(r.busy & (r.stage == WORK))
    assert len(busy) == 1 and float(r.t_end[busy[0]]) == pytest.approx(3.0)
    waits = np.concatenate([w for _, w in loop.stats.waits[WORK]])
    np.testing.assert_allclose(sorted(waits), [0.5, 1.8])


# -- levers ----------------------------------------------------------------------------------------
def _lever_model() -> PeaceModel:
    lam = np.zeros((C, 2))
    lam[0], lam[3] = [0.5, 0.5], [0.2, 0.1]
    ins = (np.array([0.5, 0, 0, 0.1, 0, 0]), np.array([2.0, 1.0]), np.array([0.05, 0.1]),
           np.array([0.5, 0.25]))
    video = np.zeros((C, 2))
    video[0] = 0.02
    times = {s: Dist.exponential(0.3 * DAY) for s in LOOP_STAGES}
    return hand_model(n_grids=2, lam=lam, find=np.full(C, 0.01), times=times,
                      work=Dist.exponential(DAY), inspection=ins, video=video)


def _levers(**kw: object) -> Levers:
    base = Levers.neutral(2)
    return replace(base, **kw)  # type: ignore[arg-type]


def test_new_factor_moves_only_new_hazards() -> None:
    m = _lever_model()
    f = np.ones((C, 2))
    f[3, 1] = 0.0
    lv = _levers(new_factor=f)
    neutral = Levers.neutral(2)
    np.testing.assert_array_equal(m.find_rates(lv), m.find_rates(neutral))
    diff = m.new_rates(lv) != m.new_rates(neutral)
    assert diff[3, 1] and diff.sum() == 1
    loop = _run(m, 200.0, 1.0, phases=[LeverPhase(None, lv)])
    # the run: no ebike_indoor hazard appears in grid 1 (none at the start either)
    assert loop.new_by_class[0] > 0
    assert not ((loop.rows.cls == 3) & (loop.rows.grid == 1) & loop.rows.in_run).any()
    assert not ((loop.u_cls == 3) & (loop.u_grid == 1)).any()


def test_find_extra_moves_only_the_campaign_channel() -> None:
    m = _lever_model()
    extra = np.zeros((C, 2))
    extra[3] = 0.5
    lv = _levers(find_extra_per_day=extra)
    neutral = Levers.neutral(2)
    a, b = m.find_rates(lv), m.find_rates(neutral)
    np.testing.assert_array_equal(a[:4], b[:4])
    np.testing.assert_array_equal(a[4], extra)
    np.testing.assert_array_equal(m.new_rates(lv), m.new_rates(neutral))
    loop = _run(m, 100.0, 1.0, phases=[LeverPhase(None, lv)])
    by = loop.found_by[CHANNEL_LABELS.index("campaign")]
    assert by[3] > 0 and by.sum() == by[3]


def test_remove_share_removes_at_the_phase_start_only() -> None:
    m = _lever_model()
    share = np.zeros((C, 2))
    share[3, 0] = 1.0
    lv = _levers(remove_share=share)
    loop = _run(m, 10.0, 1.0, seed=5)
    before = loop.stock_end().copy()
    assert before[3, 0] > 0
    loop._pending = [LeverPhase(10.0, lv)]
    loop.step(1e-9, np.random.default_rng(9))
    after = loop.stock_end()
    assert after[3, 0] == 0
    assert loop.removed_unfound[3] + loop.removed_loop[3] == before[3, 0]
    assert loop.removed_unfound[[0, 1, 2, 4, 5]].sum() == 0
    # the steady state under it is that without it: removal acts once, not on the rates
    np.testing.assert_array_equal(m.steady_open(lv), m.steady_open(Levers.neutral(2)))


def test_channel_factor_video_takes_inspection_time() -> None:
    """Video ×2: its find rate doubles and its false positives take twice the grid workers'
    time from inspection: d_I = p × min(1, cover × max(0, pd − 2 fp)) (hand-worked)."""
    m = _lever_model()
    lv = _levers(channel_factor={"video_ai": 2.0})
    a, b = m.find_rates(lv), m.find_rates(Levers.neutral(2))
    np.testing.assert_allclose(a[3], 2 * b[3])
    np.testing.assert_array_equal(a[1:3], b[1:3])
    # grid 0: pd 2, fp 0.5 → 2 − 1 = 1 person-day × 0.05 = 0.05; neutral 1.5 × 0.05 = 0.075
    # grid 1: pd 1, fp 0.25 → 0.5 × 0.1 = 0.05; neutral 0.75 × 0.1 = 0.075
    np.testing.assert_allclose(a[0, 0], [0.5 * 0.05, 0.5 * 0.05])
    np.testing.assert_allclose(b[0, 0], [0.5 * 0.075, 0.5 * 0.075])
    np.testing.assert_allclose(a[0, 3], [0.1 * 0.05, 0.1 * 0.05])
    ins = _levers(channel_factor={"inspection": 0.0})
    c = m.find_rates(ins)
    assert not c[0].any()
    np.testing.assert_array_equal(c[1:], b[1:])


# -- the multiplier --------------------------------------------------------------------------------
def test_multiplier_formula_and_driven_share() -> None:
    raises = np.zeros((2, C))
    raises[0, 3] = 0.85
    raises[1, 0], raises[1, 2] = 0.3, 0.2
    m = hand_model(lam=_one_class(1.0, c=3) + _one_class(1.0, c=0) + _one_class(1.0, c=2),
                   find=np.full(C, 0.1), times=INSTANT, work=ZERO, raises=raises)
    base = m.baseline_open[:, 0]
    np.testing.assert_allclose(base[[0, 2, 3]], 10.0)
    loop = PeaceLoop(m, [])
    loop.u_cls = np.array([3] * 5 + [0] * 20)
    loop.u_grid = np.zeros(25, np.int64)
    loop._refresh()
    mu = loop.multipliers()[:, 0]
    assert mu[0] == pytest.approx(1 - 0.85 + 0.85 * 5 / 10)
    assert mu[1] == pytest.approx(1 - 0.5 + 0.3 * 2 + 0.2 * 0)
    share = loop.driven_share(0, 0)
    assert share[3] == pytest.approx(0.85 * 0.5 / mu[0])
    assert share.sum() == pytest.approx(0.85 * 0.5 / mu[0])


# -- the shipped config on a built place ------------------------------------------------------
def test_build_on_the_small_scenario_hand_checks() -> None:
    from gridsim.app.hydra_app import compose_settings  # Hydra: only this test composes
    from gridsim.place.scenario import build_scenario  # the scenario: only this test builds one

    s, _ = compose_settings(["scenario=small"])
    sc = build_scenario(s.scenario)
    g, roster = sc.region.grids, sc.roster
    m = PeaceModel.build(s.peacetime, g, roster, tuple(s.catalogue.hazards))
    cfg = s.peacetime
    e = HAZARD_CLASSES.index("ebike_indoor")
    k = 5
    kind = ("urban_community", "rural", "enterprise", "commercial")[int(g.kind[k])]
    assert m.lam[e, k] == pytest.approx(cfg.classes["ebike_indoor"].new_per_unit_day[kind]
                                        * float(g.ebikes[k]))
    dk = cfg.channels.door_knocking
    pm = int(np.sum(roster.has_role("party_member") & (roster.grid == k)))
    want = dk.find_prob["ebike_indoor"] * min(1.0, pm * dk.duty_share
                                             * dk.households_per_person_day
                                             / float(g.households[k]))
    assert m.find_rates(Levers.neutral(g.n))[2, e, k] == pytest.approx(want)
    assert m.raises[list(m.hazard_names).index("ebike_fire"), e] == \
        cfg.classes["ebike_indoor"].raises["ebike_fire"]
    assert np.all(m.baseline_open >= 0) and m.baseline_open.sum() > 0


def test_validate_reports_peacetime_mistakes() -> None:
    s = one_grid(1, duration_h=1.0)
    pt = s.peacetime
    cls = dict(pt.classes)
    cls["gas"] = replace(cls["gas"], raises={"test": 0.7}, rework_share=1.0)
    cls["electrical"] = replace(cls["electrical"], raises={"test": 0.6, "nope": 0.1})
    loop = dict(pt.loop)
    loop["file"] = replace(loop["file"], pool="county", servers_per="cats")
    del loop["rate"]
    bad = replace(pt, classes=cls, loop=loop)
    errors = validate(replace(s, peacetime=bad))
    text = "\n".join(errors)
    assert "peacetime.classes.*.raises.test: the classes' shares" in text
    assert "peacetime.classes.electrical.raises.nope: not an incident type" in text
    assert "peacetime.classes.gas.rework_share: must be < 1" in text
    assert "peacetime.loop.file.pool: unknown pool 'county'" in text
    assert "peacetime.loop.file.servers_per: unknown 'cats'" in text
    assert "peacetime.loop: missing stages: rate" in text


# -- a periodic inspection campaign (大排查 every period_days, active_days on) ---------------------
def test_periodic_unfound_matches_a_numerical_integration() -> None:
    """m' = λ − d(t) m, d = 0.5 for 3 days of every 10 and 0.02 the rest: the periodic solution
    by Euler steps of 2e-4 day over 12 periods (independent of the closed form)."""
    lam, d_on, d_off, active, period = 2.0, 0.5, 0.02, 3.0, 10.0
    m0, mean = periodic_unfound(np.array([lam]), np.array([d_on]), np.array([d_off]), active,
                                period)
    h, m, acc, n = 2e-4, 0.0, 0.0, 0
    steps = round(period / h)
    for rep in range(12):
        t = np.arange(steps) * h
        d = np.where(t < active, d_on, d_off)
        if rep == 11:
            start = m
        for k in range(steps):  # plain Euler: the reference
            if rep == 11:
                acc += m
                n += 1
            m += h * (lam - d[k] * m)
    assert float(m0[0]) == pytest.approx(start, rel=1e-3)
    assert float(mean[0]) == pytest.approx(acc / n, rel=1e-3)


def test_inspection_finds_only_in_its_active_spells() -> None:
    """Only the inspection channel finds (others zero), on for 2 days of every 5: every hazard
    it found was found at a time t with t mod 5 < 2."""
    lam = _one_class(3.0)
    ins = (np.array([1.0, 0, 0, 0, 0, 0]), np.array([1.0]), np.array([0.5]), np.array([0.0]))
    slow = {s: Dist.fixed(100 * DAY) for s in LOOP_STAGES}  # found hazards stay in the loop
    m = hand_model(lam=lam, find=np.zeros(C), times=slow, work=Dist.fixed(DAY), inspection=ins,
                   servers={"raise": 10_000})
    object.__setattr__(m, "inspection_period_days", 5.0)
    object.__setattr__(m, "inspection_active_days", 2.0)
    loop = PeaceLoop(m, [])
    rng = np.random.default_rng(4)
    for _ in range(20):
        loop.step(1.3, rng)  # steps that straddle the switches
    found = loop.rows.in_run & (loop.rows.channel == 0)
    assert found.sum() > 20
    t = loop.rows.t_found[found]
    assert np.all(np.mod(t, 5.0) < 2.0 + 1e-9)


# -- common random numbers per hazard class ------------------------------------------------------
EBIKE = HAZARD_CLASSES.index("ebike_indoor")


def _crn_model(servers: int, rework: float = 0.3) -> PeaceModel:
    """Every class in 4 grids (2 villages), e-bike sites the most, exponential stages,
    rework: ``servers`` per pool."""
    lam = np.full((C, 4), 0.6)
    lam[EBIKE] = 3.0
    times = {s: Dist.exponential(0.3 * DAY) for s in LOOP_STAGES}
    return hand_model(n_grids=4, lam=lam, find=np.full(C, 0.5), times=times,
                      work=Dist.exponential(0.5 * DAY), rework=rework,
                      servers=dict.fromkeys(LOOP_STAGES, servers),
                      pool_of_grid={"dispatch": [0, 0, 1, 1]})


def _ebike_phases(n: int) -> list[LeverPhase]:
    """A campaign on e-bike sites alone: fewer new ones from the start, more found, and a
    mid-run removal of nine in ten of them."""
    new = np.ones((C, n))
    new[EBIKE] = 0.5
    extra = np.zeros((C, n))
    extra[EBIKE] = 0.5
    cut = np.zeros((C, n))
    cut[EBIKE] = 0.9
    start = replace(Levers.neutral(n), new_factor=new, find_extra_per_day=extra)
    return [LeverPhase(None, start), LeverPhase(20.0, replace(start, remove_share=cut))]


def _trace(loop: PeaceLoop, c: int) -> tuple[Any, ...]:
    r = loop.rows
    mine = r.cls == c
    return (int(loop.new_by_class[c]), loop.found_by[:, c].tolist(),
            int(loop.rectified_by_class[c]), int(loop.stats.on_time[c]),
            loop.stats.rework[:, c].tolist(), loop.u_grid[loop.u_cls == c].tolist(),
            r.grid[mine].tolist(), r.stage[mine].tolist(), r.t_arr[mine].tolist(),
            r.t_end[mine].tolist(), r.uid[mine].tolist())


def test_a_lever_on_one_class_leaves_every_other_class_s_draws_unchanged() -> None:
    """Ample servers (no queueing couples the classes): a campaign that acts on e-bike sites
    alone leaves every other class's loop, case by case and time by time, exactly as without
    it; the e-bike class itself changes."""
    m = _crn_model(servers=1000)
    none, camp = _run(m, 40.0, 0.25), _run(m, 40.0, 0.25, phases=_ebike_phases(4))
    assert camp.removed_total > 0 and camp.new_by_class[EBIKE] < none.new_by_class[EBIKE]
    assert _trace(camp, EBIKE) != _trace(none, EBIKE)
    for c in range(C):
        if c != EBIKE:
            assert none.rectified_by_class[c] > 20 and none.stats.rework[:, c].sum() > 0
            assert _trace(camp, c) == _trace(none, c), HAZARD_CLASSES[c]
    others = np.arange(C) != EBIKE
    assert np.array_equal(camp.stock_end()[others], none.stock_end()[others])


def test_shared_busy_pools_couple_only_the_loop_not_the_new_and_found_draws() -> None:
    """Four servers per pool, well loaded: e-bike cases queue beside the others, so the other
    classes' times in the loop may move (the real coupling of shared pools), but their new
    hazards and finds (by channel) are the same draws."""
    m = _crn_model(servers=4, rework=0.1)
    none, camp = _run(m, 40.0, 0.25), _run(m, 40.0, 0.25, phases=_ebike_phases(4))
    assert sum(_trace(camp, c)[8] != _trace(none, c)[8] for c in range(C) if c != EBIKE) > 0
    for c in range(C):
        if c != EBIKE:
            assert camp.new_by_class[c] == none.new_by_class[c] > 0
            assert np.array_equal(camp.found_by[:, c], none.found_by[:, c])
