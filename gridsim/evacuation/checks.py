"""Value checks of the evacuation settings (called by :func:`gridsim.model.validate.validate`)."""

from __future__ import annotations

import math

from gridsim.model.dists import dist_errors
from gridsim.model.params import RunConfig
from gridsim.model.vocab import GRID_KINDS, ROAD_CLASSES, ROLES

__all__ = ["evacuation_errors"]

_STARTS = ("warning", "switch")
_ASSIGNMENT = ("nearest", "planned")
_HELPED = ("alone", "any")


def evacuation_errors(s: RunConfig) -> list[str]:
    """Every problem of ``s.evacuation`` and of the hazard's evacuation keys, ``key: problem``."""
    e = s.evacuation
    k = "evacuation"
    out: list[str] = []

    def num(key: str, v: float, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False) -> None:
        if v is None or not math.isfinite(float(v)):
            out.append(f"{key}: must be a finite number, got {v}")
            return
        if lo is not None and (v < lo or (lo_open and v == lo)):
            out.append(f"{key}: must be {'>' if lo_open else '>='} {lo:g}, got {v}")
        if hi is not None and v > hi:
            out.append(f"{key}: must be <= {hi:g}, got {v}")

    def table(key: str, d: dict, allowed: tuple[str, ...], what: str, lo: float,
              lo_open: bool = False, required: bool = True) -> None:
        for name in d:
            if name not in allowed:
                out.append(f"{key}.{name}: unknown {what}; expected one of {', '.join(allowed)}")
        missing = [a for a in allowed if a not in d]
        if required and missing:
            out.append(f"{key}: missing {what}s: {', '.join(missing)}")
        for name, v in d.items():
            num(f"{key}.{name}", v, lo, lo_open=lo_open)

    if not e.channels:
        out.append(f"{k}.channels: at least one warning channel is needed")
    for name, ch in e.channels.items():
        kk = f"{k}.channels.{name}"
        if ch.starts_at not in _STARTS:
            out.append(f"{kk}.starts_at: must be one of {', '.join(_STARTS)}, got "
                       f"{ch.starts_at!r}")
        out.extend(dist_errors(ch.delay, f"{kk}.delay"))
        num(f"{kk}.reach", ch.reach, 0, 1)
    out.extend(dist_errors(e.premovement_day, f"{k}.premovement_day"))
    out.extend(dist_errors(e.premovement_night, f"{k}.premovement_night"))
    if len(e.night_hours) != 2 or any(not 0 <= h <= 23 for h in e.night_hours):
        out.append(f"{k}.night_hours: must be two hours [start, end] in 0..23, got "
                   f"{list(e.night_hours)}")
    d = e.drills
    num(f"{k}.drills.per_year", d.per_year, 0)
    num(f"{k}.drills.scale_per_year", d.scale_per_year, 0, lo_open=True)
    num(f"{k}.drills.premovement_floor", d.premovement_floor, 0, 1)
    num(f"{k}.drills.switch_floor", d.switch_floor, 0, 1)
    num(f"{k}.walk_speed_mps", e.walk_speed_mps, 0, lo_open=True)
    num(f"{k}.vulnerable_speed_factor", e.vulnerable_speed_factor, 0, 1, lo_open=True)
    table(f"{k}.drive_share", e.drive_share, GRID_KINDS, "grid kind", 0, required=False)
    for name, v in e.drive_share.items():
        num(f"{k}.drive_share.{name}", v, 0, 1)
    num(f"{k}.drive_access_speed_mps", e.drive_access_speed_mps, 0, lo_open=True)
    num(f"{k}.access_detour", e.access_detour, 1)
    num(f"{k}.specific_flow_ppms", e.specific_flow_ppms, 0, lo_open=True)
    num(f"{k}.boundary_layer_m", e.boundary_layer_m, 0)
    wide = 2 * e.boundary_layer_m
    table(f"{k}.road_walk_width_m", e.road_walk_width_m, ROAD_CLASSES, "road class", wide,
          lo_open=True)
    table(f"{k}.road_lanes", e.road_lanes, ROAD_CLASSES, "road class", 0)
    num(f"{k}.lane_capacity_vph", e.lane_capacity_vph, 0, lo_open=True)
    table(f"{k}.door_walk_width_m", e.door_walk_width_m, GRID_KINDS, "grid kind", wide,
          lo_open=True)
    table(f"{k}.door_lanes", e.door_lanes, GRID_KINDS, "grid kind", 0)
    for name, share in e.drive_share.items():
        if share > 0 and e.door_lanes.get(name, 1) <= 0:
            out.append(f"{k}.door_lanes.{name}: 0 lanes, but drive_share.{name} is {share}: "
                       "cars could not leave those grids")
    if (any(v > 0 for v in e.drive_share.values())
            and all(e.road_lanes.get(c, 0) <= 0 for c in ROAD_CLASSES)):
        out.append(f"{k}.road_lanes: no road class has a lane, but some households drive")
    if e.helped_households not in _HELPED:
        out.append(f"{k}.helped_households: must be one of {', '.join(_HELPED)}, got "
                   f"{e.helped_households!r}")
    for r in e.helper_roles:
        if r not in ROLES:
            out.append(f"{k}.helper_roles: unknown role {r!r}; expected one of "
                       f"{', '.join(ROLES)}")
    num(f"{k}.helper_speed_mps", e.helper_speed_mps, 0, lo_open=True)
    out.extend(dist_errors(e.help_time, f"{k}.help_time"))
    out.extend(dist_errors(e.search_time, f"{k}.search_time"))
    num(f"{k}.fallback_helpers", e.fallback_helpers, 1)
    out.extend(dist_errors(e.fallback_delay, f"{k}.fallback_delay"))
    sh = e.shelters
    num(f"{k}.shelters.persons_per_shelter", sh.persons_per_shelter, 1)
    num(f"{k}.shelters.capacity_share", sh.capacity_share, 0, lo_open=True)
    if sh.assignment not in _ASSIGNMENT:
        out.append(f"{k}.shelters.assignment: must be one of {', '.join(_ASSIGNMENT)}, got "
                   f"{sh.assignment!r}")
    num(f"{k}.deadline_h", e.deadline_h, 0, lo_open=True)
    num(f"{k}.horizon_h", e.horizon_h, 0, lo_open=True)
    num(f"{k}.curve_step_s", e.curve_step_s, 0, lo_open=True)
    num(f"{k}.bottlenecks", e.bottlenecks, 0)
    # the hazard's side
    evac = [i for i, w in enumerate(s.hazard.warnings) if w.evacuate]
    if len(evac) > 1:
        out.append(f"hazard.warnings[{evac[1]}].evacuate: only one warning of a run may "
                   f"evacuate (warnings {evac} do)")
    for i, c in enumerate(s.hazard.road_closures):
        kk = f"hazard.road_closures[{i}]"
        if len(c.grids) != 2 or any(g < 0 for g in c.grids) or c.grids[0] == c.grids[1]:
            out.append(f"{kk}.grids: must be two different grid ids [a, b], got {list(c.grids)}")
        num(f"{kk}.at_h", c.at_h, 0)
    return out
