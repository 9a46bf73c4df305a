"""``gridsim run`` through the Hydra boundary: composed and converted once, a run folder of its
own even when two runs start at the same moment, and Ctrl-C / SIGTERM / a bad run folder as
one line with the exit code a shell expects.

The concurrent and signal tests run the console script in subprocesses, as a user (or a
scheduler) would; the counting test runs ``gridsim.app.cli.main`` in this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from console import console_script, explain, gridsim

from gridsim.app import cli, hydra_app

FAST = ("scenario=small", "duration_h=6", "output.progress=false", "output.figures=false",
        "output.events_log=false")


def _exe() -> str:
    return console_script()


def _start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["MPLBACKEND"] = "Agg"
    return subprocess.Popen([_exe(), "run", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finished(procs: list[subprocess.Popen[str]], timeout: float = 300
              ) -> list[tuple[int, str, str]]:
    out = []
    for p in procs:
        o, e = p.communicate(timeout=timeout)
        out.append((p.returncode, o, e))
    return out


def _results_line(stdout: str) -> Path:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("results: ")]
    assert len(lines) == 1, stdout
    return Path(lines[0][len("results: "):])


# ----------------------------------------------------------------------------------------------
# compose once
# ----------------------------------------------------------------------------------------------
def test_a_run_composes_the_config_once_and_converts_it_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    calls = {"compose": 0, "convert": 0, "validate": 0}
    compose = ConfigLoaderImpl.load_configuration
    convert = hydra_app.to_settings
    validate = hydra_app.validate

    def counting_compose(self, *a, **kw):  # type: ignore[no-untyped-def]
        calls["compose"] += 1
        return compose(self, *a, **kw)

    def counting_convert(cfg):  # type: ignore[no-untyped-def]
        calls["convert"] += 1
        return convert(cfg)

    def counting_validate(settings):  # type: ignore[no-untyped-def]
        calls["validate"] += 1
        return validate(settings)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", counting_compose)
    monkeypatch.setattr(hydra_app, "to_settings", counting_convert)
    monkeypatch.setattr(hydra_app, "validate", counting_validate)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    assert cli.main(["run", *FAST, f"hydra.run.dir={out}"]) == 0
    capsys.readouterr()
    assert calls == {"compose": 1, "convert": 1, "validate": 1}
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "done"
    assert (out / ".hydra" / "config.yaml").is_file()
    assert (out / ".hydra" / "overrides.yaml").read_text(encoding="utf-8").split() == [
        t for o in (*FAST, f"hydra.run.dir={out}") if not o.startswith("hydra.")
        for t in ("-", o)]


# ----------------------------------------------------------------------------------------------
# two runs at the same moment
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_two_runs_with_the_default_run_folder_started_together_keep_both_results(
        tmp_path: Path) -> None:
    procs = [_start(tmp_path, *FAST, f"seed={s}") for s in (1, 2)]
    results = _finished(procs)
    folders = []
    for code, out, err in results:
        assert code == 0, f"exit {code}\n{out}\n{err}"
        folders.append(_results_line(out))
    assert folders[0] != folders[1]
    for seed, folder in zip((1, 2), folders, strict=True):
        assert folder.parent.parent == tmp_path / "outputs"
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["seed"] == seed  # each folder holds its own run, nothing mixed
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "done" and manifest["seed"] == seed


@pytest.mark.slow
def test_a_time_stamped_run_folder_taken_by_another_run_gets_a_suffix(tmp_path: Path) -> None:
    """Two runs whose time-stamped folder is the same (a stamp of the year: certainly the
    same), started together: one takes the name, the other the name with ``_1``."""
    procs = [_start(tmp_path, *FAST, f"seed={s}", "hydra.run.dir=out/run_${now:%Y}")
             for s in (1, 2)]
    results = _finished(procs)
    for code, out, err in results:
        assert code == 0, f"exit {code}\n{out}\n{err}"
    folders = sorted(_results_line(out).name for _, out, _ in results)
    year = time.strftime("%Y")
    assert folders == [f"run_{year}", f"run_{year}_1"], folders
    seeds = sorted(json.loads((tmp_path / "out" / f / "summary.json").read_text(
        encoding="utf-8"))["seed"] for f in folders)
    assert seeds == [1, 2]


@pytest.mark.slow
def test_a_run_folder_the_user_chose_is_used_as_given(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    proc = gridsim("run", *FAST, f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    assert _results_line(proc.stdout) == out
    assert (out / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


# ----------------------------------------------------------------------------------------------
# a run folder that cannot be made
# ----------------------------------------------------------------------------------------------
def test_a_run_folder_under_a_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder\n", encoding="utf-8")
    proc = gridsim("run", *FAST, f"hydra.run.dir={blocker}/run", cwd=tmp_path)
    assert proc.returncode == 2, explain(proc)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gridsim: "), explain(proc)
    assert str(blocker) in lines[0] and "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_run_folder_name_too_long_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = gridsim("run", *FAST, f"hydra.run.dir={tmp_path}/{'x' * 300}", cwd=tmp_path)
    assert proc.returncode == 2, explain(proc)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "too long" in lines[0], explain(proc)
    assert "Traceback" not in proc.stdout + proc.stderr


# ----------------------------------------------------------------------------------------------
# Ctrl-C and SIGTERM
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("sig", "code", "words"), [
    pytest.param(signal.SIGINT, 130, "interrupted (Ctrl-C)", marks=pytest.mark.slow),
    (signal.SIGTERM, 143, "terminated by SIGTERM"),
], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_a_run_is_one_line_its_exit_code_and_an_interrupted_manifest(
        tmp_path: Path, sig: signal.Signals, code: int, words: str) -> None:
    out = tmp_path / "run"
    # long enough to be caught running (about 10 s): the small district for a year, busy
    proc = _start(tmp_path, "scenario=small", "duration_h=8760", "hazard.rate_scale=100",
                  "output.figures=false", "output.progress=false", f"hydra.run.dir={out}")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if json.loads((out / "manifest.json").read_text(encoding="utf-8")).get(
                        "status") == "running":
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.3)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, f"exit {proc.returncode}\n{stdout}\n{stderr}"
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("gridsim: ") and words in lines[0] and str(out) in lines[0]
    assert "Traceback" not in stdout + stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "interrupted"
    assert not (out / "summary.json").exists()
    assert not list(out.glob("*.part"))
