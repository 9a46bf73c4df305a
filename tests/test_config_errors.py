"""A bad config stops ``gridsim run`` before anything runs, with one line that says where.

Each case runs the command from a temporary folder and checks: a non-zero exit, exactly one
line on stderr naming the key (and the file or override it comes from), no traceback anywhere,
and no run folder with results. The first case of each kind runs the console script in a
subprocess, as a user would; the others run ``gridsim.app.cli.main`` in this process (the same
code, without a new interpreter's start-up).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from console import gridsim

from gridsim.app import cli
from gridsim.app.hydra_app import compose_settings
from gridsim.model.validate import ConfigError

REPO = Path(__file__).resolve().parents[1]
SMALL_YAML = REPO / "scenarios" / "small.yaml"
FAST = ("scenario=small", "duration_h=6", "output.progress=false", "output.figures=false")



def in_process(cwd: Path, *args: str, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> subprocess.CompletedProcess[str]:
    """``gridsim args`` run by ``gridsim.app.cli.main`` in this process, from ``cwd``."""
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["gridsim", *args], code, out, err)


def refused(proc: subprocess.CompletedProcess[str], cwd: Path) -> list[str]:
    """Check that the run was refused cleanly; the lines it wrote to stderr."""
    both = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"a bad config ran:\n{both}"
    assert "Traceback" not in both, both
    assert not list(cwd.rglob("summary.json")), "a bad config still wrote results"
    return [ln for ln in proc.stderr.splitlines() if ln.strip()]


def one_line(proc: subprocess.CompletedProcess[str], cwd: Path) -> str:
    lines = refused(proc, cwd)
    assert len(lines) == 1, "expected one line on stderr, got:\n" + "\n".join(lines)
    assert not list(cwd.rglob(".hydra")), "a run folder was created for a bad config"
    return lines[0]


# ----------------------------------------------------------------------------------------------
# bad overrides on the command line
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("override", "key", "console"), [
    ("scenario.foo=1", "scenario.foo", True),  # unknown key
    ("+scenario.foo=1", "scenario.foo", False),  # unknown key, forced in with +
    ("++scenario.kinds.rural.bar=2", "scenario.kinds.rural.bar", False),  # ... deeper, with ++
    ("duration_h=abc", "duration_h", False),  # wrong type
    ("seed=1,2", "seed", False),  # a sweep without -m
    ("scenario.urban_grids=many", "scenario.urban_grids", False),
    ("duration_h=-5", "duration_h", False),  # out of range
    ("response.switch.recovery_h=-1", "response.switch.recovery_h", False),
    ("response.dispatch.decision_delay_peace.median_s=-3",
     "response.dispatch.decision_delay_peace.median_s", False),
    ("+hazard.weather.warnings.lead_time_by_level_h.purple=1",
     "hazard.weather.warnings.lead_time_by_level_h.purple", False),  # not a signal level
    ("+hazard.weather.warnings.lead_time_by_level_h.red=-1",
     "hazard.weather.warnings.lead_time_by_level_h.red", False),
])
def test_bad_override_is_refused_with_one_line_naming_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        override: str, key: str, console: bool) -> None:
    args = ("run", *FAST, override, f"hydra.run.dir={tmp_path}/out")
    proc = (gridsim(*args, cwd=tmp_path) if console
            else in_process(tmp_path, *args, monkeypatch=monkeypatch, capsys=capsys))
    line = one_line(proc, tmp_path)
    assert key in line, line
    assert override in line, f"the message does not say the value came from {override}: {line}"


def test_unknown_group_option_lists_the_options(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    proc = in_process(tmp_path, "run", *FAST, "scenario=nope", f"hydra.run.dir={tmp_path}/out",
                      monkeypatch=monkeypatch, capsys=capsys)
    line = one_line(proc, tmp_path)
    assert "scenario" in line and "nope" in line, line
    for option in ("district", "small"):
        assert option in line, f"{option!r} is not listed among the options: {line}"
    assert "_schema" not in line, f"schema entries are not options to offer: {line}"


# ----------------------------------------------------------------------------------------------
# bad values inside a YAML group file found through hydra.searchpath
# ----------------------------------------------------------------------------------------------
def group_file(root: Path, name: str, edit: tuple[str, str]) -> Path:
    """``root/scenario/<name>.yaml``: scenarios/small.yaml with one line replaced."""
    text = SMALL_YAML.read_text(encoding="utf-8")
    old, new = edit
    assert old in text, f"scenarios/small.yaml no longer has {old!r}"
    path = root / "scenario" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(old, new, 1).replace("name: small", f"name: {name}", 1),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("edit", "key", "console"), [
    (("generator: synthetic\n", "generator: synthetic\nfoo: 1\n"), "scenario.foo", True),
    (("urban_grids: 40", "urban_grids: many"), "scenario.urban_grids", False),
    (("urban_grids: 40", "urban_grids: -1"), "scenario.urban_grids", False),
], ids=["unknown-key", "wrong-type", "negative"])
def test_bad_value_in_a_group_file_names_the_key_and_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        edit: tuple[str, str], key: str, console: bool) -> None:
    extra = tmp_path / "myconf"
    path = group_file(extra, "bad", edit)
    args = ("run", *FAST, f"hydra.searchpath=[file://{extra}]", "scenario=bad",
            f"hydra.run.dir={tmp_path}/out")
    proc = (gridsim(*args, cwd=tmp_path) if console
            else in_process(tmp_path, *args, monkeypatch=monkeypatch, capsys=capsys))
    line = one_line(proc, tmp_path)
    assert key in line, line
    assert "scenario/bad.yaml" in line, f"the message does not name the file: {line}"
    assert str(path.resolve()) in line, f"the file is known, its path is not given: {line}"


def test_searchpath_is_honoured_when_checking_a_good_config(tmp_path: Path) -> None:
    extra = tmp_path / "myconf"
    group_file(extra, "tiny", ("urban_grids: 40", "urban_grids: 5"))
    settings, choices = compose_settings([f"hydra.searchpath=[file://{extra}]", "scenario=tiny"])
    assert choices["scenario"] == "tiny"
    assert settings.scenario.name == "tiny"
    assert settings.scenario.urban_grids == 5


def test_compose_settings_names_the_file_of_a_bad_group_option(tmp_path: Path) -> None:
    extra = tmp_path / "myconf"
    path = group_file(extra, "bad", ("urban_grids: 40", "urban_grids: -1"))
    with pytest.raises(ConfigError) as err:
        compose_settings([f"hydra.searchpath=[file://{extra}]", "scenario=bad"])
    assert len(err.value.errors) == 1
    assert "scenario.urban_grids" in err.value.errors[0]
    assert str(path.resolve()) in err.value.errors[0]


# ----------------------------------------------------------------------------------------------
# sweeps: every job is checked before any runs
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(("override", "key"), [
    ("duration_h=-5", "duration_h"),
    ("scenario.foo=1", "scenario.foo"),
    ("+scenario.foo=1", "scenario.foo"),
])
def test_multirun_with_a_bad_value_reports_each_job_in_one_line(tmp_path: Path, override: str,
                                                                key: str) -> None:
    proc = gridsim("run", "-m", "seed=1,2", *FAST, override,
                   f"hydra.sweep.dir={tmp_path}/multi", cwd=tmp_path)
    lines = refused(proc, tmp_path)
    assert len(lines) == 2, "expected one line per job, got:\n" + "\n".join(lines)
    for line in lines:
        assert key in line, line
    assert "seed=1" in lines[0] and "seed=2" in lines[1], lines


@pytest.mark.slow
def test_multirun_with_one_bad_job_runs_no_job(tmp_path: Path) -> None:
    proc = gridsim("run", "-m", "seed=1,abc", *FAST, f"hydra.sweep.dir={tmp_path}/multi",
                   cwd=tmp_path)
    lines = refused(proc, tmp_path)
    assert len(lines) == 1, "\n".join(lines)
    assert "seed" in lines[0] and "abc" in lines[0], lines[0]
