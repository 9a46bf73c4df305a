"""Rainfall per township, its effect on hazard rates, and rainstorm warnings from a forecast.

Pure numpy (no SimPy): the engine (:mod:`gridsim.engine.weather`) builds a run's weather from
these functions before time 0 and steps it during the run. A rainfall series is an array
``rain[township, step]`` of millimetres fallen in each step of ``step_h`` hours (so the
intensity in mm/h is ``rain / step_h``). Sources of every formula: ``docs/weather.md``.

* **Design storms.** The storm-intensity formula of the Chinese standard form (暴雨强度公式,
  GB 50014-2021 室外排水设计标准 §4.1): ``i = A (1 + C lg P) / (t + b)^n``, ``i`` in mm/min for a
  rainfall lasting ``t`` minutes of return period ``P`` years, so the depth of the ``t`` most
  intense minutes is ``H(t) = i(t) t``.

  - *Chicago* (Keifer & Chu 1957): the hyetograph whose every window of duration ``t`` centred on
    the peak (split ``r : 1 - r``) holds exactly ``H(t)``. Its mass curve from the storm's start,
    peak at ``t_p = r T``: ``D(t) = r H(T) - r H((t_p - t) / r)`` before the peak and
    ``D(t) = r H(T) + (1 - r) H((t - t_p) / (1 - r))`` after it; ``D(T) = H(T)``.
  - *Huff* (Huff 1967): the storm's depth ``H(T)`` spread by one of the four dimensionless median
    mass curves (first- to fourth-quartile storms), :data:`HUFF_MEDIAN`.

* **Observed** rainfall: a CSV of hourly totals, :func:`read_observed_csv`.
* **Seasonal**: many days of synthetic weather from rainy-season statistics,
  :func:`seasonal_series`.
* **Rate response**: :func:`rain_multiplier` from the intensity and the rainfall accumulated over
  a trailing window (:func:`trailing_sum`).
* **Warnings** (the national rainstorm signals, GB/T 27962-2011 / CMA 气象灾害预警信号): from a
  forecast series (:func:`forecast_series`: the true series with a lognormal depth error and a
  timing error per rain event and township), :func:`forecast_warnings` gives episodes of constant
  level over sets of townships, each issued ``lead_h`` before the forecast crosses its threshold.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gridsim.model.params import RunConfig

__all__ = [
    "HUFF_MEDIAN",
    "LEVELS",
    "Episode",
    "RainCsvError",
    "chicago_mass",
    "chicago_series",
    "design_depth_mm",
    "forecast_series",
    "forecast_warnings",
    "huff_series",
    "level_series",
    "rain_events",
    "rain_excess",
    "rain_multiplier",
    "read_observed_csv",
    "seasonal_series",
    "storm_intensity_mm_min",
    "trailing_sum",
]

#: Warning levels from lowest to highest (index + 1 is the level number; 0 is no warning).
LEVELS = ("blue", "yellow", "orange", "red")

#: Huff's median (50 % probability) dimensionless mass curves: cumulative share of the storm's
#: rainfall at 0, 10, ..., 100 % of its duration, for storms whose heaviest rain falls in the
#: first to fourth quarter (Huff, F. A. 1967, "Time distribution of rainfall in heavy storms",
#: Water Resources Research 3(4): 1007-1019; the median curves as tabulated for design use by
#: the Illinois State Water Survey, Huff 1990, ISWS Circular 173).
HUFF_MEDIAN = np.array([
    [0.00, 0.33, 0.52, 0.66, 0.75, 0.82, 0.88, 0.92, 0.95, 0.98, 1.00],
    [0.00, 0.08, 0.16, 0.29, 0.51, 0.70, 0.81, 0.88, 0.93, 0.97, 1.00],
    [0.00, 0.05, 0.11, 0.18, 0.27, 0.39, 0.58, 0.76, 0.87, 0.95, 1.00],
    [0.00, 0.04, 0.09, 0.14, 0.20, 0.28, 0.38, 0.51, 0.69, 0.88, 1.00],
])
_HUFF_X = np.linspace(0.0, 1.0, HUFF_MEDIAN.shape[1])


class RainCsvError(ValueError):
    """A rainfall CSV that cannot be read: ``where`` is ``file:line`` (and column)."""

    def __init__(self, path: str | Path, line: int, column: str, message: str) -> None:
        self.path, self.line, self.column = str(path), line, column
        col = f", column {column!r}" if column else ""
        super().__init__(f"{path}: line {line}{col}: {message}")


# ----------------------------------------------------------------------------------------------
# design storms
# ----------------------------------------------------------------------------------------------
def storm_intensity_mm_min(a: float, c: float, b: float, n: float, p_years: float,
                           t_min: np.ndarray | float) -> np.ndarray | float:
    """Mean intensity (mm/min) of the ``t_min`` most intense minutes of a storm of return period
    ``p_years``: ``A (1 + C lg P) / (t + b)^n``."""
    return a * (1.0 + c * math.log10(p_years)) / (np.asarray(t_min, dtype=float) + b) ** n


def design_depth_mm(a: float, c: float, b: float, n: float, p_years: float,
                    t_min: np.ndarray | float) -> np.ndarray | float:
    """Depth (mm) of the ``t_min`` most intense minutes: ``H(t) = i(t) t``."""
    t = np.asarray(t_min, dtype=float)
    return storm_intensity_mm_min(a, c, b, n, p_years, t) * t


def chicago_mass(a: float, c: float, b: float, n: float, p_years: float, duration_min: float,
                 peak_ratio: float, t_min: np.ndarray) -> np.ndarray:
    """Cumulative depth (mm) of a Chicago storm at ``t_min`` minutes after its start."""
    if not 0.0 < peak_ratio < 1.0:
        raise ValueError(f"peak_ratio must lie strictly between 0 and 1, got {peak_ratio}")
    r, T = peak_ratio, float(duration_min)
    t = np.clip(np.asarray(t_min, dtype=float), 0.0, T)
    tp = r * T
    total_before = r * design_depth_mm(a, c, b, n, p_years, T)
    before = total_before - r * design_depth_mm(a, c, b, n, p_years, np.maximum(tp - t, 0) / r)
    after = total_before + (1 - r) * design_depth_mm(a, c, b, n, p_years,
                                                     np.maximum(t - tp, 0) / (1 - r))
    return np.where(t <= tp, before, after)


def chicago_series(a: float, c: float, b: float, n: float, p_years: float, duration_h: float,
                   peak_ratio: float, step_h: float) -> np.ndarray:
    """Millimetres in each step of ``step_h`` of a Chicago storm of ``duration_h`` (the last
    step may be partial)."""
    edges_h = _edges(duration_h, step_h)
    return np.diff(chicago_mass(a, c, b, n, p_years, duration_h * 60.0, peak_ratio,
                                edges_h * 60.0))


def huff_series(total_mm: float, quartile: int, duration_h: float, step_h: float) -> np.ndarray:
    """Millimetres in each step of a storm of ``total_mm`` shaped by Huff's median curve of
    ``quartile`` (1-4), linear between the tabulated tenths."""
    edges_h = _edges(duration_h, step_h)
    share = np.interp(edges_h / duration_h, _HUFF_X, HUFF_MEDIAN[quartile - 1])
    return np.diff(share) * total_mm


def _edges(duration_h: float, step_h: float) -> np.ndarray:
    k = math.ceil(duration_h / step_h - 1e-9)
    return np.minimum(np.arange(k + 1) * step_h, duration_h)


# ----------------------------------------------------------------------------------------------
# observed rainfall
# ----------------------------------------------------------------------------------------------
def read_observed_csv(path: str | Path, townships: Mapping[str, int], n_townships: int,
                      n_steps: int, step_h: float, start: str = "") -> np.ndarray:
    """``rain[township, step]`` (mm) from a CSV with the columns ``hour`` (hours after the run's
    start, a multiple of ``step_h``) or ``time`` (ISO 8601, after ``start``), ``township`` (an
    id or a name in ``townships``) and ``mm`` (the rainfall of the step that begins then).
    Rows beyond the run are ignored; a (time, township) given twice, a negative or missing value,
    an unknown township and a time off the step grid are errors naming file, line and column."""
    path = Path(path)
    rain = np.zeros((n_townships, n_steps))
    seen: set[tuple[int, int]] = set()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RainCsvError(path, 0, "", f"cannot be read ({exc.strerror or exc})") from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None:
        raise RainCsvError(path, 1, "", "is empty; expected a header: hour,township,mm")
    cols = [h.strip() for h in header]
    time_col = "hour" if "hour" in cols else "time" if "time" in cols else ""
    missing = [c for c in ("township", "mm") if c not in cols] + ([] if time_col else ["hour"])
    if missing:
        raise RainCsvError(path, 1, "", f"missing column(s) {', '.join(missing)}; expected "
                           "hour (or time), township, mm")
    it, itown, imm = cols.index(time_col), cols.index("township"), cols.index("mm")
    t0 = _datetime(start, path, 1, "time") if time_col == "time" else None
    if time_col == "time" and t0 is None:
        raise RainCsvError(path, 1, "time", "a 'time' column needs hazard.weather.observed.start "
                           "(the run's start, ISO 8601)")
    for line_no, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(cols):
            raise RainCsvError(path, line_no, "", f"has {len(row)} fields, the header {len(cols)}")
        if time_col == "hour":
            hour = _number(row[it], path, line_no, "hour")
        else:
            when = _datetime(row[it], path, line_no, "time")
            assert t0 is not None and when is not None
            hour = float((when - t0) / np.timedelta64(1, "s")) / 3600.0
        if hour < 0:
            raise RainCsvError(path, line_no, time_col, f"is before the run's start ({hour:g} h)")
        k = round(hour / step_h)
        if abs(k * step_h - hour) > 1e-6:
            raise RainCsvError(path, line_no, time_col,
                               f"{hour:g} h is not a multiple of the step {step_h:g} h")
        name = row[itown].strip()
        town = townships.get(name)
        if town is None and name.lstrip("-").isdigit():
            town = int(name)
            if not 0 <= town < n_townships:
                raise RainCsvError(path, line_no, "township",
                                   f"township id {town} out of range 0..{n_townships - 1}")
        if town is None:
            raise RainCsvError(path, line_no, "township",
                               f"unknown township {name!r}; expected an id 0..{n_townships - 1}"
                               " or a township name of the scenario")
        mm = _number(row[imm], path, line_no, "mm")
        if mm < 0:
            raise RainCsvError(path, line_no, "mm", f"must be >= 0, got {mm:g}")
        if (k, town) in seen:
            raise RainCsvError(path, line_no, time_col,
                               f"township {name!r} at {hour:g} h is given twice")
        seen.add((k, town))
        if k < n_steps:
            rain[town, k] = mm
    return rain


def _number(cell: str, path: Path, line: int, column: str) -> float:
    try:
        v = float(cell)
    except ValueError:
        raise RainCsvError(path, line, column, f"expected a number, got {cell.strip()!r}") from None
    if not math.isfinite(v):
        raise RainCsvError(path, line, column, f"expected a finite number, got {cell.strip()!r}")
    return v


def _datetime(cell: str, path: Path, line: int, column: str) -> np.datetime64 | None:
    if not cell.strip():
        return None
    try:
        return np.datetime64(cell.strip().replace(" ", "T"), "s")
    except ValueError:
        raise RainCsvError(path, line, column,
                           f"expected an ISO 8601 time (2025-07-01T06:00), got {cell.strip()!r}"
                           ) from None


# ----------------------------------------------------------------------------------------------
# seasonal weather
# ----------------------------------------------------------------------------------------------
def seasonal_series(rng: np.random.Generator, start_date: str, n_steps: int, step_h: float,
                    n_townships: int, wet_probability: Sequence[float],
                    wet_mean_mm: Sequence[float], daily_sigma: float,
                    storm_hours: Sequence[float], night_share: float,
                    quartile_probs: Sequence[float], township_cv: float,
                    max_daily_mm: float) -> np.ndarray:
    """``rain[township, step]`` for ``n_steps`` steps from ``start_date`` (midnight).

    Each day is wet with the probability of its month (``wet_probability[month - 1]``). A wet
    day's city-wide storm has a lognormal total of mean ``wet_mean_mm[month - 1]`` and log-sd
    ``daily_sigma`` (heavy-tailed), capped at ``max_daily_mm``; it lasts a whole number of hours
    drawn uniformly from ``storm_hours`` ``[low, high]``, starts at night (20:00-06:00) with
    probability ``night_share`` (else by day) at a uniform hour, and is shaped by the Huff median
    curve of a quartile drawn with ``quartile_probs``. Each township receives the storm times a
    lognormal factor of mean 1 and coefficient of variation ``township_cv`` (a common storm
    scaled per township). A storm running past midnight spills into the next day. Draws, in this
    order, from ``rng``: wet days, totals, durations, start hours, quartiles, township factors."""
    n_days = math.ceil(n_steps * step_h / 24.0) if n_steps else 0
    days = np.datetime64(start_date, "D") + np.arange(n_days)
    month = (days.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)
    wet = rng.random(n_days) < np.asarray(wet_probability, dtype=float)[month]
    idx = np.flatnonzero(wet)
    m = len(idx)
    mean = np.asarray(wet_mean_mm, dtype=float)[month[idx]]
    s2 = daily_sigma ** 2
    total = np.minimum(mean * np.exp(daily_sigma * rng.standard_normal(m) - s2 / 2.0),
                       max_daily_mm)
    lo, hi = round(storm_hours[0]), round(storm_hours[1])
    dur = rng.integers(lo, hi + 1, size=m)
    night = rng.random(m) < night_share
    u = rng.random(m)
    start_h = np.where(night, (20.0 + np.floor(u * 10.0)) % 24.0, 6.0 + np.floor(u * 14.0))
    quartile = rng.choice(4, size=m, p=np.asarray(quartile_probs, dtype=float)) + 1
    cv2 = township_cv ** 2
    tsig = math.sqrt(math.log1p(cv2))
    factors = np.exp(tsig * rng.standard_normal((m, n_townships)) - tsig ** 2 / 2.0)
    rain = np.zeros((n_townships, n_steps))
    for j in range(m):
        t0 = idx[j] * 24.0 + start_h[j]
        steps = huff_series(float(total[j]), int(quartile[j]), float(dur[j]), step_h)
        k0 = round(t0 / step_h)
        k1 = min(k0 + len(steps), n_steps)
        if k0 >= n_steps:
            continue
        rain[:, k0:k1] += factors[j][:, None] * steps[None, : k1 - k0]
    return rain


# ----------------------------------------------------------------------------------------------
# rates and accumulation
# ----------------------------------------------------------------------------------------------
def trailing_sum(rain: np.ndarray, window_steps: int) -> np.ndarray:
    """Rain over the last ``window_steps`` steps ending with each step (inclusive), per row.
    Exact zero where the window holds no rain (differences of equal cumulative sums)."""
    w = max(int(window_steps), 1)
    c = np.cumsum(rain, axis=-1)
    out = c.copy()
    out[..., w:] -= c[..., :-w]
    out[np.abs(out) < 1e-12] = 0.0  # no rounding dust after the rain has left the window
    return out


def rain_multiplier(intensity_mm_h: np.ndarray, accumulation_mm: np.ndarray,
                    intensity_threshold: float, intensity_exponent: float,
                    accumulation_threshold: float, accumulation_exponent: float,
                    max_multiplier: float) -> np.ndarray:
    """``min(max, 1 + (I / I_t)^a + (R / R_t)^b)``: 1 without rain, the base rate added once at
    each threshold, steeper above it for exponents > 1; a threshold of 0 switches its term off."""
    m = np.ones(np.broadcast(intensity_mm_h, accumulation_mm).shape)
    if intensity_threshold > 0:
        m += (np.maximum(intensity_mm_h, 0.0) / intensity_threshold) ** intensity_exponent
    if accumulation_threshold > 0:
        m += (np.maximum(accumulation_mm, 0.0) / accumulation_threshold) ** accumulation_exponent
    return np.minimum(m, max(max_multiplier, 1.0))


# ----------------------------------------------------------------------------------------------
# forecast and warnings
# ----------------------------------------------------------------------------------------------
def rain_events(rain: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs ``[start, end)`` of steps in which any township has rain."""
    wet = np.asarray(rain).max(axis=0) > 0 if rain.size else np.zeros(0, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], wet.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def forecast_series(rain: np.ndarray, rng: np.random.Generator, depth_sigma: float,
                    timing_sd_h: float, step_h: float) -> np.ndarray:
    """The forecast of ``rain``: each rain event (:func:`rain_events`) of each township times a
    lognormal factor of median 1 and log-sd ``depth_sigma``, shifted by a normal error of sd
    ``timing_sd_h`` (whole steps; later when positive). With both 0 it is ``rain`` itself and
    draws nothing."""
    if depth_sigma <= 0 and timing_sd_h <= 0:
        return rain.copy()
    n_town, n_steps = rain.shape
    out = np.zeros_like(rain)
    rows = np.arange(n_town)[:, None]
    for a, b in rain_events(rain):
        f = np.exp(depth_sigma * rng.standard_normal(n_town)) if depth_sigma > 0 \
            else np.ones(n_town)
        shift = (np.rint(timing_sd_h * rng.standard_normal(n_town) / step_h).astype(np.int64)
                 if timing_sd_h > 0 else np.zeros(n_town, dtype=np.int64))
        cols = np.arange(a, b)[None, :] + shift[:, None]
        ok = (cols >= 0) & (cols < n_steps)
        vals = rain[:, a:b] * f[:, None]
        np.add.at(out, (np.broadcast_to(rows, cols.shape)[ok], cols[ok]), vals[ok])
    return out


def level_series(rain: np.ndarray, thresholds: Sequence[tuple[float, float]],
                 step_h: float) -> np.ndarray:
    """The warning level (0: none, 1-4: :data:`LEVELS`) met at the end of each step: the highest
    level ``i`` whose rainfall over the last ``thresholds[i][1]`` hours reaches
    ``thresholds[i][0]`` mm (one threshold per level, blue first)."""
    level = np.zeros(rain.shape, dtype=np.int8)
    for i, (mm, hours) in enumerate(thresholds):
        met = trailing_sum(rain, round(hours / step_h)) >= mm - 1e-9
        level[met] = i + 1  # later (higher) levels overwrite
    return level


@dataclass(frozen=True)
class Episode:
    """A warning of one level over some townships for ``[start_h, end_h)``."""

    level: int  # 1-4: LEVELS[level - 1]
    townships: tuple[int, ...]
    start_h: float
    end_h: float
    switches: bool = False  # whether it holds its grids in forward command (see forecast_warnings)

    @property
    def name(self) -> str:
        return LEVELS[self.level - 1]


def forecast_warnings(forecast: np.ndarray, thresholds: Sequence[tuple[float, float]],
                      step_h: float, lead_h: float | Sequence[float], until_h: float,
                      switch_level: int = 99, hold_until_lifted: bool = False
                      ) -> list[Episode]:
    """Warning episodes from a forecast ``forecast[township, step]``.

    The forecast level of step ``k`` (:func:`level_series`) holds from the end of the step,
    ``e_k = (k + 1) step_h``, for one step. The warning in force at ``t`` is the highest level
    ``L`` whose forecast crossing lies within ``[t, t + lead_L]``: so a level is issued exactly
    its lead before the forecast first crosses its threshold, upgraded and downgraded as the
    levels ahead change, and lifted once no level is ahead. ``lead_h`` is one lead for every
    level or one per level (blue, yellow, orange, red). Times are clipped to ``[0, until_h)``.

    ``switches``: a piece of level ``switch_level`` (1-4) or above holds its grids in forward
    command; with ``hold_until_lifted``, so does every later piece of the same township's
    unbroken run of signals (the post, once open, stands until every signal is lifted, not only
    until the level falls below ``switch_level``). Townships with the same warning in the same
    interval share an episode; episodes are ordered by start, level, townships."""
    levels = level_series(forecast, thresholds, step_h)
    n_lev = len(thresholds)
    leads = [float(lead_h)] * n_lev if isinstance(lead_h, (int, float)) else \
        [float(x) for x in lead_h]
    if len(leads) != n_lev:
        raise ValueError(f"{len(leads)} lead times for {n_lev} levels")
    found: dict[tuple[int, float, float, bool], list[int]] = {}
    for town in range(levels.shape[0]):
        held = False
        prev_end = -math.inf
        for lev, a, b in _town_segments(levels[town], step_h, leads, until_h):
            if a > prev_end:  # a new run of signals
                held = False
            held = lev >= switch_level or (held and hold_until_lifted)
            prev_end = b
            found.setdefault((lev, a, b, held), []).append(town)
    eps = [Episode(level=lev, townships=tuple(towns), start_h=a, end_h=b, switches=sw)
           for (lev, a, b, sw), towns in found.items()]
    return sorted(eps, key=lambda e: (e.start_h, e.level, e.townships, e.switches))


def _town_segments(levels: np.ndarray, step_h: float, leads: Sequence[float], until_h: float
                   ) -> list[tuple[int, float, float]]:
    """Pieces ``(level, start_h, end_h)`` of constant warning level > 0 for one township."""
    if not levels.any():
        return []
    # for each level, the union of [e_k - lead, e_k + step) over steps at or above it
    spans: list[list[tuple[float, float]]] = []
    for lev in range(1, int(levels.max()) + 1):
        on = np.concatenate([[0], (levels >= lev).astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(on))
        merged: list[tuple[float, float]] = []
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            lo, hi = (a + 1) * step_h - leads[lev - 1], b * step_h + step_h
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        spans.append(merged)
    cuts = sorted({float(max(min(t, until_h), 0.0)) for sp in spans for ab in sp for t in ab})
    out: list[tuple[int, float, float]] = []
    for a, b in itertools.pairwise(cuts):
        if b <= a:
            continue
        mid = 0.5 * (a + b)
        lev = max((k + 1 for k, sp in enumerate(spans) if any(lo <= mid < hi for lo, hi in sp)),
                  default=0)
        if lev == 0:
            continue
        if out and out[-1][0] == lev and out[-1][2] == a:
            out[-1] = (lev, out[-1][1], b)
        else:
            out.append((lev, a, b))
    return out


# ----------------------------------------------------------------------------------------------
# run-size estimate (gridsim.model.budget)
# ----------------------------------------------------------------------------------------------
#: The seed of the one seasonal series the run-size estimate draws (its own generator: the run's
#: streams are not touched; the estimate is an expectation, not the run's own weather).
ESTIMATE_SEED = 20250718


def rain_excess(s: RunConfig) -> tuple[dict[str, float], int]:
    """For the run-size estimate: per rain-driven hazard type, the hours of extra base rate the
    weather adds in a township it covers (``Σ_k (m_k - 1) step_h``), and the number of weather
    steps. A design storm gives them exactly; a seasonal series from one draw of its statistics
    (:data:`ESTIMATE_SEED`; townships at their mean factor 1); observed rainfall, not read before
    the run, is bounded by ``max_multiplier`` over the run. Values that validation reports give
    no estimate (zeros)."""
    wc = s.hazard.weather
    try:
        step_h = float(wc.step_h)
        duration_h = float(s.duration_h)
        if wc.kind == "none" or not (step_h > 0 and 0 < duration_h < 1e9):
            return {}, 0
        n_steps = math.ceil(duration_h / step_h - 1e-9)
        if wc.kind == "observed":
            out = {name: (max(h.rain.max_multiplier, 1.0) - 1.0) * duration_h
                   for name, h in s.catalogue.hazards.items()}
            return out, n_steps
        if wc.kind == "design":
            d, f = wc.design, wc.design.formula
            if d.method == "chicago":
                storm = chicago_series(f.a, f.c, f.b, f.n, d.return_period_years, d.duration_h,
                                       d.peak_ratio, step_h)
            else:
                storm = huff_series(float(design_depth_mm(f.a, f.c, f.b, f.n,
                                                          d.return_period_years,
                                                          d.duration_h * 60.0)),
                                    d.huff_quartile, d.duration_h, step_h)
            k0 = round(d.start_h / step_h)
            rain = np.zeros((1, n_steps))
            if k0 < n_steps:
                rain[0, k0:k0 + len(storm)] = storm[: n_steps - k0]
        else:
            se = wc.seasonal
            rain = seasonal_series(np.random.default_rng(ESTIMATE_SEED), se.start_date, n_steps,
                                   step_h, 1, se.wet_day_probability, se.wet_day_mean_mm,
                                   se.daily_sigma, se.storm_hours, se.night_share,
                                   se.huff_quartile_probs, 0.0, se.max_daily_mm)
        out, changed = {}, np.zeros(n_steps, dtype=bool)
        for name, h in s.catalogue.hazards.items():
            rc = h.rain
            if rc.max_multiplier <= 1:
                continue
            m = rain_multiplier(rain / step_h,
                                trailing_sum(rain, round(rc.accumulation_window_h / step_h)),
                                rc.intensity_threshold_mm_h, rc.intensity_exponent,
                                rc.accumulation_threshold_mm, rc.accumulation_exponent,
                                rc.max_multiplier)[0]
            out[name] = float((m - 1.0).sum() * step_h)
            changed |= m != np.concatenate([[1.0], m[:-1]])
        return out, int(changed.sum())
    except (TypeError, ValueError, IndexError, OverflowError, KeyError, AttributeError):
        return {}, 0
