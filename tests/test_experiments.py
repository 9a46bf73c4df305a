"""``gridsim experiment``: launchers, seeds, resume, failures, interruption and progress.

The experiments are tiny (the 70-grid ``small`` scenario, 8 hours with a red rainstorm warning
from hour 2 so that there are incidents and switches, two response variants × three
replications) and are written into the test's temporary folder, the way a user writes one into
``experiments/``. The basic launcher runs in-process (``gridsim.app.cli.main``); the others start
their own workers: joblib processes, submitit jobs and a local Ray head started by the test.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from console import console_script

from gridsim.app import cli
from gridsim.experiments.sweep import MANIFEST, SweepWatcher, read_manifest

EXPERIMENT = """\
defaults:
  - config
  - _self_

hydra:
  searchpath:
    - pkg://gridsim.conf
  mode: MULTIRUN
  sweep:
    dir: multirun/${{experiment.name}}
    subdir: ${{hydra.job.override_dirname}}
  sweeper:
    params:
      scenario: small
      response: standard,prepared
      replication: range(0,{replications})

seed: 11
duration_h: 8
hazard:
  rate_scale: 60            # the exposure-based rates of 70 grids give a few incidents in 8 h
  warnings:
    - name: rainstorm_red
      level: red
      start_h: 2
      duration_h: 6
      townships: [0, 1]
      rate_multipliers: {{waterlogging: 60, flash_flood: 60, landslide: 60}}
      triggers_switch: true
output:
  events_log: false
  figures: false
  progress: false

experiment:
  name: tiny
  title: "Tiny experiment 小实验"
  metrics: [response_time_p50_s, within_5min_share, switch_latency_p50_s]
  report_dir: "{report_dir}"
"""

RUNS = 6  # 2 variants × 3 replications
TWO_REPS = "replication=range(0,2)"  # the joblib test runs 4 of the 6 runs
ONE_REP = "replication=0"  # the submitit and Ray tests (each job a process of its own) run 2


def write_experiment(folder: Path, replications: int = 3, report_dir: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(EXPERIMENT.format(replications=replications, report_dir=report_dir),
                    encoding="utf-8")
    return path


def run_inprocess(folder: Path, *args: str, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``gridsim experiment tiny.yaml <args>`` in this process, from ``folder``."""
    monkeypatch.chdir(folder)
    for key in ("GRIDSIM_SWEEP_TOTAL", "GRIDSIM_SWEEP_SESSION"):  # restored after the test
        monkeypatch.setenv(key, "")
    capsys.readouterr()
    code = cli.main(["experiment", "tiny.yaml", *args])
    out, err = capsys.readouterr()
    return code, out, err


def sweep_once(folder: Path, mp: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """``gridsim experiment tiny.yaml`` in this process, from ``folder``, for a module-scoped
    fixture (no test's monkeypatch or capsys): ``mp`` carries the caller's patches and is
    undone afterwards; ``(exit code, stdout, stderr)``."""
    mp.chdir(folder)
    for key in ("GRIDSIM_SWEEP_TOTAL", "GRIDSIM_SWEEP_SESSION"):
        mp.setenv(key, "")
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["experiment", "tiny.yaml"])
    finally:
        mp.undo()
    return code, out.getvalue(), err.getvalue()


def gridsim_proc(folder: Path, *args: str, env: dict[str, str] | None = None,
                 **kw) -> subprocess.Popen[str]:
    exe = console_script()
    env = {k: v for k, v in (env or os.environ).items() if k != "HYDRA_FULL_ERROR"}
    env["MPLBACKEND"] = "Agg"
    return subprocess.Popen([exe, *args], cwd=folder, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def signal_sweep(folder: Path, sig: int, *args: str, ready=None, timeout: float = 60
                 ) -> subprocess.CompletedProcess[str]:
    """Start ``gridsim experiment tiny.yaml *args`` in ``folder``, send it ``sig`` once
    ``ready(manifests)`` holds (by default: one run done), and return the stopped process with
    its output (stderr in stdout)."""
    ready = ready or (lambda ms: any(m.get("status") == "done" for m in ms.values()))
    proc = gridsim_proc(folder, "experiment", "tiny.yaml", *args)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if sweep_dir(folder).is_dir() and ready(manifests(folder)):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep ended before it could be stopped"
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def run_subprocess(folder: Path, *args: str, timeout: float = 240,
                   env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = gridsim_proc(folder, *args, env=env)
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def sweep_dir(folder: Path) -> Path:
    return folder / "multirun" / "tiny"


def manifests(folder: Path) -> dict[str, dict]:
    out = {}
    for path in sorted(sweep_dir(folder).rglob(MANIFEST)):
        m = read_manifest(path.parent)
        assert m is not None, path
        out[path.parent.name] = m
    return out


def summaries(folder: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(sweep_dir(folder).rglob("summary.json"))}


def occurred(run: Path) -> list[tuple[str, str, str]]:
    with open(run / "incidents.csv", encoding="utf-8", newline="") as f:
        return [(r["occurred_s"], r["grid"], r["hazard"]) for r in csv.DictReader(f)]


def run_folder(folder: Path, response: str, replication: int) -> Path:
    found = [p for p in sweep_dir(folder).iterdir()
             if f"response={response}" in p.name and f"replication={replication}," in p.name]
    assert len(found) == 1, (response, replication, found)
    return found[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, str, str]]:
    """The experiment swept once with the basic launcher, in-process:
    ``(folder, exit code, stdout, stderr)``."""
    folder = tmp_path_factory.mktemp("reference")
    write_experiment(folder)
    yield folder, *sweep_once(folder, pytest.MonkeyPatch())


# ----------------------------------------------------------------------------------------------
# the basic launcher: manifests, seeds (common random numbers), progress
# ----------------------------------------------------------------------------------------------
def test_basic_sweep_writes_a_manifest_beside_every_run(reference) -> None:
    folder, code, out, err = reference
    assert code == 0, out + err
    ms = manifests(folder)
    assert len(ms) == RUNS
    for name, m in ms.items():
        assert m["status"] == "done", (name, m)
        assert re.fullmatch(r"[0-9a-f]{64}", m["config_hash"])
        assert m["seed"] == 11 and m["replication"] in (0, 1, 2)
        assert m["gridsim_version"] and m["wall_s"] > 0 and m["error"] is None
        assert m["config"]["response"]["name"] in name  # the resolved config
        assert (sweep_dir(folder) / name / "summary.json").is_file()
    assert len({m["config_hash"] for m in ms.values()}) == RUNS
    assert not list(sweep_dir(folder).rglob("*.part"))


def test_replications_get_distinct_streams_and_variants_share_them(reference) -> None:
    """Replications of one variant see different incidents; the two response variants see the
    same incidents (times, grids, hazards) in the same replication (common random numbers)."""
    folder, code, out, err = reference
    assert code == 0, out + err
    for response in ("standard", "prepared"):
        streams = [occurred(run_folder(folder, response, r)) for r in range(3)]
        assert all(streams), "a replication without incidents tests nothing"
        assert len({tuple(s) for s in streams}) == 3, "two replications drew the same incidents"
    for r in range(3):
        assert occurred(run_folder(folder, "standard", r)) == occurred(
            run_folder(folder, "prepared", r))
    # ... and the variants differ in what they are about (the switch is faster when prepared)
    s = summaries(folder)
    std = [s[run_folder(folder, "standard", r).name]["switch_latency_p50_s"] for r in range(3)]
    pre = [s[run_folder(folder, "prepared", r).name]["switch_latency_p50_s"] for r in range(3)]
    assert sum(pre) < sum(std)


def test_progress_lines_show_done_failed_remaining_and_time_left(reference) -> None:
    _, code, out, err = reference
    assert code == 0, out + err
    lines = [ln for ln in err.splitlines() if ln.startswith("sweep:")]
    assert any(re.fullmatch(r"sweep: done [1-9]\d*/\d+, failed 0, ETA \d+:\d\d", ln)
               for ln in lines), err
    assert f"sweep: done {RUNS}/{RUNS}, failed 0" in out


def test_watcher_prints_a_line_when_a_run_ends(tmp_path: Path) -> None:
    """The progress line comes from the manifests, whichever launcher runs the jobs."""
    def manifest(name: str, **fields) -> None:
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / MANIFEST).write_text(json.dumps(fields), encoding="utf-8")

    t0 = time.time()
    manifest("a", status="done", started_unix=t0 - 100, finished_unix=t0 - 90)  # resumed
    stream = io.StringIO()
    w = SweepWatcher(tmp_path, total=4, since=t0, stream=stream)
    w._tick()
    assert stream.getvalue() == ""  # what was done before is not news
    manifest("b", status="done", started_unix=t0, finished_unix=t0 + 10)
    manifest("c", status="failed", error="ValueError: x", started_unix=t0 + 10,
             finished_unix=t0 + 20)
    w._tick()
    # 2 runs in 20 s of this session, 1 left: about 10 s
    assert stream.getvalue() == "sweep: done 2/4, failed 1, ETA 0:10\n"


def test_gridsim_sweeper_composes_one_job_per_variant_before_launching(reference) -> None:
    """Hydra's basic sweeper composes every job before launching; gridsim's sweeper (which
    ``gridsim experiment`` uses in its place) composes the first replication of each variant."""
    from types import SimpleNamespace

    from hydra_plugins.gridsim_sweeper import GridsimSweeper

    composed: list[list[str]] = []
    loader = SimpleNamespace(load_sweep_config=lambda master_config, sweep_overrides:
                             composed.append(sweep_overrides))
    sweeper = GridsimSweeper(max_batch_size=None)
    sweeper.config = SimpleNamespace()  # type: ignore[assignment]
    sweeper.hydra_context = SimpleNamespace(config_loader=loader)  # type: ignore[assignment]
    sweeper.validate_batch_is_legal([["a=1", "replication=0"], ["a=1", "replication=1"],
                                     ["a=2", "replication=0"], ["a=2", "replication=1"]])
    assert composed == [["a=1", "replication=0"], ["a=2", "replication=0"]]
    multirun = (sweep_dir(reference[0]) / "multirun.yaml").read_text(encoding="utf-8")
    assert "_target_: hydra_plugins.gridsim_sweeper.GridsimSweeper" in multirun


# ----------------------------------------------------------------------------------------------
# every launcher runs the sweep, with the same results
# ----------------------------------------------------------------------------------------------
def assert_same_results(folder: Path, reference_folder: Path, runs: int) -> None:
    got, ref = summaries(folder), summaries(reference_folder)
    assert len(got) == runs, sorted(got)
    for name, summary in got.items():
        assert summary == ref[name], f"{name}: the launcher changed the results"
    for m in manifests(folder).values():
        assert m["status"] == "done"
    assert not list(sweep_dir(folder).rglob("*.part"))


@pytest.mark.slow
def test_joblib_launcher_runs_the_sweep_with_the_same_results(
        reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    write_experiment(tmp_path)
    code, out, err = run_inprocess(tmp_path, TWO_REPS, "hydra/launcher=joblib",
                                   "hydra.launcher.n_jobs=2", monkeypatch=monkeypatch,
                                   capsys=capsys)
    assert code == 0, out + err
    assert "Joblib" in out + err  # Hydra's joblib launcher ran it
    assert_same_results(tmp_path, reference[0], 4)


@pytest.mark.slow
def test_submitit_local_launcher_runs_the_sweep_with_the_same_results(
        reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    write_experiment(tmp_path)
    code, out, err = run_inprocess(tmp_path, ONE_REP, "hydra/launcher=submitit_local",
                                   monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    assert "Submitit 'local'" in out + err
    assert (sweep_dir(tmp_path) / ".submitit").is_dir()  # submitit's own job files
    assert_same_results(tmp_path, reference[0], 2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def ray_head() -> Iterator[str]:
    """A local Ray head (2 CPUs, no dashboard) for the test; its address.

    ``ray stop`` would stop every Ray instance of this machine (other users' too), so the head
    is started in a process group of its own and that group is ended at teardown.
    """
    if importlib_missing("ray") or importlib_missing("hydra_plugins.hydra_ray_launcher"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI installs ray and hydra-ray-launcher (the test extra): not importable")
        pytest.skip("ray is not installed (pip install -e '.[ray]')")
    ray_exe = console_script("ray")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="gsray", dir="/tmp")  # short: Ray's socket paths are limited
    proc = subprocess.Popen(
        [ray_exe, "start", "--head", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
         "--node-ip-address=127.0.0.1"],
        env=ray_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"ray start failed:\n{out}"
        yield f"127.0.0.1:{port}"
    finally:
        _end_group(proc.pid)
        shutil.rmtree(temp, ignore_errors=True)


def ray_env() -> dict[str, str]:
    """The environment of the Ray head and of its driver: no usage statistics, and no token
    authentication (Ray >= 2.59 turns it on for a local ``ray.init()``, which leaves a token in
    ``~/.ray/auth_token`` that a head started by ``ray start`` would then not share)."""
    return dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")


def _end_group(pgid: int) -> None:
    """End the processes of group ``pgid`` (SIGTERM, then SIGKILL after 3 s)."""
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def importlib_missing(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


@pytest.mark.slow
def test_ray_launcher_runs_the_sweep_on_a_local_ray_cluster_with_the_same_results(
        reference, ray_head: str, tmp_path: Path) -> None:
    write_experiment(tmp_path)
    code, out = run_subprocess(tmp_path, "experiment", "tiny.yaml", ONE_REP,
                               "hydra/launcher=ray",
                               f"hydra.launcher.ray.init.address={ray_head}", env=ray_env())
    assert code == 0, out
    assert "Ray Launcher is launching 2 jobs" in out
    assert "Connecting to existing Ray cluster" in out  # not a Ray of its own
    assert_same_results(tmp_path, reference[0], 2)


# ----------------------------------------------------------------------------------------------
# resume, failures, interruption
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_resume_skips_done_runs_and_reruns_missing_failed_killed_or_changed_ones(
        reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A second invocation skips the runs done with the same config hash and runs those whose
    manifest is missing, says failed or running (a killed worker), or has another hash."""
    shutil.copytree(reference[0], tmp_path, dirs_exist_ok=True)
    before = manifests(tmp_path)
    assert len(before) == RUNS

    runs = sorted(before)
    missing, failed, changed, killed = (sweep_dir(tmp_path) / r for r in runs[:4])
    (missing / MANIFEST).unlink()
    m = read_manifest(failed)
    assert m is not None
    (failed / MANIFEST).write_text(json.dumps(m | {"status": "failed", "error": "X: y"}))
    m = read_manifest(changed)
    assert m is not None
    (changed / MANIFEST).write_text(json.dumps(m | {"config_hash": "0" * 64}))
    m = read_manifest(killed)  # a worker killed while writing: running, a .part file left
    assert m is not None
    (killed / MANIFEST).write_text(json.dumps(m | {"status": "running"}))
    (killed / "incidents.csv.part").write_text("half a fi")

    code, out, err = run_inprocess(tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    assert out.count("skipped (done before, same config)") == RUNS - 4
    after = manifests(tmp_path)
    for r in runs[4:]:  # skipped: not run again, the manifest untouched
        assert after[r] == before[r]
    assert set(after) == set(before)
    rerun = {r for r in runs if after[r]["finished_unix"] != before[r]["finished_unix"]}
    assert rerun == set(runs[:4])
    assert all(m["status"] == "done" for m in after.values())
    assert after[changed.name]["config_hash"] == before[changed.name]["config_hash"]
    assert not (killed / "incidents.csv.part").exists()
    assert summaries(tmp_path) == summaries(reference[0])


@pytest.mark.slow
def test_a_run_that_raises_is_recorded_the_sweep_goes_on_and_reports_list_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import gridsim.engine.simulation

    real = gridsim.engine.simulation.simulate

    def simulate(settings, *args, **kw):
        if settings.response.name == "prepared" and settings.replication == 1:
            raise ValueError("scenario data corrupt: grid 7 has a negative population")
        return real(settings, *args, **kw)

    write_experiment(tmp_path, replications=2, report_dir="report")
    monkeypatch.setattr(gridsim.engine.simulation, "simulate", simulate)
    code, out, err = run_inprocess(tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1, out + err
    ms = manifests(tmp_path)
    assert len(ms) == 4  # the sweep went on after the failure
    bad = run_folder(tmp_path, "prepared", 1).name
    assert [n for n, m in ms.items() if m["status"] == "failed"] == [bad]
    assert ms[bad]["error"] == ("ValueError: scenario data corrupt: grid 7 has a negative "
                                "population")
    assert "Traceback" in ms[bad]["traceback"] and ms[bad]["wall_s"] is not None
    assert not (sweep_dir(tmp_path) / bad / "summary.json").exists()
    # the listing at the end names it with its error
    assert "sweep: done 3/4, failed 1" in out
    assert f"failed: {bad}: ValueError: scenario data corrupt" in out
    # ... and so does the report
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "Failed runs" in report and bad in report and "negative population" in report
    with open(tmp_path / "report" / "results.csv", encoding="utf-8", newline="") as f:
        rows = {r["run"]: r for r in csv.DictReader(f)}
    assert rows[bad]["status"] == "failed" and "negative population" in rows[bad]["error"]


@pytest.mark.slow
def test_interrupted_sweep_keeps_finished_runs_and_resumes(
        reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C (SIGINT) after the first run: no ``*.part`` file, finished runs say done, and
    the next invocation runs only the rest."""
    write_experiment(tmp_path, replications=2)
    runs = 4
    proc = signal_sweep(tmp_path, signal.SIGINT)
    out = proc.stdout
    assert proc.returncode == 130, out
    assert "run the same command again" in out
    assert not list(sweep_dir(tmp_path).rglob("*.part"))
    ms = manifests(tmp_path)
    done = {n for n, m in ms.items() if m["status"] == "done"}
    assert 1 <= len(done) < runs, ms
    for n in done:
        assert (sweep_dir(tmp_path) / n / "summary.json").is_file()
    assert {m["status"] for n, m in ms.items() if n not in done} <= {"interrupted", "running"}
    finished = {n: ms[n]["finished_unix"] for n in done}

    code, out, err = run_inprocess(tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    assert out.count("skipped (done before, same config)") == len(done)
    after = manifests(tmp_path)
    assert len(after) == runs and all(m["status"] == "done" for m in after.values())
    assert {n: after[n]["finished_unix"] for n in done} == finished
    assert_same_results(tmp_path, reference[0], runs)
