"""The notebook API (gridsim.run, gridsim.load, Result): the same run as ``gridsim run``, its
errors as the command's lines, a folder read back, and an ``import gridsim`` that stays cheap.

One run of the small scenario (48 h, no figures) is made by the API and one by the command
with the same overrides; every other test reads those folders or copies of them.
"""

from __future__ import annotations

import contextlib
import csv
import inspect
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gridsim as gs
from gridsim.api import PandasMissing, Result, overrides_of
from gridsim.app import cli
from gridsim.errors import UserError
from gridsim.model.params import RunConfig
from gridsim.model.validate import ConfigError

OVERRIDES = {"scenario": "small", "duration_h": 48}
AS_ARGS = ["scenario=small", "duration_h=48", "output.figures=false", "output.progress=false"]
#: The manifest's only fields that differ between two runs of the same config: wall clock.
CLOCK = ("started_unix", "finished_unix", "wall_s")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """``(the API's run, the command's run folder)`` of the same overrides; the command is
    ``gridsim.app.cli.main``, the console script's entry point, in this process (the
    interpreter's start-up aside, the same code; tests/test_config_errors.py compares both)."""
    root = tmp_path_factory.mktemp("api")
    api = gs.run(OVERRIDES, folder=root / "api", figures=False, progress=False, quiet=True)
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = cli.main(["run", *AS_ARGS, f"hydra.run.dir={root / 'cli'}"])
    assert code == 0, out.getvalue()
    return api, root / "cli"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------------------------
# gridsim.run is gridsim run
# ----------------------------------------------------------------------------------------------
def test_run_writes_what_gridsim_run_writes_byte_for_byte(runs: tuple[Result, Path]) -> None:
    api, cli_dir = runs
    cli_manifest = json.loads((cli_dir / "manifest.json").read_text(encoding="utf-8"))
    assert api.manifest["status"] == cli_manifest["status"] == "done"
    assert api.manifest["files"] == cli_manifest["files"]
    wanted = {"summary.json", "incidents.csv", "grids.csv", "events.csv"}
    assert wanted <= set(api.manifest["files"])
    for name in [*api.manifest["files"], ".hydra/config.yaml", ".hydra/overrides.yaml"]:
        assert (api.folder / name).read_bytes() == (cli_dir / name).read_bytes(), name
    same = {k: v for k, v in cli_manifest.items() if k not in CLOCK}
    assert {k: v for k, v in api.manifest.items() if k not in CLOCK} == same
    assert api.overrides == AS_ARGS  # the keywords are the command's overrides, in order


def test_result_reads_the_folder(runs: tuple[Result, Path]) -> None:
    api, _ = runs
    summary = json.loads((api.folder / "summary.json").read_text(encoding="utf-8"))
    assert api.summary == summary and not api.skipped
    assert (api.scenario, api.seed) == ("small", 1)
    assert api.config["duration_h"] == 48 and api.config["output"]["figures"] is False
    assert api.figures == []  # output.figures=false
    for frame, name in ((api.incidents(), "incidents.csv"), (api.grids(), "grids.csv"),
                        (api.events(), "events.csv")):
        rows = _csv_rows(api.folder / name)  # the file read by the csv module
        assert len(frame) == len(rows) > 0, name
        assert list(frame.columns) == list(rows[0]), name
    assert len(api.incidents()) == summary["incidents"]
    assert len(api.grids()) == summary["grids"]
    inc = api.incidents()
    assert sorted(inc["id"].tolist()) == sorted(int(r["id"]) for r in
                                                _csv_rows(api.folder / "incidents.csv"))
    text = repr(api)
    for part in ("scenario='small'", "seed=1", f"incidents={summary['incidents']}",
                 str(api.folder)):
        assert part in text, text


def test_a_done_folder_is_not_run_again_as_the_command_resumes(
        runs: tuple[Result, Path], capsys: pytest.CaptureFixture[str]) -> None:
    api, _ = runs
    again = gs.run(OVERRIDES, folder=api.folder, figures=False, progress=False)
    assert again.skipped and "skipped" in repr(again)
    assert "skipped (done before, same config)" in capsys.readouterr().out
    assert again.manifest == api.manifest  # the folder was left as it was
    assert gs.load(api.folder).summary == api.summary


def test_events_of_a_run_without_the_event_log_is_a_clear_error(tmp_path: Path) -> None:
    r = gs.run({"scenario": "small", "duration_h": 6, "seed": 5, "output": {"figures": False}},
               events=False, progress=False, folder=tmp_path / "quiet", quiet=True)
    assert r.overrides == ["scenario=small", "duration_h=6", "seed=5", "output.figures=false",
                           "output.events_log=false", "output.progress=false"]
    assert (r.config["duration_h"], r.config["seed"], r.seed) == (6, 5, 5)
    assert r.config["output"]["events_log"] is False
    assert "events.csv" not in r.manifest["files"]
    with pytest.raises(UserError, match=r"no events\.csv: it was made with "
                                        r"output\.events_log=false"):
        r.events()
    assert len(r.grids()) == r.summary["grids"]


def test_a_table_without_pandas_names_pip_install(runs: tuple[Result, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(PandasMissing, match="pip install pandas") as info:
        runs[0].incidents()
    assert isinstance(info.value, ImportError) and isinstance(info.value, UserError)


# ----------------------------------------------------------------------------------------------
# overrides, and errors as the command's
# ----------------------------------------------------------------------------------------------
def test_a_dict_becomes_the_overrides_written_by_hand() -> None:
    assert overrides_of({
        "scenario": "small", "duration_h": 24.5, "seed": 7, "output": {"figures": False,
                                                                        "events_log": True},
        "response.switch.recovery_h": 2, "+x": None, "label": "two words", "path": "./my/dir",
        "n": "12", "flag": "true", "quote": "it's", "levels": [1, 2.5, "a b"],
        "warnings": [{"at_h": 1, "level": "red"}], "big": float("inf"),
    }) == [
        "scenario=small", "duration_h=24.5", "seed=7", "output.figures=false",
        "output.events_log=true", "response.switch.recovery_h=2", "+x=null",
        "label='two words'", "path=./my/dir", "n='12'", "flag='true'", 'quote="it\'s"',
        "levels=[1,2.5,'a b']", "warnings=[{at_h:1,level:red}]", "big=inf",
    ]
    assert overrides_of(["a=1", "b=2"]) == ["a=1", "b=2"]


@pytest.mark.parametrize("override", ["duration_h=-5", "scenario=nope"])
def test_a_bad_override_raises_the_lines_the_command_prints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        override: str) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["scenario=small", "duration_h=6", "output.figures=false", override]
    assert cli.main(["run", *args]) == 2
    printed = [ln.removeprefix("gridsim: ") for ln in capsys.readouterr().err.splitlines()]
    with pytest.raises(ConfigError) as info:
        gs.run(args)
    assert info.value.errors == printed and printed
    assert not list(tmp_path.rglob("manifest.json"))  # nothing ran


def test_wrong_kinds_of_arguments_are_refused_plainly(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"write \['scenario=small'\]"):
        gs.run("scenario=small")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="not command-line flags: -m"):
        gs.run(["-m", "seed=1,2"])
    with pytest.raises(UserError, match="run folder is given twice"):
        gs.run(["hydra.run.dir=x"], folder=tmp_path)
    with pytest.raises(UserError, match=r"output\.figures is given twice"):
        gs.run({"output": {"figures": True}}, figures=False)
    with pytest.raises(TypeError, match=r"gridsim\.run\("):
        gs.simulate(scenario="small")
    with pytest.raises(TypeError, match=r"got str 'small'.*gridsim\.run\("):
        gs.build("small")


def test_simulate_and_build_still_take_frozen_settings(runs: tuple[Result, Path],
                                                      small_settings: RunConfig) -> None:
    """In memory, the same settings make the same run as the folder's (AS_ARGS are the
    overrides of the ``small_settings`` fixture)."""
    scenario = gs.build(small_settings)
    assert scenario.n_grids == 70  # scenarios/small.yaml: 70 grids
    result = gs.simulate(small_settings, scenario)
    table = runs[0].incidents()
    written = sorted(zip(table["id"], table["hazard"], table["grid"], strict=True))
    assert sorted((i.id, i.hazard, i.grid) for i in result.incidents) == written and written
    assert [round(i.occurred_s, 6) for i in sorted(result.incidents, key=lambda i: i.id)] == \
        table.sort_values("id")["occurred_s"].tolist()


# ----------------------------------------------------------------------------------------------
# gridsim.load
# ----------------------------------------------------------------------------------------------
def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".gridsim.lock"))
    return dst


def _edit_manifest(folder: Path, **fields: object) -> None:
    path = folder / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m.update(fields)
    path.write_text(json.dumps(m), encoding="utf-8")


def test_load_refuses_what_is_not_a_finished_run(runs: tuple[Result, Path],
                                                 tmp_path: Path) -> None:
    api, _ = runs
    with pytest.raises(UserError, match="no such run folder"):
        gs.load(tmp_path / "nowhere")
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    with pytest.raises(UserError, match="not a run folder but a file"):
        gs.load(tmp_path / "a_file")
    sweep = tmp_path / "sweep"
    _copy(api.folder, sweep / "0")
    with pytest.raises(UserError, match=r"no manifest\.json.*load one of them, e\.g\. .*sweep/0"):
        gs.load(sweep)
    failed = _copy(api.folder, tmp_path / "failed")
    _edit_manifest(failed, status="failed", error="ValueError: boom")
    with pytest.raises(UserError, match="the run failed: ValueError: boom"):
        gs.load(failed)
    running = _copy(api.folder, tmp_path / "running")
    _edit_manifest(running, status="running")
    with pytest.raises(UserError, match="has not finished"):
        gs.load(running)
    cut = _copy(api.folder, tmp_path / "cut")
    text = (cut / "summary.json").read_text(encoding="utf-8")
    (cut / "summary.json").write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(UserError, match=r"summary does not read as JSON \(it is cut short"):
        gs.load(cut)
    (cut / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(UserError, match="manifest does not read as JSON"):
        gs.load(cut)
    gone = _copy(api.folder, tmp_path / "gone")
    (gone / "incidents.csv").unlink()
    with pytest.raises(UserError, match=r"the run wrote no incidents\.csv"):
        gs.load(gone).incidents()


# ----------------------------------------------------------------------------------------------
# the package's surface and its import cost
# ----------------------------------------------------------------------------------------------
def test_the_api_has_real_signatures_and_docstrings() -> None:
    assert {"run", "load", "Result", "simulate", "build", "__version__"} <= set(gs.__all__)
    assert {"run", "load", "Result"} <= set(dir(gs))
    params = inspect.signature(gs.run).parameters
    assert list(params) == ["overrides", "folder", "figures", "events", "progress", "quiet"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in params.items()
               if n != "overrides")
    assert list(inspect.signature(gs.load).parameters) == ["folder"]
    for fn in (gs.run, gs.load, gs.Result, gs.Result.incidents, gs.Result.events):
        assert fn.__doc__ and len(fn.__doc__) > 40
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = gs.nope  # type: ignore[attr-defined]


def test_import_gridsim_loads_neither_hydra_nor_numpy() -> None:
    code = ("import sys, json, gridsim\n"
            "before = sorted(sys.modules)\n"
            "gridsim.run, gridsim.load\n"
            "print(json.dumps([before, sorted(sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    before, after = (set(m) for m in json.loads(out.splitlines()[-1]))
    heavy = {"hydra", "omegaconf", "numpy", "pandas", "scipy", "matplotlib", "simpy"}
    assert not before & (heavy | {"gridsim.api"}), sorted(before & heavy)
    assert "gridsim.api" in after and not after & heavy, sorted(after & heavy)
