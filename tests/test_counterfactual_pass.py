"""The counterfactual pass of a run (``output.counterfactual``) simulates no switch: its
incidents are those of the world without grid response simulated in full (with the switch
holding the warned grids), field by field."""

from __future__ import annotations

import dataclasses

import numpy as np

from gridsim.engine.incident import INCIDENT_FIELDS
from gridsim.engine.simulation import simulate, without_grid
from tests.conftest import settings_for


def test_the_counterfactual_pass_has_the_incidents_of_the_full_world_without_grid() -> None:
    s = settings_for("scenario=small", "duration_h=48", "hazard.rate_scale=4",
                     "output.figures=false", "output.progress=false", "output.events_log=false")
    s = dataclasses.replace(s, output=dataclasses.replace(s.output, counterfactual=True))
    run = simulate(s)
    assert run.counterfactual is not None
    full = simulate(without_grid(run.settings), run.scenario)  # as a run of its own
    # not vacuous: in the full world without grid the (forecast) warnings hold grids, whose
    # forces assemble; in the pass they do not
    assert len(full.ctx.switch.ep_grid) > 0
    passed = simulate(without_grid(run.settings), run.scenario, counterfactual_pass=True)
    assert passed.ctx.switch.ep_grid == []
    assert len(full.incidents) > 10 and sum(i.people_trapped for i in full.incidents) > 0
    for incs in (run.counterfactual, passed.incidents):
        assert len(incs) == len(full.incidents)
        for a, b in zip(incs, full.incidents, strict=True):
            assert repr([getattr(a, f) for f in INCIDENT_FIELDS]) == \
                repr([getattr(b, f) for f in INCIDENT_FIELDS])
            assert np.array_equal(a.u, b.u)
