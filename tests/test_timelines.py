"""Exact micro-timelines on hand-made one-grid cases with fixed delays (zero travel)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from params import add_incident, add_warning, changed, one_grid

from gridsim.engine.simulation import RunResult, simulate
from gridsim.engine.switch import PEACE, RECOVERY
from gridsim.model.dists import Dist
from gridsim.model.params import RunConfig


def _switch_case(away_share: dict[str, float], warning_start_h: float) -> RunConfig:
    s = changed(one_grid(4, duration_h=warning_start_h + 5), {
        "output.events_log": True,
        "response.switch.alert_delay": Dist.fixed(60.0),
        "response.switch.assembly_mobilisation": Dist.fixed(120.0),
        "response.switch.away_return": Dist.fixed(1000.0),
        "response.switch.supply_open_delay": Dist.fixed(100.0),
        "response.switch.quorum_share": 0.5,
        "response.switch.recovery_h": 1.0,
        "scenario.people.away_share": away_share})
    return add_warning(s, start_h=warning_start_h, duration_h=2.0)


def _events(r: RunResult, prefix: str = "") -> list[tuple[float, str]]:
    return [(round(t, 6), e) for t, e, *_ in r.ctx.log.sorted_rows() if e.startswith(prefix)]


def test_switch_timeline_everyone_home() -> None:
    """5 members (4 commanders + the grid leader) all arrive 60 + 120 s after the warning; the
    supply point opens after 100 s: forward command at T + 180 s, recovery when the warning
    is lifted, peace one hour later."""
    r = simulate(_switch_case({}, warning_start_h=1.0))
    assert _events(r, "mode_") == [
        (3600.0, "mode_alert"),
        (3780.0, "mode_forward_command"),
        (3600.0 + 7200.0, "mode_recovery"),
        (3600.0 + 7200.0 + 3600.0, "mode_peace"),
    ]
    grid, lat = r.ctx.switch.latencies()
    assert grid.tolist() == [0] and lat.tolist() == [180.0]
    assert r.ctx.switch.mode[0] == PEACE
    assert np.all(np.isinf(r.ctx.switch.assembled_at))  # stood down in recovery
    assert [c for _, c in r.ctx.switch.mode_log] == [
        (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (1, 0, 0, 0)]


def test_switch_timeline_commanders_away_at_work() -> None:
    """At 09:00 the 4 commanders are at work (1,000 s to come back); the grid leader takes
    charge at T + 180 s but the quorum (3 of 5) waits for the commanders: T + 1,180 s."""
    r = simulate(_switch_case({"commander": 1.0}, warning_start_h=9.0))
    t0 = 9 * 3600.0
    assert _events(r, "mode_")[:2] == [(t0, "mode_alert"), (t0 + 1180.0, "mode_forward_command")]
    assert r.ctx.switch.latencies()[1].tolist() == [1180.0]


def test_switch_timeline_supply_point_is_last() -> None:
    s = _switch_case({}, warning_start_h=1.0)
    r = simulate(changed(s, {"response.switch.supply_open_delay": Dist.fixed(500.0)}))
    assert _events(r, "mode_forward")[0] == (3600.0 + 500.0, "mode_forward_command")


def _incident_case(handling_s: float, escalate_after_s: float = 1e15) -> RunConfig:
    s = one_grid(2, duration_h=3)
    s = changed(s, {
        "output.events_log": True,
        "catalogue.hazards.test.supplies": {"sandbag": 5},
        "catalogue.hazards.test.handling": Dist.fixed(handling_s),
        "catalogue.hazards.test.escalate_after_s": escalate_after_s,
        "catalogue.hazards.test.department_handling": Dist.fixed(500.0),
        "catalogue.detection.resident_report.delay": Dist.fixed(120.0),
        "response.dispatch.decision_delay_peace": Dist.fixed(60.0),
        "response.dispatch.decision_delay_forward": Dist.fixed(15.0),
        "response.dispatch.mobilisation": {r: Dist.fixed(30.0)
                                           for r in s.response.dispatch.mobilisation},
        "response.dispatch.forward_detection_factor": 0.5,
        "response.supply.access_delay_peace": Dist.fixed(90.0),
        "response.reporting.hop_delay_peace": {h: Dist.fixed(100.0) for h in
                                               s.response.reporting.hop_delay_peace},
        "response.reporting.forward_factor": 0.5})
    return add_incident(s, "test", grid=0, at_h=1.0)


def test_incident_lifecycle_in_peacetime() -> None:
    """Occurs 3600; notified +120; decided +60; a commander mobilises in 30 s (zero travel);
    the store opens in 90 s; handling 600 s. The initial report climbs 3 hops of 100 s."""
    r = simulate(_incident_case(600.0))
    (inc,) = r.incidents
    assert _events(r) == [
        (3600.0, "occurred"),
        (3720.0, "notified"),
        (3780.0, "dispatched"),
        (3810.0, "first_on_scene"),
        (3820.0, "reported_village"),
        (3900.0, "handling"),
        (3920.0, "reported_township"),
        (4020.0, "reported_county"),
        (4500.0, "resolved"),
    ]
    assert inc.response_s == 90.0 and inc.response_from_occurrence_s == 210.0
    assert (inc.resolved_by, inc.escalated, inc.report_on_time) == ("grid", False, True)
    assert r.ctx.supply.ledger.consumed == 5
    assert not r.ctx.dispatcher.busy.any()  # back at base


def test_incident_escalates_when_handling_outlasts_the_limit() -> None:
    """Handling would take 1,000 s but the limit is 300 s: the grid blows the whistle at
    3900 + 300; the fire station stands in the grid (0 s away), takes over and needs 500 s."""
    r = simulate(_incident_case(1000.0, escalate_after_s=300.0))
    (inc,) = r.incidents
    assert (inc.escalated_s, inc.department_arrived_s, inc.resolved_s) == (4200.0, 4200.0, 4700.0)
    assert inc.resolved_by == "department"
    ev = _events(r)
    assert ev[-3:] == [(4200.0, "escalated"), (4200.0, "department_arrived"),
                       (4700.0, "resolved")]


def test_incident_in_forward_command_is_answered_from_the_post() -> None:
    """A warning at 0.5 h puts the grid in forward command at 1800 + 180 (fixed delays). The
    incident at 3600 is spotted twice as fast (60 s), decided in 15 s, answered from the post
    with no call-up, with the store already open, and reported at half the hop delay."""
    s = changed(_incident_case(600.0), {
        "response.switch.alert_delay": Dist.fixed(60.0),
        "response.switch.assembly_mobilisation": Dist.fixed(120.0),
        "response.switch.supply_open_delay": Dist.fixed(100.0)})
    r = simulate(add_warning(s, start_h=0.5, duration_h=2.0))
    (inc,) = r.incidents
    assert inc.mode_at_notice == "FORWARD_COMMAND"
    assert (inc.notified_s, inc.dispatched_s, inc.first_on_scene_s) == (3660.0, 3675.0, 3675.0)
    assert inc.from_post == 1
    assert (inc.handling_start_s, inc.resolved_s) == (3675.0, 4275.0)
    assert inc.report_county_s == pytest.approx(3660.0 + 150.0)
    # the warning is lifted at 9000 s: recovery, which lasts 6 h, outlasts the 3-hour run
    assert r.ctx.switch.mode[0] == RECOVERY


def test_major_incident_switches_its_grid_until_resolved() -> None:
    s = _incident_case(600.0)
    s = changed(s, {
        "response.switch.trigger_grade": "III",
        "hazard.incidents": [replace(s.hazard.incidents[0], grade="III")],
        "response.switch.alert_delay": Dist.fixed(10.0),
        "response.switch.assembly_mobilisation": Dist.fixed(20.0),
        "response.switch.supply_open_delay": Dist.fixed(40.0)})
    r = simulate(s)
    (inc,) = r.incidents
    modes = _events(r, "mode_")
    assert modes[0] == (inc.notified_s, "mode_alert")
    assert modes[1] == (inc.notified_s + 40.0, "mode_forward_command")
    assert modes[2] == (inc.resolved_s, "mode_recovery")
    assert math.isfinite(inc.resolved_s)
