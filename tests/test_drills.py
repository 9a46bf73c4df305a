"""Drill scripts and after-action evaluation: ``gridsim drill script`` and ``... evaluate``.

Scripts come from the console script (a subprocess, as a drill designer runs it) on the small
scenario with few replications; the variants and the log checks also run in-process, which is
faster. Time standards are checked against numpy's quantiles of the samples stored in
drill.json, not against numbers the code produced.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from console import explain, gridsim

from gridsim.app.drill_cmd import drill_main
from gridsim.app.hydra_app import compose_settings
from gridsim.drills.evaluate import parse_time
from gridsim.drills.records import Action, ActionId
from gridsim.drills.script import MSEL_COLUMNS, build_script, fmt_t
from gridsim.drills.timings import simulate_drill
from gridsim.drills.variants import EXTRA_INJECTS, choose_variant, drill_run
from gridsim.engine.simulation import build
from gridsim.model.validate import ConfigError

DRILL = ("scenario=small", "drill.grids=[0,1,2]", "drill.replications=12")
FILES = ("drill_script.md", "msel.csv", "evaluation_sheet.md", "drill.json")
T_PLUS = re.compile(r"^T\+\d{2,}:[0-5]\d$")




@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Seed 3 twice (into two folders) and seed 4: ``a`` from the console script (a process of
    its own, as a drill designer runs it), ``b`` and ``c`` through the same command in this
    process (``gridsim drill`` is ``drill_main``), so that ``a`` and ``b`` are two separate
    executions of one command, one of them in a process that has run other tests."""
    cwd = tmp_path_factory.mktemp("drills")
    out = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        folder = cwd / name
        args = ("script", *DRILL, f"seed={seed}", "--out", str(folder))
        if name == "a":
            proc = gridsim("drill", *args, cwd=cwd)
            assert proc.returncode == 0, explain(proc)
            assert "Traceback" not in proc.stderr
            assert str(folder) in proc.stdout
        else:
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = drill_main(list(args))
            assert code == 0, stdout.getvalue() + stderr.getvalue()
            assert str(folder) in stdout.getvalue()
        out[name] = folder
    return out


def _doc(folder: Path) -> dict:
    return json.loads((folder / "drill.json").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------------------------
# the script
# ----------------------------------------------------------------------------------------------
def test_script_writes_the_files_in_both_languages(scripts: dict[str, Path]) -> None:
    folder = scripts["a"]
    for name in FILES:
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    assert not list(folder.glob("*.part"))
    md = (folder / "drill_script.md").read_text(encoding="utf-8")
    for heading in ("## 一、演练名称与目标", "## 七、主情景事件清单（MSEL）", "## 八、导演脚本",
                    "## 九、应急备用注入", "## 1. Name and objectives",
                    "## 7. Master scenario events list (MSEL)", "## 9. Contingency injects",
                    "## 5. Safety rules", "## 五、安全规则", "## 3. Participants and roles"):
        assert heading in md, heading
    assert "【这是演练】" in md and "[THIS IS A DRILL]" in md
    sheet = (folder / "evaluation_sheet.md").read_text(encoding="utf-8")
    assert "演练评估表" in sheet and "Exercise Evaluation Guide" in sheet
    assert "## 三、能力评级标准" in sheet and "## 3. Rating scale" in sheet


def test_msel_columns_times_and_standards(scripts: dict[str, Path]) -> None:
    folder = scripts["a"]
    with open(folder / "msel.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == MSEL_COLUMNS == (
        "seq", "time", "inject_type", "delivery_method", "from", "to", "inject",
        "expected_action", "responsible_role", "time_standard_median", "time_standard_p90",
        "objective", "evaluation_criterion")
    doc = _doc(folder)
    main = [r for r in rows[1:] if not r[0].startswith("C")]
    contingency = [r for r in rows[1:] if r[0].startswith("C")]
    assert len(main) == len(doc["msel"]) >= 8
    assert len(contingency) == len(doc["contingency"]) >= 1
    for row, m in zip(main, doc["msel"], strict=True):
        assert int(row[0]) == m["seq"]
        assert T_PLUS.match(row[1]), row[1]
        x = np.array([s for s in m["samples_s"] if s is not None], dtype=float)
        assert len(x) >= 0.5 * doc["replications"]
        median, p90 = np.quantile(x, 0.5), np.quantile(x, 0.9)
        assert m["median_s"] == pytest.approx(median, abs=1e-9)
        assert m["p90_s"] == pytest.approx(p90, abs=1e-9)
        assert row[9] == fmt_t(median) and row[10] == fmt_t(p90)
        assert T_PLUS.match(row[9]) and T_PLUS.match(row[10])
        assert " / " in row[7] and " / " in row[11], "bilingual cells"
    times = [m["time_s"] for m in doc["msel"]]
    assert times == sorted(times), "the MSEL is in time order"
    assert [m["seq"] for m in doc["msel"]] == list(range(1, len(doc["msel"]) + 1))


def test_same_seed_same_bytes_other_seed_other_injects(scripts: dict[str, Path]) -> None:
    for name in FILES:
        assert (scripts["a"] / name).read_bytes() == (scripts["b"] / name).read_bytes(), name
    a, c = _doc(scripts["a"]), _doc(scripts["c"])
    assert a["variant"] != c["variant"]
    assert [i["text"] for i in a["injects"]] != [i["text"] for i in c["injects"]]


@pytest.mark.slow
def test_every_extra_inject_and_a_drill_without_warning() -> None:
    for extra in EXTRA_INJECTS:
        s, choices = compose_settings(["scenario=small", "drill.grids=[0,1,2]", "seed=2",
                                       f"drill.extra_injects=[{extra}]"])
        sc = build(s)
        v = choose_variant(s, sc)
        assert v.extra == extra
        run, sc2 = drill_run(s, sc, v)
        doc = build_script(s, sc, v, simulate_drill(run, sc2, v, 4), choices)
        keys = [i.key for i in doc.injects]
        assert sorted(keys) == sorted(["warning", "incident", "evacuation", extra]), keys
        assert [i.at_s for i in doc.injects] == sorted(i.at_s for i in doc.injects)
        rows = [m for m in doc.msel if m.inject_key == extra]
        assert rows and rows[0].inject.en.startswith("[THIS IS A DRILL]"), extra
        assert rows[0].median_s is not None, f"{extra} prompts a timed action"
        if extra == "second_incident":
            assert any(m.action is not None and m.action.second for m in doc.msel)
            assert any(str(m.action).startswith("inc2.") for m in doc.msel)
    s, choices = compose_settings(["scenario=small", "hazard=calm", "drill.grids=[0,1]",
                                   "drill.evacuate=false"])
    sc = build(s)
    v = choose_variant(s, sc)
    assert v.warning is None and v.incident_at_s == 0.0 and v.evacuation_at_s == -1.0
    run, sc2 = drill_run(s, sc, v)
    doc = build_script(s, sc, v, simulate_drill(run, sc2, v, 4), choices)
    assert doc.msel[0].inject_key == "incident" and doc.msel[0].time == "T+00:00"
    assert "evacuation" not in [i.key for i in doc.injects]
    assert doc.final_seq is not None
    assert doc.row(doc.final_seq).action == ActionId.of_incident(1, Action.RESOLVED)
    assert str(doc.row(doc.final_seq).action) == "inc1.resolved"


def test_a_weather_driven_storm_opens_the_drill_with_its_most_severe_forecast_warning() -> None:
    """The default rainstorm is a design storm with forecast warnings and no scripted one: the
    drill opens with the most severe level the forecast reaches, and stages it alone (the drill's
    run has no weather of its own on top)."""
    from gridsim.engine.hazards import catalogue_from_config
    from gridsim.engine.weather import build_weather
    from gridsim.model.streams import Streams
    from gridsim.model.weather import LEVELS

    s, _ = compose_settings(["scenario=small", "drill.grids=[0,1]", "seed=3"])
    assert not s.hazard.warnings and s.hazard.weather.kind != "none"
    sc = build(s)
    forecast = build_weather(s, sc, catalogue_from_config(s.catalogue),
                             Streams(s.seed, s.replication))
    assert forecast is not None and forecast.warnings
    top = max(LEVELS.index(w.level) for w in forecast.warnings)
    v = choose_variant(s, sc)
    assert v.warning is not None and v.warning.level == LEVELS[top]
    assert v.hazard in {h for h, hc in s.catalogue.hazards.items() if hc.rain.max_multiplier > 1}
    run, _ = drill_run(s, sc, v)
    assert run.hazard.weather.kind == "none" and run.hazard.warnings[0] == v.warning


def test_evacuation_actions_for_every_grid(scripts: dict[str, Path]) -> None:
    doc = _doc(scripts["a"])
    v = doc["variant"]
    assert v["evacuation_at_s"] > v["incident_at_s"]
    actions = {m["action"] for m in doc["msel"]}
    for g in v["grids"]:
        for key in ("first_departed", "last_departed", "first_sheltered", "clearance"):
            assert f"g{g}.{key}" in actions, (g, key)
    evac = [m for m in doc["msel"] if m["inject_key"] == "evacuation"]
    assert evac[0]["time_s"] == v["evacuation_at_s"]
    assert all(m["median_s"] >= v["evacuation_at_s"] for m in evac)
    final = next(m for m in doc["msel"] if m["seq"] == doc["final_seq"])
    assert final["key"] == "clearance"
    assert final["median_s"] == max(m["median_s"] for m in doc["msel"] if m["key"] == "clearance")


@pytest.mark.slow
def test_the_seed_picks_a_grid_when_none_is_given() -> None:
    picked = set()
    for seed in (1, 2, 3):
        s, _ = compose_settings(["scenario=small", f"seed={seed}"])
        v = choose_variant(s, build(s))
        assert len(v.grids) == 1 and v.incident_grid == v.grids[0]
        picked.add(v.grids[0])
    assert len(picked) > 1


def test_bad_drill_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError) as exc:
        compose_settings(["scenario=small", "drill.grids=[0,999]", "drill.replications=1",
                          "drill.grade=V", "drill.extra_injects=[meteor]"])
    text = "\n".join(exc.value.errors)
    for key in ("drill.grids", "drill.replications", "drill.grade", "drill.extra_injects"):
        assert key in text, text


# ----------------------------------------------------------------------------------------------
# evaluation
# ----------------------------------------------------------------------------------------------
def _write_log(path: Path, rows: list[list[object]], header: tuple[str, ...] = ("seq", "action",
                                                                               "actual")) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _median_log(doc: dict, late_seq: int, late_s: float) -> list[list[object]]:
    rows: list[list[object]] = []
    for m in doc["msel"]:
        if not m["action"]:
            continue
        t = late_s if m["seq"] == late_seq else round(m["median_s"])
        rows.append([m["seq"], m["action"], fmt_t(t)])
    return rows


@pytest.mark.slow
def test_evaluate_flags_exactly_the_late_action(scripts: dict[str, Path], tmp_path: Path) -> None:
    folder = scripts["a"]
    doc = _doc(folder)
    late = next(m for m in doc["msel"] if m["action"].endswith("first_on_scene"))
    x = np.array([s for s in late["samples_s"] if s is not None], dtype=float)
    late_s = float(round(x.max() + 600))
    log = _write_log(tmp_path / "log.csv", _median_log(doc, late["seq"], late_s))
    out = tmp_path / "aar"
    proc = gridsim("drill", "evaluate", str(folder), str(log), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    ev = json.loads((out / "after_action.json").read_text(encoding="utf-8"))
    assert ev["late_seqs"] == [late["seq"]]
    by_seq = {a["seq"]: a for a in ev["actions"]}
    assert by_seq[late["seq"]]["percentile"] == 100.0
    for a in ev["actions"]:
        m = next(r for r in doc["msel"] if r["seq"] == a["seq"])
        xs = np.array([s for s in m["samples_s"] if s is not None], dtype=float)
        t = parse_time(fmt_t(late_s if a["seq"] == late["seq"] else round(m["median_s"])))
        assert a["percentile"] == pytest.approx(100.0 * np.mean(xs <= t))
        assert a["late"] == (a["seq"] == late["seq"])
    md = (out / "after_action.md").read_text(encoding="utf-8")
    assert "演练评估报告" in md and "After-Action Report" in md
    assert "## 五、改进措施" in md and "## 5. Corrective actions (improvement plan)" in md
    assert (out / "after_action.png").stat().st_size > 0
    assert f"#{late['seq']}" in proc.stdout and "late" in proc.stdout


def test_the_action_that_delayed_clearance(scripts: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = scripts["a"]
    doc = _doc(folder)
    by_seq = {m["seq"]: m for m in doc["msel"]}
    final = by_seq[doc["final_seq"]]
    chain = []
    seq = final["seq"]
    while seq is not None:
        chain.append(seq)
        seq = by_seq[seq]["after"]
    assert len(chain) >= 2, "the clearance waits on an earlier action"
    slow = by_seq[chain[1]]  # the action the clearance waits on: 30 min late, and so is it
    rows = []
    for m in doc["msel"]:
        if not m["action"]:
            continue
        t = round(m["median_s"]) + (1800 if m["seq"] in (slow["seq"], final["seq"]) else 0)
        rows.append([m["seq"], m["expected_action"]["en"], fmt_t(t)])  # labels work too
    log = _write_log(tmp_path / "log.csv", rows)
    assert drill_main(["evaluate", str(folder / "drill.json"), str(log), "--out",
                       str(tmp_path)]) == 0
    ev = json.loads((tmp_path / "after_action.json").read_text(encoding="utf-8"))
    assert ev["most_delaying"][0] == slow["seq"]
    assert ev["chain"][-1] == final["seq"]
    added = {a["seq"]: a["added_delay_s"] for a in ev["actions"]}
    assert added[slow["seq"]] == pytest.approx(1800, abs=1)
    assert added[final["seq"]] == pytest.approx(0, abs=1)
    assert "most delayed clearance" in capsys.readouterr().out


def test_actions_not_observed(scripts: dict[str, Path], tmp_path: Path) -> None:
    folder = scripts["a"]
    doc = _doc(folder)
    rows = _median_log(doc, late_seq=-1, late_s=0.0)
    rows[0][2] = ""  # not observed
    del rows[1]  # not in the log at all
    log = _write_log(tmp_path / "log.csv", rows)
    assert drill_main(["evaluate", str(folder), str(log), "--out", str(tmp_path)]) == 0
    ev = json.loads((tmp_path / "after_action.json").read_text(encoding="utf-8"))
    assert ev["missing"] == 2 and ev["late"] == 0
    assert ev["observed"] == len(ev["actions"]) - 2
    assert {o["rating"] for o in ev["objectives"]} <= {"P", "S"}


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert drill_main(["--help"]) == 0
    assert drill_main(["script", "--help"]) == 0
    assert "gridsim drill evaluate" in capsys.readouterr().out
    assert drill_main(["rehearse"]) == 2


def test_time_formats() -> None:
    assert parse_time("T+12:30") == 750.0
    assert parse_time("t+1:02:03") == 3723.0
    assert parse_time("125:00") == 7500.0
    assert parse_time("754.5") == 754.5
    assert parse_time(" ") is None
    assert parse_time("T-01:00") == -60.0
    for bad in ("soon", "12:75", "T+1:2:3:4", "nan"):
        with pytest.raises(ValueError):
            parse_time(bad)


@pytest.mark.parametrize(("rows", "column", "words"), [
    ([[99, "g0.post_ready", "T+10:00"]], "seq", "no row #99"),
    ([["x", "g0.post_ready", "T+10:00"]], "seq", "not a sequence number"),
    ([[1, "somebody did something", "T+10:00"]], "action", "is not the action of row #1"),
    ([[1, None, "ten past"]], "actual", "cannot read 'ten past'"),
    ([[1, None, "-30"]], "actual", "before the drill began"),
    ([[1, None, "T+10:00"], [1, None, "T+11:00"]], "seq", "given twice (first in row 2)"),
])
def test_malformed_logs_name_row_and_column(scripts: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str], rows: list,
                                            column: str, words: str) -> None:
    doc = _doc(scripts["a"])
    first = doc["msel"][0]
    rows = [[r[0], first["action"] if r[1] is None else r[1], r[2]] for r in rows]
    log = _write_log(tmp_path / "bad.csv", rows)
    code = drill_main(["evaluate", str(scripts["a"]), str(log), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    bad_row = len(rows) + 1
    assert f"{log}: row {bad_row}, column '{column}'" in err, err
    assert words in err, err
    assert not (tmp_path / "after_action.md").exists()


def test_malformed_log_every_problem_at_once_without_traceback(scripts: dict[str, Path],
                                                                tmp_path: Path) -> None:
    doc = _doc(scripts["a"])
    a, b = doc["msel"][0], doc["msel"][1]
    log = _write_log(tmp_path / "bad.csv", [[a["seq"], a["action"], "T+05:00"],
                                            [b["seq"], "wrong", "T+06:00"],
                                            [500, a["action"], "T+07:00"],
                                            [a["seq"], a["action"], "soon"]])
    proc = gridsim("drill", "evaluate", str(scripts["a"]), str(log), cwd=tmp_path)
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr
    for where in ("row 3, column 'action'", "row 4, column 'seq'", "row 5, column 'seq'"):
        assert where in proc.stderr, proc.stderr
    headerless = _write_log(tmp_path / "nohead.csv", [[1, "x", "T+01:00"]],
                            header=("number", "what", "when"))
    code = drill_main(["evaluate", str(scripts["a"]), str(headerless)])
    assert code == 2
