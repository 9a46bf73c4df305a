"""A run's folder from start to end: claimed, cleaned, recorded, skipped when done, never mixed.

One run of gridsim writes its result files into one folder, beside a manifest
(``manifest.json``). This module is everything around the simulation that keeps that folder
honest; the CLI's run task and the experiment orchestration call it, and nothing in it knows
Hydra.

API
---
:func:`claim_run_folder(path, *, unique) <claim_run_folder>`
    Create the run folder. ``unique=True`` (Hydra's default, time-stamped run folder: the user
    did not choose it) creates it atomically with :func:`os.mkdir`; when another run holds that
    name already (two runs started in the same second), it takes ``path_1``, ``path_2``, ...
    so both keep their results. ``unique=False`` (a folder the user chose) creates it if
    missing. File-system problems become a :class:`gridsim.errors.UserError` naming the path.
:func:`input_files(settings) <input_files>`
    Every input file a run reads (sorted, absolute): for a scenario folder (``scenario.generator:
    files``) its ``scenario.yaml`` and every file it names
    (:func:`gridsim.place.folder.folder_files`, the files loading it reads). These are all the
    file-valued settings of :mod:`gridsim.model.params` today (shelters come from the scenario
    folder; drill logs are arguments of ``gridsim drill evaluate``, not run settings).
:func:`inputs_digest(paths) <inputs_digest>`
    SHA-256 over (name relative to the paths' common folder, content) of each file; a missing
    file counts as "missing", so creating or deleting one changes the digest.
:func:`run_in_folder(folder, ...) <run_in_folder>` → :class:`RunOutcome`
    Run ``body(folder)`` (simulate and write the files; returns the summary) with
    the folder's lifecycle around it:

    * **resume**: with ``resume``, a folder whose manifest says ``done`` with the same
      ``config_hash`` *and* the same ``inputs_hash`` (the content of every input file), whose
      ``summary.json`` reads as a JSON object and whose recorded ``files`` all exist, is not
      run again: status ``"skipped"`` with that summary;
    * **one run at a time**: a folder another live run is using is refused (an advisory lock on
      ``.gridsim.lock`` in the folder, released by the system when a process dies);
    * **a reused folder**: before the run, every result file of gridsim's that a previous run
      left (the names of :data:`gridsim.output.files.OUTPUT_FILES`,
      :data:`gridsim.output.figures.FIGURES`, the evacuation files and figures, the files the
      previous manifest lists, and ``*.part``) is removed, ``summary.json`` first. Files gridsim
      did not write (a user's notes) and ``.hydra/`` are left alone. The manifest then lists in
      ``files`` exactly the files this run wrote, so ``summary.json`` and the manifest always
      describe the files beside them;
    * **the manifest** (written atomically) carries ``status`` (``running``, ``done``,
      ``failed``, ``interrupted``), the resolved ``config`` and its ``config_hash``,
      ``inputs_hash`` and ``inputs`` (names relative to their common folder), ``seed``,
      ``replication``, ``gridsim_version``, ``overrides``, ``session``, ``started_unix``,
      ``finished_unix``, ``wall_s``, ``error``, ``traceback`` and ``files``, and once done
      the scenario's ``crs``, ``centre_lon`` and ``centre_lat`` (as ``summary.json`` states
      them). It is the only file of a run that carries wall-clock times;
    * **failures**: when ``body`` raises, the manifest says ``failed`` with the error and the
      traceback (``interrupted`` for Ctrl-C or SIGTERM), no ``*.part`` file stays and
      ``summary.json`` is absent. The exception is re-raised: KeyboardInterrupt as it is (with
      the attribute ``run_folder``), an :class:`OSError` as a :class:`~gridsim.errors.UserError`
      naming the path (no space left, read-only, ...), anything else as it is. With
      ``reraise=False`` a failed run returns status ``"failed"`` instead (interruptions are
      always raised), for a sweep that goes on with the next run. If even the manifest cannot be
      written (a full disk, a read-only place), a manifest saying ``running`` is removed where
      possible and the UserError raised: no manifest is ever left saying ``running`` by a
      process that was not killed outright;
    * **SIGTERM** (what a scheduler sends) is handled like Ctrl-C while the run goes on (main
      thread only; the previous handler is restored after): it raises :class:`Terminated`, a
      KeyboardInterrupt whose ``exit_code`` is 143, so the CLI can tell it from Ctrl-C (130).
:func:`mark_killed(folder) <mark_killed>`
    A run whose manifest says ``running`` while no process holds its folder's lock was killed
    outright (SIGKILL, a crashed worker): it is marked ``failed`` (its ``*.part`` files and
    ``summary.json`` removed), so a sweep can record it and go on. The lock is ``flock``'s: on
    a file system without locking, every such run counts as live (nothing is marked).
:func:`check_path_length(path) <check_path_length>`
    Refuse, up front, a path with a segment longer than the file system's name limit
    (``PC_NAME_MAX``, 255 bytes if unknown) or longer than its path limit (``PC_PATH_MAX``,
    4096): a UserError naming the segment, its length and the limit.

Also: :func:`config_hash`, :func:`read_manifest`, :func:`write_manifest`, :func:`error_fields`,
:func:`read_json` (a JSON object, or a UserError naming the file and what is wrong) and
:func:`remove_partial_files` (from :mod:`gridsim.fsutil`).

Imports at the top are the standard library and gridsim's bottom layer only: a run that is
skipped as done must not pay for numpy, matplotlib or the engine (see the comments where a
function imports more).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from gridsim.errors import UserError, os_error
from gridsim.fsutil import PARTIAL_SUFFIX, file_sha256, remove_partial_files, write_atomic

if TYPE_CHECKING:
    from gridsim.model.params import RunConfig

__all__ = [
    "KILLED",
    "LOCK_FILE",
    "MANIFEST",
    "SUMMARY",
    "FolderBusy",
    "RunOutcome",
    "Terminated",
    "check_path_length",
    "claim_run_folder",
    "config_hash",
    "error_fields",
    "input_files",
    "inputs_digest",
    "mark_killed",
    "read_json",
    "read_manifest",
    "remove_partial_files",
    "result_file_names",
    "run_in_folder",
    "sigterm_as_interrupt",
    "write_manifest",
]

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
#: The advisory lock of a run folder while a run uses it (removed when the run ends).
LOCK_FILE = ".gridsim.lock"
#: Room kept for the longest name gridsim writes in a run folder (with its ``.part`` suffix)
#: when checking a folder's path length.
_CHILD_RESERVE = len("/evacuation_bottlenecks.png") + len(PARTIAL_SUFFIX)
_DEFAULT_NAME_MAX = 255
_DEFAULT_PATH_MAX = 4096


# ----------------------------------------------------------------------------------------------
# manifests
# ----------------------------------------------------------------------------------------------
def config_hash(resolved: dict[Any, Any]) -> str:
    """The SHA-256 of what in a run's resolved config can change its results: everything but
    the ``experiment`` block (titles and metrics of the report) and the progress display."""
    kept = {k: v for k, v in resolved.items() if k != "experiment"}
    output = dict(kept.get("output") or {})
    output.pop("progress", None)
    kept["output"] = output
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_json(path: Path, what: str = "file",
              hint: str | None = "run it again to rewrite it") -> dict[str, Any]:
    """The JSON object in ``path``; a :class:`UserError` naming the file and what is wrong with
    it (missing, unreadable, truncated or not JSON, not an object), with ``hint``, otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        err = os_error(exc, f"cannot read the {what}")
        if hint is None:  # os_error's own hint ("check the path") is the reader's to replace
            err.lines = [err.lines[0].rsplit(" (", 1)[0]]
        raise err from None
    except UnicodeDecodeError as exc:
        raise UserError(f"the {what} is not UTF-8 text ({exc.reason} at byte {exc.start})",
                        path, hint) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        why = ("it is empty" if not text.strip() else
               f"it is cut short or not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
               if isinstance(exc, json.JSONDecodeError) else str(exc))
        raise UserError(f"the {what} does not read as JSON ({why})", path, hint) from None
    if not isinstance(data, dict):
        raise UserError(f"the {what} holds a JSON {type(data).__name__}, expected an object",
                        path, hint)
    return data


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a run folder, or None if there is none (or it is unreadable: use
    :func:`read_json` to learn why)."""
    try:
        return read_json(Path(folder) / MANIFEST, "manifest")
    except UserError:
        return None


def _json(value: Any, level: int) -> str:
    """``value`` as :func:`json.dumps` with ``indent=2`` writes it at nesting ``level``: the
    encoder's line breaks are its only newlines (a newline inside a string is escaped), each
    followed by two spaces per level, so a value's text one level deeper is its own with two
    more spaces after each newline."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text.replace("\n", "\n" + "  " * level) if level else text


#: The JSON text of the values of the last config written (a manifest's ``config``), by key:
#: ``(value, text)``, used while the value is the same object. The replications of a batch share
#: every value of their resolved config but ``replication`` (gridsim.app.hydra_app), and each
#: run writes its manifest twice: a city config's text (40-50 kB) is made once, not per write.
#: A resolved config is a fresh container that nothing changes in place once it is written.
_CONFIG_TEXT: dict[str, tuple[Any, str]] = {}


def _config_json(config: dict[str, Any]) -> str:
    """``json.dumps(config, indent=2, ensure_ascii=False, default=str)`` at nesting level 1
    (the manifest's ``config``), each value's text kept by :data:`_CONFIG_TEXT`."""
    items = []
    for k, v in config.items():
        hit = _CONFIG_TEXT.get(k)
        if hit is None or hit[0] is not v:
            hit = (v, _json(v, 2))
            _CONFIG_TEXT[k] = hit
        items.append(f"{json.dumps(k, ensure_ascii=False)}: {hit[1]}")
    return "{\n    " + ",\n    ".join(items) + "\n  }"


def _manifest_json(data: dict[str, Any]) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False, default=str)``, the ``config`` value's
    text made by :func:`_config_json` (the same text, without serialising again the values
    it shares with the config written before)."""
    config = data.get("config")
    if (not isinstance(config, dict) or not config or not all(type(k) is str for k in config)
            or not all(type(k) is str for k in data)):
        return _json(data, 0)
    items = [f"{json.dumps(k, ensure_ascii=False)}: "
             f"{_config_json(v) if k == 'config' else _json(v, 1)}" for k, v in data.items()]
    return "{\n  " + ",\n  ".join(items) + "\n}"


def _write_manifest(folder: Path, data: dict[str, Any]) -> None:
    write_atomic(folder / MANIFEST, _manifest_json(data) + "\n")


def write_manifest(folder: Path, **fields: Any) -> dict[str, Any]:
    """Write (or update: merged into the one there) a run's manifest atomically; returns its
    content. Raises :class:`OSError` as the file system does."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = read_manifest(folder) or {}
    data.update(fields)
    _write_manifest(folder, data)
    return data


def error_fields(exc: BaseException) -> dict[str, Any]:
    """Manifest fields describing a failure."""
    return {
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": "".join(traceback.format_exception(exc)),
    }


# ----------------------------------------------------------------------------------------------
# paths
# ----------------------------------------------------------------------------------------------
def _pathconf(folder: str, name: str, default: int) -> int:
    try:
        value = os.pathconf(folder, name)
    except (OSError, ValueError, AttributeError):  # unknown name or platform without pathconf
        return default
    return value if value and value > 0 else default


def _short(segment: str, keep: int = 40) -> str:
    return segment if len(segment) <= keep else segment[:keep] + "…"


def check_path_length(path: Path | str, *, reserve: int = 0) -> Path:
    """Refuse a path the file system cannot hold: a segment longer than its name limit, or the
    whole path (plus ``reserve`` bytes for names to be made inside it) longer than its path
    limit. Returns the absolute path; raises :class:`UserError` naming the segment, its length
    and the limit."""
    p = Path(os.path.abspath(path))
    existing = Path(p.anchor or "/")
    for seg in p.parts[1:]:
        candidate = existing / seg
        if not os.path.isdir(candidate):  # isdir is False for any OSError (a name too long)
            break
        existing = candidate
    name_max = _pathconf(str(existing), "PC_NAME_MAX", _DEFAULT_NAME_MAX)
    path_max = _pathconf(str(existing), "PC_PATH_MAX", _DEFAULT_PATH_MAX)
    parent = Path(p.anchor or "/")
    for seg in p.parts[1:]:
        n = len(os.fsencode(seg))
        if n > name_max:
            raise UserError(
                f"a name is too long for the file system: {_short(seg)!r} has {n} bytes, "
                f"at most {name_max} are allowed", parent,
                "shorten it: a run folder's name comes from hydra.run.dir or hydra.sweep.dir, "
                "a drill's folder from drill.name")
        parent = parent / seg
    total = len(os.fsencode(str(p))) + reserve
    if total >= path_max:
        raise UserError(f"a path is too long for the file system: {total} bytes with the files "
                        f"inside it, at most {path_max - 1} are allowed", _short(str(p), 80),
                        "choose a shorter folder")
    return p


def claim_run_folder(path: Path, *, unique: bool) -> Path:
    """Create a run folder and return it.

    ``unique=True``: the folder is made with :func:`os.mkdir` (parents as needed), which fails
    when the name exists; then ``path_1``, ``path_2``, ... are tried until one is made. Two runs
    started at the same moment therefore never share a folder. ``unique=False``: the folder is
    created if missing (a folder the user chose; it may hold an earlier run).
    """
    path = Path(path)
    check_path_length(path, reserve=_CHILD_RESERVE + (8 if unique else 0))
    try:
        if not unique:
            path.mkdir(parents=True, exist_ok=True)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        for n in range(1_000_000):
            candidate = path if n == 0 else path.with_name(f"{path.name}_{n}")
            try:
                os.mkdir(candidate)
            except FileExistsError:
                continue
            return candidate
    except OSError as exc:
        raise os_error(exc, "cannot create the run folder") from None
    raise UserError("cannot create the run folder: a million runs of that name exist", path,
                    "choose another hydra.run.dir")


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------
def input_files(settings: RunConfig) -> list[Path]:
    """Every input file the run of ``settings`` reads, sorted and absolute: a scenario folder's
    ``scenario.yaml`` and every file it names (``scenario.generator: files``), and the observed
    rainfall CSV (``hazard.weather.kind: observed``), and a plan's ``plan.yaml`` and the
    tables it names (``plan=DIR``). A synthetic scenario in designed or seasonal weather,
    with no plan, reads none."""
    found: list[Path] = []
    sc = settings.scenario
    if sc.generator == "files" and str(sc.path).strip():
        # imported here: gridsim.place.folder pulls in numpy, scipy and pyproj, which a
        # synthetic run that is skipped as done never needs (start-up time)
        from gridsim.place.folder import folder_files

        found += folder_files(Path(os.path.abspath(sc.path)))
    weather = getattr(settings.hazard, "weather", None)  # None: settings without a hazard part
    if weather is not None and weather.kind == "observed" and str(weather.observed.path).strip():
        found.append(Path(weather.observed.path))
    plan = getattr(settings, "plan", None)
    if plan is not None and str(plan).strip():
        # imported here: the planning package is only needed by a run with a plan
        from gridsim.planning.plan_io import plan_files

        found += plan_files(Path(plan))
    return sorted({Path(os.path.abspath(p)) for p in found})


def _names(paths: Sequence[Path]) -> list[tuple[str, Path]]:
    """``(name relative to the paths' common folder, path)``, sorted by name."""
    absolute = [Path(os.path.abspath(p)) for p in paths]
    if not absolute:
        return []
    root = Path(os.path.commonpath([str(p.parent) for p in absolute]))
    return sorted((p.relative_to(root).as_posix(), p) for p in absolute)


def inputs_digest(paths: Sequence[Path]) -> str:
    """SHA-256 over (relative name, content) of each file (a missing file is hashed as
    missing, so creating or deleting it changes the digest). Raises :class:`UserError` for a
    file that exists but cannot be read."""
    h = hashlib.sha256()
    for name, path in _names(paths):
        encoded = name.encode("utf-8")
        h.update(len(encoded).to_bytes(8, "little") + encoded)
        try:
            digest = file_sha256(path)  # read once per process while the file is unchanged
        except OSError as exc:
            raise os_error(exc, "cannot read an input file") from None
        h.update(b"M" if digest is None else b"F" + digest.encode("ascii"))  # M: missing
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# signals
# ----------------------------------------------------------------------------------------------
class Terminated(KeyboardInterrupt):
    """A run stopped by SIGTERM (a scheduler's, ``kill``): handled like Ctrl-C."""

    #: The exit code of a process ended by SIGTERM (128 + 15).
    exit_code = 143

    def __str__(self) -> str:
        return "terminated by SIGTERM"


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (once: a second SIGTERM during
    the clean-up is ignored). Only in the main thread (signal handlers cannot be set elsewhere);
    the previous handler is restored after."""
    if (not hasattr(signal, "SIGTERM")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # not settable here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


# ----------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunOutcome:
    """How a run in a folder ended."""

    folder: Path
    status: str  # "done", "skipped", "failed", "interrupted"
    summary: dict[str, Any] | None
    error: str | None
    wall_s: float | None


class FolderBusy(UserError):
    """Another live run is using the run folder."""


def result_file_names() -> frozenset[str]:
    """The names of every result file gridsim writes in a run folder (data files, figures,
    evacuation files), from the modules that write them."""
    # imported here: these modules pull in numpy, matplotlib and the engine, which a run that
    # is skipped as done never needs (start-up time)
    from gridsim.evacuation.output import EVACUATION_FIGURES, EVACUATION_FILES
    from gridsim.output.figures import FIGURES
    from gridsim.output.files import OUTPUT_FILES
    from gridsim.output.run_report import RUN_PAGE_FILES

    return frozenset((*OUTPUT_FILES, *FIGURES, *EVACUATION_FILES, *EVACUATION_FIGURES,
                      *RUN_PAGE_FILES))


def _own_name(name: object) -> str | None:
    """A file name a manifest lists, if it is a plain relative name inside the folder."""
    if not isinstance(name, str) or not name or name.startswith(("/", "\\")):
        return None
    parts = Path(name).parts
    if ".." in parts or parts[0] in (".hydra", MANIFEST, LOCK_FILE):
        return None
    return name


def _clear_previous(folder: Path, previous: dict[str, Any] | None) -> None:
    """Remove what an earlier run left that this run may not rewrite: ``summary.json`` first,
    then gridsim's result files, the files the earlier manifest lists and ``*.part``."""
    (folder / SUMMARY).unlink(missing_ok=True)
    names = set(result_file_names())
    for name in (previous or {}).get("files") or []:
        own = _own_name(name)
        if own is not None:
            names.add(own)
    names.discard(SUMMARY)
    for name in sorted(names):
        p = folder / name
        if p.is_file() or p.is_symlink():
            p.unlink(missing_ok=True)
    remove_partial_files(folder)


def _entries(folder: Path) -> set[str]:
    try:
        return {e.name for e in os.scandir(folder)}
    except OSError:
        return set()


def _written(folder: Path, before: set[str]) -> list[str]:
    """The files that appeared in the folder since ``before`` (a listing of it), relative,
    sorted; those in new sub-folders included; the manifest, the lock and ``*.part`` not."""
    out: list[str] = []
    for name in _entries(folder) - before:
        if name in (MANIFEST, LOCK_FILE) or name.endswith(PARTIAL_SUFFIX):
            continue
        p = folder / name
        if p.is_dir():
            out += [q.relative_to(folder).as_posix() for q in p.rglob("*") if q.is_file()]
        elif p.is_file():
            out.append(name)
    return sorted(out)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[bool]:
    """Hold an advisory lock on the folder (``flock`` on :data:`LOCK_FILE`) for the block;
    :class:`FolderBusy` when another process holds it. Where the system has no ``flock`` (or
    the file system does not support it) the block runs unlocked; it gets whether it is
    locked."""
    try:
        import fcntl  # here, not at the top: POSIX only, and the failure is handled
    except ImportError:  # not a POSIX system
        yield False
        return
    path = folder / LOCK_FILE
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # named by the folder, not by the lock file
            raise _user_error(OSError(exc.errno, exc.strerror, str(folder)), folder) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderBusy("another gridsim run is using this run folder", folder,
                             "wait for it to end, or choose another hydra.run.dir") from None
        except OSError:  # e.g. a network file system without locks
            os.close(fd)
            yield False
            return
        try:  # the holder before us may have removed the file: lock the one at the path
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except OSError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield True
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _user_error(exc: OSError, folder: Path) -> UserError:
    """A file-system error of a run as a :class:`UserError` naming the file (the target of a
    temporary ``*.part`` file, or the folder when the error names none)."""
    name = exc.filename
    if name is None:
        exc = OSError(exc.errno, exc.strerror, str(folder))
    elif str(name).endswith(PARTIAL_SUFFIX):
        exc = OSError(exc.errno, exc.strerror, str(name)[: -len(PARTIAL_SUFFIX)])
    try:
        inside = Path(os.path.abspath(str(exc.filename))).is_relative_to(
            Path(os.path.abspath(folder)))
    except (TypeError, ValueError):
        inside = False
    return os_error(exc, "cannot write the run folder" if inside else "file-system error")


def _drop_running_manifest(folder: Path) -> None:
    """Remove the manifest if it says ``running`` (where the file system lets us)."""
    m = read_manifest(folder)
    if m is not None and m.get("status") == "running":
        with contextlib.suppress(OSError):
            (folder / MANIFEST).unlink()


def _skip(folder: Path, digest: str, inputs_hash: str) -> RunOutcome | None:
    m = read_manifest(folder)
    if (m is None or m.get("status") != "done" or m.get("config_hash") != digest
            or m.get("inputs_hash") != inputs_hash):
        return None
    try:
        summary = read_json(folder / SUMMARY, "summary")
    except UserError:
        return None
    files = m.get("files")
    if not isinstance(files, list) or not all(
            isinstance(f, str) and (folder / f).is_file() for f in files):
        return None  # a result file was deleted or never recorded: run again
    wall = m.get("wall_s")
    return RunOutcome(folder, "skipped", summary, None,
                      float(wall) if isinstance(wall, int | float) else None)


def run_in_folder(folder: Path, *, config: dict[Any, Any], inputs: Sequence[Path], seed: int,
                  replication: int, overrides: list[str], version: str,
                  body: Callable[[Path], dict[str, Any]], resume: bool = True,
                  session: str = "", reraise: bool = True) -> RunOutcome:
    """Run ``body(folder)`` in ``folder`` with the lifecycle of the module docstring: skip when
    done (same config and inputs), clear an earlier run's results, record a manifest, clean up
    after a failure or an interruption (Ctrl-C, SIGTERM)."""
    folder = Path(folder)
    check_path_length(folder, reserve=_CHILD_RESERVE)
    digest = config_hash(config)
    inputs_hash = inputs_digest(inputs)
    if resume and (skipped := _skip(folder, digest, inputs_hash)) is not None:
        return skipped
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, "cannot create the run folder") from None
    with _folder_lock(folder), sigterm_as_interrupt():
        return _run(folder, config, digest, inputs, inputs_hash, seed, replication, overrides,
                    version, body, session, reraise)


def _run(folder: Path, config: dict[Any, Any], digest: str, inputs: Sequence[Path],
         inputs_hash: str, seed: int, replication: int, overrides: list[str], version: str,
         body: Callable[[Path], dict[str, Any]], session: str, reraise: bool) -> RunOutcome:
    previous = read_manifest(folder)
    started = time.time()
    manifest: dict[str, Any] = {
        "status": "running", "config_hash": digest, "inputs_hash": inputs_hash,
        "inputs": [name for name, _ in _names(inputs)], "seed": seed,
        "replication": replication, "gridsim_version": version, "overrides": list(overrides),
        "started_unix": started, "finished_unix": None, "wall_s": None, "error": None,
        "traceback": None, "session": session, "files": [], "config": config,
    }
    t0 = time.perf_counter()
    try:
        remove_partial_files(folder)  # left by a run of this folder that was killed
        # the manifest first: if it cannot be written, the earlier run's files stay as they
        # were, still described by the earlier manifest
        _write_manifest(folder, manifest)
    except OSError as exc:
        _drop_running_manifest(folder)
        raise _user_error(exc, folder) from None
    before: set[str] | None = None
    try:
        _clear_previous(folder, previous)
        before = _entries(folder)
        t0 = time.perf_counter()
        summary = body(folder)
    except BaseException as exc:  # recorded, cleaned up, then re-raised (or returned)
        wall = round(time.perf_counter() - t0, 3)
        with contextlib.suppress(OSError):
            (folder / SUMMARY).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            remove_partial_files(folder)
        if isinstance(exc, KeyboardInterrupt):
            fields: dict[str, Any] = {
                "status": "interrupted", "traceback": None,
                "error": str(exc) if isinstance(exc, Terminated) else "interrupted (Ctrl-C)"}
        else:
            fields = error_fields(exc)
        manifest.update(fields, finished_unix=time.time(), wall_s=wall,
                        files=_written(folder, before) if before is not None else [])
        problem = _finish(folder, manifest)
        if isinstance(exc, KeyboardInterrupt):
            exc.run_folder = folder  # type: ignore[attr-defined]
            raise
        if problem is not None:  # not even the failure could be recorded
            raise _user_error(problem, folder) from exc
        if not isinstance(exc, Exception):  # SystemExit, GeneratorExit
            raise
        error: Exception = _user_error(exc, folder) if isinstance(exc, OSError) else exc
        if reraise:
            if error is exc:
                raise
            raise error from exc
        return RunOutcome(folder, "failed", None,
                          str(fields["error"]) if error is exc else str(error), wall)
    wall = round(time.perf_counter() - t0, 3)
    manifest.update(status="done", finished_unix=time.time(), wall_s=wall,
                    files=_written(folder, before))
    if isinstance(summary, dict) and "crs" in summary:  # the scenario's coordinate system
        manifest.update(crs=summary["crs"], centre_lon=summary.get("centre_lon"),
                        centre_lat=summary.get("centre_lat"))
    problem = _finish(folder, manifest)
    if problem is not None:  # the results cannot be vouched for: the folder is not done
        with contextlib.suppress(OSError):
            (folder / SUMMARY).unlink(missing_ok=True)
        raise _user_error(problem, folder) from None
    return RunOutcome(folder, "done", summary, None, wall)


#: The error of a run whose process ended without recording it (see :func:`mark_killed`).
KILLED = ("killed: the run's process ended without recording it (SIGKILL, out of memory or a "
          "crashed worker)")


def mark_killed(folder: Path) -> bool:
    """Mark a run ``failed`` whose manifest says ``running`` while no process holds its folder
    (its process was killed outright: SIGKILL, the out-of-memory killer, a crashed worker).
    Its ``*.part`` files and ``summary.json`` are removed and ``files`` lists the result files
    it left. Returns whether it did; a run still going on is left alone."""
    folder = Path(folder)
    m = read_manifest(folder)
    if m is None or m.get("status") != "running":
        return False
    try:
        with _folder_lock(folder) as locked:
            m = read_manifest(folder)  # again, under the lock: it may have ended meanwhile
            if not locked or m is None or m.get("status") != "running":
                return False  # without a lock a live run cannot be told from a killed one
            (folder / SUMMARY).unlink(missing_ok=True)
            remove_partial_files(folder)
            names = result_file_names()
            m.update(status="failed", error=KILLED, traceback=None,
                     files=sorted(n for n in names if (folder / n).is_file()))
            _write_manifest(folder, m)
    except FolderBusy:
        return False
    except OSError as exc:
        raise _user_error(exc, folder) from None
    return True


def _finish(folder: Path, manifest: dict[str, Any]) -> OSError | None:
    """Write the final manifest. When it cannot be written beside the one saying ``running``
    (a full disk: the rename needs room for both), that one is removed and the write tried once
    more; returns the error if that fails too (no manifest is then left)."""
    try:
        _write_manifest(folder, manifest)
    except OSError as exc:
        _drop_running_manifest(folder)
        with contextlib.suppress(OSError):
            remove_partial_files(folder)
        try:
            _write_manifest(folder, manifest)
        except OSError:
            with contextlib.suppress(OSError):
                remove_partial_files(folder)
            return exc
    return None

