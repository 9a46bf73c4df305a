"""Run folders (:mod:`gridsim.output.run_folder`): claimed without collisions, resumed only when
config *and* inputs are unchanged, cleared of an earlier run's results, recorded in a manifest,
and cleaned up after every fault (a folder under a file, a read-only place, a full disk, Ctrl-C,
SIGTERM, a killed process, a name too long), each reported in one line.

No simulation runs here: the run's body is a small function that writes files as a run does
(through :func:`gridsim.fsutil.write_atomic`), so every file in a folder is known to the test.
Faults of the file system are made real where the container allows it (a tmpfs mounted
read-only, a 64 KiB tmpfs for a full disk; skipped with the reason when mounting is not
permitted), and always also simulated by making :mod:`gridsim.fsutil`'s ``open`` raise the
error the system would (``EROFS``, ``ENOSPC``).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import gridsim.fsutil
from gridsim.errors import UserError, report
from gridsim.evacuation.output import EVACUATION_FIGURES, EVACUATION_FILES
from gridsim.fsutil import write_atomic
from gridsim.model.params import (
    HazardConfig,
    ObservedRainConfig,
    RunConfig,
    ScenarioConfig,
    WeatherConfig,
)
from gridsim.output.figures import FIGURES
from gridsim.output.files import OUTPUT_FILES
from gridsim.output.run_folder import (
    KILLED,
    LOCK_FILE,
    MANIFEST,
    FolderBusy,
    RunOutcome,
    Terminated,
    check_path_length,
    claim_run_folder,
    config_hash,
    input_files,
    inputs_digest,
    mark_killed,
    read_manifest,
    run_in_folder,
)

CONFIG: dict[str, Any] = {"seed": 3, "duration_h": 48.0, "output": {"figures": False}}


def body_writing(summary: dict[str, Any], *names: str) -> Callable[[Path], dict[str, Any]]:
    """A run's body: writes ``names`` and then the summary (last, as gridsim does)."""

    def body(folder: Path) -> dict[str, Any]:
        for name in names:
            write_atomic(folder / name, f"{name} of {summary}\n")
        write_atomic(folder / "summary.json", json.dumps(summary))
        return summary

    return body


def run(folder: Path, body: Callable[[Path], dict[str, Any]], config: dict[str, Any] = CONFIG,
        inputs: list[Path] | None = None, **kw: Any) -> RunOutcome:
    return run_in_folder(folder, config=config, inputs=inputs or [], seed=3, replication=1,
                         overrides=["seed=3"], version="0.test", body=body, **kw)


def never(folder: Path) -> dict[str, Any]:
    raise AssertionError("the run was not to be run again")


def one_line(exc: BaseException) -> str:
    """What the CLI prints for ``exc``: exactly one ``gridsim: ...`` line, exit code != 0."""
    buf = io.StringIO()
    code = report(exc, buf)
    lines = buf.getvalue().splitlines()
    assert code != 0
    assert len(lines) == 1 and lines[0].startswith("gridsim: "), lines
    assert "Traceback" not in lines[0]
    return lines[0]


def leftovers(root: Path) -> list[Path]:
    """``*.part`` files anywhere under root, and manifests saying ``running``."""
    bad = [p for p in root.rglob("*.part")]
    for m in root.rglob(MANIFEST):
        with contextlib.suppress(ValueError, OSError):
            if json.loads(m.read_text(encoding="utf-8")).get("status") == "running":
                bad.append(m)
    return bad


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------------------------------
# claiming a folder
# ----------------------------------------------------------------------------------------------
#: The start of a process that waits, once imported, until the test says go (the file
#: ``argv[2]`` appears), so that all of them start at the same moment.
BARRIER = """
import sys, time
from pathlib import Path
print("ready", flush=True)
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.0005)
"""


def start_together(script: str, args: list[list[str]], go: Path) -> list[subprocess.Popen[str]]:
    procs = [subprocess.Popen([sys.executable, "-c", script, a[0], str(go), *a[1:]],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for a in args]
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line == "ready\n", (line, p.stderr.read() if p.stderr else "")
    go.write_text("go")
    return procs


CLAIM = textwrap.dedent("""
    from gridsim.output.run_folder import claim_run_folder
""") + BARRIER + textwrap.dedent("""
    print(claim_run_folder(Path(sys.argv[1]), unique=True))
""")


def test_processes_claiming_the_same_default_folder_at_once_each_get_their_own(
        tmp_path: Path) -> None:
    target = tmp_path / "outputs" / "2026-01-01" / "10-00-00"
    procs = start_together(CLAIM, [[str(target)]] * 6, tmp_path / "go")
    got = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        got.append(out.strip())
    assert len(set(got)) == 6
    assert sorted(Path(g).name for g in got) == sorted(
        ["10-00-00"] + [f"10-00-00_{n}" for n in range(1, 6)])


TWO_RUNS = textwrap.dedent("""
    import json
    from gridsim.fsutil import write_atomic
    from gridsim.output.run_folder import claim_run_folder, result_file_names, run_in_folder
    result_file_names()  # its imports before the start, not in the race
""") + BARRIER + textwrap.dedent("""
    who = sys.argv[3]
    folder = claim_run_folder(Path(sys.argv[1]), unique=True)

    def body(f):
        write_atomic(f / "grids.csv", "grid\\n" + who + "\\n")
        time.sleep(1.0)  # both runs are writing at the same time
        s = {"who": who}
        write_atomic(f / "summary.json", json.dumps(s))
        return s

    out = run_in_folder(folder, config={"seed": 1}, inputs=[], seed=1, replication=0,
                        overrides=[], version="0", body=body)
    print(out.status, out.folder)
""")


def test_two_runs_started_at_the_same_moment_keep_both_results(tmp_path: Path) -> None:
    target = tmp_path / "outputs" / "2026-01-01" / "10-00-00"
    procs = start_together(TWO_RUNS, [[str(target), who] for who in ("first", "second")],
                           tmp_path / "go")
    results: dict[str, Path] = {}
    for who, p in zip(("first", "second"), procs, strict=True):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        status, where = out.split()
        assert status == "done"
        results[who] = Path(where)
    assert results["first"] != results["second"]
    for who, folder in results.items():
        assert json.loads((folder / "summary.json").read_text()) == {"who": who}
        assert (folder / "grids.csv").read_text() == f"grid\n{who}\n"
        m = read_manifest(folder)
        assert m is not None and m["status"] == "done"
        assert m["files"] == ["grids.csv", "summary.json"]
        assert files_in(folder) == {"grids.csv", "summary.json", MANIFEST}
    assert not leftovers(tmp_path)


def test_a_chosen_folder_is_reused_and_problems_name_the_path(tmp_path: Path) -> None:
    chosen = tmp_path / "mine"
    assert claim_run_folder(chosen, unique=False) == chosen
    assert claim_run_folder(chosen, unique=False) == chosen  # exists: the same folder
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(UserError) as e:
        claim_run_folder(tmp_path / "afile" / "run", unique=True)
    line = one_line(e.value)
    # the file's name and what is wrong (the system says EEXIST or ENOTDIR, as the case may be)
    assert line.startswith("gridsim: cannot create the run folder: ")
    assert "a file is in the way" in line or "is a file, not a folder" in line
    assert str(tmp_path / "afile") in line
    with pytest.raises(UserError) as e:
        claim_run_folder(tmp_path / "afile", unique=False)
    assert "a file is in the way" in one_line(e.value)


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------
def scenario_folder(root: Path) -> Path:
    """A scenario folder naming four files (one of them in a sub-folder), beside a file it
    does not name."""
    folder = root / "scen"
    (folder / "data").mkdir(parents=True)
    (folder / "scenario.yaml").write_text(textwrap.dedent("""
        name: handmade
        crs: EPSG:32648
        grids: grids.geojson
        roads: data/roads.graphml
        stations: stations.csv
        shelters: shelters.csv
    """), encoding="utf-8")
    for name in ("grids.geojson", "data/roads.graphml", "stations.csv", "shelters.csv"):
        (folder / name).write_text(f"content of {name}\n", encoding="utf-8")
    (folder / "README.md").write_text("notes, not read by a run\n", encoding="utf-8")
    return folder


def files_settings(folder: Path | str) -> RunConfig:
    return RunConfig(scenario=ScenarioConfig(name="handmade", generator="files",
                                             path=str(folder)))


def test_input_files_are_the_scenario_yaml_and_every_file_it_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = scenario_folder(tmp_path)
    want = sorted(folder / n for n in ("scenario.yaml", "grids.geojson", "data/roads.graphml",
                                       "stations.csv", "shelters.csv"))
    assert input_files(files_settings(folder)) == want
    monkeypatch.chdir(tmp_path)  # a relative scenario.path gives absolute paths
    assert input_files(files_settings("scen")) == want
    synthetic = RunConfig(scenario=ScenarioConfig(name="small", generator="synthetic"))
    assert input_files(synthetic) == []


def _string_fields(cls: type, prefix: str = "") -> list[str]:
    import dataclasses
    import typing

    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        if dataclasses.is_dataclass(t):
            out += _string_fields(t, f"{prefix}{f.name}.")  # type: ignore[arg-type]
        elif t is str:
            out.append(prefix + f.name)
    return out


def test_every_file_valued_setting_is_known_to_input_files() -> None:
    """A setting that names a file or folder (``path``, ``*_file``, ``*_dir``, ``*_log``...)
    added to the params without input_files learning of it would let resume return stale
    results: this lists them all (``experiment.report_dir`` is an output, not an input)."""
    suffixes = ("path", "_file", "_files", "_dir", "_folder", "_log", "_logs", "_plan")
    named = {k for k in _string_fields(RunConfig)
             if k.rsplit(".", 1)[-1] == "path" or k.endswith(suffixes)}
    assert named == {"scenario.path", "hazard.weather.observed.path", "experiment.report_dir"}


def test_input_files_include_the_observed_rainfall(tmp_path: Path) -> None:
    rain = tmp_path / "rain.csv"
    rain.write_text("hour,township,mm\n0,0,1.5\n", encoding="utf-8")
    weather = WeatherConfig(kind="observed", observed=ObservedRainConfig(path=str(rain)))
    observed = RunConfig(scenario=ScenarioConfig(name="small", generator="synthetic"),
                         hazard=HazardConfig(name="observed", weather=weather))
    assert input_files(observed) == [rain.resolve()]
    d0 = inputs_digest(input_files(observed))
    rain.write_text("hour,township,mm\n0,0,2.5\n", encoding="utf-8")
    assert inputs_digest(input_files(observed)) != d0  # new rain: resume runs it again


def test_inputs_digest_follows_content_and_relative_names(tmp_path: Path) -> None:
    folder = scenario_folder(tmp_path)
    files = input_files(files_settings(folder))
    d0 = inputs_digest(files)
    assert len(d0) == 64 and d0 == inputs_digest(list(reversed(files)))
    copy = tmp_path / "elsewhere" / "scen"
    shutil.copytree(folder, copy)
    assert inputs_digest(input_files(files_settings(copy))) == d0  # same files, moved
    (copy / "stations.csv").write_text("content of stations.csv\n1\n", encoding="utf-8")
    assert inputs_digest(input_files(files_settings(copy))) != d0  # one row more
    (copy / "stations.csv").write_text("content of stations.csv\n", encoding="utf-8")
    assert inputs_digest(input_files(files_settings(copy))) == d0
    (copy / "stations.csv").rename(copy / "stations2.csv")  # renamed: another file
    assert inputs_digest([*files[:-1], copy / "stations2.csv"]) != d0
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.csv"
    assert inputs_digest([empty]) != inputs_digest([missing])  # a missing file is not empty


# ----------------------------------------------------------------------------------------------
# resume
# ----------------------------------------------------------------------------------------------
def test_resume_skips_a_done_run_only_while_config_and_inputs_are_unchanged(
        tmp_path: Path) -> None:
    scen = scenario_folder(tmp_path)
    inputs = input_files(files_settings(scen))
    folder = tmp_path / "run"
    first = run(folder, body_writing({"n": 1}, "grids.csv"), inputs=inputs)
    assert first.status == "done" and first.summary == {"n": 1}
    again = run(folder, never, inputs=inputs)
    assert again.status == "skipped" and again.summary == {"n": 1}
    assert again.wall_s == read_manifest(folder)["wall_s"]  # type: ignore[index]
    # the scenario folder's data changed: its results are stale, the run goes again
    (scen / "data" / "roads.graphml").write_text("another road\n", encoding="utf-8")
    second = run(folder, body_writing({"n": 2}, "grids.csv"), inputs=inputs)
    assert second.status == "done" and second.summary == {"n": 2}
    m = read_manifest(folder)
    assert m is not None and m["inputs_hash"] == inputs_digest(inputs)
    assert run(folder, never, inputs=inputs).status == "skipped"
    # another config
    other = {**CONFIG, "seed": 4}
    assert run(folder, body_writing({"n": 3}), config=other, inputs=inputs).status == "done"
    # the experiment block and the progress display do not change results: still done
    cosmetic = {**other, "experiment": {"title": "new"}, "output": {"figures": False,
                                                                    "progress": True}}
    assert config_hash(cosmetic) == config_hash(other)
    assert run(folder, never, config=cosmetic, inputs=inputs).status == "skipped"


@pytest.mark.parametrize("damage", ["truncated summary", "deleted result", "resume off"])
def test_a_done_run_is_run_again_when_its_files_cannot_be_vouched_for(
        tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "run"
    run(folder, body_writing({"n": 1}, "grids.csv", "incidents.csv"))
    kw: dict[str, Any] = {}
    if damage == "truncated summary":
        (folder / "summary.json").write_text('{"n": 1', encoding="utf-8")
    elif damage == "deleted result":
        (folder / "incidents.csv").unlink()
    else:
        kw["resume"] = False
    calls = []

    def body(f: Path) -> dict[str, Any]:
        calls.append(f)
        return body_writing({"n": 2}, "grids.csv", "incidents.csv")(f)

    assert run(folder, body, **kw).status == "done" and calls == [folder]
    assert json.loads((folder / "summary.json").read_text()) == {"n": 2}


# ----------------------------------------------------------------------------------------------
# a reused folder and the manifest
# ----------------------------------------------------------------------------------------------
def test_a_reused_folder_keeps_no_file_of_the_earlier_run_but_the_users(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text("seed: 3\n")
    (folder / "notes.txt").write_text("my notes\n")
    every = [*OUTPUT_FILES, *FIGURES, *EVACUATION_FILES, *EVACUATION_FIGURES]
    old = [n for n in every if n != "summary.json"] + ["my_extra_table.csv"]
    run(folder, body_writing({"old": True}, *old))
    (folder / "grids.csv.part").write_text("half")  # a write the earlier run never ended
    assert {"evacuation.csv", "map_within_5min.png", "my_extra_table.csv"} <= files_in(folder)
    seen: list[set[str]] = []

    def new(f: Path) -> dict[str, Any]:
        seen.append(files_in(f))  # what the run finds when it starts
        return body_writing({"old": False}, "grids.csv", "incidents.csv")(f)

    out = run(folder, new, config={**CONFIG, "seed": 9})
    assert out.status == "done"
    # before the body ran: only the user's files (and the lock and the new manifest) were left
    assert seen == [{".hydra/config.yaml", "notes.txt", MANIFEST, LOCK_FILE}]
    assert files_in(folder) == {".hydra/config.yaml", "notes.txt", MANIFEST, "grids.csv",
                                "incidents.csv", "summary.json"}
    m = read_manifest(folder)
    assert m is not None and m["files"] == ["grids.csv", "incidents.csv", "summary.json"]
    assert (folder / "notes.txt").read_text() == "my notes\n"


def test_the_manifest_records_the_run(tmp_path: Path) -> None:
    scen = scenario_folder(tmp_path)
    inputs = input_files(files_settings(scen))
    folder = tmp_path / "run"
    before = time.time()
    out = run_in_folder(folder, config=CONFIG, inputs=inputs, seed=3, replication=1,
                        overrides=["seed=3", "replication=1"], version="0.test",
                        body=body_writing({"n": 1}, "grids.csv"), session="s-1")
    after = time.time()
    m = read_manifest(folder)
    assert m is not None
    assert m["status"] == "done" and m["error"] is None and m["traceback"] is None
    assert m["config"] == CONFIG and m["config_hash"] == config_hash(CONFIG)
    assert m["seed"] == 3 and m["replication"] == 1 and m["gridsim_version"] == "0.test"
    assert m["overrides"] == ["seed=3", "replication=1"] and m["session"] == "s-1"
    assert m["inputs"] == ["data/roads.graphml", "grids.geojson", "scenario.yaml",
                           "shelters.csv", "stations.csv"]
    assert m["inputs_hash"] == inputs_digest(inputs)
    assert before <= m["started_unix"] <= m["finished_unix"] <= after
    assert 0 <= m["wall_s"] <= after - before and out.wall_s == m["wall_s"]
    assert m["files"] == ["grids.csv", "summary.json"]
    assert not (folder / LOCK_FILE).exists()


# ----------------------------------------------------------------------------------------------
# failures
# ----------------------------------------------------------------------------------------------
def half_written(summary_first: bool) -> Callable[[Path], dict[str, Any]]:
    """A body that wrote a table (and, if asked, a summary) and is writing another when it
    fails: the ``.part`` file of the second is left as a process would leave it."""

    def body(folder: Path) -> dict[str, Any]:
        write_atomic(folder / "incidents.csv", "incident\n")
        if summary_first:
            write_atomic(folder / "summary.json", "{}")
        (folder / "grids.csv.part").write_text("grid\n1,")
        raise ValueError("bad grid 4")

    return body


def test_a_failed_run_is_recorded_and_cleaned_up(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with pytest.raises(ValueError, match="bad grid 4"):
        run(folder, half_written(summary_first=True))
    m = read_manifest(folder)
    assert m is not None and m["status"] == "failed"
    assert m["error"] == "ValueError: bad grid 4" and "ValueError" in m["traceback"]
    assert m["files"] == ["incidents.csv"]  # what is left, described
    assert files_in(folder) == {MANIFEST, "incidents.csv"}
    assert not leftovers(tmp_path)
    # a sweep goes on: the failure comes back as an outcome
    out = run(folder, half_written(summary_first=False), reraise=False)
    assert out.status == "failed" and out.error == "ValueError: bad grid 4"
    assert out.summary is None and not leftovers(tmp_path)


def test_ctrl_c_is_recorded_as_interrupted(tmp_path: Path) -> None:
    folder = tmp_path / "run"

    def body(f: Path) -> dict[str, Any]:
        write_atomic(f / "incidents.csv", "incident\n")
        (f / "events.csv.part").write_text("time_s,")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as e:
        run(folder, body, reraise=False)  # an interruption is always raised
    assert not isinstance(e.value, Terminated) and e.value.run_folder == folder  # type: ignore
    m = read_manifest(folder)
    assert m is not None and m["status"] == "interrupted"
    assert m["error"] == "interrupted (Ctrl-C)"
    assert not leftovers(tmp_path) and not (folder / "summary.json").exists()


def test_sigterm_in_the_run_is_handled_like_ctrl_c_and_the_handler_restored(
        tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)

    def body(f: Path) -> dict[str, Any]:
        (f / "events.csv.part").write_text("time_s,")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # the handler raises in the middle of this
        raise AssertionError("not reached")

    t0 = time.monotonic()
    with pytest.raises(Terminated) as e:
        run(tmp_path / "run", body)
    assert time.monotonic() - t0 < 20
    assert e.value.exit_code == 143 and isinstance(e.value, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGTERM) is before
    m = read_manifest(tmp_path / "run")
    assert m is not None and m["status"] == "interrupted" and m["error"] == "terminated by SIGTERM"
    assert not leftovers(tmp_path)


WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from gridsim.fsutil import write_atomic
    from gridsim.output.run_folder import Terminated, run_in_folder

    def body(f):
        write_atomic(f / "incidents.csv", "incident\\n")
        (f / "events.csv.part").write_text("time_s,")  # in the middle of a write
        print("ready", flush=True)
        time.sleep(120)

    try:
        run_in_folder(Path(sys.argv[1]), config={"seed": 1}, inputs=[], seed=1, replication=0,
                      overrides=[], version="0", body=body)
    except Terminated as exc:
        print(exc, exc.run_folder, flush=True)
        sys.exit(exc.exit_code)
""")


def start_worker(folder: Path) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", WORKER, str(folder)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line.strip() == "ready", (line, p.stderr.read() if p.stderr else "")
    return p


def test_sigterm_from_a_scheduler_ends_the_run_as_interrupted_with_exit_143(
        tmp_path: Path) -> None:
    folder = tmp_path / "run"
    p = start_worker(folder)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert out.strip() == f"terminated by SIGTERM {folder}"
    m = read_manifest(folder)
    assert m is not None and m["status"] == "interrupted"
    assert m["files"] == ["incidents.csv"]
    assert not leftovers(tmp_path) and not (folder / LOCK_FILE).exists()


def test_a_folder_in_use_is_refused_and_a_killed_run_is_marked_failed(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    p = start_worker(folder)
    try:
        with pytest.raises(FolderBusy) as e:
            run(folder, never)
        assert "another gridsim run is using this run folder" in one_line(e.value)
        assert mark_killed(folder) is False  # it is alive
        assert read_manifest(folder)["status"] == "running"  # type: ignore[index]
    finally:
        p.kill()  # SIGKILL: no clean-up at all
        p.communicate(timeout=60)
    assert (folder / "events.csv.part").exists()  # as a killed process leaves it
    assert mark_killed(folder) is True
    m = read_manifest(folder)
    assert m is not None and m["status"] == "failed" and m["error"] == KILLED
    assert m["files"] == ["incidents.csv"]
    assert not leftovers(tmp_path)
    assert mark_killed(folder) is False  # once
    assert run(folder, body_writing({"n": 1}, "grids.csv")).status == "done"


# ----------------------------------------------------------------------------------------------
# the file system's faults
# ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at ``path`` (skips the test when mounting is not permitted here)."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command: the monkeypatched variant covers this fault")
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({(r.stderr or r.stdout).strip()}): the "
                    "monkeypatched variant covers this fault")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount_read_only(path: Path) -> None:
    r = subprocess.run(["mount", "-o", "remount,ro", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only here ({r.stderr.strip()})")


def fake_open(error: int, passes: int = 0, fails: set[int] | None = None
              ) -> Callable[..., Any]:
    """``open`` for :mod:`gridsim.fsutil` that lets ``passes`` calls through, then raises
    ``error`` as the system does (opening for writing names the file; ENOSPC comes from
    write(), which names none); with ``fails``, only the calls of those numbers (from 1)
    raise."""
    calls = {"n": 0}

    def fake(file: Any, *args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if (calls["n"] not in fails) if fails is not None else calls["n"] <= passes:
            return open(file, *args, **kw)
        if error == errno.ENOSPC:
            raise OSError(error, os.strerror(error))
        raise OSError(error, os.strerror(error), str(file))

    return fake


def test_a_run_folder_under_a_file_gives_one_line(tmp_path: Path) -> None:
    (tmp_path / "results").write_text("a file where a folder should be")
    with pytest.raises(UserError) as e:
        run(tmp_path / "results" / "run", never)
    line = one_line(e.value)
    assert "cannot create the run folder: a part of the path is a file, not a folder" in line
    assert str(tmp_path / "results" / "run") in line
    assert not leftovers(tmp_path)


def test_a_read_only_place_mounted(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "size=1m") as mnt:
        folder = mnt / "run"
        run(folder, body_writing({"n": 1}, "grids.csv"))
        old = {n: (folder / n).read_bytes() for n in files_in(folder)}
        remount_read_only(mnt)
        with pytest.raises(UserError) as e:
            run(folder, never, config={**CONFIG, "seed": 5})
        line = one_line(e.value)
        assert "the file system is read-only" in line and str(folder) in line
        # the earlier run is untouched, still described by its manifest
        assert {n: (folder / n).read_bytes() for n in files_in(folder)} == old
        assert read_manifest(folder)["status"] == "done"  # type: ignore[index]
        with pytest.raises(UserError) as e:
            run(mnt / "new", never)
        assert "cannot create the run folder: the file system is read-only" in one_line(e.value)
        with pytest.raises(UserError) as e:
            claim_run_folder(mnt / "new", unique=True)
        assert "read-only" in one_line(e.value)
        assert not leftovers(mnt)


def test_a_read_only_place_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EROFS from every write of gridsim.fsutil (so from the manifest's), simulated."""
    folder = tmp_path / "run"
    run(folder, body_writing({"n": 1}, "grids.csv"))
    old = {n: (folder / n).read_bytes() for n in files_in(folder)}
    monkeypatch.setattr(gridsim.fsutil, "open", fake_open(errno.EROFS), raising=False)
    with pytest.raises(UserError) as e:
        run(folder, never, config={**CONFIG, "seed": 5})
    line = one_line(e.value)
    assert line.startswith("gridsim: cannot write the run folder: the file system is read-only")
    assert str(folder / MANIFEST) in line and ".part" not in line
    assert {n: (folder / n).read_bytes() for n in files_in(folder)} == old
    assert not leftovers(tmp_path)


def test_a_full_disk_mounted(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "size=64k") as mnt:
        folder = mnt / "run"

        def big(f: Path) -> dict[str, Any]:
            write_atomic(f / "incidents.csv", "incident\n")
            write_atomic(f / "events.csv", "x" * 400_000)  # more than the disk holds
            return {}

        with pytest.raises(UserError) as e:
            run(folder, big)
        line = one_line(e.value)
        assert "no space left on the device" in line and str(folder) in line
        m = read_manifest(folder)  # the big file's .part is gone, so the failure is recorded
        assert m is not None and m["status"] == "failed" and "No space left" in m["error"]
        assert m["files"] == ["incidents.csv"]
        assert not leftovers(mnt) and not (folder / "summary.json").exists()

        def filled(f: Path) -> dict[str, Any]:
            # another process fills the disk: not even the manifest can be written after
            with open(mnt / "ballast.bin", "wb") as fh, contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * 4096)
                    fh.flush()
            write_atomic(f / "grids.csv", "grid\n" * 10_000)
            return {}

        with pytest.raises(UserError) as e:
            run(folder, filled, config={**CONFIG, "seed": 5})
        assert "no space left on the device" in one_line(e.value)
        assert not leftovers(mnt)  # the manifest saying running was removed
        assert not (folder / "summary.json").exists()


def test_a_full_disk_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC from every write of gridsim.fsutil after the first (the manifest saying
    running), simulated: the run's files fail, and so does the manifest after it."""
    folder = tmp_path / "run"
    run(folder, body_writing({"n": 1}, "grids.csv"))
    monkeypatch.setattr(gridsim.fsutil, "open", fake_open(errno.ENOSPC, passes=1),
                        raising=False)
    with pytest.raises(UserError) as e:
        run(folder, body_writing({"n": 2}, "grids.csv"), config={**CONFIG, "seed": 5})
    line = one_line(e.value)
    assert "no space left on the device" in line and str(folder) in line
    assert not leftovers(tmp_path)
    assert not (folder / MANIFEST).exists()  # it said running: removed
    assert not (folder / "summary.json").exists()  # the earlier run's went before the run
    monkeypatch.undo()
    assert run(folder, body_writing({"n": 3}, "grids.csv")).status == "done"


def test_a_full_disk_with_room_once_the_running_manifest_is_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The final manifest is written beside the one saying running before the rename: on a
    nearly full disk that fails where writing it alone would not. The running one goes, the
    final one is written: the run is recorded (simulated: the second write of fsutil fails)."""
    folder = tmp_path / "run"

    def body(f: Path) -> dict[str, Any]:
        (f / "summary.json").write_text("{}")  # not through fsutil: not counted
        return {}

    monkeypatch.setattr(gridsim.fsutil, "open", fake_open(errno.ENOSPC, fails={2}),
                        raising=False)
    assert run(folder, body).status == "done"
    m = read_manifest(folder)
    assert m is not None and m["status"] == "done" and m["files"] == ["summary.json"]
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("segment", ["x" * 300, "网" * 100])  # 300 bytes either way
def test_a_name_too_long_for_the_file_system_is_refused_up_front(
        tmp_path: Path, segment: str) -> None:
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    assert len(segment.encode()) == 300 > limit
    for attempt in (lambda: run(tmp_path / segment / "run", never),
                    lambda: claim_run_folder(tmp_path / segment, unique=True),
                    lambda: check_path_length(tmp_path / "drills" / segment)):
        with pytest.raises(UserError) as e:
            attempt()
        line = one_line(e.value)
        assert "name is too long" in line and f"has 300 bytes, at most {limit}" in line
        assert len(line) < 400  # the name is shortened in the message
    assert list(tmp_path.iterdir()) == []
    deep = tmp_path.joinpath(*["d" * 200] * 25)  # every name fits, the whole path does not
    with pytest.raises(UserError) as e:
        run(deep, never)
    assert "path is too long" in one_line(e.value)
    assert check_path_length(tmp_path / ("x" * limit)) == tmp_path / ("x" * limit)
