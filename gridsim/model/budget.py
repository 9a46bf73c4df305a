"""Run-size estimates: refuse, before anything runs, a run that would exhaust memory or run for
days.

A run keeps every incident (its record, its log rows) until the end, and steps the peacetime
hazard loop of every grid every ``peacetime.step_h``. Both are known in expectation
before the run, from the settings alone:

* **incidents**: every hazard type arrives as a Poisson process in every grid, so the expected
  count is its rate × time (:mod:`gridsim.engine.hazards`), the base rates being those of the
  run (:mod:`gridsim.model.rates`, the same functions):
  ``Σ_h Σ_kind rate_per_unit_day[h][kind] × exposure[h] of the grids of kind ×
  hazard.rate_scale × days``, plus for each warning ``(rate_multiplier[h] − 1)`` × the rate of
  its grids × the hours it lasts within the run, plus the scripted incidents. The open-hazard
  stock multiplies stock-driven rates by 1 on average (:mod:`gridsim.engine.peacetime`), so it
  does not enter. Overlapping warnings multiply their multipliers in the run; the estimate adds
  their extra incidents instead (exact for warnings apart in time or place, low by the cross
  terms otherwise).
* **exposures by kind**: those of a loaded scenario's grids when they are known
  (:func:`loaded_size`), else their expectations for a synthetic scenario
  (:func:`expected_exposure_by_kind`: ``urban_grids`` and ``rural_grids`` shared by the kinds'
  weights, compound grids as urban communities, residents and land as the generator scales
  them, and ``scenario.exposure_per_kind`` per resident, household or km²; :func:`config_size`).
  A warning over townships covers its share of the townships' grids.
* **scheduled steps**: one per ``step_h`` (plus a start and an end per warning, plus the weather
  steps at which a rain multiplier changes).
* **weather** (``hazard.weather``): each rain-driven rate of the weather's townships gains
  ``Σ_k (m_k - 1) step_h`` hours of its base rate (:func:`gridsim.model.weather.rain_excess`:
  exact for a design storm, one draw for a seasonal series, ``max_multiplier`` over the run for
  observed rainfall, which is read only when the run starts).

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

from gridsim.model.params import PeacetimeConfig, RunConfig, ScenarioConfig
from gridsim.model.rates import (
    DERIVED_EXPOSURES,
    GENERATED_EXPOSURES,
    base_rates_per_day,
    unit_rates_per_day,
)
from gridsim.model.region import Grids
from gridsim.model.vocab import EXPOSURES, GRID_KINDS
from gridsim.model.weather import rain_excess

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
    "expected_exposure_by_kind",
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


def expected_exposure_by_kind(sc: ScenarioConfig) -> dict[str, np.ndarray] | None:
    """Expected totals of every exposure (:data:`EXPOSURES`) over the grids of each kind (by
    :data:`GRID_KINDS`) of a synthetic scenario, as :mod:`gridsim.place.synthetic` draws them
    (``None`` for a scenario folder). Residents and land are the kinds' means × their grids,
    with ``compounds.people_total`` for compound grids and ``rural_population`` and
    ``rural_land_km2`` shared among the rural kinds as the generator scales them; households
    are residents / household size (the generator's rounding aside); the generated exposures
    are their ``exposure_per_kind`` means × those (the generator keeps each kind's total)."""
    counts = expected_kind_counts(sc)
    if counts is None:
        return None
    n_kinds = len(GRID_KINDS)
    people, land, hh_size = np.zeros(n_kinds), np.zeros(n_kinds), np.ones(n_kinds)
    rural = np.zeros(n_kinds, dtype=bool)
    with_compounds = sc.compounds.count > 0
    for name, kc in sc.kinds.items():
        if name not in GRID_KINDS:
            continue
        k = GRID_KINDS.index(name)
        people[k] = counts[k] * _finite(kc.population)
        land[k] = counts[k] * _finite(kc.area_km2)
        hh_size[k] = _finite(kc.household_size) or 1.0
        rural[k] = kc.zone == "rural"
    uc = GRID_KINDS.index("urban_community")
    if with_compounds:
        people[uc] = _finite(sc.compounds.people_total)
        density = _finite(sc.compounds.density_per_km2)
        land[uc] = people[uc] / density if density > 0 else 0.0
    for arr, total in ((people, _finite(sc.rural_population)), (land, _finite(sc.rural_land_km2))):
        if total > 0 and arr[rural].sum() > 0:
            arr[rural] *= total / arr[rural].sum()
    base = {"grid": counts, "residents": people, "households": people / hh_size,
            "area_km2": land, "compounds": np.zeros(n_kinds)}
    if with_compounds:
        base["compounds"][uc] = _finite(sc.compounds.count)
    weight = np.where(rural, 3.0, 1.0) * counts  # as the generator places them
    total_w = weight.sum()
    base["monitoring_points"] = (weight / total_w * _finite(sc.monitoring_points)
                                 if total_w > 0 else np.zeros(n_kinds))
    for exposure, (field_name, per, factor) in GENERATED_EXPOSURES.items():
        mean = np.array([_finite(getattr(sc.exposure_per_kind[k], field_name, 0.0))
                         if k in sc.exposure_per_kind else 0.0 for k in GRID_KINDS])
        base[exposure] = mean * factor * base[per]
    for exposure, (field_name, per) in DERIVED_EXPOSURES.items():
        base[exposure] = base[field_name] * (base[per] / np.where(people > 0, people, 1.0))
    del base["flood_prone_share"]  # a share, not an exposure (its residents are)
    return {e: base[e] for e in EXPOSURES}


def _incidents_per_day(s: RunConfig, exposure: dict[str, np.ndarray]) -> dict[str, float]:
    """Expected incidents per day of each hazard type over exposure totals by kind
    (``rate_scale`` applied)."""
    scale = _finite(s.hazard.rate_scale)
    out = {}
    for name, h in s.catalogue.hazards.items():
        rates = np.array([_finite(v) for v in unit_rates_per_day(h)])
        out[name] = float(rates @ exposure[h.exposure]) * scale if h.exposure in exposure else 0.0
    return out


def _overlap_h(start_h: float, length_h: float, duration_h: float) -> float:
    start, length = _finite(start_h), _finite(length_h)
    return max(0.0, min(start + length, duration_h) - start)


def run_size(s: RunConfig, grids: float, per_day: dict[str, float],
             warning_per_day: Sequence[dict[str, float]],
             weather_per_day: dict[str, float] | None = None) -> RunSize:
    """The expected size of run ``s`` over ``grids`` grids whose hazard types have base rates
    ``per_day`` (expected incidents a day, by hazard type), with ``warning_per_day[i]`` the
    base rates over the grids that warning ``i`` covers and ``weather_per_day`` those over the
    weather's townships (the rain adds :func:`gridsim.model.weather.rain_excess` hours of each
    rain-driven rate there; its steps are scheduled steps)."""
    duration_h = _finite(s.duration_h)
    incidents = sum(per_day.values()) * duration_h / 24.0
    excess_h, weather_steps = rain_excess(s)
    for name, hours in excess_h.items():
        incidents += (weather_per_day or per_day).get(name, 0.0) * hours / 24.0
    for w, rates in zip(s.hazard.warnings, warning_per_day, strict=True):
        hours = _overlap_h(w.start_h, w.duration_h, duration_h)
        for name, mult in w.rate_multipliers.items():
            if name in rates:
                incidents += (_finite(mult) - 1.0) * rates[name] * hours / 24.0
    incidents = max(incidents, 0.0)
    incidents += sum(1 for si in s.hazard.incidents if _finite(si.at_h) < duration_h)
    # peacetime missing: reported by validate; no steps counted here
    step_h = _finite(s.peacetime.step_h) if isinstance(s.peacetime, PeacetimeConfig) else 0.0
    steps_f = duration_h / step_h if step_h > 0 else 0.0
    steps = int(min(steps_f, 1e18)) + 2 * len(s.hazard.warnings) + weather_steps
    log = bool(s.output.events_log)
    memory = incidents * (BYTES_PER_INCIDENT + (BYTES_PER_LOGGED_INCIDENT if log else 0)) \
        + steps * (BYTES_PER_LOGGED_STEP if log else 0)
    cpu = incidents * CPU_S_PER_INCIDENT + steps * grids * CPU_S_PER_GRID_STEP
    events = incidents * EVENTS_PER_INCIDENT + steps * EVENTS_PER_STEP + _reviews(s, duration_h)
    return RunSize(incidents=incidents, steps=steps, grids=grids, events=events,
                   memory_bytes=memory, cpu_s=cpu)


def _reviews(s: RunConfig, duration_h: float) -> float:
    """The township reviews of the run (三级包保, :mod:`gridsim.engine.command`): one SimPy
    event every ``response.command.township_review_min`` while transfers are on."""
    cmd, storm = s.response.command, s.response.storm_work
    period_min = _finite(cmd.township_review_min)
    if not (storm.enabled and (cmd.township_transfer or cmd.county_transfer)) or period_min <= 0:
        return 0.0
    return duration_h * 60.0 / period_min


def config_size(s: RunConfig) -> RunSize | None:
    """The expected size of ``s`` from its settings alone (``None`` for a scenario folder,
    whose grids are known once it is loaded)."""
    exposure = expected_exposure_by_kind(s.scenario)
    if exposure is None:
        return None
    n = float(exposure["grid"].sum())
    n_town = _finite(s.scenario.counties) * _finite(s.scenario.townships_per_county)
    per_day = _incidents_per_day(s, exposure)
    warning_per_day = []
    for w in s.hazard.warnings:
        if w.grids:
            share = len({g for g in w.grids if 0 <= g < n}) / n if n > 0 else 0.0
        elif w.townships and n_town > 0:
            share = len({t for t in w.townships if 0 <= t < n_town}) / n_town
        else:
            share = 1.0
        warning_per_day.append({h: r * share for h, r in per_day.items()})
    towns = {t for t in s.hazard.weather.townships if 0 <= t < n_town}
    share = len(towns) / n_town if towns and n_town > 0 else 1.0
    return run_size(s, n, per_day, warning_per_day, {h: r * share for h, r in per_day.items()})


def loaded_size(s: RunConfig, grids: Grids, warning_grids: Sequence[np.ndarray]) -> RunSize:
    """The expected size of ``s`` on a built scenario's ``grids``, ``warning_grids[i]`` the ids
    of warning ``i``'s grids: the base rates are the run's own
    (:func:`gridsim.model.rates.base_rates_per_day`)."""
    scale = _finite(s.hazard.rate_scale)
    base = {name: base_rates_per_day(unit_rates_per_day(h), h.exposure, grids) * scale
            for name, h in s.catalogue.hazards.items()}
    per_day = {name: float(r.sum()) for name, r in base.items()}
    warning_per_day = [{name: float(r[np.asarray(g, dtype=np.int64)].sum())
                        for name, r in base.items()} for g in warning_grids]
    towns = s.hazard.weather.townships
    rained = np.isin(grids.township, np.asarray(towns, dtype=np.int64)) if towns else None
    weather_per_day = {name: float(r[rained].sum() if rained is not None else r.sum())
                       for name, r in base.items()}
    return run_size(s, float(grids.n), per_day, warning_per_day, weather_per_day)


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
        remedies.append("lengthen peacetime.step_h")
    if not beyond:
        return []
    keys = " or ".join(k.split("(")[1].rstrip(")") for k in beyond)
    return [f"duration_h: this run would simulate {size.describe()}; the ceiling is "
            f"{' and '.join(beyond)}: {', '.join(remedies)}, or raise {keys} on a machine "
            f"with the memory and time"]
