"""Drill variants: what a seed decides about a drill, and the run it becomes.

A drill (演练) is built from a scenario, a hazard setting and the grids taking part. The seed
picks, from the named stream ``drill/variant`` (so a seed reproduces a variant and another seed
gives another), which grid the incident hits, its hazard type (among those plausible in that
grid's kind), when it comes, the wording of the scene, and one extra inject:

=====================  ==============================================================  =======
extra inject           what changes in the simulation                                  claims
=====================  ==============================================================  =======
``commander_absent``   the grid's on-site commanders are off the roster for the day:   command
                       the grid leader (or the first member) takes command
``road_blocked``       driving times into the incident grid (mutual aid, departments,  crew
                       depot) × ``drill.road_blocked_factor``
``supply_short``       the incident grid's supply point has none of the items the      supplies
                       hazard needs: borrowed from neighbours or fetched from the depot
``comms_congested``    alarm and reporting-hop delays × ``drill.comms_delay_factor``    report
``second_incident``    a second (grade IV) incident in another drill grid              its own
=====================  ==============================================================  =======

With ``drill.evacuate`` the township then orders the drill's grids evacuated, a seeded number
of minutes after the incident (drawn last, so the other choices of a seed do not depend on it):
a second warning over the drill's grids with ``evacuate: true`` (:mod:`gridsim.evacuation`).

:func:`drill_run` turns the settings and the variant into the settings and the scenario that
are simulated: the hazard setting's own warnings and incidents are replaced by the drill's
(a drill warning raises no incident rates: it is an exercise, not a storm), the day's background
incidents stay, and the horizon is ``drill.start_h + drill.horizon_h``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from gridsim.engine.hazards import catalogue_from_config
from gridsim.engine.weather import build_weather
from gridsim.errors import UserError
from gridsim.model.dists import Dist
from gridsim.model.params import RunConfig, ScriptedIncidentConfig, WarningConfig
from gridsim.model.people import Roster, role_bit
from gridsim.model.rates import unit_rates_per_day
from gridsim.model.streams import Streams
from gridsim.model.vocab import EXTRA_INJECTS, GRADES, SUPPLY_ITEMS
from gridsim.model.weather import LEVELS
from gridsim.place.scenario import Scenario

__all__ = ["EXTRA_INJECTS", "DrillError", "Variant", "choose_variant", "drill_run"]

#: Scene wordings per hazard type (see :mod:`gridsim.drills.texts`); the seed picks one.
SCENE_VARIANTS = 2

_SECOND_AFTER_MIN = (10, 25)  # the second incident comes this many minutes after the first

#: The name of the drill's evacuation order (a warning with ``evacuate: true``).
EVACUATION_WARNING = "drill_evacuation"


class DrillError(UserError):
    """A drill that cannot be built from these settings (e.g. no plausible hazard): one line,
    reported as the user's problem (exit code 2)."""


@dataclass(frozen=True)
class Variant:
    """What the seed decided: every choice a script depends on, as plain values."""

    seed: int
    grids: tuple[int, ...]  # grids taking part
    warning: WarningConfig | None  # the drill warning at T+0 (None: the incident opens it)
    incident_grid: int
    hazard: str
    grade: str
    incident_at_s: float  # T+ of the incident
    scene: int  # which scene wording
    extra: str  # one of EXTRA_INJECTS, or "" for none
    extra_grid: int = -1
    extra_at_s: float = 0.0
    second_hazard: str = ""
    second_scene: int = 0
    switched: tuple[int, ...] = field(default=())  # drill grids expected to switch
    evacuation_at_s: float = -1.0  # T+ of the evacuation order (-1: no evacuation)

    def as_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed, "grids": list(self.grids),
            "warning": None if self.warning is None else {
                "name": self.warning.name, "level": self.warning.level},
            "incident_grid": self.incident_grid, "hazard": self.hazard, "grade": self.grade,
            "incident_at_s": self.incident_at_s, "scene": self.scene, "extra": self.extra,
            "extra_grid": self.extra_grid, "extra_at_s": self.extra_at_s,
            "second_hazard": self.second_hazard, "second_scene": self.second_scene,
            "switched": list(self.switched), "evacuation_at_s": self.evacuation_at_s,
        }


def _candidate_hazards(settings: RunConfig) -> list[str]:
    """Hazard types a drill may stage: ``drill.hazards``, else the ones the hazard setting's
    warnings raise, else the whole catalogue (in catalogue order)."""
    names = list(settings.catalogue.hazards)
    if settings.drill.hazards:
        return [h for h in names if h in settings.drill.hazards]
    warned = {h for w in settings.hazard.warnings for h, m in w.rate_multipliers.items() if m > 1}
    if settings.hazard.weather.kind != "none":  # the weather raises the rain-driven ones
        warned |= {h for h in names if settings.catalogue.hazards[h].rain.max_multiplier > 1}
    return [h for h in names if h in warned] or names


def _opening_warning(settings: RunConfig, scenario: Scenario) -> tuple[str, str] | None:
    """``(name, level)`` of the warning a drill opens with: the hazard setting's first scripted
    warning, else the most severe warning its weather's forecast gives (the first of that
    level), else None."""
    if settings.hazard.warnings:
        w = settings.hazard.warnings[0]
        return w.name, w.level
    weather = settings.hazard.weather
    if weather.kind == "none" or not weather.warnings.enabled:
        return None
    run_weather = build_weather(settings, scenario, catalogue_from_config(settings.catalogue),
                                Streams(settings.seed, settings.replication))
    if run_weather is None or not run_weather.warnings:
        return None
    top = max(run_weather.warnings, key=lambda w: LEVELS.index(w.level))
    return top.name, top.level


def _plausible(settings: RunConfig, hazard: str, kind: int) -> bool:
    """Whether ``hazard`` happens at all in grids of ``kind`` (a positive rate)."""
    return bool(unit_rates_per_day(settings.catalogue.hazards[hazard])[kind] > 0)


def choose_variant(settings: RunConfig, scenario: Scenario) -> Variant:
    """The variant of ``settings.seed``: every choice is drawn from the stream
    ``drill/variant`` in a fixed order, so the same seed gives the same variant."""
    d = settings.drill
    rng = Streams(settings.seed).get("drill/variant")
    grids = scenario.region.grids
    hazards = _candidate_hazards(settings)
    bad = [g for g in d.grids if not 0 <= g < grids.n]
    if bad:
        raise DrillError(f"drill.grids: grid id {bad[0]} out of range 0..{grids.n - 1}",
                         f"scenario {settings.scenario.name}",
                         "choose grids of this scenario (gridsim scenario describe)")

    def options(g: int) -> list[str]:
        return [h for h in hazards if _plausible(settings, h, int(grids.kind[g]))]

    if d.grids:
        drill_grids = tuple(int(g) for g in d.grids)
    else:  # the seed picks one grid where some hazard is plausible
        ok = [g for g in range(grids.n) if options(g)]
        if not ok:
            raise DrillError(f"no grid of scenario {settings.scenario.name!r} has any of the "
                             f"hazards {', '.join(hazards)}", "drill.hazards",
                             "choose hazards that happen in the scenario's grid kinds")
        drill_grids = (int(ok[int(rng.integers(len(ok)))]),)
    hit = [g for g in drill_grids if options(g)]
    if not hit:
        kinds = ", ".join(sorted({grids.kind_name(g) for g in drill_grids}))
        raise DrillError(f"none of the hazards {', '.join(hazards)} happens in the drill's "
                         f"grids ({kinds}); choose other grids or drill.hazards")
    g_inc = hit[int(rng.integers(len(hit)))]
    opts = options(g_inc)
    hazard = opts[int(rng.integers(len(opts)))]
    scene = int(rng.integers(SCENE_VARIANTS))

    warning: WarningConfig | None = None
    opening = _opening_warning(settings, scenario) if d.warning else None
    if opening is not None:
        name, level = opening
        warning = WarningConfig(name=name, level=level, start_h=d.start_h,
                                duration_h=d.horizon_h + 1.0, townships=[],
                                grids=list(drill_grids), rate_multipliers={},
                                triggers_switch=True)
    lo, hi = d.incident_after_min
    after_min = int(rng.integers(math.ceil(lo), math.floor(hi) + 1)) if warning else 0
    at_s = 60.0 * after_min
    grade = d.grade
    trigger = GRADES.index(grade) <= GRADES.index(settings.response.switch.trigger_grade)
    neighbours = set(scenario.region.neighbours.of(g_inc).tolist())
    if warning is not None:
        switched = drill_grids
    elif trigger:
        switched = tuple(g for g in drill_grids if g == g_inc
                         or (settings.response.switch.trigger_neighbours and g in neighbours))
    else:
        switched = ()

    # the extra inject: only those that can matter in this drill
    hz = settings.catalogue.hazards[hazard]
    allowed = []
    for x in d.extra_injects:
        if x == "commander_absent" and not switched:
            continue
        if x == "supply_short" and not hz.supplies:
            continue
        allowed.append(x)
    allowed = [x for x in EXTRA_INJECTS if x in allowed]
    extra = allowed[int(rng.integers(len(allowed)))] if allowed else ""
    extra_grid, extra_at_s, second_hazard, second_scene = -1, 0.0, "", 0
    if extra == "commander_absent":
        extra_grid = switched[int(rng.integers(len(switched)))]
        extra_at_s = 0.0 if warning else at_s
    elif extra in ("road_blocked", "supply_short"):
        extra_grid, extra_at_s = g_inc, at_s
    elif extra == "comms_congested":
        extra_at_s = 0.0
    elif extra == "second_incident":
        others = [g for g in hit if g != g_inc] or [g_inc]
        extra_grid = others[int(rng.integers(len(others)))]
        opts2 = options(extra_grid)
        second_hazard = opts2[int(rng.integers(len(opts2)))]
        second_scene = int(rng.integers(SCENE_VARIANTS))
        extra_at_s = at_s + 60.0 * int(rng.integers(_SECOND_AFTER_MIN[0],
                                                    _SECOND_AFTER_MIN[1] + 1))
    evacuation_at_s = -1.0
    if d.evacuate:  # drawn last: the other choices of a seed do not depend on it
        lo, hi = d.evacuation_after_min
        evacuation_at_s = at_s + 60.0 * int(rng.integers(math.ceil(lo), math.floor(hi) + 1))
    return Variant(seed=settings.seed, grids=drill_grids, warning=warning, incident_grid=g_inc,
                   hazard=hazard, grade=grade, incident_at_s=at_s, scene=scene, extra=extra,
                   extra_grid=extra_grid, extra_at_s=extra_at_s, second_hazard=second_hazard,
                   second_scene=second_scene, switched=tuple(switched),
                   evacuation_at_s=evacuation_at_s)


def _scaled(d: Dist, factor: float) -> Dist:
    """``d`` with every duration multiplied by ``factor`` (the distribution of factor × X)."""
    return replace(d, **{f: getattr(d, f) * factor for f in
                         ("value_s", "mean_s", "median_s", "low_s", "high_s", "mode_s")
                         if getattr(d, f) is not None})


def _without_commanders(roster: Roster, g: int) -> Roster:
    """The roster without grid ``g``'s on-site commanders (away for the day)."""
    drop = np.zeros(roster.n, dtype=bool)
    sl = slice(int(roster.by_grid_indptr[g]), int(roster.by_grid_indptr[g + 1]))
    drop[sl] = (roster.roles[sl] & role_bit("commander")) != 0
    keep = ~drop
    counts = np.bincount(roster.grid[keep], minlength=len(roster.by_grid_indptr) - 1)
    return Roster(grid=roster.grid[keep], roles=roster.roles[keep],
                  categories=roster.categories[keep], x_m=roster.x_m[keep],
                  y_m=roster.y_m[keep], away_in_work_hours=roster.away_in_work_hours[keep],
                  by_grid_indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


def _road_blocked(scenario: Scenario, g: int, factor: float) -> Scenario:
    """Driving into grid ``g`` takes ``factor`` times as long (mutual aid from its neighbours,
    department units, the township depot); walking inside the grid is unchanged. A copy of the
    scenario that says so (``slowed``); the run's travel times apply it
    (:mod:`gridsim.engine.travel`)."""
    return replace(scenario, slowed=(*scenario.slowed, (int(g), float(factor))))


def _supply_short(scenario: Scenario, g: int, items: list[str]) -> Scenario:
    """Grid ``g``'s supply point holds none of ``items``."""
    sp = scenario.supplies
    stock = sp.grid_stock.copy()
    for it in items:
        stock[g, SUPPLY_ITEMS.index(it)] = 0
    return replace(scenario, supplies=replace(sp, grid_stock=stock))


def drill_run(settings: RunConfig, scenario: Scenario, v: Variant) -> tuple[RunConfig, Scenario]:
    """The settings and the scenario that simulate drill variant ``v``."""
    d = settings.drill
    t0_h = d.start_h
    incidents = [ScriptedIncidentConfig(hazard=v.hazard, grid=v.incident_grid,
                                        at_h=t0_h + v.incident_at_s / 3600.0, grade=v.grade)]
    if v.extra == "second_incident":
        incidents.append(ScriptedIncidentConfig(hazard=v.second_hazard, grid=v.extra_grid,
                                                at_h=t0_h + v.extra_at_s / 3600.0, grade="IV"))
    warnings = [v.warning] if v.warning else []
    if v.evacuation_at_s >= 0:  # the evacuation order: a warning that evacuates the grids
        warnings.append(WarningConfig(
            name=EVACUATION_WARNING, level=v.warning.level if v.warning else "red",
            start_h=t0_h + v.evacuation_at_s / 3600.0,
            duration_h=max(d.horizon_h - v.evacuation_at_s / 3600.0, 0.5), townships=[],
            grids=list(v.grids), rate_multipliers={}, triggers_switch=True, evacuate=True))
    # the drill stages its own warning and incidents: no weather of the hazard setting (its
    # forecast warnings and rain-driven rates would come on top of the staged ones)
    hazard = replace(settings.hazard, warnings=warnings, incidents=incidents,
                     road_closures=[], weather=replace(settings.hazard.weather, kind="none"))
    response = settings.response
    if v.extra == "comms_congested":
        f = d.comms_delay_factor
        sw = replace(response.switch, alert_delay=_scaled(response.switch.alert_delay, f))
        rep = replace(response.reporting, hop_delay_peace={
            hop: _scaled(dist, f) for hop, dist in response.reporting.hop_delay_peace.items()})
        response = replace(response, switch=sw, reporting=rep)
    output = replace(settings.output, events_log=True, figures=False, progress=False)
    run = replace(settings, hazard=hazard, response=response, output=output,
                  duration_h=t0_h + d.horizon_h)
    if v.extra == "commander_absent":
        scenario = replace(scenario, roster=_without_commanders(scenario.roster, v.extra_grid))
    elif v.extra == "road_blocked":
        scenario = _road_blocked(scenario, v.incident_grid, d.road_blocked_factor)
    elif v.extra == "supply_short":
        items = list(settings.catalogue.hazards[v.hazard].supplies)
        scenario = _supply_short(scenario, v.incident_grid, items)
    return run, scenario
