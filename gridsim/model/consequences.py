"""Consequences of an incident: who is trapped or injured, what it could cost, its grade, who
survives, what it does cost (pure functions and frozen values; no SimPy).

At arrival every incident draws its **potential** consequences from its hazard's severity
model (:class:`Severity`), with :data:`N_UNIFORMS` uniforms of the hazard's own consequences
stream, so the potential and the grade are the same in every response variant (common random
numbers):

* people trapped or endangered (``trapped``) and people seriously injured (``injured``): each a
  hurdle ("zero-inflated") negative binomial: none with probability ``1 - any_share``, else
  ``1 + NB`` with mean ``mean_if_any`` and shape ``dispersion`` (a small shape gives a heavy
  tail);
* the potential direct loss in CNY: a lognormal body (``median_cny``, ``sigma``) spliced at
  ``tail_from_cny`` with a Pareto tail of index ``tail_alpha`` (the tail carries exactly the
  lognormal's mass above the splice, so the distribution function is continuous);
* the three are tied by a Gaussian copula with correlation ``correlation`` to one common
  severity uniform (a large event tends to be large in every respect).

**The grade** follows the potential by the national classification (:class:`GradeRule`, in the
catalogue's ``grade_rule``): the most serious grade any of its criteria reaches, people trapped
or endangered read as potential deaths (the deaths if nobody came), seriously injured as they
are, the potential loss as the direct loss. A threshold is an "at least": the regulation's
以上 includes the figure itself.

**Survival.** Trapped person ``i`` (0, 1, …) is brought out at ``t_i = start + (i + 1) ×
extraction_s`` (the rescue starts when a crew is on scene), and is alive if its frailty
``v_i = frac(frailty + i × φ)`` (φ the golden ratio's fractional part: each ``v_i`` is uniform,
so person ``i`` survives with probability exactly ``S(t_i - occurred)``) is below the hazard's
survival curve ``S``. The frailties are fixed at arrival, so a faster rescue never costs a life
that a slower one saved (a monotone coupling across variants). People not brought out by the
end of the run are still trapped: ``trapped = rescued + deaths + still trapped``.

**Losses.** The direct loss grows with the time until the incident is under control:
``L = L_potential × (1 - exp(-t_control / τ))``, ``τ = time_constant_s``; an incident not under
control by the end of the run counts its loss until then.

Injuries are counted as drawn: the response does not change them (its effect on lives is in the
survival curve).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from statistics import NormalDist

import numpy as np

from gridsim.model.dists import Dist, dist_errors
from gridsim.model.params import (
    ConsequencesConfig,
    CountConfig,
    GradeRuleConfig,
    LossConfig,
    SurvivalConfig,
)
from gridsim.model.vocab import GRADES

__all__ = [
    "N_UNIFORMS",
    "SURVIVAL_KINDS",
    "GradeRule",
    "HurdleCount",
    "Outcome",
    "Potential",
    "Severity",
    "SplicedLoss",
    "Survival",
    "loss_at",
    "outcome",
    "still_in_danger",
]

#: Uniforms an incident draws for its potential consequences: the common severity, trapped,
#: injured, loss, the first frailty, the extraction time.
N_UNIFORMS = 6

#: The survival curves a hazard can have.
SURVIVAL_KINDS: tuple[str, ...] = ("weibull", "piecewise")

#: The fractional part of the golden ratio: the step of the frailties' Weyl sequence.
PHI = (math.sqrt(5.0) - 1.0) / 2.0

_STD = NormalDist()
_EPS = 1e-12


def _clip(u: float) -> float:
    return min(max(u, _EPS), 1.0 - _EPS)


@dataclass(frozen=True)
class GradeRule:
    """The national classification of events by consequences: for grades Ⅰ, Ⅱ, Ⅲ (in that
    order) the deaths, seriously injured and direct loss (CNY) that reach the grade; below all
    three of Ⅲ an event is Ⅳ. An infinite threshold never reaches its grade."""

    deaths: tuple[float, float, float]
    injured: tuple[float, float, float]
    loss_cny: tuple[float, float, float]

    @staticmethod
    def from_config(cfg: GradeRuleConfig) -> GradeRule:
        def row(d: dict[str, float]) -> tuple[float, float, float]:
            return (float(d.get("I", math.inf)), float(d.get("II", math.inf)),
                    float(d.get("III", math.inf)))

        return GradeRule(row(cfg.deaths), row(cfg.injured), row(cfg.loss_cny))

    def grade(self, deaths: float, injured: float, loss_cny: float) -> int:
        """The grade (an index into :data:`~gridsim.model.vocab.GRADES`, 0 = Ⅰ)."""
        for g in range(3):
            if deaths >= self.deaths[g] or injured >= self.injured[g] \
                    or loss_cny >= self.loss_cny[g]:
                return g
        return len(GRADES) - 1


@dataclass(frozen=True)
class HurdleCount:
    """People per incident: 0 with probability ``1 - any_share``, else ``1 + NB(mean_if_any - 1,
    shape dispersion)``."""

    any_share: float
    mean_if_any: float
    dispersion: float

    @staticmethod
    def from_config(cfg: CountConfig) -> HurdleCount:
        return HurdleCount(float(cfg.any_share), float(cfg.mean_if_any), float(cfg.dispersion))

    def ppf(self, u: float) -> int:
        """The ``u``-quantile: the smallest count whose distribution function reaches ``u``."""
        zero = 1.0 - self.any_share
        if u < zero or self.any_share <= 0.0:
            return 0
        m = self.mean_if_any - 1.0
        if m <= 0.0:
            return 1
        # start-up: scipy.special costs ~0.2 s to import; a run that skips or fails its checks
        # never needs it (imported once, then a dictionary lookup)
        from scipy import special

        q = min((u - zero) / self.any_share, 1.0 - _EPS)
        n, p = self.dispersion, self.dispersion / (self.dispersion + m)
        # the negative binomial's quantile, as scipy.stats.nbinom.ppf computes it (without
        # the per-call overhead of a frozen distribution): its CDF at k - 1 is I_p(n, k)
        k = math.ceil(float(special.nbdtrik(q, n, p)))
        if k >= 1 and float(special.betainc(n, k, p)) >= q:
            k -= 1
        return 1 + max(k, 0)

    def mean(self) -> float:
        return self.any_share * self.mean_if_any


@dataclass(frozen=True)
class SplicedLoss:
    """A lognormal body spliced with a Pareto tail above ``tail_from_cny`` (0: no tail)."""

    median_cny: float
    sigma: float
    tail_from_cny: float
    tail_alpha: float

    @staticmethod
    def from_config(cfg: LossConfig) -> SplicedLoss:
        return SplicedLoss(float(cfg.median_cny), float(cfg.sigma), float(cfg.tail_from_cny),
                           float(cfg.tail_alpha))

    @property
    def tail_share(self) -> float:
        """The probability of a loss above the splice: the lognormal's there."""
        if self.tail_from_cny <= 0.0 or self.median_cny <= 0.0:
            return 0.0
        if self.sigma <= 0.0:
            return 1.0 if self.tail_from_cny < self.median_cny else 0.0
        return 1.0 - _STD.cdf(math.log(self.tail_from_cny / self.median_cny) / self.sigma)

    def ppf(self, u: float) -> float:
        if self.median_cny <= 0.0:
            return 0.0
        tail = self.tail_share
        if tail > 0.0 and u >= 1.0 - tail:
            return self.tail_from_cny * ((1.0 - u) / tail) ** (-1.0 / self.tail_alpha) \
                if u < 1.0 else math.inf
        return self.median_cny * math.exp(self.sigma * _STD.inv_cdf(_clip(u)))

    def sf(self, x: float) -> float:
        """The probability of a loss of at least ``x``."""
        if self.median_cny <= 0.0:
            return 1.0 if x <= 0.0 else 0.0
        tail = self.tail_share
        if tail > 0.0 and x >= self.tail_from_cny:
            return tail * (x / self.tail_from_cny) ** (-self.tail_alpha)
        if x <= 0.0:
            return 1.0
        if self.sigma <= 0.0:
            return 1.0 if x <= self.median_cny else 0.0
        return 1.0 - _STD.cdf(math.log(x / self.median_cny) / self.sigma)


@dataclass(frozen=True)
class Survival:
    """The share of trapped people alive when brought out ``t`` seconds after the incident:
    Weibull ``S(t) = exp(-(t / scale_s) ** shape)``, or piecewise linear through
    ``(times_s, survival)`` (1 before the first point when it is later than 0; the last value
    after the last point)."""

    kind: str
    scale_s: float
    shape: float
    times_s: tuple[float, ...]
    survival: tuple[float, ...]

    @staticmethod
    def from_config(cfg: SurvivalConfig) -> Survival:
        return Survival(cfg.kind, float(cfg.scale_s), float(cfg.shape),
                        tuple(float(t) for t in cfg.times_s),
                        tuple(float(s) for s in cfg.survival))

    def at(self, t_s: np.ndarray | float) -> np.ndarray:
        t = np.maximum(np.asarray(t_s, dtype=float), 0.0)
        if self.kind == "weibull":
            return np.exp(-((t / self.scale_s) ** self.shape))
        times, values = list(self.times_s), list(self.survival)
        if times[0] > 0.0:
            times, values = [0.0, *times], [1.0, *values]
        return np.interp(t, times, values)


@dataclass(frozen=True)
class Potential:
    """What an incident could do, drawn at arrival: the same in every response variant."""

    trapped: int
    injured: int
    loss_cny: float
    grade: int  # index into GRADES
    frailty: float  # the first trapped person's frailty (the Weyl sequence's start)
    extraction_s: float  # time to bring out one trapped person
    relocation_u: float = 0.5  # who of the trapped had been moved out before (still_in_danger)

    @staticmethod
    def none(grade: int = len(GRADES) - 1) -> Potential:
        return Potential(0, 0, 0.0, grade, 0.5, 0.0)


@dataclass(frozen=True)
class Severity:
    """One hazard type's consequence model (see the module docstring)."""

    trapped: HurdleCount
    injured: HurdleCount
    loss: SplicedLoss
    correlation: float
    extraction: Dist
    survival: Survival
    time_constant_s: float

    @staticmethod
    def from_config(cfg: ConsequencesConfig) -> Severity:
        return Severity(
            trapped=HurdleCount.from_config(cfg.trapped),
            injured=HurdleCount.from_config(cfg.injured),
            loss=SplicedLoss.from_config(cfg.loss),
            correlation=float(cfg.correlation),
            extraction=cfg.extraction,
            survival=Survival.from_config(cfg.survival),
            time_constant_s=float(cfg.loss.time_constant_s),
        )

    def margins(self, u: np.ndarray) -> tuple[float, float, float]:
        """The uniforms of trapped, injured and loss after the copula (``u``: the
        :data:`N_UNIFORMS` uniforms of the incident)."""
        rho = self.correlation
        if rho <= 0.0:
            return float(u[1]), float(u[2]), float(u[3])
        zc = _STD.inv_cdf(_clip(float(u[0])))
        w = math.sqrt(1.0 - rho * rho)
        return tuple(_STD.cdf(rho * zc + w * _STD.inv_cdf(_clip(float(x))))  # type: ignore[return-value]
                     for x in u[1:4])

    def draw(self, u: np.ndarray, rule: GradeRule, grade: int | None = None,
             relocation_u: float = 0.5) -> Potential:
        """The potential consequences of an incident from its uniforms; its grade by ``rule``
        unless ``grade`` is given (a scripted incident's grade is as written). The grade is the
        potential's, before any relocation (it classifies the event, the same in every
        variant and in the world without grid response)."""
        ut, ui, ul = self.margins(u)
        trapped = self.trapped.ppf(ut)
        injured = self.injured.ppf(ui)
        loss = self.loss.ppf(ul)
        g = rule.grade(trapped, injured, loss) if grade is None else grade
        return Potential(trapped, injured, loss, g, float(u[4]),
                         self.extraction.ppf(float(u[5])) if trapped else 0.0,
                         float(relocation_u))


@dataclass(frozen=True)
class Outcome:
    """The trapped people's fate by the end of the run."""

    rescued: int
    deaths: int
    still_trapped: int


def outcome(p: Potential, survival: Survival, occurred_s: float, rescue_start_s: float,
            end_s: float) -> Outcome:
    """Who of ``p.trapped`` is brought out alive, dead, or not yet by ``end_s``, the rescue
    starting at ``rescue_start_s`` (NaN or infinite: no one came)."""
    n = p.trapped
    if n == 0:
        return Outcome(0, 0, 0)
    if not math.isfinite(rescue_start_s) or rescue_start_s > end_s:
        return Outcome(0, 0, n)
    i = np.arange(n)
    out_s = rescue_start_s + (i + 1) * p.extraction_s
    done = out_s <= end_s
    frailty = np.mod(p.frailty + i * PHI, 1.0)
    alive = frailty < survival.at(out_s - occurred_s)
    rescued = int(np.count_nonzero(done & alive))
    dead = int(np.count_nonzero(done & ~alive))
    return Outcome(rescued, dead, n - rescued - dead)


def still_in_danger(trapped: int, moved_share: float, u: float) -> int:
    """Of the ``trapped`` people an incident would trap, those the post has not yet moved out.

    Person ``i`` (0, 1, …) was already moved when ``frac(u + i × φ) < moved_share``: each person
    independently of the others' index with probability exactly ``moved_share``, so the expected
    number left is ``trapped × (1 - moved_share)``; for a given ``u`` a larger share never
    leaves more people (a monotone coupling across variants, like the frailties). ``u`` is the
    incident's own uniform (drawn at arrival, the same in every variant); ``moved_share`` the
    share of these people whom relocation had reached when the incident happened
    (``relocatable_share`` × the share of the grid's relocation work done)."""
    if trapped <= 0 or moved_share <= 0.0:
        return max(trapped, 0)
    if moved_share >= 1.0:
        return 0
    v = np.mod(u + np.arange(trapped) * PHI, 1.0)
    return int(np.count_nonzero(v >= moved_share))


def loss_at(potential_cny: float, control_after_s: float, time_constant_s: float) -> float:
    """The direct loss of an incident under control ``control_after_s`` after it happened:
    ``potential × (1 - exp(-t / τ))`` (all of it for an infinite time)."""
    if potential_cny <= 0.0:
        return 0.0
    if not math.isfinite(control_after_s):
        return potential_cny
    return potential_cny * -math.expm1(-max(control_after_s, 0.0) / time_constant_s)


# ----------------------------------------------------------------------------------------------
# checks (gridsim.model.validate calls these; each problem names its key)
# ----------------------------------------------------------------------------------------------
def _finite(v: object) -> bool:
    return isinstance(v, int | float) and math.isfinite(float(v))


def _range(errors: list[str], key: str, v: float, lo: float, hi: float = math.inf,
           lo_open: bool = False, hi_open: bool = False) -> None:
    if not _finite(v):
        errors.append(f"{key}: must be a finite number, got {v}")
        return
    bad_lo = v < lo or (lo_open and v == lo)
    bad_hi = v > hi or (hi_open and v == hi)
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        errors.append(f"{key}: must lie in {left}{lo:g}, {hi:g}{right}, got {v}")


def consequences_errors(cfg: ConsequencesConfig, key: str) -> list[str]:
    """Problems with one hazard's ``consequences`` block."""
    e: list[str] = []
    for name in ("trapped", "injured"):
        cc: CountConfig = getattr(cfg, name)
        _range(e, f"{key}.{name}.any_share", cc.any_share, 0.0, 1.0)
        _range(e, f"{key}.{name}.mean_if_any", cc.mean_if_any, 1.0)
        _range(e, f"{key}.{name}.dispersion", cc.dispersion, 0.0, lo_open=True)
    lc = cfg.loss
    _range(e, f"{key}.loss.median_cny", lc.median_cny, 0.0)
    _range(e, f"{key}.loss.sigma", lc.sigma, 0.0)
    _range(e, f"{key}.loss.tail_from_cny", lc.tail_from_cny, 0.0)
    _range(e, f"{key}.loss.tail_alpha", lc.tail_alpha, 1.0, lo_open=True)
    _range(e, f"{key}.loss.time_constant_s", lc.time_constant_s, 0.0, lo_open=True)
    _range(e, f"{key}.correlation", cfg.correlation, 0.0, 1.0, hi_open=True)
    _range(e, f"{key}.relocatable_share", cfg.relocatable_share, 0.0, 1.0)
    e.extend(dist_errors(cfg.extraction, f"{key}.extraction"))
    sc, sk = cfg.survival, f"{key}.survival"
    if sc.kind == "weibull":
        _range(e, f"{sk}.scale_s", sc.scale_s, 0.0, lo_open=True)
        _range(e, f"{sk}.shape", sc.shape, 0.0, lo_open=True)
    elif sc.kind == "piecewise":
        t, v = list(sc.times_s), list(sc.survival)
        if not t or len(t) != len(v):
            e.append(f"{sk}: a piecewise curve needs times_s and survival of the same length "
                     f"(at least one point), got {len(t)} and {len(v)}")
        elif not all(_finite(x) for x in t + v):
            e.append(f"{sk}: times_s and survival must be finite numbers")
        else:
            if t[0] < 0 or any(b <= a for a, b in pairwise(t)):
                e.append(f"{sk}.times_s: must be >= 0 and strictly increasing, got {t}")
            if any(not 0 <= x <= 1 for x in v) or any(b > a for a, b in pairwise(v)):
                e.append(f"{sk}.survival: must be shares in [0, 1] that never rise, got {v}")
    else:
        e.append(f"{sk}.kind: must be one of {', '.join(SURVIVAL_KINDS)}, got {sc.kind!r}")
    if cfg.trapped.any_share > 0 and not sc.source.strip():
        e.append(f"{sk}.source: must name where the survival curve comes from (people are "
                 "trapped)")
    return e


def grade_rule_errors(cfg: GradeRuleConfig, key: str) -> list[str]:
    """Problems with the catalogue's ``grade_rule``: grades Ⅰ..Ⅲ only, positive thresholds,
    a graver grade never needing less, and a source."""
    e: list[str] = []
    graded = GRADES[:3]
    for name in ("deaths", "injured", "loss_cny"):
        d: dict[str, float] = getattr(cfg, name)
        for g, v in d.items():
            if g not in graded:
                e.append(f"{key}.{name}.{g}: unknown grade; expected one of {', '.join(graded)}"
                         " (below all of them an event is IV)")
            else:
                _range(e, f"{key}.{name}.{g}", v, 0.0, lo_open=True)
        given = [float(d[g]) for g in graded if g in d and _finite(d[g])]
        if any(b > a for a, b in pairwise(given)):
            e.append(f"{key}.{name}: a graver grade must not need less (I >= II >= III), got "
                     f"{dict(d)}")
    if (cfg.deaths or cfg.injured or cfg.loss_cny) and not cfg.source.strip():
        e.append(f"{key}.source: must name the regulation the thresholds come from")
    return e
