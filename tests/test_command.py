"""The command structure at the post (gridsim.engine.command): functional groups under a span
of control, and everything off leaving the run as it was.

Micro-timelines on the hand-built one-grid case (tests/params.py): zero area (no travel), fixed
delays; the grid (leader = person 0, commanders = persons 1 and 2) is a forward command post at
1980 s (warning at 1800 s, alert 60 s + assembly 120 s; supply point 100 s).
"""

from __future__ import annotations

from params import add_warning, checked, one_grid

from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.dists import Dist
from gridsim.model.frozen import changed
from gridsim.model.params import (
    CommandConfig,
    DetectionChannelConfig,
    RunConfig,
    StormTaskConfig,
    StormWorkConfig,
)
from gridsim.model.vocab import GRID_KINDS
from gridsim.output.metrics import summarize

OFF = StormTaskConfig(enabled=False)
READY_S = 1980.0
#: relocate 2 units × 10 person-min (1,200 s for one person), warn 4 × 10 (2,400 s)
RELOCATE = StormTaskConfig(priority=80, people=1, minutes_per_unit=10.0, exposure={"grid": 2.0},
                           roles=["commander"])
WARN = StormTaskConfig(priority=60, people=1, minutes_per_unit=10.0, exposure={"grid": 4.0},
                       roles=["commander"])


def _case(command: CommandConfig) -> RunConfig:
    s = one_grid(2, duration_h=3)
    s = changed(s, {"output.events_log": True,
                    "response.switch.alert_delay": Dist.fixed(60.0),
                    "response.switch.assembly_mobilisation": Dist.fixed(120.0),
                    "response.switch.supply_open_delay": Dist.fixed(100.0)})
    s = add_warning(s, start_h=0.5, duration_h=2.0)
    work = StormWorkConfig(enabled=True, incident_priority=100, patrol_channel="patrol",
                           patrol_coverage=0.0, staff_post=OFF, relocate=RELOCATE, warn=WARN,
                           sandbag=OFF, patrol=OFF)
    patrol = DetectionChannelConfig(delay=Dist.fixed(900.0),
                                    coverage=dict.fromkeys(GRID_KINDS, 0.0))
    return checked(changed(s, {"response.storm_work": work, "catalogue.detection.patrol": patrol,
                               "response.command": command}))


def _done(r: RunResult) -> list[tuple[float, str]]:
    return [(round(t, 6), d) for t, e, _, _, d in r.ctx.log.sorted_rows()
            if e == "storm_task_done"]


def test_without_groups_both_tasks_run_at_once() -> None:
    """Groups off: relocate (commander 1) and warn (commander 2) both start at 1980 s."""
    r = simulate(_case(CommandConfig()))
    assert _done(r) == [(READY_S + 1200.0, "relocate"), (READY_S + 2400.0, "warn")]


def test_a_group_beyond_the_span_waits_for_one_to_end() -> None:
    """Span of control 1: the commander directs one group at a time. Relocate (the higher
    priority) starts at 1980 s with commander 1; warn waits although commander 2 is free, and
    starts when relocate ends at 3180 s (commander 1, the first free member): done at 5580 s."""
    r = simulate(_case(CommandConfig(groups=True, span_of_control=1)))
    assert _done(r) == [(READY_S + 1200.0, "relocate"), (READY_S + 1200.0 + 2400.0, "warn")]
    tasks = summarize(r, "test")["storm_tasks"]
    assert tasks["warn"]["units_done"] == 4
    assert tasks["warn"]["person_hours"] == round(2400.0 / 3600.0, 3)
    assert not r.ctx.dispatcher.busy.any() and r.ctx.dispatcher.n_held == 0


def test_a_span_of_two_lets_both_groups_run() -> None:
    """Span 2 with two work groups: the same timeline as without groups."""
    r = simulate(_case(CommandConfig(groups=True, span_of_control=2)))
    assert _done(r) == [(READY_S + 1200.0, "relocate"), (READY_S + 2400.0, "warn")]


def test_everything_off_is_the_run_without_the_command_structure() -> None:
    """A run with every mechanism of response.command off writes the same summary as one
    with its dataclass defaults (the mechanisms are only built when on)."""
    off = CommandConfig(groups=False, township_transfer=False, county_transfer=False,
                        concurrent_evacuation=False, span_of_control=1)
    a = summarize(simulate(_case(off)), "test")
    b = summarize(simulate(_case(CommandConfig())), "test")
    assert a == b
