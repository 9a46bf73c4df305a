"""Weather: design storms, observed and seasonal rainfall, rain-driven rates, forecast warnings,
and a rainstorm run (gridsim.model.weather, gridsim.engine.weather)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from handmade import shipped

from gridsim.engine.schedule import Schedule
from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.weather import (
    HUFF_MEDIAN,
    LEVELS,
    RainCsvError,
    chicago_mass,
    chicago_series,
    design_depth_mm,
    forecast_series,
    forecast_warnings,
    huff_series,
    rain_multiplier,
    read_observed_csv,
    seasonal_series,
    storm_intensity_mm_min,
    trailing_sum,
)

#: A storm-intensity formula (a, c, b, n) in the GB 50014 form, as in conf/hazard/rainstorm.yaml.
FORMULA = (10.6, 0.8, 10.0, 0.7)
#: The national rainstorm signals (GB/T 27962): (mm, hours), blue to red.
SIGNALS = [(50.0, 12.0), (50.0, 6.0), (50.0, 3.0), (100.0, 3.0)]


# ----------------------------------------------------------------------------------------------
# design storms
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p_years,duration_h,r,step_h", [
    (50, 24, 0.5, 1.0), (2, 3, 0.4, 1 / 12), (100, 6, 0.35, 0.5), (5, 2.5, 0.6, 1.0)])
def test_chicago_total_is_the_formula_depth_and_the_peak_is_at_r(
        p_years: float, duration_h: float, r: float, step_h: float) -> None:
    a, c, b, n = FORMULA
    steps = chicago_series(a, c, b, n, p_years, duration_h, r, step_h)
    t = duration_h * 60.0
    # the formula's depth for the duration, written out: i(t) t = a (1 + c lg P) t / (t + b)^n
    depth = a * (1 + c * math.log10(p_years)) * t / (t + b) ** n
    assert abs(steps.sum() - depth) < 1e-9
    # the instantaneous intensity is highest at r T: the mass curve's slope there is a/b^n ...
    eps = 1e-4  # minutes
    tp = r * t
    slope = (chicago_mass(a, c, b, n, p_years, t, r, np.array([tp + eps]))
             - chicago_mass(a, c, b, n, p_years, t, r, np.array([tp - eps])))[0] / (2 * eps)
    assert slope == pytest.approx(a * (1 + c * math.log10(p_years)) / b ** n, rel=1e-3)
    # ... and the step holding r T is the wettest
    assert int(np.argmax(steps)) == math.floor(tp / 60.0 / step_h)


def test_chicago_holds_the_formula_depth_in_every_window_around_the_peak() -> None:
    """Keifer & Chu's defining property: the window of duration d split r : 1 - r around the
    peak holds exactly H(d)."""
    a, c, b, n = FORMULA
    T, r = 1440.0, 0.4
    for d in (10.0, 60.0, 180.0, 720.0):
        lo, hi = r * T - r * d, r * T + (1 - r) * d
        got = np.diff(chicago_mass(a, c, b, n, 20, T, r, np.array([lo, hi])))[0]
        assert got == pytest.approx(float(design_depth_mm(a, c, b, n, 20, d)), rel=1e-12)
        assert got == pytest.approx(float(storm_intensity_mm_min(a, c, b, n, 20, d)) * d)


@pytest.mark.parametrize("quartile", [1, 2, 3, 4])
def test_huff_cumulative_ends_at_the_total_and_follows_its_curve(quartile: int) -> None:
    steps = huff_series(123.4, quartile, 10.0, 1.0)
    cum = np.cumsum(steps)
    assert abs(cum[-1] - 123.4) < 1e-9
    assert len(steps) == 10
    # at each tenth of the storm the mass is the tabulated share
    assert np.allclose(cum / 123.4, HUFF_MEDIAN[quartile - 1][1:], atol=1e-12)
    assert (steps >= 0).all()
    # the wettest quarter is the quartile's own
    quarters = [huff_series(1.0, quartile, 4.0, 1.0)]
    assert int(np.argmax(quarters[0])) == quartile - 1


# ----------------------------------------------------------------------------------------------
# rain-driven rates
# ----------------------------------------------------------------------------------------------
def test_rate_multiplier_is_one_without_rain_and_grows_as_configured() -> None:
    zero = np.zeros(5)
    assert (rain_multiplier(zero, zero, 20, 3, 50, 2, 100) == 1).all()
    i = np.array([0.0, 10.0, 20.0, 40.0, 80.0])
    m = rain_multiplier(i, zero, 20, 3, 50, 2, 1e9)
    assert np.allclose(m, 1 + (i / 20) ** 3)  # the base rate added once at the threshold
    acc = np.array([0.0, 25.0, 50.0, 100.0, 400.0])
    m = rain_multiplier(zero, acc, 0, 1, 50, 2, 1e9)  # threshold 0: no intensity term
    assert np.allclose(m, 1 + (acc / 50) ** 2)
    both = rain_multiplier(i, acc, 20, 3, 50, 2, 30.0)
    assert np.allclose(both, np.minimum(1 + (i / 20) ** 3 + (acc / 50) ** 2, 30.0))
    assert (np.diff(both) >= 0).all() and both.max() == 30.0


def test_trailing_sum_is_the_window_rain_and_exactly_zero_after_it() -> None:
    rain = np.array([[0.0, 0.1, 0.2, 0.3, 0.0, 0.0, 0.0, 0.0]])
    s = trailing_sum(rain, 3)
    want = [sum(rain[0, max(0, k - 2):k + 1]) for k in range(8)]
    assert np.allclose(s[0], want)
    assert (s[0, 6:] == 0.0).all()  # the rain has left the window: no rounding dust


# ----------------------------------------------------------------------------------------------
# warnings
# ----------------------------------------------------------------------------------------------
def _crossing_h(rain: np.ndarray, mm: float, hours: float, step_h: float) -> float:
    """The end of the first step whose trailing ``hours`` of rain reach ``mm``, by brute force."""
    w = round(hours / step_h)
    for k in range(len(rain)):
        if rain[max(0, k - w + 1):k + 1].sum() >= mm - 1e-9:
            return (k + 1) * step_h
    return math.inf


@pytest.mark.parametrize("lead_h", [0.0, 2.0, 3.5])
def test_each_level_is_issued_exactly_lead_before_the_forecast_crosses_it(lead_h: float) -> None:
    """A hand-made series that climbs to the red threshold and falls: every level starts
    ``lead_h`` before its own crossing, and the warning ends once no level is ahead."""
    rain = np.zeros(40)
    rain[10:22] = [2, 3, 5, 6, 8, 10, 12, 20, 40, 45, 5, 1]  # mm per hour
    eps = forecast_warnings(rain[None, :], SIGNALS, 1.0, lead_h, 40.0)
    for lev, (mm, hours) in enumerate(SIGNALS, start=1):
        cross = _crossing_h(rain, mm, hours, 1.0)
        assert math.isfinite(cross), LEVELS[lev - 1]
        first = min(e.start_h for e in eps if e.level >= lev)
        assert first == pytest.approx(cross - lead_h), LEVELS[lev - 1]
    # the last hour any level is met (its step ends an hour later) ends the warning
    met = [k for k in range(40) if rain[max(0, k - 11):k + 1].sum() >= 50]
    assert max(e.end_h for e in eps) == pytest.approx(met[-1] + 2.0)
    # pieces of one township never overlap and tile the warning
    eps = sorted(eps, key=lambda e: e.start_h)
    assert all(a.end_h == b.start_h for a, b in itertools.pairwise(eps))


def test_each_level_has_its_own_lead() -> None:
    """With one lead per level (blue and yellow forecast hours ahead, orange and red nowcast),
    each level starts its own lead before its own crossing."""
    rain = np.zeros(40)
    rain[10:22] = [2, 3, 5, 6, 8, 10, 12, 20, 40, 45, 5, 1]
    leads = [3.0, 2.0, 1.0, 0.5]
    eps = forecast_warnings(rain[None, :], SIGNALS, 1.0, leads, 40.0)
    for lev, (mm, hours) in enumerate(SIGNALS, start=1):
        cross = _crossing_h(rain, mm, hours, 1.0)
        first = min(e.start_h for e in eps if e.level >= lev)
        assert first == pytest.approx(cross - leads[lev - 1]), LEVELS[lev - 1]
    with pytest.raises(ValueError, match="3 lead times for 4 levels"):
        forecast_warnings(rain[None, :], SIGNALS, 1.0, leads[:3], 40.0)


def test_a_post_opened_at_orange_stands_until_every_signal_is_lifted() -> None:
    """By level, a post opened at orange stands down when orange falls to yellow; with
    ``hold_until_lifted`` every later piece of the same unbroken run holds it, and a second run
    of signals after a gap starts below orange again (no hold)."""
    rain = np.zeros(60)
    rain[5:12] = [10, 20, 45, 45, 20, 5, 1]
    rain[40:44] = [15, 15, 15, 10]  # a second, weaker spell: 55 mm in 4 h (yellow, not orange)
    orange = 3
    by_level = forecast_warnings(rain[None, :], SIGNALS, 1.0, 0.0, 60.0, orange)
    held = forecast_warnings(rain[None, :], SIGNALS, 1.0, 0.0, 60.0, orange, True)
    assert [(e.level, e.start_h, e.end_h) for e in by_level] == \
        [(e.level, e.start_h, e.end_h) for e in held]  # the same signals
    assert all(e.switches == (e.level >= orange) for e in by_level)
    first = min(e.start_h for e in held if e.level >= orange)
    gap = next(b.start_h for a, b in itertools.pairwise(sorted(held, key=lambda e: e.start_h))
               if b.start_h > a.end_h)
    for e in held:
        assert e.switches == (first <= e.start_h < gap), (e.level, e.start_h)
    assert any(e.switches and e.level < orange for e in held)  # the downgrade holds
    assert any(not e.switches for e in held if e.start_h >= gap)  # the later spell does not


def test_levels_go_up_and_down_with_the_forecast() -> None:
    rain = np.zeros(30)
    rain[5:12] = [10, 20, 45, 45, 20, 5, 1]
    eps = forecast_warnings(rain[None, :], SIGNALS, 1.0, 0.0, 30.0)
    levels = [e.level for e in sorted(eps, key=lambda e: e.start_h)]
    peak = levels.index(4)
    assert levels[:peak + 1] == sorted(levels[:peak + 1])  # upgraded ...
    assert levels[peak:] == sorted(levels[peak:], reverse=True)  # ... then downgraded
    assert levels[-1] == 1  # blue is the last to be lifted


def test_zero_forecast_error_gives_no_false_alarm() -> None:
    """Without error the forecast is the truth: no draw, and every warning's level is met by the
    true rain within the lead; a storm below every threshold gives no warning at all."""
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    rain = np.zeros((3, 48))
    rain[0, 10:16] = 8.0  # 48 mm: below blue
    rain[1, 10:13] = 40.0  # red
    f = forecast_series(rain, rng, 0.0, 0.0, 1.0)
    assert np.array_equal(f, rain) and rng.bit_generator.state == state
    eps = forecast_warnings(f, SIGNALS, 1.0, 3.0, 48.0)
    assert eps and all(e.townships == (1,) for e in eps)
    # with an error the forecast may warn township 0 (a false alarm) or warn late
    noisy = [forecast_warnings(forecast_series(rain, np.random.default_rng(s), 0.5, 2.0, 1.0),
                               SIGNALS, 1.0, 3.0, 48.0) for s in range(40)]
    assert any(any(0 in e.townships for e in eps) for eps in noisy)  # false alarms
    first_red = [min((e.start_h for e in eps if e.level == 4 and 1 in e.townships),
                     default=math.inf) for eps in noisy]
    true_red = min(e.start_h for e in eps if e.level == 4)
    assert any(t > true_red for t in first_red)  # late (or missed) red warnings


def test_forecast_error_is_per_event_and_township() -> None:
    rain = np.zeros((2, 30))
    rain[:, 3:6] = 10.0
    rain[:, 20:22] = 5.0
    f = forecast_series(rain, np.random.default_rng(1), 0.3, 0.0, 1.0)
    for a, b in ((3, 6), (20, 22)):  # one factor per event and township
        ratio = f[:, a:b] / rain[:, a:b]
        assert np.allclose(ratio, ratio[:, :1])
    assert not np.isclose(f[0, 3] / rain[0, 3], f[1, 3] / rain[1, 3])
    assert not np.isclose(f[0, 3] / rain[0, 3], f[0, 20] / rain[0, 20])


# ----------------------------------------------------------------------------------------------
# observed rainfall
# ----------------------------------------------------------------------------------------------
def test_observed_csv_reads_hours_times_ids_and_names(tmp_path: Path) -> None:
    p = tmp_path / "rain.csv"
    p.write_text("hour,township,mm\n0,0,1.5\n2,Anju,4\n3,1,0\n99,0,7\n", encoding="utf-8")
    rain = read_observed_csv(p, {"Anju": 1}, 2, 5, 1.0)
    assert rain.tolist() == [[1.5, 0, 0, 0, 0], [0, 0, 4, 0, 0]]  # hour 99 is beyond the run
    q = tmp_path / "times.csv"
    q.write_text("time,township,mm\n2025-07-01T01:00,0,2\n2025-07-01 03:00,1,3\n")
    rain = read_observed_csv(q, {}, 2, 5, 1.0, start="2025-07-01T00:00")
    assert rain[0, 1] == 2 and rain[1, 3] == 3 and rain.sum() == 5


@pytest.mark.parametrize("text,line,column,what", [
    ("hour,mm\n0,1\n", 1, "", "missing column(s) township"),
    ("hour,township,mm\n0,0,x\n", 2, "mm", "expected a number"),
    ("hour,township,mm\n0,0,1\n1,0,-2\n", 3, "mm", "must be >= 0"),
    ("hour,township,mm\n0,Nowhere,1\n", 2, "township", "unknown township 'Nowhere'"),
    ("hour,township,mm\n0,5,1\n", 2, "township", "out of range 0..1"),
    ("hour,township,mm\n0.5,0,1\n", 2, "hour", "not a multiple of the step"),
    ("hour,township,mm\n1,0,1\n1,0,2\n", 3, "hour", "given twice"),
    ("hour,township,mm\n1,0\n", 2, "", "has 2 fields"),
    ("hour,township,mm\n-1,0,1\n", 2, "hour", "before the run's start"),
    ("", 1, "", "is empty"),
])
def test_observed_csv_errors_name_file_line_and_column(tmp_path: Path, text: str, line: int,
                                                       column: str, what: str) -> None:
    p = tmp_path / "rain.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RainCsvError) as e:
        read_observed_csv(p, {"Anju": 1}, 2, 10, 1.0)
    assert (e.value.line, e.value.column) == (line, column)
    assert what in str(e.value) and str(p) in str(e.value)
    assert str(e.value).startswith(f"{p}: line {line}")


def test_observed_csv_time_column_needs_a_start(tmp_path: Path) -> None:
    p = tmp_path / "rain.csv"
    p.write_text("time,township,mm\n2025-07-01T01:00,0,2\n")
    with pytest.raises(RainCsvError, match=r"needs hazard\.weather\.observed\.start"):
        read_observed_csv(p, {}, 1, 5, 1.0)
    with pytest.raises(RainCsvError, match="ISO 8601"):
        read_observed_csv(p, {}, 1, 5, 1.0, start="July")


# ----------------------------------------------------------------------------------------------
# seasonal rainfall
# ----------------------------------------------------------------------------------------------
#: Monthly statistics as in conf/hazard/suining_2025.yaml (January first).
WET_P = [0.30, 0.30, 0.35, 0.40, 0.45, 0.50, 0.48, 0.42, 0.50, 0.50, 0.35, 0.28]
WET_MM = [1.4, 1.9, 2.9, 5.2, 7.5, 10.3, 13.1, 12.7, 8.0, 3.4, 2.4, 1.4]


def test_seasonal_mean_annual_total_matches_the_statistics() -> None:
    """Over 100 synthetic years the mean annual total lies within 3 % of the statistics'
    expectation Σ_month days × P(wet) × mean wet-day total (the cap at 500 mm takes < 0.5 %;
    the sd of a 100-year mean is about 1.5 %), and the township factors keep the mean."""
    years = 100
    n_steps = 365 * 24 * years
    rain = seasonal_series(np.random.default_rng(11), "2001-01-01", n_steps, 1.0, 3, WET_P,
                           WET_MM, 1.2, [6, 12], 0.6, [0.3, 0.35, 0.2, 0.15], 0.2, 500.0)
    days = np.datetime64("2001-01-01") + np.arange(365 * years)
    month = days.astype("datetime64[M]").astype(int) % 12
    expected = sum(WET_P[m] * WET_MM[m] for m in month) / years
    annual = rain.sum(axis=1) / years
    assert 900 < expected < 1000  # the statistics describe Suining's ~ 930-1000 mm a year
    for a in annual:
        assert abs(a / expected - 1) < 0.03, (a, expected)
    # most of it falls from May to September
    by_month = np.bincount(np.repeat(month, 24), weights=rain[0], minlength=12)
    assert by_month[4:9].sum() / by_month.sum() > 0.6


def test_seasonal_townships_share_storms_scaled() -> None:
    rain = seasonal_series(np.random.default_rng(2), "2025-06-01", 24 * 30, 1.0, 4, WET_P,
                           WET_MM, 1.0, [6, 12], 0.6, [0.25] * 4, 0.3, 500.0)
    wet = rain > 0
    assert (wet == wet[0]).all()  # the same storms at the same hours ...
    assert not np.allclose(rain[0], rain[1])  # ... scaled differently per township


# ----------------------------------------------------------------------------------------------
# the schedule
# ----------------------------------------------------------------------------------------------
def test_schedule_merges_weather_steps_and_starts_before_ends() -> None:
    s = Schedule(6 * 3600.0, [(3600.0, 7200.0), (7200.0, 9000.0)], 30000.0,
                 [0.0, 3600.0, 5400.0])
    items = [(t, a, p) for t, _, a, p in s]
    assert items[:5] == [(0.0, "weather_step", 0), (3600.0, "weather_step", 1),
                         (3600.0, "warning_start", 0), (5400.0, "weather_step", 2),
                         (7200.0, "warning_start", 1)]
    assert items[5] == (7200.0, "warning_end", 0)  # the next one holds before this releases
    assert s.is_boundary(5400.0) and s.next_boundary(3600.0) == 5400.0
    assert s.next_boundary(9000.0) == 6 * 3600.0


# ----------------------------------------------------------------------------------------------
# a rainstorm run
# ----------------------------------------------------------------------------------------------
FLOODS = ("waterlogging", "flash_flood", "landslide")


def test_rainstorm_raises_flood_incidents_and_warned_grids_switch_before_the_peak() -> None:
    """`hazard=rainstorm_day scenario=small`: the day-long design storm runs from hour 28 for
    24 h, peaking at hour 40. Per seed, more flood-type incidents fall in the storm's day than
    in the day before it, and more than in the same day of the same seed without weather; every
    grid of the storm's townships has switched (a forecast warning) before the peak."""
    base = ("scenario=small", "hazard=rainstorm_day", "duration_h=52", "output.figures=false",
            "output.progress=false", "output.events_log=false")
    storm_s = shipped(*base)
    dry_s = shipped(*base, "hazard.weather.kind=none")
    wet_total = dry_total = before_total = 0
    for seed in (1, 2, 3):
        wet = simulate(dataclasses.replace(storm_s, seed=seed))
        dry = simulate(dataclasses.replace(dry_s, seed=seed))

        wet_total += floods(wet, 28, 52)
        before_total += floods(wet, 4, 28)
        dry_total += floods(dry, 28, 52)
        # the same incidents before the rain: common random numbers
        assert floods(wet, 0, 28) == floods(dry, 0, 28)
        warnings = [w for w in wet.settings.hazard.warnings if w.name.startswith("rainstorm_")]
        assert warnings and min(w.start_h for w in warnings) < 40
        sw = wet.ctx.switch
        warned = set(wet.scenario.region.township_grids([0, 1, 2, 3]).tolist())
        switched = {g for g, t, why in zip(sw.ep_grid, sw.ep_trigger_s, sw.ep_reason,
                                           strict=True)
                    if t < 40 * 3600 and why.startswith("warning rainstorm_")}
        assert warned <= switched, sorted(warned - switched)[:5]
    assert wet_total > 3 * max(before_total, dry_total, 1), (wet_total, before_total, dry_total)


def floods(r: RunResult, lo_h: float, hi_h: float) -> int:
    """Flood-type incidents of run ``r`` in ``[lo_h, hi_h)``."""
    return sum(1 for i in r.incidents if i.hazard in FLOODS
               and lo_h * 3600 <= i.occurred_s < hi_h * 3600)
