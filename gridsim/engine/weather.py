"""The weather of a run: rainfall per township, the rain-driven rates, forecast warnings.

Built before time 0 from ``hazard.weather`` (:func:`build_weather`, with the pure functions of
:mod:`gridsim.model.weather`): the rainfall series ``rain[township, step]``; for each hazard type
whose catalogue entry has a ``rain`` response, its multiplier per township and step; the times
at which any multiplier changes (dry stretches change nothing, so they add no boundary); and
the warnings the forecast gives, as :class:`~gridsim.model.params.WarningConfig` episodes like
scripted ones.

During the run the one process that changes conditions
(:func:`gridsim.engine.simulation._conditions`) steps it: at each change time
:meth:`RunWeather.apply` sets the rate field's weather multipliers of every grid from its
township's, and the forecast warnings start and end through the same path as scripted warnings
(switch holds, the events log). Stepping inside that one process keeps the rate field exact:
everything that changes rates at a boundary has happened before any arrival process wakes there.

Random streams (new names, so existing streams keep their draws): ``weather/seasonal`` (the
synthetic series) and ``weather/forecast`` (the forecast's errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridsim.engine.hazards import Catalogue, RateField
from gridsim.model.params import RunConfig, WarningConfig, WeatherConfig
from gridsim.model.streams import Streams
from gridsim.model.validate import ConfigError
from gridsim.model.weather import (
    LEVELS,
    RainCsvError,
    chicago_series,
    design_depth_mm,
    forecast_series,
    forecast_warnings,
    huff_series,
    rain_multiplier,
    read_observed_csv,
    seasonal_series,
    trailing_sum,
)
from gridsim.place.scenario import Scenario

__all__ = ["RunWeather", "build_weather", "rainfall"]


@dataclass
class RunWeather:
    """A run's weather, elaborated (see the module docstring)."""

    step_s: float
    rain: np.ndarray  # (townships, steps): mm in each step
    multipliers: list[tuple[int, np.ndarray]]  # (hazard index, (townships, steps))
    change_steps: np.ndarray  # steps at whose start some multiplier changes
    warnings: list[WarningConfig]  # from the forecast (empty without forecast warnings)
    township_of_grid: np.ndarray

    @property
    def times_s(self) -> list[float]:
        """The start times of the change steps (the schedule's weather steps)."""
        return [float(k) * self.step_s for k in self.change_steps.tolist()]

    def apply(self, i: int, field: RateField) -> None:
        """The ``i``-th change: set the rain multipliers of every grid (then ``field.touch``)."""
        k = int(self.change_steps[i])
        for h, m in self.multipliers:
            field.set_weather(h, m[:, k][self.township_of_grid])

    def multiplier_at(self, h: int, township: int, t_s: float) -> float:
        """Hazard ``h``'s rain multiplier in ``township`` at time ``t_s`` (1 if it has none)."""
        k = int(t_s // self.step_s)
        for hh, m in self.multipliers:
            if hh == h:
                return float(m[township, k]) if 0 <= k < m.shape[1] else 1.0
        return 1.0


def _townships(wc: WeatherConfig, n_town: int) -> np.ndarray:
    bad = [t for t in wc.townships if not 0 <= t < n_town]
    if bad:
        raise ConfigError([f"hazard.weather.townships: township id {bad[0]} out of range "
                           f"0..{n_town - 1} of the scenario"])
    return np.unique(np.asarray(wc.townships, dtype=np.int64)) if wc.townships \
        else np.arange(n_town)


def rainfall(settings: RunConfig, scenario: Scenario, streams: Streams) -> np.ndarray:
    """``rain[township, step]`` (mm per step of ``hazard.weather.step_h``) over the run."""
    wc = settings.hazard.weather
    hierarchy = scenario.region.hierarchy
    n_town = hierarchy.n_townships
    step_h = float(wc.step_h)
    n_steps = max(math.ceil(settings.duration_h / step_h - 1e-9), 0)
    towns = _townships(wc, n_town)
    rain = np.zeros((n_town, n_steps))
    if wc.kind == "design":
        d = wc.design
        f = d.formula
        if d.method == "chicago":
            storm = chicago_series(f.a, f.c, f.b, f.n, d.return_period_years, d.duration_h,
                                   d.peak_ratio, step_h)
        else:
            total = float(design_depth_mm(f.a, f.c, f.b, f.n, d.return_period_years,
                                          d.duration_h * 60.0))
            storm = huff_series(total, d.huff_quartile, d.duration_h, step_h)
        k0 = round(d.start_h / step_h)
        k1 = min(k0 + len(storm), n_steps)
        if k0 < n_steps:
            rain[towns, k0:k1] = storm[None, : k1 - k0]
    elif wc.kind == "observed":
        names = {name: i for i, name in enumerate(hierarchy.township_names)}
        try:
            rain = read_observed_csv(wc.observed.path, names, n_town, n_steps, step_h,
                                     wc.observed.start)
        except RainCsvError as exc:
            raise ConfigError([f"hazard.weather.observed.path: {exc}"]) from None
        rain[np.setdiff1d(np.arange(n_town), towns)] = 0.0
    elif wc.kind == "seasonal":
        se = wc.seasonal
        rain = seasonal_series(streams.get("weather/seasonal"), se.start_date, n_steps, step_h,
                               n_town, se.wet_day_probability, se.wet_day_mean_mm,
                               se.daily_sigma, se.storm_hours, se.night_share,
                               se.huff_quartile_probs, se.township_cv, se.max_daily_mm)
        rain[np.setdiff1d(np.arange(n_town), towns)] = 0.0
    return rain


def build_weather(settings: RunConfig, scenario: Scenario, catalogue: Catalogue,
                  streams: Streams) -> RunWeather | None:
    """The run's weather (``None`` for ``hazard.weather.kind: none``)."""
    wc = settings.hazard.weather
    if wc.kind == "none":
        return None
    step_h = float(wc.step_h)
    rain = rainfall(settings, scenario, streams)
    intensity = rain / step_h
    mults: list[tuple[int, np.ndarray]] = []
    for hz in catalogue.hazards:
        rc = settings.catalogue.hazards[hz.name].rain
        if rc.max_multiplier <= 1 or (rc.intensity_threshold_mm_h <= 0
                                      and rc.accumulation_threshold_mm <= 0):
            continue
        acc = trailing_sum(rain, round(rc.accumulation_window_h / step_h))
        mults.append((hz.index, rain_multiplier(
            intensity, acc, rc.intensity_threshold_mm_h, rc.intensity_exponent,
            rc.accumulation_threshold_mm, rc.accumulation_exponent, rc.max_multiplier)))
    n_steps = rain.shape[1]
    changed = np.zeros(n_steps, dtype=bool)
    for _, m in mults:
        prev = np.concatenate([np.ones((m.shape[0], 1)), m[:, :-1]], axis=1)
        changed |= (m != prev).any(axis=0)
    warnings: list[WarningConfig] = []
    fw = wc.warnings
    if fw.enabled:
        forecast = forecast_series(rain, streams.get("weather/forecast"), fw.depth_error_sigma,
                                   fw.timing_error_sd_h, step_h)
        rules = [(fw.thresholds[lv].mm, fw.thresholds[lv].hours) for lv in LEVELS]
        switch_from = LEVELS.index(fw.switch_level) + 1 if fw.switch_level else 99
        leads = [float(fw.lead_time_by_level_h.get(lv, fw.lead_time_h)) for lv in LEVELS]
        for ep in forecast_warnings(forecast, rules, step_h, leads, settings.duration_h,
                                    switch_from, fw.hold_until_lifted):
            warnings.append(WarningConfig(
                name=f"{fw.name}_{ep.name}", level=ep.name, start_h=ep.start_h,
                duration_h=ep.end_h - ep.start_h, townships=list(ep.townships), grids=[],
                rate_multipliers={}, triggers_switch=ep.switches, evacuate=False))
    return RunWeather(step_s=step_h * 3600.0, rain=rain, multipliers=mults,
                      change_steps=np.flatnonzero(changed),
                      warnings=warnings,
                      township_of_grid=np.asarray(scenario.region.grids.township, dtype=np.int64))
