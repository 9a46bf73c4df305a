"""The peacetime hazard loop compiled for a place: rates, channels, pools and its steady state.

Hazards of class ``c`` (:data:`~gridsim.model.vocab.HAZARD_CLASSES`) appear in grid ``g`` as a
Poisson process of rate ``λ_cg = new_per_unit_day[kind_g] × exposure_g`` (times the levers'
``new_factor``). Each unfound hazard is found by the channels (:data:`FIND_CHANNELS`) as
competing exponential rates, per day:

* inspection (大排查): ``d_I = find_prob_c × B_g / buildings_g`` while a campaign is active
  (``active_days`` of every ``period_days``; always if ``period_days`` is 0), with the buildings
  inspected a day ``B_g = max(0, n_role,g × duty_share − FP_g × visit_h / workday_h) ×
  buildings_per_person_day``: video AI's false positives ``FP_g`` take grid workers' time;
* snapshot (随手拍): ``d_S = awareness × spot_per_day_c``;
* door-knocking (敲门行动): ``d_D = find_prob_c × n_party,g × duty_share ×
  households_per_person_day / households_g``;
* video AI (视频AI识别): ``d_V = coverage_c × detect_per_day`` in grids with feeds, the feeds
  ``F_g = feeds × residents_g / feeds_for_residents`` and ``FP_g = F_g ×
  false_positives_per_feed_day``;

each times its ``channel_factor``, plus the levers' ``find_extra_per_day`` (labelled channel
``campaign``). A coverage above 1 a day is capped (``min(1, ·)``). Found hazards go through the
stages of 四单四办 (:data:`LOOP_STAGES`: raise, file, dispatch, work, rate) in order: each stage
is a multi-server FCFS queue per pool (a grid, or the village whose branch serves it) with
``c_p = max(1, round(servers × Σ_pool servers_per))`` servers; a case past its deadline
(``found + deadline_days``) goes ahead of the others (non-preemptive priority, 支部督办). At
rating a share ``rework_share_c`` goes back to work, so work and rate are visited
``v_c = 1 / (1 − rework_share_c)`` times.

Steady state (:meth:`PeaceModel.steady_open`): the unfound mean ``λ/d`` (with a periodic
inspection campaign, the cycle average of the periodic solution of ``m' = λ − d(t) m``), plus in
each stage ``E[N_cg] = λ_cg v_c (W_p + S_c)`` with ``W_p`` the Erlang C mean wait of the pool's
M/M/c queue at load ``Λ_p = Σ λ v``, mean service the class mix ``S̄_p = Σ λ v S / Λ_p``:
``W_p = C(c_p, Λ_p S̄_p) S̄_p / (c_p − Λ_p S̄_p)``. This is exact for exponential times and one
class per pool (a Jackson network), an approximation otherwise. The incident-rate multiplier of
type ``h`` in grid ``g`` is ``1 − Σ_c s_hc + Σ_c s_hc open_cg / steady_cg`` (``s_hc`` =
``raises``; a cell that has no hazards at all counts as 1), ``steady`` the steady state of the
*reference* loop (:attr:`PeaceModel.baseline_open`).

The reference and the standing levers. The ``peacetime`` keys (classes, channels, loop) describe
the city's ordinary loop, the one the catalogue's base rates are calibrated with: its steady
state under neutral levers is the normaliser, so a run of the reference loop keeps the base
rates on average. A planner asks what a change does through levers against that reference,
which leave the normaliser where it is and so move the incident rates:

* ``peacetime.find_factor.<channel>``: × that channel's find rate (finds and, for video AI,
  its false positives alike), as ``Levers.channel_factor``;
* ``peacetime.capacity_factor.<stage>``: × the capacity of that stage in every pool, as
  ``Levers.server_factor``: a pool of ``c`` servers gets ``c'`` = ``c × f`` rounded toward
  ``c`` (``⌊c f⌋`` for f > 1, ``max(1, ⌈c f⌉)`` for f < 1), each serving at ``c f / c'`` times
  the speed (service times × ``c' / (c f)``), so the pool's capacity is exactly ``c f``. So a
  factor above 1 gives at least as many servers, each at least as fast (every wait and every
  time in the stage shorter in law), one below 1 at most as many, each at most as fast (longer),
  a one-server pool included;
* a campaign's lever phases (:mod:`gridsim.model.levers`).

The standing levers (:attr:`PeaceModel.find_factor`, :attr:`PeaceModel.capacity_factor`)
multiply into every levers argument of the methods below (:meth:`find_rates`,
:meth:`stage_servers`), so :meth:`steady_open` and the loop (gridsim.engine.peacetime) see them
under every phase; :meth:`reference` is the model without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from gridsim.errors import UserError
from gridsim.model.dists import Dist
from gridsim.model.levers import Levers
from gridsim.model.params import PeacetimeConfig
from gridsim.model.people import Roster
from gridsim.model.region import Grids
from gridsim.model.vocab import (
    EXPOSURES,
    FIND_CHANNELS,
    GRID_KINDS,
    HAZARD_CLASSES,
    LOOP_STAGES,
    ROLES,
)

__all__ = ["ACTORS", "CHANNEL_LABELS", "POOLS", "PeaceModel", "StageModel", "erlang_c",
           "periodic_unfound"]

#: Who serves a stage of the loop (the account's actors of 四单四办).
ACTORS: tuple[str, ...] = ("residents", "committee", "branch", "party_member", "property",
                           "owners")
#: Whom a stage's servers are shared by: the grid, or the village (the branch 支部 serves a
#: village or community).
POOLS: tuple[str, ...] = ("grid", "village")
#: The channels a find is recorded under: the four of FIND_CHANNELS, then a campaign's extra
#: find rate (``Levers.find_extra_per_day``).
CHANNEL_LABELS: tuple[str, ...] = (*FIND_CHANNELS, "campaign")

_WORK = LOOP_STAGES.index("work")
_RATE = LOOP_STAGES.index("rate")


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def erlang_c(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """P(wait) of an M/M/c queue with ``c`` servers and offered load ``a = λ E[S]`` (< c), by
    Erlang B = Poisson(a) pmf(c) / cdf(c) and ``C = B / (1 − ρ(1 − B))``, ``ρ = a / c``."""
    from scipy import special  # only when a loop is compiled: its import costs start-up time

    c = np.asarray(c, dtype=float)
    a = np.asarray(a, dtype=float)
    out = np.zeros(np.broadcast(c, a).shape)
    pos = a > 0
    if not pos.any():
        return out
    cc, aa = np.broadcast_to(c, out.shape)[pos], np.broadcast_to(a, out.shape)[pos]
    logpmf = cc * np.log(aa) - aa - special.gammaln(cc + 1.0)
    cdf = special.pdtr(cc, aa)
    b = np.where(cdf > 0, np.exp(logpmf) / np.maximum(cdf, 1e-300), 1.0)
    rho = aa / cc
    out[pos] = b / (1.0 - rho * (1.0 - b))
    return out


def _f(d: np.ndarray, length: float) -> np.ndarray:
    """∫_0^L e^{-d t} dt = (1 − e^{−dL}) / d (L at d = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d * length > 1e-9, -np.expm1(-d * length) / np.where(d > 0, d, 1.0),
                        length - d * length * length / 2)


def _g(d: np.ndarray, length: float) -> np.ndarray:
    """∫_0^L (1 − e^{−d t}) / d dt = (L − f(d, L)) / d (L²/2 at d = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d * length > 1e-6, (length - _f(d, length)) / np.where(d > 0, d, 1.0),
                        length * length / 2 - d * length ** 3 / 6)


def periodic_unfound(lam: np.ndarray, d_on: np.ndarray, d_off: np.ndarray, active: float,
                     period: float) -> tuple[np.ndarray, np.ndarray]:
    """The periodic solution of ``m' = λ − d(t) m`` with ``d = d_on`` for ``active`` days of
    every ``period`` and ``d_off`` for the rest: ``(m(0), cycle mean)``, ``m(0)`` at the start of
    an active spell. ``period`` 0 (or ``active >= period``): ``d_on`` always, ``λ / d_on``."""
    lam = np.asarray(lam, dtype=float)
    if period <= 0 or active >= period:
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(lam > 0, lam / d_on, 0.0)
        return m, m
    b = period - active
    e1, e2 = np.exp(-d_on * active), np.exp(-d_off * b)
    f1, f2 = _f(d_on, active), _f(d_off, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        m0 = np.where(lam > 0, (lam * f2 + e2 * lam * f1) / (1.0 - e1 * e2), 0.0)
    m1 = m0 * e1 + lam * f1
    integral = m0 * f1 + lam * _g(d_on, active) + m1 * f2 + lam * _g(d_off, b)
    return m0, integral / period


@dataclass(frozen=True)
class StageModel:
    """One stage of the loop over its pools."""

    name: str
    actor: str
    pool_of_grid: np.ndarray  # (G,) pool index of each grid
    n_pools: int
    servers: np.ndarray  # (n_pools,) int64, >= 1
    time: Dist | None  # None: the class's work time (the work stage)
    mean_days: np.ndarray  # (C,) mean service per class, days


@dataclass(frozen=True)
class PeaceModel:
    """The loop of a place, read-only arrays over classes ``c`` and grids ``g`` (module doc)."""

    n_grids: int
    lam: np.ndarray  # (C, G) new hazards a day (neutral levers)
    inspect_find_prob: np.ndarray  # (C,) found if its building is inspected
    inspect_person_days: np.ndarray  # (G,) inspectors' person-days a day
    inspect_cover_per_person_day: np.ndarray  # (G,) share of the buildings one covers a day
    fp_person_days: np.ndarray  # (G,) person-days a day lost to video AI false positives
    snapshot_per_day: np.ndarray  # (C,) find rate
    door_per_day: np.ndarray  # (C, G)
    video_per_day: np.ndarray  # (C, G)
    inspection_period_days: float
    inspection_active_days: float
    deadline_days: np.ndarray  # (C,)
    rework_share: np.ndarray  # (C,)
    work: tuple[Dist, ...]  # (C,)
    stages: tuple[StageModel, ...]
    raises: np.ndarray  # (H, C) share of type h's base rate driven by class c
    hazard_names: tuple[str, ...]
    baseline_open: np.ndarray  # (C, G) steady open stock of the reference loop (the normaliser)
    # the standing levers against the reference (peacetime.find_factor, .capacity_factor)
    find_factor: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FIND_CHANNELS,
                                                                                1.0))
    capacity_factor: dict[str, float] = field(default_factory=lambda: dict.fromkeys(LOOP_STAGES,
                                                                                    1.0))

    # -- build --------------------------------------------------------------------------------
    @staticmethod
    def build(cfg: PeacetimeConfig, grids: Grids, roster: Roster,
              hazard_names: Sequence[str]) -> PeaceModel:
        """Compile ``cfg`` (checked by gridsim.model.validate) over ``grids`` and ``roster``;
        ``hazard_names`` are the catalogue's incident types in order."""
        n, nc = grids.n, len(HAZARD_CLASSES)
        kind = grids.kind.astype(np.int64)
        lam = np.zeros((nc, n))
        deadline, rework = np.zeros(nc), np.zeros(nc)
        work: list[Dist] = []
        raises = np.zeros((len(hazard_names), nc))
        for c, name in enumerate(HAZARD_CLASSES):
            hc = cfg.classes.get(name)
            if hc is None:
                work.append(Dist.fixed(0.0))
                continue
            per = np.array([hc.new_per_unit_day.get(k, 0.0) for k in GRID_KINDS])[kind]
            lam[c] = per * grids.exposure(hc.exposure)
            deadline[c], rework[c] = hc.deadline_days, hc.rework_share
            work.append(hc.work)
            for h, share in hc.raises.items():
                if h not in hazard_names:
                    raise UserError(f"peacetime.classes.{name}.raises.{h}: not an incident type "
                                    f"of the catalogue", hint="expected one of "
                                    + ", ".join(hazard_names))
                raises[list(hazard_names).index(h), c] = share
        ch = cfg.channels
        ins, snap, door, vid = ch.inspection, ch.snapshot, ch.door_knocking, ch.video_ai

        def prob(d: dict[str, float]) -> np.ndarray:
            return np.array([float(d.get(c, 0.0)) for c in HAZARD_CLASSES])

        def per_unit(count: np.ndarray, units: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(units > 0, count / np.where(units > 0, units, 1.0), 0.0)

        inspectors = roster.count_by_grid(roster.has_role(ins.role)).astype(float)
        person_days = inspectors * ins.duty_share
        buildings = grids.exposure("buildings")
        cover_ppd = per_unit(np.full(n, float(ins.buildings_per_person_day)), buildings)
        feeds = vid.feeds * grids.exposure("residents") / max(vid.feeds_for_residents, 1e-300)
        fp_pd = feeds * vid.false_positives_per_feed_day * vid.visit_h / max(ins.workday_h,
                                                                            1e-300)
        knockers = roster.count_by_grid(roster.has_role(door.role)).astype(float)
        door_cov = np.minimum(1.0, per_unit(knockers * door.duty_share
                                            * door.households_per_person_day,
                                            grids.exposure("households")))
        video = prob(vid.coverage)[:, None] * vid.detect_per_day * (feeds > 0)[None, :]
        stages = tuple(_stage(cfg, s, grids, roster, work) for s in LOOP_STAGES)
        model = PeaceModel(
            n_grids=n, lam=_ro(lam),
            inspect_find_prob=_ro(prob(ins.find_prob)),
            inspect_person_days=_ro(person_days), inspect_cover_per_person_day=_ro(cover_ppd),
            fp_person_days=_ro(fp_pd),
            snapshot_per_day=_ro(snap.awareness * prob(snap.spot_per_day)),
            door_per_day=_ro(prob(door.find_prob)[:, None] * door_cov[None, :]),
            video_per_day=_ro(video),
            inspection_period_days=float(ins.period_days),
            inspection_active_days=float(ins.active_days),
            deadline_days=_ro(deadline), rework_share=_ro(rework), work=tuple(work),
            stages=stages, raises=_ro(raises), hazard_names=tuple(hazard_names),
            baseline_open=np.zeros((nc, n)))
        neutral = Levers.neutral(n)
        full = model.saturated(neutral)
        if full is not None:
            s, p, load, servers = full
            raise UserError(
                f"peacetime.loop.{s.name}: its {s.actor} cannot keep up: pool {p} "
                f"({cfg.loop[s.name].pool}) has load {load:.2f} per server (>= 1) with "
                f"{servers} server(s)",
                hint=f"raise peacetime.loop.{s.name}.servers or shorten its time")
        # the normaliser: the reference loop (these keys, neutral levers); then the standing levers
        object.__setattr__(model, "baseline_open", _ro(model.steady_open(neutral)))
        object.__setattr__(model, "find_factor",
                           {k: float(cfg.find_factor.get(k, 1.0)) for k in FIND_CHANNELS})
        object.__setattr__(model, "capacity_factor",
                           {k: float(cfg.capacity_factor.get(k, 1.0)) for k in LOOP_STAGES})
        full = model.saturated(neutral)
        if full is not None:
            s, p, load, servers = full
            raise UserError(
                f"peacetime.capacity_factor.{s.name}: "
                f"{model.capacity_factor[s.name]:g} leaves its {s.actor} unable to keep up: "
                f"pool {p} ({cfg.loop[s.name].pool}) has load {load:.2f} per server "
                f"(>= 1) with {servers} server(s)",
                hint=f"raise peacetime.capacity_factor.{s.name} (or "
                     f"five_pre.prevention.capacity_factor)")
        return model

    def saturated(self, levers: Levers) -> tuple[StageModel, int, float, int] | None:
        """The first stage and pool whose load per server is 1 or more under ``levers`` (with
        the standing capacity factors), as ``(stage, pool, load, servers)``; None if every
        pool keeps up."""
        for s, load, (servers, _) in zip(self.stages, self.stage_loads(levers),
                                         self.stage_servers(levers), strict=True):
            bad = load[2] >= 1.0
            if bad.any():
                p = int(np.flatnonzero(bad)[0])
                return s, p, float(load[2][p]), int(servers[p])
        return None

    def reference(self) -> PeaceModel:
        """The model without its standing levers: the reference loop of the ``peacetime``
        keys (its steady state under neutral levers is :attr:`baseline_open`)."""
        return replace(self, find_factor=dict.fromkeys(FIND_CHANNELS, 1.0),
                       capacity_factor=dict.fromkeys(LOOP_STAGES, 1.0))

    def has_standing_levers(self) -> bool:
        """Whether ``peacetime.find_factor`` or ``capacity_factor`` departs from 1."""
        return any(v != 1.0 for v in (*self.find_factor.values(),
                                      *self.capacity_factor.values()))

    # -- rates under levers ------------------------------------------------------------------
    @property
    def n_classes(self) -> int:
        return len(HAZARD_CLASSES)

    def new_rates(self, levers: Levers) -> np.ndarray:
        """(C, G) new hazards a day under ``levers``."""
        return self.lam * levers.new_factor

    def find_rates(self, levers: Levers, active: bool = True) -> np.ndarray:
        """(K + 1, C, G) find rates a day per channel (CHANNEL_LABELS order) under ``levers``,
        with the inspection campaign ``active`` or not (the standing ``find_factor`` times the
        levers' ``channel_factor``)."""
        cf = {k: levers.channel_factor[k] * self.find_factor[k] for k in FIND_CHANNELS}
        out = np.empty((len(CHANNEL_LABELS), self.n_classes, self.n_grids))
        if active:
            pd = np.maximum(0.0, self.inspect_person_days - cf["video_ai"] * self.fp_person_days)
            cover = np.minimum(1.0, self.inspect_cover_per_person_day * pd)
            out[0] = cf["inspection"] * self.inspect_find_prob[:, None] * cover[None, :]
        else:
            out[0] = 0.0
        out[1] = cf["snapshot"] * self.snapshot_per_day[:, None]
        out[2] = cf["door_knocking"] * self.door_per_day
        out[3] = cf["video_ai"] * self.video_per_day
        out[4] = levers.find_extra_per_day
        return out

    def inspection_active(self, day: float) -> bool:
        """Whether the inspection campaign (大排查) is on at ``day``."""
        p = self.inspection_period_days
        return p <= 0 or (day % p) < self.inspection_active_days

    def unfound_mean(self, levers: Levers) -> tuple[np.ndarray, np.ndarray]:
        """(C, G) unfound hazards: ``(at the start of a period, time average)``."""
        on = self.find_rates(levers, True).sum(axis=0)
        off = self.find_rates(levers, False).sum(axis=0)
        return periodic_unfound(self.new_rates(levers), on, off, self.inspection_active_days,
                                self.inspection_period_days)

    def visits(self, stage: int) -> np.ndarray:
        """(C,) visits per hazard of stage ``stage`` (work and rate: 1 / (1 − rework))."""
        if stage in (_WORK, _RATE):
            return 1.0 / (1.0 - self.rework_share)
        return np.ones(self.n_classes)

    def stage_servers(self, levers: Levers) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per stage: ``(servers, slow)`` over its pools under the standing ``capacity_factor``
        times the levers' ``server_factor`` ``f``: ``c'`` = ``c f`` rounded toward ``c``
        (``⌊c f⌋`` for f > 1, ``max(1, ⌈c f⌉)`` for f < 1; 1e-9 absorbs the float error of a
        product meant whole) and the factor ``slow = c' / (c f)`` on every service time (≤ 1
        for f > 1, ≥ 1 for f < 1), so that the pool's capacity ``c' / slow`` is ``c f`` exactly
        (``f`` = 1: the stage's own servers, slow 1)."""
        out: list[tuple[np.ndarray, np.ndarray]] = []
        for s in self.stages:
            f = self.capacity_factor[s.name] * levers.server_factor[s.name]
            if f == 1.0:
                out.append((s.servers, np.ones(s.n_pools)))
                continue
            cap = s.servers * f
            near = np.floor(cap + 1e-9) if f > 1.0 else np.ceil(cap - 1e-9)
            servers = np.maximum(1, near).astype(np.int64)
            out.append((servers, servers / cap))
        return out

    def stage_loads(self, levers: Levers) -> list[tuple[np.ndarray, ...]]:
        """Per stage: ``(Λ_p, S̄_p, ρ_p, W_p, P(wait)_p)`` over its pools (days; ``S̄_p`` the
        mean service under the levers' capacity, :meth:`stage_servers`)."""
        lam = self.new_rates(levers)
        out: list[tuple[np.ndarray, ...]] = []
        for i, (s, (servers, slow)) in enumerate(zip(self.stages, self.stage_servers(levers),
                                                     strict=True)):
            flow = lam * self.visits(i)[:, None]  # (C, G)
            big = np.bincount(s.pool_of_grid, weights=flow.sum(axis=0), minlength=s.n_pools)
            work = np.bincount(s.pool_of_grid, weights=(flow * s.mean_days[:, None]).sum(axis=0),
                               minlength=s.n_pools) * slow
            with np.errstate(divide="ignore", invalid="ignore"):
                mean_s = np.where(big > 0, work / np.where(big > 0, big, 1.0), 0.0)
            rho = work / servers
            ok = rho < 1.0
            pw = np.where(ok, erlang_c(servers, np.where(ok, work, 0.0)), 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                wait = np.where(ok, pw * mean_s / np.where(ok, servers - work, 1.0), np.inf)
            out.append((big, mean_s, rho, wait, pw))
        return out

    def stage_open(self, levers: Levers) -> np.ndarray:
        """(S, C, G) expected cases in each stage at the steady state under ``levers``."""
        lam = self.new_rates(levers)
        out = np.zeros((len(self.stages), self.n_classes, self.n_grids))
        for i, (s, load, (_, slow)) in enumerate(zip(self.stages, self.stage_loads(levers),
                                                     self.stage_servers(levers), strict=True)):
            wait = load[3][s.pool_of_grid]  # (G,)
            with np.errstate(invalid="ignore"):
                out[i] = np.where(lam > 0, lam * self.visits(i)[:, None]
                                  * (wait[None, :] + s.mean_days[:, None]
                                     * slow[s.pool_of_grid][None, :]), 0.0)
        return out

    def steady_open(self, levers: Levers) -> np.ndarray:
        """(C, G) expected open hazards (unfound + in the loop) at the steady state."""
        return self.unfound_mean(levers)[1] + self.stage_open(levers).sum(axis=0)

    def multipliers_of(self, open_cg: np.ndarray) -> np.ndarray:
        """(H, G) incident-rate multipliers for an open stock ``open_cg`` (module doc)."""
        base = self.baseline_open
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(base > 0, open_cg / np.where(base > 0, base, 1.0), 1.0)
        return 1.0 - self.raises.sum(axis=1)[:, None] + self.raises @ ratio


def _stage(cfg: PeacetimeConfig, name: str, grids: Grids, roster: Roster,
           work: list[Dist]) -> StageModel:
    st = cfg.loop[name]
    if st.pool == "village":
        pool = grids.village.astype(np.int64)
    else:
        pool = np.arange(grids.n, dtype=np.int64)
    n_pools = int(pool.max()) + 1 if len(pool) else 0
    per: np.ndarray
    if st.servers_per == "":
        per = np.ones(n_pools)
    elif st.servers_per in EXPOSURES:
        per = np.bincount(pool, weights=grids.exposure(st.servers_per), minlength=n_pools)
    elif st.servers_per in ROLES:
        per = np.bincount(pool, weights=roster.count_by_grid(roster.has_role(st.servers_per))
                          .astype(float), minlength=n_pools)
    else:  # validate rejects it first
        raise UserError(f"peacetime.loop.{name}.servers_per: unknown {st.servers_per!r}")
    servers = np.maximum(1, np.floor(st.servers * per + 0.5)).astype(np.int64)
    if name == "work":
        mean = np.array([w.mean() / 86400.0 for w in work])
        time: Dist | None = None
    else:
        mean = np.full(len(HAZARD_CLASSES), st.time.mean() / 86400.0)
        time = st.time
    return StageModel(name=name, actor=st.actor, pool_of_grid=_ro(pool), n_pools=n_pools,
                      servers=_ro(servers), time=time, mean_days=_ro(mean))
