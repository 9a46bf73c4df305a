"""Metrics computed from a run, held to the incidents they come from."""

from __future__ import annotations

import math

import numpy as np
from handmade import shipped

from gridsim import __version__
from gridsim.engine.simulation import simulate
from gridsim.model.vocab import MODES
from gridsim.output.metrics import FIVE_MINUTES_S, summarize


def test_response_by_mode_at_notice_splits_the_responded_incidents() -> None:
    """A slow switch (long alert and assembly delays) leaves incidents in the assembly window:
    noticed in ALERT, answered from home, slower than those noticed once the post is ready.
    Every figure is recomputed here from the incidents (answered within the run)."""
    # a scripted warning over the whole district at hour 30, in calm weather at a rate scale
    # that gives a few incidents an hour: the design storm's forecast warnings come hours
    # before its incidents, which leaves no incident in an assembly window to split
    s = shipped("duration_h=48", "output.figures=false", "output.progress=false", "seed=2025",
                "output.events_log=false", "response.switch.alert_delay.median_s=1200",
                "response.switch.assembly_mobilisation.median_s=1800", "hazard=calm",
                "hazard.rate_scale=100",
                "hazard.warnings=[{name: rainstorm_red, level: red, start_h: 30, duration_h: 12}]")
    r = simulate(s)
    summary = summarize(r, __version__)
    answered = [i for i in r.incidents
                if math.isfinite(i.first_on_scene_s) and i.first_on_scene_s <= r.duration_s]
    assert summary["responded"] == len(answered)
    by_mode = summary["response_by_mode_at_notice"]
    assert set(by_mode) == set(MODES)
    for mode, m in by_mode.items():
        rs = np.array([i.response_s for i in answered if i.mode_at_notice == mode])
        assert m["responded"] == len(rs)
        if len(rs):
            assert m["response_time_p50_s"] == round(float(np.quantile(rs, 0.5)), 3)
            assert m["within_5min_share"] == round(float(np.mean(rs <= FIVE_MINUTES_S)), 6)
        else:
            assert m["response_time_p50_s"] is None and m["within_5min_share"] is None
    alert, forward, peace = by_mode["ALERT"], by_mode["FORWARD_COMMAND"], by_mode["PEACE"]
    assert alert["responded"] >= 1 and forward["responded"] > 20 and peace["responded"] >= 3
    assert alert["response_time_p50_s"] > forward["response_time_p50_s"]
    all_rs = np.array([i.response_s for i in answered])
    assert summary["within_5min_share"] == round(float(np.mean(all_rs <= FIVE_MINUTES_S)), 6)
