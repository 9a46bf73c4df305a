"""``gridsim experiment`` through the Hydra boundary: the experiment file is checked before
anything runs, replications run in batches on one built scenario with the files separate runs
would write, a killed worker is a failed run and not the end of the sweep, and ``gridsim
report`` refuses a folder that mixes experiments.

The experiment is the tiny one of ``tests/test_experiments.py`` (the small district, 8 hours, a
red warning, two response variants × three replications), run in this process with Hydra's
basic launcher unless a test says otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_experiments import (
    MANIFEST,
    manifests,
    run_inprocess,
    summaries,
    sweep_dir,
    sweep_once,
    write_experiment,
)

from gridsim.app import cli
from gridsim.app.hydra_app import compose_settings
from gridsim.experiments.checks import summary_metric_keys
from gridsim.experiments.report import _flatten
from hydra_plugins.gridsim_sweeper import MAX_PER_JOB, MIN_JOBS, plan_batches


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in the experiment"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refused(code: int, out: str, err: str, folder: Path) -> list[str]:
    """The experiment was refused before anything ran: exit 2, no run, no traceback."""
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert not (folder / "multirun").exists(), "a run started for a bad experiment"
    return [ln for ln in err.splitlines() if ln.strip()]


# ----------------------------------------------------------------------------------------------
# the experiment file is checked before anything runs
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ("metrics: [response_time_p50_s,", "metrics: [response_time_p5O_s,",
     "experiment.metrics[0]", "unknown metric 'response_time_p5O_s'"),
    ("title:", "variant_keys: [response, hazard.rate_scale]\n  title:",
     "experiment.variant_keys[1]", "'hazard.rate_scale' is not swept"),
    pytest.param("title:", "pairs: [[prepared, calm]]\n  title:", "experiment.pairs[0]",
                 "'calm' names no variant", marks=pytest.mark.slow),
    ("title:", "half_width: {response_time_p50_s: -5}\n  title:",
     "experiment.half_width.response_time_p50_s", "must be a positive number"),
    pytest.param("title:", "relative_half_width: 0\n  title:",
                 "experiment.relative_half_width", "must be a positive number",
                 marks=pytest.mark.slow),
    ("replication: range(0,{replications})", "replication: range(0,0)",
     "hydra.sweeper.params", "the sweep has no job"),
], ids=["unknown-metric", "unswept-variant-key", "pair-of-no-variant", "negative-half-width",
        "zero-relative-half-width", "zero-jobs"])
def test_a_bad_experiment_is_refused_with_one_line_naming_the_file_and_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        old: str, new: str, key: str, words: str) -> None:
    path = write_experiment(tmp_path)
    _edit(path, old.replace("{replications}", "3"), new)
    lines = refused(*run_inprocess(tmp_path, monkeypatch=monkeypatch, capsys=capsys), tmp_path)
    assert len(lines) == 1, lines
    assert lines[0].startswith("gridsim: tiny.yaml: "), lines[0]
    assert key in lines[0] and words in lines[0], lines[0]


@pytest.mark.slow
def test_every_problem_of_an_experiment_is_listed_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write_experiment(tmp_path)
    _edit(path, "metrics: [response_time_p50_s,", "metrics: [nope,")
    _edit(path, "title:", "half_width: {within_5min_share: -1}\n  title:")
    lines = refused(*run_inprocess(tmp_path, monkeypatch=monkeypatch, capsys=capsys), tmp_path)
    assert len(lines) == 2, lines
    assert "experiment.metrics[0]" in lines[0] and "experiment.half_width" in lines[1]


@pytest.mark.parametrize(("text", "words"), [
    ("", "the experiment file is empty"),
    ("# nothing but a comment\n", "the experiment file is empty"),
    ("- a\n- list\n", "holds a YAML list, expected a mapping"),
    ("defaults: [config\n", "is not YAML"),
], ids=["empty", "comment-only", "a-list", "not-yaml"])
def test_an_empty_or_unreadable_experiment_file_is_blamed_on_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        text: str, words: str) -> None:
    (tmp_path / "tiny.yaml").write_text(text, encoding="utf-8")
    lines = refused(*run_inprocess(tmp_path, monkeypatch=monkeypatch, capsys=capsys), tmp_path)
    assert len(lines) == 1, lines
    assert words in lines[0] and "tiny.yaml" in lines[0], lines[0]
    assert "conf/config.yaml" not in lines[0]


@pytest.mark.slow
def test_a_bad_value_of_one_variant_names_the_variant_and_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write_experiment(tmp_path)
    _edit(path, "response: standard,prepared", "response: standard,prepared\n"
          "      response.switch.recovery_h: 6,-1")
    lines = refused(*run_inprocess(tmp_path, monkeypatch=monkeypatch, capsys=capsys), tmp_path)
    assert lines and all("tiny.yaml: variant (" in ln for ln in lines), lines
    assert all("response.switch.recovery_h=-1" in ln for ln in lines), lines
    assert len(lines) == 2  # one per response variant with the bad value, checked once each


@pytest.mark.slow
@pytest.mark.parametrize("name", ["evacuation_drills", "pilot_redesign", "switch_delays",
                                  "team_size"])
def test_the_shipped_experiments_pass_their_checks(name: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every experiment in experiments/ is checked (each variant composed) without a run."""
    from gridsim.app import hydra_app
    from gridsim.experiments import sweep

    plans = []
    monkeypatch.setattr(sweep, "run_sweep", lambda plan, launch: plans.append(plan) or 0)
    path = Path(__file__).resolve().parents[1] / "experiments" / f"{name}.yaml"
    assert hydra_app.experiment_command(path, []) == 0
    assert [p.name for p in plans] == [name] and plans[0].total and plans[0].total >= 40


def _real_keys(*overrides: str) -> set[str]:
    from gridsim.engine.simulation import simulate
    from gridsim.output.metrics import summarize

    settings, _ = compose_settings(["scenario=small", "output.figures=false",
                                    "output.progress=false", *overrides])
    return set(_flatten(summarize(simulate(settings), "test"))), settings


@pytest.mark.parametrize("overrides", [("duration_h=6",), pytest.param(
    ("hazard=flood_evacuation", "duration_h=31"), marks=pytest.mark.slow)],
    ids=["plain", "evacuation"])
def test_the_metric_keys_read_from_the_source_are_those_a_run_writes(overrides) -> None:
    real, settings = _real_keys(*overrides)
    derived = summary_metric_keys(settings)
    assert len(derived) == len(set(derived))
    assert set(derived) == real
    assert {"response_by_mode_at_notice.ALERT.responded", "incidents_by_grade.II",
            "incidents_by_hazard.waterlogging"} <= real


# ----------------------------------------------------------------------------------------------
# replications in batches, on one built scenario, with the files of separate runs
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_console_script_sweeps_an_experiment_with_gridsims_sweeper(tmp_path: Path) -> None:
    """As a user runs it (a process of its own: Hydra's plugin scan runs there first)."""
    from console import explain, gridsim

    write_experiment(tmp_path, replications=2)
    proc = gridsim("experiment", "tiny.yaml", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    assert "sweep: done 4/4, failed 0" in proc.stdout, explain(proc)
    multirun = (sweep_dir(tmp_path) / "multirun.yaml").read_text(encoding="utf-8")
    assert "_target_: hydra_plugins.gridsim_sweeper.GridsimSweeper" in multirun
    assert "validate: false" in multirun  # each variant was checked before the launch
    assert len(summaries(tmp_path)) == 4


def test_batches_are_replications_of_one_variant_at_most_ten_and_at_least_four_jobs() -> None:
    jobs = [[f"a={a}", f"replication={r}"] for a in (1, 2) for r in range(25)]
    batches = plan_batches(jobs, None)
    assert all(len({tuple(ov[:-1]) for _, ov in b}) == 1 for b in batches)
    assert max(len(b) for b in batches) == MAX_PER_JOB
    assert sorted(n for b in batches for n, _ in b) == list(range(50))
    assert [n for b in batches for n, _ in b] == list(range(50))  # in the jobs' order
    assert len(plan_batches(jobs[:8], None)) == MIN_JOBS  # 8 runs: 4 jobs of 2
    assert len(plan_batches(jobs[:3], None)) == 3  # fewer runs than jobs wanted: one each
    assert [len(b) for b in plan_batches(jobs, 1)] == [1] * 50
    with pytest.raises(ValueError, match="replications_per_job"):
        plan_batches(jobs, 0)


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of every run under the sweep folder, but the manifests and Hydra's own
    record of the job (``hydra.yaml``: the sweeper's settings differ between the sweeps)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()
            and p.name not in (MANIFEST, "hydra.yaml", "multirun.yaml")}


@pytest.fixture(scope="module")
def batched_sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """The tiny experiment swept once in batches (the sweeper's own plan, Hydra's basic
    launcher, in this process), every ``gridsim.engine.simulation.build`` counted by the
    response it was called for: ``(folder, builds)``. Shared by the tests of a batched sweep,
    which read it; a test that changes a sweep works on a copy."""
    import gridsim.engine.simulation as simulation  # the module whose build is counted

    folder = tmp_path_factory.mktemp("batched")
    write_experiment(folder)
    builds: list[str] = []
    real_build = simulation.build

    def counting_build(settings):  # type: ignore[no-untyped-def]
        builds.append(settings.response.name)
        return real_build(settings)

    mp = pytest.MonkeyPatch()
    mp.setattr(simulation, "build", counting_build)
    code, out, err = sweep_once(folder, mp)
    assert code == 0, out + err
    yield folder, builds


@pytest.mark.slow
def test_a_batched_sweep_writes_exactly_the_files_of_separate_runs(
        batched_sweep: tuple[Path, list[str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import gridsim.engine.simulation as simulation

    batched, batched_builds = batched_sweep
    assert batched_builds == ["standard", "prepared"]  # one build per variant, for its batches
    builds: list[str] = []
    real_build = simulation.build

    def counting_build(settings):  # type: ignore[no-untyped-def]
        builds.append(settings.response.name)
        return real_build(settings)

    monkeypatch.setattr(simulation, "build", counting_build)
    separate = tmp_path / "separate"
    write_experiment(separate)
    code, out, err = run_inprocess(separate, "hydra.sweeper.replications_per_job=1",
                                   monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    assert len(builds) == 6  # every run a job of its own, building its scenario
    got, want = _files(sweep_dir(batched)), _files(sweep_dir(separate))
    assert sorted(got) == sorted(want)
    assert len([n for n in got if n.endswith("/summary.json")]) == 6
    for name, data in want.items():
        assert got[name] == data, f"{name} differs between the batched and separate runs"
    # each run's record is its own: overrides, replication, job number, folder
    for run, m in manifests(batched).items():
        assert m["status"] == "done"
        assert f"replication={m['replication']}" in m["overrides"]
        hydra_yaml = (sweep_dir(batched) / run / ".hydra" / "hydra.yaml").read_text(
            encoding="utf-8")
        assert f"output_dir: {sweep_dir(batched) / run}" in hydra_yaml
        assert "GRIDSIM_BATCH" not in hydra_yaml
    assert not [p for p in sweep_dir(batched).iterdir() if p.name.startswith(".gridsim-batch")]
    assert summaries(batched) == summaries(separate)


@pytest.mark.slow
def test_a_batched_sweep_resumes_run_by_run(
        batched_sweep: tuple[Path, list[str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The batched sweep copied (its experiment file with it), one run's summary removed: the
    same command again runs that run alone."""
    shutil.copytree(batched_sweep[0], tmp_path, dirs_exist_ok=True)
    before = manifests(tmp_path)
    assert len(before) == 6 and {m["status"] for m in before.values()} == {"done"}
    victim = sorted(before)[1]
    (sweep_dir(tmp_path) / victim / "summary.json").unlink()
    code, out, err = run_inprocess(tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    assert out.count("skipped (done before, same config)") == 5
    after = manifests(tmp_path)
    assert {r for r in after if after[r]["finished_unix"] != before[r]["finished_unix"]} == {
        victim}


# ----------------------------------------------------------------------------------------------
# a killed worker
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_killed_worker_marks_its_run_failed_and_the_sweep_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A joblib worker killed by SIGKILL while a run goes on (gridsim.app.runs.TEST_KILL_ENV:
    each run of replication 1 kills its process): those runs say failed, "worker killed", the
    runs that never started are launched again, every run ends done or failed, exit 1."""
    from gridsim.app.runs import TEST_KILL_ENV

    write_experiment(tmp_path)
    # through hydra.job.env_set: joblib may reuse workers started before (by another test)
    code, out, err = run_inprocess(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                                   f"++hydra.job.env_set.{TEST_KILL_ENV}='replication=1'",
                                   monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1, out + err
    assert "Traceback" not in out + err
    ms = manifests(tmp_path)
    assert len(ms) == 6, sorted(ms)  # every run has a manifest: none was left unlaunched
    assert {m["status"] for m in ms.values()} <= {"done", "failed"}  # none says running
    killed = {n for n, m in ms.items() if m["replication"] == 1}
    for n in killed:
        assert ms[n]["status"] == "failed", ms[n]
        assert ms[n]["error"].startswith("worker killed: TerminatedWorkerError"), ms[n]["error"]
    done = {n for n, m in ms.items() if m["status"] == "done"}
    assert done, "the sweep did not go on after the first killed worker"
    for n in done:
        assert (sweep_dir(tmp_path) / n / "summary.json").is_file()
    failed = {n for n, m in ms.items() if m["status"] == "failed"}
    for n in failed:
        assert f"failed: {n}: worker killed" in out
        assert not (sweep_dir(tmp_path) / n / "summary.json").exists()
    assert not list(sweep_dir(tmp_path).rglob("*.part"))
    assert f"sweep: done {len(done)}/{len(done) + len(failed)}, failed {len(failed)}" in out


# ----------------------------------------------------------------------------------------------
# SIGTERM, as a scheduler sends it
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_sigterm_stops_an_experiment_with_one_line_exit_143_and_nothing_running(
        tmp_path: Path) -> None:
    import signal

    from test_experiments import signal_sweep

    write_experiment(tmp_path, replications=8)
    proc = signal_sweep(tmp_path, signal.SIGTERM)  # stderr into stdout
    out = proc.stdout
    assert proc.returncode == 143, out
    assert "Traceback" not in out
    own = [ln for ln in out.splitlines() if ln.startswith("gridsim: ")]
    assert own == ["gridsim: terminated by SIGTERM"] or (
        len(own) == 1 and own[0].startswith("gridsim: terminated by SIGTERM: the run in ")), own
    assert "run the same command again" in out
    ms = manifests(tmp_path)
    assert ms and "running" not in {m["status"] for m in ms.values()}
    assert not list(sweep_dir(tmp_path).rglob("*.part"))


@pytest.mark.slow
def test_ctrl_c_of_a_joblib_sweep_leaves_no_run_saying_running(tmp_path: Path) -> None:
    """The workers joblib ends with the command cannot record their runs: the command marks
    them interrupted once their processes are gone."""
    import signal

    from test_experiments import signal_sweep

    write_experiment(tmp_path, replications=8)
    proc = signal_sweep(tmp_path, signal.SIGINT, "hydra/launcher=joblib",
                        "hydra.launcher.n_jobs=2", "duration_h=3000", "hazard.rate_scale=60",
                        ready=lambda ms: sum(m.get("status") == "running"
                                             for m in ms.values()) >= 2, timeout=90)
    out = proc.stdout
    assert proc.returncode == 130, out
    assert "Traceback" not in out
    assert [ln for ln in out.splitlines() if ln.startswith("gridsim: ")] == [
        "gridsim: interrupted (Ctrl-C)"], out
    ms = manifests(tmp_path)
    assert "interrupted" in {m["status"] for m in ms.values()}, ms
    assert "running" not in {m["status"] for m in ms.values()}
    for n, m in ms.items():
        if m["status"] == "interrupted":
            assert not (sweep_dir(tmp_path) / n / "summary.json").exists()
    assert not list(sweep_dir(tmp_path).rglob("*.part"))


# ----------------------------------------------------------------------------------------------
# gridsim report
# ----------------------------------------------------------------------------------------------
def _manifest(folder: Path, experiment: str, replication: int = 0) -> None:
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({
        "status": "done", "overrides": [f"replication={replication}"], "seed": 1,
        "replication": replication, "config": {"experiment": {"name": experiment}}}),
        encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"within_5min_share": 0.5}),
                                         encoding="utf-8")


def test_report_refuses_a_folder_holding_two_experiments(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _manifest(tmp_path / "a" / "replication=0", "team_size")
    _manifest(tmp_path / "a" / "replication=1", "team_size", 1)
    _manifest(tmp_path / "b" / "replication=0", "pilot_redesign")
    code = cli.main(["report", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert "2 experiments" in lines[0] and str(tmp_path) in lines[0]
    assert "pilot_redesign: 1 runs" in lines[0] and "team_size: 2 runs" in lines[0]
    assert not (tmp_path / "report.md").exists()
    assert cli.main(["report", str(tmp_path / "a"), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report.md").is_file()


def test_report_of_a_folder_that_is_not_there_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["report", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no such folder" in err, err
    assert os.fspath(tmp_path / "nope") in err


# ----------------------------------------------------------------------------------------------
# Hydra's own flags; path-valued keys out of the folder names
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_experiment_passes_hydras_cfg_flags_and_runs_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import yaml  # the printed config, read back

    write_experiment(tmp_path)
    code, out, err = run_inprocess(tmp_path, "--cfg", "job", "duration_h=5",
                                   monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    job = yaml.safe_load(out)
    assert job["seed"] == 11 and job["duration_h"] == 5  # the file's value, the override's
    assert "hydra" not in job
    code, out, err = run_inprocess(tmp_path, "--cfg", "hydra", "--package", "hydra.sweeper",
                                   monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    sweeper = yaml.safe_load(out)
    assert sweeper["_target_"] == "hydra_plugins.gridsim_sweeper.GridsimSweeper"
    assert sweeper["params"]["response"] == "standard,prepared"
    assert not (tmp_path / "multirun").exists(), "a Hydra flag must not run the sweep"
    code, out, err = run_inprocess(tmp_path, "--cfg", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "--cfg expects a value" in err, err


def test_path_keys_stay_out_of_folder_names_and_the_job_number_tells_them_apart() -> None:
    """Every public key whose value is a path is in override_dirname's exclude_keys; a sweep
    over one gets folders named by the other overrides and the job number, one per job."""
    from hydra._internal.config_loader_impl import get_overrides_dirname  # Hydra's own rule
    from hydra.core.override_parser.overrides_parser import OverridesParser  # as Hydra parses
    from omegaconf import OmegaConf  # to resolve the subdir as each job does

    from gridsim.app.hydra_app import compose_config
    from hydra_plugins.gridsim_sweeper import numbered_subdir

    cfg = compose_config(["scenario=small"])
    exclude = list(cfg.hydra.job.config.override_dirname.exclude_keys)
    paths = {"scenario.path", "plan", "hazard.weather.observed.path", "planning.instance",
             "planning.demand", "experiment.report_dir"}
    assert paths <= set(exclude)
    long_a, long_b = "/tmp/plans/a/very/long/path/plan.yaml", "/tmp/plans/b/plan.yaml"
    jobs = [["scenario=small", f"plan={p}", f"replication={r}"]
            for p in (long_a, long_b) for r in (0, 1)]
    subdir = numbered_subdir("${hydra.job.override_dirname}", jobs, exclude)
    assert subdir is not None
    names = []
    for num, job in enumerate(jobs):
        parsed = OverridesParser.create().parse_overrides(job)
        dirname = get_overrides_dirname(parsed, exclude, ",", "=")
        node = OmegaConf.create({"hydra": {"job": {"num": num, "override_dirname": dirname}},
                                 "subdir": subdir})
        names.append(str(node.subdir))
    assert names == [f"replication={r},scenario=small,job={n}"
                     for n, r in enumerate((0, 1, 0, 1))]
    only = numbered_subdir("runs/${hydra.job.override_dirname}", [[f"plan={long_a}"],
                                                                  [f"plan={long_b}"]], exclude)
    assert only == "runs/job=${hydra.job.num}"
    # nothing to tell apart: the subdir as it is
    assert numbered_subdir("${hydra.job.override_dirname}", jobs[:2], exclude) is None
    assert numbered_subdir("${hydra.job.num}", jobs, exclude) is None


# ----------------------------------------------------------------------------------------------
# the progress line: done / total, failed, ETA (mean wall × runs left / parallelism)
# ----------------------------------------------------------------------------------------------
def _run(folder: Path, name: str, status: str, start: float, end: float | None,
         session: str = "s") -> None:
    (folder / name).mkdir(parents=True)
    fields = {"status": status, "started_unix": start, "session": session}
    if end is not None:
        fields["finished_unix"] = end
    (folder / name / MANIFEST).write_text(json.dumps(fields), encoding="utf-8")


def test_the_progress_line_counts_from_the_manifests_with_an_eta_per_parallel_worker(
        tmp_path: Path) -> None:
    from gridsim.experiments.sweep import clock, sweep_status

    t0 = 1_000_000.0
    # two workers: runs of 30, 30, 60 and 40 s, two at a time from t0 to t0 + 90 (sum 160 s
    # of wall over 90 s: parallelism 2); one still running, one from an earlier session
    _run(tmp_path, "a", "done", t0, t0 + 30)
    _run(tmp_path, "b", "done", t0, t0 + 30)
    _run(tmp_path, "c", "failed", t0 + 30, t0 + 90)
    _run(tmp_path, "d", "done", t0 + 30, t0 + 70)
    _run(tmp_path, "e", "running", t0 + 90, None)
    _run(tmp_path, "old", "done", t0 - 5000, t0 - 4000, session="before")
    st = sweep_status(tmp_path, total=10, since=t0)
    assert (st.done, st.failed, st.running, st.remaining) == (4, 1, 1, 5)
    mean = (30 + 30 + 60 + 40) / 4  # the runs of this session, failed ones included
    assert st.eta_s == pytest.approx(mean * 5 / 2)  # 100 s
    assert st.line() == f"sweep: done 4/10, failed 1, ETA {clock(100)}"
    assert st.line() == "sweep: done 4/10, failed 1, ETA 1:40"
    # the launcher's workers, when known, rather than the parallelism seen
    assert sweep_status(tmp_path, total=10, since=t0, parallel=4).eta_s == pytest.approx(
        mean * 5 / 4)
    # no total: counts only; all done: no ETA
    assert sweep_status(tmp_path, since=t0).line() == "sweep: done 4, failed 1"
    assert sweep_status(tmp_path, total=5, since=t0).line() == "sweep: done 4/5, failed 1"
    assert (clock(42), clock(725), clock(7380)) == ("0:42", "12:05", "2:03:00")


# ----------------------------------------------------------------------------------------------
# Dask: refused, not silently run on loky
# ----------------------------------------------------------------------------------------------
def test_a_joblib_backend_the_launcher_would_ignore_is_refused_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from gridsim.experiments.orchestrate import launcher_problem

    joblib = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
    assert launcher_problem(joblib, None) is None and launcher_problem(joblib, "loky") is None
    assert "dask" in (launcher_problem(joblib, "dask") or "")
    assert launcher_problem("hydra._internal.core_plugins.basic_launcher.BasicLauncher",
                            "dask") is None
    write_experiment(tmp_path)
    code, _out, err = run_inprocess(tmp_path, "hydra/launcher=joblib",
                                   "hydra.launcher.backend=dask", monkeypatch=monkeypatch,
                                   capsys=capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1, err
    assert "hydra.launcher.backend=dask" in lines[0] and "tiny.yaml" in lines[0]
    assert "hydra/launcher=ray" in lines[0] and "submitit_slurm" in lines[0]
    assert not (tmp_path / "multirun").exists()
