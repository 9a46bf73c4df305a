"""The calibration (gridsim.experiments.calibrate, ``gridsim calibrate``): it recovers known
parameters from targets made by the model itself, refuses bad specs with one line each, writes
complete report files whose met column follows the numbers, and is deterministic.

The runs are one-grid micro runs (tests/params.py): the count of incidents of a hazard type is
Poisson with mean rate × duration, so a target made at a known rate θ* identifies θ*.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from params import one_grid

from gridsim import __version__
from gridsim.app.calibrate_cmd import DEFAULT_SPEC, resolve_spec
from gridsim.app.cli import main
from gridsim.app.hydra_app import compose_settings
from gridsim.engine.simulation import simulate
from gridsim.experiments.calibrate import (
    Band,
    Target,
    _bind,
    apply,
    calibrate,
    evaluate_expression,
    leaf_paths,
    load_spec,
    parse_spec,
    spec_problems,
)
from gridsim.experiments.calibrate_output import FILES, write_calibration
from gridsim.model.params import RunConfig
from gridsim.model.validate import ConfigError
from gridsim.output.metrics import summarize

RATE = "catalogue.hazards.test.rate_per_grid_day.urban_community"
SEED = 11
REPS = 6
DURATION_H = 240.0


def _base(rate: float = 1.0) -> RunConfig:
    return one_grid(3, duration_h=DURATION_H, rate_per_day=rate)


def _two_hazards(rate_a: float, rate_b: float) -> RunConfig:
    """Two hazard types ``a`` and ``b`` (the micro test type at two rates)."""
    s = _base()
    test = s.catalogue.hazards["test"]
    hazards = {name: dataclasses.replace(test, rate_per_grid_day={"urban_community": rate})
               for name, rate in (("a", rate_a), ("b", rate_b))}
    return dataclasses.replace(s, catalogue=dataclasses.replace(s.catalogue, hazards=hazards))


def _mean_count(settings: RunConfig, key: str, reps: range) -> float:
    """The mean over replications of a summary key, from runs made here (not by the
    calibration): the targets the calibration must find its way back to."""
    values = []
    for r in reps:
        summary = summarize(simulate(dataclasses.replace(settings, seed=SEED, replication=r)),
                            __version__)
        node: Any = summary
        for part in key.split("."):
            node = node[part]
        values.append(float(node))
    return float(np.mean(values))


def _spec(parameters: dict[str, Any], targets: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "test", "seed": SEED, "replications": REPS, "final_replications": 8,
            "budget": {"max_evaluations": 40, "design": 4}, "parameters": parameters,
            "targets": targets, **extra}


# ----------------------------------------------------------------------------------------------
# recovering known parameters
# ----------------------------------------------------------------------------------------------
def test_a_known_rate_is_recovered_from_its_own_target() -> None:
    theta_star = 2.0
    target = _mean_count(_base(theta_star), "incidents", range(REPS))
    assert target > 20  # 2 a day over 10 days: enough incidents for the rate to show
    spec = parse_spec(_spec(
        {"rate": {"path": RATE, "bounds": [0.1, 20.0], "start": 0.3}},
        {"incidents": {"value": target, "band": {"relative": 0.05}}}), "test.yaml")
    cal = calibrate(spec, _base(), stream=None)
    fitted = cal.best.theta[0]
    # the tolerance: Nelder-Mead stops when its simplex is 1 % of the log range (ln 200 × 0.01,
    # about 5 % of the rate); 10 % leaves room for the steps of a count's mean
    assert abs(fitted / theta_star - 1) < 0.10, fitted
    # common random numbers: at the rate that made the target, the same replications give the
    # target exactly, so the best objective found is 0 or near it
    assert cal.best.objective < 0.05
    assert cal.evaluations[0].theta == (0.3,) and cal.evaluations[0].phase == "start"
    # the final evaluation: the fitted settings over 8 replications the fit did not see
    assert cal.final[0].mean == _mean_count(cal.settings, "incidents", range(REPS, REPS + 8))
    assert cal.settings.catalogue.hazards["test"].rate_per_grid_day["urban_community"] == fitted


@pytest.mark.slow
def test_two_rates_are_recovered_from_two_targets() -> None:
    star, reps = (3.0, 0.8), 3
    truth = _two_hazards(*star)
    targets = {f"n_{h}": {"expr": f"incidents_by_hazard.{h}", "band": {"relative": 0.05},
                          "value": _mean_count(truth, f"incidents_by_hazard.{h}", range(reps))}
               for h in ("a", "b")}
    spec = parse_spec(_spec(
        {f"rate_{h}": {"path": f"catalogue.hazards.{h}.rate_per_grid_day.urban_community",
                       "bounds": [0.1, 10.0], "start": 1.0} for h in ("a", "b")},
        targets, replications=reps, budget={"max_evaluations": 40, "design": 4}), "test.yaml")
    cal = calibrate(spec, _two_hazards(1.0, 1.0), stream=None)
    # with 3 replications of about 30 and 10 incidents, rates up to about 20 % away give the
    # same mean counts on the same random numbers (a count's mean is a step function of the
    # rate): the fit matches the targets and lands within that
    for fitted, wanted in zip(cal.best.theta, star, strict=True):
        assert abs(fitted / wanted - 1) < 0.20, (cal.best.theta, star)
    assert cal.best.means == tuple(t["value"] for t in targets.values())


def test_a_scale_on_a_group_of_paths_multiplies_each_base_value() -> None:
    s = _two_hazards(2.0, 0.5)
    spec = parse_spec(_spec({"k": {"paths": ["catalogue.hazards.*.rate_per_grid_day.*"],
                                   "mode": "scale", "bounds": [0.1, 10.0]}},
                            {"n": {"expr": "incidents", "value": 10, "band": {"factor": 2}}}),
                      "t.yaml")
    assert spec.parameters[0].mode == "scale"
    assert leaf_paths(s, "catalogue.hazards.*.rate_per_grid_day.*") == [
        ("catalogue", "hazards", "a", "rate_per_grid_day", "urban_community"),
        ("catalogue", "hazards", "b", "rate_per_grid_day", "urban_community")]
    scaled = apply(s, _bind(spec.parameters, s), [3.0])
    assert scaled.catalogue.hazards["a"].rate_per_grid_day["urban_community"] == 6.0
    assert scaled.catalogue.hazards["b"].rate_per_grid_day["urban_community"] == 1.5
    # the base settings are left as they were (dataclasses.replace along the path)
    assert s.catalogue.hazards["a"].rate_per_grid_day["urban_community"] == 2.0
    assert scaled.scenario is s.scenario  # untouched branches are shared, not copied


# ----------------------------------------------------------------------------------------------
# bands, distances, expressions
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("band, value, inside, outside", [
    (Band("relative", 0.15), 974.0, [827.9, 974.0, 1120.1], [827.0, 1121.0]),
    (Band("factor", 1.5), 158e6, [158e6 / 1.5 * 1.0001, 158e6 * 1.4999], [105e6, 238e6]),
    (Band("absolute", 2.0), 5.0, [3.0, 7.0], [2.9, 7.1]),
    (Band("at_most"), 1.0, [0.0, 1.0], [1.01]),
    (Band("at_least"), 1.0, [1.0, 50.0], [0.99]),
])
def test_a_mean_is_met_exactly_when_it_lies_in_its_band(
        band: Band, value: float, inside: list[float], outside: list[float]) -> None:
    """Two-sided bands: met exactly when the distance is at most 1 (the band's edges are at
    ±1); one-sided: a distance of 0 within the bound, growing with the excess beyond it."""
    t = Target(name="t", expr="t", value=value, band=band)
    low, high = band.interval(value)
    one_sided = band.kind in ("at_most", "at_least")
    for m in inside:
        assert t.met(m) and low <= m <= high
        assert t.distance(m) == 0.0 if one_sided else abs(t.distance(m)) <= 1.0 + 1e-12
    for m in outside:
        assert not t.met(m)
        if one_sided:
            assert abs(t.distance(m)) == pytest.approx(abs(m - value) / max(abs(value), 1.0))
        else:
            assert abs(t.distance(m)) > 1.0
    assert not t.met(math.nan) and t.distance(math.nan) == 1000.0


def test_expressions_add_up_summary_keys() -> None:
    flat = {"incidents_by_grade.I": 2, "incidents_by_grade.II": 1, "duration_h": 4380.0,
            "people_rescued": 7, "p50": None}
    e = "(incidents_by_grade.I + incidents_by_grade.II) * 8760 / duration_h"
    assert evaluate_expression(e, flat) == 6.0
    assert evaluate_expression("-people_rescued + 10", flat) == 3.0
    assert math.isnan(evaluate_expression("p50 + 1", flat))  # null in the summary
    assert math.isnan(evaluate_expression("people_rescued / (duration_h - 4380)", flat))


# ----------------------------------------------------------------------------------------------
# bad specs: one line each, naming the file and the key
# ----------------------------------------------------------------------------------------------
GOOD_PARAM = {"path": RATE, "bounds": [0.1, 10.0]}
GOOD_TARGET = {"expr": "incidents", "value": 10, "band": {"relative": 0.1}}


@pytest.mark.parametrize("change, key, words", [
    ({"targets": {"n": {**GOOD_TARGET, "band": {"relative": -0.1}}}}, "targets.n.band.relative",
     "positive number"),
    ({"targets": {"n": {**GOOD_TARGET, "band": {"factor": 0.5}}}}, "targets.n.band.factor",
     "above 1"),
    ({"targets": {"n": {**GOOD_TARGET, "band": {"within": 3}}}}, "targets.n.band",
     "a band is one of"),
    ({"targets": {"n": {**GOOD_TARGET, "band": {"at_most": 1}}}}, "targets.n.band.at_most",
     "must be true"),
    ({"targets": {"n": {**GOOD_TARGET, "expr": "open('x')"}}}, "targets.n.expr", "not allowed"),
    ({"targets": {"n": {**GOOD_TARGET, "value": "many"}}}, "targets.n.value", "a number"),
    ({"parameters": {"r": {**GOOD_PARAM, "bounds": [5.0, 1.0]}}}, "parameters.r.bounds",
     "low < high"),
    ({"parameters": {"r": {**GOOD_PARAM, "bounds": [0.0, 1.0]}}}, "parameters.r.bounds",
     "low > 0"),
    ({"parameters": {"r": {**GOOD_PARAM, "start": 50.0}}}, "parameters.r.start",
     "within the bounds"),
    ({"parameters": {}}, "parameters", "non-empty"),
    ({"budget": {"max_evaluations": 0}}, "budget.max_evaluations", "at least 1"),
    ({"replicatons": 3}, "replicatons", "unknown key"),
])
def test_a_bad_spec_gets_one_line_naming_the_key(change: dict[str, Any], key: str,
                                                 words: str) -> None:
    data = {"parameters": {"r": GOOD_PARAM}, "targets": {"n": GOOD_TARGET}, **change}
    with pytest.raises(ConfigError) as info:
        parse_spec(data, "spec.yaml")
    assert len(info.value.errors) == 1, info.value.errors
    line = info.value.errors[0]
    assert line.startswith(f"spec.yaml: {key}: ") and words in line, line


def test_paths_and_target_keys_are_checked_against_the_settings() -> None:
    spec = parse_spec({
        "parameters": {
            "typo": {"path": "catalogue.hazards.test.rate_per_grid_dy.urban_community",
                     "bounds": [0.1, 10.0]},
            "nokind": {"path": "catalogue.hazards.test.rate_per_grid_day.rural",
                       "bounds": [0.1, 10.0]},
            "notnum": {"path": "catalogue.name", "bounds": [0.1, 10.0]}},
        "targets": {"x": {"expr": "rescuez + incidents", "value": 1, "band": {"at_most": True}},
                    "h": {"expr": "incidents_by_hazard.flood", "value": 1,
                          "band": {"at_most": True}}}}, "spec.yaml")
    problems = spec_problems(spec, _base())
    assert len(problems) == 5
    assert problems[0].startswith("spec.yaml: parameters.typo.path: unknown key "
                                  "'rate_per_grid_dy'")
    assert "the keys there are urban_community" in problems[1]
    assert problems[2] == ("spec.yaml: parameters.notnum.path: catalogue.name holds str "
                           "'test', not a number")
    assert problems[3].startswith("spec.yaml: targets.x.expr: 'rescuez' is not a key")
    assert "did you mean incidents_by_hazard.test?" in problems[4]


def test_bounds_where_the_settings_fail_their_checks_are_refused() -> None:
    share = "catalogue.detection.resident_report.coverage.urban_community"
    spec = parse_spec({"parameters": {"cov": {"path": share, "bounds": [0.5, 3.0],
                                              "log": False, "start": 1.0}},
                       "targets": {"n": GOOD_TARGET}}, "spec.yaml")
    problems = spec_problems(spec, _base())
    assert all(p.startswith("spec.yaml: parameters.cov.bounds: at ") for p in problems)
    assert ("spec.yaml: parameters.cov.bounds: at 3 the run settings do not check: "
            f"{share}: must be <= 1, got 3.0") in problems, problems


def test_an_empty_spec_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    assert main(["calibrate", "--spec", str(empty), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gridsim: the calibration spec is empty: {empty} (a spec names overrides, "
                   "parameters and targets: see docs/calibration.md)"]
    assert not (tmp_path / "out").exists()  # nothing made before the spec checks


def test_a_bad_band_fails_the_command_before_anything_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters: {r: {path: hazard.rate_scale, bounds: [0.5, 2]}}\n"
                   "targets: {n: {expr: incidents, value: 10, band: {factor: 1}}}\n",
                   encoding="utf-8")
    assert main(["calibrate", "--spec", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"gridsim: {bad}: targets.n.band.factor: must be a number above 1, got 1"]
    assert main(["calibrate", "--spec", str(tmp_path / "none.yaml")]) == 2
    assert "calibration spec not found" in capsys.readouterr().err


def test_the_shipped_spec_reads_and_is_found_by_name() -> None:
    path = resolve_spec(DEFAULT_SPEC)
    assert resolve_spec("suining_2025") == path
    spec = load_spec(path)
    assert "scenario=suining_city" in spec.overrides and "hazard=suining_2025" in spec.overrides
    # hazard=suining_2025 sets the 199 days (1 January - 18 July 2025) itself
    assert not any(o.startswith("duration_h=") for o in spec.overrides)
    settings, _ = compose_settings(list(spec.overrides))
    assert settings.duration_h == 199 * 24
    # 营救疏散被困人员: trapped people brought out, not storm work's preventive relocations
    assert {t.name: t.expr for t in spec.targets}["people_rescued"] == "people_rescued"
    values = {t.name: (t.value, t.band) for t in spec.targets}
    # the account's figures (docs/domain.md) and the bands of issue 11
    assert values == {"rescues": (974, Band("relative", 0.15)),
                      "people_rescued": (427, Band("relative", 0.25)),
                      "losses_averted": (158e6, Band("factor", 1.5)),
                      "ebike_fires": (23, Band("relative", 0.40)),
                      "grade_I_II_per_year": (1, Band("at_most"))}


# ----------------------------------------------------------------------------------------------
# the report files, determinism
# ----------------------------------------------------------------------------------------------
def _conflicting_spec() -> tuple[dict[str, Any], float]:
    """One rate, two targets on the same count that cannot both be met: the fit lands near the
    first (weighted 10:1) and misses the second, three times as large."""
    target = _mean_count(_base(2.0), "incidents", range(4))
    return _spec({"rate": {"path": RATE, "bounds": [0.1, 20.0], "start": 1.0}},
                 {"near": {"expr": "incidents", "value": target, "band": {"relative": 0.3},
                           "weight": 10, "label": "incidents", "label_zh": "事件数"},
                  "far": {"expr": "incidents", "value": 3 * target, "band": {"relative": 0.1}}},
                 replications=4, budget={"max_evaluations": 12, "design": 2}), target


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same calibration written twice, into two folders."""
    data, _ = _conflicting_spec()
    folders = []
    for name in ("one", "two"):
        out = tmp_path_factory.mktemp(name)
        cal = calibrate(parse_spec(data, "conflict.yaml"), _base(), stream=None)
        write_calibration(cal, out, "gridsim calibrate --spec conflict.yaml")
        folders.append(out)
    return folders[0], folders[1]


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.mark.slow
def test_the_report_files_are_complete(reports: tuple[Path, Path]) -> None:
    out = reports[0]
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert not list(out.glob("*.part"))
    data = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert [t["name"] for t in data["targets"]] == ["near", "far"]
    assert [p["name"] for p in data["parameters"]] == ["rate"]
    assert data["parameters"][0]["leaves"] == [RATE] and data["parameters"][0]["start"] == 1.0
    trace = _rows(out / "trace.csv")
    assert len(trace) == data["evaluations"] <= 12
    assert list(trace[0]) == ["evaluation", "phase", "rate", "mean.near", "mean.far",
                              "objective"]
    best = min(trace, key=lambda r: float(r["objective"]))
    assert float(best["rate"]) == pytest.approx(data["parameters"][0]["fitted"])
    assert float(best["objective"]) == pytest.approx(data["best_objective"])
    md = (out / "calibration.md").read_text(encoding="utf-8")
    for heading in ("## Targets 目标", "## Fitted parameters 拟合参数", "## Method 方法",
                    "## Command 命令", "## Cost 成本"):
        assert heading in md
    assert "gridsim calibrate --spec conflict.yaml" in md
    assert f"{data['evaluations']} evaluations of 4 replications" in md
    assert "| incidents 事件数 |" in md and "| far |" in md
    assert (out / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_met_column_follows_the_numbers(reports: tuple[Path, Path]) -> None:
    rows = _rows(reports[0] / "targets.csv")
    assert [r["target"] for r in rows] == ["near", "far"]
    for r in rows:
        mean, low, high = float(r["mean"]), float(r["band_low"]), float(r["band_high"])
        assert r["met"] == ("yes" if low <= mean <= high else "no"), r
        assert float(r["ci95_low"]) <= mean <= float(r["ci95_high"])
    assert [r["met"] for r in rows] == ["yes", "no"]  # three times as many cannot be met too
    md = (reports[0] / "calibration.md").read_text(encoding="utf-8")
    assert "1 of 2 targets met" in md
    table = [line for line in md.splitlines() if line.startswith(("| incidents", "| far"))]
    assert [line.rstrip(" |").rsplit("| ", 1)[-1] for line in table] == ["yes 是", "no 否"]


def test_the_same_spec_and_seed_give_the_same_files(reports: tuple[Path, Path]) -> None:
    one, two = reports
    for name in FILES:
        a, b = (one / name).read_bytes(), (two / name).read_bytes()
        if name == "calibration.md":  # its cost line has the CPU and wall time
            a, b = (b"\n".join(line for line in x.splitlines() if b"CPU " not in line)
                    for x in (a, b))
        assert a == b, name


@pytest.mark.slow  # joblib's worker processes start in a few seconds
def test_worker_processes_give_the_same_evaluations() -> None:
    data, _ = _conflicting_spec()
    data["budget"] = {"max_evaluations": 4, "design": 2}
    spec = parse_spec(data, "conflict.yaml")
    alone = calibrate(spec, _base(), stream=None)
    workers = calibrate(spec, _base(), stream=None, n_jobs=2)
    assert workers.evaluations == alone.evaluations
    assert [r.values for r in workers.final] == [r.values for r in alone.final]


def test_progress_lines_say_how_long_is_left() -> None:
    data, _ = _conflicting_spec()
    data["budget"] = {"max_evaluations": 3, "design": 1}
    stream = io.StringIO()
    calibrate(parse_spec(data, "conflict.yaml"), _base(), stream=stream)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("calibrate: test: 1 parameters, 2 targets")
    assert any("evaluation 1 of at most 3 (start)" in line and "left" in line for line in lines)
    assert re.fullmatch(r"calibrate: [0-2] of 2 targets met; \d+ s of CPU", lines[-1]), lines
