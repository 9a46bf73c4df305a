"""Consequences (gridsim.model.consequences): the grade rule, survival, losses, people conserved,
the no-response counterfactual on the same incidents."""

from __future__ import annotations

import dataclasses
import json
import math
from operator import attrgetter

import numpy as np
import pytest
from scipy import stats

from gridsim.engine.incident import INCIDENT_FIELDS, Incident
from gridsim.engine.simulation import RunResult, simulate, without_grid
from gridsim.model.consequences import (
    PHI,
    GradeRule,
    HurdleCount,
    Potential,
    SplicedLoss,
    Survival,
    loss_at,
    outcome,
    still_in_danger,
)
from gridsim.model.dists import Dist
from gridsim.model.params import (
    ConsequencesConfig,
    CountConfig,
    GradeRuleConfig,
    LossConfig,
    RunConfig,
    SurvivalConfig,
)
from gridsim.model.validate import validate
from gridsim.output.metrics import summarize
from tests.conftest import settings_for
from tests.params import add_incident, changed, checked, one_grid

#: The national classification (《生产安全事故报告和调查处理条例》, 2007, Article 3), written
#: here from the regulation, not read from the config.
REGULATION = GradeRuleConfig(
    deaths={"I": 30, "II": 10, "III": 3}, injured={"I": 100, "II": 50, "III": 10},
    loss_cny={"I": 1e8, "II": 5e7, "III": 1e7}, source="test")
G_I, G_II, G_III, G_IV = range(4)


# ----------------------------------------------------------------------------------------------
# the grade rule
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("deaths", "grade"), [
    (0, G_IV), (2, G_IV), (3, G_III), (9, G_III), (10, G_II), (29, G_II), (30, G_I), (300, G_I)])
def test_grade_by_deaths_at_each_threshold(deaths: int, grade: int) -> None:
    assert GradeRule.from_config(REGULATION).grade(deaths, 0, 0.0) == grade


@pytest.mark.parametrize(("injured", "grade"), [
    (9, G_IV), (10, G_III), (49, G_III), (50, G_II), (99, G_II), (100, G_I)])
def test_grade_by_seriously_injured_at_each_threshold(injured: int, grade: int) -> None:
    assert GradeRule.from_config(REGULATION).grade(0, injured, 0.0) == grade


@pytest.mark.parametrize(("loss", "grade"), [
    (9_999_999.0, G_IV), (1e7, G_III), (49_999_999.0, G_III), (5e7, G_II), (99_999_999.0, G_II),
    (1e8, G_I)])
def test_grade_by_direct_loss_at_each_threshold(loss: float, grade: int) -> None:
    assert GradeRule.from_config(REGULATION).grade(0, 0, loss) == grade


def test_the_gravest_criterion_sets_the_grade_and_no_rule_means_grade_IV() -> None:
    rule = GradeRule.from_config(REGULATION)
    assert rule.grade(3, 50, 1e8) == G_I  # loss reaches I, injured II, deaths III
    assert rule.grade(10, 10, 0.0) == G_II
    assert GradeRule.from_config(GradeRuleConfig()).grade(10**6, 10**6, 1e12) == G_IV


def test_the_shipped_grade_rule_is_the_regulation() -> None:
    rule = settings_for("scenario=small").catalogue.grade_rule
    assert GradeRule.from_config(rule) == GradeRule.from_config(REGULATION)
    assert "2007" in rule.source


# ----------------------------------------------------------------------------------------------
# the distributions, survival and loss formulas
# ----------------------------------------------------------------------------------------------
def test_hurdle_count_quantiles_are_one_plus_scipy_negative_binomial() -> None:
    h = HurdleCount(any_share=0.2, mean_if_any=3.5, dispersion=0.7)
    m = 2.5  # the mean beyond the first
    nb = stats.nbinom(0.7, 0.7 / (0.7 + m))
    for u in np.linspace(0.0, 0.999, 400):
        expected = 0 if u <= 0.8 else 1 + int(nb.ppf((u - 0.8) / 0.2))
        assert h.ppf(float(u)) == expected, u
    # the mean by midpoint quadrature over u: any_share x mean_if_any
    u = (np.arange(200_000) + 0.5) / 200_000
    assert np.mean([h.ppf(x) for x in u[::10]]) == pytest.approx(0.2 * 3.5, rel=0.02)


def test_spliced_loss_is_lognormal_below_the_splice_and_pareto_above() -> None:
    loss = SplicedLoss(median_cny=1e4, sigma=1.5, tail_from_cny=1e6, tail_alpha=1.6)
    tail = 1.0 - stats.norm.cdf(math.log(100.0) / 1.5)
    assert loss.tail_share == pytest.approx(tail)
    for u in (0.01, 0.3, 0.5, 0.9, 1 - tail - 1e-9):
        assert loss.ppf(u) == pytest.approx(1e4 * math.exp(1.5 * stats.norm.ppf(u)), rel=1e-9)
    for u in (1 - tail, 1 - tail / 2, 1 - tail / 1000):
        assert loss.ppf(u) == pytest.approx(1e6 * ((1 - u) / tail) ** (-1 / 1.6), rel=1e-9)
        assert loss.sf(loss.ppf(u)) == pytest.approx(1 - u, rel=1e-9)
    assert loss.ppf(1 - tail - 1e-12) == pytest.approx(1e6, rel=1e-6)  # continuous at the splice


def test_weibull_survival_is_its_formula() -> None:
    s = Survival("weibull", 1200.0, 2.0, (), ())
    t = np.array([0.0, 300.0, 1200.0, 2400.0])
    np.testing.assert_allclose(s.at(t), np.exp(-(t / 1200.0) ** 2.0))
    assert float(s.at(1200.0)) == pytest.approx(math.exp(-1.0))


def test_piecewise_survival_interpolates_its_points() -> None:
    s = Survival("piecewise", 0.0, 0.0, (900.0, 2100.0, 5400.0, 7800.0), (0.92, 0.30, 0.27, 0.03))
    assert float(s.at(0.0)) == 1.0
    assert float(s.at(450.0)) == pytest.approx(0.96)  # halfway from (0, 1) to (900, 0.92)
    assert float(s.at(900.0)) == pytest.approx(0.92)
    assert float(s.at(1500.0)) == pytest.approx(0.92 + (0.30 - 0.92) * 600 / 1200)
    assert float(s.at(7800.0)) == pytest.approx(0.03)
    assert float(s.at(1e6)) == pytest.approx(0.03)  # the last value after the last point


def test_loss_grows_with_the_time_to_control() -> None:
    for t in (0.0, 60.0, 1200.0, 7200.0):
        assert loss_at(5e5, t, 1200.0) == pytest.approx(5e5 * (1 - math.exp(-t / 1200.0)))
    assert loss_at(5e5, 1200.0, 1200.0) == pytest.approx(5e5 * (1 - 1 / math.e))
    assert loss_at(5e5, math.inf, 1200.0) == 5e5
    assert loss_at(0.0, 100.0, 1200.0) == 0.0


def test_each_trapped_person_survives_with_the_curve_at_its_rescue_time() -> None:
    """Over frailties spread evenly on [0, 1), the mean deaths is sum(1 - S(t_i)), t_i the
    i-th person's time out after the incident: each frailty frac(u + i*phi) is uniform."""
    s = Survival("weibull", 1800.0, 1.5, (), ())
    n, ext, start, occurred = 4, 300.0, 600.0, 100.0
    t_out = start + (np.arange(n) + 1) * ext - occurred
    expected = float(np.sum(1.0 - s.at(t_out)))
    m = 20_000
    deaths = [outcome(Potential(n, 0, 0.0, G_IV, (k + 0.5) / m, ext), s, occurred, start,
                      1e9).deaths for k in range(m)]
    assert np.mean(deaths) == pytest.approx(expected, abs=2e-3)
    assert PHI == pytest.approx((math.sqrt(5) - 1) / 2)


def test_a_later_rescue_never_saves_more_people() -> None:
    s = Survival("weibull", 1800.0, 1.5, (), ())
    for frailty in np.linspace(0.01, 0.99, 25):
        p = Potential(6, 0, 0.0, G_IV, float(frailty), 240.0)
        alive = [outcome(p, s, 0.0, start, 1e9).rescued for start in range(0, 7200, 600)]
        assert alive == sorted(alive, reverse=True)


def test_relocation_spares_each_person_with_the_moved_share_and_never_more_with_less() -> None:
    """still_in_danger: person i is spared when frac(u + i phi) < share, so over the incident's
    uniform u the expected number left is trapped x (1 - share), exactly (each frac is uniform:
    the mean over an even grid of u converges at rate 1/m); for each u, fewer are left as the
    share grows; no share leaves everybody, a whole share nobody."""
    us = (np.arange(4000) + 0.5) / 4000
    for n in (1, 3, 7):
        for share in (0.1, 0.35, 0.8):
            left = np.array([still_in_danger(n, share, float(u)) for u in us])
            assert left.mean() == pytest.approx(n * (1 - share), abs=n / 4000 + 1e-9)
            assert left.min() >= 0 and left.max() <= n
    for u in np.linspace(0.0, 0.99, 23):
        left = [still_in_danger(6, sh, float(u)) for sh in np.linspace(0, 1, 21)]
        assert left == sorted(left, reverse=True), u
        assert left[0] == 6 and left[-1] == 0
    assert still_in_danger(0, 0.5, 0.3) == 0


def test_people_not_brought_out_by_the_end_are_still_trapped() -> None:
    s = Survival("weibull", 1e9, 1.0, (), ())  # everybody survives
    p = Potential(5, 0, 0.0, G_IV, 0.3, 100.0)
    # out at 150, 250 and 350 s; the fourth and fifth not by 350 s
    assert dataclasses.astuple(outcome(p, s, 0.0, 50.0, 350.0)) == (3, 0, 2)
    assert dataclasses.astuple(outcome(p, s, 0.0, math.nan, 350.0)) == (0, 0, 5)


# ----------------------------------------------------------------------------------------------
# runs
# ----------------------------------------------------------------------------------------------
def _with_consequences(s: RunConfig, cons: ConsequencesConfig) -> RunConfig:
    """``s`` with the consequences of its hazard type ``test`` replaced."""
    hz = dataclasses.replace(s.catalogue.hazards["test"], consequences=cons)
    cat = dataclasses.replace(s.catalogue, hazards={"test": hz}, grade_rule=REGULATION)
    return checked(dataclasses.replace(s, catalogue=cat))


def test_exact_rescue_timeline_of_one_trapped_person() -> None:
    """One grid, zero travel and delays: a scripted incident with exactly one person trapped
    (any_share 1, mean 1) and 300 s to bring them out. The crew is on scene and in control at
    once (no loss: nothing is lost in no time), stays past its 60 s of handling until the
    person is out at t0 + 300 s, and the person lives if S(300 s) = 1, dies if S = 0."""
    for alive_share, rescued, deaths in ((1.0, 1, 0), (0.0, 0, 1)):
        cons = ConsequencesConfig(
            trapped=CountConfig(any_share=1.0, mean_if_any=1.0),
            loss=LossConfig(median_cny=1e5, sigma=0.0, time_constant_s=600.0),
            extraction=Dist.fixed(300.0),
            survival=SurvivalConfig(kind="piecewise", times_s=[100.0],
                                    survival=[alive_share], source="test"))
        s = one_grid(1, duration_h=2.0, handling=Dist.fixed(60.0))
        s = add_incident(_with_consequences(s, cons), "test", 0, 0.5)
        (inc,) = simulate(s).incidents
        t0 = 1800.0
        assert (inc.crew_on_scene_s, inc.controlled_s, inc.resolved_s) == (t0, t0, t0 + 300.0)
        assert (inc.people_trapped, inc.people_rescued, inc.deaths) == (1, rescued, deaths)
        assert inc.rescued_by == "grid" and inc.loss_cny == 0.0
        assert inc.potential_loss_cny == 1e5


def test_the_first_responder_on_scene_brings_the_incident_under_control() -> None:
    """One grid, zero travel: notified 120 s after the incident, decided in 60 s, the store
    opens 90 s after the crew is on scene. The loss stops growing when the first responder
    starts the initial handling (初期处置) at t0 + 180 s, not when handling with supplies
    starts at t0 + 270 s: L = 1e5 (1 - exp(-180 / 600))."""
    cons = ConsequencesConfig(
        loss=LossConfig(median_cny=1e5, sigma=0.0, time_constant_s=600.0),
        survival=SurvivalConfig(kind="weibull", scale_s=1e9, shape=1.0, source="test"))
    s = one_grid(1, duration_h=2.0, handling=Dist.fixed(60.0))
    s = changed(_with_consequences(s, cons), {
        "catalogue.hazards.test.supplies": {"sandbag": 1},
        "catalogue.detection.resident_report.delay": Dist.fixed(120.0),
        "response.dispatch.decision_delay_peace": Dist.fixed(60.0),
        "response.supply.access_delay_peace": Dist.fixed(90.0)})
    (inc,) = simulate(add_incident(s, "test", 0, 0.5)).incidents
    t0 = 1800.0
    assert (inc.first_on_scene_s, inc.handling_start_s) == (t0 + 180.0, t0 + 270.0)
    assert inc.controlled_s == t0 + 180.0
    assert inc.loss_cny == pytest.approx(1e5 * (1 - math.exp(-180.0 / 600.0)), rel=1e-12)


def _trapping_run(seed: int = 1) -> RunResult:
    cons = ConsequencesConfig(
        trapped=CountConfig(any_share=0.7, mean_if_any=3.0, dispersion=1.0),
        injured=CountConfig(any_share=0.3, mean_if_any=2.0),
        loss=LossConfig(median_cny=1e5, sigma=1.0, tail_from_cny=1e6, tail_alpha=1.5,
                        time_constant_s=1800.0),
        correlation=0.5, extraction=Dist.fixed(400.0),
        survival=SurvivalConfig(kind="weibull", scale_s=2400.0, shape=1.5, source="test"))
    s = one_grid(2, duration_h=8.0, rate_per_day=60.0, handling=Dist.fixed(600.0), seed=seed)
    return simulate(_with_consequences(s, cons))


def test_people_are_conserved_trapped_is_rescued_plus_dead_plus_still_trapped() -> None:
    r = _trapping_run()
    incs = r.incidents
    for i in incs:
        assert i.people_rescued >= 0 and i.deaths >= 0
        assert i.people_rescued + i.deaths <= i.people_trapped
    total = summarize(r, "test")
    assert total["people_trapped"] == sum(i.people_trapped for i in incs)
    assert total["people_trapped"] == (total["people_rescued"] + total["deaths"]
                                       + total["people_still_trapped"])
    # not vacuous: some rescued, some dead, some still trapped when the run ends
    assert total["people_rescued"] > 0 and total["deaths"] > 0
    assert total["people_still_trapped"] > 0
    assert total["injuries"] == sum(i.injuries for i in incs) > 0


def _storm(counterfactual: bool = True, seed: int = 1) -> RunConfig:
    # the rainstorm on the small scenario, every rate x 4 so that a run has a few dozen
    # incidents whatever the catalogue's calibration
    s = settings_for("scenario=small", "duration_h=48", "hazard.rate_scale=4",
                     "output.figures=false", "output.progress=false", "output.events_log=false")
    return dataclasses.replace(s, seed=seed, output=dataclasses.replace(
        s.output, counterfactual=counterfactual))


_SAME = ("id", "hazard", "grade", "grid", "x_m", "y_m", "occurred_s", "injuries",
         "potential_loss_cny", "potential")


def _same(i: Incident) -> tuple:
    """What both worlds share of an incident: everything drawn at arrival, and the people it
    would trap (in the grid's world, some of them the post had moved out: people_spared)."""
    return (*attrgetter(*_SAME)(i), i.people_trapped + i.people_spared)


def test_the_counterfactual_sees_the_same_incidents() -> None:
    r = simulate(_storm())
    cf = r.counterfactual
    assert cf is not None and len(r.incidents) > 10
    same = _same
    assert all(i.people_spared == 0 for i in cf)  # no post, no relocation
    assert [same(i) for i in cf] == [same(i) for i in r.incidents]
    assert all(np.array_equal(a.u, b.u) for a, b in zip(cf, r.incidents, strict=True))
    # and it is the world without the grid: departments answer everything
    assert all(i.resolved_by in ("department", "") and i.rescued_by != "grid" for i in cf)
    assert sum(i.people_trapped for i in r.incidents) > 0  # consequences at stake
    # a separate run of the counterfactual settings gives the same
    alone = simulate(without_grid(r.settings), r.scenario).incidents
    assert [(*same(i), i.loss_cny, i.deaths) for i in alone] == \
        [(*same(i), i.loss_cny, i.deaths) for i in cf]


def test_losses_averted_are_positive_in_expectation_on_a_storm() -> None:
    averted = []
    for seed in range(1, 7):
        summary = summarize(simulate(_storm(seed=seed)), "test")
        assert summary["losses_averted_cny"] == pytest.approx(
            summary["losses_without_grid_cny"] - summary["losses_cny"], abs=1.0)
        averted.append(summary["losses_averted_cny"])
    # every run averts losses (no incident loses more with the grid, tested below); the
    # calibrated losses are heavy-tailed, so a mean-minus-2-SE bound over 6 runs is not a test
    assert all(x > 0 for x in averted), averted


def _inf(t: float) -> float:
    return t if t == t else math.inf  # NaN (never reached): never


def test_no_incident_is_controlled_later_or_loses_more_with_the_grid_than_without() -> None:
    """Residents call the department with the grid as they do without it (the same channels
    and uniforms, so at the same moment); the grid's whistle and crew can only come earlier.
    So, incident by incident on the same incidents, control is no later and the loss no larger
    with the grid (the loss grows with the time to control), and the losses averted are >= 0
    in every run. Not vacuous: without the residents' own call (the defect this guards
    against) the grid world waits for the grid, and some incidents lose more."""
    worse_without_call = 0
    for seed in (1, 2, 3):
        s = _storm(seed=seed)
        assert s.response.residents_call_department  # the shipped response setting
        r = simulate(s)
        assert r.counterfactual is not None and len(r.incidents) > 20
        for a, b in zip(r.incidents, r.counterfactual, strict=True):
            assert a.id == b.id and a.potential_loss_cny == b.potential_loss_cny
            assert _inf(a.controlled_s) <= _inf(b.controlled_s), a.id
            assert a.loss_cny <= b.loss_cny + 1e-6, a.id
        assert summarize(r, "test")["losses_averted_cny"] >= 0
        old = simulate(changed(s, {"response.residents_call_department": False}))
        assert old.counterfactual is not None
        worse_without_call += sum(a.loss_cny > b.loss_cny + 1e-6
                                  for a, b in zip(old.incidents, old.counterfactual, strict=True))
    assert worse_without_call > 0


def test_without_the_counterfactual_losses_averted_is_null() -> None:
    summary = summarize(simulate(_storm(counterfactual=False)), "test")
    assert summary["losses_averted_cny"] is None and summary["deaths_without_grid"] is None
    assert summary["losses_cny"] is not None


def test_a_repeat_is_byte_identical() -> None:
    def text(r: RunResult) -> str:
        rows = [[repr(getattr(i, f)) for f in INCIDENT_FIELDS] for i in r.incidents]
        return json.dumps([summarize(r, "test"), rows], sort_keys=True)

    assert text(simulate(_storm())) == text(simulate(_storm()))


# ----------------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------------
def test_bad_consequences_and_rules_are_named_by_key() -> None:
    s = one_grid(1, duration_h=1.0)
    bad = ConsequencesConfig(
        trapped=CountConfig(any_share=1.5, mean_if_any=0.5),
        loss=LossConfig(median_cny=1.0, tail_alpha=1.0),
        survival=SurvivalConfig(kind="piecewise", times_s=[60.0, 30.0], survival=[0.5, 0.9]))
    hz = dataclasses.replace(s.catalogue.hazards["test"], consequences=bad)
    rule = GradeRuleConfig(deaths={"I": 3, "II": 10, "IV": 1})
    cat = dataclasses.replace(s.catalogue, hazards={"test": hz}, grade_rule=rule)
    errors = validate(dataclasses.replace(s, catalogue=cat))
    k = "catalogue.hazards.test.consequences"
    for key in (f"{k}.trapped.any_share", f"{k}.trapped.mean_if_any", f"{k}.loss.tail_alpha",
                f"{k}.survival.times_s", f"{k}.survival.survival", f"{k}.survival.source",
                "catalogue.grade_rule.deaths.IV", "catalogue.grade_rule.deaths:",
                "catalogue.grade_rule.source"):
        assert any(e.startswith(key) for e in errors), (key, errors)


def test_the_no_grid_channels_must_be_the_catalogues_and_sure() -> None:
    s = one_grid(1, duration_h=1.0)
    resp = dataclasses.replace(s.response, no_grid_detection=["carrier_pigeon"])
    errors = validate(dataclasses.replace(s, response=resp))
    assert any(e.startswith("response.no_grid_detection: 'carrier_pigeon'") for e in errors)
    assert any("unnoticed forever" in e for e in errors)
