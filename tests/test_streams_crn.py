"""Named streams, determinism and common random numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from handmade import shipped

from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.streams import Streams

#: The rainstorm's forecast warnings start at about 34 h and its rain peaks at 40 h: 48 h covers
#: peacetime, forward command and the storm's peak (enough incidents to compare).
BASE = ("duration_h=48", "output.figures=false", "output.progress=false",
        "output.events_log=false")


def test_stream_depends_on_seed_and_name_only() -> None:
    a, b = Streams(7), Streams(7)
    b.get("other").random(5)  # creating and using other streams first changes nothing
    assert np.array_equal(a.get("hazard/x").random(4), b.get("hazard/x").random(4))
    x7 = Streams(7).get("hazard/x").random(4)
    assert not np.array_equal(x7, Streams(7).get("hazard/y").random(4))
    assert not np.array_equal(x7, Streams(8).get("hazard/x").random(4))


def _run(*overrides: str) -> RunResult:
    return simulate(shipped(*BASE, *overrides))


def _incidents(r: RunResult) -> list[tuple]:
    return [(i.occurred_s, i.grid, i.hazard, i.grade, i.x_m, i.y_m) for i in r.incidents]


def _responses(r: RunResult) -> list[float | None]:
    """First arrival on scene of each incident (None if nobody came; NaN would never compare
    equal)."""
    return [i.first_on_scene_s if math.isfinite(i.first_on_scene_s) else None
            for i in r.incidents]


@pytest.mark.slow
def test_response_variants_see_the_same_incidents_and_answer_them_differently() -> None:
    """Two variants that differ only in the response setting draw the same incidents at the
    same times and places (common random numbers), though their responses differ."""
    base = _run()
    assert len(base.incidents) > 30
    for variant in (("response=prepared",),
                    ("response.dispatch.mutual_aid_radius_s=60",
                     "response.switch.quorum_share=0.9")):
        other = _run(*variant)
        assert _incidents(other) == _incidents(base), variant
        assert _responses(other) != _responses(base), variant


@pytest.mark.slow
def test_same_seed_same_run_other_seed_differs() -> None:
    a = _run("seed=11")
    again = _run("seed=11")
    assert _incidents(again) == _incidents(a)
    assert _responses(again) == _responses(a)
    assert _incidents(_run("seed=12")) != _incidents(a)


def test_a_prepared_response_switches_faster() -> None:
    """The prepared response alerts and assembles faster: a lower median switch latency over
    the same warning."""
    lat1 = _run().ctx.switch.latencies()[1]
    lat2 = _run("response=prepared").ctx.switch.latencies()[1]
    assert len(lat1) > 10 and len(lat2) > 10
    assert np.median(lat2) < np.median(lat1)
    assert all(math.isfinite(x) for x in (*lat1, *lat2))
