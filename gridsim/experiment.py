"""Experiments: many runs of one config file, resumable, with a manifest beside every run.

An experiment is one Hydra config file in ``experiments/`` (it extends gridsim's own config
through ``hydra.searchpath`` and sweeps variants × replications; see
``experiments/pilot_redesign.yaml``). ``gridsim experiment <file>`` runs it with any Hydra
launcher. This module holds what every run of a sweep does around the simulation:

* a manifest (``manifest.json``) next to the run's results: resolved config, its hash, seed,
  replication, gridsim version, wall time, status (``running``, ``done``, ``failed``) and the
  error of a failed run. It is written when the run starts and rewritten when it ends, always
  through a temporary file and a rename, so an interrupted sweep leaves no half-written file;
* resume: a run whose manifest says ``done`` with the same config hash is skipped;
* progress over the whole sweep: runs done, failed, remaining and an estimated time left.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST",
    "SWEEP_TOTAL_ENV",
    "SweepStatus",
    "config_hash",
    "read_manifest",
    "sweep_status",
    "write_manifest",
]

MANIFEST = "manifest.json"
#: The number of runs of the current sweep, set by the CLI for the progress line.
SWEEP_TOTAL_ENV = "GRIDSIM_SWEEP_TOTAL"


def config_hash(resolved_yaml: str) -> str:
    """The SHA-256 of a run's resolved config (its YAML text, progress display excluded)."""
    lines = [ln for ln in resolved_yaml.splitlines() if not ln.strip().startswith("progress:")]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a run folder, or None if there is none (or it is unreadable)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(folder: Path, **fields: Any) -> dict[str, Any]:
    """Write (or update) the run's manifest atomically; returns its content."""
    from gridsim.outputs import write_atomic

    folder.mkdir(parents=True, exist_ok=True)
    data = read_manifest(folder) or {}
    data.update(fields)
    write_atomic(folder / MANIFEST, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return data


def error_fields(exc: BaseException) -> dict[str, Any]:
    """Manifest fields describing a failure."""
    return {
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": "".join(traceback.format_exception(exc)),
    }


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
        rem = self.remaining
        parts = [f"{self.done} done", f"{self.failed} failed"]
        if rem is not None:
            parts.append(f"{rem} remaining")
        if self.eta_s is not None and rem:
            parts.append(f"about {_duration(self.eta_s)} left")
        return "sweep: " + ", ".join(parts)


def _duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def sweep_status(sweep_dir: Path, total: int | None = None) -> SweepStatus:
    """Count the runs of a sweep by status; estimate the time left from this session's pace."""
    done = failed = running = 0
    failures: list[tuple[str, str]] = []
    finished_at: list[float] = []
    started_at: list[float] = []
    for path in sorted(sweep_dir.rglob(MANIFEST)):
        m = read_manifest(path.parent)
        if m is None:
            continue
        status = m.get("status")
        if status == "done":
            done += 1
        elif status == "failed":
            failed += 1
            failures.append((str(path.parent.relative_to(sweep_dir)), str(m.get("error", ""))))
        elif status == "running":
            running += 1
        if isinstance(m.get("finished_unix"), int | float) and m.get("session") == _session():
            finished_at.append(float(m["finished_unix"]))
            started_at.append(float(m.get("started_unix", m["finished_unix"])))
    eta = None
    if total is not None and finished_at:
        elapsed = max(finished_at) - min(started_at)
        rate = len(finished_at) / elapsed if elapsed > 0 else None
        remaining = max(0, total - done - failed)
        eta = remaining / rate if rate else None
    return SweepStatus(done, failed, running, total, tuple(failures), eta)


def _session() -> str:
    """An id shared by the runs launched by one command (for the pace estimate)."""
    return os.environ.get("GRIDSIM_SWEEP_SESSION", "")


def now_unix() -> float:
    return time.time()
