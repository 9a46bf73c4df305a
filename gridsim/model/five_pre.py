"""五预 as named levers: the config block ``five_pre`` (issue 14, point 5).

The account's 五预 (风险预判、安全预警、事故预防、应急预备、实战预练: risk forecasting, safety
warning, accident prevention, emergency preparedness, drills) are not a model of their own: each
is a handle on numbers the model already has. ``five_pre`` names those handles, one sweepable
key each, with a neutral default that changes nothing, and the Hydra boundary
(:func:`gridsim.app.hydra_app.check`, through :func:`gridsim.app.five_pre_map.apply_five_pre`)
maps them onto the model's own keys exactly once, before the settings are frozen. Engine code
never reads ``five_pre``; the run's summary records its values (``summary.json`` key
``five_pre``).

The mapping, lever by lever (:data:`MAPPING` holds it as data):

==========================================  =====================================================
lever (neutral)                             the model's keys it sets
==========================================  =====================================================
``forecasting.lead_time_factor`` (1)        ``hazard.weather.warnings.lead_time_h`` × f and every
                                            ``hazard.weather.warnings.lead_time_by_level_h.<lv>``
                                            × f (forecast warnings: a scripted warning has no
                                            forecast, its start is the event itself)
``forecasting.skill`` (0)                   ``hazard.weather.warnings.depth_error_sigma`` and
                                            ``.timing_error_sd_h`` × (1 − skill)
``warning.switch_level`` (null)             ``hazard.weather.warnings.switch_level``: the lowest
                                            signal that opens a post (null: as configured)
``prevention.find_factor`` (1)              ``peacetime.find_factor.<channel>`` × f for every
                                            find channel: each channel's find rate × f (video
                                            AI's false positives with its finds), a standing
                                            lever against the reference loop
``prevention.capacity_factor`` (1)          ``peacetime.capacity_factor.<stage>`` × f for every
                                            四单四办 stage: each pool's capacity × f (servers
                                            rounded toward ``c``, service times × ``c' / (c f)``)
``preparedness.stock_factor`` (1)           ``scenario.supplies.grid_stock.<kind>.<item>`` × f,
                                            rounded to whole units (generated stock)
``preparedness.plan`` (null)                ``plan``: a plan folder applied to the run
                                            (``gridsim plan``), as ``plan=DIR``
``drills.per_year`` (null)                  ``evacuation.drills.per_year`` (null: as configured):
                                            the drill curve shortens pre-movement and the switch
==========================================  =====================================================

The incident rates that the loop drives are normalised by the steady state of the *reference*
loop (:mod:`gridsim.model.peace`): the ``peacetime`` keys ``classes``, ``channels`` and
``loop``, the loop the catalogue's base rates are calibrated with. The prevention levers do not
touch those keys: they set the standing levers ``peacetime.find_factor`` and
``peacetime.capacity_factor``, which act against the reference as a campaign's levers do
(:mod:`gridsim.model.levers`), so they move the open stock, the waits and with them the incident
rates the loop drives. docs/peacetime.md ("五预") says what this means for a planner.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAPPING", "FivePreConfig", "five_pre_errors", "five_pre_record", "is_neutral"]

#: Warning levels, lowest first (as ``hazard.weather.warnings.switch_level`` takes them).
_LEVELS = ("blue", "yellow", "orange", "red")


@dataclass
class ForecastingConfig:
    """风险预判 risk forecasting: how early and how well the forecast warns."""

    lead_time_factor: float = 1.0  # × the forecast warnings' lead (0: issued when crossed)
    skill: float = 0.0  # forecast errors × (1 − skill): 1 is a perfect forecast


@dataclass
class WarningLeverConfig:
    """安全预警 safety warning: which signal turns a grid into a forward command post."""

    switch_level: str | None = None  # blue | yellow | orange | red; null: as configured


@dataclass
class PreventionConfig:
    """事故预防 accident prevention: the peacetime hazard loop (finds and rectification)."""

    find_factor: float = 1.0  # × every find channel's rate (inspection, 随手拍, 敲门, video AI)
    capacity_factor: float = 1.0  # × the capacity of every 四单四办 stage


@dataclass
class PreparednessConfig:
    """应急预备 emergency preparedness: supplies in place, a pre-positioning plan."""

    stock_factor: float = 1.0  # × every grid supply point's stock (0: empty points)
    plan: str | None = None  # a plan folder or plan.yaml (gridsim plan), as plan=DIR


@dataclass
class DrillsConfig:
    """实战预练 drills: how often every grid drills."""

    per_year: float | None = None  # drills a year in every grid; null: as configured


@dataclass
class FivePreConfig:
    """The 五预 levers (``five_pre``): every key neutral by default (see the module)."""

    forecasting: ForecastingConfig = field(default_factory=ForecastingConfig)
    warning: WarningLeverConfig = field(default_factory=WarningLeverConfig)
    prevention: PreventionConfig = field(default_factory=PreventionConfig)
    preparedness: PreparednessConfig = field(default_factory=PreparednessConfig)
    drills: DrillsConfig = field(default_factory=DrillsConfig)


#: lever -> the model keys it sets (a ``*`` stands for every key at that level).
MAPPING: dict[str, tuple[str, ...]] = {
    "forecasting.lead_time_factor": ("hazard.weather.warnings.lead_time_h",
                                     "hazard.weather.warnings.lead_time_by_level_h.*"),
    "forecasting.skill": ("hazard.weather.warnings.depth_error_sigma",
                          "hazard.weather.warnings.timing_error_sd_h"),
    "warning.switch_level": ("hazard.weather.warnings.switch_level",),
    "prevention.find_factor": ("peacetime.find_factor.*",),
    "prevention.capacity_factor": ("peacetime.capacity_factor.*",),
    "preparedness.stock_factor": ("scenario.supplies.grid_stock.*.*",),
    "preparedness.plan": ("plan",),
    "drills.per_year": ("evacuation.drills.per_year",),
}

#: The 五预 in the account's order, with their group key here.
GROUPS: dict[str, str] = {
    "forecasting": "风险预判 risk forecasting",
    "warning": "安全预警 safety warning",
    "prevention": "事故预防 accident prevention",
    "preparedness": "应急预备 emergency preparedness",
    "drills": "实战预练 drills",
}


def _num(errors: list[str], key: str, v: float, lo: float, hi: float) -> None:
    if not (isinstance(v, int | float) and math.isfinite(v) and lo <= v <= hi):
        errors.append(f"five_pre.{key}: {v!r} out of range: expected a number in [{lo:g}, "
                      f"{hi:g}]")


def five_pre_errors(cfg: FivePreConfig) -> list[str]:
    """Range problems of the ``five_pre`` block, one ``"five_pre.<key>: message"`` line each."""
    errors: list[str] = []
    _num(errors, "forecasting.lead_time_factor", cfg.forecasting.lead_time_factor, 0.0, 24.0)
    _num(errors, "forecasting.skill", cfg.forecasting.skill, 0.0, 1.0)
    lv = cfg.warning.switch_level
    if lv is not None and lv not in _LEVELS:
        errors.append(f"five_pre.warning.switch_level: {lv!r} is not a warning level: expected "
                      f"one of {', '.join(_LEVELS)} or null")
    _num(errors, "prevention.find_factor", cfg.prevention.find_factor, 0.0, 100.0)
    _num(errors, "prevention.capacity_factor", cfg.prevention.capacity_factor, 0.0, 100.0)
    _num(errors, "preparedness.stock_factor", cfg.preparedness.stock_factor, 0.0, 100.0)
    if cfg.preparedness.plan is not None and not str(cfg.preparedness.plan).strip():
        errors.append("five_pre.preparedness.plan: an empty path: expected a plan folder or "
                      "plan.yaml, or null")
    if cfg.drills.per_year is not None:
        _num(errors, "drills.per_year", cfg.drills.per_year, 0.0, 365.0)
    return errors


def is_neutral(cfg: FivePreConfig) -> bool:
    """Whether every lever has its neutral value (the block changes nothing)."""
    return cfg == FivePreConfig() or five_pre_record(cfg) == five_pre_record(FivePreConfig())


#: The block's groups and each group's levers, in order: the keys of the summary's ``five_pre``
#: (read by gridsim.experiments.checks to know the metric keys a run writes).
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    g.name: tuple(f.name for f in dataclasses.fields(getattr(FivePreConfig(), g.name)))
    for g in dataclasses.fields(FivePreConfig)}


def five_pre_record(cfg: FivePreConfig) -> dict[str, Any]:
    """The block as plain nested dicts (the summary's ``five_pre`` key)."""
    return {g: {f: getattr(getattr(cfg, g), f) for f in RECORD_FIELDS[g]}
            for g in RECORD_FIELDS}
