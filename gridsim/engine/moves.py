"""Storm 前置 (力量前置、物资前置): a plan's moves, carried out when their warning is issued.

A :class:`~gridsim.model.plan.Move` names a warning (its number among the run's warnings: the
scripted ones, then the forecast's, as :func:`gridsim.engine.simulation.simulate` lists them).
When that warning starts, each of its moves departs at once, in the plan's order:

* **team**: up to ``people`` members of ``from_grid``, the free ones (not busy, not lent) in
  roster order, fewer if not enough are free (logged). They travel to ``to_grid`` by road and
  are then lent to it through the 三级包保 lending of :mod:`gridsim.engine.command` (the same
  state: ``Command._lent``, ``StormWork.lent_in``): they take its post's tasks like the members
  the township sends. Unlike those, they stay while the post stands: a member no task wants
  stands by at the post (held, so incidents do not take them: lent members answer no incident,
  as in the lending), and takes a task when one wants people (the post's start, a task freed).
  When the post stands down they go home, the same road trip back. A team that arrives at a
  grid whose post is not standing (never warned, or stood down already) goes straight home.
* **stock**: up to ``units`` of ``item`` leave ``from_grid``'s supply point (what it has,
  fewer if short, logged) and reach ``to_grid``'s after the road time; on the road they are
  counted in the ledger's ``in_transit``, so its conservation identity holds throughout.

The road time of a move is the shortest driving time between the grids' centres on the
scenario's roads (Dijkstra, :func:`road_times`), into a slowed grid ``factor`` times
as long (:attr:`gridsim.engine.travel.Travel.slow`, as dispatch drives); the trip home is the
reverse. Events ``premove_depart`` and ``premove_arrive``; summary keys ``premoved_people`` and
``premoved_units``. No moves: nothing of this is made, and a run is as before. Deterministic: it
draws no random number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import simpy
from scipy.sparse import csgraph

from gridsim.engine.command import Command
from gridsim.engine.dispatch import Dispatcher
from gridsim.engine.recorder import EventLog
from gridsim.engine.supplies import SupplyLedger
from gridsim.engine.switch import ModeSwitch
from gridsim.errors import UserError
from gridsim.model.clock import ProcessGenerator
from gridsim.model.plan import Move
from gridsim.model.vocab import SUPPLY_ITEMS
from gridsim.place.scenario import Scenario

__all__ = ["Moves", "road_times"]


def road_times(scenario: Scenario, pairs: Sequence[tuple[int, int]], slow: np.ndarray,
               limit_s: float = 700.0) -> dict[tuple[int, int], float]:
    """The road time of each ``(a, b)`` grid pair and of its reverse: the shortest driving
    time between the grids' centres (float32 seconds, as the run's tables), × ``slow`` of the
    grid driven into (the roads are symmetric: the way back takes the same road time). One
    Dijkstra per distinct origin, searched to ``limit_s`` first (a plan's moves are short: the
    planner's arcs are within ``planning.storm_radius_s``, 600 s by default; a city plan's
    8,000 moves: 0.24 s CPU at 700 s, 0.79 s at 20 min) and in full only for the pairs beyond
    it; in chunks, so no grid × grid table is held."""
    if not pairs:
        return {}
    roads = scenario.roads
    graph = roads.time_graph()
    node = np.asarray(roads.grid_node, dtype=np.int64)
    origins = sorted({a for a, _ in pairs})
    ends: dict[int, list[int]] = {}
    for a, b in pairs:
        ends.setdefault(a, []).append(b)
    base: dict[tuple[int, int], float] = {}
    for limit in (limit_s, np.inf):
        todo = [a for a in origins if any((a, b) not in base for b in ends[a])]
        for k in range(0, len(todo), _CHUNK):
            chunk = todo[k:k + _CHUNK]
            dist = csgraph.dijkstra(graph, directed=True, indices=node[chunk], limit=limit)
            for row, a in enumerate(chunk):
                for b in ends[a]:
                    t = float(np.float32(dist[row, node[b]]))
                    if t < math.inf:
                        base[(a, b)] = t
    out: dict[tuple[int, int], float] = {}
    for a, b in pairs:
        t = base.get((a, b), math.inf)
        out[(a, b)] = t * float(slow[b])
        out[(b, a)] = t * float(slow[a])
    return out


#: Origins searched at once by :func:`road_times` (a chunk holds chunk × road nodes floats).
_CHUNK = 64


class Moves:
    """A run's storm 前置 moves (see the module docstring)."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, moves: Sequence[Move],
                 n_warnings: int, command: Command, dispatcher: Dispatcher,
                 switch: ModeSwitch, storm: object, ledger: SupplyLedger, log: EventLog,
                 slow: np.ndarray) -> None:
        self.env = env
        self.roster = scenario.roster
        self.command = command
        self.dispatcher = dispatcher
        self.switch = switch
        self.storm: object = storm
        self.ledger = ledger
        self.log = log
        n = scenario.n_grids
        self.by_warning: dict[int, list[Move]] = {}
        for m in moves:
            for g in (m.from_grid, m.to_grid):
                if not 0 <= g < n:
                    raise UserError(f"a plan's move names grid {g}, not among the "
                                    f"scenario's {n} grids", "plan moves", hint=str(m))
            if not 0 <= m.warning < n_warnings:
                raise UserError(f"a plan's move names warning {m.warning}, not among the "
                                f"run's {n_warnings} warnings", "plan moves", hint=str(m))
            if m.what == "stock" and m.item not in SUPPLY_ITEMS:
                raise UserError(f"a plan's move names item {m.item!r}, not one of "
                                f"{', '.join(SUPPLY_ITEMS)}", "plan moves", hint=str(m))
            self.by_warning.setdefault(m.warning, []).append(m)
        self.trip_s = road_times(scenario, [(m.from_grid, m.to_grid) for m in moves], slow)
        cut = sorted(ab for ab, t in self.trip_s.items() if not t < math.inf)
        if cut:
            raise UserError(f"a plan's move joins grids {cut[0][0]} and {cut[0][1]}, which no "
                            f"road connects", "plan moves", hint=f"{len(cut)} such pairs")
        command.road_s.update(self.trip_s)  # the trip home (Command._go_home) reads them
        self.people = 0  # members who set out
        self.units = 0  # units that set out
        self.short_people = 0  # asked for and not free
        self.short_units = 0  # asked for and not in stock
        self._standing: set[int] = set()  # staying members standing by at the post
        # after the stand-down they stay through the grid's recovery: until when, per grid
        self._stay_s = float(switch.cfg.recovery_h) * 3600.0
        self._stay_until: dict[int, float] = {}
        self._hold = max(int(dispatcher.request_priority), 1)  # on the road: not taken
        # standing by: held below every incident's request (taken by incidents, pre-empted
        # like a post task); with no incident priority (storm work off), held as on the road
        self._standby = 0 if dispatcher.request_priority > 0 else self._hold
        if any(m.what == "team" for m in moves):
            command.standby = self.stand_by
            self._preempt_task = dispatcher.preempt_hook
            dispatcher.preempt_hook = self._preempt
            if getattr(storm, "enabled", False) and getattr(storm, "command", None) is None:
                storm.command = command  # type: ignore[attr-defined]  # (frees reach released)
            switch.listeners.append(self._on_ready)  # after the storm work's: tasks exist
            switch.recovery_listeners.append(self._on_recover)  # after the command's

    # -- departures ----------------------------------------------------------------------------
    def on_warning(self, i: int) -> None:
        """Warning ``i`` is issued: its moves depart now."""
        for m in self.by_warning.get(i, ()):
            if m.what == "team":
                self._team(m)
            else:
                self._stock(m)

    def _team(self, m: Move) -> None:
        d, lent = self.dispatcher, self.command._lent
        lo, hi = int(self.roster.by_grid_indptr[m.from_grid]), \
            int(self.roster.by_grid_indptr[m.from_grid + 1])
        team = [p for p in range(lo, hi) if not d.busy[p] and lent[p] < 0][: m.people]
        trip = self.trip_s[(m.from_grid, m.to_grid)]
        short = m.people - len(team)
        self.short_people += short
        self.people += len(team)
        self.log.log(self.env.now, "premove_depart", m.to_grid, -1,
                     f"力量前置 team of {len(team)} from grid {m.from_grid}, {trip:.1f} s"
                     + (f" ({short} of {m.people} not free)" if short else ""))
        if team:
            for p in team:
                d.occupy(p, self._hold)
            self.env.process(self._team_trip(team, m, trip))

    def _team_trip(self, team: list[int], m: Move, trip: float) -> ProcessGenerator:
        if trip > 0:
            yield self.env.timeout(trip)
        c, g = self.command, m.to_grid
        now = self.env.now
        c.transfer_person_s += trip * len(team)
        self.log.log(now, "premove_arrive", g, -1,
                     f"力量前置 team of {len(team)} from grid {m.from_grid} arrived")
        storm = self.storm
        lent_in = storm.lent_in  # type: ignore[attr-defined]
        for p in team:
            c._lent[p] = g
            c.n_lent += 1
            c._lent_since[p] = now
            lent_in.setdefault(g, []).append(p)
        if not self.switch.commanding(g):  # no post stands there: straight back
            for p in team:
                c._go_home(p, g, occupied=True)
            return
        c.staying.update(team)
        self._standing.update(team)
        d = self.dispatcher
        for p in team:  # responders of g's post now (Dispatcher.station), standing by
            d.station(p, g)
            d.held_priority[p] = self._standby  # (held since they set out)
        if g in storm.tasks:  # type: ignore[attr-defined]  # the post's tasks may take them
            self._offer(g)
        if d.pending:  # waiting requests may take them
            d.retry()

    def stand_by(self, p: int) -> None:
        """A staying member nothing at the post wants: stands by there (held below incidents:
        an incident may take them) until wanted, or until the grid is back in peacetime; home
        if it is already (they were on an incident meanwhile)."""
        g = int(self.command._lent[p])
        if not (self.switch.commanding(g) or self.env.now < self._stay_until.get(g, -math.inf)):
            self.command._go_home(p, g)
            return
        self.dispatcher.occupy(p, self._standby)
        self._standing.add(p)

    def _preempt(self, p: int) -> None:
        """An incident takes ``p``: off the stand-by, or off their post task (the storm's
        hook)."""
        if p in self._standing:
            self._standing.discard(p)
        elif self._preempt_task is not None:
            self._preempt_task(p)

    def _offer(self, g: int) -> None:
        """The members standing by at ``g`` to its post's tasks; those not taken stand by."""
        d, storm = self.dispatcher, self.storm
        mine = [p for p in storm.lent_in.get(g, ()) if p in self._standing]  # type: ignore
        if not mine:
            return
        for p in mine:
            self._standing.discard(p)
            d.vacate(p, offer=False)
        storm._offer(g)  # type: ignore[attr-defined]
        for p in mine:  # (on a task: incidents pre-empt it as they do its own members')
            if not d.busy[p]:
                self.stand_by(p)

    def _on_ready(self, g: int) -> None:
        if g in getattr(self.storm, "tasks", {}):
            self._offer(g)

    def _on_recover(self, grids: np.ndarray) -> None:
        """The posts of ``grids`` stand down: their staying members stand by there through the
        grid's recovery (those the stand-down freed from tasks too), and go home when it is
        back in peacetime (``response.switch.recovery_h`` later), unless alerted again."""
        c, d = self.command, self.dispatcher
        lent_in = self.storm.lent_in  # type: ignore[attr-defined]
        until = self.env.now + self._stay_s
        kept = []
        for g in grids.tolist():
            here = [p for p in lent_in.get(g, ()) if p in c.staying]
            if not here:
                continue
            self._stay_until[g] = until
            kept.append(g)
            for p in here:
                if p not in self._standing and not d.busy[p]:  # freed by the stand-down
                    self.stand_by(p)
        if kept:
            g_kept = np.array(kept, dtype=np.int64)
            self.env.process(self._leave(g_kept, self.switch.epoch[g_kept].tolist()))

    def _leave(self, grids: np.ndarray, epochs: list[int]) -> ProcessGenerator:
        """At the end of the grids' recovery, their staying members go home (those on an
        incident when they are back: :meth:`stand_by`); not from a grid alerted again."""
        yield self.env.timeout(self._stay_s)
        c, d = self.command, self.dispatcher
        lent_in = self.storm.lent_in  # type: ignore[attr-defined]
        for g, e in zip(grids.tolist(), epochs, strict=True):
            if int(self.switch.epoch[g]) != e:
                continue  # a new post stands there: they stay with it
            del self._stay_until[g]
            for p in list(lent_in.get(g, ())):
                if p not in c.staying:
                    continue
                if p in self._standing:
                    self._standing.discard(p)
                    c._go_home(p, g, occupied=True)
                elif not d.busy[p]:
                    c._go_home(p, g)

    # -- stock ---------------------------------------------------------------------------------
    def _stock(self, m: Move) -> None:
        item = SUPPLY_ITEMS.index(m.item)
        led = self.ledger
        got = led.take(m.from_grid, item, m.units)
        led.in_transit += got
        short = m.units - got
        self.short_units += short
        self.units += got
        trip = self.trip_s[(m.from_grid, m.to_grid)]
        self.log.log(self.env.now, "premove_depart", m.to_grid, -1,
                     f"物资前置 {got} {m.item} from grid {m.from_grid}, {trip:.1f} s"
                     + (f" ({short} of {m.units} not in stock)" if short else ""))
        if got:
            self.env.process(self._stock_trip(m, item, got, trip))

    def _stock_trip(self, m: Move, item: int, k: int, trip: float) -> ProcessGenerator:
        if trip > 0:
            yield self.env.timeout(trip)
        led = self.ledger
        led.stock[m.to_grid, item] += k
        led.in_transit -= k
        self.log.log(self.env.now, "premove_arrive", m.to_grid, -1,
                     f"物资前置 {k} {m.item} from grid {m.from_grid} arrived")

    def summary(self) -> dict[str, int]:
        """Summary keys ``premoved_people`` and ``premoved_units``."""
        return summary_of(self)


def summary_of(moves: Moves | None) -> dict[str, int]:
    """:meth:`Moves.summary`, zeros without moves (the same keys either way)."""
    if moves is None:
        return {"premoved_people": 0, "premoved_units": 0}
    return {"premoved_people": moves.people, "premoved_units": moves.units}
