"""Value checks on a composed configuration, all at once, each naming its key.

Hydra's schema (:mod:`gridsim.model.params`) already rejects unknown keys and wrong types; this
module checks what a schema cannot: ranges, vocabularies, and consistency between groups.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from datetime import date
from pathlib import Path

from gridsim.model.budget import size_errors
from gridsim.model.campaign import campaign_errors
from gridsim.model.consequences import consequences_errors, grade_rule_errors
from gridsim.model.dists import Dist, dist_errors
from gridsim.model.params import (
    CatalogueConfig,
    PeacetimeConfig,
    RainResponseConfig,
    RunConfig,
    ScenarioConfig,
)
from gridsim.model.rates import GENERATED_EXPOSURES, exposure_source
from gridsim.model.vocab import (
    CATEGORIES,
    DEPARTMENTS,
    EXPOSURES,
    EXTRA_INJECTS,
    FIND_CHANNELS,
    GRADES,
    GRID_KINDS,
    HAZARD_CLASSES,
    HOPS,
    LOOP_STAGES,
    ROLES,
    SUPPLY_ITEMS,
)

__all__ = ["ConfigError", "validate"]

_LEVELS = ("red", "orange", "yellow", "blue")
_MAX_CHANNELS = 4


class ConfigError(ValueError):
    """A configuration that cannot be run; ``errors`` lists ``key: problem`` lines."""

    def __init__(self, errors: list[str], where: str = "") -> None:
        self.errors = errors
        self.where = where
        super().__init__("; ".join(errors))


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, key: str, msg: str) -> None:
        self.errors.append(f"{key}: {msg}")

    def num(self, key: str, v: float, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False) -> None:
        if v is None or not math.isfinite(float(v)):
            self.add(key, f"must be a finite number, got {v}")
            return
        if lo is not None and (v < lo or (lo_open and v == lo)):
            self.add(key, f"must be {'>' if lo_open else '>='} {lo:g}, got {v}")
        if hi is not None and v > hi:
            self.add(key, f"must be <= {hi:g}, got {v}")

    def keys(self, key: str, d: dict, allowed: tuple[str, ...], what: str) -> None:
        for k in d:
            if k not in allowed:
                self.add(f"{key}.{k}", f"unknown {what}; expected one of {', '.join(allowed)}")

    def require(self, key: str, d: dict, needed: tuple[str, ...], what: str) -> None:
        missing = [k for k in needed if k not in d]
        if missing:
            self.add(key, f"missing {what}: {', '.join(missing)}")

    def dist(self, key: str, d: Dist) -> None:
        self.errors.extend(dist_errors(d, key))

    def dists_in(self, key: str, obj: object) -> None:
        """Check every Dist field of a dataclass."""
        assert is_dataclass(obj)
        for f in fields(obj):
            v = getattr(obj, f.name)
            if isinstance(v, Dist):
                self.dist(f"{key}.{f.name}", v)

    def hours(self, key: str, v: list[int]) -> None:
        if len(v) != 2 or any(not (0 <= h <= 23) for h in v):
            self.add(key, f"must be two hours [start, end] in 0..23, got {list(v)}")


def validate(s: RunConfig) -> list[str]:
    """All problems with ``s`` (empty if it can run)."""
    c = _Checker()
    c.num("seed", s.seed, 0)
    c.num("replication", s.replication, 0)
    c.num("duration_h", s.duration_h, 0, lo_open=True)
    _scenario(c, s)
    _catalogue(c, s)
    _hazard(c, s)
    _peacetime(c, s)
    _response(c, s)
    _drill(c, s)
    # the evacuation layer checks its own settings, on demand
    from gridsim.evacuation.checks import evacuation_errors

    c.errors.extend(evacuation_errors(s))
    # the planning layer checks its own settings (planning.*), on demand
    from gridsim.planning.checks import planning_errors

    c.errors.extend(planning_errors(s))
    c.errors.extend(campaign_errors(s.campaign))
    c.num("output.max_incidents", s.output.max_incidents, 0, lo_open=True)
    c.num("output.max_steps", s.output.max_steps, 0, lo_open=True)
    _plan(c, s)
    # last: a run beyond a run-size ceiling (the estimate ignores values reported above)
    c.errors.extend(size_errors(s))
    return c.errors


def _plan(c: _Checker, s: RunConfig) -> None:
    """``plan=DIR``: a plan folder (or its plan.yaml) that reads; what it names is checked
    against the built scenario when the run starts (gridsim.planning.apply)."""
    if s.plan is None:
        return
    if not str(s.plan).strip():
        c.add("plan", "must name a plan folder or its plan.yaml (null: no plan), got ''")
        return
    # the planning layer reads plans (YAML, CSV), on demand
    from gridsim.errors import UserError
    from gridsim.planning.plan_io import read_plan

    try:
        plan = read_plan(Path(s.plan))
    except UserError as exc:
        c.errors.extend(f"plan: {line.removeprefix('plan: ')}" for line in exc.lines)
        return
    sc = s.scenario
    if sc.generator == "files":  # its grids are known once it is loaded
        return
    n_grids = sc.urban_grids + sc.rural_grids + (
        sc.compounds.design.grids if sc.compounds.count > 0 else 0)
    named = [*(plan.sites.grids if plan.sites is not None else ()),
             *(lv.id for lv in plan.stock if lv.site == "grid"),
             *(g for m in plan.moves for g in (m.from_grid, m.to_grid))]
    bad = sorted({g for g in named if not 0 <= g < n_grids})
    if bad:
        c.add("plan", f"{s.plan} names grids {', '.join(map(str, bad[:10]))}"
              f"{f' ... ({len(bad)} in all)' if len(bad) > 10 else ''} that scenario "
              f"{sc.name!r} lacks (grid ids 0..{n_grids - 1})")


def _scenario(c: _Checker, s: RunConfig) -> None:
    sc = s.scenario
    k = "scenario"
    if sc.generator == "files":
        _files(c, s)
        return
    if sc.generator != "synthetic":
        c.add(f"{k}.generator",
              f"unknown generator {sc.generator!r}; expected 'synthetic' or 'files'")
    c.num(f"{k}.counties", sc.counties, 1)
    c.num(f"{k}.townships_per_county", sc.townships_per_county, 1)
    c.num(f"{k}.villages_per_township", sc.villages_per_township, 1)
    c.num(f"{k}.urban_grids", sc.urban_grids, 0)
    c.num(f"{k}.rural_grids", sc.rural_grids, 0)
    n_compound_grids = sc.compounds.design.grids if sc.compounds.count > 0 else 0
    if sc.urban_grids + sc.rural_grids + n_compound_grids < 1:
        c.add(f"{k}.urban_grids", "urban_grids + rural_grids must be at least 1")
    c.keys(f"{k}.kinds", sc.kinds, GRID_KINDS, "grid kind")
    for zone, n in (("urban", sc.urban_grids), ("rural", sc.rural_grids)):
        w = sum(kc.weight for kc in sc.kinds.values() if kc.zone == zone)
        if n > 0 and w <= 0:
            c.add(f"{k}.kinds", f"{n} {zone} grids but no {zone} kind with a positive weight")
    for name, kc in sc.kinds.items():
        kk = f"{k}.kinds.{name}"
        if kc.zone not in ("urban", "rural"):
            c.add(f"{kk}.zone", f"must be 'urban' or 'rural', got {kc.zone!r}")
        c.num(f"{kk}.weight", kc.weight, 0)
        c.num(f"{kk}.area_km2", kc.area_km2, 0)
        c.num(f"{kk}.area_cv", kc.area_cv, 0)
        c.num(f"{kk}.population", kc.population, 0)
        c.num(f"{kk}.population_cv", kc.population_cv, 0)
        c.num(f"{kk}.household_size", kc.household_size, 0, lo_open=True)
        if not 0 < kc.vulnerable_share < 1:
            c.add(f"{kk}.vulnerable_share",
                  f"must lie strictly between 0 and 1 (a beta mean), got {kc.vulnerable_share}")
    c.num(f"{k}.rural_land_km2", sc.rural_land_km2, 0)
    c.num(f"{k}.rural_population", sc.rural_population, 0)
    c.num(f"{k}.monitoring_points", sc.monitoring_points, 0)
    _exposure_settings(c, s, k)
    cp = sc.compounds
    c.num(f"{k}.compounds.count", cp.count, 0)
    if cp.count > 0:
        if "urban_community" not in sc.kinds:
            c.add(f"{k}.compounds", "compounds need the urban_community kind in scenario.kinds")
        c.num(f"{k}.compounds.people_total", cp.people_total, 1)
        c.num(f"{k}.compounds.people_cv", cp.people_cv, 0)
        c.num(f"{k}.compounds.density_per_km2", cp.density_per_km2, 0, lo_open=True)
        c.num(f"{k}.compounds.design.grids", cp.design.grids, 1)
        c.num(f"{k}.compounds.design.single_compound_share", cp.design.single_compound_share, 0, 1)
        c.num(f"{k}.compounds.design.compounds_per_grid", cp.design.compounds_per_grid, 1)
        if cp.design.grids >= 1:
            # the place layer checks designs, on demand
            from gridsim.place.gridding import GridDesign, design_counts

            try:
                design_counts(cp.count, GridDesign(cp.design.grids, cp.design.single_compound_share,
                                                   cp.design.compounds_per_grid))
            except ValueError as exc:
                c.add(f"{k}.compounds.design", str(exc))
    r = sc.roads
    c.num(f"{k}.roads.detour_factor", r.detour_factor, 1)
    for f in ("urban_speed_kmh", "rural_speed_kmh", "arterial_speed_kmh"):
        c.num(f"{k}.roads.{f}", getattr(r, f), 0, lo_open=True)
    c.num(f"{k}.roads.arterials", r.arterials, 0)
    c.num(f"{k}.roads.max_link_factor", r.max_link_factor, 0, lo_open=True)
    _people(c, sc, k)
    _supplies(c, sc, k)
    _departments(c, sc, k)


def _exposure_settings(c: _Checker, s: RunConfig, k: str) -> None:
    """``scenario.exposure_per_kind``: kinds, ranges, and a setting for every kind a hazard's
    generated exposure needs (a synthetic scenario would otherwise give it 0 silently)."""
    sc = s.scenario
    c.keys(f"{k}.exposure_per_kind", sc.exposure_per_kind, GRID_KINDS, "grid kind")
    for kind, ec in sc.exposure_per_kind.items():
        kk = f"{k}.exposure_per_kind.{kind}"
        for field_name, _, _ in GENERATED_EXPOSURES.values():
            v = getattr(ec, field_name)
            share = field_name.endswith("_share")
            c.num(f"{kk}.{field_name}", v, 0, 1 if share else None)
        c.num(f"{kk}.cv", ec.cv, 0)
    for name, h in s.catalogue.hazards.items():
        source = exposure_source(h.exposure) if h.exposure in EXPOSURES else None
        if source is None:
            continue
        field_name = GENERATED_EXPOSURES[source][0]
        for kind, v in (h.rate_per_unit_day or {}).items():
            if kind in sc.kinds and v > 0 and kind not in sc.exposure_per_kind:
                c.add(f"{k}.exposure_per_kind.{kind}", f"missing: catalogue.hazards.{name} is "
                      f"per unit of {h.exposure!r} in {kind} grids, made from "
                      f"exposure_per_kind.{kind}.{field_name}")


def _files(c: _Checker, s: RunConfig) -> None:
    """A scenario folder: its scenario.yaml (the data files are checked when it is loaded), and
    the settings that generate the parts it has no files for."""
    sc = s.scenario

    # the place layer checks folders (pyproj), on demand
    from gridsim.place.folder import generated_parts, spec_errors

    k = "scenario"
    folder = Path(sc.path)
    if not sc.path.strip():
        c.add(f"{k}.path", "must name the scenario folder (generator 'files')")
        return
    if not (folder / "scenario.yaml").is_file():
        c.add(f"{k}.path", f"must be a folder holding a scenario.yaml, got {sc.path!r}")
        return
    for e in spec_errors(folder):
        c.add(f"{k}.path", f"{folder}/{e}")
    _exposure_settings(c, s, k)
    made = generated_parts(folder)
    if "rosters" in made:
        _people(c, sc, k)
    if made & {"supply_points", "depots"}:
        _supplies(c, sc, k)
    if "stations" in made:
        _departments(c, sc, k)


def _people(c: _Checker, sc: ScenarioConfig, k: str) -> None:
    p = sc.people
    c.num(f"{k}.people.commanders_per_grid", p.commanders_per_grid, 0)
    c.num(f"{k}.people.commanders_total", p.commanders_total, 0)
    c.num(f"{k}.people.grid_workers_per_grid", p.grid_workers_per_grid, 0)
    c.num(f"{k}.people.party_members_per_1000", p.party_members_per_1000, 0)
    c.keys(f"{k}.people.category_shares", p.category_shares, CATEGORIES, "standby category")
    for cat, v in p.category_shares.items():
        c.num(f"{k}.people.category_shares.{cat}", v, 0)
    if sum(p.category_shares.values()) <= 0:
        c.add(f"{k}.people.category_shares", "must give at least one category a positive share")
    c.keys(f"{k}.people.away_share", p.away_share, ROLES, "role")
    for role, v in p.away_share.items():
        c.num(f"{k}.people.away_share.{role}", v, 0, 1)


def _supplies(c: _Checker, sc: ScenarioConfig, k: str) -> None:
    c.keys(f"{k}.supplies.grid_stock", sc.supplies.grid_stock, GRID_KINDS, "grid kind")
    for kind, items in sc.supplies.grid_stock.items():
        c.keys(f"{k}.supplies.grid_stock.{kind}", items, SUPPLY_ITEMS, "supply item")
        for it, v in items.items():
            c.num(f"{k}.supplies.grid_stock.{kind}.{it}", v, 0)
    c.keys(f"{k}.supplies.depot_stock_per_grid", sc.supplies.depot_stock_per_grid,
           SUPPLY_ITEMS, "supply item")
    for it, v in sc.supplies.depot_stock_per_grid.items():
        c.num(f"{k}.supplies.depot_stock_per_grid.{it}", v, 0)


def _departments(c: _Checker, sc: ScenarioConfig, k: str) -> None:
    c.keys(f"{k}.departments", sc.departments, DEPARTMENTS, "department")
    for d, dc in sc.departments.items():
        c.num(f"{k}.departments.{d}.stations", dc.stations, 1)
        c.num(f"{k}.departments.{d}.units_per_station", dc.units_per_station, 1)


def _catalogue(c: _Checker, s: RunConfig) -> None:
    cat = s.catalogue
    k = "catalogue"
    if not cat.hazards:
        c.add(f"{k}.hazards", "the catalogue has no hazard types")
    for name, h in cat.hazards.items():
        kk = f"{k}.hazards.{name}"
        if h.exposure not in EXPOSURES:
            c.add(f"{kk}.exposure", f"unknown exposure {h.exposure!r}; expected one of "
                  f"{', '.join(EXPOSURES)}")
        if h.rate_per_grid_day and h.rate_per_unit_day:
            c.add(f"{kk}.rate_per_grid_day", "give rate_per_grid_day or rate_per_unit_day, not "
                  "both")
        elif not h.rate_per_grid_day and not h.rate_per_unit_day:
            c.add(f"{kk}.rate_per_unit_day", f"missing: the rate per unit of {h.exposure!r} per "
                  "day by grid kind (or rate_per_grid_day with exposure 'grid')")
        elif h.rate_per_grid_day and h.exposure != "grid":
            c.add(f"{kk}.rate_per_grid_day", f"is per grid, but exposure is {h.exposure!r}: "
                  "give rate_per_unit_day (or exposure 'grid')")
        for key in ("rate_per_grid_day", "rate_per_unit_day"):
            rates = getattr(h, key)
            c.keys(f"{kk}.{key}", rates, GRID_KINDS, "grid kind")
            for kind, v in rates.items():
                c.num(f"{kk}.{key}.{kind}", v, 0)
        c.errors.extend(consequences_errors(h.consequences, f"{kk}.consequences"))
        c.keys(f"{kk}.needs", h.needs, CATEGORIES, "standby category")
        for cat_name, v in h.needs.items():
            c.num(f"{kk}.needs.{cat_name}", v, 0)
        if sum(h.needs.values()) < 1:
            c.add(f"{kk}.needs", "must need at least one person")
        c.keys(f"{kk}.supplies", h.supplies, SUPPLY_ITEMS, "supply item")
        for it, v in h.supplies.items():
            c.num(f"{kk}.supplies.{it}", v, 0)
        lacking = [it for it in h.control_supplies if not h.supplies.get(it, 0)]
        if lacking:
            c.add(f"{kk}.control_supplies", f"{', '.join(map(repr, lacking))} must be items "
                  f"of {kk}.supplies with units > 0 (the kit that controls it)")
        c.dist(f"{kk}.handling", h.handling)
        c.dist(f"{kk}.department_handling", h.department_handling)
        _rain(c, f"{kk}.rain", h.rain)
        c.keys(f"{kk}.grade_handling_factor", h.grade_handling_factor, GRADES, "grade")
        for g, v in h.grade_handling_factor.items():
            c.num(f"{kk}.grade_handling_factor.{g}", v, 0)
        if h.escalate_grade not in GRADES:
            c.add(f"{kk}.escalate_grade",
                  f"must be one of {', '.join(GRADES)}, got {h.escalate_grade!r}")
        c.num(f"{kk}.escalate_after_s", h.escalate_after_s, 0)
        if h.department not in DEPARTMENTS:
            c.add(f"{kk}.department",
                  f"must be one of {', '.join(DEPARTMENTS)}, got {h.department!r}")
        elif s.scenario.generator != "files" and h.department not in s.scenario.departments:
            # (a scenario folder's stations are checked once it is loaded)
            c.add(f"{kk}.department", f"{h.department!r} has no stations in scenario "
                  f"{s.scenario.name!r} (scenario.departments)")
    c.errors.extend(grade_rule_errors(cat.grade_rule, f"{k}.grade_rule"))
    if not 1 <= len(cat.detection) <= _MAX_CHANNELS:
        c.add(f"{k}.detection",
              f"must have 1 to {_MAX_CHANNELS} channels, got {len(cat.detection)}")
    for name, ch in cat.detection.items():
        c.dist(f"{k}.detection.{name}.delay", ch.delay)
        c.keys(f"{k}.detection.{name}.coverage", ch.coverage, GRID_KINDS, "grid kind")
        for kind, v in ch.coverage.items():
            c.num(f"{k}.detection.{name}.coverage.{kind}", v, 0, 1)
    for kind in GRID_KINDS:
        sure = [ch.coverage.get(kind, 0.0) for ch in cat.detection.values()
                if not ch.at_monitoring_points_only]
        if cat.detection and max(sure, default=0.0) < 1:
            c.add(f"{k}.detection", f"no channel covers {kind} grids with certainty (coverage 1); "
                  "incidents there could go unnoticed forever")


def _hazard(c: _Checker, s: RunConfig) -> None:
    hz = s.hazard
    k = "hazard"
    c.num(f"{k}.rate_scale", hz.rate_scale, 0)
    n_town = s.scenario.counties * s.scenario.townships_per_county
    ranges = s.scenario.generator != "files"  # ids of a scenario folder: checked once loaded
    n_grids_w = s.scenario.urban_grids + s.scenario.rural_grids + (
        s.scenario.compounds.design.grids if s.scenario.compounds.count > 0 else 0)
    for i, w in enumerate(hz.warnings):
        kk = f"{k}.warnings[{i}]"
        if w.level not in _LEVELS:
            c.add(f"{kk}.level", f"must be one of {', '.join(_LEVELS)}, got {w.level!r}")
        c.num(f"{kk}.start_h", w.start_h, 0)
        c.num(f"{kk}.duration_h", w.duration_h, 0, lo_open=True)
        for g in w.grids:
            if s.scenario.generator != "files" and not 0 <= g < n_grids_w:
                c.add(f"{kk}.grids", f"grid id {g} out of range 0..{n_grids_w - 1}")
        for t in w.townships:
            if ranges and not 0 <= t < n_town:
                c.add(f"{kk}.townships", f"township id {t} out of range 0..{n_town - 1}")
        for name, v in w.rate_multipliers.items():
            if name not in s.catalogue.hazards:
                c.add(f"{kk}.rate_multipliers.{name}", "not a hazard type of the catalogue; "
                      f"expected one of {', '.join(s.catalogue.hazards)}")
            c.num(f"{kk}.rate_multipliers.{name}", v, 0)
    n_grids = s.scenario.urban_grids + s.scenario.rural_grids + (
        s.scenario.compounds.design.grids if s.scenario.compounds.count > 0 else 0)
    for i, si in enumerate(hz.incidents):
        kk = f"{k}.incidents[{i}]"
        if si.hazard not in s.catalogue.hazards:
            c.add(f"{kk}.hazard", f"{si.hazard!r} is not a hazard type of the catalogue; "
                  f"expected one of {', '.join(s.catalogue.hazards)}")
        if ranges and not 0 <= si.grid < n_grids:
            c.add(f"{kk}.grid", f"grid id {si.grid} out of range 0..{n_grids - 1}")
        c.num(f"{kk}.at_h", si.at_h, 0)
        if si.grade not in GRADES:
            c.add(f"{kk}.grade", f"must be one of {', '.join(GRADES)}, got {si.grade!r}")
    _weather(c, s, n_town if ranges else 0)


def _peacetime(c: _Checker, s: RunConfig) -> None:
    """The peacetime hazard loop (gridsim.model.peace): classes, channels, the 四单四办 stages."""
    # the loop's vocabularies of actors and pools live with its model
    from gridsim.model.peace import ACTORS, POOLS

    pt, k = s.peacetime, "peacetime"
    if not isinstance(pt, PeacetimeConfig):
        c.add(k, "missing: choose a peacetime option (peacetime=standard)")
        return
    c.num(f"{k}.step_h", pt.step_h, 0, lo_open=True)
    c.keys(f"{k}.classes", pt.classes, HAZARD_CLASSES, "hazard class")
    types = tuple(s.catalogue.hazards) if isinstance(s.catalogue, CatalogueConfig) else ()
    raised: dict[str, float] = {}
    for name, hc in pt.classes.items():
        kk = f"{k}.classes.{name}"
        if hc.exposure not in EXPOSURES:
            c.add(f"{kk}.exposure", f"unknown exposure {hc.exposure!r}; expected one of "
                  f"{', '.join(EXPOSURES)}")
        c.keys(f"{kk}.new_per_unit_day", hc.new_per_unit_day, GRID_KINDS, "grid kind")
        for kind, v in hc.new_per_unit_day.items():
            c.num(f"{kk}.new_per_unit_day.{kind}", v, 0)
        for h, v in hc.raises.items():
            if types and h not in types:
                c.add(f"{kk}.raises.{h}", f"not an incident type of the catalogue; expected one "
                      f"of {', '.join(types)}")
            c.num(f"{kk}.raises.{h}", v, 0, 1)
            if isinstance(v, (int, float)) and math.isfinite(v):
                raised[h] = raised.get(h, 0.0) + float(v)
        c.num(f"{kk}.deadline_days", hc.deadline_days, 0, lo_open=True)
        c.dist(f"{kk}.work", hc.work)
        c.num(f"{kk}.rework_share", hc.rework_share, 0)
        if isinstance(hc.rework_share, (int, float)) and hc.rework_share >= 1:
            c.add(f"{kk}.rework_share", f"must be < 1, got {hc.rework_share}")
    for h, total in raised.items():
        if total > 1 + 1e-9:
            c.add(f"{k}.classes.*.raises.{h}", f"the classes' shares of {h!r} add up to "
                  f"{total:g}; expected at most 1")
    ch, kc = pt.channels, f"{k}.channels"

    def probs(key: str, d: dict[str, float], hi: float | None = 1.0) -> None:
        c.keys(key, d, HAZARD_CLASSES, "hazard class")
        for name, v in d.items():
            c.num(f"{key}.{name}", v, 0, hi)

    for key, role in ((f"{kc}.inspection.role", ch.inspection.role),
                      (f"{kc}.door_knocking.role", ch.door_knocking.role)):
        if role not in ROLES:
            c.add(key, f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    ins = ch.inspection
    c.num(f"{kc}.inspection.duty_share", ins.duty_share, 0, 1)
    c.num(f"{kc}.inspection.buildings_per_person_day", ins.buildings_per_person_day, 0)
    c.num(f"{kc}.inspection.period_days", ins.period_days, 0)
    c.num(f"{kc}.inspection.active_days", ins.active_days, 0)
    if ins.period_days > 0 and ins.active_days > ins.period_days:
        c.add(f"{kc}.inspection.active_days", f"must be at most period_days "
              f"({ins.period_days}), got {ins.active_days}")
    c.num(f"{kc}.inspection.workday_h", ins.workday_h, 0, lo_open=True)
    probs(f"{kc}.inspection.find_prob", ins.find_prob)
    c.num(f"{kc}.snapshot.awareness", ch.snapshot.awareness, 0, 1)
    probs(f"{kc}.snapshot.spot_per_day", ch.snapshot.spot_per_day, None)
    dk = ch.door_knocking
    c.num(f"{kc}.door_knocking.duty_share", dk.duty_share, 0, 1)
    c.num(f"{kc}.door_knocking.households_per_person_day", dk.households_per_person_day, 0)
    probs(f"{kc}.door_knocking.find_prob", dk.find_prob)
    va = ch.video_ai
    c.num(f"{kc}.video_ai.feeds", va.feeds, 0)
    c.num(f"{kc}.video_ai.feeds_for_residents", va.feeds_for_residents, 0, lo_open=True)
    probs(f"{kc}.video_ai.coverage", va.coverage)
    c.num(f"{kc}.video_ai.detect_per_day", va.detect_per_day, 0)
    c.num(f"{kc}.video_ai.false_positives_per_feed_day", va.false_positives_per_feed_day, 0)
    c.num(f"{kc}.video_ai.visit_h", va.visit_h, 0)
    c.keys(f"{k}.loop", pt.loop, LOOP_STAGES, "loop stage")
    c.require(f"{k}.loop", pt.loop, LOOP_STAGES, "stages")
    for name, st in pt.loop.items():
        kk = f"{k}.loop.{name}"
        if st.actor not in ACTORS:
            c.add(f"{kk}.actor", f"unknown actor {st.actor!r}; expected one of "
                  f"{', '.join(ACTORS)}")
        if st.pool not in POOLS:
            c.add(f"{kk}.pool", f"unknown pool {st.pool!r}; expected one of {', '.join(POOLS)}")
        c.num(f"{kk}.servers", st.servers, 0, lo_open=True)
        if st.servers_per and st.servers_per not in EXPOSURES + ROLES:
            c.add(f"{kk}.servers_per", f"unknown {st.servers_per!r}; expected \"\" (a fixed "
                  f"count), an exposure ({', '.join(EXPOSURES)}) or a role ({', '.join(ROLES)})")
        if name != "work":
            c.dist(f"{kk}.time", st.time)
    # the standing levers against that reference loop (gridsim.model.peace)
    c.keys(f"{k}.find_factor", pt.find_factor, FIND_CHANNELS, "find channel")
    for name, v in pt.find_factor.items():
        c.num(f"{k}.find_factor.{name}", v, 0)
    c.keys(f"{k}.capacity_factor", pt.capacity_factor, LOOP_STAGES, "loop stage")
    for name, v in pt.capacity_factor.items():
        c.num(f"{k}.capacity_factor.{name}", v, 0, lo_open=True)


def _rain(c: _Checker, k: str, rc: RainResponseConfig) -> None:
    """A hazard type's response to rain (gridsim.model.weather.rain_multiplier)."""
    c.num(f"{k}.max_multiplier", rc.max_multiplier, 1)
    c.num(f"{k}.intensity_threshold_mm_h", rc.intensity_threshold_mm_h, 0)
    c.num(f"{k}.accumulation_threshold_mm", rc.accumulation_threshold_mm, 0)
    if rc.intensity_threshold_mm_h > 0:
        c.num(f"{k}.intensity_exponent", rc.intensity_exponent, 0, 10, lo_open=True)
    if rc.accumulation_threshold_mm > 0:
        c.num(f"{k}.accumulation_exponent", rc.accumulation_exponent, 0, 10, lo_open=True)
        c.num(f"{k}.accumulation_window_h", rc.accumulation_window_h, 0, lo_open=True)
    if rc.max_multiplier > 1 and not (rc.intensity_threshold_mm_h > 0
                                      or rc.accumulation_threshold_mm > 0):
        c.add(f"{k}", "max_multiplier > 1 but both thresholds are 0: give a threshold")


def _weather(c: _Checker, s: RunConfig, n_town: int) -> None:
    """``hazard.weather``: the kind and its fields, the forecast warnings (n_town 0: township ids
    are checked once the scenario is loaded)."""
    wc = s.hazard.weather
    k = "hazard.weather"
    kinds = ("none", "design", "observed", "seasonal")
    if wc.kind not in kinds:
        c.add(f"{k}.kind", f"must be one of {', '.join(kinds)}, got {wc.kind!r}")
        return
    if wc.kind == "none":
        return
    c.num(f"{k}.step_h", wc.step_h, 1 / 60, 24)
    for t in wc.townships:
        if n_town and not 0 <= t < n_town:
            c.add(f"{k}.townships", f"township id {t} out of range 0..{n_town - 1}")
    step = wc.step_h if math.isfinite(wc.step_h) and wc.step_h > 0 else 1.0

    def on_steps(key: str, hours: float) -> None:
        if math.isfinite(hours) and abs(round(hours / step) * step - hours) > 1e-9:
            c.add(key, f"must be a multiple of hazard.weather.step_h ({step:g} h), got {hours:g}")

    if wc.kind == "design":
        d, kd = wc.design, f"{k}.design"
        if d.method not in ("chicago", "huff"):
            c.add(f"{kd}.method", f"must be 'chicago' or 'huff', got {d.method!r}")
        c.num(f"{kd}.return_period_years", d.return_period_years, 1)
        c.num(f"{kd}.start_h", d.start_h, 0)
        on_steps(f"{kd}.start_h", d.start_h)
        c.num(f"{kd}.duration_h", d.duration_h, 0, 24 * 30, lo_open=True)
        if not 0 < d.peak_ratio < 1:
            c.add(f"{kd}.peak_ratio", f"must lie strictly between 0 and 1, got {d.peak_ratio}")
        if d.huff_quartile not in (1, 2, 3, 4):
            c.add(f"{kd}.huff_quartile", f"must be 1, 2, 3 or 4, got {d.huff_quartile}")
        f = d.formula
        c.num(f"{kd}.formula.a", f.a, 0, lo_open=True)
        c.num(f"{kd}.formula.c", f.c, 0)
        c.num(f"{kd}.formula.b", f.b, 0, lo_open=True)
        c.num(f"{kd}.formula.n", f.n, 0, 1, lo_open=True)
        if not f.source.strip():
            c.add(f"{kd}.formula.source", "must name the storm-intensity formula's source")
    elif wc.kind == "observed":
        if not wc.observed.path.strip():
            c.add(f"{k}.observed.path", "must name the rainfall CSV (hour,township,mm)")
        elif not Path(wc.observed.path).is_file():
            c.add(f"{k}.observed.path", f"no such file: {wc.observed.path!r}")
    else:
        se, ks = wc.seasonal, f"{k}.seasonal"
        try:
            date.fromisoformat(se.start_date)
        except ValueError:
            c.add(f"{ks}.start_date", f"must be a date (2025-01-01), got {se.start_date!r}")
        for name, vals, hi in (("wet_day_probability", se.wet_day_probability, 1.0),
                               ("wet_day_mean_mm", se.wet_day_mean_mm, None)):
            if len(vals) != 12:
                c.add(f"{ks}.{name}", f"must give 12 monthly values (January first), got "
                      f"{len(vals)}")
            for i, v in enumerate(vals):
                c.num(f"{ks}.{name}[{i}]", v, 0, hi)
        c.num(f"{ks}.daily_sigma", se.daily_sigma, 0, 3)
        c.num(f"{ks}.max_daily_mm", se.max_daily_mm, 0, lo_open=True)
        hrs = list(se.storm_hours)
        if len(hrs) != 2 or not all(math.isfinite(h) for h in hrs) or not 1 <= hrs[0] <= hrs[1]:
            c.add(f"{ks}.storm_hours",
                  f"must be [low, high] hours with 1 <= low <= high, got {hrs}")
        else:
            on_steps(f"{ks}.storm_hours", hrs[0])
        c.num(f"{ks}.night_share", se.night_share, 0, 1)
        q = list(se.huff_quartile_probs)
        if len(q) != 4 or any(not math.isfinite(v) or v < 0 for v in q) or abs(sum(q) - 1) > 1e-6:
            c.add(f"{ks}.huff_quartile_probs", f"must be 4 probabilities summing to 1, got {q}")
        c.num(f"{ks}.township_cv", se.township_cv, 0, 3)
    fw, kw = wc.warnings, f"{k}.warnings"
    if not fw.enabled:
        return
    c.require(f"{kw}.thresholds", fw.thresholds, _LEVELS, "warning levels")
    c.keys(f"{kw}.thresholds", fw.thresholds, _LEVELS, "warning level")
    for lv, th in fw.thresholds.items():
        c.num(f"{kw}.thresholds.{lv}.mm", th.mm, 0, lo_open=True)
        c.num(f"{kw}.thresholds.{lv}.hours", th.hours, 0, lo_open=True)
        on_steps(f"{kw}.thresholds.{lv}.hours", th.hours)
    if not fw.source.strip():
        c.add(f"{kw}.source", "must name the source of the thresholds (e.g. GB/T 27962-2011)")
    c.num(f"{kw}.lead_time_h", fw.lead_time_h, 0, 72)
    c.keys(f"{kw}.lead_time_by_level_h", fw.lead_time_by_level_h, _LEVELS, "warning level")
    for lv, lead in fw.lead_time_by_level_h.items():
        c.num(f"{kw}.lead_time_by_level_h.{lv}", lead, 0, 72)
    c.num(f"{kw}.depth_error_sigma", fw.depth_error_sigma, 0, 3)
    c.num(f"{kw}.timing_error_sd_h", fw.timing_error_sd_h, 0, 72)
    if fw.switch_level and fw.switch_level not in _LEVELS:
        c.add(f"{kw}.switch_level", f"must be one of {', '.join(_LEVELS)} or '' (no switch), "
              f"got {fw.switch_level!r}")
    if not fw.name.strip():
        c.add(f"{kw}.name", "must be a non-empty name")


def _response(c: _Checker, s: RunConfig) -> None:
    r = s.response
    k = "response"
    d = r.dispatch
    c.dists_in(f"{k}.dispatch", d)
    c.keys(f"{k}.dispatch.peace_roles", {x: 1 for x in d.peace_roles}, ROLES, "role")
    c.keys(f"{k}.dispatch.mobilisation", d.mobilisation, ROLES, "role")
    c.require(f"{k}.dispatch.mobilisation", d.mobilisation, ROLES, "roles")
    for role, dist in d.mobilisation.items():
        c.dist(f"{k}.dispatch.mobilisation.{role}", dist)
    c.hours(f"{k}.dispatch.night_hours", d.night_hours)
    c.hours(f"{k}.dispatch.work_hours", d.work_hours)
    c.num(f"{k}.dispatch.night_factor", d.night_factor, 0, lo_open=True)
    c.num(f"{k}.dispatch.mutual_aid_radius_s", d.mutual_aid_radius_s, 0)
    c.keys(f"{k}.dispatch.local_speed_mps", d.local_speed_mps, GRID_KINDS, "grid kind")
    c.require(f"{k}.dispatch.local_speed_mps", d.local_speed_mps, GRID_KINDS, "grid kinds")
    for kind, v in d.local_speed_mps.items():
        c.num(f"{k}.dispatch.local_speed_mps.{kind}", v, 0, lo_open=True)
    c.num(f"{k}.dispatch.intra_grid_detour", d.intra_grid_detour, 1)
    c.num(f"{k}.dispatch.forward_detection_factor", d.forward_detection_factor, 0)
    sw = r.switch
    c.dists_in(f"{k}.switch", sw)
    c.num(f"{k}.switch.quorum_share", sw.quorum_share, 0, 1, lo_open=True)
    if sw.trigger_grade not in GRADES:
        c.add(f"{k}.switch.trigger_grade",
              f"must be one of {', '.join(GRADES)}, got {sw.trigger_grade!r}")
    c.num(f"{k}.switch.recovery_h", sw.recovery_h, 0)
    rp = r.reporting
    c.keys(f"{k}.reporting.hop_delay_peace", rp.hop_delay_peace, HOPS, "reporting hop")
    c.require(f"{k}.reporting.hop_delay_peace", rp.hop_delay_peace, HOPS, "hops")
    for hop, dist in rp.hop_delay_peace.items():
        c.dist(f"{k}.reporting.hop_delay_peace.{hop}", dist)
    c.num(f"{k}.reporting.forward_factor", rp.forward_factor, 0)
    c.keys(f"{k}.reporting.limits_s", rp.limits_s, GRADES, "grade")
    c.require(f"{k}.reporting.limits_s", rp.limits_s, GRADES, "grades")
    for g, v in rp.limits_s.items():
        c.num(f"{k}.reporting.limits_s.{g}", v, 0, lo_open=True)
    if not rp.limits_source.strip():
        c.add(f"{k}.reporting.limits_source", "must name the source of the time limits")
    sp = r.supply
    c.dists_in(f"{k}.supply", sp)
    c.num(f"{k}.supply.reorder_share", sp.reorder_share, 0, 1)
    c.num(f"{k}.department_speed_factor", r.department_speed_factor, 0, lo_open=True)
    _no_grid(c, s)
    _storm_work(c, s)
    _command(c, s)


def _no_grid(c: _Checker, s: RunConfig) -> None:
    """The channels that notice incidents with no grid response (the counterfactual): channels
    of the catalogue, one of them sure in every grid kind."""
    k = "response.no_grid_detection"
    names = list(s.response.no_grid_detection)
    det = s.catalogue.detection
    for name in names:
        if name not in det:
            c.add(k, f"{name!r} is not a detection channel of the catalogue; expected some of "
                  f"{', '.join(det)}")
    for kind in GRID_KINDS:
        sure = [det[n].coverage.get(kind, 0.0) for n in names
                if n in det and not det[n].at_monitoring_points_only]
        if det and max(sure, default=0.0) < 1:
            c.add(k, f"no channel of these covers {kind} grids with certainty (coverage 1); "
                  "without the grid, incidents there could go unnoticed forever")


_STORM_TASKS = ("staff_post", "relocate", "warn", "sandbag", "patrol")


def _storm_work(c: _Checker, s: RunConfig) -> None:
    """``response.storm_work`` (gridsim.engine.storm): checked when it is on."""
    sw = s.response.storm_work
    k = "response.storm_work"
    if not sw.enabled:
        return
    if sw.patrol_channel not in s.catalogue.detection:
        c.add(f"{k}.patrol_channel", f"must be a detection channel of the catalogue "
              f"({', '.join(s.catalogue.detection) or 'none'}), got {sw.patrol_channel!r}")
    c.num(f"{k}.patrol_coverage", sw.patrol_coverage, 0, 1)
    for name in _STORM_TASKS:
        t = getattr(sw, name)
        kk = f"{k}.{name}"
        if not t.enabled:
            continue
        c.num(f"{kk}.people", t.people, 0)
        if t.people != int(t.people):
            c.add(f"{kk}.people", f"must be a whole number, got {t.people}")
        c.num(f"{kk}.minutes_per_unit", t.minutes_per_unit, 0)
        if name in ("relocate", "warn", "sandbag") and t.people > 0 and t.minutes_per_unit <= 0:
            c.add(f"{kk}.minutes_per_unit", "must be > 0 for a task with work to do")
        c.keys(f"{kk}.exposure", t.exposure, EXPOSURES, "exposure")
        for e, v in t.exposure.items():
            c.num(f"{kk}.exposure.{e}", v, 0)
        c.num(f"{kk}.min_units", t.min_units, 0)
        c.keys(f"{kk}.consumes", t.consumes, SUPPLY_ITEMS, "supply item")
        for item, v in t.consumes.items():
            c.num(f"{kk}.consumes.{item}", v, 1)
        c.num(f"{kk}.batch_units", t.batch_units, 0)
        c.keys(f"{kk}.roles", {x: 1 for x in t.roles}, ROLES, "role")
        if name == "patrol":
            c.num(f"{kk}.round_period_min", t.round_period_min, 0, lo_open=True)


def _command(c: _Checker, s: RunConfig) -> None:
    """``response.command`` (gridsim.engine.command, docs/command.md)."""
    cm = s.response.command
    k = "response.command"
    for key in ("span_of_control", "leaderless_span", "max_transfer"):
        v = getattr(cm, key)
        c.num(f"{k}.{key}", v, 1 if key == "span_of_control" else 0)
        if v != int(v):
            c.add(f"{k}.{key}", f"must be a whole number, got {v}")
    c.keys(f"{k}.task_groups", cm.task_groups, _STORM_TASKS, "storm task")
    for task, cat in cm.task_groups.items():
        if cat not in CATEGORIES:
            c.add(f"{k}.task_groups.{task}", f"must be a category ({', '.join(CATEGORIES)}), "
                  f"got {cat!r}")
    c.num(f"{k}.township_review_min", cm.township_review_min, 0, lo_open=True)
    c.num(f"{k}.backlog_min", cm.backlog_min, 0)
    incident_priority = s.response.storm_work.incident_priority
    if cm.concurrent_evacuation and cm.evacuation_priority < incident_priority:
        c.add(f"{k}.evacuation_priority", "must be at least response.storm_work."
              f"incident_priority ({s.response.storm_work.incident_priority}): the households' "
              "times are worked out at the order, so a helper cannot be taken off by an "
              f"incident; got {cm.evacuation_priority}")


def _drill(c: _Checker, s: RunConfig) -> None:
    """The drill settings (``gridsim drill script``); grid ids are checked against the built
    scenario by the drill itself when the scenario is a folder."""
    d = s.drill
    k = "drill"
    if not d.name.strip() or any(ch in d.name for ch in '/\\:*?"<>|'):
        c.add(f"{k}.name", f"must be a non-empty name usable in a folder name, got {d.name!r}")
    n_grids = s.scenario.urban_grids + s.scenario.rural_grids + (
        s.scenario.compounds.design.grids if s.scenario.compounds.count > 0 else 0)
    for g in d.grids:
        if s.scenario.generator != "files" and not 0 <= g < n_grids:
            c.add(f"{k}.grids", f"grid id {g} out of range 0..{n_grids - 1}")
    if len(set(d.grids)) != len(d.grids):
        c.add(f"{k}.grids", f"lists a grid twice: {list(d.grids)}")
    c.num(f"{k}.replications", d.replications, 2)
    c.num(f"{k}.start_h", d.start_h, 0)
    c.num(f"{k}.horizon_h", d.horizon_h, 0, lo_open=True)
    if d.grade not in GRADES:
        c.add(f"{k}.grade", f"must be one of {', '.join(GRADES)}, got {d.grade!r}")
    for name in d.hazards:
        if name not in s.catalogue.hazards:
            c.add(f"{k}.hazards", f"{name!r} is not a hazard type of the catalogue; "
                  f"expected one of {', '.join(s.catalogue.hazards)}")
    after = list(d.incident_after_min)
    if len(after) != 2 or not all(math.isfinite(v) for v in after) or not 0 <= after[0] <= after[1]:
        c.add(f"{k}.incident_after_min", f"must be [low, high] minutes with 0 <= low <= high, "
              f"got {after}")
    for x in d.extra_injects:
        if x not in EXTRA_INJECTS:
            c.add(f"{k}.extra_injects", f"unknown extra inject {x!r}; expected some of "
                  f"{', '.join(EXTRA_INJECTS)}")
    c.num(f"{k}.road_blocked_factor", d.road_blocked_factor, 1)
    c.num(f"{k}.comms_delay_factor", d.comms_delay_factor, 1)
    evac = list(d.evacuation_after_min)
    if len(evac) != 2 or not all(math.isfinite(v) for v in evac) or not 0 <= evac[0] <= evac[1]:
        c.add(f"{k}.evacuation_after_min", f"must be [low, high] minutes with 0 <= low <= high, "
              f"got {evac}")
