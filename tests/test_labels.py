"""Plain names of variants (gridsim.experiments.labels) and the check of an experiment file's
own ``labels``."""

from __future__ import annotations

from dataclasses import replace

from handmade import settings_for

from gridsim.experiments.checks import experiment_problems
from gridsim.experiments.labels import (
    key_name,
    split_label,
    value_label,
    value_tick,
    variant_label,
)


def test_the_registry_names_the_committed_experiments_keys_in_both_languages() -> None:
    assert value_label("evacuation.drills.per_year", "4") == ("4 drills a year", "每年演练4次")
    assert value_label("evacuation.drills.per_year", "1") == ("1 drill a year", "每年演练1次")
    # seconds shown as minutes: 480 s = 8 min
    assert value_label("response.switch.alert_delay.median_s", "480") == (
        "alert passed on in 8 min", "预警传达8分钟")
    assert value_tick("response.switch.assembly_mobilisation.median_s", "150") == "2.5"
    assert value_label("hazard.weather.warnings.switch_level", "red")[1] == "红色预警即转换"
    # a path is looked up by its last part
    assert value_label("plan", "experiments/plans/prepositioning/mclp_exact")[0] == (
        "MCLP supply points, exact")
    assert key_name("scenario.people.grid_workers_per_grid") == ("grid workers per grid",
                                                                 "每网格网格员数")


def test_own_labels_win_and_unknown_keys_fall_back_on_the_key_and_value() -> None:
    own = {"evacuation.drills.per_year=4": "quarterly drills 每季度演练", "x.y.z": "zed"}
    assert value_label("evacuation.drills.per_year", "4", own) == ("quarterly drills",
                                                                   "每季度演练")
    assert key_name("x.y.z", own) == ("zed", "zed")
    assert value_label("a.b.c", "7") == ("b.c=7", "b.c=7")
    assert variant_label({"a.b.c": "7", "d": "x"}) == ("b.c=7, d=x", "b.c=7, d=x")
    assert variant_label({"evacuation.drills.per_year": "4", "scenario": "small"}) == (
        "4 drills a year, small district", "每年演练4次，小型区县")
    assert split_label("4 drills a year 每年演练4次") == ("4 drills a year", "每年演练4次")
    assert split_label("只有中文") == ("只有中文", "只有中文")


def test_an_experiment_s_labels_must_name_swept_keys_and_values() -> None:
    s = settings_for("scenario=small", "output.progress=false")
    jobs = [["evacuation.drills.per_year=1", "replication=0"],
            ["evacuation.drills.per_year=4", "replication=0"]]
    good = {"evacuation.drills.per_year=4": "quarterly 每季度", "evacuation.drills.per_year": "d"}
    ok = replace(s, experiment=replace(s.experiment, labels=good))
    assert not [p for p in experiment_problems(ok, jobs, [ok]) if "labels" in p]
    bad = replace(s, experiment=replace(s.experiment, labels={
        "evacuation.drills.per_year=2": "two", "seed=3": "x",
        "evacuation.drills.per_year=1": " "}))
    problems = [p for p in experiment_problems(bad, jobs, [bad]) if "labels" in p]
    assert problems == [
        'experiment.labels.evacuation.drills.per_year=2: names no swept key or value (the form '
        'is "key=value" or "key" of a swept key)',
        'experiment.labels.seed=3: names no swept key or value (the form is "key=value" or '
        '"key" of a swept key)',
        "experiment.labels.evacuation.drills.per_year=1: the label is empty"]
