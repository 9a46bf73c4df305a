"""Dispatch looks at the nearest grids first (gridsim.engine.dispatch.Dispatcher._fill); its choice must
be exactly the one over every candidate within the mutual-aid radius."""

from __future__ import annotations

import numpy as np
import pytest
from handmade import settings_for

from gridsim.engine.dispatch import Dispatcher, Request
from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import simulate
from gridsim.engine.switch import ALERT, FORWARD, people_of
from gridsim.model.clock import in_hours


def _exhaustive(d: Dispatcher, req: Request) -> list[int]:
    """The people the commander should send now, chosen over all candidates at once (the
    plain definition: least expected time to scene, ties to the earlier candidate)."""
    sw, cfg, roster, now = d.switch, d.cfg, d.scenario.roster, d.env.now
    assert sw is not None
    g = req.grid
    idx, t = d.scenario.near.row(g)
    people, pos = people_of(roster, idx.astype(np.int64))
    road_t = t[pos].astype(float)
    pgrid = roster.grid[people].astype(np.int64)
    gx, gy = d.scenario.region.grids.x_m, d.scenario.region.grids.y_m
    speed = d._speed
    mode = sw.mode[pgrid]
    at_post = (sw.assembled_at[people] <= now) & ((mode == ALERT) | (mode == FORWARD))
    peace_ok = d._peace_ok[people]
    if in_hours(now, cfg.work_hours):
        peace_ok = peace_ok & ~roster.away_in_work_hours[people]
    avail = ~d.busy[people] & (at_post | peace_ok)
    ox = np.where(at_post, gx[pgrid], roster.x_m[people])
    oy = np.where(at_post, gy[pgrid], roster.y_m[people])
    det = cfg.intra_grid_detour
    local = (np.abs(ox - req.x_m) + np.abs(oy - req.y_m)) * det / speed[g]
    leg_home = ((np.abs(roster.x_m[people] - gx[pgrid]) + np.abs(roster.y_m[people] - gy[pgrid]))
                * det / speed[pgrid])
    leg_in = (abs(gx[g] - req.x_m) + abs(gy[g] - req.y_m)) * det / speed[g]
    travel = np.where(pgrid == g, local, road_t + np.where(at_post, 0.0, leg_home) + leg_in)
    night = d._night(now)
    expected = travel + np.where(at_post, 0.0, d._mob_median[d._lead[people]] * night)
    chosen: list[int] = []
    for bit, n in req.remaining:
        if n <= 0:
            continue
        m = np.flatnonzero(((roster.categories[people] & bit) != 0) & avail)
        pick = m[np.argsort(expected[m], kind="stable")[:n]]
        avail[pick] = False
        chosen.extend(int(p) for p in people[pick])
    return chosen


@pytest.mark.parametrize("overrides", [
    (),  # the default run: a rainstorm puts many grids in forward command (people at posts)
    ("response=prepared", "seed=3"),
    ("response.dispatch.mutual_aid_radius_s=900", "seed=4"),  # many candidates per request
])
def test_nearest_grids_first_gives_the_exhaustive_choice(monkeypatch, overrides) -> None:
    real_fill = Dispatcher._fill
    calls = {"n": 0, "grew": 0}

    def checked_fill(self: Dispatcher, req: Request) -> None:
        want = _exhaustive(self, req)
        before = len(req.assigned)
        real_fill(self, req)
        got = [a.person for a in req.assigned[before:]]
        assert got == want, f"incident {req.incident} at t={self.env.now}"
        calls["n"] += 1

    real_choose = Dispatcher._choose

    def counting_choose(self: Dispatcher, *args, **kwargs):  # type: ignore[no-untyped-def]
        out = real_choose(self, *args, **kwargs)
        calls["grew"] += out is None
        return out

    monkeypatch.setattr(Dispatcher, "_fill", checked_fill)
    monkeypatch.setattr(Dispatcher, "_choose", counting_choose)
    s = settings_for("output.figures=false", "output.progress=false", "output.events_log=false",
                     *overrides)
    r = simulate(s)
    assert calls["n"] >= len(r.incidents) > 30
    assert sum(i.from_post for i in r.incidents) > 0 or "response=prepared" in overrides
    assert calls["grew"] > 0  # some requests had to look further than the first grids


def test_how_far_dispatch_looks_first_does_not_change_results() -> None:
    """From the own grid only (growing often) or from every candidate at once: same run."""

    def run(prefix: int) -> list[tuple]:
        def observe(ctx: RunContext) -> None:
            ctx.dispatcher._prefix = prefix

        s = settings_for("output.figures=false", "output.progress=false", "seed=9")
        r = simulate(s, observe=observe)
        return [(i.id, i.first_on_scene_s, i.crew_on_scene_s, i.resolved_s, i.responders,
                 i.from_post) for i in r.incidents] + r.ctx.log.rows

    assert run(0) == run(10**9) == run(64)
