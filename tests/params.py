"""Typed run parameters built by hand, without Hydra, for micro tests.

Every value a micro test depends on is written here or in the test itself, so a change to the
shipped config (``conf/``, ``scenarios/``) cannot move an exact timeline, and a test pays no
composition (about a second of CPU each with Hydra). Each builder returns a
:class:`~gridsim.model.params.RunConfig` that :func:`gridsim.model.validate.validate` accepts
(:func:`checked`): the micro tests run configurations a user could write. Like the settings the
Hydra boundary makes, they are frozen (:mod:`gridsim.model.frozen`): a test changes one with
:func:`dataclasses.replace` or :func:`gridsim.model.frozen.changed`, and the helpers below
return a changed copy.
"""

from __future__ import annotations

from dataclasses import replace

from gridsim.model.dists import Dist
from gridsim.model.frozen import changed, freeze
from gridsim.model.params import (
    CatalogueConfig,
    DepartmentConfig,
    DetectionChannelConfig,
    DispatchConfig,
    EvacuationChannelConfig,
    EvacuationConfig,
    HazardClassConfig,
    HazardConfig,
    HazardTypeConfig,
    KindConfig,
    LoopStageConfig,
    OutputConfig,
    PeacetimeConfig,
    PeopleConfig,
    ReportingConfig,
    ResponseConfig,
    RunConfig,
    ScenarioConfig,
    ScriptedIncidentConfig,
    SupplyConfig,
    SupplyPolicyConfig,
    SwitchConfig,
    WarningConfig,
)
from gridsim.model.validate import validate
from gridsim.model.vocab import (
    CATEGORIES,
    DEPARTMENTS,
    GRID_KINDS,
    HAZARD_CLASSES,
    HOPS,
    LOOP_STAGES,
    ROLES,
)
from gridsim.place.roads import ROAD_CLASSES

__all__ = ["ZERO", "add_incident", "add_warning", "changed", "checked", "one_grid",
           "quiet_peacetime"]

ZERO = Dist.fixed(0.0)
#: A supply point's stock (the shipped urban-community figure; only the sandbags matter here).
ITEMS = {"alarm": 2, "extinguisher": 8, "first_aid_kit": 4, "sandbag": 60}


def quiet_peacetime() -> PeacetimeConfig:
    """A peacetime loop that raises no incident type and has no hazards (multipliers 1): every
    class with zero new hazards, every stage one server per grid taking a day."""
    day = Dist.fixed(86400.0)
    return PeacetimeConfig(
        name="quiet", step_h=6.0,
        classes={c: HazardClassConfig(exposure="grid", new_per_unit_day={}, raises={},
                                      deadline_days=7.0, work=day)
                 for c in HAZARD_CLASSES},
        loop={st: LoopStageConfig(actor="committee", time=day) for st in LOOP_STAGES})


def checked(s: RunConfig) -> RunConfig:
    """``s`` frozen, if the range checks accept it (else the test's set-up is wrong: fail
    loudly), as the Hydra boundary hands settings on."""
    errors = validate(s)
    assert not errors, errors
    return freeze(s)


def _one_grid_scenario(commanders: int) -> ScenarioConfig:
    """One urban-community grid of zero area (so every distance inside it is zero), its
    leader and ``commanders`` on-site commanders, nobody else; one station per department in
    the grid itself."""
    return ScenarioConfig(
        name="one_grid", generator="synthetic", seed=20250718, counties=1,
        townships_per_county=1, villages_per_township=1, urban_grids=1, rural_grids=0,
        kinds={"urban_community": KindConfig(zone="urban", weight=1.0, area_km2=0.0,
                                             population=2000.0)},
        people=PeopleConfig(commanders_per_grid=float(commanders), grid_workers_per_grid=0,
                            party_members_per_1000=0.0,
                            category_shares=dict.fromkeys(CATEGORIES, 1.0), away_share={}),
        supplies=SupplyConfig(grid_stock={"urban_community": dict(ITEMS)},
                              depot_stock_per_grid=dict(ITEMS)),
        departments={d: DepartmentConfig(stations=1, units_per_station=1) for d in DEPARTMENTS},
    )


def _evacuation() -> EvacuationConfig:
    """Valid evacuation settings (no warning of these runs evacuates)."""
    return EvacuationConfig(
        channels={"phone": EvacuationChannelConfig(starts_at="warning", delay=ZERO, reach=1.0)},
        premovement_day=ZERO, premovement_night=ZERO,
        road_walk_width_m=dict.fromkeys(ROAD_CLASSES, 4.0),
        road_lanes=dict.fromkeys(ROAD_CLASSES, 1),
        door_walk_width_m=dict.fromkeys(GRID_KINDS, 8.0), door_lanes=dict.fromkeys(GRID_KINDS, 1),
        help_time=ZERO, search_time=ZERO, fallback_delay=ZERO,
    )


def one_grid(commanders: int, *, duration_h: float, rate_per_day: float = 0.0,
             handling: Dist | None = None, seed: int = 1) -> RunConfig:
    """One urban grid of zero area (so zero travel) whose only responders are ``commanders``
    on-site commanders (the grid leader serves no category the test hazard needs: order and
    information), one hazard type ``test`` arriving at ``rate_per_day`` and needing one
    rescuer and no supplies, detected, decided and mobilised at once, never escalated and
    never switching the grid, in calm weather (no warning). Peacetime hazard stock does not
    drive it. Reporting takes 100 s a hop (it occupies nobody)."""
    hazard_type = HazardTypeConfig(
        rate_per_grid_day={"urban_community": rate_per_day},  # no consequences: grade IV
        needs={"rescue": 1}, supplies={}, handling=handling or Dist.fixed(600.0),
        grade_handling_factor={}, escalate_grade="I", escalate_after_s=1e15, department="fire",
        department_handling=Dist.fixed(60.0))
    catalogue = CatalogueConfig(
        name="test", hazards={"test": hazard_type},
        detection={"resident_report": DetectionChannelConfig(
            delay=ZERO, coverage=dict.fromkeys(GRID_KINDS, 1.0))})
    hazard = HazardConfig(name="calm")
    response = ResponseConfig(
        name="test",
        dispatch=DispatchConfig(
            decision_delay_peace=ZERO, decision_delay_forward=ZERO, peace_roles=list(ROLES),
            mobilisation=dict.fromkeys(ROLES, ZERO), night_factor=1.0,
            local_speed_mps=dict.fromkeys(GRID_KINDS, 1.6)),
        switch=SwitchConfig(alert_delay=Dist.fixed(120.0),
                            assembly_mobilisation=Dist.fixed(300.0),
                            away_return=Dist.fixed(1800.0), supply_open_delay=Dist.fixed(600.0),
                            trigger_grade="I"),
        reporting=ReportingConfig(hop_delay_peace=dict.fromkeys(HOPS, Dist.fixed(100.0)),
                                  limits_s={"I": 900.0, "II": 900.0, "III": 3600.0, "IV": 21600.0},
                                  limits_source="[assumed] test limits"),
        supply=SupplyPolicyConfig(access_delay_peace=ZERO, depot_lead_time=Dist.fixed(3600.0),
                                  county_lead_time=Dist.fixed(86400.0)),
    )
    return checked(RunConfig(
        seed=seed, duration_h=duration_h, scenario=_one_grid_scenario(commanders),
        catalogue=catalogue, hazard=hazard, response=response, peacetime=quiet_peacetime(),
        output=OutputConfig(events_log=False, figures=False, progress=False),
        evacuation=_evacuation()))


def add_warning(s: RunConfig, start_h: float, duration_h: float) -> RunConfig:
    """``s`` with a red warning over every grid that switches them, changing no incident
    rate, instead of its warnings."""
    warning = WarningConfig(name="test_warning", level="red", start_h=start_h,
                            duration_h=duration_h, townships=[], rate_multipliers={},
                            triggers_switch=True)
    return replace(s, hazard=replace(s.hazard, warnings=[warning]))


def add_incident(s: RunConfig, hazard: str, grid: int, at_h: float, grade: str = "IV"
                 ) -> RunConfig:
    """``s`` with one more incident placed by hand at the grid's centre."""
    incident = ScriptedIncidentConfig(hazard=hazard, grid=grid, at_h=at_h, grade=grade)
    return replace(s, hazard=replace(s.hazard, incidents=[*s.hazard.incidents, incident]))
