"""Run-size estimates: refuse, before anything runs, a run that would exhaust memory or run for
days.

A run keeps every incident (its record, its log rows) until the end, and steps the peacetime
hazard stock of every grid every ``hazard.peace_work.step_h``. Both are known in expectation
before the run, from the settings alone:

* **incidents**: every hazard type arrives as a Poisson process in every grid, so the expected
  count is its rate × time (:mod:`gridsim.engine.hazards`):
  ``Σ_h Σ_kind rate_per_grid_day[h][kind] × grids of kind × hazard.rate_scale × days``, plus for
  each warning ``(rate_multiplier[h] − 1)`` × the rate of its grids × the hours it lasts within
  the run, plus the scripted incidents. The open-hazard stock multiplies stock-driven rates by
  1 on average (:mod:`gridsim.engine.peacetime`), so it does not enter. Overlapping warnings
  multiply their multipliers in the run; the estimate adds their extra incidents instead (exact
  for warnings apart in time or place, low by the cross terms otherwise).
* **grids by kind**: those of a loaded scenario when it is known (:func:`loaded_size`), else
  their expected counts for a synthetic scenario (``urban_grids`` and ``rural_grids`` shared by
  the kinds' weights, compound grids as urban communities; :func:`config_size`). A warning over
  townships covers its share of the townships' grids.
* **scheduled steps**: one per ``step_h`` (plus a start and an end per warning).

Memory and CPU time follow from the constants below, measured by slopes between a short and a
long run (``python benchmarks/bench_budget.py``, which prints the measured values beside them):
what every run has, the scenario and per-grid caches, cancels out and is not counted.

Ceilings (``output:`` in ``conf/config.yaml``):

* ``output.max_incidents`` (default 1,000,000: about 4 GB of memory with the events log and
  12 minutes of CPU; a city has about 32,000 in a calm year): expected incidents;
* ``output.max_steps`` (default 1,000,000: 685 years of 6-hour steps, about 36 minutes of CPU
  for a city's 18,176 grids): scheduled steps.

A run beyond either is refused by :func:`gridsim.model.validate.validate` (so by ``gridsim
run``, sweeps and experiments before anything runs) with one line giving the estimate and the
ceiling; a scenario folder's grids are only known once it is loaded, so its runs are checked
against the ceilings again then (:func:`loaded_size`). Below the ceilings, a long run shows a
progress line every few seconds (:func:`gridsim.engine.simulation.simulate`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridsim.model.params import RunConfig, ScenarioConfig
from gridsim.model.vocab import GRID_KINDS

__all__ = [
    "BYTES_PER_INCIDENT",
    "BYTES_PER_LOGGED_INCIDENT",
    "BYTES_PER_LOGGED_STEP",
    "CPU_S_PER_GRID_STEP",
    "CPU_S_PER_INCIDENT",
    "EVENTS_PER_INCIDENT",
    "EVENTS_PER_STEP",
    "RunSize",
    "config_size",
    "expected_kind_counts",
    "loaded_size",
    "run_size",
    "size_errors",
]

# Measured with ``python benchmarks/bench_budget.py`` on the 2-core reference machine (shared,
# so CPU figures move by some tens of percent; ranges over three runs), during simulate()
# only: writing the files adds about their text (a few hundred bytes per incident) for a
# moment at the end. Memory is what the run keeps (tracemalloc, its result alive).

#: Memory kept per incident with the events log off: its record, the uniforms it drew, its
#: dispatch and switch bookkeeping (district, ``hazard=calm``, ``hazard.rate_scale=10``,
#: 2,000 h against 8,000 h: 1,330 bytes; rounded up).
BYTES_PER_INCIDENT = 1_500
#: Memory added per incident by the events log (``output.events_log``): its rows (same runs,
#: events log on: 3,730-3,740 bytes in all, 2,400 more; rounded up).
BYTES_PER_LOGGED_INCIDENT = 2_500
#: Memory per scheduled step with the events log on (one row per peacetime step;
#: ``suining_city``, every rate at 0, 4,000 h against 16,000 h: 180 bytes; rounded up).
BYTES_PER_LOGGED_STEP = 200
#: CPU seconds per incident, with its dispatch, travel, handling and records (district, runs
#: as above, events log off: 0.43-0.68 ms; rounded up).
CPU_S_PER_INCIDENT = 7e-4
#: CPU seconds per grid and scheduled step (the vectorised peacetime step and the rate field
#: update; ``suining_city``, every rate at 0: 0.075-0.11 µs per grid and step; rounded up).
CPU_S_PER_GRID_STEP = 1.2e-7
#: SimPy events per incident: its arrival, detection, dispatch, travels, handling, returns,
#: reports (district runs as above, less their steps' events: 21.3).
EVENTS_PER_INCIDENT = 22
#: SimPy events per scheduled step: the step, each hazard type's arrival process waking at the
#: boundary, the end of working hours (``suining_city``, every rate at 0: 8.25).
EVENTS_PER_STEP = 9

#: Defaults of the ceilings (``conf/config.yaml`` sets them; these apply to settings built
#: directly).
DEFAULT_MAX_INCIDENTS = 1_000_000
DEFAULT_MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class RunSize:
    """What a run is expected to cost (expectations, not bounds)."""

    incidents: float
    steps: int
    grids: float
    events: float  # SimPy events
    memory_bytes: float
    cpu_s: float

    def describe(self) -> str:
        grids = f"{_num(self.grids)} grid{'' if self.grids == 1 else 's'}"
        return (f"about {_num(self.incidents)} incidents and {_num(self.steps)} scheduled steps "
                f"over {grids} (≈ {_bytes(self.memory_bytes)} of memory, "
                f"≈ {_duration(self.cpu_s)} of CPU)")


def _num(x: float) -> str:
    """A count for a message: ``1,234`` below 100,000, else ``4.2e10``."""
    if x < 1e5:
        return f"{x:,.0f}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


def _two(v: float) -> str:
    """``v`` to two significant digits: ``190``, ``1.9``, ``0.25``, ``12,000``."""
    if v >= 100:
        return f"{round(v, 1 - math.floor(math.log10(v))):,.0f}"
    return f"{float(f'{v:.2g}'):g}"


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{_two(n / size)} {unit}"
    return f"{_two(n / 1e3)} kB"


def _duration(s: float) -> str:
    for unit, size in (("years", 365 * 86400.0), ("days", 86400.0), ("h", 3600.0),
                       ("min", 60.0)):
        if s >= size:
            return f"{_two(s / size)} {unit}"
    return f"{_two(s)} s"


def _finite(v: object) -> float:
    """``v`` as a float, 0 where it is not a finite number ≥ 0 (validate reports those)."""
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) and f > 0 else 0.0


def expected_kind_counts(sc: ScenarioConfig) -> np.ndarray | None:
    """Expected grids of each kind (by :data:`GRID_KINDS`) of a synthetic scenario, as
    :mod:`gridsim.place.synthetic` draws them; ``None`` for a scenario folder."""
    if sc.generator != "synthetic":
        return None
    counts = np.zeros(len(GRID_KINDS))
    with_compounds = sc.compounds.count > 0
    if with_compounds:
        counts[GRID_KINDS.index("urban_community")] += _finite(sc.compounds.design.grids)
    for zone, n in (("urban", sc.urban_grids), ("rural", sc.rural_grids)):
        kinds = [(k, _finite(kc.weight)) for k, kc in sc.kinds.items()
                 if kc.zone == zone and k in GRID_KINDS
                 and not (with_compounds and k == "urban_community")]
        total = sum(w for _, w in kinds)
        for k, w in kinds:
            if total > 0:
                counts[GRID_KINDS.index(k)] += _finite(n) * w / total
    return counts


def _rates_per_day(s: RunConfig) -> dict[str, np.ndarray]:
    """Incidents per grid and day of each hazard type, by grid kind (``rate_scale`` applied)."""
    scale = _finite(s.hazard.rate_scale)
    return {name: np.array([_finite(h.rate_per_grid_day.get(k, 0.0)) for k in GRID_KINDS])
            * scale for name, h in s.catalogue.hazards.items()}


def _overlap_h(start_h: float, length_h: float, duration_h: float) -> float:
    start, length = _finite(start_h), _finite(length_h)
    return max(0.0, min(start + length, duration_h) - start)


def run_size(s: RunConfig, kind_counts: np.ndarray, warning_kinds: Sequence[np.ndarray]
             ) -> RunSize:
    """The expected size of run ``s`` over grids counted by kind (``kind_counts``), with
    ``warning_kinds[i]`` the grids by kind that warning ``i`` covers."""
    duration_h = _finite(s.duration_h)
    rates = _rates_per_day(s)
    per_day = sum(float(r @ kind_counts) for r in rates.values())
    incidents = per_day * duration_h / 24.0
    for w, counts in zip(s.hazard.warnings, warning_kinds, strict=True):
        hours = _overlap_h(w.start_h, w.duration_h, duration_h)
        for name, mult in w.rate_multipliers.items():
            if name in rates:
                incidents += (_finite(mult) - 1.0) * float(rates[name] @ counts) * hours / 24.0
    incidents = max(incidents, 0.0)
    incidents += sum(1 for si in s.hazard.incidents if _finite(si.at_h) < duration_h)
    step_h = _finite(s.hazard.peace_work.step_h)
    steps_f = duration_h / step_h if step_h > 0 else 0.0
    steps = int(min(steps_f, 1e18)) + 2 * len(s.hazard.warnings)
    grids = float(np.sum(kind_counts))
    log = bool(s.output.events_log)
    memory = incidents * (BYTES_PER_INCIDENT + (BYTES_PER_LOGGED_INCIDENT if log else 0)) \
        + steps * (BYTES_PER_LOGGED_STEP if log else 0)
    cpu = incidents * CPU_S_PER_INCIDENT + steps * grids * CPU_S_PER_GRID_STEP
    events = incidents * EVENTS_PER_INCIDENT + steps * EVENTS_PER_STEP
    return RunSize(incidents=incidents, steps=steps, grids=grids, events=events,
                   memory_bytes=memory, cpu_s=cpu)


def config_size(s: RunConfig) -> RunSize | None:
    """The expected size of ``s`` from its settings alone (``None`` for a scenario folder,
    whose grids are known once it is loaded)."""
    counts = expected_kind_counts(s.scenario)
    if counts is None:
        return None
    n = float(counts.sum())
    n_town = _finite(s.scenario.counties) * _finite(s.scenario.townships_per_county)
    warning_kinds = []
    for w in s.hazard.warnings:
        if w.grids:
            share = len({g for g in w.grids if 0 <= g < n}) / n if n > 0 else 0.0
        elif w.townships and n_town > 0:
            share = len({t for t in w.townships if 0 <= t < n_town}) / n_town
        else:
            share = 1.0
        warning_kinds.append(counts * share)
    return run_size(s, counts, warning_kinds)


def loaded_size(s: RunConfig, grid_kind: np.ndarray, warning_grids: Sequence[np.ndarray]
                ) -> RunSize:
    """The expected size of ``s`` on a built scenario whose grids have kinds ``grid_kind``
    (indices into :data:`GRID_KINDS`), ``warning_grids[i]`` the ids of warning ``i``'s grids."""
    kind = np.asarray(grid_kind, dtype=np.int64)
    counts = np.bincount(kind, minlength=len(GRID_KINDS)).astype(float)
    return run_size(s, counts, [np.bincount(kind[np.asarray(g, dtype=np.int64)],
                                            minlength=len(GRID_KINDS)).astype(float)
                                for g in warning_grids])


def _ceiling(s: RunConfig, key: str, default: float) -> float:
    return float(getattr(s.output, key, default))


def size_errors(s: RunConfig, size: RunSize | None = None) -> list[str]:
    """``key: problem`` lines for a run beyond a ceiling (empty if it may run). ``size``
    defaults to :func:`config_size` (nothing to say for a scenario folder before it is
    loaded)."""
    size = size if size is not None else config_size(s)
    if size is None:
        return []
    max_inc = _ceiling(s, "max_incidents", DEFAULT_MAX_INCIDENTS)
    max_steps = _ceiling(s, "max_steps", DEFAULT_MAX_STEPS)
    beyond, remedies = [], ["shorten duration_h"]
    if size.incidents > max_inc:
        beyond.append(f"{_num(max_inc)} incidents (output.max_incidents)")
        remedies.append("lower the rates (hazard.rate_scale, catalogue)")
    if size.steps > max_steps:
        beyond.append(f"{_num(max_steps)} scheduled steps (output.max_steps)")
        remedies.append("lengthen hazard.peace_work.step_h")
    if not beyond:
        return []
    keys = " or ".join(k.split("(")[1].rstrip(")") for k in beyond)
    return [f"duration_h: this run would simulate {size.describe()}; the ceiling is "
            f"{' and '.join(beyond)}: {', '.join(remedies)}, or raise {keys} on a machine "
            f"with the memory and time"]
