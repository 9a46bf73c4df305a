"""Hazards: the catalogue of hazard types, the rate field over all grids, and incident arrivals.

Incidents of each hazard type arrive as a non-homogeneous Poisson process over all grids: one
SimPy process per hazard type, not one per grid. Rates are piecewise constant: they change only
at known boundaries (a warning starts or ends, a peacetime step updates the open-hazard stock),
so the process draws the next arrival from the current total rate and, if the draw passes the
next boundary, waits for the boundary and draws again (exact by memorylessness). The grid of an
arrival is drawn in proportion to the grids' current rates.

Each arrival draws everything about the incident from its hazard's own stream (grid, place,
grade and a block of uniforms for its later delays), so two variants that differ only in the
response see the same incidents at the same times and places with the same handling times.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from gridsim.engine.schedule import Schedule
from gridsim.model.clock import ProcessGenerator
from gridsim.model.dists import Dist
from gridsim.model.params import CatalogueConfig, HazardConfig
from gridsim.model.people import category_bit
from gridsim.model.region import Grids
from gridsim.model.vocab import GRADES, GRID_KINDS, SUPPLY_ITEMS

__all__ = [
    "N_UNIFORMS",
    "Catalogue",
    "DetectionChannel",
    "HazardType",
    "RateField",
    "arrivals",
    "catalogue_from_config",
]

#: Uniforms drawn per incident for its later delays (the slots: :mod:`gridsim.engine.incident`).
N_UNIFORMS = 16


@dataclass(frozen=True)
class HazardType:
    """One hazard type: where and how often it happens, what it needs, when it escalates."""

    name: str
    index: int
    rate_per_grid_day: np.ndarray  # by GRID_KINDS
    grade_cum: np.ndarray  # cumulative probabilities over GRADES (I first)
    needs: tuple[tuple[int, int], ...]  # (category bit, people)
    supplies: tuple[tuple[int, int], ...]  # (item index, units)
    handling: Dist
    grade_factor: np.ndarray  # by GRADES
    escalate_grade: int  # index into GRADES: this grade or worse escalates at once
    escalate_after_s: float
    department: str
    department_handling: Dist
    driven_by_hazard_stock: bool

    @property
    def people_needed(self) -> int:
        return sum(n for _, n in self.needs)


@dataclass(frozen=True)
class DetectionChannel:
    """A channel through which the grid learns of an incident."""

    name: str
    delay: Dist
    coverage: np.ndarray  # by GRID_KINDS
    at_monitoring_points_only: bool = False


@dataclass(frozen=True)
class Catalogue:
    """All hazard types and detection channels of a run."""

    hazards: tuple[HazardType, ...]
    detection: tuple[DetectionChannel, ...]

    def by_name(self, name: str) -> HazardType:
        for h in self.hazards:
            if h.name == name:
                return h
        raise KeyError(name)


def catalogue_from_config(cfg: CatalogueConfig) -> Catalogue:
    """Build the catalogue (the config has been validated)."""
    hazards = []
    for i, (name, hc) in enumerate(cfg.hazards.items()):
        probs = np.array([hc.grade_probs.get(g, 0.0) for g in GRADES], dtype=float)
        hazards.append(HazardType(
            name=name,
            index=i,
            rate_per_grid_day=np.array([hc.rate_per_grid_day.get(k, 0.0) for k in GRID_KINDS]),
            grade_cum=np.cumsum(probs / probs.sum()),
            needs=tuple((category_bit(c), int(n)) for c, n in hc.needs.items() if n > 0),
            supplies=tuple((SUPPLY_ITEMS.index(it), int(n))
                           for it, n in hc.supplies.items() if n > 0),
            handling=hc.handling,
            grade_factor=np.array([hc.grade_handling_factor.get(g, 1.0) for g in GRADES]),
            escalate_grade=GRADES.index(hc.escalate_grade),
            escalate_after_s=float(hc.escalate_after_s),
            department=hc.department,
            department_handling=hc.department_handling,
            driven_by_hazard_stock=bool(hc.driven_by_hazard_stock),
        ))
    channels = tuple(
        DetectionChannel(name=n, delay=c.delay,
                         coverage=np.array([c.coverage.get(k, 0.0) for k in GRID_KINDS]),
                         at_monitoring_points_only=c.at_monitoring_points_only)
        for n, c in cfg.detection.items()
    )
    return Catalogue(hazards=tuple(hazards), detection=channels)


class RateField:
    """Incident rates (per second) of every hazard type in every grid, piecewise constant.

    ``rate[h, g] = base[h, g] × warning[h, g] × (stock multiplier of g if h is stock-driven)``.
    The owner of the schedule (:func:`gridsim.engine.simulation._conditions`) changes the
    multipliers at the boundaries of ``boundaries``; arrival processes read the cumulative
    weights.
    ``boundaries`` is the run's lazy :class:`~gridsim.engine.schedule.Schedule` (constant memory
    whatever the duration) or an array of the boundary times.
    """

    def __init__(self, catalogue: Catalogue, grids: Grids, hazard: HazardConfig,
                 boundaries: Schedule | np.ndarray) -> None:
        kinds = grids.kind.astype(np.int64)
        per_day = np.stack([h.rate_per_grid_day[kinds] for h in catalogue.hazards])
        self.base = per_day * hazard.rate_scale / 86400.0
        self.warning = np.ones_like(self.base)
        self.stock = np.ones(grids.n)
        self.driven = np.array([h.driven_by_hazard_stock for h in catalogue.hazards], dtype=bool)
        if isinstance(boundaries, Schedule):
            self.next_boundary = boundaries.next_boundary  # type: ignore[method-assign]
            self.is_boundary = boundaries.is_boundary  # type: ignore[method-assign]
        else:
            self._bounds = np.asarray(boundaries, dtype=float).tolist()  # bisect, set look-ups
            self._bound_set = set(self._bounds)
        self.updated_at_s = -np.inf
        self._cum: dict[int, np.ndarray] = {}

    def touch(self, now: float) -> None:
        """Mark the field as brought up to date at ``now`` (invalidates cached weights)."""
        self.updated_at_s = now
        self._cum.clear()

    def rates(self, h: int) -> np.ndarray:
        r = self.base[h] * self.warning[h]
        return r * self.stock if self.driven[h] else r

    def cumulative(self, h: int) -> np.ndarray:
        c = self._cum.get(h)
        if c is None:
            c = np.cumsum(self.rates(h))
            self._cum[h] = c
        return c

    def next_boundary(self, now: float) -> float:
        i = bisect.bisect_right(self._bounds, now)
        return self._bounds[i] if i < len(self._bounds) else np.inf

    def is_boundary(self, t: float) -> bool:
        return t in self._bound_set


def arrivals(
    env: simpy.Environment,
    hazard: HazardType,
    field: RateField,
    grids: Grids,
    rng: np.random.Generator,
    on_incident: Callable[[HazardType, int, float, float, int, np.ndarray], None],
    until_s: float,
) -> ProcessGenerator:
    """The arrival process of one hazard type over all grids.

    Calls ``on_incident(hazard, grid, x_m, y_m, grade, uniforms)`` at each arrival.
    """
    side = grids.side_m()
    gx, gy = grids.x_m, grids.y_m
    h = hazard.index
    grade_cum = hazard.grade_cum.tolist()  # bisect on a list is searchsorted(side="right")
    last_grade = len(GRADES) - 1
    while env.now < until_s:
        now = env.now
        boundary = field.next_boundary(now)
        if field.updated_at_s < now and field.is_boundary(now):
            raise RuntimeError(f"rate field not updated at boundary t={now}")
        cum = field.cumulative(h)
        total = float(cum[-1]) if len(cum) else 0.0
        dt = rng.exponential(1.0 / total) if total > 0 else np.inf
        if now + dt >= min(boundary, until_s):
            if not np.isfinite(boundary) or boundary >= until_s:
                return
            yield env.timeout(boundary - now)
            continue
        yield env.timeout(dt)
        g = min(int(cum.searchsorted(rng.random() * total, side="right")), len(cum) - 1)
        ux, uy, ugrade = rng.random(3).tolist()
        x = float(gx[g] + (ux - 0.5) * side[g])
        y = float(gy[g] + (uy - 0.5) * side[g])
        grade = min(bisect.bisect_right(grade_cum, ugrade), last_grade)
        on_incident(hazard, g, x, y, grade, rng.random(N_UNIFORMS))
