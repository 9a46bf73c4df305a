"""The peacetime hazard loop during a run: individual hazards through 四单四办, over all grids.

The model (rates, channels, pools, the steady state) is :mod:`gridsim.model.peace`; this module
runs it. Every hazard is a row of numpy arrays (class, grid, stage, times, channel). A step of
``dt`` days, vectorised over all grids, splits at the boundaries where rates change (a lever
phase starts, an inspection campaign 大排查 starts or stops) and within each piece of constant
rates:

* new hazards: Poisson per class and grid (one Poisson total, cells by their rates), at uniform
  times;
* finds: each unfound hazard is found with probability ``1 − e^{−d L}`` over what is left of the
  piece, at a truncated-exponential time, by channel ``k`` with probability ``d_k / d``
  (competing exponentials);
* the stages: multi-server FCFS queues per pool (a grid or a village), served in order raise →
  file → dispatch → work → rate, each case's service time drawn when it starts, at exact
  continuous times: within a pool the next event is the earlier of its next completion and its
  next start (``max(free since, earliest waiting arrival)`` when a server is free); at a start
  the cases past their deadline go first (支部督办), then the earliest arrival. A pass over the
  stages repeats work and rate while rating sends cases back within the piece (rework).

A rework case joins the work queue at its rating time; a pool with a server free then serves it
from then. (If the pool's servers already took other cases after that time within the piece, the
rework case waits for the next free one: the only inexactness, and only in a saturated pool.)

Streams (common random numbers per hazard class): every class ``c`` has its own streams,
``peace/initial/<c>`` (its share of the steady state; its first draw is the class's key for the
keyed draws) and ``peace/steps/<c>`` (its new hazards, their finds and channels, the removals of
its unfound hazards by a phase); what happens to a case in the loop (each service time, each
rating's rework, a phase's removal) is a keyed uniform of the class's key, the case's serial
number within its class and the stage and visit (:func:`gridsim.model.streams.keyed_uniforms`),
so it does not depend on the order of events or on other classes' cases. Only the pool-wide part
of the steady state (whether a pool is full, its queue and that queue's cases) draws on
``peace/initial/pools``. So with a lever that touches class ``c`` alone, every other class's
draws are the same sequence; its cases differ only where they share a pool with ``c``'s cases
and queue behind them (a pool full at the start; a server busy when a case arrives), which is
the real coupling of shared 四单四办 pools. The caller passes the streams as a mapping from
those names (:func:`loop_streams`); a single generator (tests) is split into child streams by
``Generator.spawn``.

Steady-state start (:meth:`PeaceLoop.start`), under the phase in force at t = 0
(``from_day=None``): unfound hazards Poisson of the mean at the start of an inspection period;
in each stage and pool, the number in system from the M/M/c stationary law (load ``Λ S̄``; a
Jackson network's product form: pools and stages independent), the cases in service with an
exponential residual service of their class's mean, their class and grid drawn in proportion to
``λ v S`` (in service) or ``λ v`` (waiting); their found times are their stage arrival less the
mean sojourns of the stages before (the initial cases' deadlines are so approximate). A phase
with a ``from_day`` removes, when it starts, the part of its ``remove_share`` beyond the
previous phase's: ``1 − (1 − r_new) / (1 − r_old)`` of the open hazards of each class and grid.

Capacity (``Levers.server_factor`` times the model's standing ``capacity_factor``,
:meth:`PeaceModel.stage_servers`): each pool has ``c'`` servers and every service time drawn in
it is × ``slow``; a phase that changes them acts from its start (a full pool given more servers
starts its waiting cases at once; one given fewer lets the cases in service end, the excess not
replaced), cases in service keep the end drawn at their start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridsim.errors import UserError
from gridsim.model.levers import LeverPhase, Levers
from gridsim.model.peace import CHANNEL_LABELS, PeaceModel
from gridsim.model.streams import keyed_hash, stream_key
from gridsim.model.vocab import HAZARD_CLASSES, LOOP_STAGES, ZH

__all__ = ["PeaceLoop", "loop_streams"]

_NS = len(LOOP_STAGES)
_WORK = LOOP_STAGES.index("work")
_RATE = LOOP_STAGES.index("rate")
_DONE = _NS  # a row's stage once it has left the loop
_NK = len(CHANNEL_LABELS)
_INF = math.inf
POOLS = "pools"  # the stream of the pool-wide part of the steady state
# tags of the keyed draws (a case's uniforms: tag, class key, serial, ...)
_TAG_SERVICE, _TAG_REWORK, _TAG_REMOVE = 16, 32, 48  # (+ the stage for a service)
_VISIT = np.uint64(0xD6E8FEB86659FD93)  # odd multipliers: a visit's and a tag's offsets on
_TAGS = 0x9E3779B97F4A7C15              # a case's seed (the second: splitmix64's increment)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)  # splitmix64's
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))

Rngs = np.random.Generator | Mapping[str, np.random.Generator]


def loop_streams(get: Callable[[str], np.random.Generator],
                 kind: str) -> dict[str, np.random.Generator]:
    """The loop's streams ``peace/<kind>/<class>`` for every hazard class (and
    ``peace/<kind>/pools``), from ``get`` (e.g. ``Streams.get``): ``kind`` is ``initial``
    for :meth:`PeaceLoop.start`, ``steps`` for :meth:`PeaceLoop.step`."""
    return {name: get(f"peace/{kind}/{name}") for name in (*HAZARD_CLASSES, POOLS)}


def _gens(rng: Rngs, names: Sequence[str]) -> list[np.random.Generator]:
    """One generator per name: from the mapping, or children spawned from one generator."""
    if isinstance(rng, np.random.Generator):
        return list(rng.spawn(len(names)))
    missing = [k for k in names if k not in rng]
    if missing:
        raise ValueError(f"peacetime loop streams missing: {missing}")
    return [rng[k] for k in names]


@dataclass
class _Rows:
    """The cases in the loop (found, not yet rectified), one row each."""

    cls: np.ndarray  # int64
    grid: np.ndarray  # int64
    stage: np.ndarray  # int64, _DONE when gone
    busy: np.ndarray  # bool: in service (else waiting)
    t_arr: np.ndarray  # arrival at the current stage (days)
    t_end: np.ndarray  # end of service (days; inf while waiting)
    t_found: np.ndarray
    deadline: np.ndarray
    channel: np.ndarray  # int64, CHANNEL_LABELS
    in_run: np.ndarray  # bool: found during the run
    uid: np.ndarray = None  # type: ignore[assignment]  # int64: serial within its class
    visit: np.ndarray = None  # type: ignore[assignment]  # int64: ratings sent back so far
    seed: np.ndarray = None  # type: ignore[assignment]  # uint64: hash of class key and uid

    FIELDS = ("cls", "grid", "stage", "busy", "t_arr", "t_end", "t_found", "deadline",
              "channel", "in_run", "uid", "visit", "seed")

    def __post_init__(self) -> None:
        if self.uid is None:  # hand-built rows (tests): serial numbers in row order
            self.uid = _serials(self.cls, np.zeros(int(self.cls.max(initial=-1)) + 1,
                                                   np.int64))
        if self.visit is None:
            self.visit = np.zeros(len(self.cls), np.int64)
        if self.seed is None:  # (a hand-built loop's class keys are 0)
            self.seed = keyed_hash(0, np.zeros(len(self.cls), np.uint64), self.uid)

    @staticmethod
    def empty() -> _Rows:
        i, f, b = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
        return _Rows(i, i, i, b, f, f, f, f, i, b, i, i, np.zeros(0, np.uint64))

    def uniforms(self, tag: int, rows: np.ndarray) -> np.ndarray:
        """Keyed uniforms of the cases ``rows`` for draw ``tag`` at their current visit: the
        splitmix64 finaliser of ``seed + visit · V + tag · T`` (the seed already a keyed hash
        of the class key and serial), its top 53 bits centred in their interval, as
        :func:`gridsim.model.streams.keyed_uniforms` (inline: a few array operations, this is
        the loop's innermost draw)."""
        z = self.seed[rows] + self.visit[rows].astype(np.uint64) * _VISIT \
            + np.uint64((tag * _TAGS) & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z ^= z >> _S31
        return ((z >> _S11).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)

    def __len__(self) -> int:
        return len(self.cls)

    def extend(self, other: _Rows) -> None:
        for k in self.FIELDS:
            setattr(self, k, np.concatenate([getattr(self, k), getattr(other, k)]))

    def keep(self, mask: np.ndarray) -> None:
        for k in self.FIELDS:
            setattr(self, k, getattr(self, k)[mask])


class _Stats:
    """Per stage and class: what peacetime.csv reports (:meth:`PeaceLoop.stage_rows`): counts of
    the events during the run, whatever the case's age; the means over the cases that came to
    the stage during the run (``started``, ``completed_in_run``)."""

    def __init__(self, n_classes: int) -> None:
        shape = (_NS, n_classes)
        self.arrivals = np.zeros(shape, np.int64)
        self.started = np.zeros(shape, np.int64)  # of the cases come to the stage in the run
        self.wait_sum = np.zeros(shape)
        self.completed = np.zeros(shape, np.int64)  # every service ended during the run
        self.completed_in_run = np.zeros(shape, np.int64)  # ... of the cases come in the run
        self.time_sum = np.zeros(shape)
        self.rework = np.zeros(shape, np.int64)
        self.supervised = np.zeros(shape, np.int64)
        self.in_stage_days = np.zeros(shape)  # ∫ number in stage dt over the run
        self.waits: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(_NS)]
        self.on_time = np.zeros(n_classes, np.int64)


class PeaceLoop:
    """The loop's state during a run (see the module docstring)."""

    def __init__(self, model: PeaceModel, phases: Sequence[LeverPhase]) -> None:
        self.model = model
        n, nc = model.n_grids, model.n_classes
        initial = [p for p in phases if p.from_day is None]
        self._levers = initial[-1].levers if initial else Levers.neutral(n)
        self._pending = sorted((p for p in phases if p.from_day is not None),
                               key=lambda p: float(p.from_day))  # type: ignore[arg-type]
        self.now_day = 0.0
        self.u_cls = np.zeros(0, np.int64)
        self.u_grid = np.zeros(0, np.int64)
        self.rows = _Rows.empty()
        self.free_since = [np.full(s.n_pools, -_INF) for s in model.stages]
        self.stats = _Stats(nc)
        self.new_by_class = np.zeros(nc, np.int64)
        self.found_by = np.zeros((_NK, nc), np.int64)  # found during the run, by channel
        self.rectified_by_class = np.zeros(nc, np.int64)  # rectified during the run
        self.rectified_in_run_by_class = np.zeros(nc, np.int64)  # ... of those found in it
        self.removed_unfound = np.zeros(nc, np.int64)
        self.removed_loop = np.zeros(nc, np.int64)
        self.removed_loop_in_run = np.zeros(nc, np.int64)
        self.unfound_start = np.zeros(nc, np.int64)
        self.loop_start = np.zeros(nc, np.int64)
        self.stage_start = np.zeros((_NS, nc), np.int64)  # in each stage at the start
        self._rates_key: tuple[int, bool] | None = None
        self._rates: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._phase_no = 0
        self._keys = np.zeros(nc, np.uint64)  # per class: the key of its keyed draws
        self._next_id = np.zeros(nc, np.int64)  # per class: the next case's serial number
        self._open: np.ndarray = np.zeros((nc, n))
        self._mult: np.ndarray | None = None
        # per stage, its pools' (servers, service-time factor) under the levers in force
        self._srv = model.stage_servers(self._levers)

    # -- start ---------------------------------------------------------------------------------
    @staticmethod
    def start(model: PeaceModel, phases: Sequence[LeverPhase], rng: Rngs) -> PeaceLoop:
        """The loop at its steady state under the phase in force at t = 0 (module doc).
        ``rng``: the streams ``peace/initial/*`` (:func:`loop_streams`) or one generator."""
        loop = PeaceLoop(model, phases)
        lv = loop._levers
        nc, n = model.n_classes, model.n_grids
        gens = _gens(rng, (*HAZARD_CLASSES[:nc], POOLS))
        loop._keys = np.array([stream_key(g) for g in gens[:nc]], np.uint64)
        m0, _ = model.unfound_mean(lv)
        u_g = [np.repeat(np.arange(n), gens[c].poisson(m0[c])) for c in range(nc)]
        loop.u_grid = np.concatenate(u_g).astype(np.int64)
        loop.u_cls = np.repeat(np.arange(nc, dtype=np.int64), [len(x) for x in u_g])
        loop.unfound_start = np.bincount(loop.u_cls, minlength=model.n_classes)
        loop.rows = loop._initial_rows(lv, gens[:nc], gens[nc])
        loop.loop_start = np.bincount(loop.rows.cls, minlength=model.n_classes)
        loop.stage_start = np.stack([np.bincount(loop.rows.cls[loop.rows.stage == s],
                                                 minlength=nc) for s in range(_NS)])
        for s, st in enumerate(model.stages):
            busy = np.bincount(st.pool_of_grid[loop.rows.grid[loop.rows.busy
                                                              & (loop.rows.stage == s)]],
                               minlength=st.n_pools)
            loop.free_since[s] = np.where(busy >= loop._srv[s][0], _INF, -_INF)
        loop._refresh()
        return loop

    def _initial_rows(self, lv: Levers, gens: Sequence[np.random.Generator],
                      pool_rng: np.random.Generator) -> _Rows:
        """The cases in the loop at the steady state. Per stage and pool, whether it is full
        (P(wait), on ``pool_rng``); a full pool has its ``c`` servers busy and a geometric
        queue, their cases' classes, grids and times on ``pool_rng``; any other pool has
        independent Poisson numbers in service per class (offered load ``a_c``: given their
        sum, multinomial by load, so conditioned on the sum below ``c`` (rejection) this is
        the truncated Poisson law of the M/M/c pool split by class), their grids and times on
        each class's own stream. Serial numbers per class: the cases outside full pools first,
        in stage order."""
        m = self.model
        lam = m.new_rates(lv)
        loads = m.stage_loads(lv)
        nc, n = m.n_classes, m.n_grids
        before = np.zeros((nc, n))  # mean sojourn of the stages before, by class and grid
        parts: list[tuple[_Rows, bool]] = []
        for s, (st, (_, _, rho, wait, pwait)) in enumerate(zip(m.stages, loads,
                                                                    strict=True)):
            c, slow = self._srv[s]
            a = rho * c
            if np.any(rho >= 1.0):
                bad_pool = int(np.flatnonzero(rho >= 1.0)[0])
                raise UserError(f"peacetime.loop.{st.name}: no steady state under the levers in "
                                f"force at the start: pool {bad_pool} has load "
                                f"{rho[bad_pool]:.2f} per server "
                                f"(>= 1)", hint="fewer new hazards or more servers")
            flow = lam * m.visits(s)[:, None]
            weight_busy = flow * st.mean_days[:, None]
            queued = pool_rng.random(st.n_pools) < pwait
            # full pools: c busy and a geometric queue, on the pools' stream
            q = np.flatnonzero(queued & (a > 0))
            busy_n = np.zeros(st.n_pools, np.int64)
            waiting_n = np.zeros(st.n_pools, np.int64)
            if len(q):
                busy_n[q] = c[q]
                waiting_n[q] = pool_rng.geometric(1.0 - rho[q]) - 1
            for k, (num, w) in enumerate(((busy_n, weight_busy), (waiting_n, flow))):
                cells = _draw_cells(st.pool_of_grid, num, w, pool_rng)
                cls, grid = np.divmod(cells, n)
                parts.append((self._start_rows(s, cls, grid, k == 0, wait, pwait, slow,
                                               before, pool_rng), True))
            # the other pools: independent Poisson numbers per class, truncated below c
            rest = np.flatnonzero(~queued & (a > 0))
            work = np.stack([np.bincount(st.pool_of_grid, weights=weight_busy[k],
                                         minlength=st.n_pools) for k in range(nc)])
            tot = work.sum(axis=0)
            a_c = a[None, rest] * work[:, rest] / np.where(tot[rest] > 0, tot[rest], 1.0)
            draw = np.stack([gens[k].poisson(a_c[k]) for k in range(nc)]) \
                if nc else np.zeros((0, len(rest)), np.int64)
            bad = draw.sum(axis=0) >= c[rest]
            while bad.any():  # truncated (N < c) by rejection: couples classes only here
                for k in range(nc):
                    draw[k, bad] = gens[k].poisson(a_c[k, bad])
                bad = draw.sum(axis=0) >= c[rest]
            for k in range(nc):
                num = np.zeros(st.n_pools, np.int64)
                num[rest] = draw[k]
                grid = _draw_cells(st.pool_of_grid, num, weight_busy[k:k + 1], gens[k])
                cls = np.full(len(grid), k, np.int64)
                parts.append((self._start_rows(s, cls, grid, True, wait, pwait, slow, before,
                                               gens[k]), False))
            before = before + np.where(np.isfinite(wait), wait, 0.0)[st.pool_of_grid][None, :] \
                + st.mean_days[:, None] * slow[st.pool_of_grid][None, :]
        out = _Rows.empty()
        for p, _ in sorted(parts, key=lambda x: x[1]):  # stable: outside full pools first
            out.extend(p)
        out.uid = _serials(out.cls, self._next_id)
        out.seed = keyed_hash(0, self._keys[out.cls], out.uid)
        return out

    def _start_rows(self, s: int, cls: np.ndarray, grid: np.ndarray, busy: bool,
                    wait: np.ndarray, pwait: np.ndarray, slow: np.ndarray,
                    before: np.ndarray, rng: np.random.Generator) -> _Rows:
        """Initial cases of stage ``s`` (in service or waiting), their times from ``rng``."""
        st, m = self.model.stages[s], self.model
        pools = st.pool_of_grid[grid]
        nr = len(cls)
        if busy:
            t_arr = -rng.exponential(1.0, nr) * st.mean_days[cls] * slow[pools]
            t_end = rng.exponential(1.0, nr) * st.mean_days[cls] * slow[pools]
        else:
            cond = np.where(pwait[pools] > 0, wait[pools] / np.maximum(pwait[pools], 1e-300),
                            0.0)
            t_arr = -rng.exponential(1.0, nr) * cond
            t_end = np.full(nr, _INF)
        t_found = t_arr - before[cls, grid]
        return _Rows(cls=cls, grid=grid, stage=np.full(nr, s, np.int64),
                     busy=np.full(nr, busy), t_arr=t_arr, t_end=t_end, t_found=t_found,
                     deadline=t_found + m.deadline_days[cls],
                     channel=np.zeros(nr, np.int64), in_run=np.zeros(nr, bool),
                     uid=np.zeros(nr, np.int64), visit=np.zeros(nr, np.int64),
                     seed=np.zeros(nr, np.uint64))

    # -- rates ---------------------------------------------------------------------------------
    def _rates_now(self, active: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                np.ndarray]:
        """(find rates (K+1, C·G), total find rate (C·G), cumulative new rates over each
        class's grids (C, G), each class's total (C,))."""
        key = (self._phase_no, active)
        if self._rates_key != key or self._rates is None:
            m, lv = self.model, self._levers
            fr = m.find_rates(lv, active).reshape(_NK, -1)
            cum = np.cumsum(m.new_rates(lv), axis=1)
            tot = cum[:, -1].copy() if cum.shape[1] else np.zeros(m.n_classes)
            self._rates = (fr, fr.sum(axis=0), cum, tot)
            self._rates_key = key
        return self._rates

    # -- step ----------------------------------------------------------------------------------
    def step(self, dt_days: float, rng: Rngs) -> None:
        """Advance by ``dt_days``: pieces of constant rates between phase starts and the
        inspection campaign's switches (module doc). ``rng``: the streams ``peace/steps/*``
        (:func:`loop_streams`) or one generator."""
        t_end = self.now_day + dt_days
        m = self.model
        gens = _gens(rng, HAZARD_CLASSES[:m.n_classes])
        while self.now_day < t_end:
            t0 = self.now_day
            while self._pending and float(self._pending[0].from_day) <= t0:  # type: ignore[arg-type]
                self._apply_phase(self._pending.pop(0), gens)
            t1 = t_end
            if self._pending:
                t1 = min(t1, float(self._pending[0].from_day))  # type: ignore[arg-type]
            p = m.inspection_period_days
            if 0 < p and m.inspection_active_days < p:
                k = math.floor(t0 / p)
                for b in (k * p + m.inspection_active_days, (k + 1) * p):
                    if b > t0 + 1e-12:
                        t1 = min(t1, b)
                        break
            self._advance(t0, t1, m.inspection_active(t0), gens)
            self.now_day = t1
        self._refresh()

    def _apply_phase(self, phase: LeverPhase, gens: Sequence[np.random.Generator]) -> None:
        old, new = self._levers.remove_share, phase.levers.remove_share
        with np.errstate(divide="ignore", invalid="ignore"):
            extra = np.where(old < 1.0, 1.0 - (1.0 - new) / np.where(old < 1.0, 1.0 - old, 1.0),
                             0.0)
        extra = np.clip(extra, 0.0, 1.0)
        self._levers = phase.levers
        self._phase_no += 1
        self._set_servers(self.model.stage_servers(phase.levers))
        if not extra.any():
            return
        nc = self.model.n_classes
        u = np.ones(len(self.u_cls))
        for c in np.flatnonzero(extra.any(axis=1)):  # a class the phase removes from: its
            mine = self.u_cls == c                   # own stream, its unfound in their order
            u[mine] = gens[int(c)].random(int(mine.sum()))
        gone = u < extra[self.u_cls, self.u_grid]
        self.removed_unfound += np.bincount(self.u_cls[gone], minlength=nc)
        self.u_cls, self.u_grid = self.u_cls[~gone], self.u_grid[~gone]
        r = self.rows
        gone = r.uniforms(_TAG_REMOVE + 1024 * self._phase_no, np.arange(len(r))) \
            < extra[r.cls, r.grid]
        self.removed_loop += np.bincount(r.cls[gone], minlength=nc)
        self.removed_loop_in_run += np.bincount(r.cls[gone & r.in_run], minlength=nc)
        # a case in service frees its server: the pools' free times restart at the removal
        for s, st in enumerate(self.model.stages):
            freed = gone & r.busy & (r.stage == s)
            if freed.any():
                self.free_since[s][np.unique(st.pool_of_grid[r.grid[freed]])] = self.now_day
        r.keep(~gone)

    def _set_servers(self, srv: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """New servers per pool from now on (a phase's ``server_factor``): a pool that was
        full and now has a server free serves from now; one now full waits for its cases to
        end. Cases in service keep the end drawn at their start."""
        r = self.rows
        for s, (st, (old, _), (new, _)) in enumerate(zip(self.model.stages, self._srv, srv,
                                                          strict=True)):
            if np.array_equal(old, new):
                continue
            nb = np.bincount(st.pool_of_grid[r.grid[r.busy & (r.stage == s)]],
                             minlength=st.n_pools)
            fs = self.free_since[s]
            fs = np.where(nb >= new, _INF, np.where(np.isinf(fs) & (fs > 0), self.now_day, fs))
            self.free_since[s] = fs
        self._srv = srv

    def _advance(self, t0: float, t1: float, active: bool,
                 gens: Sequence[np.random.Generator]) -> None:
        m = self.model
        n, nc = m.n_grids, m.n_classes
        fr, dtot, cum, total = self._rates_now(active)
        length = t1 - t0
        keep_g: list[np.ndarray] = []
        f_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for c in range(nc):  # each class on its own stream
            rng = gens[c]
            # new hazards of the piece
            k = int(rng.poisson(total[c] * length)) if total[c] > 0 else 0
            g_new = np.minimum(np.searchsorted(cum[c], rng.random(k) * total[c], side="right"),
                               n - 1)
            t_new = t0 + length * rng.random(k)
            self.new_by_class[c] += k
            # finds among the old unfound and the new
            old = self.u_grid[self.u_cls == c]
            grid = np.concatenate([old, g_new])
            t_from = np.concatenate([np.full(len(old), t0), t_new])
            cells = c * n + grid
            d = dtot[cells]
            p_find = -np.expm1(-d * (t1 - t_from))
            found = rng.random(len(cells)) < p_find
            fc, ft, fd = cells[found], t_from[found], d[found]
            u = rng.random(len(fc))
            t_find = ft - np.log1p(-u * p_find[found]) / fd
            t_find = np.minimum(t_find, np.nextafter(t1, -_INF))
            ch_u = rng.random(len(fc)) * fd
            ch_cum = np.cumsum(fr[:, fc], axis=0)
            channel = np.minimum((ch_cum < ch_u[None, :]).sum(axis=0), _NK - 1)
            keep_g.append(grid[~found])
            f_parts.append((grid[found], t_find, channel))
        self.u_grid = np.concatenate(keep_g).astype(np.int64)
        self.u_cls = np.repeat(np.arange(nc, dtype=np.int64), [len(x) for x in keep_g])
        f_cls = np.repeat(np.arange(nc, dtype=np.int64), [len(x[0]) for x in f_parts])
        f_grid = np.concatenate([x[0] for x in f_parts]).astype(np.int64)
        t_find = np.concatenate([x[1] for x in f_parts])
        channel = np.concatenate([x[2] for x in f_parts]).astype(np.int64)
        np.add.at(self.found_by, (channel, f_cls), 1)
        uid = _serials(f_cls, self._next_id)  # within a class, in the order of finding
        order = np.argsort(t_find, kind="stable")
        f_cls, f_grid, t_find, channel, uid = f_cls[order], f_grid[order], t_find[order], \
            channel[order], uid[order]
        nf = len(f_cls)
        self.rows.extend(_Rows(cls=f_cls, grid=f_grid, stage=np.zeros(nf, np.int64),
                               busy=np.zeros(nf, bool), t_arr=t_find,
                               t_end=np.full(nf, _INF), t_found=t_find,
                               deadline=t_find + m.deadline_days[f_cls], channel=channel,
                               in_run=np.ones(nf, bool), uid=uid,
                               visit=np.zeros(nf, np.int64),
                               seed=keyed_hash(0, self._keys[f_cls], uid)))
        np.add.at(self.stats.arrivals[0], f_cls, 1)
        for s in range(_NS):
            self._stage_pass(s, t0, t1)
        while True:  # rework sent back to work within the piece
            r = self.rows
            again = (r.stage == _WORK) & ~r.busy & (r.t_arr < t1)
            if not again.any() or not self._stage_pass(_WORK, t0, t1):
                break
            self._stage_pass(_RATE, t0, t1)
        self.rows.keep(self.rows.stage != _DONE)

    def _stage_pass(self, s: int, t0: float, t1: float) -> bool:
        """Serve stage ``s``'s queues up to ``t1``; True if anything started or ended."""
        r, st = self.rows, self.model.stages[s]
        sel = np.flatnonzero(r.stage == s)
        if not len(sel):
            return False
        pools = st.pool_of_grid[r.grid[sel]]
        busy = r.busy[sel]
        has_wait = np.zeros(st.n_pools, bool)
        has_wait[pools[~busy]] = True
        # pools with nobody waiting: every service ending before t1 ends, in any order
        quick = busy & ~has_wait[pools] & (r.t_end[sel] < t1)
        acted = bool(quick.any())
        servers = self._srv[s][0]
        if acted:
            q = sel[quick]
            qp = pools[quick]
            nb = np.bincount(pools[busy], minlength=st.n_pools)
            # a full pool (nb >= c; above c after a phase cut its servers) is free from its
            # (nb − c + 1)-th ending: the ending of rank nb − c among its own, if it has that many
            full = (nb >= servers)[qp]
            if full.any():
                qf, ef = qp[full], r.t_end[q][full]
                order = np.lexsort((ef, qf))
                sq, se = qf[order], ef[order]
                rank = np.arange(len(sq)) - np.searchsorted(sq, sq, side="left")
                hit = rank == nb[sq] - servers[sq]
                self.free_since[s][sq[hit]] = se[hit]
            self._complete(s, q, r.t_end[q])
        slow = sel[has_wait[pools]]
        if not len(slow):
            return acted
        up, loc = np.unique(st.pool_of_grid[r.grid[slow]], return_inverse=True)
        cap = servers[up]
        fs = self.free_since[s][up].copy()
        st_busy = r.busy[slow].copy()
        alive = np.ones(len(slow), bool)
        end = r.t_end[slow].copy()
        arr = r.t_arr[slow]
        dl = r.deadline[slow]
        nb = np.bincount(loc[st_busy], minlength=len(up))
        npool = len(up)
        while True:
            bmask = alive & st_busy
            wmask = alive & ~st_busy
            min_end = np.full(npool, _INF)
            np.minimum.at(min_end, loc[bmask], end[bmask])
            min_arr = np.full(npool, _INF)
            np.minimum.at(min_arr, loc[wmask], arr[wmask])
            start_t = np.where(nb < cap, np.maximum(fs, min_arr), _INF)
            ev = np.minimum(min_end, start_t)
            act = ev < t1
            if not act.any():
                break
            acted = True
            comp = act & (min_end <= start_t)
            strt = act & ~comp
            if comp.any():
                cand = np.flatnonzero(bmask & comp[loc] & (end == min_end[loc]))
                _, first = np.unique(loc[cand], return_index=True)
                done = cand[first]
                lp = loc[done]
                was_full = nb[lp] >= cap[lp]
                fs[lp[was_full]] = end[done][was_full]
                nb[lp] -= 1
                alive[done] = False
                self._complete(s, slow[done], end[done])
            if strt.any():
                tt = start_t[loc]
                cand = np.flatnonzero(wmask & strt[loc] & (arr <= tt))
                late = (dl[cand] > tt[cand]).astype(np.int64)  # 0: past its deadline, first
                order = np.lexsort((cand, arr[cand], late, loc[cand]))
                cand = cand[order]
                _, first = np.unique(loc[cand], return_index=True)
                go = cand[first]
                lp = loc[go]
                t_go = start_t[lp]
                dur = self._service(s, slow[go], up[lp])
                st_busy[go] = True
                end[go] = t_go + dur
                nb[lp] += 1
                fs[lp[nb[lp] >= cap[lp]]] = _INF
                rows = slow[go]
                r.busy[rows] = True
                r.t_end[rows] = end[go]
                run = r.t_arr[rows] >= 0
                if run.any():
                    w = t_go[run] - r.t_arr[rows][run]
                    c = r.cls[rows][run]
                    np.add.at(self.stats.started[s], c, 1)
                    np.add.at(self.stats.wait_sum[s], c, w)
                    self.stats.waits[s].append((c, w))
        self.free_since[s][up] = fs
        return acted

    def _service(self, s: int, rows: np.ndarray, pools: np.ndarray) -> np.ndarray:
        """Service times (days) of the cases ``rows`` starting at stage ``s`` in ``pools``
        (times the pools' service-time factor under the levers' capacity): each the quantile
        of a keyed uniform of its class, serial number, stage and visit (module doc)."""
        st, r = self.model.stages[s], self.rows
        slow = self._srv[s][1][pools]
        cls = r.cls[rows]
        u = r.uniforms(_TAG_SERVICE + s, rows)
        if st.time is not None:
            return st.time.ppf_array(u) / 86400.0 * slow
        out = np.empty(len(cls))
        for c in np.unique(cls):
            m = cls == c
            out[m] = self.model.work[int(c)].ppf_array(u[m]) / 86400.0
        return out * slow

    def _complete(self, s: int, rows: np.ndarray, t: np.ndarray) -> None:
        """Cases ``rows`` end service at stage ``s`` at times ``t``."""
        r, stats, nc = self.rows, self.stats, self.model.n_classes
        cls = r.cls[rows]
        arr = r.t_arr[rows]
        run = arr >= 0
        np.add.at(stats.completed[s], cls, 1)
        np.add.at(stats.completed_in_run[s], cls[run], 1)
        np.add.at(stats.time_sum[s], cls[run], (t - arr)[run])
        np.add.at(stats.in_stage_days[s], cls, t - np.maximum(arr, 0.0))
        # supervised: its deadline fell while it was in the stage, during the run
        sup = (r.deadline[rows] >= np.maximum(arr, 0.0)) & (r.deadline[rows] < t)
        np.add.at(stats.supervised[s], cls[sup], 1)
        r.busy[rows] = False
        r.t_end[rows] = _INF
        r.t_arr[rows] = t
        if s < _RATE:
            r.stage[rows] = s + 1
            np.add.at(stats.arrivals[s + 1], cls, 1)
            return
        back = r.uniforms(_TAG_REWORK, rows) < self.model.rework_share[cls]
        np.add.at(stats.rework[s], cls[back], 1)
        r.stage[rows[back]] = _WORK
        r.visit[rows[back]] += 1
        np.add.at(stats.arrivals[_WORK], cls[back], 1)
        fixed = rows[~back]
        fc = cls[~back]
        r.stage[fixed] = _DONE
        self.rectified_by_class += np.bincount(fc, minlength=nc)
        self.rectified_in_run_by_class += np.bincount(fc[r.in_run[fixed]], minlength=nc)
        ok = t[~back] <= r.deadline[fixed]
        stats.on_time += np.bincount(fc[ok], minlength=nc)

    # -- what the run reads --------------------------------------------------------------------
    def _refresh(self) -> None:
        n, nc = self.model.n_grids, self.model.n_classes
        cells = np.concatenate([self.u_cls * n + self.u_grid, self.rows.cls * n + self.rows.grid])
        self._open = np.bincount(cells, minlength=nc * n).reshape(nc, n).astype(float)
        self._mult = None

    def stock_end(self) -> np.ndarray:
        """(C, G) open hazards now (unfound + in the loop)."""
        return self._open.astype(np.int64)

    def unfound(self) -> np.ndarray:
        """(C, G) open hazards not yet found."""
        n, nc = self.model.n_grids, self.model.n_classes
        return np.bincount(self.u_cls * n + self.u_grid, minlength=nc * n).reshape(nc, n)

    def multipliers(self) -> np.ndarray:
        """(H, G) factor on each incident type's base rate in each grid (mean 1 at the
        baseline steady state): ``1 − Σ_c s_hc + Σ_c s_hc open_cg / baseline_cg``."""
        if self._mult is None:
            self._mult = self.model.multipliers_of(self._open)
        return self._mult

    def driven_share(self, h: int, g: int) -> np.ndarray:
        """(C,) share of type ``h``'s current rate in grid ``g`` raised by each class."""
        m = self.model
        base = m.baseline_open[:, g]
        ratio = np.where(base > 0, self._open[:, g] / np.where(base > 0, base, 1.0), 1.0)
        part = m.raises[h] * ratio
        total = 1.0 - m.raises[h].sum() + part.sum()
        return part / total if total > 0 else np.zeros_like(part)

    @property
    def found_total(self) -> int:
        """Hazards found during the run."""
        return int(self.found_by.sum())

    @property
    def rectified_total(self) -> int:
        """Hazards rectified (rated satisfied) during the run."""
        return int(self.rectified_by_class.sum())

    @property
    def new_total(self) -> int:
        """New hazards during the run."""
        return int(self.new_by_class.sum())

    @property
    def removed_total(self) -> int:
        """Open hazards removed by lever phases that started during the run (remove_share)."""
        return int(self.removed_unfound.sum() + self.removed_loop.sum())

    @property
    def rectified_on_time_share(self) -> float | None:
        """Share of the hazards rectified during the run within their deadline (None: none)."""
        n = self.rectified_total
        return float(self.stats.on_time.sum()) / n if n else None

    def found_by_channel(self) -> dict[str, int]:
        """Hazards found during the run by channel (CHANNEL_LABELS; ``campaign``: a
        campaign's extra find rate)."""
        return {k: int(v) for k, v in zip(CHANNEL_LABELS, self.found_by.sum(axis=1),
                                          strict=True)}

    def stage_rows(self) -> list[dict[str, Any]]:
        """The rows of peacetime.csv: per stage, each class and ``all``.

        One basis for every count: the events during the run, whatever the case's age (the
        cases in the loop at t = 0 included). ``arrivals``: cases that came to the stage
        during the run (the first stage: the hazards found in it; ``work``: those the rate
        stage sent back too); ``completed``: services that ended during the run; ``rework``:
        ratings during the run that sent the case back to work (the rate stage; 0 elsewhere);
        ``supervised``: cases whose deadline fell during the run while they were in the stage
        (支部督办; those still in it included). So, per stage and class, exactly: the first
        stage's arrivals = the hazards found in the run; stage ``s+1``'s arrivals = stage
        ``s``'s completed (+ the rate stage's rework for ``work``); the rate stage's completed
        − its rework = the hazards rectified in the run (the summary's ``hazards_rectified``);
        in the stage at the end = at the start + arrivals − completed − removed by a phase.
        ``on_time_share``: of the hazards rectified in the run, those within their deadline.
        The means are over the cases that came to the stage during the run (their times are
        whole, not drawn as the start's are): ``mean_wait_days`` / ``p90_wait_days`` of those
        that began service, ``mean_time_days`` (arrival to end of service) of those that
        ended it; ``mean_in_stage``: the time average over the run of the number in the
        stage."""
        st, nc = self.stats, self.model.n_classes
        r = self.rows
        now = self.now_day
        in_stage = st.in_stage_days.copy()
        open_sup = np.zeros((_NS, nc), np.int64)
        for s in range(_NS):
            m = r.stage == s
            np.add.at(in_stage[s], r.cls[m], now - np.maximum(r.t_arr[m], 0.0))
            # supervision of the cases still in the stage: their deadline passed in it
            sup = m & (r.deadline >= np.maximum(r.t_arr, 0.0)) & (r.deadline < now)
            open_sup[s] = np.bincount(r.cls[sup], minlength=nc)
        out: list[dict[str, Any]] = []
        for s, stage in enumerate(LOOP_STAGES):
            waits_c = [c for c, _ in st.waits[s]]
            waits_w = [w for _, w in st.waits[s]]
            wc = np.concatenate(waits_c) if waits_c else np.zeros(0, np.int64)
            ww = np.concatenate(waits_w) if waits_w else np.zeros(0)
            for c in [*range(nc), None]:
                sl = slice(None) if c is None else c
                pick = np.ones(len(wc), bool) if c is None else wc == c

                def tot(a: np.ndarray, sl: slice | int = sl, s: int = s) -> float:
                    return float(np.sum(a[s][sl]))

                started, completed = tot(st.started), tot(st.completed)
                completed_run = tot(st.completed_in_run)
                rated = float(np.sum(self.rectified_by_class[sl])) if s == _RATE else 0.0
                on_time = float(np.sum(st.on_time[sl]))
                out.append({
                    "stage": stage, "stage_zh": ZH[stage],
                    "hazard_class": "all" if c is None else HAZARD_CLASSES[c],
                    "hazard_class_zh": "全部" if c is None else ZH[HAZARD_CLASSES[c]],
                    "arrivals": int(tot(st.arrivals)), "completed": int(completed),
                    "mean_wait_days": tot(st.wait_sum) / started if started else None,
                    "p90_wait_days": float(np.quantile(ww[pick], 0.9)) if pick.any() else None,
                    "mean_time_days": tot(st.time_sum) / completed_run if completed_run
                    else None,
                    "on_time_share": (on_time / rated if rated else None) if s == _RATE
                    else None,
                    "rework": int(tot(st.rework)),
                    "supervised": int(tot(st.supervised) + float(np.sum(open_sup[s][sl]))),
                    "mean_in_stage": tot(in_stage) / now if now > 0 else None,
                })
        return out


def _serials(cls: np.ndarray, next_id: np.ndarray) -> np.ndarray:
    """Serial numbers of new cases of classes ``cls`` (in row order within each class), from
    ``next_id`` (per class, advanced in place)."""
    nc = len(next_id)
    counts = np.bincount(cls, minlength=nc)
    order = np.argsort(cls, kind="stable")
    first = np.cumsum(counts) - counts
    rank = np.empty(len(cls), np.int64)
    rank[order] = np.arange(len(cls)) - first[cls[order]]
    out = next_id[cls] + rank
    next_id += counts[:nc]
    return out


def _draw_cells(pool_of_grid: np.ndarray, num: np.ndarray, weight: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """``num[p]`` cells (flat class × grid indices) of each pool ``p``, drawn in proportion to
    ``weight`` (C, G) among the pool's cells."""
    total = int(num.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    nc = weight.shape[0]
    cell_pool = np.tile(pool_of_grid, nc)
    order = np.argsort(cell_pool, kind="stable")
    w = weight.ravel()[order]
    cum = np.cumsum(w)
    n_pools = len(num)
    pool_tot = np.bincount(cell_pool, weights=weight.ravel(), minlength=n_pools)
    pool_hi = np.cumsum(pool_tot)
    pool_lo = pool_hi - pool_tot
    p = np.repeat(np.arange(n_pools), num)
    u = pool_lo[p] + rng.random(total) * pool_tot[p]
    idx = np.searchsorted(cum, u, side="right")
    # keep inside the pool's own cells (rounding at its edges), and on a cell of weight > 0
    first = np.searchsorted(cell_pool[order], p, side="left")
    last = np.searchsorted(cell_pool[order], p, side="right") - 1
    idx = np.clip(idx, first, last)
    return order[idx]
