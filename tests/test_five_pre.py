"""五预 as named levers (``five_pre``, :mod:`gridsim.model.five_pre`): neutral defaults change
nothing, each lever sets exactly its underlying keys (to values worked out by hand from the
shipped config), bad values are refused naming the key, and each lever bites in its direction
in a small paired run (scenario=small through the default rainstorm: every grid switches on its
forecast signal around hour 28-29)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gridsim import __version__
from gridsim.app.five_pre_map import apply_five_pre
from gridsim.app.hydra_app import compose_settings
from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.five_pre import MAPPING, FivePreConfig, five_pre_errors, five_pre_record
from gridsim.model.frozen import changed
from gridsim.model.params import RunConfig
from gridsim.model.validate import ConfigError
from gridsim.model.vocab import FIND_CHANNELS, LOOP_STAGES
from gridsim.output.files import write_outputs

#: A short small run through the storm (rain from hour 28, signals from about hour 27-29).
BASE = ["scenario=small", "duration_h=32", "output.counterfactual=false",
        "output.events_log=false", "output.figures=false", "output.gis=false"]


@pytest.fixture(scope="module")
def base() -> RunConfig:
    return compose_settings(BASE)[0]


def _flat(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of settings as ``dotted.path -> value`` (dataclass fields, dict keys, list
    items)."""
    out: dict[str, Any] = {}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        items: Any = ((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj))
    elif isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, list | tuple):
        items = ((str(i), v) for i, v in enumerate(obj))
    else:
        return {prefix: obj}
    for k, v in items:
        out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def _diff(a: RunConfig, b: RunConfig) -> dict[str, tuple[Any, Any]]:
    """Leaves that differ between ``a`` and ``b``, the ``five_pre`` record itself aside."""
    fa, fb = _flat(a), _flat(b)
    return {k: (fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb))
            if not k.startswith("five_pre.") and fa.get(k) != fb.get(k)}


def _with(base: RunConfig, lever: str, value: Any) -> RunConfig:
    s, errors = apply_five_pre(changed(base, {f"five_pre.{lever}": value}))
    assert not errors, errors
    return s


# ----------------------------------------------------------------------------------------------
# neutral defaults
# ----------------------------------------------------------------------------------------------
def test_the_neutral_block_is_the_identity(base: RunConfig) -> None:
    assert base.five_pre == FivePreConfig()
    s, errors = apply_five_pre(base)
    assert errors == [] and s is base
    explicit = changed(base, {"five_pre.forecasting.lead_time_factor": 1.0,
                              "five_pre.forecasting.skill": 0.0,
                              "five_pre.prevention.find_factor": 1.0,
                              "five_pre.preparedness.stock_factor": 1.0,
                              "five_pre.drills.per_year": None})
    assert apply_five_pre(explicit)[0] is explicit


def test_neutral_values_on_the_command_line_give_byte_identical_files(
        base: RunConfig, tmp_path: Path) -> None:
    neutral = compose_settings([*BASE, "five_pre.forecasting.lead_time_factor=1",
                                "five_pre.forecasting.skill=0",
                                "five_pre.preparedness.stock_factor=1",
                                "five_pre.drills.per_year=null",
                                "five_pre.warning.switch_level=null"])[0]
    assert neutral == base
    for name, s in (("default", base), ("neutral", neutral)):
        write_outputs(simulate(s), tmp_path / name, __version__)
    files = sorted(p.name for p in (tmp_path / "default").iterdir())
    assert "summary.json" in files and "incidents.csv" in files
    for f in files:
        assert (tmp_path / "default" / f).read_bytes() == (tmp_path / "neutral" / f).read_bytes()


# ----------------------------------------------------------------------------------------------
# each lever changes exactly its keys
# ----------------------------------------------------------------------------------------------
def test_the_default_storm_has_the_keys_the_levers_scale(base: RunConfig) -> None:
    """The hand-worked values below start from the shipped rainstorm's nowcast (conf/hazard/
    rainstorm.yaml) and the small scenario's stock (scenarios/small.yaml)."""
    fw = base.hazard.weather.warnings
    assert (fw.lead_time_h, fw.depth_error_sigma, fw.timing_error_sd_h) == (1.0, 0.2, 0.5)
    assert fw.switch_level == "blue"
    assert base.scenario.supplies.grid_stock["rural"] == {
        "alarm": 3, "extinguisher": 6, "first_aid_kit": 4, "sandbag": 100}
    assert base.evacuation.drills.per_year == 0.0 and base.plan is None


def test_lead_time_factor_scales_every_lead_and_nothing_else(base: RunConfig) -> None:
    b = changed(base, {"hazard.weather.warnings.lead_time_by_level_h": {"red": 0.5}})
    d = _diff(b, _with(b, "forecasting.lead_time_factor", 3.0))
    assert d == {"hazard.weather.warnings.lead_time_h": (1.0, 3.0),
                 "hazard.weather.warnings.lead_time_by_level_h.red": (0.5, 1.5)}


def test_skill_cuts_both_forecast_errors_and_nothing_else(base: RunConfig) -> None:
    d = _diff(base, _with(base, "forecasting.skill", 0.75))
    assert d.keys() == {"hazard.weather.warnings.depth_error_sigma",
                        "hazard.weather.warnings.timing_error_sd_h"}
    assert math.isclose(d["hazard.weather.warnings.depth_error_sigma"][1], 0.2 * 0.25)
    assert math.isclose(d["hazard.weather.warnings.timing_error_sd_h"][1], 0.5 * 0.25)


def test_switch_level_sets_the_forecast_switch_level(base: RunConfig) -> None:
    assert _diff(base, _with(base, "warning.switch_level", "orange")) == {
        "hazard.weather.warnings.switch_level": ("blue", "orange")}


def test_stock_factor_scales_every_grid_stock_rounded_half_up(base: RunConfig) -> None:
    d = _diff(base, _with(base, "preparedness.stock_factor", 0.5))
    assert all(k.startswith("scenario.supplies.grid_stock.") for k in d)
    # rural: 3 alarms -> 1.5 -> 2; 6 extinguishers -> 3; 4 kits -> 2; 100 sandbags -> 50
    assert d["scenario.supplies.grid_stock.rural.alarm"] == (3, 2)
    assert d["scenario.supplies.grid_stock.rural.extinguisher"] == (6, 3)
    assert d["scenario.supplies.grid_stock.rural.sandbag"] == (100, 50)
    n_counts = sum(len(v) for v in base.scenario.supplies.grid_stock.values())
    zero = _diff(base, _with(base, "preparedness.stock_factor", 0.0))
    assert len(zero) == n_counts and all(new == 0 for _, new in zero.values())


def test_drills_and_plan_set_their_keys(base: RunConfig) -> None:
    assert _diff(base, _with(base, "drills.per_year", 4)) == {
        "evacuation.drills.per_year": (0.0, 4.0)}
    assert _diff(base, _with(base, "preparedness.plan", "experiments/plans/prepositioning")) == {
        "plan": (None, "experiments/plans/prepositioning")}


def test_find_factor_scales_the_standing_find_factors_and_nothing_else(base: RunConfig) -> None:
    """The lever sets the standing levers against the reference loop, never the reference keys
    (peacetime.channels): those are the loop the incident rates are calibrated with."""
    d = _diff(base, _with(base, "prevention.find_factor", 2.0))
    assert d == {f"peacetime.find_factor.{k}": (1.0, 2.0) for k in FIND_CHANNELS}


def test_capacity_factor_scales_the_standing_capacity_factors_and_nothing_else(
        base: RunConfig) -> None:
    d = _diff(base, _with(base, "prevention.capacity_factor", 3.0))
    assert d == {f"peacetime.capacity_factor.{k}": (1.0, 3.0) for k in LOOP_STAGES}


def test_the_lever_multiplies_a_configured_standing_factor(base: RunConfig) -> None:
    s = changed(base, {"peacetime.find_factor.door_knocking": 1.5})
    d = _diff(s, _with(s, "prevention.find_factor", 2.0))
    assert d["peacetime.find_factor.door_knocking"] == (1.5, 3.0)


def _peace_model(s: RunConfig) -> Any:
    from gridsim.engine.hazards import catalogue_from_config  # the loop's model: these tests only
    from gridsim.model.peace import PeaceModel
    from gridsim.place.scenario import build_scenario

    sc = build_scenario(s.scenario)
    names = [h.name for h in catalogue_from_config(s.catalogue).hazards]
    return PeaceModel.build(s.peacetime, sc.region.grids, sc.roster, names)


def test_prevention_bites_in_the_loop(base: RunConfig) -> None:
    """find_factor 2: every channel's find rate doubles against the same reference (so the
    normaliser stays), the unfound stock falls wherever hazards appear, and so does every driven
    incident type's expected multiplier; capacity_factor 2: no stage waits longer, some shorter
    (Erlang C with more capacity), the normaliser again the same."""
    from gridsim.model.levers import Levers  # the loop's levers: these tests only

    m0, m2 = _peace_model(base), _peace_model(_with(base, "prevention.find_factor", 2.0))
    neutral = Levers.neutral(m0.n_grids)
    np.testing.assert_array_equal(m2.baseline_open, m0.baseline_open)
    f0, f2 = m0.find_rates(neutral), m2.find_rates(neutral)
    # inspection: 2x less the video visits' doubled share of the inspectors' time (capped cover)
    np.testing.assert_allclose(f2[1:4], 2 * f0[1:4])
    u0, u2 = m0.unfound_mean(neutral)[1], m2.unfound_mean(neutral)[1]
    new = m0.new_rates(neutral) > 0
    assert new.any() and np.all(u2[new] < u0[new])
    mult0 = m0.multipliers_of(m0.steady_open(neutral))
    mult2 = m2.multipliers_of(m2.steady_open(neutral))
    driven = m0.raises.sum(axis=1) > 0
    np.testing.assert_allclose(mult0, 1.0, atol=1e-12)  # the reference: the calibrated rates
    assert driven.any() and np.all(mult2[driven].mean(axis=1) < 1.0 - 1e-3)
    np.testing.assert_array_equal(mult2[~driven], 1.0)
    mc = _peace_model(_with(base, "prevention.capacity_factor", 2.0))
    np.testing.assert_array_equal(mc.baseline_open, m0.baseline_open)
    for (_, _, _, w0, _), (_, _, _, w2, _) in zip(m0.stage_loads(neutral),
                                                  mc.stage_loads(neutral), strict=True):
        assert np.all(w2 <= w0 + 1e-12)
    assert any(np.any(w2 < w0) for (_, _, _, w0, _), (_, _, _, w2, _)
               in zip(m0.stage_loads(neutral), mc.stage_loads(neutral), strict=True))
    assert mc.steady_open(neutral).sum() < m0.steady_open(neutral).sum()


def test_the_boundary_applies_the_levers_once(base: RunConfig) -> None:
    """Composed through the Hydra boundary, a lever gives the settings of the direct mapping;
    the frozen settings keep the block only as the record (applying it again would scale
    twice, which is why nothing past the boundary does)."""
    s = compose_settings([*BASE, "five_pre.forecasting.lead_time_factor=2",
                          "five_pre.drills.per_year=1"])[0]
    assert s.hazard.weather.warnings.lead_time_h == 2.0
    assert s.evacuation.drills.per_year == 1.0
    assert s.five_pre.forecasting.lead_time_factor == 2.0
    assert _diff(base, s).keys() == {"hazard.weather.warnings.lead_time_h",
                                     "evacuation.drills.per_year"}


def test_the_mapping_table_names_every_lever() -> None:
    levers = {f"{g}.{k}" for g, v in five_pre_record(FivePreConfig()).items() for k in v}
    assert levers == set(MAPPING)


# ----------------------------------------------------------------------------------------------
# bad values
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("lever", "value", "key"), [
    ("forecasting.skill", 1.5, "five_pre.forecasting.skill"),
    ("forecasting.lead_time_factor", -1.0, "five_pre.forecasting.lead_time_factor"),
    ("preparedness.stock_factor", math.nan, "five_pre.preparedness.stock_factor"),
    ("drills.per_year", -2.0, "five_pre.drills.per_year"),
    ("warning.switch_level", "purple", "five_pre.warning.switch_level"),
])
def test_bad_values_are_refused_naming_the_key(lever: str, value: Any, key: str) -> None:
    fp = changed(FivePreConfig(), {lever: value})
    errors = five_pre_errors(fp)
    assert len(errors) == 1 and errors[0].startswith(key + ":")


def test_a_bad_value_on_the_command_line_names_key_and_override() -> None:
    with pytest.raises(ConfigError) as exc:
        compose_settings([*BASE, "five_pre.forecasting.skill=2"])
    (line,) = exc.value.errors
    assert "five_pre.forecasting.skill" in line and "five_pre.forecasting.skill=2" in line


def test_two_plans_are_refused(base: RunConfig) -> None:
    s = changed(base, {"plan": "a/plan", "five_pre.preparedness.plan": "another/plan"})
    _, errors = apply_five_pre(s)
    assert len(errors) == 1 and errors[0].startswith("five_pre.preparedness.plan:")


# ----------------------------------------------------------------------------------------------
# each lever bites, paired (the same streams)
# ----------------------------------------------------------------------------------------------
def _run(s: RunConfig) -> RunResult:
    return simulate(s)


def _first_ready(r: RunResult) -> dict[int, float]:
    """The time each grid's first post was ready (forward command)."""
    sw = r.ctx.switch
    out: dict[int, float] = {}
    for g, t in zip(sw.ep_grid, sw.ep_ready_s, strict=True):
        if math.isfinite(t):
            out[g] = min(out.get(g, math.inf), t)
    return out


@pytest.fixture(scope="module")
def runs(base: RunConfig) -> dict[str, RunResult]:
    return {"neutral": _run(base),
            "drills": _run(_with(base, "drills.per_year", 4)),
            "stock0": _run(_with(base, "preparedness.stock_factor", 0.0)),
            "lead3": _run(_with(base, "forecasting.lead_time_factor", 3.0)),
            "red": _run(_with(base, "warning.switch_level", "red"))}


def test_more_drills_switch_faster(runs: dict[str, RunResult]) -> None:
    _, lat0 = runs["neutral"].ctx.switch.latencies()
    _, lat4 = runs["drills"].ctx.switch.latencies()
    assert len(lat0) == len(lat4) > 0
    assert np.median(lat4) < np.median(lat0) and lat4.mean() < lat0.mean()


def test_no_stock_gives_more_shortages(runs: dict[str, RunResult]) -> None:
    short0 = runs["neutral"].ctx.supply.ledger.shortages
    assert runs["stock0"].ctx.supply.ledger.shortages > short0


def test_a_longer_lead_switches_earlier(runs: dict[str, RunResult]) -> None:
    """Signals 3 h ahead instead of 1 h: every grid's post is ready no later, most earlier."""
    t1, t3 = _first_ready(runs["neutral"]), _first_ready(runs["lead3"])
    assert t1.keys() == t3.keys() and t1
    early = [t3[g] < t1[g] for g in t1]
    assert all(t3[g] <= t1[g] for g in t1) and sum(early) > len(early) / 2


def test_a_higher_switch_level_switches_fewer_grids(runs: dict[str, RunResult]) -> None:
    assert 0 < len(set(runs["red"].ctx.switch.ep_grid)) < len(
        set(runs["neutral"].ctx.switch.ep_grid))


def test_the_summary_records_the_levers(base: RunConfig, tmp_path: Path) -> None:
    s = _with(base, "drills.per_year", 2)
    summary = write_outputs(simulate(s), tmp_path, __version__)
    assert summary["five_pre"]["drills"] == {"per_year": 2.0}
    assert summary["five_pre"]["forecasting"] == {"lead_time_factor": 1.0, "skill": 0.0}


@pytest.mark.slow
def test_the_experiment_file_passes_its_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """experiments/five_pre.yaml: every variant composed and checked (metric keys, pairs,
    labels), nothing run; each variant sets exactly the one lever its name says."""
    from gridsim.app import hydra_app
    from gridsim.experiments import sweep

    plans: list[Any] = []

    def record(plan: Any, launch: object) -> int:
        plans.append(plan)
        return 0

    monkeypatch.setattr(sweep, "run_sweep", record)
    root = Path(__file__).resolve().parents[1] / "experiments"
    assert hydra_app.experiment_command(root / "five_pre.yaml", []) == 0
    assert [p.name for p in plans] == ["five_pre"] and plans[0].total == 8 * 20
    s = compose_settings(["five_pre=drills_4"], root, "five_pre")[0]
    assert five_pre_record(s.five_pre) == five_pre_record(
        changed(FivePreConfig(), {"drills.per_year": 4.0}))
    assert s.evacuation.drills.per_year == 4.0
