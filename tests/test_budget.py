"""Run-size estimates and ceilings (gridsim.model.budget), the lazy schedule of known changes
(gridsim.engine.schedule) and time-based progress lines (gridsim.engine.simulation._progress).

Micro tests: parameters built by hand (tests/params.py), no Hydra; progress with a fake clock,
never wall time.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
import simpy

from gridsim.engine.schedule import Schedule
from gridsim.engine.simulation import _availability, _progress, _schedule, simulate
from gridsim.model import budget
from gridsim.model.params import KindConfig, RunConfig, WarningConfig
from gridsim.model.validate import validate
from tests.grids_by_hand import grids_by_hand
from tests.params import add_incident, add_warning, changed, one_grid

# ----------------------------------------------------------------------------------------------
# the estimate against the formula: a Poisson process's expected count is rate × time
# ----------------------------------------------------------------------------------------------


def test_expected_incidents_are_rate_times_grids_times_time() -> None:
    s = one_grid(2, duration_h=240.0, rate_per_day=3.0)
    size = budget.config_size(s)
    assert size is not None
    assert size.incidents == pytest.approx(3.0 * 1 * 10.0)  # 3 a day, 1 grid, 10 days
    assert size.steps == 240 // 6  # one peacetime step every 6 h (PeaceWorkConfig default)
    assert size.grids == 1


def test_rate_scale_warnings_and_scripted_incidents_enter_the_estimate() -> None:
    s = one_grid(2, duration_h=240.0, rate_per_day=3.0)
    s = changed(s, {"hazard.rate_scale": 2.0})
    s = add_warning(s, start_h=230.0, duration_h=24.0)  # 10 of its 24 hours fall in the run
    s = changed(s, {"hazard.warnings": [dataclasses.replace(s.hazard.warnings[0],
                                                            rate_multipliers={"test": 5.0})]})
    s = add_incident(s, "test", 0, at_h=1.0)
    s = add_incident(s, "test", 0, at_h=300.0)  # after the end: never happens
    size = budget.config_size(s)
    assert size is not None
    base = 3.0 * 2.0 * 10.0
    extra = (5.0 - 1.0) * 3.0 * 2.0 * 10.0 / 24.0
    assert size.incidents == pytest.approx(base + extra + 1)
    assert size.steps == 240 // 6 + 2


def test_synthetic_grids_are_shared_among_kinds_by_weight() -> None:
    """100 urban grids, kinds weighted 3:1, and 10 rural grids: 75, 25 and 10 expected; a
    warning over one of two townships covers half of them."""
    s = changed(one_grid(2, duration_h=48.0, rate_per_day=0.0), {
        "scenario.urban_grids": 100, "scenario.rural_grids": 10,
        "scenario.townships_per_county": 2,
        "scenario.kinds": {
            "urban_community": KindConfig(zone="urban", weight=3.0, population=2000.0),
            "commercial": KindConfig(zone="urban", weight=1.0, population=500.0),
            "rural": KindConfig(zone="rural", weight=1.0, population=300.0)},
        "catalogue.hazards.test.rate_per_grid_day": {"urban_community": 0.01,
                                                     "commercial": 0.04, "rural": 0.1},
        "hazard.warnings": [WarningConfig(name="w", level="red", start_h=0.0, duration_h=12.0,
                                          townships=[1], rate_multipliers={"test": 11.0})]})
    sc = s.scenario
    counts = budget.expected_kind_counts(sc)
    assert counts is not None
    from gridsim.model.vocab import GRID_KINDS

    assert {k: counts[GRID_KINDS.index(k)] for k in ("urban_community", "commercial", "rural")} \
        == {"urban_community": 75.0, "commercial": 25.0, "rural": 10.0}
    per_day = 75 * 0.01 + 25 * 0.04 + 10 * 0.1  # 2.75
    size = budget.config_size(s)
    assert size is not None
    assert size.incidents == pytest.approx(per_day * 2 + 10.0 * per_day * 0.5 * 0.5)


def test_a_scenario_folder_is_estimated_once_loaded() -> None:
    s = changed(one_grid(2, duration_h=48.0, rate_per_day=1.0), {"scenario.generator": "files"})
    assert budget.config_size(s) is None
    assert budget.size_errors(s) == []
    grids = grids_by_hand(["urban_community"] * 3 + ["rural"])  # three urban, one rural
    size = budget.loaded_size(s, grids, [])
    assert size.incidents == pytest.approx(3 * 1.0 * 2)  # the test hazard: urban only


@pytest.mark.slow
def test_the_estimate_matches_the_mean_count_of_runs() -> None:
    """40 replications of a one-grid run with a warning that raises the rate fivefold: the
    mean count lies within 4 standard errors of the estimate (Poisson: variance = mean)."""
    s = one_grid(50, duration_h=96.0, rate_per_day=2.0, handling=None)
    s = add_warning(s, start_h=24.0, duration_h=24.0)
    s = changed(s, {"hazard.warnings": [dataclasses.replace(
        s.hazard.warnings[0], rate_multipliers={"test": 5.0}, triggers_switch=False)]})
    size = budget.config_size(s)
    assert size is not None
    expected = 2.0 * 4 + 4.0 * 2.0 * 1  # 8 over the run, 8 more in the warned day
    assert size.incidents == pytest.approx(expected)
    n = 40
    counts = [len(simulate(dataclasses.replace(s, replication=r)).incidents) for r in range(n)]
    se = math.sqrt(expected / n)
    assert abs(float(np.mean(counts)) - expected) < 4 * se, (np.mean(counts), expected)


# ----------------------------------------------------------------------------------------------
# refusals: before the run, in validate, with the estimate and the ceiling
# ----------------------------------------------------------------------------------------------


def _lasting(duration_h: float, rate_per_day: float) -> RunConfig:
    s = one_grid(2, duration_h=48.0, rate_per_day=rate_per_day)  # (one_grid validates)
    return dataclasses.replace(s, duration_h=duration_h)


def _number(text: str, before: str) -> float:
    """The number (``4.2e10``, ``1,234``, ``190``) just before ``before`` in ``text``."""
    m = re.search(r"([0-9][0-9,]*(?:\.[0-9]+)?(?:e[0-9]+)?) " + re.escape(before), text)
    assert m, (before, text)
    return float(m.group(1).replace(",", ""))


def test_a_run_beyond_the_incident_ceiling_is_refused_with_the_estimate() -> None:
    errors = validate(_lasting(1e12, 1.0))
    assert len(errors) == 1
    line = errors[0]
    assert line.startswith("duration_h: this run would simulate about ")
    incidents = _number(line, "incidents and")
    assert incidents == pytest.approx(1e12 / 24, rel=0.03)  # 1 a day in 1 grid, 2 digits
    assert _number(line, "scheduled steps") == pytest.approx(1e12 / 6, rel=0.03)
    # memory and CPU from the documented constants (events log off in these settings)
    assert _number(line, "TB of memory") * 1e12 == pytest.approx(
        1e12 / 24 * budget.BYTES_PER_INCIDENT, rel=0.03)
    assert "the ceiling is 1e6 incidents (output.max_incidents) and 1e6 scheduled steps " \
           "(output.max_steps)" in line
    assert "raise output.max_incidents or output.max_steps" in line


def test_a_run_beyond_the_step_ceiling_is_refused_even_without_incidents() -> None:
    errors = validate(_lasting(1e9, 0.0))
    assert len(errors) == 1
    assert "about 0 incidents and 1.7e8 scheduled steps over 1 grid " in errors[0]  # 1e9 h / 6 h
    assert "the ceiling is 1e6 scheduled steps (output.max_steps): shorten duration_h, " \
           "lengthen peacetime.step_h, or raise output.max_steps" in errors[0]


def test_ceilings_are_settings_and_a_run_below_them_passes() -> None:
    s = one_grid(2, duration_h=24.0 * 100, rate_per_day=1.0)
    assert validate(s) == []
    s = changed(s, {"output.max_incidents": 50})  # 100 expected
    assert [e for e in validate(s) if "the ceiling is 50 incidents" in e]
    s = changed(s, {"output.max_incidents": -1})
    assert "output.max_incidents: must be > 0, got -1" in validate(s)


def test_broken_numbers_leave_the_estimate_to_the_range_checks() -> None:
    s = changed(one_grid(2, duration_h=48.0, rate_per_day=1.0),
                {"duration_h": math.inf, "hazard.rate_scale": float("nan")})
    errors = validate(s)
    assert any(e.startswith("duration_h: must be a finite number") for e in errors)
    assert not any("would simulate" in e for e in errors)


# ----------------------------------------------------------------------------------------------
# the lazy schedule: the same items and boundaries as the list it replaces, constant memory
# ----------------------------------------------------------------------------------------------


def _listed(step_s: float, warnings: list[tuple[float, float]], duration_s: float) -> list:
    """The schedule as a sorted list (how it was built before it was lazy)."""
    items = []
    k = 1
    while k * step_s < duration_s:
        items.append((k * step_s, 0, "peace_step", step_s))
        k += 1
    for i, (start, end) in enumerate(warnings):  # at equal times starts before ends (order 2, 3)
        if start < duration_s:
            items.append((start, 2, "warning_start", i))
        if end < duration_s:
            items.append((end, 3, "warning_end", i))
    return sorted(items, key=lambda it: (it[0], it[1], str(it[3])))


@pytest.mark.parametrize(("step_s", "warnings", "duration_s"), [
    (21600.0, [(108000.0, 194400.0)], 259200.0),
    (21600.0, [(0.0, 21600.0), (21600.0, 43200.0), (43200.0, 1e9)], 86400.0 * 3),
    (3600.0 * 0.7, [(1000.0, 2000.0)] * 12, 3600.0 * 50),  # warnings 10, 11 sort as strings
    (3600.0, [], 3600.0),  # no step strictly before the end
    (1e-3 * 3600, [], 3600.0 * 2.5),
])
def test_schedule_gives_the_listed_items_and_boundaries(step_s, warnings, duration_s) -> None:
    sched = Schedule(step_s, warnings, duration_s)
    listed = _listed(step_s, warnings, duration_s)
    assert list(sched) == listed
    assert list(sched) == listed  # each iteration starts again
    bounds = sorted({t for t, *_ in listed})
    probes = sorted({0.0, duration_s, *bounds, *(b + 0.5 for b in bounds),
                     *(math.nextafter(b, -math.inf) for b in bounds),
                     *np.linspace(0.0, duration_s * 1.1, 97).tolist()})
    bound_set = set(bounds)
    for t in probes:
        i = bisect.bisect_right(bounds, t)
        assert sched.next_boundary(t) == (bounds[i] if i < len(bounds) else math.inf), t
        assert sched.is_boundary(t) == (t in bound_set), t
    for t in reversed(probes):  # the cache does not assume time only moves forward
        i = bisect.bisect_right(bounds, t)
        assert sched.next_boundary(t) == (bounds[i] if i < len(bounds) else math.inf), t


def test_the_schedule_of_a_very_long_run_costs_no_memory() -> None:
    import tracemalloc

    s = _lasting(1e12, 0.0)
    tracemalloc.start()
    sched = _schedule(s, s.duration_h * 3600.0)
    first = [item for _, item in zip(range(3), sched, strict=False)]
    nxt = sched.next_boundary(1e15)
    size = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert first == [(21600.0 * k, 0, "peace_step", 21600.0) for k in (1, 2, 3)]
    assert nxt == 21600.0 * (1e15 // 21600.0 + 1)
    assert size < 100_000  # bytes: not 1.7e11 steps


# ----------------------------------------------------------------------------------------------
# progress: by wall time (a fake clock), with the share done and the time left
# ----------------------------------------------------------------------------------------------


def _ctx() -> SimpleNamespace:
    return SimpleNamespace(incidents=[], open_incidents=SimpleNamespace(level=0.0),
                           switch=SimpleNamespace(counts=np.zeros(4, dtype=np.int64)))


class _Pace:
    """A fake wall clock for a run that simulates at a steady pace: ``wall_s`` seconds of wall
    time for the whole run, plus ``per_look`` seconds each time the clock is read."""

    def __init__(self, env: simpy.Environment, duration_s: float, wall_s: float,
                 per_look: float = 0.0) -> None:
        self.env, self.rate, self.per_look = env, wall_s / duration_s, per_look
        self.looks = 0

    def __call__(self) -> float:
        self.looks += 1
        return 1000.0 + self.rate * self.env.now + self.per_look * self.looks


def _lines(duration_h: float, wall_s: float, per_look: float = 0.0
           ) -> tuple[list[tuple[float, float, str]], float]:
    env = simpy.Environment()
    duration_s = duration_h * 3600.0
    clock = _Pace(env, duration_s, wall_s, per_look)
    lines: list[tuple[float, float, str]] = []
    env.process(_progress(env, duration_s, _ctx(),
                          lambda line: lines.append((clock(), env.now, line)), clock=clock))
    env.run(until=duration_s)
    return lines, 1000.0


@pytest.mark.parametrize(("wall_s", "per_look"), [(20.0, 0.0), (600.0, 0.0), (36000.0, 0.0),
                                                  (300.0, 0.01)])
def test_progress_lines_come_every_few_seconds_of_wall_time(wall_s: float, per_look: float
                                                            ) -> None:
    """A run of 1e5 simulated hours that takes 20 s, 10 min or 10 h of wall time: a line within
    10 s of the start, then one every 5 to 10 s, with the share done and the time left."""
    lines, start = _lines(1e5, wall_s, per_look)
    walls = [start] + [w for w, _, _ in lines]
    assert len(lines) >= wall_s / 10.0 - 1
    assert walls[1] - start <= 10.0
    gaps = np.diff(walls[1:])
    assert gaps.min() >= 5.0 - 1e-6 and gaps.max() <= 10.0, (gaps.min(), gaps.max())
    _, sim, text = lines[0]
    assert f"[{100 * sim / (1e5 * 3600.0):5.1f}%]" in text
    assert "of 100,000.0 h" in text and "so far, about" in text and "left" in text
    assert lines[-1][1] / (1e5 * 3600.0) > 1.0 - 10.0 / wall_s  # the last within 10 s of the end


def test_progress_of_a_short_run_prints_nothing() -> None:
    lines, _ = _lines(72.0, 3.0)
    assert lines == []


def test_progress_estimates_the_time_left_from_the_pace() -> None:
    """At a steady pace the time left is exactly the pace × the simulated time left."""
    lines, _ = _lines(1e4, 600.0)
    for _, sim, text in lines[:3]:
        left = 600.0 * (1.0 - sim / (1e4 * 3600.0))
        assert f"about {left / 60:.1f} min left" in text, (text, left)


def test_progress_costs_few_looks() -> None:
    """A run that takes 2 s of wall time looks at the clock about 1,000 times (the simulated
    step doubles up to 1/1000 of the run while looks come too soon), not once per event."""
    env = simpy.Environment()
    duration_s = 72 * 3600.0
    clock = _Pace(env, duration_s, 2.0)
    env.process(_progress(env, duration_s, _ctx(), lambda line: None, clock=clock))
    env.run(until=duration_s)
    assert 1000 <= clock.looks <= 1100


def test_the_end_of_work_hours_moves_on_late_in_a_long_run() -> None:
    """From 2**24 s (4,660 h) on a float's spacing exceeds 2e-9 s: the end-of-work-hours
    process must still move forward a day at a time (adding 1e-9 s to the time, it waited 0 s
    for ever and the run never ended)."""
    env = simpy.Environment(initial_time=200 * 86400.0)  # 4,800 h
    calls: list[float] = []

    class Dispatcher:
        def retry(self) -> None:
            calls.append(env.now)
            assert len(calls) <= 3, f"retried again at {env.now}"

    env.process(_availability(env, Dispatcher(), 17))  # type: ignore[arg-type]
    env.run(until=env.now + 3 * 86400.0)
    assert calls == [(day * 24 + 17) * 3600.0 for day in (200, 201, 202)]


def test_a_scenario_folder_beyond_a_ceiling_is_refused_once_loaded(tmp_path) -> None:
    """Its grids are only known once read: validate cannot refuse it, the run does, before
    time 0, with the estimate from the folder's own grids."""
    from gridsim.engine.simulation import build
    from gridsim.place.folder import export_scenario
    from gridsim.place.scenario import check_loaded

    s = changed(one_grid(2, duration_h=48.0, rate_per_day=1.0), {
        "scenario.urban_grids": 6,  # of 0.2 km², so that there are roads between them
        "scenario.kinds.urban_community.area_km2": 0.2})
    export_scenario(build(s), s.scenario, tmp_path / "six")
    s = changed(s, {"scenario.generator": "files", "scenario.path": str(tmp_path / "six")})
    assert validate(s) == []
    s = dataclasses.replace(s, duration_h=1e12)
    assert [e for e in validate(s) if "would simulate" in e] == []
    (line,) = check_loaded(s, build(s))  # what simulate() raises as a ConfigError at once
    assert line.startswith("duration_h: this run would simulate about 2.5e11 incidents and "
                           "1.7e11 scheduled steps over 6 grids ")  # 6 a day: 6 grids, 1 each


@pytest.mark.slow
def test_gridsim_run_refuses_before_anything_runs(tmp_path) -> None:
    """As a user sees it: one line with the estimate and the ceiling, exit 2, no run folder."""
    from tests.console import explain, gridsim

    proc = gridsim("run", "duration_h=1e12", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert proc.returncode == 2, explain(proc)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, explain(proc)
    assert lines[0].startswith("gridsim: config error at duration_h: this run would simulate "
                               "about "), explain(proc)
    assert "the ceiling is 1e6 incidents (output.max_incidents)" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_the_estimate_of_a_district_run_matches_what_it_does() -> None:
    """The shipped district in calm weather for 30 days: incidents within 4 standard deviations
    of the estimate (Poisson), SimPy events within 30 % (the constants are measured on this
    district, at ten times its rates)."""
    from tests.conftest import settings_for

    s = settings_for("hazard=calm", "duration_h=720", "output.figures=false",
                     "output.events_log=false", "output.progress=false")
    size = budget.config_size(s)
    assert size is not None
    result = simulate(s)
    n = len(result.incidents)
    assert abs(n - size.incidents) < 4 * math.sqrt(size.incidents), (n, size.incidents)
    assert result.events_processed == pytest.approx(size.events, rel=0.3)
