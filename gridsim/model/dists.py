"""Duration distributions, as written in config and sampled by inverse transform.

A :class:`Dist` is one of a few named families, all in seconds:

======================  ==========================  ==========================================
kind                    fields                      notes
======================  ==========================  ==========================================
``fixed``               ``value_s``                 always the same value
``exponential``         ``mean_s``                  memoryless (queueing validation)
``lognormal``           ``median_s``, ``sigma``     human reaction and handling times
``uniform``             ``low_s``, ``high_s``
``triangular``          ``low_s``, ``mode_s``,      planners' three-point estimates
                        ``high_s``
``gamma``               ``mean_s``, ``shape``       shape 1 is the exponential
======================  ==========================  ==========================================

Sampling goes through the inverse CDF (:meth:`Dist.ppf`) of a uniform number, so an incident
that carries its own uniforms gets the same delays in every scenario variant (common random
numbers), and a variant that only rescales a delay moves it monotonically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = ["DIST_FIELDS", "Dist", "dist_errors"]

_SPECIAL: Any = None


def _special() -> Any:
    """:mod:`scipy.special`, imported at the first lognormal or gamma draw of arrays: about
    0.2 s of start-up (its array-API machinery) that a skipped run, ``--help`` and config
    checks do not need."""
    global _SPECIAL
    if _SPECIAL is None:
        from scipy import special  # on first use: start-up time, see above

        _SPECIAL = special
    return _SPECIAL

DIST_FIELDS: dict[str, tuple[str, ...]] = {
    "fixed": ("value_s",),
    "exponential": ("mean_s",),
    "lognormal": ("median_s", "sigma"),
    "uniform": ("low_s", "high_s"),
    "triangular": ("low_s", "mode_s", "high_s"),
    "gamma": ("mean_s", "shape"),
}

_STD_NORMAL = NormalDist()


@dataclass
class Dist:
    """A non-negative duration distribution in seconds (see the module docstring).

    Treat it as immutable: it is a plain dataclass only because Hydra must be able to override
    its fields from the command line.
    """

    kind: str = "fixed"
    value_s: float | None = None
    mean_s: float | None = None
    median_s: float | None = None
    sigma: float | None = None
    low_s: float | None = None
    high_s: float | None = None
    mode_s: float | None = None
    shape: float | None = None

    @staticmethod
    def fixed(value_s: float) -> Dist:
        return Dist(kind="fixed", value_s=value_s)

    @staticmethod
    def exponential(mean_s: float) -> Dist:
        return Dist(kind="exponential", mean_s=mean_s)

    @staticmethod
    def lognormal(median_s: float, sigma: float) -> Dist:
        return Dist(kind="lognormal", median_s=median_s, sigma=sigma)

    # -- inverse CDF -------------------------------------------------------------------------
    def ppf(self, u: float) -> float:
        """The ``u``-quantile (0 <= u < 1) of the distribution, in seconds."""
        k = self.kind
        if k == "fixed":
            return float(self.value_s)  # type: ignore[arg-type]
        if k == "exponential":
            return -float(self.mean_s) * math.log1p(-u)  # type: ignore[arg-type]
        if k == "lognormal":
            u = min(max(u, 1e-12), 1.0 - 1e-12)
            return float(self.median_s) * math.exp(  # type: ignore[arg-type]
                float(self.sigma) * _STD_NORMAL.inv_cdf(u)  # type: ignore[arg-type]
            )
        if k == "uniform":
            lo, hi = float(self.low_s), float(self.high_s)  # type: ignore[arg-type]
            return lo + (hi - lo) * u
        if k == "triangular":
            a, c, b = float(self.low_s), float(self.mode_s), float(self.high_s)  # type: ignore[arg-type]
            if b == a:
                return a
            fc = (c - a) / (b - a)
            if u < fc:
                return a + math.sqrt(u * (b - a) * (c - a))
            return b - math.sqrt((1.0 - u) * (b - a) * (b - c))
        if k == "gamma":
            shape = float(self.shape)  # type: ignore[arg-type]
            return float(_special().gammaincinv(shape, u)) * float(self.mean_s) / shape  # type: ignore[arg-type]
        raise ValueError(f"unknown distribution kind {k!r}")

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`ppf` over an array of uniforms."""
        u = np.asarray(u, dtype=float)
        k = self.kind
        if k == "fixed":
            return np.full(u.shape, float(self.value_s))  # type: ignore[arg-type]
        if k == "exponential":
            return -float(self.mean_s) * np.log1p(-u)  # type: ignore[arg-type]
        if k == "lognormal":
            uc = np.clip(u, 1e-12, 1.0 - 1e-12)
            return float(self.median_s) * np.exp(float(self.sigma) * _special().ndtri(uc))  # type: ignore[arg-type]
        if k == "gamma":
            shape = float(self.shape)  # type: ignore[arg-type]
            return _special().gammaincinv(shape, u) * float(self.mean_s) / shape  # type: ignore[arg-type]
        return np.array([self.ppf(float(x)) for x in u.ravel()]).reshape(u.shape)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent draws using ``rng``."""
        return self.ppf_array(rng.random(size))

    def mean(self) -> float:
        """The distribution's mean in seconds."""
        k = self.kind
        if k == "fixed":
            return float(self.value_s)  # type: ignore[arg-type]
        if k in ("exponential", "gamma"):
            return float(self.mean_s)  # type: ignore[arg-type]
        if k == "lognormal":
            return float(self.median_s) * math.exp(float(self.sigma) ** 2 / 2)  # type: ignore[arg-type]
        if k == "uniform":
            return (float(self.low_s) + float(self.high_s)) / 2  # type: ignore[arg-type]
        if k == "triangular":
            return (float(self.low_s) + float(self.mode_s) + float(self.high_s)) / 3  # type: ignore[arg-type]
        raise ValueError(f"unknown distribution kind {k!r}")

    def scaled(self, factor: float) -> Dist:
        """The same family with every time multiplied by ``factor`` (shape parameters kept)."""
        changes: dict[str, Any] = {}
        for name in ("value_s", "mean_s", "median_s", "low_s", "high_s", "mode_s"):
            v = getattr(self, name)
            if v is not None:
                changes[name] = v * factor
        return Dist(**{**self.__dict__, **changes})


def dist_errors(d: Dist, where: str) -> list[str]:
    """Validation messages for ``d`` (empty when it is valid); ``where`` names its config key."""
    if d.kind not in DIST_FIELDS:
        return [f"{where}.kind: unknown distribution {d.kind!r}; expected one of "
                f"{', '.join(DIST_FIELDS)}"]
    errors = []
    for name in DIST_FIELDS[d.kind]:
        v = getattr(d, name)
        if v is None:
            errors.append(f"{where}.{name}: required for a {d.kind} distribution")
        elif not math.isfinite(v) or v < 0:
            errors.append(f"{where}.{name}: must be a finite number >= 0, got {v}")
    if errors:
        return errors
    if d.kind in ("exponential", "gamma") and d.mean_s == 0:
        errors.append(f"{where}.mean_s: must be > 0, got 0")
    if d.kind == "gamma" and d.shape == 0:
        errors.append(f"{where}.shape: must be > 0, got 0")
    if d.kind in ("uniform", "triangular") and d.low_s > d.high_s:  # type: ignore[operator]
        errors.append(f"{where}: low_s ({d.low_s}) must not exceed high_s ({d.high_s})")
    if d.kind == "triangular" and not (d.low_s <= d.mode_s <= d.high_s):  # type: ignore[operator]
        errors.append(f"{where}.mode_s: must lie between low_s and high_s, got {d.mode_s}")
    return errors
