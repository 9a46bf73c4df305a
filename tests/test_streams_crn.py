"""Named streams, determinism and common random numbers."""

from __future__ import annotations

import numpy as np
from handmade import settings_for

from gridsim.engine.simulation import simulate
from gridsim.model.streams import Streams


def test_stream_depends_on_seed_and_name_only() -> None:
    a, b = Streams(7), Streams(7)
    b.get("other").random(5)  # creating and using other streams first changes nothing
    assert np.array_equal(a.get("hazard/x").random(4), b.get("hazard/x").random(4))
    x7 = Streams(7).get("hazard/x").random(4)
    assert not np.array_equal(x7, Streams(7).get("hazard/y").random(4))
    assert not np.array_equal(x7, Streams(8).get("hazard/x").random(4))


def _incidents(*overrides: str) -> list[tuple]:
    s = settings_for("output.figures=false", "output.progress=false", "output.events_log=false",
                     *overrides)
    r = simulate(s)
    return [(i.occurred_s, i.grid, i.hazard, i.grade, i.x_m, i.y_m) for i in r.incidents]


def test_response_variants_see_the_same_incidents() -> None:
    """Two variants that differ only in the response setting draw the same incidents at the
    same times and places (common random numbers), though their responses differ."""
    base = _incidents()
    assert len(base) > 30
    assert _incidents("response=prepared") == base
    assert _incidents("response.dispatch.mutual_aid_radius_s=60",
                      "response.switch.quorum_share=0.9") == base


def test_same_seed_same_run_other_seed_differs() -> None:
    a = _incidents("seed=11")
    assert _incidents("seed=11") == a
    assert _incidents("seed=12") != a


def test_variant_responses_do_differ() -> None:
    s1 = settings_for("output.figures=false", "output.progress=false", "output.events_log=false")
    s2 = settings_for("output.figures=false", "output.progress=false", "output.events_log=false",
                      "response=prepared")
    r1, r2 = simulate(s1), simulate(s2)
    lat1 = r1.ctx.switch.latencies()[1]
    lat2 = r2.ctx.switch.latencies()[1]
    # the prepared response alerts and assembles faster (lower median latency)
    assert np.median(lat2) < np.median(lat1)
