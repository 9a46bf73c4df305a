"""Hand-made configurations for exact and theory tests (built on the shipped config)."""

from __future__ import annotations

from gridsim.app.cli import compose_settings
from gridsim.model.dists import Dist
from gridsim.model.params import (
    DetectionChannelConfig,
    HazardTypeConfig,
    RunConfig,
    ScriptedIncidentConfig,
    WarningConfig,
)

ZERO = Dist.fixed(0.0)


def settings_for(*overrides: str) -> RunConfig:
    """The settings ``gridsim run <overrides>`` would use."""
    return compose_settings(list(overrides))[0]


def one_grid(commanders: int, *, duration_h: float, rate_per_day: float = 0.0,
             handling: Dist | None = None, seed: int = 1) -> RunConfig:
    """One urban grid of zero area (so zero travel) whose only responders are ``commanders``
    on-site commanders (the grid leader serves no category the test hazard needs), one hazard
    type ``test`` needing one rescuer and no supplies, detected, decided and mobilised at once,
    never escalated and never switching the grid. Peacetime stock does not drive it."""
    s = settings_for("scenario=small", "hazard=calm", f"duration_h={duration_h}", f"seed={seed}",
                     "output.figures=false", "output.progress=false", "output.events_log=false")
    sc = s.scenario
    sc.counties, sc.townships_per_county, sc.villages_per_township = 1, 1, 1
    sc.urban_grids, sc.rural_grids = 1, 0
    for kc in sc.kinds.values():
        kc.area_km2 = 0.0
    sc.people.commanders_per_grid = float(commanders)
    sc.people.grid_workers_per_grid = 0
    sc.people.party_members_per_1000 = 0.0
    sc.people.away_share = {}
    s.catalogue.hazards = {
        "test": HazardTypeConfig(
            rate_per_grid_day={"urban_community": rate_per_day, "commercial": rate_per_day,
                               "enterprise": rate_per_day},
            grade_probs={"IV": 1.0}, needs={"rescue": 1}, supplies={},
            handling=handling or Dist.fixed(600.0), grade_handling_factor={},
            escalate_grade="I", escalate_after_s=1e15, department="fire",
            department_handling=Dist.fixed(60.0), driven_by_hazard_stock=False),
    }
    s.catalogue.detection = {"resident_report": DetectionChannelConfig(
        delay=ZERO, coverage={"urban_community": 1.0, "rural": 1.0, "enterprise": 1.0,
                              "commercial": 1.0})}
    d = s.response.dispatch
    d.decision_delay_peace = d.decision_delay_forward = ZERO
    d.mobilisation = {r: ZERO for r in d.mobilisation}
    d.night_factor = 1.0
    s.response.switch.trigger_grade = "I"
    s.hazard.peace_work.sensitivity = 0.0
    return s


def add_warning(s: RunConfig, start_h: float, duration_h: float) -> None:
    s.hazard.warnings = [WarningConfig(name="test_warning", level="red", start_h=start_h,
                                       duration_h=duration_h, townships=[],
                                       rate_multipliers={}, triggers_switch=True)]


def add_incident(s: RunConfig, hazard: str, grid: int, at_h: float, grade: str = "IV") -> None:
    s.hazard.incidents.append(ScriptedIncidentConfig(hazard=hazard, grid=grid, at_h=at_h,
                                                     grade=grade))
