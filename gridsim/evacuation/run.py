"""An evacuation inside ``gridsim run``: a warning with ``evacuate: true`` evacuates its grids.

Phases, as the rest of the run:

* **elaborate** (before time 0): :class:`RunEvacuation` builds the evacuation network of the
  warned grids, the shelters (the scenario's own, from its folder's shelters file, else placed as in
  :func:`~gridsim.evacuation.model.place_shelters`) and the scripted road closures
  (``hazard.road_closures``; a closure between grids with no road between them is a config
  error here, before anything runs);
* **run**: at the warning's start, right after the switch puts the warned grids on ALERT,
  :meth:`RunEvacuation.order` records what the evacuation needs of the switch: each grid's
  switch episode and when each of its members will be at the post;
* **collect** (after ``env.run``): :meth:`RunEvacuation.evacuate` reads when each grid's post
  became ready and moves everybody (:func:`~gridsim.evacuation.model.evacuate`).

Why a pass after the run, on the same clock, rather than SimPy processes during it: the
coupling is one way. The evacuation needs the switch's times; nothing in the rest of the run
(incidents, dispatch, supplies) depends on where evacuees are in this part of the model. So the
pass gives exactly the times that processes would, with the same named random streams
(``evacuation/<warning>/…``, so variants stay paired), lets the evacuation finish after
``duration_h``, and moves tens of thousands of households in one event loop instead of a
process each. (Members helping vulnerable residents are therefore not withdrawn from
dispatch.)

With ``response.command.concurrent_evacuation`` the same evacuation is worked out at the order
instead (the switch already knows when each post will be ready: ``planned_ready_s``), so its
helpers are held in the dispatcher while they help (:meth:`gridsim.engine.command.Command.
hold_helpers`): the same people as dispatch. Members busy at the order do not help. Its
households' times are those of the pass after the run whenever nobody was busy at the order
and every post became ready as planned (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.engine.command import Command
from gridsim.engine.switch import ALERT, FORWARD, ModeSwitch, people_of
from gridsim.evacuation.model import (
    Shelters,
    SwitchTimes,
    evacuate,
    place_shelters,
    road_closures,
)
from gridsim.evacuation.network import scenario_network
from gridsim.evacuation.results import EvacuationResult
from gridsim.model.params import RunConfig
from gridsim.model.streams import Streams
from gridsim.model.validate import ConfigError
from gridsim.place.scenario import Scenario

__all__ = ["RunEvacuation", "run_shelters"]


def run_shelters(settings: RunConfig, scenario: Scenario, grids: np.ndarray) -> Shelters:
    """The shelters of a run: the scenario's own (a scenario folder's shelters file, read with
    the rest of the folder), else placed for the townships of ``grids``."""
    if scenario.shelters.n:
        return scenario.shelters
    return place_shelters(scenario, grids, settings.evacuation.shelters, scenario.seed)


@dataclass
class _Order:
    warning: int
    name: str
    start_s: float
    grids: np.ndarray
    episode: np.ndarray  # per grid: the switch episode under way (-1: none)
    member_ready_s: np.ndarray  # per roster person
    result: EvacuationResult | None = None  # worked out at the order (concurrent evacuation)


class RunEvacuation:
    """The evacuations of a run: elaborated before time 0, ordered during the run, moved
    after it (see the module docstring)."""

    def __init__(self, settings: RunConfig, scenario: Scenario,
                 warning_grids: list[np.ndarray]) -> None:

        self.settings = settings
        self.scenario = scenario
        self.warnings = [i for i, w in enumerate(settings.hazard.warnings) if w.evacuate]
        grids = (np.unique(np.concatenate([warning_grids[i] for i in self.warnings]))
                 if self.warnings else np.zeros(0, np.int64))
        self.grids = grids
        self.network = scenario_network(scenario.roads, scenario.region.grids, grids,
                                        settings.evacuation)
        self.shelters = run_shelters(settings, scenario, grids) if len(grids) else None
        if self.warnings and (self.shelters is None or self.shelters.n == 0):
            raise ConfigError([f"hazard.warnings[{self.warnings[0]}].evacuate: no shelter "
                               "for the evacuated grids"])
        errors, items = [], []
        n = scenario.n_grids
        for i, c in enumerate(settings.hazard.road_closures):
            a, b = int(c.grids[0]), int(c.grids[1])
            key = f"hazard.road_closures[{i}].grids"
            if not (0 <= a < n and 0 <= b < n):
                errors.append(f"{key}: grid ids must lie in 0..{n - 1}, got {[a, b]}")
                continue
            try:
                items.extend(road_closures(self.network, scenario,
                                           [(c.at_h * 3600.0, a, b, c.reason)]))
            except ValueError as exc:
                errors.append(f"{key}: {exc}")
        if errors:
            raise ConfigError(errors)
        self.closures = items
        self.orders: list[_Order] = []
        # concurrent evacuation (response.command.concurrent_evacuation): set by the run
        self.command: Command | None = None
        self.streams: Streams | None = None

    def order(self, warning: int, grids: np.ndarray, now: float, switch: ModeSwitch,
              command: Command | None = None, streams: Streams | None = None) -> None:
        """The warning ``warning`` starts at ``now`` over ``grids`` (after the switch's hold):
        record the switch episode of each grid and when its members will be at the post. With
        ``command`` (concurrent evacuation), evacuate now and hold the helpers."""
        if warning not in self.warnings:
            return
        grids = np.unique(np.asarray(grids, dtype=np.int64))
        on = np.isin(switch.mode[grids], (ALERT, FORWARD))
        episode = np.where(on, switch.episode[grids], -1)
        members = np.full(self.scenario.roster.n, np.inf)
        people, _ = people_of(self.scenario.roster, grids[on])
        members[people] = switch.assembled_at[people]
        o = _Order(warning=warning, name=self.settings.hazard.warnings[warning].name,
                   start_s=float(now), grids=grids, episode=episode, member_ready_s=members)
        self.orders.append(o)
        command = command if command is not None else self.command
        streams = streams if streams is not None else self.streams
        if command is not None:
            assert streams is not None
            members[people[command.dispatcher.busy[people]]] = np.inf  # busy: cannot help
            ready = np.where(episode >= 0, switch.planned_ready_s[grids], np.nan)
            o.result = self._evacuate(o, ready, streams)
            h = o.result.helpers
            command.hold_helpers(h.person, h.start_s, h.end_s)

    def _evacuate(self, o: _Order, ready: np.ndarray, streams: Streams) -> EvacuationResult:
        assert self.shelters is not None
        return evacuate(
            self.scenario, o.grids, self.settings.evacuation, streams, start_s=o.start_s,
            switch=SwitchTimes(grid_ready_s=ready, member_ready_s=o.member_ready_s),
            shelters=self.shelters, network=self.network, closures=self.closures,
            scenario_seed=self.scenario.seed, stream_prefix=f"evacuation/{o.name}")

    def evacuate(self, switch: ModeSwitch, streams: Streams) -> list[EvacuationResult]:
        """Move everybody the recorded orders evacuate (after the run)."""
        out = []
        ready_all = np.array(switch.ep_ready_s, dtype=float)
        for o in self.orders:
            if o.result is not None:  # worked out at the order
                out.append(o.result)
                continue
            ready = np.where(o.episode >= 0, ready_all[np.maximum(o.episode, 0)], np.nan) \
                if len(ready_all) else np.full(len(o.grids), np.nan)
            out.append(self._evacuate(o, ready, streams))
        return out
