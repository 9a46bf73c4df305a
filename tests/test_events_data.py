"""``events.csv``'s ``data`` column: a JSON object per row with the row's typed fields, beside
the free-text ``detail`` (kept as it was).

A small busy run: every detail the engine wrote is read by its event's pattern, and the fields
agree with what the run knows independently (an incident's hazard and grade, a mode change's
new mode named by its event, a dispatched person on the roster). The events a small run does
not reach (pre-positioning moves, depot fetches, shortages) are checked on details in the
engine's own wording.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import settings_for

from gridsim.csvtext import csv_text
from gridsim.engine.recorder import EVENT_COLUMNS, EventLog, detail_fields
from gridsim.engine.simulation import RunResult, simulate
from gridsim.model.frozen import changed


@pytest.fixture(scope="module")
def busy() -> RunResult:
    s = settings_for("scenario=small", "duration_h=24", "hazard.rate_scale=20",
                     "output.figures=false", "output.progress=false",
                     "output.counterfactual=false")
    return simulate(changed(s, {"output.events_log": True}))


def test_every_detail_of_a_run_reads_as_typed_fields_that_agree_with_the_run(
        busy: RunResult) -> None:
    rows = busy.ctx.log.table_rows()
    assert len(rows) == len(busy.ctx.log.rows) > 0
    incidents = {inc.id: inc for inc in busy.incidents}
    people = busy.scenario.roster.n
    events = set()
    for t, event, _grid, incident, detail, text in rows:
        data = json.loads(text)
        assert isinstance(data, dict)
        assert "text" not in data, (event, detail)  # every wording is known
        assert (data == {}) == (detail == ""), (event, detail)
        events.add(event)
        if event == "occurred":
            inc = incidents[incident]
            assert data == {"hazard": inc.hazard, "grade": inc.grade}
        elif event.startswith("mode_"):
            assert data["to_mode"].lower() == event[len("mode_"):]
            assert data["from_mode"] != data["to_mode"]
        elif event == "dispatched":
            assert isinstance(data["person"], int) and isinstance(data["from_post"], bool)
            assert data["eta_s"] >= t - 1e-6  # an arrival time, not a duration
            assert 0 <= data["person"] < people
        elif event.startswith("reported_"):
            assert data == {"report": "initial"}
    assert {"occurred", "dispatched", "resolved", "notified"} <= events, events


def test_events_csv_keeps_detail_and_adds_data(busy: RunResult) -> None:
    log = busy.ctx.log
    text = csv_text(EVENT_COLUMNS, log.table_rows())
    before = csv_text(EVENT_COLUMNS[:-1], log.sorted_rows())
    table = list(csv.reader(io.StringIO(text)))
    old = list(csv.reader(io.StringIO(before)))
    assert table[0] == list(EVENT_COLUMNS)
    assert [r[:-1] for r in table] == old  # the five columns of before, unchanged
    assert all(isinstance(json.loads(r[-1]), dict) for r in table[1:])


@pytest.mark.parametrize(("event", "detail", "fields"), [
    # the engine's wordings (gridsim/engine/*.py), one per event a small run does not reach
    ("command_transfer", "person 12 from grid 3 by the township, 95.5 s",
     {"person": 12, "from_grid": 3, "level": "township", "trip_s": 95.5}),
    ("premove_depart", "力量前置 team of 4 from grid 7, 300.0 s",
     {"team": 4, "from_grid": 7, "trip_s": 300.0}),
    ("premove_depart", "力量前置 team of 2 from grid 7, 300.0 s (2 of 4 not free)",
     {"team": 2, "from_grid": 7, "trip_s": 300.0, "short": 2, "planned": 4}),
    ("premove_depart", "物资前置 10 sandbag from grid 5, 60.0 s (5 of 15 not in stock)",
     {"count": 10, "item": "sandbag", "from_grid": 5, "trip_s": 60.0, "short": 5,
      "planned": 15}),
    ("premove_arrive", "力量前置 team of 4 from grid 7 arrived", {"team": 4, "from_grid": 7}),
    ("premove_arrive", "物资前置 10 sandbag from grid 5 arrived",
     {"count": 10, "item": "sandbag", "from_grid": 5}),
    ("storm_supply_fetched", "sandbag: 20 sandbag from the township depot",
     {"task": "sandbag", "count": 20, "item": "sandbag"}),
    ("storm_supply_short", "sandbag: 7 units without stock", {"task": "sandbag", "short": 7}),
    ("storm_preempted", "person 3 off patrol", {"person": 3, "task": "patrol"}),
    ("supply_fetched", "2 first_aid_kit from the township depot",
     {"count": 2, "item": "first_aid_kit"}),
    ("supply_unmet", "1 extinguisher not available", {"short": 1, "item": "extinguisher"}),
    ("supply_borrowed", "3 alarm from grid 9", {"count": 3, "item": "alarm", "from_grid": 9}),
    ("depot_delivered", "township 2: 50 sandbag", {"township": 2, "count": 50,
                                                   "item": "sandbag"}),
    ("warning_start", "rainstorm_red (red) over 12 grids",
     {"warning": "rainstorm_red", "level": "red", "grids": 12}),
    ("department_arrived", "fire station 4", {"department": "fire", "station": 4}),
    ("dispatched", "person 8 (grid_worker, from post) eta 1234.5",
     {"person": 8, "role": "grid_worker", "from_post": True, "eta_s": 1234.5}),
    ("mode_forward_command", "ALERT->FORWARD_COMMAND; warning rainstorm_red",
     {"from_mode": "ALERT", "to_mode": "FORWARD_COMMAND", "reason": "warning rainstorm_red"}),
])
def test_the_engines_wordings_read_as_typed_fields(event: str, detail: str,
                                                   fields: dict) -> None:
    assert detail_fields(event, detail) == fields


def test_data_given_by_the_caller_wins_and_unknown_wordings_keep_their_text() -> None:
    log = EventLog()
    log.log(2.0, "dispatched", 1, 5, "person 8 (grid_worker) eta 9.0", data={"person": 8})
    log.log(1.0, "something_new", 1, -1, "a new wording")
    log.log(3.0, "handling", 1, 5)
    rows = log.table_rows()
    assert [r[0] for r in rows] == [1.0, 2.0, 3.0]  # time order, as sorted_rows
    assert [json.loads(r[-1]) for r in rows] == [{"text": "a new wording"}, {"person": 8}, {}]
    assert detail_fields("something_new", "a new wording") is None
    off = EventLog(enabled=False)
    off.log(1.0, "occurred", 0, 0, "fire grade IV", data={"hazard": "fire"})
    assert off.rows == [] and off.data == {} and off.table_rows() == []
