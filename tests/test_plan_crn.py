"""Common random numbers across plan variants (issue 12): a plan changes the response, never the
incidents. Every kind of plan (supply-point hubs, duty posts, stations, stock levels, storm 前置
moves) run on the same seed and replication sees the same incidents as the run with no plan:
the same hazard, grid, occurrence time, grade and potential consequences, in the same order.
The incidents come from the hazards' own streams (gridsim.model.streams), which no plan draws
from, so this holds draw for draw, not in distribution."""

from __future__ import annotations

import dataclasses

import pytest

from gridsim.engine.moves import summary_of
from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.params import RunConfig
from gridsim.model.plan import Move, Plan, Sites, StockLevel
from gridsim.planning.plan_io import write_plan
from tests.conftest import settings_for

#: the small scenario through the default cloudburst (its warnings open posts at hour 28)
BASE = ("scenario=small", "duration_h=40", "output.progress=false", "output.figures=false",
        "output.events_log=false", "hazard.rate_scale=10")

PLANS = {
    "hubs": Plan(model="mclp", sites=Sites(kind="supply_points", grids=(3, 17, 40),
                                           holds=(("sandbag", 200), ("extinguisher", 20)))),
    "posts": Plan(model="mclp", sites=Sites(kind="posts", grids=(5, 33),
                                            holds=(("people", 4),))),
    "stations": Plan(model="pmedian", sites=Sites(kind="stations", grids=(12, 60),
                                                  department="fire", holds=(("units", 2),))),
    "stock": Plan(model="stock", stock=(StockLevel("grid", 7, "sandbag", 0),
                                        StockLevel("grid", 8, "extinguisher", 0),
                                        StockLevel("depot", 0, "sandbag", 5000))),
    "storm": Plan(model="storm", moves=(Move("team", 1, 2, people=2, warning=0),
                                        Move("stock", 4, 6, item="sandbag", units=20,
                                             warning=0))),
}


def _incidents(r: RunResult) -> list[tuple[object, ...]]:
    """What a plan must not change: each incident's draw (the people it would trap, those a
    post's relocation spared included, and its potential loss)."""
    return [(i.hazard, i.grid, i.occurred_s, i.grade, i.people_trapped + i.people_spared,
             i.potential_loss_cny) for i in r.incidents]


def _settings(replication: int) -> RunConfig:
    return dataclasses.replace(settings_for(*BASE), replication=replication)


@pytest.mark.parametrize("replication", [0, 1])
@pytest.mark.parametrize("name", sorted(PLANS))
def test_plan_variants_see_the_same_incidents(tmp_path, name: str, replication: int) -> None:
    base = simulate(_settings(replication))
    assert len(base.incidents) >= 5  # enough incidents for the comparison to say something
    folder = tmp_path / name
    write_plan(PLANS[name], folder)
    planned = simulate(dataclasses.replace(_settings(replication), plan=str(folder)))
    assert _incidents(planned) == _incidents(base)
    if name == "storm":  # the moves were carried out: the variant is not a run without them
        assert summary_of(planned.moves)["premoved_people"] == 2
