"""One run, in phases: build (scenario, streams) → elaborate (state and processes) → run → collect.

Everything that can be wrong with the wiring fails in the first two phases, before time 0.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from gridsim.engine.command import Command
from gridsim.engine.departments import DepartmentUnits
from gridsim.engine.dispatch import Dispatcher
from gridsim.engine.hazards import (
    N_UNIFORMS,
    Catalogue,
    HazardType,
    RateField,
    arrivals,
    catalogue_from_config,
)
from gridsim.engine.incident import Incident, RunContext, respond, settle_consequences
from gridsim.engine.moves import Moves
from gridsim.engine.peacetime import PeaceLoop, loop_streams
from gridsim.engine.recorder import EventLog, TimeWeighted
from gridsim.engine.schedule import Schedule
from gridsim.engine.storm import StormWork
from gridsim.engine.supplies import SupplyChain, SupplyLedger
from gridsim.engine.switch import ModeSwitch
from gridsim.engine.travel import Travel, travel_for
from gridsim.engine.weather import RunWeather, build_weather
from gridsim.evacuation.model import drill_multiplier
from gridsim.evacuation.results import EvacuationResult
from gridsim.evacuation.run import RunEvacuation
from gridsim.model.campaign import MEASURES, campaign_phases
from gridsim.model.clock import ProcessGenerator, next_hour_s
from gridsim.model.consequences import N_UNIFORMS as N_CONSEQUENCE_UNIFORMS
from gridsim.model.consequences import Potential, still_in_danger
from gridsim.model.frozen import freeze
from gridsim.model.levers import LeverPhase, Levers
from gridsim.model.params import RunConfig, WarningConfig
from gridsim.model.peace import PeaceModel
from gridsim.model.plan import Move
from gridsim.model.streams import Streams
from gridsim.model.validate import ConfigError
from gridsim.model.vocab import GRADES, HAZARD_CLASSES
from gridsim.place.scenario import Scenario, build_scenario, check_loaded

__all__ = ["RunResult", "baseline_key", "build", "campaign_on", "elaborate_travel", "peace_model",
           "simulate", "without_grid"]


@dataclass
class RunResult:
    """What a run leaves behind, for metrics and outputs."""

    settings: RunConfig
    scenario: Scenario
    ctx: RunContext
    peace: PeaceLoop  # the peacetime loop at the end of the run (gridsim.engine.peacetime)
    duration_s: float
    events_processed: int
    # one per warning that evacuates (gridsim.evacuation)
    evacuations: list[EvacuationResult] = dataclasses.field(default_factory=list)
    # the same incidents with no grid response (output.counterfactual), for losses averted
    counterfactual: list[Incident] | None = None
    # the plan's storm 前置 moves carried out (gridsim.engine.moves), None without moves
    moves: Moves | None = None
    # incidents per hazard type of the paired pass under campaign=none (the same streams; the
    # conditions and the arrivals only, see simulate): None when not run (no campaign measure
    # enabled, output.campaign_baseline false, or the counterfactual pass)
    campaign_baseline: dict[str, int] | None = None

    @property
    def incidents(self) -> list[Incident]:
        return self.ctx.incidents

    @property
    def supply_demand(self) -> np.ndarray:
        """The units each grid's incidents and storm tasks asked for, int64 [n_grids, n_items]
        (the ledger's demand counter: supplied + unmet; see gridsim.planning.stock)."""
        return self.ctx.supply.ledger.demand

    @property
    def mode_changes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(grid, t_s, mode)`` of every change of a grid's mode in the run, in time order
        (the switch's own record, kept with or without the event log; mode: an index of
        :data:`gridsim.model.vocab.MODES`): the run's mode timeline, ``grid_modes.csv``."""
        return self.ctx.switch.mode_changes()


def build(settings: RunConfig) -> Scenario:
    """Phase 1: the place, from the scenario settings alone (the response settings do not go
    in). Built once and reused: equal scenario settings, with the content of the scenario's
    files unchanged, give the same :class:`~gridsim.place.scenario.Scenario` (immutable, so
    no run leaves anything in it for the next; see :func:`gridsim.place.scenario.build_scenario`).
    """
    return build_scenario(settings.scenario)


def elaborate_travel(settings: RunConfig, scenario: Scenario) -> Travel:
    """The run's driving times (part of phase 2): mutual-aid near times by the response's
    radius, station times at the departments' speed, the scenario's slowed grids; cached on the
    scenario per distinct (radius, speed factor), see :mod:`gridsim.engine.travel`."""
    return travel_for(scenario, settings.response)


def _schedule(settings: RunConfig, duration_s: float, weather: RunWeather | None = None
              ) -> Schedule:
    """The known changes of conditions: ``(time, order, action, payload)`` in order, generated
    as they come (:class:`~gridsim.engine.schedule.Schedule`: constant memory whatever the
    duration), and the boundaries the rate field asks for. ``settings.hazard.warnings`` are
    the scripted warnings followed by the weather's forecast warnings (see :func:`simulate`);
    the weather's steps are the times its rain multipliers change."""
    warnings = []
    for w in settings.hazard.warnings:
        start = w.start_h * 3600.0
        warnings.append((start, start + w.duration_h * 3600.0))
    return Schedule(settings.peacetime.step_h * 3600.0, warnings, duration_s,
                    weather.times_s if weather is not None else ())


#: Peace models kept per scenario (:attr:`Scenario.memo`), the oldest dropped first.
PEACE_CACHE = 4


def peace_model(settings: RunConfig, scenario: Scenario, catalogue: Catalogue) -> PeaceModel:
    """The run's compiled peacetime loop (:class:`~gridsim.model.peace.PeaceModel`: rates of
    every class and grid, pools, servers), cached on the scenario per distinct
    ``settings.peacetime`` and catalogue (the same grids and roster give the same model)."""
    names = tuple(h.name for h in catalogue.hazards)
    # frozen settings hash by their fields; plain (unfrozen) ones, as a caller may pass, are
    # frozen for the key (the same values give the same key)
    key = ("peace", freeze(settings.peacetime), names)
    grids = scenario.region.grids
    roster = scenario.peacetime_roster  # (a plan's duty posts do not hunt)
    got = scenario.memo.get(key)
    if got is not None and got[0] is grids and got[1] is roster:
        return got[2]  # type: ignore[no-any-return]
    model = PeaceModel.build(settings.peacetime, grids, roster, names)
    mine = [k for k in scenario.memo if isinstance(k, tuple) and k and k[0] == "peace"]
    for k in mine[: max(0, len(mine) - PEACE_CACHE + 1)]:
        del scenario.memo[k]
    scenario.memo[key] = (grids, roster, model)
    return model


def campaign_on(settings: RunConfig) -> bool:
    """Whether the run's campaign (``settings.campaign``) has any measure enabled."""
    return any(getattr(settings.campaign, m).enabled for m in MEASURES)


def _warning_grids(settings: RunConfig, scenario: Scenario) -> list[np.ndarray]:
    """The grids of each warning of ``settings.hazard.warnings``, in order."""
    return [np.unique(np.asarray(w.grids, dtype=np.int64)) if w.grids
            else scenario.region.township_grids(w.townships)
            for w in settings.hazard.warnings]


def _conditions(env: simpy.Environment, schedule: Schedule, field: RateField, peace: PeaceLoop,
                peace_rng: Mapping[str, np.random.Generator], warnings: list[WarningConfig],
                warning_grids: list[np.ndarray], hazard_index: dict[str, int],
                switch: ModeSwitch | None, log: EventLog,
                evacuation: RunEvacuation | None = None,
                weather: RunWeather | None = None,
                on_warning: Callable[[int], None] | None = None) -> ProcessGenerator:
    """The one process that changes rates: warnings start and end (scripted and forecast alike),
    peacetime steps, weather steps (the rain multipliers, :mod:`gridsim.engine.weather`).
    ``switch`` None: warnings hold no grid (the counterfactual pass, see :func:`simulate`)."""
    active: set[int] = set()

    def apply_warnings() -> None:
        field.warning[:] = 1.0
        for i in sorted(active):
            for name, mult in warnings[i].rate_multipliers.items():
                field.warning[hazard_index[name], warning_grids[i]] *= mult

    for t, _, action, payload in schedule:
        if t > env.now:
            yield env.timeout(t - env.now)
        if action == "peace_step":
            peace.step(float(payload) / 86400.0, peace_rng)  # type: ignore[arg-type]
            field.stock = peace.multipliers()  # (drops the weights of the rows it changes)
            if log.enabled:
                log.log(env.now, "peace_step", -1, -1,
                        f"open hazards {int(peace.stock_end().sum())}")
        elif action == "weather_step":
            assert weather is not None
            weather.apply(int(payload), field)  # type: ignore[call-overload]
        else:
            i = int(payload)  # type: ignore[call-overload]
            w = warnings[i]
            if action == "warning_start":
                active.add(i)
                log.log(env.now, "warning_start", -1, -1,
                        f"{w.name} ({w.level}) over {len(warning_grids[i])} grids")
                if w.triggers_switch and switch is not None:
                    switch.hold(warning_grids[i], f"warning {w.name}")
                if w.evacuate and evacuation is not None:
                    assert switch is not None  # (the counterfactual pass evacuates nobody)
                    evacuation.order(i, warning_grids[i], env.now, switch)
                if on_warning is not None:  # storm 前置: the warning's moves depart
                    on_warning(i)
            else:
                active.discard(i)
                log.log(env.now, "warning_end", -1, -1, w.name)
                if w.triggers_switch and switch is not None:
                    switch.release(warning_grids[i], f"warning {w.name} lifted")
            apply_warnings()
        # a peacetime step changes the rows of the types the loop raises (the stock's setter
        # drops their weights), a weather step the rain types' (set_weather drops theirs): the
        # other types keep their cached weights; a warning changes any row
        field.touch(env.now, everything=action not in ("peace_step", "weather_step"))


def _scripted(env: simpy.Environment, settings: RunConfig, catalogue: Catalogue,
              scenario: Scenario, rng: np.random.Generator,
              on_incident: Callable[[HazardType, int, float, float, Potential, np.ndarray],
                                    None],
              consequence_rng: np.random.Generator) -> ProcessGenerator:
    """Incidents placed by hand in the hazard setting, at their grids' centres: the grade as
    written, the potential consequences drawn from the hazard's severity model."""

    grids = scenario.region.grids
    items = sorted(settings.hazard.incidents, key=lambda si: si.at_h)
    for si in items:
        t = si.at_h * 3600.0
        if t >= settings.duration_h * 3600.0:
            return
        if t > env.now:
            yield env.timeout(t - env.now)
        g = si.grid
        hz = catalogue.by_name(si.hazard)
        potential = hz.severity.draw(consequence_rng.random(N_CONSEQUENCE_UNIFORMS),
                                     catalogue.grade_rule, grade=GRADES.index(si.grade))
        on_incident(hz, g, float(grids.x_m[g]), float(grids.y_m[g]), potential,
                    rng.random(N_UNIFORMS))


def _availability(env: simpy.Environment, dispatcher: Dispatcher, work_end_h: int
                  ) -> ProcessGenerator:
    """People working away come home at the end of working hours: waiting requests retry."""
    while True:
        # strictly after now: `now + 1e-9` rounds back to `now` from 2**24 s (4,660 h) on,
        # where a float's spacing exceeds 2e-9 s, and a zero timeout would repeat for ever
        yield env.timeout(next_hour_s(math.nextafter(env.now, math.inf), work_end_h) - env.now)
        dispatcher.retry()


#: Seconds of wall time between two progress lines.
PROGRESS_EVERY_S = 5.0


def _progress(env: simpy.Environment, duration_s: float, ctx: RunContext,
              write: Callable[[str], None], clock: Callable[[], float] = time.monotonic,
              every_s: float = PROGRESS_EVERY_S) -> ProcessGenerator:
    """Write a progress line every ``every_s`` seconds of wall time (read from ``clock``):
    the share of the simulated time done, the time spent and an estimate of the time left, so a
    long run shows it is alive within seconds and a short one prints nothing.

    The process looks at the clock at simulated intervals that adapt to the run's pace (about
    ten looks per line: doubled while a look comes too soon, halved when too late, at most
    1/1000 of the run so a storm after a calm stretch is not missed for long). It draws no
    random number and changes no state, so the results do not depend on it."""
    start = last_line = last_look = clock()
    look_s = every_s / 10.0
    max_dt = duration_s / 1000.0
    dt = duration_s / 1e5
    while env.now + dt < duration_s:
        yield env.timeout(dt)
        now = clock()
        spent, last_look = now - last_look, now
        if spent < look_s / 2:
            dt = min(dt * 2.0, max_dt)
        elif spent > look_s * 2:
            dt = max(dt / 2.0, duration_s * 1e-7)
        if now - last_line < every_s:
            continue
        last_line = now
        done = env.now / duration_s
        elapsed = now - start
        left = elapsed * (1.0 - done) / done if done > 0 else float("inf")
        write(f"  [{100 * done:5.1f}%] t = {env.now / 3600:,.1f} of {duration_s / 3600:,.1f} h"
              f"  incidents {len(ctx.incidents):,}  open {int(ctx.open_incidents.level)}"
              f"  grids in forward command {int(ctx.switch.counts[2]):,}"
              f"  ({_wall(elapsed)} so far, about {_wall(left)} left)\n")


def _wall(s: float) -> str:
    """A wall-clock duration for a progress line: ``42 s``, ``3.5 min``, ``2.1 h``."""
    if not s < 3600 * 1e6:
        return "?"
    if s < 90:
        return f"{s:.0f} s"
    return f"{s / 60:.1f} min" if s < 5400 else f"{s / 3600:.1f} h"


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """Python's cyclic garbage collector runs less often while the model runs: a collection
    of the youngest generation after 50,000 new objects instead of 700, the older generations
    after 20 of those. A run allocates millions of short-lived objects (SimPy events, the
    storm work's wakes) that reference counting frees at once, and each collection walks what
    the run holds (the scenario, its arrays, the log) to find almost nothing: about a sixth of
    the city storm's ``simulate()`` (docs/performance.md). What exists before the run (the
    scenario, the settings, the imported modules) is frozen out of the collector's walks
    (:func:`gc.freeze`) while it runs. Collection never changes a result; the process's own
    thresholds are restored and the frozen objects handed back afterwards."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def simulate(settings: RunConfig, scenario: Scenario | None = None,
             progress: Callable[[str], None] | None = None,
             observe: Callable[[RunContext], None] | None = None,
             *, counterfactual_pass: bool = False, moves: Sequence[Move] = ()) -> RunResult:
    """Run one simulation of ``settings`` (on ``scenario`` if given, else building it).

    ``observe(ctx)`` is called once everything is elaborated, before time 0 (e.g. to attach a
    listener to the switch); it must not draw random numbers.

    ``counterfactual_pass``: this is the second pass of a run (``output.counterfactual``), of
    which only the incidents are kept. ``settings`` is then :func:`without_grid`'s, and nothing
    an incident's life reads there depends on the switch (:func:`gridsim.engine.incident.
    respond`: no grid forces, residents call the department; rates follow warnings, peacetime
    and weather, not modes), so warnings hold no grid: the grid forces' assembly and the modes
    over time, about half the pass's cost in a city storm, are not simulated. Its incidents
    are those of the pass with the switch (tested). A run of ``grid_response=false`` of its own
    keeps its switch, whose episodes its summary reports.

    ``moves``: a plan's storm 前置 moves (:mod:`gridsim.engine.moves`), carried out when their
    warnings are issued (not in the counterfactual pass, nor without grid response). None
    given: the run is as without a plan.

    ``settings.plan`` (``gridsim run plan=DIR``): the plan is read, checked against the
    scenario and applied to a copy of it (:func:`gridsim.planning.apply.planned_scenario`,
    once per process), and its moves are the run's ``moves`` unless some are given."""
    if scenario is None:
        scenario = build(settings)
    if settings.plan is not None:  # gridsim run plan=DIR: the place with the plan's sites, stock
        # imported here: gridsim.planning is only needed by a run with a plan (start-up time)
        from gridsim.planning.apply import planned_scenario

        scenario, plan = planned_scenario(settings.plan, scenario)  # checked, cached, applied
        moves = moves or plan.moves  # its storm 前置 moves, unless the caller gives others
    errors = check_loaded(settings, scenario)  # ids a scenario folder's config cannot check early
    if errors:
        raise ConfigError(errors)
    streams = Streams(settings.seed, settings.replication)
    duration_s = settings.duration_h * 3600.0
    catalogue: Catalogue = catalogue_from_config(settings.catalogue)
    given = settings  # (before the forecast warnings: the paired pass's cache key)
    weather = build_weather(settings, scenario, catalogue, streams)  # rain, forecast warnings
    if weather is not None and weather.warnings:  # forecast warnings after the scripted ones
        hz_all = settings.hazard
        settings = dataclasses.replace(settings, hazard=dataclasses.replace(
            hz_all, warnings=type(hz_all.warnings)([*hz_all.warnings, *weather.warnings])))

    # phase 2: elaborate
    env = simpy.Environment()
    log = EventLog(enabled=settings.output.events_log)
    resp = settings.response
    travel = elaborate_travel(settings, scenario)
    dispatcher = Dispatcher(env, scenario, travel.near, resp.dispatch, streams.get("dispatch"),
                            log)
    switch = ModeSwitch(env, scenario.region, scenario.roster, resp.switch, resp.dispatch,
                        streams.get("switch"), log, dispatcher.busy)
    dispatcher.attach(switch)
    drills = settings.evacuation.drills
    if drills.per_year > 0:  # drilled grids switch faster (gridsim.evacuation.model)
        switch.delay_factor[:] = drill_multiplier(drills.per_year, drills.switch_floor,
                                                  drills.scale_per_year)
    ledger = SupplyLedger.from_points(scenario.supplies, resp.supply.reorder_share)
    near = travel.near
    supply = SupplyChain(env, ledger, scenario.region.grids.township, near.indptr, near.indices,
                         near.time_s, travel.depot_time_s, resp.supply, streams.get("supply"),
                         log)
    units = DepartmentUnits(env, scenario.stations, travel)
    ctx = RunContext(env=env, settings=settings, scenario=scenario, catalogue=catalogue,
                     log=log, dispatcher=dispatcher, switch=switch, supply=supply, units=units,
                     open_incidents=TimeWeighted(), travel=travel)
    storm_cfg = resp.storm_work  # the posts' tasks (none in the world without grid response)
    ctx.storm = StormWork(env, scenario, dataclasses.replace(
        storm_cfg, enabled=storm_cfg.enabled and resp.grid_response), resp.dispatch,
        dispatcher, switch, supply, catalogue, log)
    ctx.command = Command(env, scenario, resp.command, dispatcher, switch, ctx.storm,
                          travel.near, travel.depot_time_s, log)  # 分类嵌入, 三级包保
    # the peacetime loop (四单四办) under the campaign's lever phases, from its steady state
    model = peace_model(settings, scenario, catalogue)
    phases = campaign_phases(settings.campaign, scenario.region.grids, scenario.peacetime_roster)
    peace = PeaceLoop.start(model, phases, loop_streams(streams.get, "initial"))
    schedule = _schedule(settings, duration_s, weather)
    field = RateField(catalogue, scenario.region.grids, settings.hazard, schedule)
    field.stock = peace.multipliers()
    field.touch(0.0)
    warning_grids = _warning_grids(settings, scenario)
    hazard_index = {h.name: h.index for h in catalogue.hazards}
    for w, wg in zip(settings.hazard.warnings, warning_grids, strict=True):  # storm_utilization
        ctx.storm.watch_warning(wg, w.start_h * 3600.0, (w.start_h + w.duration_h) * 3600.0)
    evacuation = (RunEvacuation(settings, scenario, warning_grids)
                  if resp.grid_response and any(w.evacuate for w in settings.hazard.warnings)
                  else None)  # (no grid, no evacuation ordered by it)
    if evacuation is not None and resp.command.concurrent_evacuation:
        evacuation.command, evacuation.streams = ctx.command, streams  # helpers held in dispatch
    premoves = None  # storm 前置 (力量前置、物资前置): none in the counterfactual pass
    if moves and not counterfactual_pass and resp.grid_response:
        assert ctx.command is not None  # (made above)
        premoves = Moves(env, scenario, moves, len(settings.hazard.warnings), ctx.command,
                         dispatcher, switch, ctx.storm, ledger, log, travel.slow)
    env.process(_conditions(env, schedule, field, peace, loop_streams(streams.get, "steps"),
                            settings.hazard.warnings, warning_grids, hazard_index,
                            None if counterfactual_pass else switch, log, evacuation, weather,
                            None if premoves is None else premoves.on_warning))

    relocatable = {h.name: settings.catalogue.hazards[h.name].consequences.relocatable_share
                   for h in catalogue.hazards}
    storm = ctx.storm
    cause_rng = streams.get("peace/cause")  # its own stream: no other stream's draws change

    def on_incident(hz: HazardType, g: int, x: float, y: float, p: Potential,
                    u: np.ndarray) -> None:
        trapped = p.trapped  # the potential stays as drawn, the same in every variant ...
        share = relocatable.get(hz.name, 0.0)
        if trapped and share > 0.0 and storm is not None:
            # ... but residents the post had moved out are not there to be trapped
            trapped = still_in_danger(trapped, share * storm.moved_share(g), p.relocation_u)
        inc = Incident(id=len(ctx.incidents), hazard=hz.name, grade=GRADES[p.grade], grid=g,
                       x_m=x, y_m=y, occurred_s=env.now, u=u, potential=p,
                       people_trapped=trapped, injuries=p.injured,
                       potential_loss_cny=p.loss_cny, people_spared=p.trapped - trapped,
                       cause=_cause(peace.driven_share(hz.index, g), float(cause_rng.random())))
        ctx.incidents.append(inc)
        env.process(respond(ctx, inc, hz))

    if settings.hazard.incidents:
        env.process(_scripted(env, settings, catalogue, scenario, streams.get("scripted"),
                              on_incident, streams.get("consequences/scripted")))
    for hz in catalogue.hazards:
        env.process(arrivals(env, hz, field, scenario.region.grids,
                             streams.get(f"hazard/{hz.name}"), on_incident, duration_s,
                             streams.get(f"consequences/{hz.name}"), catalogue.grade_rule))
    env.process(_availability(env, dispatcher, int(resp.dispatch.work_hours[1])))
    if progress is not None:
        env.process(_progress(env, duration_s, ctx, progress))
    if observe is not None:
        observe(ctx)

    # phase 3: run
    with _rare_collections():
        env.run(until=duration_s)
    events = next(env._eid)  # type: ignore[attr-defined]  # events scheduled in the run
    ctx.open_incidents.change(duration_s, 0.0)
    ledger.check()
    settle_consequences(ctx, duration_s)  # who was rescued, who died, what it cost
    # phase 4: the evacuation, on the same clock (see gridsim.evacuation.run)
    evacuations = evacuation.evacuate(switch, streams) if evacuation is not None else []
    baseline = None  # the paired arrivals under campaign=none, for incidents_averted
    if not counterfactual_pass:
        baseline = _campaign_baseline(settings, given, scenario, catalogue, weather, model,
                                      ctx)
    counterfactual = None
    if settings.output.counterfactual and resp.grid_response:
        counterfactual = simulate(without_grid(settings), scenario,
                                  None if progress is None else _prefixed(progress),
                                  counterfactual_pass=True).incidents
    return RunResult(settings=settings, scenario=scenario, ctx=ctx, peace=peace,
                     duration_s=duration_s, events_processed=int(events),
                     evacuations=evacuations, counterfactual=counterfactual, moves=premoves,
                     campaign_baseline=baseline)


#: Paired-pass counts kept per scenario (:attr:`Scenario.memo`), the oldest dropped first.
BASELINE_CACHE = 64


def _campaign_baseline(settings: RunConfig, given: RunConfig, scenario: Scenario,
                       catalogue: Catalogue, weather: RunWeather | None, model: PeaceModel,
                       ctx: RunContext) -> dict[str, int] | None:
    """The incidents of each type under ``campaign=none`` paired with this run (None without
    an enabled campaign measure, or with ``output.campaign_baseline`` false).

    They depend on the settings but the campaign and the outputs, so they are kept on the
    scenario: a run without a campaign leaves its own counts there (its arrivals are the
    paired pass's, tested), and a campaign run of the same settings and seed in the same
    process (the variants of an experiment) reuses them instead of simulating the pass. The
    types no hazard class raises arrive in the pass exactly as in this run (their rates do not
    depend on the loop; the same streams), so only the raised ones are simulated again.
    ``given``: the settings as the run was given them (``settings`` has the forecast warnings
    added), the key of the cache (:func:`baseline_key`)."""
    on = campaign_on(settings)
    if on and not settings.output.campaign_baseline:
        return None
    key = baseline_key(given)
    grids = scenario.region.grids
    counts = dict.fromkeys((h.name for h in catalogue.hazards), 0)
    for inc in ctx.incidents:
        counts[inc.hazard] += 1
    if not on:  # this run is its own baseline
        got = (grids, counts)
    else:
        cached = scenario.memo.get(key) if key is not None else None
        if cached is not None and cached[0] is grids:
            return dict(cached[1])
        raised = {h.index for h in catalogue.hazards if model.raises[h.index].any()}
        passed = _arrival_counts(settings, scenario, catalogue, weather, model,
                                 [LeverPhase(None, Levers.neutral(scenario.n_grids))], raised)
        got = (grids, {h.name: passed[h.name] if h.index in raised else counts[h.name]
                       for h in catalogue.hazards})
    if key is not None:
        mine = [k for k in scenario.memo if isinstance(k, tuple) and k and k[0] == key[0]]
        for k in mine[: max(0, len(mine) - BASELINE_CACHE + 1)]:
            del scenario.memo[k]
        scenario.memo[key] = got
    return dict(got[1]) if on else None


def baseline_key(settings: RunConfig) -> tuple | None:
    """The key of the paired pass's counts on :attr:`Scenario.memo`: every setting but the
    campaign and the outputs (None for settings that are not frozen, so not hashable: no
    cache)."""
    key = ("campaign_baseline", *((f.name, getattr(settings, f.name))
                                  for f in dataclasses.fields(settings)
                                  if f.name not in ("campaign", "output")))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _cause(share: np.ndarray, u: float) -> str:
    """The hazard class of :data:`~gridsim.model.vocab.HAZARD_CLASSES` whose open stock caused
    an incident, for the uniform ``u``: class ``c`` with probability ``share[c]`` (the share of
    the incident type's current rate in its grid that the class drives), none ("") with the
    rest."""
    c = int(np.searchsorted(np.cumsum(share), u, side="right"))
    return HAZARD_CLASSES[c] if c < len(HAZARD_CLASSES) else ""


def _arrival_counts(settings: RunConfig, scenario: Scenario, catalogue: Catalogue,
                    weather: RunWeather | None, model: PeaceModel,
                    phases: Sequence[LeverPhase], only: set[int] | None = None
                    ) -> dict[str, int]:
    """The incidents of each hazard type of ``settings`` with the peacetime loop under
    ``phases`` instead of the campaign's: the paired pass of ``incidents_averted``.

    Only what sets the rates runs (the warnings, scripted and forecast alike, as ``settings``
    has them; the weather; the peacetime loop) and the arrival processes, on fresh streams of
    the same seed: every incident type that no hazard class raises arrives exactly as in the
    run, and the others differ only by the loop's open stock. No incident is responded to
    (rates do not depend on the response). ``only``: the indices of the types to count (the
    others' counts are those of the scripted incidents alone)."""
    streams = Streams(settings.seed, settings.replication)
    duration_s = settings.duration_h * 3600.0
    grids = scenario.region.grids
    env = simpy.Environment()
    peace = PeaceLoop.start(model, phases, loop_streams(streams.get, "initial"))
    schedule = _schedule(settings, duration_s, weather)
    field = RateField(catalogue, grids, settings.hazard, schedule)
    field.stock = peace.multipliers()
    field.touch(0.0)
    env.process(_conditions(env, schedule, field, peace, loop_streams(streams.get, "steps"),
                            settings.hazard.warnings, _warning_grids(settings, scenario),
                            {h.name: h.index for h in catalogue.hazards}, None,
                            EventLog(enabled=False), None, weather, None))
    counts = dict.fromkeys((h.name for h in catalogue.hazards), 0)
    for si in settings.hazard.incidents:  # placed by hand: the same in both passes
        if si.at_h * 3600.0 < duration_s:
            counts[si.hazard] += 1

    def count(hz: HazardType, g: int, x: float, y: float, p: Potential, u: np.ndarray) -> None:
        counts[hz.name] += 1

    for hz in catalogue.hazards:
        if only is not None and hz.index not in only:
            continue
        env.process(arrivals(env, hz, field, grids, streams.get(f"hazard/{hz.name}"), count,
                             duration_s, streams.get(f"consequences/{hz.name}"),
                             catalogue.grade_rule))
    with _rare_collections():
        env.run(until=duration_s)
    return counts


def without_grid(settings: RunConfig) -> RunConfig:
    """The counterfactual of ``settings``: the same run with no grid response (residents call
    the departments themselves), writing no event log and no counterfactual of its own. Every
    stream the incidents draw from is the same, so it sees the same incidents (the difference
    is paired)."""
    return dataclasses.replace(
        settings,
        response=dataclasses.replace(settings.response, grid_response=False),
        output=dataclasses.replace(settings.output, events_log=False, counterfactual=False))


def _prefixed(progress: Callable[[str], None]) -> Callable[[str], None]:
    return lambda line: progress("  counterfactual (no grid response):" + line)


def stderr_progress(line: str) -> None:
    sys.stderr.write(line)
    sys.stderr.flush()

