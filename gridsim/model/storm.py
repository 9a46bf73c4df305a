"""Storm work in numbers: how much work each post task has in a grid, how long a patrol round
takes, and when a patrol passes a spot (the processes are :mod:`gridsim.engine.storm`).

* A task's **units** in a grid are ``Σ coefficient × exposure`` over the exposures its config
  names (:meth:`gridsim.model.region.Grids.exposure`: households, flood-prone households,
  monitoring points, steep-slope km², ...), times the grid's vulnerable share for a task that
  moves vulnerable residents only, rounded to whole units, at least ``min_units``.
* A **patrol round** visits the grid's patrol points (its units) and comes back: the length of
  a shortest round through ``n`` points spread over an area ``A`` is about
  ``0.7124 · sqrt(n · A)`` (Beardwood, Halton & Hammersley 1959, "The shortest path through
  many points", Proc. Cambridge Phil. Soc. 55; the constant 0.7124 from Percus & Martin 1996,
  Phys. Rev. Lett. 76), walked at the grid kind's local speed with the intra-grid detour, plus
  the minutes spent at each point.
* A patrol that started at ``s0`` begins a round every ``cycle = max(period, round)`` seconds
  and passes the spot at phase ``φ`` of the round (the incident's own uniform) at
  ``s0 + k · cycle + φ · round``: the first such time at or after ``now``.
"""

from __future__ import annotations

import math

import numpy as np

from gridsim.model.params import StormTaskConfig
from gridsim.model.region import Grids

__all__ = ["BHH_CONSTANT", "next_pass_s", "round_time_s", "task_units"]

#: The Beardwood-Halton-Hammersley constant of the shortest tour through random points in the
#: plane (Percus & Martin 1996: 0.7124 ± 0.0002).
BHH_CONSTANT = 0.7124


def task_units(grids: Grids, cfg: StormTaskConfig) -> np.ndarray:
    """Whole units of work of the task in every grid (float64, integral values)."""
    units = np.zeros(grids.n)
    for name, coefficient in sorted(cfg.exposure.items()):
        units += coefficient * grids.exposure(name)
    if cfg.vulnerable_only:
        units *= grids.vulnerable_share
    return np.maximum(np.rint(units), cfg.min_units)


def round_time_s(points: np.ndarray, area_km2: np.ndarray, detour: float, speed_mps: np.ndarray,
                 minutes_per_point: float) -> np.ndarray:
    """Seconds for one patrol round through ``points`` points over each grid's area."""
    length_m = BHH_CONSTANT * np.sqrt(points * area_km2) * 1000.0
    return length_m * detour / speed_mps + points * minutes_per_point * 60.0


def next_pass_s(start_s: float, round_s: float, cycle_s: float, phase: float,
                now_s: float) -> float:
    """The first time at or after ``now_s`` that a patrol started at ``start_s`` passes the
    spot at ``phase`` (0-1) of its round."""
    first = start_s + phase * round_s
    if now_s <= first:
        return first
    if cycle_s <= 0:
        return math.inf
    k = math.ceil((now_s - first) / cycle_s)
    return first + k * cycle_s
