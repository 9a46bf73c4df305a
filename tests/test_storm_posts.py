"""Storm work's posts over their lifetime (gridsim.engine.storm): members who reach a post after
it is ready join its tasks when they get there, at each post a grid opens in a run.

The hand-built one-grid case of tests/params.py with an area (so the members' legs to the post
differ), fixed delays, and two warnings: the grid's post stands down at the first one's end and
opens again, from RECOVERY, at the second one. Every member's arrival is worked out from the
switch's rule (alert delay + assembly mobilisation + the leg from home, Manhattan × detour at
the local speed), not read from the run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from params import add_warning, checked, one_grid

from gridsim.engine.simulation import simulate
from gridsim.model.dists import Dist
from gridsim.model.frozen import changed
from gridsim.model.params import RunConfig, StormTaskConfig, StormWorkConfig

OFF = StormTaskConfig(enabled=False)
ALERT_S, ASSEMBLY_S = 60.0, 120.0
#: the warnings: (start, end) in seconds; the second opens the post again from RECOVERY
#: (recovery_h of tests/params.py is longer than the gap)
WARNINGS = ((1800.0, 9000.0), (10800.0, 14400.0))
DETOUR, SPEED = 1.3, 1.6  # tests/params.py: the intra-grid detour and the local speed


def _case() -> RunConfig:
    s = one_grid(2, duration_h=5)
    s = changed(s, {"scenario.kinds.urban_community.area_km2": 0.04,
                    "response.switch.alert_delay": Dist.fixed(ALERT_S),
                    "response.switch.assembly_mobilisation": Dist.fixed(ASSEMBLY_S),
                    "response.switch.supply_open_delay": Dist.fixed(100.0)})
    s = add_warning(s, start_h=WARNINGS[0][0] / 3600.0,
                    duration_h=(WARNINGS[0][1] - WARNINGS[0][0]) / 3600.0)
    first = s.hazard.warnings[0]
    again = dataclasses.replace(first, name="again", start_h=WARNINGS[1][0] / 3600.0,
                                duration_h=(WARNINGS[1][1] - WARNINGS[1][0]) / 3600.0)
    s = dataclasses.replace(s, hazard=dataclasses.replace(s.hazard, warnings=[first, again]))
    # one task that holds every member of the post (leader and both commanders), as they come
    post = StormTaskConfig(priority=110, people=3, roles=[])
    work = StormWorkConfig(enabled=True, incident_priority=100, patrol_channel="resident_report",
                           patrol_coverage=0.0, staff_post=post, relocate=OFF, warn=OFF,
                           sandbag=OFF, patrol=OFF)
    return checked(changed(s, {"response.storm_work": work}))


def test_late_members_join_each_post_when_they_reach_it() -> None:
    """Each post holds each member from when they reach it (or from when it is ready, if they
    were there before) to its stand-down, at the first post and again at the second: the
    second post's late members wait for their own new trip, not the first post's arrival."""
    r = simulate(_case())
    sw, roster, grids = r.ctx.switch, r.scenario.roster, r.scenario.region.grids
    assert sw.ep_trigger_s == [w[0] for w in WARNINGS]  # two posts, one a warning
    leg = ((np.abs(roster.x_m - grids.x_m[0]) + np.abs(roster.y_m - grids.y_m[0]))
           * DETOUR / SPEED)
    expected = 0.0
    late = 0
    for (start, end), ready in zip(WARNINGS, sw.ep_ready_s, strict=True):
        arrive = start + ALERT_S + ASSEMBLY_S + leg
        assert ready >= float(np.min(arrive))  # ready once somebody is there
        late += int(np.sum(arrive > ready))
        expected += float(np.sum(end - np.maximum(arrive, ready)))
    assert late >= 2  # a member reaches each post after it is ready (else this proves nothing)
    storm = r.ctx.storm
    assert storm is not None
    assert storm.stats["staff_post"].person_s == pytest.approx(expected, rel=1e-12)
    assert storm.stats["staff_post"].count == 2
    assert not r.ctx.dispatcher.busy.any() and r.ctx.dispatcher.n_held == 0
