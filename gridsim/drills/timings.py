"""The times of a drill's expected actions, simulated over replications.

Each replication is one :func:`gridsim.engine.simulation.simulate` of the drill run (the scenario is
built once), with the replication number as the replication axis of :class:`gridsim.model.streams.
Streams`. An observer attached before time 0 records, for every drill grid, when its switch
reaches forward command and, at that moment, when its commander and its quorum arrived (the
switch's own rule, :mod:`gridsim.engine.switch`); the incidents' stages come from their records and
the reporting hops from the event log. Every time is on the drill clock: seconds after T+0.

Actions are keyed by :class:`~gridsim.drills.records.ActionId`: the action and where it happens
(``g12.post_ready``: the switch of grid 12; ``inc1.first_on_scene``: the drill incident;
``inc2.first_on_scene``: the second incident).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from gridsim.drills.records import (
    EVACUATION_ACTIONS,
    INCIDENT_ACTIONS,
    SECOND_ACTIONS,
    SWITCH_ACTIONS,
    Action,
    ActionId,
)
from gridsim.drills.variants import Variant
from gridsim.engine.incident import Incident, RunContext
from gridsim.engine.simulation import simulate
from gridsim.engine.switch import people_of
from gridsim.evacuation.results import EvacuationResult
from gridsim.model.params import RunConfig
from gridsim.model.people import role_bit
from gridsim.place.scenario import Scenario

__all__ = ["EVACUATION_ACTIONS", "INCIDENT_ACTIONS", "SECOND_ACTIONS", "SWITCH_ACTIONS",
           "Samples", "simulate_drill"]

#: The incident record's field of each incident action (the others are reporting hops).
_STAGE = {Action.INCIDENT_REPORTED: "notified_s", Action.DISPATCHED: "dispatched_s",
          Action.FIRST_ON_SCENE: "first_on_scene_s", Action.CREW_COMPLETE: "crew_on_scene_s",
          Action.HANDLING_STARTED: "handling_start_s", Action.WHISTLE: "escalated_s",
          Action.DEPARTMENT_ARRIVED: "department_arrived_s", Action.RESOLVED: "resolved_s"}
#: The event of the log of each reporting hop.
_HOP_EVENTS = {"reported_village": Action.REPORT_VILLAGE,
               "reported_township": Action.REPORT_TOWNSHIP,
               "reported_county": Action.REPORT_COUNTY}

#: Simulated T+ seconds of each action in each replication (NaN: not reached in the horizon).
Samples = dict[ActionId, list[float]]


@dataclass
class _SwitchWatch:
    """Records the first switch to forward command of each watched grid after T+0."""

    ctx: RunContext
    grids: tuple[int, ...]
    t0_s: float
    quorum_share: float

    def __post_init__(self) -> None:
        self.times: dict[int, tuple[float, float, float]] = {}
        roster = self.ctx.scenario.roster
        self._lead = (roster.roles & (role_bit("commander") | role_bit("grid_leader"))) != 0

    def __call__(self, g: int) -> None:
        sw = self.ctx.switch
        if g not in self.grids or g in self.times:
            return
        if sw.ep_trigger_s[sw.episode[g]] < self.t0_s:
            return  # an episode of the day before the drill
        people, _ = people_of(self.ctx.scenario.roster, np.array([g], dtype=np.int64))
        arrive = sw.assembled_at[people]
        lead = arrive[self._lead[people]]
        finite = np.sort(arrive[np.isfinite(arrive)])
        k = min(max(1, math.ceil(self.quorum_share * len(people))), len(finite))
        quorum = float(finite[k - 1]) if k > 0 else math.nan
        cmd = float(lead.min()) if len(lead) and np.isfinite(lead.min()) else quorum
        self.times[g] = (cmd, quorum, float(self.ctx.env.now))


def _scripted(incidents: list[Incident], grid: int, hazard: str, at_s: float
              ) -> Incident | None:
    for inc in incidents:
        if inc.grid == grid and inc.hazard == hazard and abs(inc.occurred_s - at_s) < 1e-6:
            return inc
    return None


def _incident_times(incident: int, inc: Incident | None, keys: tuple[Action, ...],
                    hops: dict[int, dict[Action, float]], t0_s: float) -> dict[ActionId, float]:
    out: dict[ActionId, float] = {}
    for key in keys:
        aid = ActionId.of_incident(incident, key)
        if inc is None:
            out[aid] = math.nan
        elif key in _STAGE:
            out[aid] = float(getattr(inc, _STAGE[key])) - t0_s
        else:
            out[aid] = hops.get(inc.id, {}).get(key, math.nan) - t0_s
    return out


def _attach(ctx: RunContext, watch: list[_SwitchWatch], grids: tuple[int, ...], t0_s: float,
            quorum_share: float) -> None:
    """Attach a :class:`_SwitchWatch` of ``grids`` to the switch of a run (before time 0)."""
    w = _SwitchWatch(ctx, grids, t0_s, quorum_share)
    ctx.switch.listeners.append(w)
    watch.append(w)


def _evacuation_times(evac: EvacuationResult | None, g: int, t0_s: float
                      ) -> dict[ActionId, float]:
    """The evacuation actions of grid ``g`` (T+ seconds; NaN where not reached)."""
    out = {ActionId.of_grid(g, k): math.nan for k in EVACUATION_ACTIONS}
    if evac is None:
        return out
    hh = evac.households
    mine = hh.grid == g
    if not mine.any():
        return out

    def first(a: np.ndarray) -> float:
        a = a[np.isfinite(a)]
        return float(a.min()) - t0_s if len(a) else math.nan

    def last(a: np.ndarray) -> float:  # every one of them (NaN if one never gets there)
        return float(a.max()) - t0_s if len(a) and np.all(np.isfinite(a)) else math.nan

    def at(key: Action) -> ActionId:
        return ActionId.of_grid(g, key)

    out[at(Action.FIRST_DEPARTED)] = first(hh.depart_s[mine])
    out[at(Action.WARNED_ALL)] = last(hh.warned_s[mine])
    out[at(Action.LAST_DEPARTED)] = last(hh.depart_s[mine])
    out[at(Action.FIRST_SHELTERED)] = first(hh.sheltered_s[mine])
    out[at(Action.CLEARANCE)] = last(hh.sheltered_s[mine])
    helped = evac.helpers.grid == g
    out[at(Action.VULNERABLE_HELPED)] = last(evac.helpers.end_s[helped])
    return out


def simulate_drill(run: RunConfig, scenario: Scenario, v: Variant, replications: int,
                   progress: Callable[[int], None] | None = None) -> Samples:
    """``action id -> T+ seconds`` in each replication (NaN where not reached in the horizon),
    the actions in a fixed order: the switch of each watched grid, the drill incident, the
    second incident, the evacuation of each drill grid."""
    t0_s = run.drill.start_h * 3600.0
    watched = tuple(sorted(set(v.switched)))
    samples: Samples = {}
    for r in range(replications):
        watch: list[_SwitchWatch] = []
        observe = partial(_attach, watch=watch, grids=watched, t0_s=t0_s,
                          quorum_share=run.response.switch.quorum_share)
        result = simulate(replace(run, replication=r), scenario=scenario, observe=observe)
        times: dict[ActionId, float] = {}
        for g in watched:
            cmd, quorum, ready = watch[0].times.get(g, (math.nan, math.nan, math.nan))
            times[ActionId.of_grid(g, Action.COMMANDER_AT_POST)] = cmd - t0_s
            times[ActionId.of_grid(g, Action.QUORUM_ASSEMBLED)] = quorum - t0_s
            times[ActionId.of_grid(g, Action.POST_READY)] = ready - t0_s
        hops: dict[int, dict[Action, float]] = {}
        for t, event, _, inc_id, _ in result.ctx.log.rows:
            if event in _HOP_EVENTS:
                hops.setdefault(inc_id, {})[_HOP_EVENTS[event]] = t
        first = _scripted(result.incidents, v.incident_grid, v.hazard,
                          t0_s + v.incident_at_s)
        times.update(_incident_times(1, first, INCIDENT_ACTIONS, hops, t0_s))
        if v.extra == "second_incident":
            second = _scripted(result.incidents, v.extra_grid, v.second_hazard,
                               t0_s + v.extra_at_s)
            times.update(_incident_times(2, second, SECOND_ACTIONS, hops, t0_s))
        if v.evacuation_at_s >= 0:
            evac = next((e for e in result.evacuations
                         if abs(e.start_s - (t0_s + v.evacuation_at_s)) < 1e-3), None)
            for g in v.grids:
                times.update(_evacuation_times(evac, g, t0_s))
        for key, t in times.items():
            samples.setdefault(key, []).append(t)
        if progress is not None:
            progress(r + 1)
    return samples
