"""The dispatcher's free-people counts (:class:`gridsim.engine.dispatch.Dispatcher`).

A request none of whose needs has a category that anybody free or held by a post task has is
not searched. Two facts make that safe, checked here from outside: the counts always equal a
recount from the public arrays (``busy``, ``held_priority``, the roster's categories), and a run
that skips those searches sends the same people at the same times as one that searches every
waiting request after every release (the plain definition of the FIFO queue).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from handmade import shipped
from params import one_grid

from gridsim.engine.dispatch import Dispatcher
from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import build, simulate
from gridsim.model.dists import Dist
from gridsim.model.params import RunConfig

#: The small scenario with few responders (half a commander a grid, 0.5 party members per
#: 1,000 residents) and rates so high that requests wait, through storm work (people held by
#: post tasks, taken off them for incidents): some 330 incidents in 5 hours.
CROWDED = ("scenario=small", "hazard.rate_scale=12000", "duration_h=5",
           "scenario.people.party_members_per_1000=0.5", "scenario.people.commanders_per_grid=0.5",
           "output.figures=false", "output.progress=false")


def _recount(d: Dispatcher, has: np.ndarray) -> tuple[list[int], list[int]]:
    """Free and held people of each category bit, counted from the arrays (``has``: category
    bit × person, whether the person serves it)."""
    free = ~d.busy
    held = d.busy & (d.held_priority >= 0)
    return (np.count_nonzero(has & free, axis=1).tolist(),
            np.count_nonzero(has & held, axis=1).tolist())


def _watched(s: RunConfig, search_all: bool) -> tuple[list[tuple], dict[str, int]]:
    """Run ``s``; every dispatcher call that changes who is busy is followed by a check of the
    counts against a recount. With ``search_all`` every waiting request is searched (the count
    never skips one). Returns every assignment, in order, and how many calls and skips there
    were and the most people held at once."""
    seen = {"checks": 0, "skipped": 0, "waiting": 0, "held": 0}

    def observe(ctx: RunContext) -> None:
        d = ctx.dispatcher
        anyone = d._anyone_for
        cats = d.scenario.roster.categories.astype(np.int64)
        has = (cats[None, :] >> np.arange(len(d.free_by_category()[0]))[:, None]) & 1 == 1

        def counted(needs: list[list[int]]) -> bool:
            if search_all:
                return True
            r = anyone(needs)
            seen["skipped"] += not r
            return r

        d._anyone_for = counted  # type: ignore[method-assign]

        def checked(call: Callable) -> Callable:
            def call_then_check(*args, **kwargs):  # type: ignore[no-untyped-def]
                out = call(*args, **kwargs)
                assert d.free_by_category() == _recount(d, has), call.__name__
                seen["checks"] += 1
                seen["waiting"] = max(seen["waiting"], len(d.pending))
                seen["held"] = max(seen["held"], d.n_held)
                return out
            return call_then_check

        for name in ("request", "retry", "release", "occupy", "vacate"):
            setattr(d, name, checked(getattr(d, name)))

    r = simulate(s, observe=observe)
    sent = [(i.id, repr(i.first_on_scene_s), repr(i.response_s)) for i in r.incidents]
    return sent, seen


@pytest.mark.slow
def test_counts_match_a_recount_and_skipping_sends_the_same_people() -> None:
    s = shipped(*CROWDED)
    skipping, seen = _watched(s, search_all=False)
    # the set-up means something: requests waited, people were held, searches were skipped
    assert seen["waiting"] > 1 and seen["held"] > 0 and seen["skipped"] > 0, seen
    assert seen["checks"] > len(skipping)
    searching, _ = _watched(s, search_all=True)
    assert skipping == searching


def test_erlang_c_queue_skips_the_searches_and_keeps_every_wait() -> None:
    """M/M/3 at ρ = 2/3 (the Erlang C test's set-up, shorter): while the 3 commanders are busy
    nobody can serve a waiting request, so none is searched; the waits are those of searching
    every waiting request at every release."""
    s = one_grid(3, duration_h=60, rate_per_day=0.2 * 1440.0,
                 handling=Dist.exponential(600.0), seed=3)
    scenario = build(s)
    waits = []
    for search_all in (False, True):
        calls = {"search": 0}

        def observe(ctx: RunContext, search_all: bool = search_all,
                    calls: dict[str, int] = calls) -> None:
            d = ctx.dispatcher
            choose, anyone = d._choose, d._anyone_for

            def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
                calls["search"] += 1
                return choose(*args, **kwargs)

            d._choose = counted  # type: ignore[method-assign]
            if search_all:
                d._anyone_for = lambda needs: True  # type: ignore[method-assign]
            del anyone

        r = simulate(s, scenario=scenario, observe=observe)
        w = [i.response_s for i in r.incidents if math.isfinite(i.first_on_scene_s)]
        waits.append((w, calls["search"], len(r.incidents)))
    (w_skip, n_skip, n_inc), (w_all, n_all, _) = waits
    assert w_skip == w_all
    assert sum(x > 0 for x in w_skip) > 0.3 * n_inc  # a queue formed (P(wait) = 0.44)
    # one search per customer (each is served by the first search that finds someone free);
    # searching every waiting request at every release does more
    assert n_skip <= n_inc < n_all
    assert n_skip == pytest.approx(len(w_skip), abs=3)
