"""Peacetime campaigns (专项整治): measures, what each changes in the hazard loop, and its cost.

A campaign (config group ``campaign``: ``none``, ``ebike_2025`` and one file per measure alone)
acts on the peacetime loop (:mod:`gridsim.engine.peacetime`) only through
:class:`~gridsim.model.levers.Levers` in :class:`~gridsim.model.levers.LeverPhase` phases
(:func:`campaign_phases`). Each measure has ``enabled``, ``from_day`` (``None``: in place before
the run starts, so the run starts from the loop's steady state under it; a day: it starts that
many days into the run), ``cost_cny`` per unit with its ``cost_source`` (``"assumed"`` or a
named source) and ``zh``. The mechanisms (class ``c``, grid ``g``; ``E`` = ebike_indoor):

* ``charging_ports`` (集中充电端口): ``count`` ports (with ``for_residents``, a region gets its
  residents' share of them: :func:`region_count`) placed in the grids of ``kinds`` in
  proportion to their e-bikes (``Grids.ebikes``; largest remainder, ties to the lower grid id).
  A port serves ``bikes_per_port`` bikes; ``uptake`` of the served owners stop charging indoors:
  ``served_g = min(1, ports_g × bikes_per_port / ebikes_g)`` and
  ``new_factor[E, g] = 1 − uptake × served_g``. Cost: the region's ports × ``cost_cny``.
* ``blocking_systems`` (电梯AI阻车系统): ``count`` systems at lift doors (the region's share as
  for the ports), each covering
  ``households_per_system`` households; they go to the grids of ``kinds`` in decreasing order of
  e-bikes (ties: lower id first), each grid getting ``ceil(households_g / households_per_system)``
  before the next (the last one gets what is left). ``covered_g = min(1, systems_g ×
  households_per_system / households_g)``: ``new_factor[E, g] ×= 1 − efficacy × covered_g`` and,
  when the measure starts, ``remove_share[E, g] = efficacy × covered_g`` (the bikes already
  parked upstairs are barred). Cost: the region's systems × ``cost_cny``.
* ``door_knocking`` (敲门行动 / 人车同屋排查): party members (``Roster`` role ``party_member``)
  give ``duty_share`` of their days to it, knocking on ``households_per_person_day`` doors a
  day; a household's visit rate is ``v_g = min(1, members_g × duty_share ×
  households_per_person_day / households_g)`` per day (0 in a grid without households or
  outside ``kinds``), and ``find_extra_per_day[c, g] = v_g × find_prob[c]``: the form of the
  loop's own door-knocking channel (:mod:`gridsim.model.peace`), on top of it. Cost:
  person-days (``Σ_g members_g × duty_share`` a day over the grids of ``kinds``, over the days
  it is on) × ``cost_cny`` (a day's value).
* ``inspection_drive`` (大排查专项行动): grid workers give an extra ``duty_share`` of their days,
  inspecting ``buildings_per_person_day`` buildings a day: ``b_g = min(1, workers_g ×
  duty_share × buildings_per_person_day / buildings_g)``, ``find_extra_per_day[c, g] = b_g ×
  find_prob[c]`` (the loop's inspection channel's form, on top of it).
  Cost: person-days × ``cost_cny``.
* ``video_ai`` (视频AI识别扩面): the feeds times ``feeds_factor``:
  ``channel_factor["video_ai"] = feeds_factor`` (its finds and its false positives both scale).
  Cost: the added feeds, ``max(0, feeds_factor − 1) × feeds`` (the loop's
  ``peacetime`` video feeds), × ``cost_cny``.

A campaign's phases: the first (``from_day=None``) holds the measures already in place; then one
phase per distinct start day, its levers those of every measure started by then (factors
multiply, extra find rates add, removal shares compound: :meth:`Levers.combined`). A phase's
``remove_share`` is so the removal of all its measures together; the loop removes, when a phase
starts, only the part beyond the previous phase's (``1 − (1 − r_new) / (1 − r_old)``: the new
measures' share, :class:`gridsim.engine.peacetime.PeaceLoop`), and nothing at the start (the
run starts from the steady state under the first phase).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gridsim.errors import UserError
from gridsim.model.levers import LeverPhase, Levers
from gridsim.model.people import Roster
from gridsim.model.region import Grids
from gridsim.model.vocab import GRID_KINDS, HAZARD_CLASSES

__all__ = [
    "MEASURES",
    "BlockingSystemsConfig",
    "CampaignConfig",
    "ChargingPortsConfig",
    "DoorKnockingConfig",
    "InspectionDriveConfig",
    "VideoAiConfig",
    "blocking_allocation",
    "campaign_cost_cny",
    "campaign_costs",
    "campaign_errors",
    "campaign_phases",
    "measure_levers",
    "port_allocation",
    "region_count",
]

#: The measures of a campaign, in the order of :class:`CampaignConfig`'s fields.
MEASURES: tuple[str, ...] = (
    "charging_ports", "blocking_systems", "door_knocking", "inspection_drive", "video_ai",
)

_EBIKE = HAZARD_CLASSES.index("ebike_indoor")


def _urban() -> list[str]:
    return ["urban_community"]


def _all_kinds() -> list[str]:
    return list(GRID_KINDS)


@dataclass
class ChargingPortsConfig:
    """集中充电端口: lawful charging places, so owners stop charging e-bikes indoors."""

    enabled: bool = False
    from_day: float | None = None
    zh: str = "集中充电端口"
    count: int = 0  # ports added
    # residents ``count`` is for (a region gets its residents' share); None: this region's own
    for_residents: float | None = None
    kinds: list[str] = field(default_factory=_urban)  # grid kinds that get ports
    bikes_per_port: float = 1.0  # bikes one port serves
    uptake: float = 0.0  # share of the served owners who no longer charge indoors
    cost_cny: float = 0.0  # per port
    cost_source: str = "assumed"


@dataclass
class BlockingSystemsConfig:
    """电梯AI阻车系统: cameras at lift doors that stop e-bikes going up."""

    enabled: bool = False
    from_day: float | None = None
    zh: str = "电梯AI阻车系统"
    count: int = 0  # systems added
    for_residents: float | None = None  # as ChargingPortsConfig.for_residents
    kinds: list[str] = field(default_factory=_urban)
    households_per_system: float = 1.0  # high-rise households one system covers
    efficacy: float = 0.0  # share of the covered indoor sites it stops (and removes)
    cost_cny: float = 0.0  # per system
    cost_source: str = "assumed"


@dataclass
class DoorKnockingConfig:
    """敲门行动 / 人车同屋排查: party members check households door by door."""

    enabled: bool = False
    from_day: float | None = None
    zh: str = "敲门行动"
    kinds: list[str] = field(default_factory=_all_kinds)
    duty_share: float = 0.0  # share of a party member's days given to it
    households_per_person_day: float = 0.0
    find_prob: dict[str, float] = field(default_factory=dict)  # class -> P(found | visited)
    cost_cny: float = 0.0  # per person-day
    cost_source: str = "assumed"


@dataclass
class InspectionDriveConfig:
    """大排查专项行动: a targeted drive of the grid workers' building inspections."""

    enabled: bool = False
    from_day: float | None = None
    zh: str = "大排查专项行动"
    kinds: list[str] = field(default_factory=_all_kinds)
    duty_share: float = 0.0  # extra share of a grid worker's days
    buildings_per_person_day: float = 0.0
    find_prob: dict[str, float] = field(default_factory=dict)  # class -> P(found | inspected)
    cost_cny: float = 0.0  # per person-day
    cost_source: str = "assumed"


@dataclass
class VideoAiConfig:
    """视频AI识别扩面: more video feeds under AI recognition."""

    enabled: bool = False
    from_day: float | None = None
    zh: str = "视频AI识别扩面"
    feeds_factor: float = 1.0  # feeds after / feeds before
    cost_cny: float = 0.0  # per added feed
    cost_source: str = "assumed"


@dataclass
class CampaignConfig:
    """A peacetime campaign: its measures (each off unless ``enabled``)."""

    name: str = "none"
    zh: str = "无专项整治"
    source: str = ""  # the account it reproduces, if any
    charging_ports: ChargingPortsConfig = field(default_factory=ChargingPortsConfig)
    blocking_systems: BlockingSystemsConfig = field(default_factory=BlockingSystemsConfig)
    door_knocking: DoorKnockingConfig = field(default_factory=DoorKnockingConfig)
    inspection_drive: InspectionDriveConfig = field(default_factory=InspectionDriveConfig)
    video_ai: VideoAiConfig = field(default_factory=VideoAiConfig)


_Measure = (ChargingPortsConfig | BlockingSystemsConfig | DoorKnockingConfig
            | InspectionDriveConfig | VideoAiConfig)


# --------------------------------------------------------------------------------------------
# checks


def campaign_errors(cfg: CampaignConfig, key: str = "campaign") -> list[str]:
    """Range problems of ``cfg`` as ``key: message`` lines (empty if it can run)."""
    errors: list[str] = []

    def num(k: str, v: float, lo: float, hi: float | None = None, lo_open: bool = False) -> None:
        if v is None or not math.isfinite(float(v)):
            errors.append(f"{k}: must be a finite number, got {v}")
        elif v < lo or (lo_open and v == lo):
            errors.append(f"{k}: must be {'>' if lo_open else '>='} {lo:g}, got {v}")
        elif hi is not None and v > hi:
            errors.append(f"{k}: must be <= {hi:g}, got {v}")

    def kinds(k: str, ks: Sequence[str]) -> None:
        bad = [x for x in ks if x not in GRID_KINDS]
        if bad:
            errors.append(f"{k}: unknown grid kind(s) {', '.join(map(repr, bad))}; expected "
                          f"some of {', '.join(GRID_KINDS)}")

    def probs(k: str, d: dict[str, float]) -> None:
        for c, p in d.items():
            if c not in HAZARD_CLASSES:
                errors.append(f"{k}.{c}: unknown hazard class; expected one of "
                              f"{', '.join(HAZARD_CLASSES)}")
            else:
                num(f"{k}.{c}", p, 0.0, 1.0)

    for name in MEASURES:
        m: _Measure = getattr(cfg, name)
        k = f"{key}.{name}"
        if m.from_day is not None:
            num(f"{k}.from_day", m.from_day, 0.0)
        num(f"{k}.cost_cny", m.cost_cny, 0.0)
        if not m.cost_source.strip():
            errors.append(f"{k}.cost_source: must say where cost_cny comes from ('assumed' or "
                          "a named source), got an empty string")
        if isinstance(m, ChargingPortsConfig):
            num(f"{k}.count", m.count, 0)
            if m.for_residents is not None:
                num(f"{k}.for_residents", m.for_residents, 0.0, lo_open=True)
            kinds(f"{k}.kinds", m.kinds)
            num(f"{k}.bikes_per_port", m.bikes_per_port, 0.0, lo_open=True)
            num(f"{k}.uptake", m.uptake, 0.0, 1.0)
        elif isinstance(m, BlockingSystemsConfig):
            num(f"{k}.count", m.count, 0)
            if m.for_residents is not None:
                num(f"{k}.for_residents", m.for_residents, 0.0, lo_open=True)
            kinds(f"{k}.kinds", m.kinds)
            num(f"{k}.households_per_system", m.households_per_system, 0.0, lo_open=True)
            num(f"{k}.efficacy", m.efficacy, 0.0, 1.0)
        elif isinstance(m, DoorKnockingConfig):
            kinds(f"{k}.kinds", m.kinds)
            num(f"{k}.duty_share", m.duty_share, 0.0, 1.0)
            num(f"{k}.households_per_person_day", m.households_per_person_day, 0.0)
            probs(f"{k}.find_prob", m.find_prob)
        elif isinstance(m, InspectionDriveConfig):
            kinds(f"{k}.kinds", m.kinds)
            num(f"{k}.duty_share", m.duty_share, 0.0, 1.0)
            num(f"{k}.buildings_per_person_day", m.buildings_per_person_day, 0.0)
            probs(f"{k}.find_prob", m.find_prob)
        else:
            num(f"{k}.feeds_factor", m.feeds_factor, 0.0)
    return errors


# --------------------------------------------------------------------------------------------
# placement


def region_count(m: ChargingPortsConfig | BlockingSystemsConfig, grids: Grids) -> int:
    """The units of ``m`` in this region: ``count``, or with ``for_residents`` its residents'
    share ``round(count × residents / for_residents)`` (a city's 2,229 ports, a district's
    part of them)."""
    if m.for_residents is None:
        return int(m.count)
    return round(m.count * float(grids.population.sum()) / m.for_residents)


def _kind_mask(grids: Grids, kinds: Sequence[str]) -> np.ndarray:
    return np.isin(grids.kind, [GRID_KINDS.index(k) for k in kinds])


def port_allocation(count: int, grids: Grids, kinds: Sequence[str]) -> np.ndarray:
    """Ports per grid: ``count`` in proportion to the e-bikes of the grids of ``kinds``
    (largest remainder; equal remainders go to the lower grid id)."""
    weight = np.where(_kind_mask(grids, kinds), grids.exposure("ebikes"), 0.0)
    out = np.zeros(grids.n, dtype=np.int64)
    if count <= 0:
        return out
    total = weight.sum()
    if total <= 0:
        raise UserError(f"campaign.charging_ports: {count} ports but the scenario's "
                        f"{', '.join(kinds)} grids have no e-bikes to place them by",
                        hint="set campaign.charging_ports.kinds to grid kinds with e-bikes, or "
                             "campaign.charging_ports.enabled=false")
    quota = weight * (count / total)
    out[:] = np.floor(quota)
    left = count - int(out.sum())
    if left > 0:
        order = np.lexsort((np.arange(grids.n), -(quota - out)))  # largest remainder first
        out[order[:left]] += 1
    return out


def blocking_allocation(count: int, households_per_system: float, grids: Grids,
                        kinds: Sequence[str]) -> np.ndarray:
    """Systems per grid: to the grids of ``kinds`` with households, most e-bikes first (ties:
    lower id), each ``ceil(households / households_per_system)`` until ``count`` runs out."""
    out = np.zeros(grids.n, dtype=np.int64)
    hh = grids.exposure("households")
    eligible = np.flatnonzero(_kind_mask(grids, kinds) & (hh > 0))
    if count <= 0 or not len(eligible):
        return out
    order = eligible[np.lexsort((eligible, -grids.exposure("ebikes")[eligible]))]
    need = np.ceil(hh[order] / households_per_system).astype(np.int64)
    before = np.concatenate(([0], np.cumsum(need)[:-1]))
    out[order] = np.clip(count - before, 0, need)
    return out


# --------------------------------------------------------------------------------------------
# levers


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(len(den)), where=den > 0)


def _find_extra(rate: np.ndarray, find_prob: dict[str, float]) -> np.ndarray:
    p = np.array([float(find_prob.get(c, 0.0)) for c in HAZARD_CLASSES])
    return p[:, None] * rate[None, :]


def measure_levers(m: _Measure, grids: Grids, roster: Roster) -> Levers:
    """The levers of one measure alone (enabled or not: the caller decides)."""
    lv = Levers.neutral(grids.n)
    new = lv.new_factor.copy()
    extra = lv.find_extra_per_day.copy()
    remove = lv.remove_share.copy()
    channels: dict[str, float] = {}
    if isinstance(m, ChargingPortsConfig):
        ports = port_allocation(region_count(m, grids), grids, m.kinds)
        served = np.minimum(1.0, _share(ports * m.bikes_per_port, grids.exposure("ebikes")))
        new[_EBIKE] = 1.0 - m.uptake * served
    elif isinstance(m, BlockingSystemsConfig):
        systems = blocking_allocation(region_count(m, grids), m.households_per_system, grids,
                                      m.kinds)
        covered = np.minimum(1.0, _share(systems * m.households_per_system,
                                         grids.exposure("households")))
        new[_EBIKE] = 1.0 - m.efficacy * covered
        remove[_EBIKE] = m.efficacy * covered
    elif isinstance(m, DoorKnockingConfig):
        members = roster.count_by_grid(roster.has_role("party_member")).astype(float)
        visits = np.minimum(1.0, _share(members * m.duty_share * m.households_per_person_day,
                                        grids.exposure("households")))
        extra = _find_extra(np.where(_kind_mask(grids, m.kinds), visits, 0.0), m.find_prob)
    elif isinstance(m, InspectionDriveConfig):
        workers = roster.count_by_grid(roster.has_role("grid_worker")).astype(float)
        visits = np.minimum(1.0, _share(workers * m.duty_share * m.buildings_per_person_day,
                                        grids.exposure("buildings")))
        extra = _find_extra(np.where(_kind_mask(grids, m.kinds), visits, 0.0), m.find_prob)
    else:
        channels["video_ai"] = m.feeds_factor
    return Levers(new_factor=new, find_extra_per_day=extra, remove_share=remove,
                  channel_factor=channels)


def campaign_phases(cfg: CampaignConfig, grids: Grids, roster: Roster) -> list[LeverPhase]:
    """The campaign as lever phases (see the module's docstring): always a first phase with
    ``from_day=None`` (neutral levers if nothing is in place at the start), then one per
    distinct start day of the enabled measures, in order."""
    on = [(n, getattr(cfg, n)) for n in MEASURES if getattr(cfg, n).enabled]
    levers = {n: measure_levers(m, grids, roster) for n, m in on}
    starts: list[float | None] = [None, *sorted({m.from_day for _, m in on
                                                 if m.from_day is not None})]
    phases = []
    for day in starts:
        acc = Levers.neutral(grids.n)
        for n, m in on:
            if m.from_day is None or (day is not None and m.from_day <= day):
                acc = acc.combined(levers[n])
        phases.append(LeverPhase(from_day=day, levers=acc))
    return phases


# --------------------------------------------------------------------------------------------
# cost


def campaign_costs(cfg: CampaignConfig, grids: Grids, roster: Roster, days: float,
                   video_feeds: float) -> dict[str, float]:
    """Each enabled measure's cost in CNY over a run of ``days`` days: units × ``cost_cny``
    (ports, systems, added video feeds: counted when the measure is in place within the run),
    person-days × ``cost_cny`` (door-knocking, the inspection drive: the people of the grids
    of its ``kinds`` × ``duty_share`` × the days it is on within the run).
    ``video_feeds`` is the region's video feeds before the campaign (the loop's
    ``peacetime.channels.video_ai``: ``feeds × residents / feeds_for_residents``)."""
    out: dict[str, float] = {}
    for name in MEASURES:
        m: _Measure = getattr(cfg, name)
        if not m.enabled:
            continue
        start = 0.0 if m.from_day is None else float(m.from_day)
        if m.from_day is not None and start >= days:
            out[name] = 0.0  # starts after the run: not paid for within it
            continue
        on_days = days - start
        if isinstance(m, ChargingPortsConfig | BlockingSystemsConfig):
            units = float(region_count(m, grids))
        elif isinstance(m, DoorKnockingConfig | InspectionDriveConfig):
            role = "party_member" if isinstance(m, DoorKnockingConfig) else "grid_worker"
            people = roster.count_by_grid(roster.has_role(role))[_kind_mask(grids, m.kinds)]
            units = float(people.sum()) * m.duty_share * on_days
        else:
            units = max(0.0, m.feeds_factor - 1.0) * video_feeds
        out[name] = units * m.cost_cny
    return out


def campaign_cost_cny(cfg: CampaignConfig, grids: Grids, roster: Roster, days: float,
                      video_feeds: float) -> float:
    """The campaign's cost in CNY over a run of ``days`` days (the summary key
    ``campaign_cost_cny``): the sum of :func:`campaign_costs`."""
    return float(sum(campaign_costs(cfg, grids, roster, days, video_feeds).values()))
