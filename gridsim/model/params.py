"""The configuration schema: typed settings that Hydra composes and validates.

These dataclasses are registered in Hydra's ConfigStore as the schema of ``conf/`` by the Hydra
boundary (:mod:`gridsim.app.hydra_app`, the one module that imports Hydra), so an unknown key or
a value of the wrong type fails at composition, before any simulation. After composition the
boundary turns the DictConfig into these plain dataclasses and checks the value ranges
(:mod:`gridsim.model.validate`); nothing below it sees a DictConfig.

Every number has its default in the YAML files of ``conf/``, each with a comment saying whether
it is a figure of ``docs/domain.md`` or an assumption. The dataclass defaults here are only
neutral placeholders (``MISSING`` where a file must give a value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gridsim.model.campaign import CampaignConfig
from gridsim.model.dists import Dist
from gridsim.model.five_pre import FivePreConfig
from gridsim.model.vocab import FIND_CHANNELS, LOOP_STAGES

#: A value a config file must give: exactly OmegaConf's ``MISSING``, so that the structured
#: configs made from these dataclasses treat it as missing (this module does not import
#: OmegaConf: the Hydra boundary does).
MISSING: Any = "???"

__all__ = [
    "CatalogueConfig",
    "CommandConfig",
    "CompoundsConfig",
    "ConsequencesConfig",
    "CountConfig",
    "DepartmentConfig",
    "DesignStormConfig",
    "DetectionChannelConfig",
    "DispatchConfig",
    "DoorKnockingChannelConfig",
    "DrillConfig",
    "DrillCurveConfig",
    "EvacuationChannelConfig",
    "EvacuationConfig",
    "ExperimentConfig",
    "ExposureConfig",
    "FindChannelsConfig",
    "ForecastWarningConfig",
    "GradeRuleConfig",
    "GridDesignConfig",
    "HazardClassConfig",
    "HazardConfig",
    "HazardTypeConfig",
    "InspectionChannelConfig",
    "KindConfig",
    "LoopStageConfig",
    "LossConfig",
    "ObservedRainConfig",
    "OutputConfig",
    "PeacetimeConfig",
    "PeopleConfig",
    "PlanningConfig",
    "RainResponseConfig",
    "RainThresholdConfig",
    "ReportingConfig",
    "ResponseConfig",
    "RoadClosureConfig",
    "RoadsConfig",
    "RunConfig",
    "ScenarioConfig",
    "ScriptedIncidentConfig",
    "SeasonalRainConfig",
    "ShelterConfig",
    "SnapshotChannelConfig",
    "StormFormulaConfig",
    "StormTaskConfig",
    "StormWorkConfig",
    "SupplyConfig",
    "SupplyPolicyConfig",
    "SurvivalConfig",
    "SwitchConfig",
    "VideoAIChannelConfig",
    "WarningConfig",
    "WeatherConfig",
    "scenario_presets",
]


# ----------------------------------------------------------------------------------------------
# scenario: the region, its people, supplies and departments
# ----------------------------------------------------------------------------------------------
@dataclass
class KindConfig:
    """How the synthetic generator draws grids of one kind."""

    zone: str = MISSING  # "urban" or "rural": where grids of this kind lie
    weight: float = MISSING  # relative frequency of the kind within its zone
    area_km2: float = MISSING  # mean grid area
    area_cv: float = 0.3  # coefficient of variation of the area (lognormal)
    population: float = MISSING  # mean residents per grid
    population_cv: float = 0.3
    household_size: float = 2.6
    vulnerable_share: float = 0.12  # mean share of vulnerable residents (beta distributed)


@dataclass
class ExposureConfig:
    """What the synthetic generator gives grids of one kind to expose to hazards, per unit of
    what they already have (``docs/scenario_format.md``, "Exposures"). Each grid's value is the
    kind's mean times a lognormal factor of mean 1 and coefficient of variation ``cv``, and the
    grids of a kind are then scaled so that their total is exactly the mean times their
    residents, households or land: two designs of the same people and land get the same totals.
    """

    ebikes_per_resident: float = 0.0  # e-bikes (电动自行车)
    buildings_per_household: float = 0.0  # buildings (建筑), residential and other
    enterprises_per_1000_residents: float = 0.0  # enterprises (企业) with premises in the grid
    forest_share: float = 0.0  # share of the grid's land under forest (林地)
    steep_slope_share: float = 0.0  # share of the grid's land on steep slopes (陡坡)
    flood_prone_share: float = 0.0  # share of the grid's residents in flood-prone areas
    cv: float = 0.0  # per-grid variation of each exposure (lognormal; totals kept)


@dataclass
class RoadsConfig:
    """The synthetic road graph: Delaunay links between grid centres, with road classes."""

    detour_factor: float = 1.3  # road length / straight-line distance
    urban_speed_kmh: float = 25.0
    rural_speed_kmh: float = 40.0
    arterial_speed_kmh: float = 60.0
    arterials: int = 6  # radial arterial roads from the centre
    max_link_factor: float = 3.0  # drop Delaunay links longer than this × local spacing


@dataclass
class PeopleConfig:
    """Who stands by in each grid."""

    commanders_per_grid: float = MISSING  # mean on-site commanders (现场指挥官) per grid
    commanders_total: int = 0  # > 0: exactly this many in all (at least one per grid)
    grid_workers_per_grid: int = MISSING
    party_members_per_1000: float = MISSING  # reserve party members per 1,000 residents
    category_shares: dict[str, float] = field(default_factory=dict)  # 7 standby categories
    away_share: dict[str, float] = field(default_factory=dict)  # by role: away in work hours


@dataclass
class SupplyConfig:
    """Initial stock of grid supply points and township depots."""

    grid_stock: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> item -> count
    depot_stock_per_grid: dict[str, int] = field(default_factory=dict)  # item -> count per grid


@dataclass
class DepartmentConfig:
    """One professional department's stations."""

    stations: int = MISSING
    units_per_station: int = MISSING


@dataclass
class GridDesignConfig:
    """A design for the urban-community grids (see :mod:`gridsim.place.gridding`)."""

    grids: int = 0
    single_compound_share: float = 0.0  # share of grids holding one compound (单建网格)
    compounds_per_grid: float = 0.0  # mean compounds a grid manages (管理小区数)


@dataclass
class CompoundsConfig:
    """Residential compounds (小区) of the urban zone; ``count: 0`` switches them off, and
    urban-community grids are then drawn grid by grid like the other kinds."""

    count: int = 0
    people_total: int = 0  # compounds' people are scaled to this total
    people_cv: float = 1.2
    density_per_km2: float = 20000.0  # residents per km² of compound land
    design: GridDesignConfig = field(default_factory=GridDesignConfig)


@dataclass
class ScenarioConfig:
    """A scenario: a region with its grids, roads, people, supplies and departments."""

    name: str = MISSING
    generator: str = "synthetic"  # or "files": a scenario folder (docs/scenario_format.md)
    path: str = ""  # generator "files": the scenario folder (with its scenario.yaml)
    seed: int = 0  # the generator's own seed: the city stays the same across run seeds
    counties: int = 1
    townships_per_county: int = MISSING
    villages_per_township: int = MISSING
    urban_grids: int = MISSING
    rural_grids: int = MISSING
    kinds: dict[str, KindConfig] = field(default_factory=dict)
    compounds: CompoundsConfig = field(default_factory=CompoundsConfig)
    rural_land_km2: float = 0.0  # > 0: rural grid areas are scaled to cover exactly this land
    rural_population: int = 0  # > 0: rural grid populations are scaled to this total
    monitoring_points: int = 0  # key monitoring points (重点监测点) placed on grids
    exposure_per_kind: dict[str, ExposureConfig] = field(default_factory=dict)  # by grid kind
    reference: dict[str, float] = field(default_factory=dict)  # figures it is calibrated to
    roads: RoadsConfig = field(default_factory=RoadsConfig)
    people: PeopleConfig = field(default_factory=PeopleConfig)
    supplies: SupplyConfig = field(default_factory=SupplyConfig)
    departments: dict[str, DepartmentConfig] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# catalogue: the hazard types
# ----------------------------------------------------------------------------------------------
@dataclass
class DetectionChannelConfig:
    """A way an incident comes to the grid's notice (resident report, video, patrol)."""

    delay: Dist = field(default_factory=Dist)
    coverage: dict[str, float] = field(default_factory=dict)  # grid kind -> probability
    at_monitoring_points_only: bool = False  # covers only grids with a key monitoring point


@dataclass
class CountConfig:
    """People per incident (trapped, injured): a hurdle negative binomial
    (:class:`gridsim.model.consequences.HurdleCount`). The defaults: nobody."""

    any_share: float = 0.0  # share of incidents with at least one
    mean_if_any: float = 1.0  # mean count when at least one (>= 1)
    dispersion: float = 1.0  # negative binomial shape of the count beyond the first


@dataclass
class LossConfig:
    """Potential direct loss per incident in CNY: a lognormal body with a Pareto tail, and how
    fast it is realised (:mod:`gridsim.model.consequences`). The defaults: no loss."""

    median_cny: float = 0.0
    sigma: float = 1.0
    tail_from_cny: float = 0.0  # a Pareto tail above this loss (0: none)
    tail_alpha: float = 2.0  # the tail's index (> 1: a finite mean)
    time_constant_s: float = 3600.0  # τ of L = L_potential × (1 - exp(-t_control / τ))


@dataclass
class SurvivalConfig:
    """The share of trapped people alive when brought out t seconds after the incident."""

    kind: str = "weibull"  # "weibull": exp(-(t/scale_s)^shape); "piecewise": linear in points
    scale_s: float = 3600.0
    shape: float = 1.0
    times_s: list[float] = field(default_factory=list)  # piecewise: increasing times ...
    survival: list[float] = field(default_factory=list)  # ... and the share alive at each
    source: str = ""  # where the curve comes from


@dataclass
class ConsequencesConfig:
    """What an incident of a hazard type can do (:mod:`gridsim.model.consequences`): drawn at
    arrival, the same in every response variant. The defaults: no consequences (grade Ⅳ)."""

    trapped: CountConfig = field(default_factory=CountConfig)  # trapped or endangered people
    injured: CountConfig = field(default_factory=CountConfig)  # seriously injured
    loss: LossConfig = field(default_factory=LossConfig)
    correlation: float = 0.0  # Gaussian copula of trapped, injured and loss (0 .. < 1)
    extraction: Dist = field(default_factory=lambda: Dist.fixed(0.0))  # one trapped person out
    survival: SurvivalConfig = field(default_factory=SurvivalConfig)
    # share of the people it traps who are the residents a post's relocation task (storm work's
    # `relocate`) moves out first; the share already moved is spared (0: relocation spares nobody)
    relocatable_share: float = 0.0


@dataclass
class GradeRuleConfig:
    """The grade from consequences (国家突发事件分级): per grade Ⅰ..Ⅲ the deaths, seriously
    injured and direct loss (CNY) that reach it (at least); below all of Ⅲ: Ⅳ. The
    defaults: every incident is Ⅳ."""

    deaths: dict[str, float] = field(default_factory=dict)
    injured: dict[str, float] = field(default_factory=dict)
    loss_cny: dict[str, float] = field(default_factory=dict)
    source: str = ""  # the regulation the thresholds come from


@dataclass
class RainResponseConfig:
    """How a hazard type's rate responds to rain in its grid's township
    (:func:`gridsim.model.weather.rain_multiplier`): the rate is multiplied by
    ``min(max_multiplier, 1 + (I / intensity_threshold_mm_h) ** intensity_exponent
    + (R / accumulation_threshold_mm) ** accumulation_exponent)``, ``I`` the intensity of the
    weather step (mm/h), ``R`` the rain of the last ``accumulation_window_h`` hours (mm). A
    threshold of 0 switches its term off; the defaults switch the response off."""

    intensity_threshold_mm_h: float = 0.0
    intensity_exponent: float = 1.0
    accumulation_window_h: float = 24.0
    accumulation_threshold_mm: float = 0.0
    accumulation_exponent: float = 1.0
    max_multiplier: float = 1.0
    source: str = ""  # where the thresholds come from


@dataclass
class HazardTypeConfig:
    """One hazard type of the catalogue."""

    exposure: str = "grid"  # what the rate is per unit of (gridsim.model.vocab.EXPOSURES)
    rate_per_grid_day: dict[str, float] = field(default_factory=dict)  # by grid kind ("grid")
    rate_per_unit_day: dict[str, float] = field(default_factory=dict)  # by grid kind, per unit
    needs: dict[str, int] = field(default_factory=dict)  # standby category -> people
    supplies: dict[str, int] = field(default_factory=dict)  # item -> units consumed
    # the items of ``supplies`` without which the grid crew cannot bring it under control
    # (extinguishers for a fire, sandbags for a flood): control waits for them on scene
    control_supplies: list[str] = field(default_factory=list)
    handling: Dist = field(default_factory=Dist)  # on-scene handling by the grid
    grade_handling_factor: dict[str, float] = field(default_factory=dict)
    escalate_grade: str = "II"  # this grade or worse blows the whistle at once
    escalate_after_s: float = MISSING  # handling longer than this blows the whistle
    department: str = MISSING
    department_handling: Dist = field(default_factory=Dist)
    rain: RainResponseConfig = field(default_factory=RainResponseConfig)  # rain raises the rate
    consequences: ConsequencesConfig = field(default_factory=ConsequencesConfig)


@dataclass
class CatalogueConfig:
    """The hazard catalogue and how incidents are detected."""

    name: str = MISSING
    hazards: dict[str, HazardTypeConfig] = field(default_factory=dict)
    detection: dict[str, DetectionChannelConfig] = field(default_factory=dict)
    grade_rule: GradeRuleConfig = field(default_factory=GradeRuleConfig)


# ----------------------------------------------------------------------------------------------
# hazard setting: what happens during the run
# ----------------------------------------------------------------------------------------------
@dataclass
class WarningConfig:
    """A scripted warning (e.g. a rainstorm) over some townships."""

    name: str = MISSING
    level: str = "orange"  # red / orange / yellow / blue
    start_h: float = MISSING
    duration_h: float = MISSING
    townships: list[int] = field(default_factory=list)  # township ids; empty means all
    grids: list[int] = field(default_factory=list)  # grid ids; if given, these instead of townships
    rate_multipliers: dict[str, float] = field(default_factory=dict)  # hazard type -> factor
    triggers_switch: bool = True
    evacuate: bool = False  # at its start, the warned grids evacuate (gridsim.evacuation)


@dataclass
class ScriptedIncidentConfig:
    """An incident placed by hand (drills, what-if cases): it happens at the grid's centre."""

    hazard: str = MISSING  # a hazard type of the catalogue
    grid: int = MISSING  # grid id
    at_h: float = MISSING  # hours after the start
    grade: str = "IV"


@dataclass
class RoadClosureConfig:
    """A road closed during the run (a landslide, a flood): the road between two grids."""

    grids: list[int] = field(default_factory=list)  # [a, b]: the road from grid a to grid b
    at_h: float = MISSING  # hours after the start
    reason: str = ""


@dataclass
class StormFormulaConfig:
    """A storm-intensity formula of the Chinese standard form (暴雨强度公式, GB 50014-2021):
    ``i = a (1 + c lg P) / (t + b)^n``, ``i`` in mm/min, ``t`` in minutes, ``P`` in years."""

    a: float = 0.0
    c: float = 0.0
    b: float = 0.0
    n: float = 0.0
    source: str = ""


@dataclass
class DesignStormConfig:
    """A design storm (``weather.kind: design``) over the weather's townships."""

    method: str = "chicago"  # "chicago" (Keifer & Chu 1957) or "huff" (Huff 1967)
    return_period_years: float = 0.0
    start_h: float = 0.0  # hours after the run's start
    duration_h: float = 0.0
    peak_ratio: float = 0.5  # chicago: the peak at this share of the duration
    huff_quartile: int = 2  # huff: 1-4, the quarter of the storm with the heaviest rain
    formula: StormFormulaConfig = field(default_factory=StormFormulaConfig)


@dataclass
class ObservedRainConfig:
    """Observed rainfall (``weather.kind: observed``): a CSV with columns ``hour`` (or ``time``),
    ``township`` (id or name) and ``mm`` (the rain of the step that begins then)."""

    path: str = ""
    start: str = ""  # with a ``time`` column: the run's start (ISO 8601, e.g. 2025-07-01T00:00)


@dataclass
class SeasonalRainConfig:
    """Synthetic weather for many days (``weather.kind: seasonal``), by month (January first);
    see :func:`gridsim.model.weather.seasonal_series`."""

    start_date: str = "2025-01-01"  # the run's first day
    wet_day_probability: list[float] = field(default_factory=list)  # 12 values
    wet_day_mean_mm: list[float] = field(default_factory=list)  # 12 values: mean of a wet day
    daily_sigma: float = 1.0  # log-sd of a wet day's total (lognormal: heavy-tailed)
    max_daily_mm: float = 500.0  # a wet day's total is capped here
    storm_hours: list[float] = field(default_factory=lambda: [6.0, 12.0])  # [low, high]
    night_share: float = 0.5  # share of storms starting 20:00-06:00
    huff_quartile_probs: list[float] = field(default_factory=lambda: [0.25] * 4)
    township_cv: float = 0.0  # variation of a storm between townships (lognormal, mean 1)


@dataclass
class RainThresholdConfig:
    """A rainstorm signal's threshold: ``mm`` of rain within ``hours``."""

    mm: float = 0.0
    hours: float = 0.0


@dataclass
class ForecastWarningConfig:
    """Warnings issued from the forecast of the weather (``gridsim.model.weather``)."""

    enabled: bool = False
    thresholds: dict[str, RainThresholdConfig] = field(default_factory=dict)  # level -> rule
    source: str = ""  # where the thresholds come from
    lead_time_h: float = 0.0  # a level is issued this long before the forecast crosses it
    lead_time_by_level_h: dict[str, float] = field(default_factory=dict)  # level -> its own lead
    depth_error_sigma: float = 0.0  # log-sd of the forecast's depth factor (per event, township)
    timing_error_sd_h: float = 0.0  # sd of the forecast's timing error (per event, township)
    switch_level: str = "blue"  # warnings of this level or above switch their grids
    hold_until_lifted: bool = False  # true: an open post stands until every signal is lifted
    name: str = "rainstorm"  # warnings are named <name>_<level>


@dataclass
class WeatherConfig:
    """The run's rainfall (``gridsim.engine.weather``): ``kind`` none, design, observed or
    seasonal, over ``townships`` (empty: all), on steps of ``step_h``."""

    kind: str = "none"
    step_h: float = 1.0
    townships: list[int] = field(default_factory=list)
    design: DesignStormConfig = field(default_factory=DesignStormConfig)
    observed: ObservedRainConfig = field(default_factory=ObservedRainConfig)
    seasonal: SeasonalRainConfig = field(default_factory=SeasonalRainConfig)
    warnings: ForecastWarningConfig = field(default_factory=ForecastWarningConfig)


@dataclass
class HazardConfig:
    """The hazard setting: rate scale, scripted warnings and incidents, peacetime dynamics."""

    name: str = MISSING
    rate_scale: float = 1.0
    warnings: list[WarningConfig] = field(default_factory=list)
    incidents: list[ScriptedIncidentConfig] = field(default_factory=list)
    road_closures: list[RoadClosureConfig] = field(default_factory=list)  # for evacuations
    weather: WeatherConfig = field(default_factory=WeatherConfig)  # rainfall (engine.weather)


# ----------------------------------------------------------------------------------------------
# response setting: dispatch, the switch, information reporting, supplies
# ----------------------------------------------------------------------------------------------
@dataclass
class DispatchConfig:
    """How the grid answers an incident."""

    decision_delay_peace: Dist = field(default_factory=Dist)
    decision_delay_forward: Dist = field(default_factory=Dist)
    peace_roles: list[str] = field(default_factory=list)  # roles dispatchable in peacetime
    mobilisation: dict[str, Dist] = field(default_factory=dict)  # role -> call-up delay
    night_hours: list[int] = field(default_factory=lambda: [22, 6])
    night_factor: float = 1.0  # mobilisation delays are multiplied by this at night
    work_hours: list[int] = field(default_factory=lambda: [8, 18])
    mutual_aid_radius_s: float = 600.0  # neighbours within this driving time may help
    local_speed_mps: dict[str, float] = field(default_factory=dict)  # by grid kind
    intra_grid_detour: float = 1.3
    forward_detection_factor: float = 1.0  # detection delays × this in forward command
    en_route_dispatch: bool = False  # members on their way to the post can be sent from there


@dataclass
class SwitchConfig:
    """The switch 平急转换: PEACE → ALERT → FORWARD_COMMAND → RECOVERY → PEACE."""

    alert_delay: Dist = field(default_factory=Dist)  # alarm reaches a member
    assembly_mobilisation: Dist = field(default_factory=Dist)  # member gets going
    away_return: Dist = field(default_factory=Dist)  # extra time for members away at work
    quorum_share: float = 0.5  # share of the grid's members assembled for forward command
    supply_open_delay: Dist = field(default_factory=Dist)  # supply point opened
    trigger_grade: str = "III"  # an incident of this grade or worse switches its grid
    trigger_neighbours: bool = True  # ... and the grids next to it
    recovery_h: float = 6.0


@dataclass
class ReportingConfig:
    """Information reporting up the chain grid → village → township → county."""

    hop_delay_peace: dict[str, Dist] = field(default_factory=dict)
    forward_factor: float = 1.0  # hop delays × this when the grid is in forward command
    limits_s: dict[str, float] = field(default_factory=dict)  # grade -> time limit
    limits_source: str = MISSING


@dataclass
class SupplyPolicyConfig:
    """Access, borrowing and replenishment of supplies."""

    access_delay_peace: Dist = field(default_factory=Dist)  # fetch key, open the store
    borrow_from_neighbours: bool = True
    reorder_share: float = 0.5  # reorder when stock falls below this share of the initial
    depot_lead_time: Dist = field(default_factory=Dist)
    county_lead_time: Dist = field(default_factory=Dist)


@dataclass
class StormTaskConfig:
    """One task of a forward command post's storm work (:mod:`gridsim.engine.storm`)."""

    enabled: bool = True
    priority: int = 0  # higher first; a request pre-empts the tasks below its priority
    people: int = 0  # the team: people the task takes at most (it runs with one or more)
    minutes_per_unit: float = 0.0  # person-minutes per unit of work (patrol: at each point)
    exposure: dict[str, float] = field(default_factory=dict)  # units: Σ coefficient × exposure
    vulnerable_only: bool = False  # units × the grid's vulnerable share (moving them out)
    min_units: float = 0.0  # at least this many units in every grid
    consumes: dict[str, int] = field(default_factory=dict)  # supply item -> stock per unit
    batch_units: float = 0.0  # stock is taken this many units at a time (0: all at the start)
    round_period_min: float = 0.0  # patrol: a round starts every this many minutes
    roles: list[str] = field(default_factory=list)  # roles that may do it (empty: any)


@dataclass
class StormWorkConfig:
    """What the people of a forward command post do besides answering incidents."""

    enabled: bool = False
    incident_priority: int = 100  # an incident's request for people pre-empts tasks below this
    patrol_channel: str = "patrol"  # the catalogue's detection channel that storm patrols run
    patrol_coverage: float = 0.0  # share of a patrolled grid's incidents on the patrol's route
    staff_post: StormTaskConfig = field(default_factory=StormTaskConfig)
    relocate: StormTaskConfig = field(default_factory=StormTaskConfig)
    warn: StormTaskConfig = field(default_factory=StormTaskConfig)
    sandbag: StormTaskConfig = field(default_factory=StormTaskConfig)
    patrol: StormTaskConfig = field(default_factory=StormTaskConfig)


@dataclass
class CommandConfig:
    """The command structure at the post (gridsim.engine.command, docs/command.md); every
    mechanism off by default (then the run is as without it)."""

    # 分类嵌入: post tasks take their functional group's members first, and a post runs at
    # most as many task groups at once as its commander's span of control allows
    groups: bool = False
    span_of_control: int = 5  # groups a commander (or, without one, the grid leader) directs
    leaderless_span: int = 1  # groups a post with neither at hand runs at once
    task_groups: dict[str, str] = field(default_factory=dict)  # storm task -> category
    # 三级包保: the township (and the county) send spare members to grids whose tasks lag
    township_transfer: bool = False
    county_transfer: bool = False
    township_review_min: float = 30.0  # a review of the grids' reports this often
    backlog_min: float = 60.0  # unstaffed person-minutes of work that ask for help
    max_transfer: int = 2  # people sent to one grid at one review
    # the evacuation's helpers held by it in the dispatcher while they help
    concurrent_evacuation: bool = False
    evacuation_priority: int = 120  # helping holds people at this priority (>= incidents')


@dataclass
class ResponseConfig:
    """The response setting."""

    name: str = MISSING
    dispatch: DispatchConfig = field(default_factory=DispatchConfig)
    switch: SwitchConfig = field(default_factory=SwitchConfig)
    reporting: ReportingConfig = field(default_factory=ReportingConfig)
    supply: SupplyPolicyConfig = field(default_factory=SupplyPolicyConfig)
    department_speed_factor: float = 1.0  # department vehicles' speed × this
    # false: the counterfactual world with no grid response (gridsim.model.consequences):
    # no grid forces, residents call the departments themselves, through these channels only
    grid_response: bool = True
    no_grid_detection: list[str] = field(default_factory=lambda: ["resident_report"])
    # with the grid, residents still call the department themselves through those channels
    # (at the same moment as without it): the grid's whistle can only bring the unit earlier.
    # False in the dataclass so that hand-built micro tests see the grid alone; conf sets true
    residents_call_department: bool = False
    storm_work: StormWorkConfig = field(default_factory=StormWorkConfig)
    command: CommandConfig = field(default_factory=CommandConfig)


@dataclass
class OutputConfig:
    """What a run writes."""

    events_log: bool = True
    figures: bool = True
    gis: bool = True  # grids.geojson (lon/lat) and grids.gpkg (the scenario's CRS)
    progress: bool = True
    counterfactual: bool = False  # also run the same incidents with no grid response
    # with an enabled campaign measure, also run the arrivals under campaign=none (paired: the
    # same streams; conditions and arrivals only) for incidents_averted
    campaign_baseline: bool = True
    # run-size ceilings, checked before the run (gridsim.model.budget)
    max_incidents: float = 1e6  # expected incidents
    max_steps: float = 1e6  # scheduled peacetime steps


@dataclass
class ExperimentConfig:
    """What an experiment compares (set by an experiment file in ``experiments/``; empty for a
    plain run). Read by ``gridsim report``; it does not change a run's results."""

    name: str = ""
    title: str = ""
    variant_keys: list[str] = field(default_factory=list)  # config keys that define a variant
    metrics: list[str] = field(default_factory=list)  # summary.json keys of interest
    pairs: list[list[str]] = field(default_factory=list)  # [variant, baseline] to difference
    half_width: dict[str, float] = field(default_factory=dict)  # wanted 95 % CI half-widths
    relative_half_width: float = 0.05  # ... as a share of the mean, for metrics not listed
    report_dir: str = ""  # where `gridsim experiment` writes the report when the sweep ends
    labels: dict[str, str] = field(default_factory=dict)  # "key=value" (or "key") -> plain name


@dataclass
class DrillConfig:
    """A drill (演练) for ``gridsim drill script``; it does not change ``gridsim run``.

    The drill opens at ``start_h`` (clock time of T+0) with a warning over the drill's grids (if
    the hazard setting has warnings) and an incident of the chosen hazard in one of them; the
    seed picks the variant (grid, hazard, inject times, one extra inject). Defaults are
    [assumed] (documented in README "Drills").
    """

    name: str = "drill"  # the drill's name: the output folder and the script's title
    grids: list[int] = field(default_factory=list)  # grids taking part; empty: the seed picks one
    replications: int = 30  # simulations behind each time standard (median, p90)
    start_h: float = 9.0  # clock time of T+0 on the simulated day (09:00: in working hours)
    horizon_h: float = 8.0  # simulated time after T+0; later actions count as not reached
    grade: str = "III"  # grade of the drill incident (III 较大 switches its grid)
    hazards: list[str] = field(default_factory=list)  # the seed picks among these; empty: the
    #   hazard setting's warned hazard types (or the whole catalogue), where plausible in the grid
    warning: bool = True  # open with the hazard setting's first warning over the drill's grids
    incident_after_min: list[float] = field(default_factory=lambda: [10.0, 30.0])  # after the
    #   warning, the incident comes between these minutes (seeded)
    extra_injects: list[str] = field(default_factory=lambda: [
        "commander_absent", "road_blocked", "supply_short", "comms_congested", "second_incident"])
    road_blocked_factor: float = 2.0  # driving times into the grid × this (a detour)
    comms_delay_factor: float = 3.0  # alarm and reporting delays × this (congested network)
    evacuate: bool = True  # the township orders the drill's grids evacuated (转移避险) ...
    evacuation_after_min: list[float] = field(default_factory=lambda: [5.0, 15.0])  # ... this
    #   many minutes after the incident (seeded)


@dataclass
class PlanningConfig:
    """What ``gridsim plan`` decides (:mod:`gridsim.planning`): sites by LSCP, MCLP, p-median or
    p-center, stock levels, or the moves ahead of a storm (力量前置、物资前置). It does not change
    ``gridsim run``; a run applies a plan folder with ``plan=DIR``. Defaults [assumed]
    (documented in README "Pre-positioning")."""

    name: str = "standard"
    model: str = "mclp"  # lscp | mclp | pmedian | pcenter | stock | storm
    solver: str = "exact"  # exact (scipy.optimize.milp, HiGHS) | heuristic (greedy + swap)
    sites: str = "supply_points"  # supply_points | posts | stations: what the sites are
    department: str = "fire"  # sites=stations: the department whose stations are placed
    p: int = 5  # sites to open (mclp, pmedian, pcenter)
    radius_s: float = 300.0  # coverage radius, road seconds (lscp, mclp; reported for all)
    demand: str = "residents"  # residents | exposures | a run or sweep folder's incidents
    instance: str = ""  # an instance folder (demand.csv, candidates.csv, travel.csv) to solve
    time_limit_s: float = 60.0  # exact solver: stop here and report the gap
    # P4 (planning.model=stock, gridsim.planning.stock): base-stock levels from simulated demand
    replications: int = 30  # storms simulated (replication 0..R-1) for the demand [assumed]
    service_level: float = 0.95  # share of storms without a shortage [assumed]
    service_scope: str = "storms"  # storms: city-wide share of storms | grid: per grid and item
    #: CNY per unit of each supply item [assumed]: the plan's cost
    unit_cost_cny: dict[str, float] = field(default_factory=lambda: {
        "alarm": 1500.0, "extinguisher": 100.0, "first_aid_kit": 150.0, "sandbag": 5.0})
    #: the least level of each item at every grid supply point (grids with no demand) [assumed]
    min_units: dict[str, int] = field(default_factory=lambda: {
        "alarm": 0, "extinguisher": 0, "first_aid_kit": 0, "sandbag": 0})
    # P2 (gridsim plan): the instance built from a scenario
    candidates: int = 0  # 0: every grid a candidate; N: the N grids of largest weight (ties: index)
    search_radius_s: float = 0.0  # travel pairs kept; 0: radius_s (lscp, mclp), 4 x radius_s
    # (pmedian, pcenter, which assign every demand point) [assumed]
    #: what a chosen site holds, by planning.sites [assumed]: item units, people, vehicles
    holds: dict[str, dict[str, int]] = field(default_factory=lambda: {
        "supply_points": {"sandbag": 200, "first_aid_kit": 20, "extinguisher": 20, "alarm": 2},
        "posts": {"people": 4},
        "stations": {"units": 2},
    })
    # P5 (planning.model=storm, gridsim.planning.storm): the moves ahead of a storm [assumed]
    storm_lead_s: float = 3600.0  # a move arrives within this of its warning (the nowcast lead)
    storm_radius_s: float = 600.0  # and goes at most this far by road (arcs within the lesser)
    storm_sources_per_sink: int = 8  # a warned grid's nearest sources that may send (0: all)
    storm_keep_people: int = 2  # a source grid keeps at least this many members ...
    storm_keep_share: float = 0.5  # ... and this share of its members and of each item's stock
    storm_team_per_incident: float = 2.0  # people a warned grid wants per expected incident
    storm_stock_cover: float = 2.0  # units a warned grid wants: this x its expected use
    storm_max_moves: int = 0  # at most this many moves (0: no cap)
    # W3 (gridsim.planning.loop): optimise -> simulate -> reweight, for the site models; the
    # runs per iteration are planning.replications (replication 0..R-1, as stock's) [assumed]
    iterations: int = 1  # solves; 1: one solve, no runs; N > 1: the loop, at most N iterations
    reweight: float = 1.0  # lambda: w_{k+1} = W (w_k/sum w_k + lambda c_k/sum c_k) / (1 + lambda)
    reweight_by: str = "auto"  # c_k: incidents (late + unmet) | shortages (own stock lacked, CNY)
    # | auto: shortages for sites=supply_points, incidents for posts and stations
    holdout: int = 0  # H more replications R..R+H-1 per iteration, never reweighted by


# ----------------------------------------------------------------------------------------------
# evacuation: who moves, when, where and how (gridsim.evacuation)
# ----------------------------------------------------------------------------------------------
@dataclass
class EvacuationChannelConfig:
    """A way the evacuation warning reaches households (alarm, door knocking, phone)."""

    starts_at: str = "warning"  # "warning": the warning's start; "switch": the grid's post ready
    delay: Dist = field(default_factory=Dist)  # from the start to the household hearing it
    reach: float = 1.0  # share of households it reaches


@dataclass
class DrillCurveConfig:
    """How drilling shortens delays: ``m(d) = floor + (1 - floor) * exp(-d / scale_per_year)``
    multiplies pre-movement times and the switch's delays of a grid that drills ``d`` times a
    year (``m(0) = 1``: the configured delays are those of a grid that never drills)."""

    per_year: float = 0.0  # drills a year in every grid
    scale_per_year: float = 2.0
    premovement_floor: float = 0.5  # the multiplier for a grid that drills very often
    switch_floor: float = 0.6


@dataclass
class ShelterConfig:
    """Shelters placed for synthetic scenarios (a scenario folder brings its own)."""

    persons_per_shelter: int = 3000  # one shelter for about this many planned places
    capacity_share: float = 1.1  # planned places / residents of the township
    assignment: str = "nearest"  # "nearest" or "planned" (nearest with planned room)


@dataclass
class EvacuationConfig:
    """The evacuation model (转移避险): see :mod:`gridsim.evacuation` and README "Evacuation"."""

    name: str = "standard"
    channels: dict[str, EvacuationChannelConfig] = field(default_factory=dict)
    premovement_day: Dist = field(default_factory=Dist)  # warning heard -> leaving home
    premovement_night: Dist = field(default_factory=Dist)
    night_hours: list[int] = field(default_factory=lambda: [22, 6])
    drills: DrillCurveConfig = field(default_factory=DrillCurveConfig)
    walk_speed_mps: float = 1.19
    vulnerable_speed_factor: float = 0.6  # households with a vulnerable member walk slower
    drive_share: dict[str, float] = field(default_factory=dict)  # by grid kind
    drive_access_speed_mps: float = 4.0  # driving inside the grid to its exit
    access_detour: float = 1.3  # walking distance inside a grid / Manhattan distance
    specific_flow_ppms: float = 1.3  # persons per metre of effective width per second
    boundary_layer_m: float = 0.15  # on each side
    road_walk_width_m: dict[str, float] = field(default_factory=dict)  # by road class
    road_lanes: dict[str, int] = field(default_factory=dict)  # per direction, by road class
    lane_capacity_vph: float = 900.0
    door_walk_width_m: dict[str, float] = field(default_factory=dict)  # grid exits, by kind
    door_lanes: dict[str, int] = field(default_factory=dict)
    helped_households: str = "alone"  # "alone": no able member; "any": any vulnerable member
    helper_roles: list[str] = field(default_factory=list)  # who helps vulnerable residents
    helper_speed_mps: float = 1.5
    help_time: Dist = field(default_factory=Dist)  # getting a vulnerable resident ready
    search_time: Dist = field(default_factory=Dist)  # finding them, in a grid without commander
    fallback_helpers: int = 2  # responders sent to a grid with no helper at hand
    fallback_delay: Dist = field(default_factory=Dist)
    shelters: ShelterConfig = field(default_factory=ShelterConfig)
    deadline_h: float = 2.0  # "not sheltered by": hours after the warning
    horizon_h: float = 24.0  # the movement stops here; later arrivals count as not sheltered
    curve_step_s: float = 60.0  # time step of evacuation_curve.csv
    bottlenecks: int = 10  # links listed as bottlenecks


# ----------------------------------------------------------------------------------------------
# peacetime: the hazard loop (隐患闭环: 大排查 / 随手拍 / 敲门行动 / 视频AI -> 四单四办)
# ----------------------------------------------------------------------------------------------
@dataclass
class HazardClassConfig:
    """One class of peacetime hazard (``gridsim.model.vocab.HAZARD_CLASSES``): how its sites
    appear, which incident types their open stock drives, and how the loop fixes them."""

    exposure: str = "grid"  # what the stock grows with (gridsim.model.vocab.EXPOSURES)
    new_per_unit_day: dict[str, float] = field(default_factory=dict)  # by grid kind, per unit
    raises: dict[str, float] = field(default_factory=dict)  # incident type -> share of its rate
    deadline_days: float = MISSING  # 限时整改: the rectification deadline after it is found
    work: Dist = field(default_factory=Dist)  # 承办: the work time of one fix
    rework_share: float = 0.0  # owners unsatisfied at rating (业主评单): back to work


@dataclass
class InspectionChannelConfig:
    """大排查: people of ``role`` inspect buildings on ``duty_share`` of their days, in
    campaigns of ``active_days`` every ``period_days`` (0: all the time)."""

    role: str = "grid_worker"
    duty_share: float = 0.0
    buildings_per_person_day: float = 0.0
    period_days: float = 0.0
    active_days: float = 0.0
    workday_h: float = 8.0  # a person-day of inspection, hours (video AI's visits take hours)
    find_prob: dict[str, float] = field(default_factory=dict)  # class -> found if inspected


@dataclass
class SnapshotChannelConfig:
    """随手拍: residents pass a hazard ``spot_per_day`` times a day (by class); ``awareness`` of
    them report it."""

    awareness: float = 0.0
    spot_per_day: dict[str, float] = field(default_factory=dict)


@dataclass
class DoorKnockingChannelConfig:
    """敲门行动: party members visit households on ``duty_share`` of their days."""

    role: str = "party_member"
    duty_share: float = 0.0
    households_per_person_day: float = 0.0
    find_prob: dict[str, float] = field(default_factory=dict)


@dataclass
class VideoAIChannelConfig:
    """视频AI识别: ``feeds`` cameras for ``feeds_for_residents`` residents (a region gets its
    residents' share, placed by residents); ``coverage`` of a class's hazards are in view and
    each in view is detected at ``detect_per_day``; every false positive costs a grid worker's
    verification visit of ``visit_h`` hours, taken from the inspection channel's time."""

    feeds: float = 0.0
    feeds_for_residents: float = 1.0
    coverage: dict[str, float] = field(default_factory=dict)
    detect_per_day: float = 0.0
    false_positives_per_feed_day: float = 0.0
    visit_h: float = 0.0


@dataclass
class FindChannelsConfig:
    """The four find channels (``gridsim.model.vocab.FIND_CHANNELS``)."""

    inspection: InspectionChannelConfig = field(default_factory=InspectionChannelConfig)
    snapshot: SnapshotChannelConfig = field(default_factory=SnapshotChannelConfig)
    door_knocking: DoorKnockingChannelConfig = field(default_factory=DoorKnockingChannelConfig)
    video_ai: VideoAIChannelConfig = field(default_factory=VideoAIChannelConfig)


@dataclass
class LoopStageConfig:
    """One stage of 四单四办 (``gridsim.model.vocab.LOOP_STAGES``): ``servers`` actors per
    ``pool`` (grid or village), times ``servers_per`` ("": a fixed count; an exposure or a role:
    that many per unit in the pool; at least 1), each serving one case at a time for ``time``
    (the work stage takes its class's ``work`` instead)."""

    actor: str = MISSING  # residents | committee | branch | party_member | property | owners
    pool: str = "grid"  # grid | village
    servers: float = 1.0
    servers_per: str = ""
    time: Dist = field(default_factory=Dist)


@dataclass
class PeacetimeConfig:
    """The peacetime hazard loop (gridsim.model.peace, gridsim.engine.peacetime)."""

    name: str = MISSING
    step_h: float = 6.0  # one vectorised step over all grids
    classes: dict[str, HazardClassConfig] = field(default_factory=dict)
    channels: FindChannelsConfig = field(default_factory=FindChannelsConfig)
    loop: dict[str, LoopStageConfig] = field(default_factory=dict)
    # standing levers against the loop above (the reference the catalogue's rates are
    # calibrated with, gridsim.model.peace): x each channel's find rate, x each stage's capacity
    find_factor: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(FIND_CHANNELS, 1.0))
    capacity_factor: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(LOOP_STAGES, 1.0))


@dataclass
class RunConfig:
    """The root of a run's configuration."""

    seed: int = 1  # the root seed of every named random stream
    replication: int = 0  # replications of an experiment share the root seed and differ here
    duration_h: float = 72.0
    scenario: ScenarioConfig = MISSING
    catalogue: CatalogueConfig = MISSING
    hazard: HazardConfig = MISSING
    response: ResponseConfig = MISSING
    output: OutputConfig = field(default_factory=OutputConfig)
    evacuation: EvacuationConfig = field(default_factory=EvacuationConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    drill: DrillConfig = field(default_factory=DrillConfig)
    planning: PlanningConfig = field(default_factory=PlanningConfig)
    peacetime: PeacetimeConfig = MISSING
    plan: str | None = None  # a plan folder or plan.yaml applied to the run (gridsim plan)
    five_pre: FivePreConfig = field(default_factory=FivePreConfig)  # 五预 levers (boundary)
    # the peacetime campaign (conf/campaign/; gridsim.model.campaign); the default is
    # campaign=none, all measures off, as the hand-built micro tests' RunConfig gets it
    campaign: CampaignConfig = field(default_factory=CampaignConfig)


SCENARIOS_MODULE = "gridsim.scenarios"


def scenario_presets() -> dict[str, Any]:
    """The scenarios shipped in ``scenarios/``: ``name -> path`` of a preset YAML
    (``scenarios/<name>.yaml``) or of a scenario folder (``scenarios/<name>/scenario.yaml``)."""
    from importlib.resources import files  # only when the presets are listed

    root = files(SCENARIOS_MODULE)
    found: dict[str, Any] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith(".yaml"):
            found[entry.name[: -len(".yaml")]] = entry
        elif entry.is_dir() and entry.joinpath("scenario.yaml").is_file():
            found[entry.name] = entry.joinpath("scenario.yaml")
    return found
