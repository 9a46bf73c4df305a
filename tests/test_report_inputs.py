"""``gridsim report``'s input checks: a run folder whose files do not read, and a folder that
holds more than one experiment.

Experiment folders are written by hand, as runs write them (a manifest with the resolved config
and the overrides, and a summary), so that every run and every number is known to the test.
What is checked (see :mod:`gridsim.experiments.report`): a manifest that does not read makes
the report refuse with one line per such file; a summary that does not read makes its run count
as failed, with one warning line naming the file; a folder of two experiments is refused with a
message naming both sides.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from gridsim.app import cli
from gridsim.errors import UserError
from gridsim.experiments.report import build_report

EXPERIMENT = {"name": "team", "title": "Team size 网格力量规模", "metrics": ["within_5min_share"]}
#: within_5min_share by variant a and replication
SHARE = {"1": [0.61, 0.66, 0.58], "2": [0.72, 0.75, 0.69]}


def write_run(root: Path, name: str, overrides: list[str], *, replication: int, seed: int = 7,
              experiment: dict[str, Any] | None = None, summary: dict[str, Any] | None = None,
              status: str = "done", started: float = 1.0, **settings: Any) -> Path:
    """A run folder as a run leaves it: the config holds what the overrides set."""
    run = root / name
    run.mkdir(parents=True)
    config: dict[str, Any] = {"seed": seed, "replication": replication, "duration_h": 72.0,
                              "output": {"figures": False, "progress": False},
                              "experiment": dict(experiment or EXPERIMENT), **settings}
    for o in overrides:
        k, v = o.split("=", 1)
        if k not in ("replication", "seed"):
            config[k] = v
    manifest = {"status": status, "config_hash": "0" * 64, "seed": seed,
                "replication": replication, "gridsim_version": "0.test", "overrides": overrides,
                "started_unix": started, "finished_unix": started + 1.0, "wall_s": 1.0,
                "error": None, "config": config, "files": ["summary.json"]}
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if summary is not None:
        (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return run


def make_sweep(root: Path, key: str = "a", experiment: dict[str, Any] | None = None,
               **settings: Any) -> Path:
    for variant, shares in SHARE.items():
        for rep, share in enumerate(shares):
            write_run(root, f"{key}={variant},replication={rep}",
                      [f"{key}={variant}", f"replication={rep}"], replication=rep,
                      experiment=experiment, summary={"within_5min_share": share}, **settings)
    return root


def report_cli(folder: Path, out: Path, capsys: pytest.CaptureFixture[str]
               ) -> tuple[int, list[str]]:
    """Exit code and stderr lines of ``gridsim report folder --out out``."""
    capsys.readouterr()
    code = cli.main(["report", str(folder), "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.splitlines()


def rows_of(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "results.csv", encoding="utf-8", newline="") as f:
        return {r["run"]: r for r in csv.DictReader(f)}


def t_mean_interval(x: list[float]) -> tuple[float, float, float]:
    a = np.array(x)
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))
    return float(a.mean()), float(lo), float(hi)


# ----------------------------------------------------------------------------------------------
# files that do not read
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("content, why", [
    ('{"within_5min_share": 0.', "does not read as JSON (it is cut short or not JSON"),
    ("", "does not read as JSON (it is empty)"),
    ("[0.6]", "holds a JSON list, expected an object"),
    (None, "cannot read the summary: no such file or folder"),
])
def test_a_summary_that_does_not_read_counts_its_run_as_failed_and_names_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
        why: str) -> None:
    sweep = make_sweep(tmp_path / "sweep")
    bad = sweep / "a=2,replication=1" / "summary.json"
    if content is None:
        bad.unlink()
    else:
        bad.write_text(content, encoding="utf-8")
    code, err = report_cli(sweep, tmp_path / "out", capsys)
    assert code == 0
    assert len(err) == 1, err
    assert err[0].startswith("gridsim: ") and why in err[0], err
    assert str(bad) in err[0] and err[0].endswith("(the run counts as failed)")
    rows = rows_of(tmp_path / "out")
    row = rows["a=2,replication=1"]
    assert row["status"] == "failed" and str(bad) in row["error"] and why in row["error"]
    assert row["within_5min_share"] == ""
    assert sum(r["status"] == "done" for r in rows.values()) == 5
    # the statistics stand on the two runs of variant 2 that read
    with open(tmp_path / "out" / "statistics.csv", encoding="utf-8", newline="") as f:
        st = {r["variant"]: r for r in csv.DictReader(f)}
    kept = [SHARE["2"][0], SHARE["2"][2]]
    mean, lo, hi = t_mean_interval(kept)
    assert int(st["a=2"]["n"]) == 2
    assert float(st["a=2"]["mean"]) == pytest.approx(mean, rel=1e-12)
    assert float(st["a=2"]["ci95_low"]) == pytest.approx(max(lo, 0.0), rel=1e-12)
    assert float(st["a=2"]["ci95_high"]) == pytest.approx(min(hi, 1.0), rel=1e-12)
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    failed = md.split("## Failed runs 失败运行", 1)[1]
    assert "a=2,replication=1" in failed and why in failed


@pytest.mark.parametrize("content, why", [
    ('{"status": "done", "overrides": ["a=1"', "does not read as JSON (it is cut short"),
    ("\xff\xfe not text", "does not read as JSON"),
    ('"done"', "holds a JSON str, expected an object"),
])
def test_a_manifest_that_does_not_read_makes_the_report_refuse_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, why: str) -> None:
    sweep = make_sweep(tmp_path / "sweep")
    bad = sweep / "a=1,replication=2" / "manifest.json"
    bad.write_text(content, encoding="utf-8")
    code, err = report_cli(sweep, tmp_path / "out", capsys)
    assert code == 2
    assert len(err) == 1 and err[0].startswith("gridsim: the manifest ") and why in err[0], err
    assert str(bad) in err[0] and "run the experiment again" in err[0]
    assert not (tmp_path / "out" / "results.csv").exists()  # nothing written from a guess


def test_a_manifest_without_a_list_of_overrides_is_refused(tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path / "sweep")
    bad = sweep / "a=1,replication=2" / "manifest.json"
    data = json.loads(bad.read_text(encoding="utf-8"))
    bad.write_text(json.dumps({**data, "overrides": "a=1"}), encoding="utf-8")
    with pytest.raises(UserError) as e:
        build_report(sweep)
    assert e.value.lines == [f"the manifest has no list of overrides (a list of strings): {bad} "
                             "(run the experiment again to redo that run)"]


def test_every_manifest_that_does_not_read_gets_its_own_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = make_sweep(tmp_path / "sweep")
    bad = [sweep / "a=1,replication=0" / "manifest.json",
           sweep / "a=2,replication=2" / "manifest.json"]
    for b in bad:
        b.write_text(b.read_text(encoding="utf-8")[:40], encoding="utf-8")  # truncated
    code, err = report_cli(sweep, tmp_path / "out", capsys)
    assert code == 2
    assert len(err) == 2 and all(str(b) in line for b, line in zip(bad, err, strict=True)), err


# ----------------------------------------------------------------------------------------------
# one experiment per report
# ----------------------------------------------------------------------------------------------
def refusal(folder: Path) -> str:
    with pytest.raises(UserError) as e:
        build_report(folder)
    assert len(e.value.lines) == 1
    return e.value.lines[0]


def test_two_experiments_in_one_folder_are_refused_naming_both(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "multirun"
    make_sweep(root / "team")
    make_sweep(root / "switch", experiment={**EXPERIMENT, "name": "switch"})
    line = refusal(root)
    assert "2 experiments" in line and "switch: 6 runs" in line and "team: 6 runs" in line
    code, err = report_cli(root, tmp_path / "out", capsys)
    assert code == 2 and len(err) == 1 and "team" in err[0] and "switch" in err[0]
    assert not (tmp_path / "out" / "results.csv").exists()
    # each reports from its own folder
    assert build_report(root / "team").experiment["name"] == "team"
    assert build_report(root / "switch").experiment["name"] == "switch"


def test_runs_sweeping_other_keys_under_one_name_are_refused(tmp_path: Path) -> None:
    make_sweep(tmp_path / "x")
    make_sweep(tmp_path / "y", key="b")
    line = refusal(tmp_path)
    assert "do not sweep the same keys" in line
    assert "6 runs sweeping a, replication, e.g. x/a=1,replication=0" in line
    assert "6 runs sweeping b, replication, e.g. y/b=1,replication=0" in line


def test_runs_differing_in_a_setting_that_is_not_swept_are_refused(tmp_path: Path) -> None:
    """Two experiment files of one name, or a sweep half rerun after a change: the runs of one
    variant would mix results of two models."""
    make_sweep(tmp_path / "first")
    make_sweep(tmp_path / "second", duration_h=24.0, response={"switch": {"recovery_h": 3}})
    line = refusal(tmp_path)
    assert ("the runs differ in a setting that is not swept: duration_h is 72.0 in "
            "first/a=1,replication=0 and 24.0 in second/a=1,replication=0") in line


def test_two_runs_of_the_same_variant_replication_and_seed_are_refused(tmp_path: Path) -> None:
    make_sweep(tmp_path / "monday")
    make_sweep(tmp_path / "tuesday")  # the same experiment, run into a second folder
    line = refusal(tmp_path)
    assert "two runs of the same variant, replication and seed" in line
    assert "monday/a=1,replication=0 and tuesday/a=1,replication=0" in line


def test_what_does_not_make_two_experiments_is_reported(tmp_path: Path) -> None:
    """An edited title (the experiment block does not change results), an override of the same
    value in some runs only, and the progress display are one experiment: reported under the
    block of the most recently started run."""
    sweep = tmp_path / "sweep"
    for variant, shares in SHARE.items():
        for rep, share in enumerate(shares):
            later = rep == 2
            exp = {**EXPERIMENT, "title": "Team size, second session"} if later else None
            extra = ["scenario=district"] if later else []
            write_run(sweep, f"a={variant},replication={rep}",
                      [f"a={variant}", f"replication={rep}", *extra], replication=rep,
                      experiment=exp, summary={"within_5min_share": share},
                      started=10.0 if later else 1.0,
                      scenario="district")  # in every run's config: the override restates it
    m = sweep / "a=1,replication=1" / "manifest.json"
    data = json.loads(m.read_text(encoding="utf-8"))
    data["config"]["output"]["progress"] = True
    m.write_text(json.dumps(data), encoding="utf-8")
    got = build_report(sweep)
    assert got.experiment["title"] == "Team size, second session"
    assert got.variants == ["a=1", "a=2"] and len(got.rows) == 6


def test_a_sweep_over_seeds_pairs_its_runs_by_seed(tmp_path: Path) -> None:
    """Replication 0 in every run, the seed swept: each run is its own replication, paired by
    seed across variants (before, the runs of a variant overwrote each other by replication)."""
    values = {"1": [0.61, 0.66, 0.58, 0.70], "2": [0.72, 0.75, 0.69, 0.74]}
    for variant, shares in values.items():
        for seed, share in enumerate(shares, start=1):
            write_run(tmp_path, f"a={variant},seed={seed}", [f"a={variant}", f"seed={seed}"],
                      replication=0, seed=seed, summary={"within_5min_share": share})
    rep = build_report(tmp_path)
    d = [b - a for a, b in zip(values["1"], values["2"], strict=True)]
    paired = next(p for p in rep.paired if p["metric"] == "within_5min_share")
    assert (paired["variant"], paired["baseline"], paired["n"]) == ("a=2", "a=1", 4)
    mean, lo, hi = t_mean_interval(d)
    assert paired["mean_difference"] == pytest.approx(mean, rel=1e-12)
    assert paired["ci95_low"] == pytest.approx(lo, rel=1e-12)
    assert paired["ci95_high"] == pytest.approx(hi, rel=1e-12)
    st = {(s["variant"], s["metric"]): s for s in rep.statistics}
    assert st[("a=1", "within_5min_share")]["n"] == 4
    assert st[("a=1", "within_5min_share")]["mean"] == pytest.approx(np.mean(values["1"]))
    assert math.isfinite(st[("a=2", "within_5min_share")]["sd"])
