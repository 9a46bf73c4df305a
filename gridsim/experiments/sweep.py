"""Experiments: many runs of one config file, resumable, with a manifest beside every run.

An experiment is one Hydra config file in ``experiments/`` (it extends gridsim's own config
through ``hydra.searchpath`` and sweeps variants × replications; see
``experiments/pilot_redesign.yaml``). ``gridsim experiment <file>`` runs it with any Hydra
launcher. Each run of a sweep goes through
:func:`gridsim.output.run_folder.run_in_folder`: its manifest (``manifest.json``: resolved config
and its hash, the hash of its input files, status, wall time, the files it wrote), resume (a run
whose manifest says ``done`` with the same config and inputs hashes is skipped) and the clean-up
of a failed, interrupted or killed run. This module holds what concerns the sweep as a whole
(Hydra-free: :mod:`gridsim.app.hydra_app` composes, checks and launches):

* :func:`run_sweep`: the orchestration of ``gridsim experiment`` around the launch: progress
  lines while it runs, the runs that failed listed at the end, the report, the exit code
  (1 when a run failed; Ctrl-C and SIGTERM are re-raised for the command line);
* progress over the whole sweep: runs done, failed, remaining and an estimated time left;
* :func:`recover_lost_workers`: after a launcher lost a worker (killed by a signal, the OOM
  killer, a lost node), the runs it left saying ``running`` are marked ``failed`` and the jobs
  that never started are handed back to be launched again.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

# the manifest functions live in the run-folder module (MANIFEST and read_manifest are
# re-exported for the callers of before)
from gridsim.output.run_folder import (
    LOCK_FILE,
    MANIFEST,
    read_manifest,
    remove_partial_files,
    write_manifest,
)

__all__ = [
    "MANIFEST",
    "SWEEP_SESSION_ENV",
    "SWEEP_TOTAL_ENV",
    "SWEEP_WATCHED_ENV",
    "SweepPlan",
    "SweepStatus",
    "SweepWatcher",
    "clock",
    "eta_seconds",
    "read_manifest",
    "recover_lost_workers",
    "run_sweep",
    "settle_runs",
    "sweep_status",
]

#: The number of runs of the current sweep, set by the CLI for the progress line.
SWEEP_TOTAL_ENV = "GRIDSIM_SWEEP_TOTAL"
#: Set (through ``hydra.job.env_set``, so on every launcher's workers) when ``gridsim
#: experiment`` shows the sweep's progress itself: the runs then print none.
SWEEP_WATCHED_ENV = "GRIDSIM_SWEEP_WATCHED"
#: An id shared by the runs one command launches (in their manifests: ``session``).
SWEEP_SESSION_ENV = "GRIDSIM_SWEEP_SESSION"

@dataclass(frozen=True)
class SweepStatus:
    """Where a sweep stands, from the manifests under its folder."""

    done: int
    failed: int
    running: int
    total: int | None
    failures: tuple[tuple[str, str], ...]  # (run folder, error)
    eta_s: float | None

    @property
    def remaining(self) -> int | None:
        return None if self.total is None else max(0, self.total - self.done - self.failed)

    def line(self) -> str:
        """``sweep: done 3/10, failed 1, ETA 0:42`` (no total: ``sweep: done 3, failed 1``;
        the ETA once a run of this session has ended and while runs are left)."""
        done = f"done {self.done}" + (f"/{self.total}" if self.total is not None else "")
        parts = [done, f"failed {self.failed}"]
        if self.eta_s is not None and self.remaining:
            parts.append(f"ETA {clock(self.eta_s)}")
        return "sweep: " + ", ".join(parts)


def clock(s: float) -> str:
    """Seconds as ``M:SS`` (``H:MM:SS`` from an hour): ``0:42``, ``12:05``, ``2:03:00``."""
    total = max(0, round(s))
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def eta_seconds(walls: Sequence[float], span_s: float, left: int,
                parallel: int | None = None) -> float | None:
    """The time left of a sweep: the mean wall time of its runs so far × the runs left /
    the parallelism. ``parallel``: the launcher's workers when known, else the parallelism the
    runs so far had (their summed wall time over the ``span_s`` from the first start to the
    last end, at least 1)."""
    if not walls or left <= 0:
        return None if not walls else 0.0
    mean = sum(walls) / len(walls)
    if parallel is None:
        parallel = max(1, round(sum(walls) / span_s)) if span_s > 0 else 1
    return mean * left / max(1, min(parallel, left))


def _manifests(sweep_dir: Path, cache: dict[Path, tuple[int, dict[str, Any]]] | None
               ) -> list[tuple[Path, dict[str, Any]]]:
    """The manifests under a sweep folder; with ``cache``, a file is parsed again only when its
    modification time changed (a watcher polls hundreds of them)."""
    out = []
    for path in sorted(sweep_dir.rglob(MANIFEST)):
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue
        hit = cache.get(path) if cache is not None else None
        if hit is not None and hit[0] == mtime:
            out.append((path, hit[1]))
            continue
        m = read_manifest(path.parent)
        if m is None:
            continue
        m = {k: m.get(k) for k in ("status", "error", "started_unix", "finished_unix",
                                    "session")}
        if cache is not None:
            cache[path] = (mtime, m)
        out.append((path, m))
    return out


def sweep_status(sweep_dir: Path, total: int | None = None, since: float | None = None,
                 cache: dict[Path, tuple[int, dict[str, Any]]] | None = None,
                 parallel: int | None = None) -> SweepStatus:
    """Count the runs of a sweep by status; estimate the time left (:func:`eta_seconds`) from
    this session's runs: those started at or after ``since`` (a unix time), or else those of
    this session. ``parallel``: the launcher's workers, when known."""
    done = failed = running = 0
    failures: list[tuple[str, str]] = []
    walls: list[float] = []
    starts: list[float] = []
    ends: list[float] = []
    for path, m in _manifests(sweep_dir, cache):
        status = m.get("status")
        if status == "done":
            done += 1
        elif status == "failed":
            failed += 1
            failures.append((str(path.parent.relative_to(sweep_dir)), str(m.get("error", ""))))
        elif status == "running":
            running += 1
        if not isinstance(m.get("finished_unix"), int | float) or status not in ("done",
                                                                                 "failed"):
            continue
        end = float(m["finished_unix"])
        start = float(m.get("started_unix") or end)
        if (start >= since) if since is not None else m.get("session") == _session():
            walls.append(end - start)
            starts.append(start)
            ends.append(end)
    eta = None
    if total is not None and walls:
        eta = eta_seconds(walls, max(ends) - min(starts), max(0, total - done - failed),
                          parallel)
    return SweepStatus(done, failed, running, total, tuple(failures), eta)


class SweepWatcher:
    """Prints a sweep's progress while a launcher runs it, from the manifests in its folder.

    It works the same for every launcher (the runs may be in this process, in local worker
    processes, in SLURM jobs or on Ray nodes sharing the folder): a line whenever a run ends,
    and at least every ``heartbeat_s`` while runs go on. It looks every ``interval_s``, and at
    once when a run of this process ends (:func:`run_ended`): runs shorter than the interval,
    one after the other in this process, each get their line.
    """

    def __init__(self, sweep_dir: Path, total: int | None, since: float,
                 interval_s: float = 1.0, heartbeat_s: float = 60.0,
                 stream: TextIO | None = None) -> None:
        self.sweep_dir, self.total, self.since = sweep_dir, total, since
        self.interval_s, self.heartbeat_s = interval_s, heartbeat_s
        self.stream = stream
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gridsim-sweep-watcher",
                                        daemon=True)
        self._cache: dict[Path, tuple[int, dict[str, Any]]] = {}
        self._last: tuple[int, int] | None = None
        self._last_t = 0.0

    def _tick(self) -> None:
        st = sweep_status(self.sweep_dir, self.total, self.since, self._cache)
        key = (st.done, st.failed)
        now = time.monotonic()
        if self._last is None:  # the runs done before (resumed) are not news
            self._last, self._last_t = key, now
            return
        if key != self._last or now - self._last_t >= self.heartbeat_s:
            stream = self.stream or sys.stderr
            stream.write(st.line() + "\n")
            stream.flush()
            self._last, self._last_t = key, now

    def _loop(self) -> None:
        while True:
            try:
                self._tick()
            except Exception:  # a half-created folder, a vanished file: try again later
                pass
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return

    def poke(self) -> None:
        """Look at the manifests now (a run of this process has just ended)."""
        self._wake.set()

    def start(self) -> SweepWatcher:
        _WATCHERS.append(self)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        with contextlib.suppress(ValueError):
            _WATCHERS.remove(self)


#: The watchers running in this process: a run that ends here pokes them (:func:`run_ended`).
#: Runs in other processes (joblib workers, SLURM jobs) are seen at the next look.
_WATCHERS: list[SweepWatcher] = []


def run_ended() -> None:
    """Tell the sweep watchers of this process that a run has just ended (its manifest is
    written)."""
    for watcher in list(_WATCHERS):
        watcher.poke()


def _session() -> str:
    """An id shared by the runs launched by one command (for the pace estimate)."""
    return os.environ.get(SWEEP_SESSION_ENV, "")


def now_unix() -> float:
    return time.time()


# ----------------------------------------------------------------------------------------------
# lost workers
# ----------------------------------------------------------------------------------------------
def _held(folder: Path) -> bool:
    """Whether a live process holds the run folder's lock (the lock of
    :func:`gridsim.output.run_folder.run_in_folder`: the system releases it when the process
    dies, however it dies)."""
    try:
        import fcntl  # POSIX only: elsewhere no run is known to be alive
    except ImportError:
        return False
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR)
    except OSError:  # no lock file: no run has it
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a file system without locks: assume the worst for the run, not alive
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def settle_runs(sweep_dir: Path, session: str, status: str, error: str,
                wait_s: float = 0.0) -> tuple[list[Path], set[tuple[str, ...]]]:
    """Mark ``status`` (``failed``, ``interrupted``) with ``error`` every run of this session
    whose manifest still says ``running`` while no live process holds its folder (waiting up
    to ``wait_s`` for the processes of a launcher that is ending its workers); its partial files
    and a summary it may have left are removed. Returns those folders and the overrides of every
    run of this session that left a manifest (those that started)."""
    deadline = time.monotonic() + wait_s
    started: set[tuple[str, ...]] = set()
    settled: list[Path] = []
    pending: list[Path] = []
    for path in sorted(Path(sweep_dir).rglob(MANIFEST)):
        m = read_manifest(path.parent)
        if m is None or m.get("session") != session:
            continue
        started.add(tuple(str(o) for o in m.get("overrides") or []))
        if m.get("status") == "running":
            pending.append(path.parent)
    while pending:
        alive = [f for f in pending if _held(f)]
        for folder in pending:
            if folder in alive:
                continue
            m = read_manifest(folder)
            if m is None or m.get("status") != "running":  # it ended meanwhile
                continue
            remove_partial_files(folder)
            (folder / "summary.json").unlink(missing_ok=True)
            write_manifest(folder, status=status, error=error, traceback=None,
                           finished_unix=now_unix())
            settled.append(folder)
        pending = alive
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    return settled, started


def recover_lost_workers(sweep_dir: Path, session: str, jobs: Sequence[Sequence[str]],
                         reason: str) -> tuple[list[Path], list[list[str]]]:
    """After a launch failed because a worker was lost: mark ``failed`` (``worker killed:
    <reason>``) every run of this session whose manifest still says ``running`` (its process
    is gone: the launcher ends all its workers), clear its partial files, and return those
    folders and the jobs (of ``jobs``, by their overrides) that left no manifest of this
    session: they never started."""
    killed, started = settle_runs(sweep_dir, session, "failed", f"worker killed: {reason}",
                                  wait_s=5.0)
    never = [list(job) for job in jobs if tuple(job) not in started]
    return killed, never


# ----------------------------------------------------------------------------------------------
# gridsim experiment, around the launch
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepPlan:
    """What ``gridsim experiment`` runs: its name, sweep folder, number of runs (None when the
    launcher expands the sweep itself), session id and report folder ("" for none)."""

    name: str
    sweep_dir: Path
    total: int | None
    session: str
    report_dir: str = ""


def run_sweep(plan: SweepPlan, launch: Callable[[], None]) -> int:
    """Run ``launch()`` (Hydra's multirun of the experiment) with a progress line whenever a
    run ends, then list the failed runs and write the report; returns the exit code (1 when a
    run failed). Ctrl-C and SIGTERM: the runs done are kept, the lines say how to go on, and
    the KeyboardInterrupt is re-raised (the command line exits with 130 or 143)."""
    os.environ[SWEEP_TOTAL_ENV] = str(plan.total or "")
    os.environ[SWEEP_SESSION_ENV] = plan.session
    print(f"experiment {plan.name}: {plan.total or '?'} runs into {plan.sweep_dir}")
    sys.stdout.flush()
    watcher = SweepWatcher(plan.sweep_dir, plan.total, since=time.time()).start()
    stopped: BaseException | None = None
    try:
        launch()
    except BaseException as exc:  # listed below, then re-raised
        stopped = exc
        # a launcher's workers ended with the command (joblib, Ray ending its local workers)
        # leave runs saying running: marked interrupted once no process holds them
        settle_runs(plan.sweep_dir, plan.session, "interrupted",
                    "interrupted: the sweep was stopped", wait_s=10.0)
    finally:
        watcher.stop()
    status = sweep_status(plan.sweep_dir, plan.total)
    print(status.line())
    for folder, error in status.failures:
        print(f"  failed: {folder}: {error}")
    print(f"results: {plan.sweep_dir}")
    if stopped is not None:
        what = "interrupted" if isinstance(stopped, KeyboardInterrupt) else "stopped"
        print(f"sweep {what}: finished runs are kept; run the same command again to run the "
              "rest")
        sys.stdout.flush()
        raise stopped
    if plan.report_dir:
        # imported here: the report pulls in scipy and matplotlib, which a sweep whose report
        # is not asked for does not need (start-up time)
        from gridsim.experiments.report_cmd import make_report

        code = make_report(plan.sweep_dir, Path(plan.report_dir))
        if code:
            return code
    else:
        print(f"next: gridsim report {plan.sweep_dir}")
    return 1 if status.failures else 0
