"""The typed records of a drill: action ids and their one parser, and scripts and evaluations
that go to their files and come back unchanged.

The keys checked here are the public contract of drill.json and after_action.json (README,
"Drills"), written out in this file rather than taken from the code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gridsim.app.hydra_app import compose_settings
from gridsim.drills.evaluate import evaluate, load_drill, script_from_json
from gridsim.drills.records import (
    EVACUATION_ACTIONS,
    INCIDENT_ACTIONS,
    SECOND_ACTIONS,
    SWITCH_ACTIONS,
    Action,
    ActionId,
    DrillScript,
    LogEntry,
)
from gridsim.drills.render import (
    DRILL_FILES,
    LOG_TEMPLATE,
    after_action_json,
    drill_json,
    write_after_action,
    write_drill,
)
from gridsim.drills.script import build_script
from gridsim.drills.timings import simulate_drill
from gridsim.drills.variants import choose_variant, drill_run
from gridsim.engine.simulation import build

ID_FORM = re.compile(r"^(g(0|[1-9]\d*)|inc[12])\.[a-z_]+$")

DRILL_KEYS = ["format", "gridsim_version", "name", "seed", "replications", "start_h",
              "horizon_h", "scenario", "catalogue", "hazard_setting", "response", "choices",
              "variant", "hazards", "grade_names", "header", "injects", "msel_columns", "msel",
              "contingency", "final_seq", "end_s"]
HEADER_KEYS = ["name", "title", "objectives", "scenario", "participants", "resources",
               "safety_rules", "timing"]
OBJECTIVE_KEYS = ["id", "category", "category_name", "capability", "capability_name", "text"]
INJECT_KEYS = ["key", "at_s", "time", "type", "delivery", "from", "to", "text", "narration",
               "dialogue"]
ROW_KEYS = ["seq", "time_s", "time", "inject_key", "inject_type", "delivery_method", "from",
            "to", "inject", "action", "key", "grid", "expected_action", "responsible_role",
            "median_s", "p10_s", "p90_s", "reached", "samples_s", "after", "objective_id",
            "objective", "category", "capability", "evaluation_criterion"]
CONTINGENCY_KEYS = ["id", "for_seq", "time_s", "time", "condition", "from", "to", "inject"]
VARIANT_KEYS = ["seed", "grids", "warning", "incident_grid", "hazard", "grade", "incident_at_s",
                "scene", "extra", "extra_grid", "extra_at_s", "second_hazard", "second_scene",
                "switched", "evacuation_at_s"]
AFTER_ACTION_KEYS = ["format", "name", "title", "seed", "scenario", "replications", "observed",
                     "late", "missing", "late_seqs", "final_seq", "chain", "most_delaying",
                     "objectives", "actions"]
RESULT_KEYS = ["seq", "action", "key", "label", "role", "objective_id", "capability",
               "median_s", "p10_s", "p90_s", "actual_s", "percentile", "late", "excess_s",
               "after", "added_delay_s", "corrective", "capability_name"]


@pytest.fixture(scope="module")
def drill() -> tuple[DrillScript, object]:
    """A script of the small scenario with a second incident (so both incidents have rows),
    from 4 replications, and its variant."""
    s, choices = compose_settings(["scenario=small", "drill.grids=[0,1,2]", "seed=2",
                                   "drill.extra_injects=[second_incident]"])
    sc = build(s)
    v = choose_variant(s, sc)
    run, sc2 = drill_run(s, sc, v)
    samples = simulate_drill(run, sc2, v, 4)
    return build_script(s, sc, v, samples, choices), (v, samples)


# ----------------------------------------------------------------------------------------------
# action ids
# ----------------------------------------------------------------------------------------------
def _every_id() -> list[ActionId]:
    ids = [ActionId.of_grid(g, k) for g in (0, 7, 18175) for k in SWITCH_ACTIONS]
    ids += [ActionId.of_grid(g, k) for g in (0, 12) for k in EVACUATION_ACTIONS]
    ids += [ActionId.of_incident(1, k) for k in INCIDENT_ACTIONS]
    ids += [ActionId.of_incident(2, k) for k in INCIDENT_ACTIONS]
    return ids


def test_action_ids_round_trip_through_their_one_parser() -> None:
    ids = _every_id()
    assert len(set(ids)) == len(ids) == 9 + 12 + 22
    for aid in ids:
        text = str(aid)
        assert ID_FORM.match(text), text
        assert ActionId.parse(text) == aid
    assert str(ActionId.of_grid(12, Action.POST_READY)) == "g12.post_ready"
    assert str(ActionId.of_incident(2, Action.FIRST_ON_SCENE)) == "inc2.first_on_scene"
    assert set(SECOND_ACTIONS) <= set(INCIDENT_ACTIONS)
    assert not set(SWITCH_ACTIONS + EVACUATION_ACTIONS) & set(INCIDENT_ACTIONS)


@pytest.mark.parametrize("text", ["post_ready", "g12", "g12.", "g012.post_ready",
                                  "g-1.post_ready", "x3.post_ready", "inc3.resolved",
                                  "inc1.post_ready", "g3.resolved", "g3.nothing", "G3.post_ready",
                                  "g３.post_ready", ""])
def test_malformed_action_ids_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected an action id like|grid's action|incident's"):
        ActionId.parse(text)


def test_an_action_happens_in_one_place() -> None:
    with pytest.raises(ValueError, match="give one of grid and incident"):
        ActionId(Action.RESOLVED)
    with pytest.raises(ValueError, match="give one of grid and incident"):
        ActionId(Action.RESOLVED, grid=1, incident=1)
    with pytest.raises(ValueError, match="incident's action"):
        ActionId(Action.RESOLVED, grid=1)
    with pytest.raises(ValueError, match="grid's action"):
        ActionId(Action.POST_READY, incident=1)
    with pytest.raises(TypeError):
        ActionId("post_ready", grid=1)  # type: ignore[arg-type]


def test_samples_are_keyed_by_where_each_action_happens(drill: tuple) -> None:
    script, (v, samples) = drill
    assert samples and all(isinstance(a, ActionId) for a in samples)
    for aid, xs in samples.items():
        assert len(xs) == 4, aid
        if aid.key in SWITCH_ACTIONS:
            assert aid.grid in v.switched, aid
        elif aid.key in EVACUATION_ACTIONS:
            assert aid.grid in v.grids, aid
        elif aid.second:
            assert aid.key in SECOND_ACTIONS, aid
        else:
            assert aid.incident == 1 and aid.key in INCIDENT_ACTIONS, aid
    assert v.extra == "second_incident"
    assert any(a.second for a in samples) and any(m.action and m.action.second
                                                  for m in script.msel)


# ----------------------------------------------------------------------------------------------
# a script and its files
# ----------------------------------------------------------------------------------------------
def test_a_script_reads_back_equal_and_writes_the_same_bytes(drill: tuple, tmp_path: Path
                                                            ) -> None:
    script = drill[0]
    first = write_drill(script, tmp_path / "a")
    loaded, folder = load_drill(tmp_path / "a")
    assert folder == tmp_path / "a"
    assert loaded == script
    second = write_drill(loaded, tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second] == [
        "drill_script.md", "msel.csv", "evaluation_sheet.md", LOG_TEMPLATE, "drill.json"]
    assert set(DRILL_FILES) <= {p.name for p in first}
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    data = json.loads((tmp_path / "a" / "drill.json").read_text(encoding="utf-8"))
    assert drill_json(loaded) == data
    assert script_from_json(data, tmp_path / "a" / "drill.json") == script
    assert not list(tmp_path.rglob("*.part"))


def test_drill_json_keeps_its_keys(drill: tuple, tmp_path: Path) -> None:
    write_drill(drill[0], tmp_path)
    data = json.loads((tmp_path / "drill.json").read_text(encoding="utf-8"))
    assert list(data) == DRILL_KEYS
    assert data["format"] == "gridsim-drill/1"
    assert list(data["header"]) == HEADER_KEYS
    assert all(list(o) == OBJECTIVE_KEYS for o in data["header"]["objectives"])
    assert all(list(p) == ["unit", "people", "role"] for p in data["header"]["participants"])
    assert all(list(r) == ["unit", "items"] for r in data["header"]["resources"])
    assert all(list(i) == INJECT_KEYS for i in data["injects"])
    assert all(list(m) == ROW_KEYS for m in data["msel"])
    assert all(list(c) == CONTINGENCY_KEYS for c in data["contingency"])
    assert list(data["variant"]) == VARIANT_KEYS
    for m in data["msel"]:
        assert m["action"] == "" or ID_FORM.match(m["action"]), m["action"]
        assert set(m["expected_action"]) == {"zh", "en"}
    log = (tmp_path / LOG_TEMPLATE).read_text(encoding="utf-8").splitlines()
    assert log[0] == "seq,action,actual"
    assert [line.split(",")[1] for line in log[1:]] == [m["action"] for m in data["msel"]
                                                        if m["action"]]


@pytest.mark.slow
def test_the_evaluation_is_the_same_from_the_built_and_the_loaded_script(
        drill: tuple, tmp_path: Path) -> None:
    script = drill[0]
    write_drill(script, tmp_path / "d")
    loaded, _ = load_drill(tmp_path / "d" / "drill.json")
    timed = [m for m in script.msel if m.action is not None]
    # on time but the first row, 20 minutes late; the second not observed
    log = [LogEntry(seq=m.seq, actual_s=None if i == 1 else round(m.median_s) + (
        1200 if i == 0 else 0), row=i + 2) for i, m in enumerate(timed)]
    ev = evaluate(script, log)
    assert ev == evaluate(loaded, log)
    assert ev.late_seqs == (timed[0].seq,) and ev.missing == 1
    assert ev.observed == len(timed) - 1 == len(ev.actions) - 1
    a = ev.action(timed[0].seq)
    assert a.action == timed[0].action and a.excess_s == pytest.approx(
        round(timed[0].median_s) + 1200 - timed[0].median_s)
    paths = write_after_action(ev, tmp_path / "aar1")
    again = write_after_action(evaluate(loaded, log), tmp_path / "aar2")
    for p, q in zip(paths, again, strict=True):
        assert p.read_bytes() == q.read_bytes(), p.name
    data = json.loads((tmp_path / "aar1" / "after_action.json").read_text(encoding="utf-8"))
    assert data == after_action_json(ev)
    assert list(data) == AFTER_ACTION_KEYS and data["format"] == "gridsim-after-action/1"
    assert all(list(r) == RESULT_KEYS for r in data["actions"])
    assert all(list(o) == [*OBJECTIVE_KEYS, "actions", "late", "missing", "rating"]
               for o in data["objectives"])
    assert [r["action"] for r in data["actions"]] == [str(m.action) for m in timed]
