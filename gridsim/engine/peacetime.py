"""Peacetime hazard hunting over all grids, one vectorised step at a time.

Mass inspection, exposure and rectification (大排查、大曝光、大整治), residents' snap-and-report
(随手拍) and knocking on doors (敲门行动) find hazards; the closed loop 四单四办 (residents raise,
committee files, branch dispatches, owners rate) rectifies them by a deadline. The model per grid:

* new hazards appear as Poisson with rate ``new_hazards_per_grid_day`` (by grid kind);
* each open, unfound hazard is found at rate ``d = discovery_per_day``;
* each found hazard is rectified at rate ``r = -ln(1 - share) / deadline`` so that ``share`` of
  them are fixed within the deadline.

Its steady state has ``λ/d`` unfound and ``λ/r`` found-but-open hazards per grid; the run starts
there (Poisson draws). The open stock scales the rates of stock-driven hazard types:
``multiplier = max(0, 1 + sensitivity × (open / steady - 1))``, so it is 1 on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridsim.model.params import PeaceWorkConfig
from gridsim.model.region import Grids
from gridsim.model.vocab import GRID_KINDS

__all__ = ["PeaceWork"]


@dataclass
class PeaceWork:
    """The open-hazard stock (隐患存量) of every grid during a run."""

    new_per_day: np.ndarray
    discovery_per_day: float
    rectify_per_day: float
    sensitivity: float
    unfound: np.ndarray
    found_open: np.ndarray
    steady_open: np.ndarray
    found_total: int = 0
    rectified_total: int = 0
    new_total: int = 0

    @staticmethod
    def start(cfg: PeaceWorkConfig, grids: Grids, rng: np.random.Generator) -> PeaceWork:
        lam = np.array([cfg.new_hazards_per_grid_day.get(k, 0.0) for k in GRID_KINDS])[
            grids.kind.astype(np.int64)]
        d = cfg.discovery_per_day
        r = -math.log(1.0 - cfg.rectified_by_deadline_share) / cfg.rectification_deadline_days
        steady_unfound, steady_found = lam / d, lam / r
        return PeaceWork(
            new_per_day=lam, discovery_per_day=d, rectify_per_day=r,
            sensitivity=cfg.sensitivity,
            unfound=rng.poisson(steady_unfound).astype(np.int64),
            found_open=rng.poisson(steady_found).astype(np.int64),
            steady_open=steady_unfound + steady_found,
        )

    @property
    def open(self) -> np.ndarray:
        return self.unfound + self.found_open

    def step(self, dt_days: float, rng: np.random.Generator) -> None:
        """Advance every grid by ``dt_days`` (one vectorised step)."""
        new = rng.poisson(self.new_per_day * dt_days)
        found = rng.binomial(self.unfound, 1.0 - math.exp(-self.discovery_per_day * dt_days))
        fixed = rng.binomial(self.found_open, 1.0 - math.exp(-self.rectify_per_day * dt_days))
        self.unfound += new - found
        self.found_open += found - fixed
        self.new_total += int(new.sum())
        self.found_total += int(found.sum())
        self.rectified_total += int(fixed.sum())

    def multiplier(self) -> np.ndarray:
        """Incident-rate multiplier of stock-driven hazards in each grid (1 at steady state)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.steady_open > 0, self.open / self.steady_open, 1.0)
        return np.maximum(0.0, 1.0 + self.sensitivity * (ratio - 1.0))
