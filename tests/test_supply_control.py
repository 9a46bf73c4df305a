"""Control waits for the crew's kit (the catalogue's ``control_supplies``).

Two grids joined by one road (grid 0 urban, grid 1 rural), zero detection, decision and
mobilisation delays, responders so fast that the crew is on scene at once, stores opened at
once. A fire (hazard ``test`` needing two extinguishers, which control it) breaks out at
t0 = 1800 s. Every expected time is the road's length over its speed (the scenario's one edge),
every loss the formula L = L_pot (1 - exp(-t / tau)) of gridsim.model.consequences at that time.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.dists import Dist
from gridsim.model.params import (
    ConsequencesConfig,
    KindConfig,
    LossConfig,
    RunConfig,
    SupplyConfig,
    SurvivalConfig,
)
from gridsim.model.validate import validate
from gridsim.model.vocab import GRID_KINDS
from gridsim.output.metrics import summarize
from tests.params import add_incident, changed, checked, one_grid

T0 = 1800.0
L_POT, TAU = 1e5, 600.0
ITEMS = {"alarm": 2, "extinguisher": 8, "first_aid_kit": 4, "sandbag": 60}


def _settings(own: dict[str, int], lender: dict[str, int], *, grid: int = 0,
              supplies: dict[str, int] | None = None,
              control: tuple[str, ...] = ("extinguisher",)) -> RunConfig:
    """The two grids, grid 0 stocked with ``own``, grid 1 with ``lender``, the township
    depot with nothing; one fire in ``grid`` at t0."""
    s = one_grid(1, duration_h=2.0, handling=Dist.fixed(60.0))
    cons = ConsequencesConfig(
        loss=LossConfig(median_cny=L_POT, sigma=0.0, time_constant_s=TAU),
        survival=SurvivalConfig(kind="weibull", scale_s=1e9, shape=1.0, source="test"))
    kinds = {k: KindConfig(zone=z, weight=1.0, area_km2=1.0, area_cv=0.0, population=2000.0,
                           population_cv=0.0)
             for k, z in (("urban_community", "urban"), ("rural", "rural"))}
    hz = dataclasses.replace(s.catalogue.hazards["test"], consequences=cons,
                             supplies=supplies or {"extinguisher": 2},
                             control_supplies=list(control))
    s = checked(changed(s, {
        "catalogue.hazards": {"test": hz}, "scenario.kinds": kinds, "scenario.rural_grids": 1,
        "scenario.supplies": SupplyConfig(grid_stock={"urban_community": own, "rural": lender},
                                          depot_stock_per_grid=dict.fromkeys(ITEMS, 0)),
        "response.dispatch.local_speed_mps": dict.fromkeys(GRID_KINDS, 1e12)}))
    return add_incident(s, "test", grid, T0 / 3600.0)


def _run(s: RunConfig) -> tuple[RunResult, float]:
    """The run and the road time between the two grids (its one edge)."""
    r = simulate(s)
    roads = r.ctx.scenario.roads
    assert len(roads.edge_u) == 1 and r.ctx.scenario.roads.length_m[0] > 100.0
    return r, float(roads.length_m[0] / roads.speed_mps[0])


def _loss(control_s: float) -> float:
    return L_POT * (1.0 - math.exp(-(control_s - T0) / TAU))


def test_a_fire_without_its_extinguisher_is_under_control_when_the_borrowed_one_arrives(
) -> None:
    r, road_s = _run(_settings({**ITEMS, "extinguisher": 0}, ITEMS))
    (inc,) = r.incidents
    assert inc.first_on_scene_s == pytest.approx(T0, abs=1e-6)
    assert inc.supply_shortage and inc.supply_delay_s == pytest.approx(road_s, rel=1e-6)
    # the kit is on scene the lender's road time after the crew opened the store
    assert inc.controlled_s == inc.crew_on_scene_s + inc.supply_delay_s == inc.handling_start_s
    assert inc.controlled_s - inc.first_on_scene_s == pytest.approx(road_s, rel=1e-6)
    assert inc.loss_cny == pytest.approx(_loss(inc.controlled_s), rel=1e-12)
    assert inc.loss_cny > _loss(inc.first_on_scene_s) + 0.1 * L_POT  # it bites
    assert inc.resolved_by == "grid" and not inc.escalated
    assert r.ctx.supply.ledger.borrowed == 2
    out = summarize(r, "test")
    assert out["supply_delay_mean_s"] == pytest.approx(road_s, abs=1e-3)
    assert out["supply_delayed_incidents"] == 1 and out["supply_shortages"] == 1


def test_a_fire_with_its_kit_at_hand_is_under_control_when_the_crew_is_on_scene() -> None:
    r, _ = _run(_settings(ITEMS, ITEMS))
    (inc,) = r.incidents
    assert not inc.supply_shortage and inc.supply_delay_s == 0.0
    assert inc.controlled_s == inc.first_on_scene_s
    assert inc.loss_cny == pytest.approx(_loss(inc.first_on_scene_s), rel=1e-12, abs=1e-6)
    out = summarize(r, "test")
    assert (out["supply_delay_mean_s"], out["supply_delayed_incidents"]) == (0.0, 0)


def test_a_borrowed_item_that_does_not_control_it_delays_handling_not_control() -> None:
    """The first-aid kit comes from the lender (handling waits for it), the extinguishers are
    at hand: under control with the first responder, as before."""
    s = _settings({**ITEMS, "first_aid_kit": 0}, ITEMS,
                  supplies={"extinguisher": 2, "first_aid_kit": 1})
    r, road_s = _run(s)
    (inc,) = r.incidents
    assert inc.handling_start_s - inc.crew_on_scene_s == pytest.approx(road_s, rel=1e-6)
    assert inc.controlled_s == inc.first_on_scene_s
    assert inc.loss_cny == pytest.approx(_loss(inc.first_on_scene_s), rel=1e-12, abs=1e-6)


def test_a_hazard_without_control_supplies_is_unchanged_by_a_borrowed_kit() -> None:
    r, road_s = _run(_settings({**ITEMS, "extinguisher": 0}, ITEMS, control=()))
    (inc,) = r.incidents
    assert inc.supply_delay_s == pytest.approx(road_s, rel=1e-6)
    assert inc.controlled_s == inc.first_on_scene_s


def test_unmet_extinguishers_wait_for_the_department() -> None:
    """No extinguisher within reach (neither grid nor the depot): the crew cannot control
    the fire in grid 1. The grid blows the whistle when it finds none (crew on scene, store
    open); the fire station stands in grid 0 (the generator puts every station there), so the
    unit arrives one road time later, controls the fire and resolves it after its handling
    (60 s); the crew goes home at the handover."""
    none = {**ITEMS, "extinguisher": 0}
    s = _settings(none, none, grid=1)
    r, road_s = _run(s)
    sc = r.ctx.scenario
    assert set(sc.stations.grid.tolist()) == {0}
    (inc,) = r.incidents
    assert r.ctx.supply.unmet_units == 2
    assert inc.escalated and inc.escalated_s == inc.handling_start_s == inc.crew_on_scene_s
    assert inc.department_arrived_s - inc.escalated_s == pytest.approx(road_s, rel=1e-6)
    assert inc.controlled_s == inc.department_arrived_s
    assert inc.loss_cny == pytest.approx(_loss(inc.department_arrived_s), rel=1e-12)
    assert inc.resolved_by == "department"
    assert inc.resolved_s == pytest.approx(inc.department_arrived_s + 60.0, abs=1e-9)
    assert summarize(r, "test")["escalations"] == 1


def test_control_supplies_must_be_the_hazards_supplies() -> None:
    s = one_grid(1, duration_h=1.0)
    hz = dataclasses.replace(s.catalogue.hazards["test"], supplies={"sandbag": 0},
                             control_supplies=["sandbag", "extinguisher"])
    bad = changed(s, {"catalogue.hazards": {"test": hz}})
    assert validate(bad) == [
        "catalogue.hazards.test.control_supplies: 'sandbag', 'extinguisher' must be items of "
        "catalogue.hazards.test.supplies with units > 0 (the kit that controls it)"]
