"""Hazards: the catalogue of hazard types, the rate field over all grids, and incident arrivals.

Incidents of each hazard type arrive as a non-homogeneous Poisson process over all grids: one
SimPy process per hazard type, not one per grid. Rates are piecewise constant: they change only
at known boundaries (a warning starts or ends, a peacetime step updates the open-hazard stock),
so the process draws the next arrival from the current total rate and, if the draw passes the
next boundary, waits for the boundary and draws again (exact by memorylessness). The grid of an
arrival is drawn in proportion to the grids' current rates.

Each arrival draws everything about the incident from its hazard's own stream (grid, place
and a block of uniforms for its later delays), and its potential consequences, and with them its
grade, from the hazard's consequences stream (:mod:`gridsim.model.consequences`), so two
variants that differ only in the response see the same incidents at the same times and places,
with the same grades, consequences at stake and handling times.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from gridsim.engine.schedule import Schedule
from gridsim.model.clock import ProcessGenerator
from gridsim.model.consequences import N_UNIFORMS as N_CONSEQUENCE_UNIFORMS
from gridsim.model.consequences import GradeRule, Potential, Severity
from gridsim.model.dists import Dist
from gridsim.model.params import CatalogueConfig, HazardConfig
from gridsim.model.people import category_bit
from gridsim.model.rates import base_rates_per_day, unit_rates_per_day
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
    exposure: str  # what the rate is per unit of (gridsim.model.vocab.EXPOSURES)
    rate_per_unit_day: np.ndarray  # by GRID_KINDS: incidents per unit of exposure per day
    severity: Severity  # potential consequences, survival and loss growth
    needs: tuple[tuple[int, int], ...]  # (category bit, people)
    supplies: tuple[tuple[int, int], ...]  # (item index, units)
    handling: Dist
    grade_factor: np.ndarray  # by GRADES
    escalate_grade: int  # index into GRADES: this grade or worse escalates at once
    escalate_after_s: float
    department: str
    department_handling: Dist
    # item indices of ``supplies`` that must be on scene before the grid crew controls it
    control_supplies: tuple[int, ...] = ()

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
    grade_rule: GradeRule  # the grade from an incident's potential consequences

    def by_name(self, name: str) -> HazardType:
        for h in self.hazards:
            if h.name == name:
                return h
        raise KeyError(name)


def catalogue_from_config(cfg: CatalogueConfig) -> Catalogue:
    """Build the catalogue (the config has been validated)."""
    hazards = []
    for i, (name, hc) in enumerate(cfg.hazards.items()):
        hazards.append(HazardType(
            name=name,
            index=i,
            exposure=hc.exposure,
            rate_per_unit_day=unit_rates_per_day(hc),
            severity=Severity.from_config(hc.consequences),
            needs=tuple((category_bit(c), int(n)) for c, n in hc.needs.items() if n > 0),
            supplies=tuple((SUPPLY_ITEMS.index(it), int(n))
                           for it, n in hc.supplies.items() if n > 0),
            handling=hc.handling,
            grade_factor=np.array([hc.grade_handling_factor.get(g, 1.0) for g in GRADES]),
            escalate_grade=GRADES.index(hc.escalate_grade),
            escalate_after_s=float(hc.escalate_after_s),
            department=hc.department,
            department_handling=hc.department_handling,
            control_supplies=tuple(SUPPLY_ITEMS.index(it) for it in hc.control_supplies),
        ))
    channels = tuple(
        DetectionChannel(name=n, delay=c.delay,
                         coverage=np.array([c.coverage.get(k, 0.0) for k in GRID_KINDS]),
                         at_monitoring_points_only=c.at_monitoring_points_only)
        for n, c in cfg.detection.items()
    )
    return Catalogue(hazards=tuple(hazards), detection=channels,
                     grade_rule=GradeRule.from_config(cfg.grade_rule))


class RateField:
    """Incident rates (per second) of every hazard type in every grid, piecewise constant.

    ``rate[h, g] = base[h, g] × warning[h, g] × stock[h, g]``, where ``base[h, g]`` is the
    hazard's rate per unit of its exposure in grid g's kind × the grid's exposure ×
    ``hazard.rate_scale`` (:func:`gridsim.model.rates.base_rates_per_day`) and ``stock[h, g]``
    the peacetime loop's multiplier (:meth:`gridsim.engine.peacetime.PeaceLoop.multipliers`:
    the open hazards of the classes that raise type ``h``, against their baseline steady state;
    1 for a type no hazard class raises, and 1 until set).
    Hazards that respond to rain have one more factor, their weather multiplier per grid
    (:meth:`set_weather`, :mod:`gridsim.engine.weather`; 1 until set).
    The owner of the schedule (:func:`gridsim.engine.simulation._conditions`) changes the
    multipliers at the boundaries of ``boundaries``; arrival processes read the cumulative
    weights.
    ``boundaries`` is the run's lazy :class:`~gridsim.engine.schedule.Schedule` (constant memory
    whatever the duration) or an array of the boundary times.
    """

    def __init__(self, catalogue: Catalogue, grids: Grids, hazard: HazardConfig,
                 boundaries: Schedule | np.ndarray) -> None:
        per_day = np.stack([base_rates_per_day(h.rate_per_unit_day, h.exposure, grids)
                            for h in catalogue.hazards])
        self.base = per_day * hazard.rate_scale / 86400.0
        self.warning = np.ones_like(self.base)
        self.weather: dict[int, np.ndarray] = {}  # hazard index -> rain multiplier per grid
        self._stock: np.ndarray | None = None  # (H, G) multipliers of the peacetime loop
        self._stock_rows: frozenset[int] = frozenset()  # the types whose row is not all 1
        if isinstance(boundaries, Schedule):
            self.next_boundary = boundaries.next_boundary  # type: ignore[method-assign]
            self.is_boundary = boundaries.is_boundary  # type: ignore[method-assign]
        else:
            self._bounds = np.asarray(boundaries, dtype=float).tolist()  # bisect, set look-ups
            self._bound_set = set(self._bounds)
        self.updated_at_s = -np.inf
        self._cum: dict[int, np.ndarray] = {}

    def touch(self, now: float, everything: bool = True) -> None:
        """Mark the field as brought up to date at ``now``: invalidates every type's cached
        weights, or with ``everything`` False only those of the types whose multipliers changed
        through :attr:`stock` or :meth:`set_weather` (the others' weights are as they were:
        a peacetime step leaves the types no hazard class raises alone, a weather step the
        types without rain)."""
        self.updated_at_s = now
        if everything:
            self._cum.clear()

    @property
    def stock(self) -> np.ndarray:
        """The peacetime multipliers, (H, G) (all 1 until set)."""
        return np.ones_like(self.base) if self._stock is None else self._stock

    @stock.setter
    def stock(self, multipliers: np.ndarray) -> None:
        """Set the (H, G) multipliers (call :meth:`touch` after); rows of all 1 (the types no
        hazard class raises) cost nothing in :meth:`rates`."""
        m = np.asarray(multipliers, dtype=float)
        if m.shape != self.base.shape:
            raise ValueError(f"RateField.stock: expected shape {self.base.shape}, got {m.shape}")
        before = self._stock_rows
        self._stock = m
        self._stock_rows = frozenset(np.flatnonzero((m != 1.0).any(axis=1)).tolist())
        for h in before | self._stock_rows:  # the rows that may have changed
            self._cum.pop(h, None)

    def rates(self, h: int) -> np.ndarray:
        r = self.base[h] * self.warning[h]
        w = self.weather.get(h)
        if w is not None:
            r = r * w
        if h in self._stock_rows:
            assert self._stock is not None  # (rows are set with it)
            r = r * self._stock[h]
        return r

    def set_weather(self, h: int, multiplier: np.ndarray) -> None:
        """Hazard ``h``'s rain multiplier per grid from now on (call :meth:`touch` after)."""
        self.weather[h] = multiplier
        self._cum.pop(h, None)

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
    on_incident: Callable[[HazardType, int, float, float, Potential, np.ndarray], None],
    until_s: float,
    consequence_rng: np.random.Generator,
    grade_rule: GradeRule,
) -> ProcessGenerator:
    """The arrival process of one hazard type over all grids.

    Calls ``on_incident(hazard, grid, x_m, y_m, potential, uniforms)`` at each arrival; the
    potential consequences (with the grade) come from ``consequence_rng``, the hazard's own
    consequences stream, :data:`~gridsim.model.consequences.N_UNIFORMS` uniforms an incident.
    """
    side = grids.side_m()
    gx, gy = grids.x_m, grids.y_m
    h = hazard.index
    severity = hazard.severity
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
        # the third uniform drew the grade before it followed the consequences; it now says who
        # of the trapped a post's relocation had moved out (Potential.relocation_u), so this
        # stream's later draws stay as they were
        ux, uy, uw = rng.random(3).tolist()
        x = float(gx[g] + (ux - 0.5) * side[g])
        y = float(gy[g] + (uy - 0.5) * side[g])
        potential = severity.draw(consequence_rng.random(N_CONSEQUENCE_UNIFORMS), grade_rule,
                                  relocation_u=uw)
        on_incident(hazard, g, x, y, potential, rng.random(N_UNIFORMS))
