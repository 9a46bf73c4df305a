"""``gridsim drill`` fails clearly: one line (what, which path, what to do), exit code 2, no
traceback, no ``.part`` file, and no drill.json or after_action.json beside files of another
drill.

Folders that cannot be written are refused before anything is simulated. Faults of the file
system are real where the container allows it (a tmpfs mounted read-only, a 16 KiB tmpfs for a
full disk; skipped with the reason otherwise) and always also simulated by making
:mod:`gridsim.fsutil`'s ``open`` fail as the system would (``ENOSPC``, with no file name, as a
full disk reports it during a write).
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from console import explain, gridsim

from gridsim import fsutil
from gridsim.app.drill_cmd import drill_main
from gridsim.app.hydra_app import compose_settings
from gridsim.drills.render import AFTER_ACTION_FILES, write_drill
from gridsim.drills.script import build_script
from gridsim.drills.timings import simulate_drill
from gridsim.drills.variants import choose_variant, drill_run
from gridsim.engine.simulation import build

SMALL = ["scenario=small", "drill.grids=[0,1,2]", "drill.replications=2"]
LONG = "a" * 300


@pytest.fixture(scope="module")
def drill_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A drill folder of the small scenario (3 replications) and a log of it."""
    s, choices = compose_settings(["scenario=small", "drill.grids=[0,1,2]", "seed=5"])
    sc = build(s)
    v = choose_variant(s, sc)
    run, sc2 = drill_run(s, sc, v)
    folder = tmp_path_factory.mktemp("drill") / "d"
    write_drill(build_script(s, sc, v, simulate_drill(run, sc2, v, 3), choices), folder)
    return folder


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gridsim: ") and "Traceback" not in err, err
    return lines[0]


def _no_partial_files(root: Path) -> None:
    assert not [p for p in root.rglob("*.part")], list(root.rglob("*.part"))


# ----------------------------------------------------------------------------------------------
# drill script: folders refused before the replications are simulated
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_out_under_a_file_from_the_console_script(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file\n", encoding="utf-8")
    proc = gridsim("drill", "script", *SMALL, "--out", "notes.txt/drill", cwd=tmp_path)
    assert proc.returncode == 2, explain(proc)
    line = _one_line(proc.stderr)
    assert "cannot write the drill folder: a part of the path is a file, not a folder" in line
    assert str(tmp_path / "notes.txt") in line and "choose a folder path" in line
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.slow  # the in-process test below checks names too long in the fast lane
def test_a_300_character_drill_name_from_the_console_script(tmp_path: Path) -> None:
    proc = gridsim("drill", "script", *SMALL, f"drill.name={LONG}", cwd=tmp_path)
    assert proc.returncode == 2, explain(proc)
    line = _one_line(proc.stderr)
    assert "too long for the file system" in line and "306 bytes" in line, line  # + "-seed1"
    assert "at most 255" in line and "drill.name" in line
    assert str(tmp_path / "outputs" / "drills") in line
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").rglob("*"))


@pytest.mark.parametrize(("args", "words"), [
    (["--out", "existing_file"], "cannot write the drill folder: a file is in the way"),
    (["--out", f"runs/{LONG}"], "300 bytes, at most 255"),
    (["--out", f"runs/{'é' * 130}"], "260 bytes"),  # 130 characters, 2 bytes each in UTF-8
    ([f"drill.name='{'名' * 90}'", "seed=12"], "277 bytes"),  # 3 bytes each, and "-seed12"
], ids=["out is a file", "a 300-byte name", "130 characters of 260 bytes",
        "a drill.name of 270 bytes"])
def test_folders_refused_before_simulating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], args: list[str],
                                           words: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing_file").write_text("x", encoding="utf-8")
    assert drill_main(["script", *SMALL, *args]) == 2
    captured = capsys.readouterr()
    line = _one_line(captured.err)
    assert words in line, line
    assert "simulating" not in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing_file"]


@contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at ``path``; skips the test where mounting is not permitted."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command here (the simulated variant covers this fault)")
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({(r.stderr or r.stdout).strip()}); the "
                    "simulated variant covers this fault")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def test_a_read_only_place_mounted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with _tmpfs(tmp_path / "ro", "ro,size=64k"):
        assert drill_main(["script", *SMALL, "--out", "ro/drill"]) == 2
        captured = capsys.readouterr()
        line = _one_line(captured.err)
        assert "cannot write the drill folder: the file system is read-only" in line, line
        assert str(tmp_path / "ro") in line and "simulating" not in captured.err


# ----------------------------------------------------------------------------------------------
# drill script: a full disk while the files are written
# ----------------------------------------------------------------------------------------------
def _check_full_disk(folder: Path, code: int, err: str) -> None:
    assert code == 2
    line = _one_line(err.split("...\n", 1)[-1])  # after the "simulating ..." progress line
    assert "cannot write the drill folder: no space left on the device" in line, line
    assert str(folder) in line and "free some space" in line
    _no_partial_files(folder)
    assert not (folder / "drill.json").exists(), "an incomplete drill has no drill.json"


@pytest.mark.slow
def test_a_full_disk_simulated(drill_folder: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "d"
    shutil.copytree(drill_folder, folder)  # an earlier drill, evaluated, and a user's log
    (folder / "after_action.md").write_text("an earlier evaluation\n", encoding="utf-8")
    (folder / "day_log.csv").write_text("seq,action,actual\n", encoding="utf-8")
    calls = []
    real_open = open

    def full_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(file, mode, *args, **kwargs)
        calls.append(file)
        if len(calls) == 3:  # the third file: its .part exists, then the disk is full
            fh.close()
            raise OSError(errno.ENOSPC, "No space left on device")
        return fh

    monkeypatch.setattr(fsutil, "open", full_open, raising=False)
    code = drill_main(["script", *SMALL, "--out", str(folder)])
    _check_full_disk(folder, code, capsys.readouterr().err)
    assert len(calls) == 3 and str(calls[2]).endswith(".part")
    # what stays: the new files written before the disk filled up, and the user's log; none
    # of the earlier drill's files or evaluation's
    assert sorted(p.name for p in folder.iterdir()) == ["day_log.csv", "drill_script.md",
                                                       "msel.csv"]


def test_a_full_disk_mounted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with _tmpfs(tmp_path / "small", "size=16k") as mnt:
        code = drill_main(["script", *SMALL, "--out", str(mnt / "drill")])
        _check_full_disk(mnt / "drill", code, capsys.readouterr().err)


# ----------------------------------------------------------------------------------------------
# drill evaluate: the drill, the log and the report folder
# ----------------------------------------------------------------------------------------------
def _log(folder: Path, path: Path) -> Path:
    doc = json.loads((folder / "drill.json").read_text(encoding="utf-8"))
    rows = [f"{m['seq']},{m['action']},{round(m['median_s'])}" for m in doc["msel"]
            if m["action"]]
    path.write_text("seq,action,actual\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _edited(folder: Path, path: Path, edit: Any) -> Path:
    data = json.loads((folder / "drill.json").read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _bad_inputs(folder: Path, tmp: Path) -> dict[str, tuple[Path, Path, list[str]]]:
    """name -> (drill, log, words of the one line)."""
    log = _log(folder, tmp / "log.csv")
    (tmp / "a_folder").mkdir()
    (tmp / "latin1.csv").write_bytes("seq,action,actual\n1,Grüße,T+01:00\n".encode("latin-1"))
    (tmp / "truncated.json").write_text((folder / "drill.json").read_text(
        encoding="utf-8")[:3000], encoding="utf-8")
    return {
        "no log": (folder, tmp / "missing.csv",
                   ["cannot read the drill log: no such file", str(tmp / "missing.csv"),
                    "check the path"]),
        "log is a folder": (folder, tmp / "a_folder",
                            ["cannot read the drill log: a folder, not a file"]),
        "log not UTF-8": (folder, tmp / "latin1.csv",
                          ["cannot read the drill log: not UTF-8 text (byte 22)",
                           "save it as UTF-8"]),
        "no drill": (tmp / "nowhere", log,
                     ["cannot read the drill script: no such file or folder",
                      str(tmp / "nowhere"), "gridsim drill script"]),
        "folder without drill.json": (tmp / "a_folder", log,
                                      ["no drill.json in this folder", str(tmp / "a_folder")]),
        "truncated drill.json": (tmp / "truncated.json", log,
                                 ["cannot read the drill script: not valid JSON (line",
                                  str(tmp / "truncated.json"), "write the drill again"]),
        "a field that is not a number": (
            _edited(folder, tmp / "field.json",
                    lambda d: d["msel"][1].update(median_s="soon")), log,
            [f"{tmp / 'field.json'}: field msel[1].median_s: expected a number, got \"soon\""]),
        "a missing field": (
            _edited(folder, tmp / "missing.json",
                    lambda d: d["header"]["objectives"][0].pop("capability_name")), log,
            ["field header.objectives[0].capability_name: missing"]),
        "an action id gridsim does not write": (
            _edited(folder, tmp / "action.json",
                    lambda d: d["msel"][0].update(action="g01.post_ready")), log,
            ["field msel[0].action: 'g01.post_ready': unknown place 'g01'"]),
        "not a drill script": (_edited(folder, tmp / "other.json", lambda d: d.update(
            format="gridsim-after-action/1")), log,
            ["not a gridsim drill script (no 'format: gridsim-drill/1')"]),
    }


def test_unreadable_drills_and_logs(drill_folder: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    cases = _bad_inputs(drill_folder, tmp_path)
    for name, (drill, log, words) in cases.items():
        code = drill_main(["evaluate", str(drill), str(log), "--out", str(tmp_path / "aar")])
        line = _one_line(capsys.readouterr().err)
        assert code == 2, name
        for w in words:
            assert w in line, (name, line)
    assert not (tmp_path / "aar").exists()
    assert not [p for p in drill_folder.iterdir() if p.name in AFTER_ACTION_FILES]


def test_an_unreadable_log_permission_simulated(drill_folder: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    log = _log(drill_folder, tmp_path / "log.csv")  # as root, chmod would not stop a read
    real = Path.read_text

    def denied(self: Path, *args: Any, **kwargs: Any) -> str:
        if self == log:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    assert drill_main(["evaluate", str(drill_folder), str(log), "--out", str(tmp_path)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"cannot read the drill log: permission denied: {log} (make it readable" in line


@pytest.mark.slow
def test_evaluate_out_under_a_file_and_a_full_disk(drill_folder: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    log = _log(drill_folder, tmp_path / "log.csv")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code = drill_main(["evaluate", str(drill_folder), str(log), "--out",
                       str(tmp_path / "file" / "aar")])
    line = _one_line(capsys.readouterr().err)
    assert code == 2
    assert "cannot write the after-action report: a part of the path is a file" in line
    assert str(tmp_path / "file") in line

    out = tmp_path / "aar"
    assert drill_main(["evaluate", str(drill_folder), str(log), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(AFTER_ACTION_FILES)
    capsys.readouterr()

    def full_open(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fsutil, "open", full_open, raising=False)
    assert drill_main(["evaluate", str(drill_folder), str(log), "--out", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"cannot write the after-action report: no space left on the device: {out}" in line
    _no_partial_files(out)
    assert not (out / "after_action.json").exists(), "the earlier evaluation's json is gone"
