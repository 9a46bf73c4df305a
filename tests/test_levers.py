"""The reference lever experiments change what they say (docs/levers.md).

* A slower switch (alert and assembly medians × 3) scales every member's own delays to the post
  by exactly 3, on the same uniforms (common random numbers: a lognormal's quantile is its
  median times ``exp(sigma z)``), and leaves the incidents as they were.
* experiments/switch_speed.yaml sweeps the shipped medians of conf/response/standard.yaml and 3
  times them; experiments/team_size.yaml sweeps 0 to 4 grid workers.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from params import add_warning, checked, one_grid

from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import simulate
from gridsim.model.dists import Dist

ROOT = Path(__file__).resolve().parent.parent
ALERT, ASSEMBLY = "response.switch.alert_delay.median_s", \
    "response.switch.assembly_mobilisation.median_s"


def _switch_run(factor: float) -> tuple[np.ndarray, list[tuple[str, int, float]], float]:
    """One grid of four commanders, incidents at 30 a day, a switching warning at hour 2
    (nobody is away at work in this grid), alert and assembly lognormal with medians 120 s and 300 s
    times ``factor``: ``(each member's leave time after the warning, the incidents, the post's
    ready time)``."""
    s = one_grid(4, duration_h=4.0, rate_per_day=30.0, seed=11)
    sw = replace(s.response.switch,
                 alert_delay=Dist.lognormal(120.0 * factor, 0.7),
                 assembly_mobilisation=Dist.lognormal(300.0 * factor, 0.6),
                 supply_open_delay=Dist.fixed(0.0))
    s = checked(add_warning(replace(s, response=replace(s.response, switch=sw)), 2.0, 1.5))
    leave: list[np.ndarray] = []
    ready_s: list[float] = []

    def observe(ctx: RunContext) -> None:
        def ready(g: int) -> None:
            leave.append(ctx.switch.leave_at.copy())
            ready_s.append(float(ctx.env.now))
        ctx.switch.listeners.append(ready)

    r = simulate(s, observe=observe)
    incidents = [(i.hazard, i.grid, i.occurred_s) for i in r.incidents]
    assert len(ready_s) == 1  # one post, ready once
    return leave[0] - 2 * 3600.0, incidents, ready_s[0]


def test_slower_switch_scales_each_members_delay_by_three_on_the_same_draws() -> None:
    leave1, inc1, ready1 = _switch_run(1.0)
    leave3, inc3, ready3 = _switch_run(3.0)
    # members busy on an incident at the warning do not set out (inf) in either variant; the
    # others leave after their alert and assembly delays only, 3 times later
    free = np.isfinite(leave1)
    assert free.sum() >= 3 and (np.isfinite(leave3) == free).all()
    np.testing.assert_allclose(leave3[free], 3.0 * leave1[free], rtol=1e-12)
    # zero area: a member arrives when leaving, so the post (no supply delay) is ready at the
    # quorum's or the commander's arrival, the later of the two: also exactly 3 times later
    assert ready3 - 7200.0 == pytest.approx(3.0 * (ready1 - 7200.0), rel=1e-12)
    assert inc1 == inc3 and len(inc1) > 0  # the same incidents in both variants


def _sweep(name: str) -> dict[str, list[str]]:
    doc = yaml.safe_load((ROOT / "experiments" / name).read_text(encoding="utf-8"))
    return {k: str(v).split(",") for k, v in doc["hydra"]["sweeper"]["params"].items()}


def test_switch_speed_experiment_sweeps_the_shipped_medians_and_three_times_them() -> None:
    std = yaml.safe_load((ROOT / "conf" / "response" / "standard.yaml").read_text(
        encoding="utf-8"))["switch"]
    sweep = _sweep("switch_speed.yaml")
    for key, shipped in ((ALERT, std["alert_delay"]["median_s"]),
                         (ASSEMBLY, std["assembly_mobilisation"]["median_s"])):
        assert [float(v) for v in sweep[key]] == [shipped, 3 * shipped], key


def test_team_size_experiment_sweeps_zero_to_four_grid_workers() -> None:
    sweep = _sweep("team_size.yaml")
    assert [int(v) for v in sweep["scenario.people.grid_workers_per_grid"]] == [0, 1, 2, 3, 4]


def test_warning_rule_experiment_sweeps_every_level_from_the_shipped_one() -> None:
    shipped = yaml.safe_load((ROOT / "conf" / "hazard" / "rainstorm.yaml").read_text(
        encoding="utf-8"))["weather"]["warnings"]["switch_level"]
    levels = _sweep("warning_rule.yaml")["hazard.weather.warnings.switch_level"]
    assert levels == ["blue", "yellow", "orange", "red"] and levels[0] == shipped


# ----------------------------------------------------------------------------------------------
# the committed reference reports hold the four lever results (docs/levers.md); a
# regeneration on a model where a lever no longer bites fails here
# ----------------------------------------------------------------------------------------------
def _report(name: str, table: str) -> list[dict[str, str]]:
    with (ROOT / "reports" / name / table).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _paired(name: str, variant: str, baseline: str, metric: str) -> tuple[float, float, float]:
    """``(mean, ci95_low, ci95_high)`` of a committed report's paired difference."""
    rows = [r for r in _report(name, "paired_differences.csv")
            if r["variant"] == variant and r["baseline"] == baseline and r["metric"] == metric]
    assert len(rows) == 1, (name, variant, baseline, metric)
    r = rows[0]
    return float(r["mean_difference"]), float(r["ci95_low"]), float(r["ci95_high"])


def _mean(name: str, variant: str, metric: str) -> float:
    rows = [r for r in _report(name, "statistics.csv")
            if r["variant"] == variant and r["metric"] == metric]
    assert len(rows) == 1, (name, variant, metric)
    return float(rows[0]["mean"])


def test_the_committed_switch_speed_report_shows_a_slower_switch_worsening_the_response() -> None:
    slow = f"{ALERT}=360, {ASSEMBLY}=900"
    base = f"{ALERT}=120, {ASSEMBLY}=300"
    _, _, hi = _paired("switch_speed", slow, base, "within_5min_share")
    assert hi < 0  # worse, the 95 % interval excluding 0
    _, lo, _ = _paired("switch_speed", slow, base, "response_from_occurrence_p50_s")
    assert lo > 0
    _, lo, _ = _paired("switch_speed", slow, base, "people_trapped")
    assert lo > 0
    assert _mean("switch_speed", base, "storm_utilization") >= 0.2


def test_the_committed_team_size_report_shows_gains_that_diminish() -> None:
    key = "scenario.people.grid_workers_per_grid"
    share = [_mean("team_size", f"{key}={k}", "within_5min_share") for k in range(5)]
    _, lo, _ = _paired("team_size", f"{key}=4", f"{key}=0", "within_5min_share")
    assert lo > 0
    _, _, hi = _paired("team_size", f"{key}=4", f"{key}=0", "response_from_occurrence_p50_s")
    assert hi < 0
    # diminishing returns: the first two workers add more than the next two
    assert share[2] - share[0] > share[4] - share[2] > 0


def test_the_committed_pilot_report_keeps_the_incidents_within_ten_percent() -> None:
    after, before = "scenario=pilot_after", "scenario=pilot_before"
    a, b = (_mean("pilot_redesign", v, "incidents") for v in (after, before))
    assert abs(a - b) <= 0.1 * b
    _, _, hi = _paired("pilot_redesign", after, before, "response_time_p50_s")
    assert hi < 0  # the redesign shows in the response
