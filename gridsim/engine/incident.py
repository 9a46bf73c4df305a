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

Consequences (:mod:`gridsim.model.consequences`): the potential (people trapped, injured, loss
at stake) is drawn at arrival. The rescue of the trapped starts when the first complete crew is
on scene (the grid's, or a department's unit if it comes first: ``rescued_by``), one person
every ``extraction_s``; a crew stays until everyone is out. The incident is under control
(``controlled_s``) when the grid's first responder is on scene (the initial handling,
初期处置) or a department unit arrives, whichever is first; for a hazard whose control needs
its kit (the catalogue's ``control_supplies``: extinguishers for a fire, sandbags for a flood)
the grid crew controls it only with that kit on scene: ``max(first responder on scene, the
kit on scene)``, the kit counting only when it had to be borrowed or fetched (its delay after
the store is open; a kit at hand is the crew's at once). When a controlling item is lacking
within reach (unmet units), the grid crew cannot control it: the grid blows the whistle then,
and the incident is under control, and resolved, when the department's unit is on scene
(every hazard has a department). Who survives and what was lost are
settled from these times at the end of the run (:func:`settle_consequences`). With
``response.grid_response`` false (the counterfactual world) there are no grid forces:
residents notice the incident through the channels of ``response.no_grid_detection`` and call
the department themselves (:func:`_without_grid`).

Per-incident uniforms (drawn at arrival, see :mod:`gridsim.engine.hazards`) feed every delay
that is a property of the incident, so variants see the same incident with the same handling
time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import simpy

from gridsim.engine.command import Command
from gridsim.engine.compiled import ResponseParams
from gridsim.engine.departments import DepartmentUnits
from gridsim.engine.dispatch import Dispatcher
from gridsim.engine.hazards import Catalogue, HazardType
from gridsim.engine.recorder import EventLog, TimeWeighted
from gridsim.engine.reporting import initial_report
from gridsim.engine.storm import StormWork
from gridsim.engine.supplies import SupplyChain
from gridsim.engine.switch import ALERT, FORWARD, ModeSwitch
from gridsim.engine.travel import Travel
from gridsim.model.clock import ProcessGenerator
from gridsim.model.consequences import Potential, loss_at, outcome
from gridsim.model.params import RunConfig
from gridsim.model.vocab import GRADES, MODES
from gridsim.place.scenario import Scenario

__all__ = ["INCIDENT_FIELDS", "Incident", "RunContext", "respond", "settle_consequences"]

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
    # consequences (gridsim.model.consequences): the potential, drawn at arrival ...
    potential: Potential = field(default_factory=Potential.none, repr=False)
    people_trapped: int = 0  # trapped or endangered, in need of rescue
    people_spared: int = 0  # ... who would have been, had the post not moved them out first
    injuries: int = 0  # seriously injured
    potential_loss_cny: float = 0.0  # the direct loss if nobody brought it under control
    # ... and the outcome, settled at the end of the run (settle_consequences)
    people_rescued: int = 0  # brought out alive
    deaths: int = 0  # trapped people brought out dead
    loss_cny: float = 0.0  # direct loss until under control (or until the end of the run)
    controlled_s: float = NAN  # grid first responder, or a department unit, on scene
    rescued_by: str = ""  # whose complete crew was on scene first: "grid" or "department"
    department_called: bool = False  # a unit is on its way (residents' call or the whistle)
    # when the controlling kit (the hazard's control_supplies) was on scene, borrowed or
    # fetched: NaN if it was at hand (or the hazard needs none), inf if none was within reach
    control_kit_s: float = NAN
    # the peacetime hazard class (gridsim.model.vocab.HAZARD_CLASSES) whose open hazard caused
    # it, drawn at arrival with the share of the type's rate that class's stock drives in the
    # grid (PeaceLoop.driven_share; stream peace/cause); "" for none (the type's base rate)
    cause: str = ""

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
    "people_trapped", "people_rescued", "deaths", "injuries", "loss_cny", "controlled_s",
    "rescued_by", "potential_loss_cny", "people_spared", "cause",
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
    storm: StormWork | None = None  # the posts' tasks and patrols (gridsim.engine.storm)
    command: Command | None = None  # groups, transfers, evacuation helpers (engine.command)

    @cached_property
    def compiled(self) -> ResponseParams:
        """The response settings as ints and arrays, typed once for the run at its first use
        (:mod:`gridsim.engine.compiled`), not per incident."""
        return ResponseParams.of(self.settings.response)


def respond(ctx: RunContext, inc: Incident, hz: HazardType) -> ProcessGenerator:
    """The life of one incident (a SimPy process)."""
    if not ctx.settings.response.grid_response:  # the counterfactual world
        yield from _without_grid(ctx, inc, hz)
        return
    env, cfg, sw, log = ctx.env, ctx.settings.response, ctx.switch, ctx.log
    g, u = inc.grid, inc.u
    grids = ctx.scenario.region.grids
    kind = int(grids.kind[g])
    monitored = grids.monitoring_points[g] > 0
    ctx.open_incidents.change(env.now, +1)
    log.log(env.now, "occurred", g, inc.id, f"{inc.hazard} grade {inc.grade}")

    # detection: the fastest channel that covers this grid kind; in a grid whose storm patrol
    # runs, the patrol channel is the patrol's rounds (gridsim.engine.storm), not its delay
    storm = ctx.storm
    patrolled = storm is not None and storm.covers(u, _U_DETECT)
    skip = storm.channel if storm is not None and storm.patrolling(g) else -1
    detect, by = math.inf, ""
    for ci, ch in enumerate(ctx.catalogue.detection):
        if (ch.at_monitoring_points_only and not monitored) or ci == skip:
            continue
        if u[_U_DETECT + 2 * ci] < ch.coverage[kind]:
            d = ch.delay.ppf(float(u[_U_DETECT + 2 * ci + 1]))
            if d < detect:
                detect, by = d, ch.name
    if sw.mode[g] == FORWARD:
        detect *= cfg.dispatch.forward_detection_factor  # 1 by default: patrols do it
    # residents call the department themselves (119/110) as they do without the grid: the same
    # channels and uniforms as the counterfactual, so the grid's own whistle can only be earlier
    dept_arrived = env.event()
    resolved = env.event()
    resident_s = _resident_call(ctx, inc)[0] if cfg.residents_call_department else math.inf
    resident_calls = math.isfinite(resident_s)
    if resident_calls:
        env.process(_department(ctx, inc, hz, resident_s, dept_arrived, resolved, whistle=False))
    if patrolled:
        assert storm is not None
        by = yield from storm.detect(g, float(u[_U_DETECT + 2 * storm.channel + 1]), detect, by)
    else:
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
    if ctx.compiled.switches(grade):
        holds = np.array([g], dtype=np.int64)
        if cfg.switch.trigger_neighbours:
            holds = np.concatenate([holds, ctx.scenario.region.neighbours.of(g).astype(np.int64)])
        inc.switch_trigger = True
        sw.hold(holds, f"incident {inc.id} ({inc.hazard}, grade {inc.grade})")
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
        kit = ctx.supply.gather_kit(g, hz.supplies, inc.id, hz.control_supplies)
        inc.supply_shortage = kit.shortage
        if kit.control_unmet:  # the crew cannot control it: the whistle, now
            inc.control_kit_s = math.inf
            if not inc.department_called:
                env.process(_department(ctx, inc, hz, 0.0, dept_arrived, resolved))
        elif kit.control_delay_s > 0:
            inc.control_kit_s = t0 + kit.control_delay_s
        if kit.delay_s > 0:
            yield env.timeout(kit.delay_s)
        inc.supply_delay_s = env.now - t0

    inc.handling_start_s = env.now
    log.log(env.now, "handling", g, inc.id, "")
    handle = hz.handling.ppf(float(u[_U_HANDLING])) * float(hz.grade_factor[grade])
    handle = max(handle, _extraction_left(inc, env.now))  # the crew stays until all are out
    grid_done = env.now + handle
    at_once = grade <= hz.escalate_grade
    no_kit = inc.control_kit_s == math.inf  # the department's unit controls and resolves it
    if not at_once and not no_kit and handle > hz.escalate_after_s:
        env.process(_department(ctx, inc, hz, hz.escalate_after_s, dept_arrived, resolved))
    by = "grid"
    if no_kit:
        if not dept_arrived.triggered:
            yield dept_arrived
        by = "department"
        _release_crew(ctx, req.assigned, env.now)
        yield env.timeout(max(hz.department_handling.ppf(float(u[_U_DEPT_HANDLING])),
                              _extraction_left(inc, env.now)))
    elif at_once or handle > hz.escalate_after_s or resident_calls:
        if not dept_arrived.triggered:
            yield env.timeout(grid_done - env.now) | dept_arrived
        if dept_arrived.triggered and inc.department_arrived_s < grid_done:
            by = "department"
            handover = env.now
            _release_crew(ctx, req.assigned, handover)
            yield env.timeout(max(hz.department_handling.ppf(float(u[_U_DEPT_HANDLING])),
                                  _extraction_left(inc, env.now)))
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


def _rescue_start_s(inc: Incident) -> float:
    """When the rescue starts: the first complete crew on scene (NaN-safe; inf if none)."""
    times = [t for t in (inc.crew_on_scene_s, inc.department_arrived_s) if t == t]
    return min(times, default=math.inf)


def _extraction_left(inc: Incident, now: float) -> float:
    """Seconds from ``now`` until the last trapped person is out (0 if none is trapped)."""
    if not inc.people_trapped:
        return 0.0
    return max(0.0, _rescue_start_s(inc) + inc.people_trapped * inc.potential.extraction_s - now)


def _resident_call(ctx: RunContext, inc: Incident) -> tuple[float, str]:
    """Seconds from occurrence until residents themselves notice the incident and call the
    department, by the channels of ``response.no_grid_detection`` and the incident's own
    uniforms (the same in both worlds), and the channel; inf if none covers it."""
    g, u = inc.grid, inc.u
    kind = int(ctx.scenario.region.grids.kind[g])
    monitored = ctx.scenario.region.grids.monitoring_points[g] > 0
    channels = ctx.settings.response.no_grid_detection
    detect, by = math.inf, ""
    for ci, ch in enumerate(ctx.catalogue.detection):
        if ch.name not in channels or (ch.at_monitoring_points_only and not monitored):
            continue
        if u[_U_DETECT + 2 * ci] < ch.coverage[kind]:
            d = ch.delay.ppf(float(u[_U_DETECT + 2 * ci + 1]))
            if d < detect:
                detect, by = d, ch.name
    return detect, by


def _without_grid(ctx: RunContext, inc: Incident, hz: HazardType) -> ProcessGenerator:
    """The life of an incident with no grid response (the counterfactual of losses averted):
    noticed through the channels of ``response.no_grid_detection`` only (the same uniforms as
    with the grid, so a resident's call comes at the same time), the department called at
    once by the resident, its unit rescuing and handling. No switch, no report, no supplies."""
    env = ctx.env
    u = inc.u
    ctx.open_incidents.change(env.now, +1)
    detect, by = _resident_call(ctx, inc)
    if not math.isfinite(detect):  # nobody notices (validation requires a sure channel)
        return
    yield env.timeout(detect)
    inc.notified_s, inc.detected_by = env.now, by
    arrived, resolved = env.event(), env.event()
    env.process(_department(ctx, inc, hz, 0.0, arrived, resolved))
    yield arrived
    inc.handling_start_s = env.now
    yield env.timeout(max(hz.department_handling.ppf(float(u[_U_DEPT_HANDLING])),
                          _extraction_left(inc, env.now)))
    inc.resolved_s, inc.resolved_by = env.now, "department"
    resolved.succeed()
    ctx.open_incidents.change(env.now, -1)


def settle_consequences(ctx: RunContext, end_s: float) -> None:
    """Settle every incident's consequences at the end of the run from the times its life
    reached (those after ``end_s`` not reached): who started the rescue, who of the trapped
    was brought out alive or dead (the rest are still trapped), when it came under control and
    the loss until then (until ``end_s`` if it never did)."""
    severity = {h.name: h.severity for h in ctx.catalogue.hazards}

    def reached(t: float) -> float:
        return t if t <= end_s else math.inf  # NaN and later times: not reached

    for inc in ctx.incidents:
        sev = severity[inc.hazard]
        crew, dept = reached(inc.crew_on_scene_s), reached(inc.department_arrived_s)
        start = min(crew, dept)
        inc.rescued_by = "" if start == math.inf else ("grid" if crew <= dept else "department")
        # the grid's first responder on scene starts the initial handling (初期处置, the
        # golden minutes): from then the incident no longer grows unchecked; if its kit had to
        # be brought, once the kit is on scene (inf: none within reach, the department's)
        grid_control = reached(inc.first_on_scene_s)
        if inc.control_kit_s == inc.control_kit_s:
            grid_control = max(grid_control, reached(inc.control_kit_s))
        control = min(grid_control, dept)
        inc.controlled_s = control if control < math.inf else NAN
        inc.loss_cny = loss_at(inc.potential.loss_cny, min(control, end_s) - inc.occurred_s,
                               sev.time_constant_s)
        p = inc.potential  # those the post had moved out are not there (people_spared)
        there = p if p.trapped == inc.people_trapped else replace(p, trapped=inc.people_trapped)
        out = outcome(there, sev.survival, inc.occurred_s, start, end_s)
        inc.people_rescued, inc.deaths = out.rescued, out.deaths


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
                arrived: simpy.Event, resolved: simpy.Event,
                whistle: bool = True) -> ProcessGenerator:
    """The grid blows the whistle (after ``after_s``), or residents call (``whistle`` false);
    a department unit comes. The first call brings the unit: a later one (the grid's whistle
    after the residents' call, or the residents' call after the whistle or once the incident is
    resolved) sends no second unit. Without the grid (the counterfactual) residents call."""
    env = ctx.env
    if after_s > 0:
        yield env.timeout(after_s)
    if resolved.triggered or inc.department_arrived_s == inc.department_arrived_s:
        return  # over, or a unit already on scene: no whistle, no call
    if whistle and ctx.settings.response.grid_response:
        inc.escalated, inc.escalated_s = True, env.now
        ctx.log.log(env.now, "escalated", inc.grid, inc.id, f"whistle to {hz.department}")
    elif not ctx.settings.response.grid_response:  # the counterfactual: the resident's call
        inc.escalated, inc.escalated_s = True, env.now
    if inc.department_called:
        return  # the unit is already on its way
    inc.department_called = True
    if not whistle:
        ctx.log.log(env.now, "department_called", inc.grid, inc.id,
                    f"residents call {hz.department}")
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
