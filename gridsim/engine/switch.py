"""The switch 平急转换 · 就地转化 · 分类嵌入: each grid's mode and its move to forward command.

Per grid: ``PEACE → ALERT → FORWARD_COMMAND → RECOVERY → PEACE``.

* A *hold* (a warning over the grid, or a major incident in or next to it) moves a grid in PEACE
  or RECOVERY to ALERT. Holds are counted; when the last one is released the grid moves to
  RECOVERY and, ``recovery_h`` later, back to PEACE.
* On ALERT every member of the grid who is not busy is alerted (alarm/phone delay), gets going
  (mobilisation), comes back from work if away in working hours, and walks or rides to the post
  at the grid centre. The grid is FORWARD_COMMAND ready when the on-site commander is at the post
  (or, if every commander is busy, the first member to take charge), a quorum of members has
  assembled, and the supply point is open:
  ``ready = max(commander arrives, quorum-th member arrives, supply point open)``.
  The switch latency is ``ready - trigger``. A grid's alert, mobilisation and supply-point
  delays are multiplied by its ``delay_factor`` (1 by default; drilling lowers it, see
  :func:`gridsim.evacuation.model.drill_multiplier`).
* Members at the post are converted in place into responders (:mod:`gridsim.engine.dispatch` sends
  them from the post, with no call-up delay). Members still on their way (``leave_at``: when
  each leaves home for the post, ``assembled_at``: when they get there) can be sent from where
  they are, and the post's tasks (:mod:`gridsim.engine.storm`) take them as they arrive.

Common random numbers (docs/crn.md): a member's three uniforms of an alert (alert delay,
mobilisation, return from work) are keyed on the member's stable key (:func:`person_keys`:
home grid, leading role, rank in that role in the grid) and the grid's alert number (its
ALERTs so far); the supply point's on (grid, alert number). Variants with another team size,
or that switch another set of grids at one instant, keep every other member's and grid's draws.

Grids are arrays, not processes: an ALERT batch (e.g. every grid under a warning) computes all
its members' arrivals at once and one SimPy process walks the sorted ready times. Processes wait
on :meth:`ModeSwitch.ready_event` rather than polling the mode.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable

import numpy as np
import simpy

from gridsim.engine.compiled import local_speeds
from gridsim.engine.recorder import EventLog
from gridsim.model.clock import ProcessGenerator, in_hours
from gridsim.model.params import DispatchConfig, SwitchConfig
from gridsim.model.people import Roster, role_bit
from gridsim.model.region import Region
from gridsim.model.streams import keyed_hash, keyed_uniforms, stream_key
from gridsim.model.vocab import MODES

__all__ = ["ALERT", "FORWARD", "LEAD_ORDER", "PEACE", "RECOVERY", "ModeSwitch", "lead_roles",
           "people_of", "person_keys"]

PEACE, ALERT, FORWARD, RECOVERY = range(4)

#: A person's leading role is the first of these they hold (README "Dispatch").
LEAD_ORDER = ("commander", "grid_leader", "grid_worker", "party_member")
_MEMBER_DRAW, _SUPPLY_DRAW = 0, 1  # what a keyed draw of the switch is for


def lead_roles(roster: Roster) -> np.ndarray:
    """Each person's leading role, as an index into :data:`LEAD_ORDER` (-1: none of them)."""
    lead = np.full(roster.n, -1, dtype=np.int64)
    for i in reversed(range(len(LEAD_ORDER))):
        lead[(roster.roles & role_bit(LEAD_ORDER[i])) != 0] = i
    return lead


def person_keys(roster: Roster) -> np.ndarray:
    """A stable key of each person for keyed draws (:func:`gridsim.model.streams.keyed_uniforms`):
    a hash of (home grid, leading role, rank among the grid's people of that leading role, by
    id). A variant with more or fewer people of one role (team size) leaves everybody else's
    key as it was: a grid's 2nd commander is its 2nd commander with 0 or 4 grid workers."""
    lead = lead_roles(roster)
    grid = roster.grid.astype(np.int64)
    n = roster.n
    order = np.lexsort((np.arange(n), lead, grid))
    g_s, l_s = grid[order], lead[order]
    first = np.ones(n, dtype=bool)
    first[1:] = (g_s[1:] != g_s[:-1]) | (l_s[1:] != l_s[:-1])
    at = np.arange(n)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = at - np.maximum.accumulate(np.where(first, at, 0))
    return keyed_hash(0, grid, lead, rank)


def people_of(roster: Roster, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ids of the people of ``grids`` and, for each, the position of its grid in ``grids``."""
    starts = roster.by_grid_indptr[grids]
    counts = roster.by_grid_indptr[grids + 1] - starts
    total = int(counts.sum())
    pos = np.repeat(np.arange(len(grids)), counts)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return (np.arange(total) + offsets).astype(np.int64), pos


class ModeSwitch:
    """Modes of all grids, the members assembling at each post, and switch episodes."""

    def __init__(self, env: simpy.Environment, region: Region, roster: Roster,
                 cfg: SwitchConfig, dispatch: DispatchConfig, rng: np.random.Generator,
                 log: EventLog, busy: np.ndarray) -> None:
        self.env = env
        self.region = region
        self.roster = roster
        self.cfg = cfg
        self.rng = rng
        self._key = stream_key(rng)  # keyed draws (docs/crn.md): the stream's one draw
        self._person_key = person_keys(roster)
        self.log = log
        self.busy = busy
        n = region.grids.n
        self.alerts = np.zeros(n, dtype=np.int64)  # ALERTs of each grid so far
        self.mode = np.zeros(n, dtype=np.int8)
        self.holds = np.zeros(n, dtype=np.int64)
        self.epoch = np.zeros(n, dtype=np.int64)
        self.episode = np.full(n, -1, dtype=np.int64)  # current episode of each grid
        self.assembled_at = np.full(roster.n, np.inf)
        self.leave_at = np.full(roster.n, np.inf)  # leaves home (or work) for the post
        self.counts = np.bincount(self.mode, minlength=len(MODES)).astype(np.int64)
        self.mode_log: list[tuple[float, tuple[int, ...]]] = [(0.0, tuple(self.counts.tolist()))]
        # every change of a grid's mode, in the order made (time order): grid, time, new mode;
        # kept whether or not the event log is on (the run's mode timeline, mode_changes)
        self._ch_grid = array("q")
        self._ch_t = array("d")
        self._ch_mode = array("b")
        # episodes: one per ALERT
        self.ep_grid: list[int] = []
        self.ep_trigger_s: list[float] = []
        self.ep_ready_s: list[float] = []
        self.ep_reason: list[str] = []
        self.listeners: list[Callable[[int], None]] = []  # told when a grid is ready
        self.recovery_listeners: list[Callable[[np.ndarray], None]] = []  # ... stood down
        # per grid: the switch's own delays × this (drills, see gridsim.evacuation.model)
        self.delay_factor = np.ones(n)
        # per grid: when its post will be ready, as worked out at its last ALERT (nan: never)
        self.planned_ready_s = np.full(n, math.nan)
        self._ready_events: dict[int, simpy.Event] = {}
        kinds = region.grids.kind.astype(np.int64)
        self._speed = local_speeds(dispatch)[kinds]
        self._detour = dispatch.intra_grid_detour
        self._work_hours = dispatch.work_hours
        self._lead = (roster.roles & (role_bit("commander") | role_bit("grid_leader"))) != 0

    # -- queries -------------------------------------------------------------------------------
    def commanding(self, g: int) -> bool:
        """Whether grid ``g`` is in ALERT or FORWARD_COMMAND (its post is manned or manning)."""
        return self.mode[g] in (ALERT, FORWARD)

    def ready_event(self, g: int) -> simpy.Event:
        """An event that succeeds (value True) when grid ``g`` is forward-command ready, or with
        False if it leaves ALERT without getting there. Already triggered if it is ready."""
        if self.mode[g] == FORWARD:
            ev = self.env.event()
            ev.succeed(True)
            return ev
        pending = self._ready_events.get(g)
        if pending is not None:
            return pending
        ev = self.env.event()
        if self.mode[g] == ALERT:
            self._ready_events[g] = ev
        else:
            ev.succeed(False)
        return ev

    # -- transitions ---------------------------------------------------------------------------
    def _set_mode(self, grids: np.ndarray, new: int, reason: str) -> None:
        if len(grids) == 0:
            return
        now = self.env.now
        old = self.mode[grids]
        self.counts -= np.bincount(old, minlength=len(MODES))
        self.counts[new] += len(grids)
        self.mode[grids] = new
        self.mode_log.append((now, tuple(self.counts.tolist())))
        self._ch_grid.frombytes(grids.astype(np.int64, copy=False).tobytes())
        n = len(grids)
        self._ch_t.extend(itertools.repeat(now, n))
        self._ch_mode.extend(itertools.repeat(new, n))
        if self.log.enabled:
            for g, o in zip(grids.tolist(), old.tolist(), strict=True):
                self._log_change(now, g, o, new, reason)

    def _set_grid_mode(self, g: int, new: int, reason: str) -> None:
        """:meth:`_set_mode` for one grid, without the array work (the ready step's path)."""
        now = self.env.now
        old = int(self.mode[g])
        self.mode[g] = new
        self.counts[old] -= 1
        self.counts[new] += 1
        self.mode_log.append((now, tuple(self.counts.tolist())))
        self._ch_grid.append(g)
        self._ch_t.append(now)
        self._ch_mode.append(new)
        if self.log.enabled:
            self._log_change(now, g, old, new, reason)

    def mode_changes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(grid, t_s, mode)`` of every change of a grid's mode so far, in time order
        (same-time changes in the order made: the order of their event-log rows); copies,
        int64, float64 and int8 (an index of :data:`gridsim.model.vocab.MODES`)."""
        return (np.array(self._ch_grid, dtype=np.int64), np.array(self._ch_t, dtype=float),
                np.array(self._ch_mode, dtype=np.int8))

    def _log_change(self, now: float, g: int, old: int, new: int, reason: str) -> None:
        self.log.log(now, f"mode_{MODES[new].lower()}", g, -1,
                     f"{MODES[old]}->{MODES[new]}; {reason}")

    def hold(self, grids: np.ndarray, reason: str) -> None:
        """Add a hold on ``grids``; those in PEACE or RECOVERY move to ALERT and assemble."""
        grids = np.unique(np.asarray(grids, dtype=np.int64))
        self.holds[grids] += 1
        start = grids[(self.mode[grids] == PEACE) | (self.mode[grids] == RECOVERY)]
        if len(start):
            self._alert(start, reason)

    def release(self, grids: np.ndarray, reason: str) -> None:
        """Remove a hold from ``grids``; those left without holds move to RECOVERY."""
        grids = np.unique(np.asarray(grids, dtype=np.int64))
        self.holds[grids] -= 1
        if np.any(self.holds[grids] < 0):
            raise RuntimeError("switch hold released more often than taken")
        done = grids[(self.holds[grids] == 0)
                     & ((self.mode[grids] == ALERT) | (self.mode[grids] == FORWARD))]
        if len(done):
            self._recover(done, reason)

    def _alert(self, grids: np.ndarray, reason: str) -> None:
        now = self.env.now
        cfg = self.cfg
        self.epoch[grids] += 1
        alert_no = self.alerts[grids]  # this alert's number in each grid's history (0: first)
        self.alerts[grids] += 1
        self._set_mode(grids, ALERT, reason)
        for g in grids.tolist():
            self.episode[g] = len(self.ep_grid)
            self.ep_grid.append(g)
            self.ep_trigger_s.append(now)
            self.ep_ready_s.append(math.nan)
            self.ep_reason.append(reason)
        people, pos = people_of(self.roster, grids)
        u = keyed_uniforms(self._key, _MEMBER_DRAW, self._person_key[people][:, None],
                           alert_no[pos][:, None], np.arange(3))
        gx, gy = self.region.grids.x_m, self.region.grids.y_m
        home_grid = grids[pos]
        dist = (np.abs(self.roster.x_m[people] - gx[home_grid])
                + np.abs(self.roster.y_m[people] - gy[home_grid])) * self._detour
        away = self.roster.away_in_work_hours[people] & in_hours(now, self._work_hours)
        factor = self.delay_factor[home_grid]  # × 1.0 leaves every sum bit for bit as it was
        leave = (now + cfg.alert_delay.ppf_array(u[:, 0]) * factor
                 + cfg.assembly_mobilisation.ppf_array(u[:, 1]) * factor
                 + np.where(away, cfg.away_return.ppf_array(u[:, 2]), 0.0))
        arrive = leave + dist / self._speed[home_grid]
        busy = self.busy[people]
        arrive[busy] = np.inf
        leave[busy] = np.inf
        self.assembled_at[people] = arrive
        self.leave_at[people] = leave
        n_g = len(grids)
        # commander (or grid leader) at the post
        lead = self._lead[people]
        cmd = np.full(n_g, np.inf)
        np.minimum.at(cmd, pos[lead], arrive[lead])
        # quorum: the k-th member to arrive, k = ceil(share × members), among those who can come
        members = np.bincount(pos, minlength=n_g)
        able = np.bincount(pos, weights=np.isfinite(arrive), minlength=n_g).astype(np.int64)
        k = np.minimum(np.maximum(1, np.ceil(cfg.quorum_share * members).astype(np.int64)), able)
        order = np.lexsort((arrive, pos))
        seg_start = np.concatenate([[0], np.cumsum(members)[:-1]])
        quorum = np.full(n_g, np.inf)
        ok = k > 0
        quorum[ok] = arrive[order[seg_start[ok] + k[ok] - 1]]
        cmd = np.where(np.isfinite(cmd), cmd, quorum)
        supply_open = now + (cfg.supply_open_delay.ppf_array(
            keyed_uniforms(self._key, _SUPPLY_DRAW, grids, alert_no))
                             * self.delay_factor[grids])
        ready = np.maximum(np.maximum(cmd, quorum), supply_open)
        fin = np.isfinite(ready)
        self.planned_ready_s[grids] = np.where(fin, ready, math.nan)
        sched = np.argsort(ready[fin], kind="stable")
        g_sched, t_sched = grids[fin][sched], ready[fin][sched]
        self.env.process(self._ready_batch(g_sched, t_sched, self.epoch[g_sched].copy()))

    def _ready_batch(self, grids: np.ndarray, times: np.ndarray, epochs: np.ndarray
                     ) -> ProcessGenerator:
        env, mode, epoch = self.env, self.mode, self.epoch
        for g, t, e in zip(grids.tolist(), times.tolist(), epochs.tolist(), strict=True):
            if t > env.now:
                yield env.timeout(t - env.now)
            if epoch[g] != e or mode[g] != ALERT:
                continue
            self._set_grid_mode(g, FORWARD, "forward command ready")
            self.ep_ready_s[self.episode[g]] = env.now
            ev = self._ready_events.pop(g, None)
            if ev is not None:
                ev.succeed(True)
            for listener in self.listeners:
                listener(g)

    def _recover(self, grids: np.ndarray, reason: str) -> None:
        self.epoch[grids] += 1
        self._set_mode(grids, RECOVERY, reason)
        people, _ = people_of(self.roster, grids)
        self.assembled_at[people] = np.inf  # stood down
        self.leave_at[people] = np.inf
        for g in grids.tolist():
            ev = self._ready_events.pop(g, None)
            if ev is not None:
                ev.succeed(False)
        for listener in self.recovery_listeners:
            listener(grids)
        t_peace = self.env.now + self.cfg.recovery_h * 3600.0
        self.env.process(self._peace_batch(grids, t_peace, self.epoch[grids].copy()))

    def _peace_batch(self, grids: np.ndarray, t: float, epochs: np.ndarray
                     ) -> ProcessGenerator:
        yield self.env.timeout(t - self.env.now)
        back = grids[(self.epoch[grids] == epochs) & (self.mode[grids] == RECOVERY)]
        self._set_mode(back, PEACE, "recovered")

    # -- results -------------------------------------------------------------------------------
    def latencies(self) -> tuple[np.ndarray, np.ndarray]:
        """``(grid, latency_s)`` of every episode that reached forward command."""
        grid = np.array(self.ep_grid, dtype=np.int64)
        lat = np.array(self.ep_ready_s, dtype=float) - np.array(self.ep_trigger_s, dtype=float)
        ok = np.isfinite(lat)
        return grid[ok], lat[ok]
