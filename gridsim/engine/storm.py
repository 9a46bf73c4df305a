"""Storm work: what the people of a forward command post do besides answering incidents.

When a grid becomes a forward command post (FORWARD_COMMAND, :mod:`gridsim.engine.switch`),
and for as long as it stays one, its assembled members take the post's tasks
(``response.storm_work``), each a SimPy process with a team drawn from the same roster as
dispatch (:attr:`gridsim.engine.dispatch.Dispatcher.busy`):

* ``staff_post`` (值守): a few people stay at the post while it lasts;
* ``relocate`` (转移): move the vulnerable residents out of danger, so many person-minutes each
  (the count of people moved is kept);
* ``warn`` (入户预警): warn households door to door;
* ``sandbag`` (沙袋): fill and place sandbags, taken from the grid's supply point (the stock an
  incident would also use), then from the township depot (the team waits for the delivery);
  with none left anywhere the task stops;
* ``patrol`` (巡查): rounds of the grid's patrol points (key monitoring points, danger points on
  steep slopes and flood-prone land, :func:`gridsim.model.storm.task_units`), one round
  starting every ``round_period_min`` (or as soon as the last one ends).

A task's work in a grid is its units (from the grid's exposures) × minutes per unit; a team
of up to ``people`` does it together, so ``k`` members finish ``k`` times as fast. Tasks take
free members in priority order (higher first), as they arrive at the post and as they come
back from incidents or finish another task.

**Pre-emption.** Each task holds its people at its ``priority``. An incident's request for
people has ``incident_priority``: a held person of a lower priority is a candidate for it like
a free one at the post (:mod:`gridsim.engine.dispatch`). When picked, the person leaves the
task: its process is interrupted (a SimPy ``Interrupt``), the work done so far is kept, and the
task goes on with the rest of its team, or waits for another free person.

**Detection by patrols.** While a grid's patrol runs, an incident on its route (the catalogue
channel ``patrol_channel``'s coverage uniform below ``patrol_coverage``) is found when the
patrol passes it: at the incident's phase of the round (the channel's delay uniform,
:func:`gridsim.model.storm.next_pass_s`), unless another channel is faster. The patrol channel's
peacetime delay does not apply in a grid patrolled when the incident occurs. Forward mode's
faster detection comes from this, not from a multiplier.

**Utilisation.** The dispatcher integrates the busy people of every home grid over time
(incidents and tasks); over each warning the share of the warned grids' people who are busy is
:meth:`StormWork.utilization` (summary key ``storm_utilization``).

Built on top (:mod:`gridsim.engine.command`): functional groups by category under a span of
control (分类嵌入), people sent between grids by the township or county (三级包保), and
evacuation helpers held in dispatch while they help.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT

from gridsim.engine.dispatch import Dispatcher
from gridsim.engine.hazards import Catalogue
from gridsim.engine.recorder import EventLog
from gridsim.engine.supplies import SupplyChain
from gridsim.engine.switch import PEACE, RECOVERY, ModeSwitch
from gridsim.model.clock import ProcessGenerator
from gridsim.model.params import DispatchConfig, StormTaskConfig, StormWorkConfig
from gridsim.model.people import role_bit
from gridsim.model.storm import next_pass_s, round_time_s, task_units
from gridsim.model.vocab import GRID_KINDS, SUPPLY_ITEMS
from gridsim.place.scenario import Scenario

__all__ = ["TASKS", "StormWork", "TaskStats"]

#: The post's tasks, in the order of the config (``response.storm_work.<task>``).
TASKS: tuple[str, ...] = ("staff_post", "relocate", "warn", "sandbag", "patrol")
_HOLD, _PATROL, _WORK = "hold", "patrol", "work"
_KIND = {"staff_post": _HOLD, "patrol": _PATROL}
_EPS = 1e-6


@dataclass
class TaskStats:
    """One task over the run, all grids."""

    count: int = 0  # grids where the task started
    person_s: float = 0.0  # person-seconds held by it
    units_done: int = 0  # units of work done (relocate: people moved; warn: households)
    preempted: int = 0  # people taken off it by an incident
    rounds: float = 0.0  # patrol: rounds started
    short_units: int = 0  # sandbag: units with no stock left anywhere


class _Wake:
    """A bare SimPy event: what :meth:`simpy.core.Environment.step` needs of one (its callbacks
    and that it succeeded), and nothing else. A task's wake-ups are these, scheduled directly,
    instead of a SimPy process's (see :class:`_Task`)."""

    __slots__ = ("_ok", "callbacks")

    def __init__(self, callback: Any) -> None:
        self.callbacks = [callback]
        self._ok = True


def _schedule(env: simpy.Environment, wake: _Wake, priority: int, delay: float = 0.0) -> None:
    """Put ``wake`` on the event queue. ``Environment.schedule`` is typed for a full
    ``simpy.Event``; a :class:`_Wake` has all of it that ``Environment.step`` reads."""
    env.schedule(wake, priority, delay)  # type: ignore[arg-type]


class _Task:
    """One task of one post.

    A work task is a small state machine, not a SimPy process: the loop of its steps
    (:meth:`_loop`) runs at the same points of the event schedule as a process's would, so
    that every run is the same as with one. It starts at an urgent wake scheduled when it is
    made (a process's start); a change of its team after that wakes it with an urgent wake
    scheduled at the change (an interrupt), once for all the changes of an instant; and it waits
    for its work (or its stock) with one timeout, which a wake-up after a change makes stale.
    That saves the process, its generator, the interrupt's exception and the process's own end
    event: the post tasks of a city storm are most of its events.
    """

    __slots__ = (
        "_due",
        "base",
        "blocked_until",
        "cfg",
        "counted",
        "done",
        "done_s",
        "env",
        "grid",
        "kind",
        "left_s",
        "name",
        "people",
        "per_unit_s",
        "poked",
        "priority",
        "run_start",
        "seg_start",
        "started",
        "state",
        "stats",
        "stocked_s",
        "team",
        "units",
        "wanted",
        "work",
    )

    def __init__(self, work: StormWork, name: str, cfg: StormTaskConfig, grid: int,
                 units: float, kind: str, base: float = 0.0) -> None:
        env = work.env
        self.work = work
        self.env = env
        self.name = name
        self.kind = kind
        self.cfg = cfg
        self.grid = grid
        self.priority = cfg.priority
        self.people = cfg.people
        self.per_unit_s = cfg.minutes_per_unit * 60.0
        self.units = units
        # work still to do, person-seconds: the share ``base`` was done before this post
        # (relocate: residents a post of the same storm had moved out, still away)
        self.base = base
        self.left_s = units * self.per_unit_s * (1.0 - base)
        self.stocked_s = math.inf if not cfg.consumes else 0.0  # work covered by stock taken
        self.done_s = 0.0  # work done, person-seconds
        self.team: list[int] = []
        self.state = "idle"  # idle (no team), blocked (waiting for stock), working
        self.blocked_until = 0.0
        self.seg_start = env.now
        self.run_start = math.nan  # patrol: when the current run of rounds began
        self.done = False
        self.started = False
        self.poked = False  # a wake-up after a team change is on its way
        self.counted = False  # counted in work.wanting (a work task with places to fill)
        self.wanted = False  # counted in work.want_n (any task with places to fill)
        self.stats = work.stats[name]
        self._due: _Wake | None = None  # the timeout the task waits for
        # a post or a patrol just holds its team: only a work task has steps to take, from
        # its start (StormWork._on_ready schedules one wake for all of a post's starts)
        self._recount()

    # -- accounting ----------------------------------------------------------------------------
    def account(self) -> None:
        """Credit the team's time (and work) since the last change."""
        now = self.env._now
        dt = now - self.seg_start
        self.seg_start = now
        k = len(self.team)
        if dt <= 0 or k == 0:
            return
        self.stats.person_s += k * dt
        if self.kind == _WORK and self.state == "working":
            self.left_s -= k * dt
            self.stocked_s -= k * dt
            self.done_s += k * dt

    def wants(self) -> bool:
        return not self.done and len(self.team) < self.people

    def _recount(self) -> None:
        """Keep :attr:`StormWork.want_n` (grid -> its tasks that want people) and
        :attr:`StormWork.wanting` (grid -> its work tasks that want people) up to date after
        the team or ``done`` changed."""
        w = not self.done and len(self.team) < self.people
        if w != self.wanted:
            self.wanted = w
            self.work.want_n[self.grid] += 1 if w else -1
        if self.kind != _WORK or w == self.counted:
            return
        self.counted = w
        wanting = self.work.wanting
        n = wanting.get(self.grid, 0) + (1 if w else -1)
        if n:
            wanting[self.grid] = n
        else:
            del wanting[self.grid]

    def join(self, p: int) -> None:
        # self.account(), inline: one join a member, the storm's commonest step
        now = self.env._now
        team = self.team
        k = len(team)
        dt = now - self.seg_start
        self.seg_start = now
        kind = self.kind
        if dt > 0 and k:
            kdt = k * dt
            self.stats.person_s += kdt
            if kind == _WORK and self.state == "working":
                self.left_s -= kdt
                self.stocked_s -= kdt
                self.done_s += kdt
        team.append(p)
        work = self.work
        work.person_task[p] = self
        work.dispatcher.occupy(p, self.priority)
        if kind == _PATROL and not k:
            self.run_start = now
            work.patrol_changed(self.grid, now)
        if self.done:  # (never, from _offer: it joins people to tasks that want them)
            self._recount()
            return
        # self._recount() and self._poke(), inline
        w = k + 1 < self.people
        if w != self.wanted:
            self.wanted = w
            work.want_n[self.grid] += 1 if w else -1
        if kind != _WORK:
            return  # a post or a patrol just holds its team
        if w != self.counted:
            self.counted = w
            wanting = work.wanting
            n = wanting.get(self.grid, 0) + (1 if w else -1)
            if n:
                wanting[self.grid] = n
            else:
                del wanting[self.grid]
        if self.started and not self.poked:
            self.poked = True
            _schedule(self.env, _Wake(self._woken), URGENT)

    def leave(self, p: int) -> None:
        """``p`` is taken off the task (pre-empted; the dispatcher keeps them busy)."""
        self.account()
        self.team.remove(p)
        del self.work.person_task[p]
        if self.kind == _PATROL and not self.team:
            self._end_run()
        self._recount()
        self._poke()

    def stop(self, offer: bool) -> list[int]:
        """End the task (done, out of stock or the post stood down); returns its team, now
        free (if ``offer``, waiting requests and other tasks may take them at once)."""
        self.account()
        self.done = True
        work = self.work
        self.stats.units_done += self.units_done_so_far()
        team, self.team = self.team, []
        person_task = work.person_task
        for p in team:
            del person_task[p]
        if self.kind == _PATROL and not math.isnan(self.run_start):
            self._end_run()
        self._recount()
        due, self._due = self._due, None
        if due is not None:
            due.callbacks.clear()  # the task waits no more: its timeout wakes nothing
        vacate = work.dispatcher.vacate
        for p in team:
            vacate(p, offer=offer)
        return team

    def _end_run(self) -> None:
        now = self.env._now
        cycle = self.work.patrol_cycle_s[self.grid]
        self.stats.rounds += math.ceil((now - self.run_start) / cycle - _EPS)
        self.run_start = math.nan
        self.work.patrol_changed(self.grid, math.nan)

    def _poke(self) -> None:
        """Wake a work task so that it looks at its team again (not before it has started,
        nor twice at once: it will look then). Urgent, at the current instant, where a SimPy
        interrupt would be."""
        if self.kind != _WORK or self.poked or self.done or not self.started:
            return  # a post or a patrol just holds its team; one look is enough
        self.poked = True
        _schedule(self.env, _Wake(self._woken), URGENT)

    # -- the steps -----------------------------------------------------------------------------
    def start(self) -> None:
        self.started = True
        self._loop()

    def _woken(self, _ev: Any) -> None:
        """After a team change: the timeout waited for (if any) is stale; look again."""
        self.poked = False
        due, self._due = self._due, None
        if due is not None:
            due.callbacks.clear()
        self._loop()

    def _timeout(self, _ev: Any) -> None:
        self._due = None
        self.account()
        self._loop()

    def _wait(self, delay: float) -> None:
        due = self._due = _Wake(self._timeout)
        _schedule(self.env, due, NORMAL, delay)

    def _loop(self) -> None:
        """The task's next steps, up to the next wait: done, take stock, wait for the stock to
        come, or work until the work (or the stock) is used up."""
        env = self.env
        while not self.done:
            if not self.team:
                self.state = "idle"  # until the team changes or the post stands down
                return
            if self.left_s <= _EPS:
                self.work.log.log(env._now, "storm_task_done", self.grid, -1, self.name)
                self.stop(offer=True)
                return
            if self.stocked_s <= _EPS:
                self._take_stock()
                continue
            if env._now < self.blocked_until:
                self.state = "blocked"
                self._wait(self.blocked_until - env._now)
                return
            self.state = "working"
            self.seg_start = env._now
            self._wait(min(self.left_s, self.stocked_s) / len(self.team))
            return

    def _take_stock(self) -> None:
        """Take the next batch's stock (grid first, then the township depot)."""
        work, g = self.work, self.grid
        left_units = math.ceil(self.left_s / self.per_unit_s - _EPS)
        batch = left_units if self.cfg.batch_units <= 0 else min(left_units,
                                                                  int(self.cfg.batch_units))
        got_units = batch
        delay = 0.0
        led = work.supply.ledger
        for item, per in sorted(self.cfg.consumes.items()):
            i = SUPPLY_ITEMS.index(item)
            need = batch * per
            got = own = led.take(g, i, need)
            if got < need:
                k = led.take_from_depot(int(work.township[g]), i, need - got)
                if k:
                    delay = max(delay, float(work.supply.depot_time_s[g]))
                    work.log.log(work.env.now, "storm_supply_fetched", g, -1,
                                 f"{self.name}: {k} {item} from the township depot")
                got += k
            led.asked(g, i, need, own, got)
            led.consume(got)
            got_units = min(got_units, got // per)
        short = batch - got_units
        if short:
            self.stats.short_units += short
            self.left_s -= short * self.per_unit_s
            work.log.log(work.env.now, "storm_supply_short", g, -1,
                         f"{self.name}: {short} units without stock")
        self.stocked_s = got_units * self.per_unit_s
        if self.left_s <= _EPS:
            self.left_s = 0.0
        self.blocked_until = work.env.now + delay

    def share_done(self) -> float:
        """The share of the task's work done by now, the current stretch of work included."""
        total = self.units * self.per_unit_s
        if total <= 0.0:
            return 1.0
        done = self.done_s
        if self.state == "working" and not self.done:
            done += len(self.team) * max(self.env._now - self.seg_start, 0.0)
        return min(self.base + done / total, 1.0)

    def units_done_so_far(self) -> int:
        """Whole units of work done (0 for a task that holds its people: post, patrol)."""
        if self.kind != _WORK:
            return 0
        return math.floor(self.done_s / self.per_unit_s + _EPS)


class _Arrivals:
    """Members still on their way join grid ``g``'s tasks as they reach the post: the steps a
    SimPy process would take, on bare wakes (see :class:`_Task`): it starts at the post's start
    wake (:class:`_PostStart`), then waits for each arrival with one timeout."""

    __slots__ = ("env", "epoch", "g", "i", "times", "work")

    def __init__(self, work: StormWork, g: int, times: list[float], epoch: int) -> None:
        self.work, self.env, self.g, self.times, self.i, self.epoch = (
            work, work.env, g, times, 0, epoch)

    def _next(self, _ev: Any) -> None:
        env, times = self.env, self.times
        while self.i < len(times):
            t = times[self.i]
            if t > env._now:
                _schedule(env, _Wake(self._arrived), NORMAL, t - env._now)
                return
            self.i += 1
            if not self._offer():
                return

    def _arrived(self, _ev: Any) -> None:
        self.i += 1
        if self._offer():
            self._next(_ev)

    def _offer(self) -> bool:
        work, g = self.work, self.g
        if work.switch.epoch[g] != self.epoch or g not in work.tasks:
            return False
        work._offer(g)
        return True


class _PostStart:
    """The start of a post's work tasks and of its arrivals, at one urgent wake.

    Each of them used to start at an urgent wake of its own, scheduled one after the other when
    the post became ready, with nothing scheduled in between: those wakes were consecutive in
    the event queue (same time, same priority, consecutive ids), so nothing ran between them,
    and running the starts in that order at the first one's place is the same schedule, with
    one event a post instead of one a task."""

    __slots__ = ("arrivals", "tasks")

    def __init__(self, tasks: list[_Task], arrivals: _Arrivals | None) -> None:
        self.tasks = tasks
        self.arrivals = arrivals

    def __call__(self, ev: Any) -> None:
        for task in self.tasks:
            task.start()
        if self.arrivals is not None:
            self.arrivals._next(ev)


class StormWork:
    """The post tasks of every grid in forward command, and the warning windows."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, cfg: StormWorkConfig,
                 dispatch: DispatchConfig, dispatcher: Dispatcher, switch: ModeSwitch,
                 supply: SupplyChain, catalogue: Catalogue, log: EventLog) -> None:
        self.env = env
        self.cfg = cfg
        self.dispatcher = dispatcher
        self.switch = switch
        self.supply = supply
        self.log = log
        self.enabled = cfg.enabled
        grids = scenario.region.grids
        self.township = grids.township
        self.roster = scenario.roster
        self.stats = {name: TaskStats() for name in TASKS}
        self.person_task: dict[int, _Task] = {}
        self.tasks: dict[int, list[_Task]] = {}
        self.wanting: dict[int, int] = {}  # grid -> its work tasks with places to fill
        self.want_n = [0] * grids.n  # grid -> its tasks (any) with places to fill
        # warnings: [grids, people, start_s, end_s (nan while open), busy_s at start, at end]
        self.windows: list[list[Any]] = []
        self.channel = -1  # index of the patrol channel among the catalogue's
        self.patrol_start = np.full(grids.n, math.nan)
        self.patrol_round_s = np.zeros(grids.n)
        self.patrol_cycle_s = np.ones(grids.n)
        self._changed: dict[int, simpy.Event] = {}
        # the command structure at the post (gridsim.engine.command): functional groups under
        # a span of control, members lent by the township; None: tasks take any member
        self.command: Any = None
        self.lent_in: dict[int, list[int]] = {}  # grid -> members of other grids lent to it
        # grid -> when each of its members reaches its post (roster order), while it stands
        self._assembled: dict[int, list[float]] = {}
        # grid -> the members of its post who may be free (see _offer), while it stands
        self._maybe_free: dict[int, set[int]] = {}
        # relocation's progress after its post stood down: grid -> (share moved, when)
        self._moved: dict[int, tuple[float, float]] = {}
        if not self.enabled:
            return
        indptr = self.roster.by_grid_indptr.tolist()
        self._home = self.roster.grid.tolist()  # each person's grid, read one at a time
        self._members = list(itertools.pairwise(indptr))
        self._lo = indptr[:-1]  # each grid's first member
        self._assembled_v = switch.assembled_at.data  # its memory: Python floats
        names = [ch.name for ch in catalogue.detection]
        self.channel = names.index(cfg.patrol_channel)  # validated: it is one of them
        self.specs = sorted(
            ((name, getattr(cfg, name)) for name in TASKS if getattr(cfg, name).enabled
             and getattr(cfg, name).people > 0),
            key=lambda nc: -nc[1].priority)  # stable: the TASKS order among equal priorities
        self.units = {name: task_units(grids, c) for name, c in self.specs}
        # what _on_ready reads for each task, in the priority order: name, config, kind, units
        # a grid (a list: one grid's units are read at a time)
        self._per_task = [(name, c, _KIND.get(name, _WORK),
                           np.asarray(self.units[name], dtype=float).tolist())
                          for name, c in self.specs]
        # who may take each task (None: anyone), as a list: read one person at a time
        self.role_ok: dict[str, list[bool] | None] = {}
        for name, c in self.specs:
            if c.roles:
                mask = 0
                for r in c.roles:
                    mask |= role_bit(r)
                self.role_ok[name] = ((self.roster.roles & mask) != 0).tolist()
            else:
                self.role_ok[name] = None
        if "patrol" in self.units:
            speed = np.array([dispatch.local_speed_mps[k] for k in GRID_KINDS])
            speed_g = speed[grids.kind.astype(np.int64)]
            self.patrol_round_s = round_time_s(self.units["patrol"], grids.area_km2,
                                               dispatch.intra_grid_detour, speed_g,
                                               cfg.patrol.minutes_per_unit)
            self.patrol_cycle_s = np.maximum(self.patrol_round_s,
                                             cfg.patrol.round_period_min * 60.0)
        dispatcher.request_priority = cfg.incident_priority
        dispatcher.preempt_hook = self._preempt
        dispatcher.free_listeners.append(self._on_free)
        switch.listeners.append(self._on_ready)  # after the dispatcher's: incidents first
        switch.recovery_listeners.append(self._on_recover)

    # -- posts ---------------------------------------------------------------------------------
    def _on_ready(self, g: int) -> None:
        """Grid ``g`` is a forward command post: its tasks start."""
        if g in self.tasks:
            return
        tasks = []
        for name, c, kind, units in self._per_task:
            u = units[g]
            if kind != _HOLD and u <= 0:
                continue
            base = self._moved_before(g) if name == "relocate" else 0.0
            if base >= 1.0:
                continue  # everybody is still away since an earlier post of this storm
            tasks.append(_Task(self, name, c, g, u, kind, base))
            self.stats[name].count += 1
        self.tasks[g] = tasks
        lo, hi = self._members[g]
        now = self.env.now
        # when each member reaches the post: fixed while it stands (the switch sets these at
        # the alert, from PEACE or RECOVERY only, and clears them at the stand-down, just
        # before _on_recover), so _offer reads this list instead of the array
        ats = self._assembled[g] = self.switch.assembled_at[lo:hi].tolist()
        # (everyone: a member who never comes, inf, is never taken, as before)
        self._maybe_free[g] = set(range(lo, hi))
        later = [t for t in ats if now < t < math.inf]
        arrivals = None
        if later:
            later.sort()
            arrivals = _Arrivals(self, g, later, int(self.switch.epoch[g]))
        starting = [t for t in tasks if t.kind == _WORK]
        if starting or arrivals is not None:
            _schedule(self.env, _Wake(_PostStart(starting, arrivals)), URGENT)
        self._offer(g)

    def _offer(self, g: int) -> None:
        """Give the free members at ``g``'s post to its tasks, highest priority first."""
        if not self.want_n[g]:
            return  # no task of the post wants people (or no post)
        now = self.env._now
        lo = self._lo[g]
        busy = self.dispatcher.busy_v  # (the busy array's memory: Python bools)
        # The free members at the post, in roster order. Not a scan of all of them: the post
        # keeps those who may be free (_maybe_free: every member, at the start; then each
        # member found busy here is dropped, and each member set free is put back by _on_free,
        # which the dispatcher calls for every person it frees with an offer). The only frees
        # without an offer are the stand-down's (the post is gone) and the command's lent
        # members on their way (free only until their trip's process starts, which occupies
        # them: a post that took one of them then would fail that trip's assertion).
        ats = self._assembled[g]
        maybe = self._maybe_free[g]
        left = []
        gone = None
        for p in maybe:
            if busy[p]:
                if gone is None:
                    gone = [p]
                else:
                    gone.append(p)
            elif ats[p - lo] <= now:
                left.append(p)
        if gone is not None:
            maybe.difference_update(gone)
        if len(left) > 1:
            left.sort()
        lent = self.lent_in.get(g)
        if lent:
            left.extend(p for p in lent if not busy[p])
        if not left:
            return
        tasks = self.tasks[g]
        command = self.command
        groups = command is not None and command.groups
        # task groups the post may still start (-1: no limit), worked out when first read:
        # for the first task of the list below with no team yet that is no post's hold. Up to
        # it, the joins below are to tasks with a team already or to holds, which change
        # neither the count of groups with a team nor the span (the people it reads who join
        # a task are held, not on incidents): the value is the one at the call's start.
        span: int | None = None
        role_ok = self.role_ok
        # the tasks that want people (t.wants()), highest priority first; a task's wish
        # changes below only by its own joins, so reading it as each task comes is the same
        # as listing them first
        for task in tasks:
            team = task.team
            if task.done or len(team) >= task.people:
                continue
            if not left:
                return
            if groups and not team and task.kind != _HOLD:
                if span is None:
                    span = command.span(g)
                    for t2 in tasks:
                        if t2.kind != _HOLD and t2.team:
                            span -= 1
                if span >= 0:
                    if span == 0:
                        continue  # beyond the span of control: waits for a group to end
                    span -= 1
            ok = role_ok[task.name]
            if len(left) == 1:  # one free member: the task takes them, if it may
                one = left[0]
                if ok is None or ok[one]:
                    left.pop()
                    task.join(one)
                continue
            # (Command.order keeps a single member's list as it is)
            order = left if command is None else command.order(task.name, left)
            while len(team) < task.people:  # task.wants(): it is not done here
                if ok is None:
                    pick = order[0] if order else None
                else:
                    pick = None
                    for p in order:
                        if ok[p]:
                            pick = p
                            break
                if pick is None:
                    break
                left.remove(pick)
                if order is not left:
                    order.remove(pick)
                task.join(pick)

    def _on_free(self, p: int) -> None:
        g = self._home[p]
        maybe = self._maybe_free.get(g)
        if maybe is not None:
            maybe.add(p)  # may be taken at their post again (see _offer)
        command = self.command
        # (Command.released is False while nobody is lent)
        if command is not None and command.n_lent and command.released(p):
            return  # lent to another grid: offered there, or sent home
        if self.want_n[g] and self._assembled_v[p] <= self.env._now:
            self._offer(g)  # (a post none of whose tasks wants people would take nobody)

    def _preempt(self, p: int) -> None:
        """The dispatcher takes ``p`` off their task for an incident."""
        task = self.person_task[p]
        task.leave(p)
        self.stats[task.name].preempted += 1
        self.log.log(self.env.now, "storm_preempted", task.grid, -1,
                     f"person {p} off {task.name}")
        # another free member may take the place, once this dispatch is over
        ev = self.env.timeout(0)
        grid = task.grid
        ev.callbacks.append(lambda _e: self._offer(grid))

    def _on_recover(self, grids: np.ndarray) -> None:
        """The posts of ``grids`` stand down: their tasks stop and their people are free."""
        freed = []
        now = self.env.now
        for g in grids.tolist():
            self._assembled.pop(g, None)
            self._maybe_free.pop(g, None)
            for task in self.tasks.pop(g, []):
                if task.name == "relocate":
                    self._moved[g] = (task.share_done(), now)
                if not task.done:
                    freed.extend(task.stop(offer=False))
        if freed and self.dispatcher.pending:
            self.dispatcher.retry()

    # -- relocation (转移) and the people an incident traps --------------------------------------
    def moved_share(self, g: int) -> float:
        """The share of grid ``g``'s vulnerable residents of flood-prone homes (the ``relocate``
        task's units) moved out by now: the work done by its post's relocation, or by an
        earlier post of the same storm. Relocated residents stay away until the grid is back in
        peacetime (``response.switch.recovery_h`` after its post stood down, unless it was
        alerted again before). 0 with storm work off."""
        if not self.enabled:
            return 0.0
        for task in self.tasks.get(g, ()):
            if task.name == "relocate":
                return task.share_done()
        return self._moved_before(g)

    def _moved_before(self, g: int) -> float:
        kept = self._moved.get(g)
        if kept is None:
            return 0.0
        share, stood_down_s = kept
        mode = int(self.switch.mode[g])
        if mode == PEACE:
            return 0.0
        if mode == RECOVERY:
            return share
        # in ALERT or FORWARD_COMMAND again: the same storm if alerted before it was back in
        # peacetime
        alerted_s = self.switch.ep_trigger_s[int(self.switch.episode[g])]
        back_s = stood_down_s + self.switch.cfg.recovery_h * 3600.0
        return share if alerted_s < back_s else 0.0

    # -- detection by patrols ------------------------------------------------------------------
    def patrolling(self, g: int) -> bool:
        return not math.isnan(self.patrol_start[g])

    def patrol_changed(self, g: int, start_s: float) -> None:
        self.patrol_start[g] = start_s
        ev = self._changed.pop(g, None)
        if ev is not None:
            ev.succeed()

    def covers(self, u: np.ndarray, slot: int) -> bool:
        """Whether an incident (its uniforms ``u``, detection slots from ``slot``) lies on the
        patrol route of its grid."""
        return self.enabled and "patrol" in self.units and (
            float(u[slot + 2 * self.channel]) < self.cfg.patrol_coverage)

    def detect(self, g: int, phase: float, delay_s: float, by: str
               ) -> Generator[simpy.Event, Any, str]:
        """Wait until the incident is found: after ``delay_s`` by channel ``by``, or earlier
        when a patrol of grid ``g`` passes its spot (``phase`` of the round). Returns the
        channel."""
        env = self.env
        found_s = env.now + delay_s
        name = self.cfg.patrol_channel
        while True:
            start = self.patrol_start[g]
            t = math.inf if math.isnan(start) else next_pass_s(
                float(start), float(self.patrol_round_s[g]), float(self.patrol_cycle_s[g]),
                phase, env.now)
            if t >= found_s:
                changed = self._changed_event(g)
                if found_s > env.now:
                    to = env.timeout(found_s - env.now)
                    res = yield to | changed
                    if to not in res:
                        continue  # a patrol started or stopped: look again
                return by
            to = env.timeout(t - env.now)
            changed = self._changed_event(g)
            res = yield to | changed
            if to in res:
                return name

    def _changed_event(self, g: int) -> simpy.Event:
        ev = self._changed.get(g)
        if ev is None:
            ev = self._changed[g] = self.env.event()
        return ev

    # -- warnings and results ------------------------------------------------------------------
    def watch_warning(self, grids: np.ndarray, start_s: float, end_s: float) -> None:
        """Measure the busy share of ``grids``' people from ``start_s`` to ``end_s``."""
        self.env.process(self._window(np.asarray(grids, dtype=np.int64), start_s, end_s))

    def _window(self, grids: np.ndarray, start_s: float, end_s: float) -> ProcessGenerator:
        env = self.env
        if start_s > env.now:
            yield env.timeout(start_s - env.now)
        people = int(np.sum(self.roster.count_by_grid()[grids]))
        w = [grids, people, env.now, math.nan, self.dispatcher.grid_busy_s(grids, env.now),
             math.nan]
        self.windows.append(w)
        yield env.timeout(max(end_s - env.now, 0.0))
        w[3], w[5] = env.now, self.dispatcher.grid_busy_s(grids, env.now)

    def utilization(self, end_s: float) -> float:
        """Busy person-seconds of the warned grids' people over person-seconds of warning."""
        busy = span = 0.0
        for grids, people, s, e, b0, b1 in self.windows:
            if math.isnan(e):
                e, b1 = end_s, self.dispatcher.grid_busy_s(grids, end_s)
            busy += b1 - b0
            span += people * (e - s)
        return busy / span if span > 0 else math.nan

    def task_summary(self) -> dict[str, dict[str, float | int]]:
        """Per task: grids where it ran, person-hours, units done, pre-emptions (and people
        moved for ``relocate``, rounds for ``patrol``, units without stock for ``sandbag``),
        counting the tasks still running up to now."""
        if not self.enabled:
            return {}
        running: dict[str, list[_Task]] = {}
        for tasks in self.tasks.values():
            for task in tasks:
                if not task.done:
                    task.account()
                    running.setdefault(task.name, []).append(task)
        out: dict[str, dict[str, float | int]] = {}
        for name, _ in sorted(self.specs, key=lambda nc: TASKS.index(nc[0])):
            st = self.stats[name]
            live = running.get(name, [])
            units = st.units_done + sum(t.units_done_so_far() for t in live)
            row: dict[str, float | int] = {"count": st.count,
                                           "person_hours": round(st.person_s / 3600.0, 3),
                                           "units_done": units, "preempted": st.preempted}
            if name == "relocate":
                row["people_moved"] = units
            if name == "patrol":
                now = self.env.now
                row["rounds"] = int(st.rounds + sum(
                    math.ceil((now - t.run_start) / self.patrol_cycle_s[t.grid] - _EPS)
                    for t in live if not math.isnan(t.run_start)))
            if name == "sandbag":
                row["units_short"] = st.short_units
            out[name] = row
        return out
