"""The dispatcher's two searches pick the same people (:meth:`Dispatcher._choose`).

A candidate set of at most ``_SMALL`` people is searched one candidate at a time in Python
(:meth:`Dispatcher._choose_small`), a larger one with arrays. The Python search must make the
array version's float operations in the same order and break ties as ``np.lexsort`` does, so a
run sends the same people with the same times whichever search is used. Checked from outside by
running one crowded storm three ways: every set searched with arrays (``_SMALL = 0``), some
each way, and every set searched in Python, and comparing every assignment's floats by
``repr``.
"""

from __future__ import annotations

import math

import pytest
from handmade import shipped

from gridsim.engine import dispatch
from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import build, simulate

#: Few responders and rates so high that requests wait, through the day-long storm's warnings
#: (members on their way to posts are sent from where they are: en_route_dispatch) and storm
#: work (people held by post tasks, taken off them for incidents), with mutual aid between grids.
CROWDED = ("scenario=small", "hazard=rainstorm_day", "hazard.rate_scale=12000", "duration_h=3",
           "scenario.people.party_members_per_1000=0.5", "scenario.people.commanders_per_grid=0.5",
           "output.figures=false", "output.progress=false")
#: A split at which this run searches some sets each way (its sets have some 100-400 people).
MIXED = 300


def _sent(monkeypatch: pytest.MonkeyPatch, small: int, s, scenario) -> tuple[list, dict]:  # type: ignore[no-untyped-def]
    """Every assignment and incident time of a run with candidate sets up to ``small`` searched
    in Python, and how many searches went each way, how many people were held by post tasks,
    sent from a post, and (Python searches) picked on their way to a post."""
    monkeypatch.setattr(dispatch, "_SMALL", small)
    seen = {"python": 0, "arrays": 0, "held": 0, "en_route": 0, "from_post": 0}
    requests: list[dispatch.Request] = []

    def observe(ctx: RunContext) -> None:
        d = ctx.dispatcher
        choose_small, ask, occupy = d._choose_small, d.request, d.occupy

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            seen["python"] += 1
            picks = choose_small(*args, **kwargs)
            for pick in picks or []:  # (person, at_post, travel, wait, phone, lead)
                seen["en_route"] += sum(math.isfinite(wait) for _, _, _, wait, _, _ in pick)
            return picks

        def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
            req = ask(*args, **kwargs)
            requests.append(req)
            return req

        def held(*args, **kwargs):  # type: ignore[no-untyped-def]
            seen["held"] += 1
            return occupy(*args, **kwargs)

        d._choose_small = counted  # type: ignore[method-assign]
        d.request = recorded  # type: ignore[method-assign]
        d.occupy = held  # type: ignore[method-assign]
        choose = d._choose

        def every(*args, **kwargs):  # type: ignore[no-untyped-def]
            seen["arrays"] += 1  # less the Python ones, below
            return choose(*args, **kwargs)

        d._choose = every  # type: ignore[method-assign]

    r = simulate(s, scenario=scenario, observe=observe)
    seen["arrays"] -= seen["python"]
    sent = []
    for req in requests:
        for a in req.assigned:
            seen["from_post"] += a.from_post
            sent.append((req.incident, a.person, repr(a.assigned_s), repr(a.mobilisation_s),
                         repr(a.travel_s), a.from_post))
    incidents = [(i.id, repr(i.first_on_scene_s), repr(i.resolved_s)) for i in r.incidents]
    return [sent, incidents], seen


@pytest.mark.slow
def test_python_and_array_searches_send_the_same_people(monkeypatch: pytest.MonkeyPatch) -> None:
    s = shipped(*CROWDED)
    scenario = build(s)
    arrays, seen_a = _sent(monkeypatch, 0, s, scenario)
    split, seen_s = _sent(monkeypatch, MIXED, s, scenario)
    python, seen_p = _sent(monkeypatch, 10**9, s, scenario)
    # the set-up means something: each way was taken, people were held and sent from posts
    assert seen_a["python"] == 0 and seen_a["arrays"] > 100, seen_a
    assert seen_p["arrays"] == 0 and seen_p["python"] > 100, seen_p
    assert seen_s["python"] > 0 and seen_s["arrays"] > 0, seen_s
    assert seen_a["held"] > 0 and seen_a["from_post"] > 0, seen_a
    assert seen_p["en_route"] > 0, seen_p  # members on their way to a post were sent
    assert len(arrays[0]) > 100
    assert split == arrays
    assert python == arrays
