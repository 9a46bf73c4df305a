"""Metrics computed from a run, held to the incidents they come from."""

from __future__ import annotations

import math

import numpy as np
from handmade import settings_for

from gridsim import __version__
from gridsim.engine.simulation import simulate
from gridsim.model.vocab import MODES
from gridsim.output.metrics import FIVE_MINUTES_S, summarize


def test_response_by_mode_at_notice_splits_the_responded_incidents() -> None:
    """A slow switch (long alert and assembly delays) leaves incidents in the assembly window:
    noticed in ALERT, answered from home, slower than those noticed once the post is ready."""
    s = settings_for("output.figures=false", "output.progress=false", "seed=2025",
                     "response.switch.alert_delay.median_s=480",
                     "response.switch.assembly_mobilisation.median_s=600")
    r = simulate(s)
    summary = summarize(r, __version__)
    by_mode = summary["response_by_mode_at_notice"]
    assert set(by_mode) == set(MODES)
    assert sum(m["responded"] for m in by_mode.values()) == summary["responded"]
    for mode, m in by_mode.items():
        rs = np.array([i.response_s for i in r.incidents if i.mode_at_notice == mode
                       and math.isfinite(i.first_on_scene_s)
                       and i.first_on_scene_s <= r.duration_s])
        assert m["responded"] == len(rs)
        if len(rs):
            assert m["response_time_p50_s"] == round(float(np.quantile(rs, 0.5)), 3)
            assert m["within_5min_share"] == round(float(np.mean(rs <= FIVE_MINUTES_S)), 6)
        else:
            assert m["response_time_p50_s"] is None and m["within_5min_share"] is None
    alert, forward = by_mode["ALERT"], by_mode["FORWARD_COMMAND"]
    assert alert["responded"] >= 1 and forward["responded"] > 30
    assert alert["response_time_p50_s"] > forward["response_time_p50_s"]
