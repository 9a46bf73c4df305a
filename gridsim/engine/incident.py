"""The incident lifecycle, from occurrence to resolution.

occurrence → detection (the fastest covering channel: resident report, video, patrol) → grid
notified → (initial report up the chain; a grade at or above the switch trigger puts the grid and
its neighbours on ALERT; a grade at or above the hazard's escalation grade blows the whistle at
once) → the commander decides and dispatches the nearest available people → travel → first
responder on scene → the crew is complete → supplies (opening the store in peacetime, borrowing
or fetching on a shortage) → on-scene handling → resolved by the grid, or, if handling outlasts
``escalate_after_s`` (or the incident was escalated at once) and the department arrives first,
handed over and resolved by the department. Responders then return to base.

The response time of the "5-minute" standard runs from *notified* to *first responder on scene*.

Per-incident uniforms (drawn at arrival, see :mod:`gridsim.engine.hazards`) feed every delay
that is a property of the incident, so variants see the same incident with the same handling
time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from gridsim.engine.departments import DepartmentUnits
from gridsim.engine.dispatch import Dispatcher
from gridsim.engine.hazards import Catalogue, HazardType
from gridsim.engine.recorder import EventLog, TimeWeighted
from gridsim.engine.reporting import initial_report
from gridsim.engine.supplies import SupplyChain
from gridsim.engine.switch import ALERT, FORWARD, ModeSwitch
from gridsim.engine.travel import Travel
from gridsim.model.clock import ProcessGenerator
from gridsim.model.params import RunConfig
from gridsim.model.vocab import GRADES, MODES
from gridsim.place.scenario import Scenario

__all__ = ["INCIDENT_FIELDS", "Incident", "RunContext", "respond"]

# slots of the per-incident uniforms
_U_DETECT = 0  # 2 per channel: coverage, delay (up to 4 channels)
_U_DECISION = 8
_U_HANDLING = 9
_U_DEPT_HANDLING = 10
_U_REPORT = 11  # 3 hops
_U_ACCESS = 14

NAN = math.nan


@dataclass(slots=True)
class Incident:
    """One incident and the time of every stage of its life (NaN where not reached)."""

    id: int
    hazard: str
    grade: str
    grid: int
    x_m: float
    y_m: float
    occurred_s: float
    u: np.ndarray = field(repr=False)
    detected_by: str = ""
    mode_at_notice: str = ""
    notified_s: float = NAN
    dispatched_s: float = NAN
    first_on_scene_s: float = NAN
    crew_on_scene_s: float = NAN
    handling_start_s: float = NAN
    resolved_s: float = NAN
    resolved_by: str = ""
    responders: int = 0
    from_post: int = 0
    supply_shortage: bool = False
    supply_delay_s: float = 0.0
    escalated: bool = False
    escalated_s: float = NAN
    department_arrived_s: float = NAN
    report_county_s: float = NAN
    report_limit_s: float = NAN
    report_on_time: bool = False
    switch_trigger: bool = False

    @property
    def response_s(self) -> float:
        """Notified → first responder on scene (the 5-minute standard)."""
        return self.first_on_scene_s - self.notified_s

    @property
    def response_from_occurrence_s(self) -> float:
        return self.first_on_scene_s - self.occurred_s


#: Columns of incidents.csv, in order.
INCIDENT_FIELDS: tuple[str, ...] = (
    "id", "hazard", "grade", "grid", "x_m", "y_m", "detected_by", "mode_at_notice",
    "occurred_s", "notified_s", "dispatched_s", "first_on_scene_s", "crew_on_scene_s",
    "handling_start_s", "resolved_s", "resolved_by", "responders", "from_post",
    "supply_shortage", "supply_delay_s", "escalated", "escalated_s", "department_arrived_s",
    "report_county_s", "report_limit_s", "report_on_time", "switch_trigger",
)


@dataclass
class RunContext:
    """Everything the processes of one run share."""

    env: simpy.Environment
    settings: RunConfig
    scenario: Scenario
    catalogue: Catalogue
    log: EventLog
    dispatcher: Dispatcher
    switch: ModeSwitch
    supply: SupplyChain
    units: DepartmentUnits
    open_incidents: TimeWeighted
    incidents: list[Incident] = field(default_factory=list)
    travel: Travel | None = None  # the run's driving times (gridsim.engine.travel)


def respond(ctx: RunContext, inc: Incident, hz: HazardType) -> ProcessGenerator:
    """The life of one incident (a SimPy process)."""
    env, cfg, sw, log = ctx.env, ctx.settings.response, ctx.switch, ctx.log
    g, u = inc.grid, inc.u
    grids = ctx.scenario.region.grids
    kind = int(grids.kind[g])
    monitored = grids.monitoring_points[g] > 0
    ctx.open_incidents.change(env.now, +1)
    log.log(env.now, "occurred", g, inc.id, f"{inc.hazard} grade {inc.grade}")

    # detection: the fastest channel that covers this grid kind
    detect, by = math.inf, ""
    for ci, ch in enumerate(ctx.catalogue.detection):
        if ch.at_monitoring_points_only and not monitored:
            continue
        if u[_U_DETECT + 2 * ci] < ch.coverage[kind]:
            d = ch.delay.ppf(float(u[_U_DETECT + 2 * ci + 1]))
            if d < detect:
                detect, by = d, ch.name
    if sw.mode[g] == FORWARD:
        detect *= cfg.dispatch.forward_detection_factor
    yield env.timeout(detect)
    inc.notified_s, inc.detected_by = env.now, by
    mode = int(sw.mode[g])
    inc.mode_at_notice = MODES[mode]
    log.log(env.now, "notified", g, inc.id, f"by {by}; grid {MODES[mode]}")

    rep = initial_report(env.now, GRADES.index(inc.grade), mode == FORWARD,
                         u[_U_REPORT:_U_REPORT + 3], cfg.reporting)
    inc.report_county_s, inc.report_limit_s, inc.report_on_time = (
        rep.county_s, rep.limit_s, rep.on_time)
    if log.enabled:
        for lvl, t in zip(("village", "township", "county"), rep.hop_arrival_s, strict=True):
            log.log(t, f"reported_{lvl}", g, inc.id, "initial report")

    grade = GRADES.index(inc.grade)
    holds: np.ndarray | None = None
    if grade <= GRADES.index(cfg.switch.trigger_grade):
        holds = np.array([g], dtype=np.int64)
        if cfg.switch.trigger_neighbours:
            holds = np.concatenate([holds, ctx.scenario.region.neighbours.of(g).astype(np.int64)])
        inc.switch_trigger = True
        sw.hold(holds, f"incident {inc.id} ({inc.hazard}, grade {inc.grade})")
    dept_arrived = env.event()
    resolved = env.event()
    if grade <= hz.escalate_grade:
        env.process(_department(ctx, inc, hz, 0.0, dept_arrived, resolved))

    # the commander decides and dispatches
    dispatch = cfg.dispatch
    dd = dispatch.decision_delay_forward if sw.mode[g] == FORWARD else dispatch.decision_delay_peace
    yield env.timeout(dd.ppf(float(u[_U_DECISION])))
    inc.dispatched_s = env.now
    req = ctx.dispatcher.request(inc.id, g, inc.x_m, inc.y_m, hz.needs)
    if not req.filled.triggered:
        yield req.filled
    arrivals = [a.arrive_s for a in req.assigned]
    inc.responders = len(arrivals)
    inc.from_post = sum(a.from_post for a in req.assigned)
    inc.first_on_scene_s = min(arrivals)
    inc.crew_on_scene_s = max(arrivals)
    log.log(inc.first_on_scene_s, "first_on_scene", g, inc.id, "")
    if inc.crew_on_scene_s > env.now:
        yield env.timeout(inc.crew_on_scene_s - env.now)

    # supplies: open the store (peacetime), wait for the post (alert), borrow or fetch if short
    if hz.supplies:
        mode = int(sw.mode[g])
        if mode != FORWARD:
            access = cfg.supply.access_delay_peace.ppf(float(u[_U_ACCESS]))
            if mode == ALERT:
                yield env.timeout(access) | sw.ready_event(g)
            else:
                yield env.timeout(access)
        t0 = env.now
        delay, short = ctx.supply.gather(g, hz.supplies, inc.id)
        inc.supply_shortage = short
        if delay > 0:
            yield env.timeout(delay)
        inc.supply_delay_s = env.now - t0

    inc.handling_start_s = env.now
    log.log(env.now, "handling", g, inc.id, "")
    handle = hz.handling.ppf(float(u[_U_HANDLING])) * float(hz.grade_factor[grade])
    grid_done = env.now + handle
    at_once = grade <= hz.escalate_grade
    if not at_once and handle > hz.escalate_after_s:
        env.process(_department(ctx, inc, hz, hz.escalate_after_s, dept_arrived, resolved))
    by = "grid"
    if at_once or handle > hz.escalate_after_s:
        if not dept_arrived.triggered:
            yield env.timeout(grid_done - env.now) | dept_arrived
        if dept_arrived.triggered and inc.department_arrived_s < grid_done:
            by = "department"
            handover = env.now
            _release_crew(ctx, req.assigned, handover)
            yield env.timeout(hz.department_handling.ppf(float(u[_U_DEPT_HANDLING])))
    else:
        yield env.timeout(handle)
    if by == "grid":
        _release_crew(ctx, req.assigned, env.now)
    inc.resolved_s, inc.resolved_by = env.now, by
    resolved.succeed()
    ctx.open_incidents.change(env.now, -1)
    log.log(env.now, "resolved", g, inc.id, f"by {by}")
    if holds is not None:
        sw.release(holds, f"incident {inc.id} resolved")


def _release_crew(ctx: RunContext, assigned: list, now: float) -> None:
    """Send the crew home: each is free once back at base (the outbound travel time)."""
    back = sorted((now + a.travel_s, a.person) for a in assigned)
    ctx.env.process(_returns(ctx, back))


def _returns(ctx: RunContext, back: list[tuple[float, int]]) -> ProcessGenerator:
    env = ctx.env
    for t, p in back:
        if t > env.now:
            yield env.timeout(t - env.now)
        ctx.dispatcher.release(p)


def _department(ctx: RunContext, inc: Incident, hz: HazardType, after_s: float,
                arrived: simpy.Event, resolved: simpy.Event) -> ProcessGenerator:
    """The grid blows the whistle (after ``after_s``); a department unit comes."""
    env = ctx.env
    if after_s > 0:
        yield env.timeout(after_s)
    inc.escalated, inc.escalated_s = True, env.now
    ctx.log.log(env.now, "escalated", inc.grid, inc.id, f"whistle to {hz.department}")
    s, travel = ctx.units.choose(hz.department, inc.grid)
    res = ctx.units.resources[s]
    req = res.request()
    yield req
    yield env.timeout(travel)
    if not resolved.triggered:
        inc.department_arrived_s = env.now
        ctx.log.log(env.now, "department_arrived", inc.grid, inc.id, f"{hz.department} station {s}")
        arrived.succeed()
        yield resolved
    yield env.timeout(travel)
    res.release(req)
