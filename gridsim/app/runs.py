"""One run of ``gridsim run`` or of a sweep, once its settings are checked (Hydra-free).

:func:`run_one` simulates the settings into their run folder through
:func:`gridsim.output.run_folder.run_in_folder` (resume when done with the same config and
inputs, the manifest, the clean-up of an earlier or a failed run) and prints what a user reads:
the summary table and the folder, ``skipped (done before, same config): <folder>``, or the
failure. The replications of a batch share one built scenario (:class:`SharedScenario`).
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridsim.errors import UserError
from gridsim.experiments.sweep import (
    SWEEP_SESSION_ENV,
    SWEEP_TOTAL_ENV,
    SWEEP_WATCHED_ENV,
    run_ended,
    sweep_status,
)
from gridsim.model.params import RunConfig
from gridsim.model.validate import ConfigError
from gridsim.output.run_folder import MANIFEST, RunOutcome, input_files, run_in_folder
from gridsim.version import __version__

if TYPE_CHECKING:
    from gridsim.place.scenario import Scenario

__all__ = ["SWEEP_SESSION_ENV", "SWEEP_TOTAL_ENV", "SWEEP_WATCHED_ENV", "TEST_KILL_ENV",
           "RunContext", "SharedScenario", "err", "run_one"]

#: A test hook (tests/test_app_experiments.py sets it through ``hydra.job.env_set``): in a
#: sweep, a run whose overrides include this variable's value kills its own process with
#: SIGKILL once its manifest says ``running``, as a worker lost to the OOM killer or a node
#: failure would be.
TEST_KILL_ENV = "GRIDSIM_TEST_KILL_WORKER"


def err(msg: str) -> None:
    sys.stderr.write(f"gridsim: {msg}\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class RunContext:
    """Where a run stands: alone, or one job of a sweep (and whether a watcher shows the
    sweep's progress, and the session of the command that launched it)."""

    multirun: bool
    sweep_dir: Path | None
    watched: bool
    session: str


class SharedScenario:
    """The scenario built once for the replications of a batch: built by the first that runs
    (a run skipped as done builds nothing) and handed to the others while what the build reads
    of the settings is the same; a build that failed fails the others alike without building
    again."""

    def __init__(self) -> None:
        self._key: Any = None
        self._scenario: Scenario | None = None
        self._error: Exception | None = None

    @staticmethod
    def _key_of(settings: RunConfig) -> Any:
        return settings.scenario  # what gridsim.engine.simulation.build reads

    def get(self, settings: RunConfig) -> Scenario:
        # imported here: the engine (numpy, scipy, SimPy) is not needed by a run that is
        # skipped as done (start-up time)
        from gridsim.engine import simulation

        key = self._key_of(settings)
        if self._key is not None and self._key != key:  # another scenario: build it
            self._scenario = self._error = None
        self._key = key
        if self._error is not None:
            raise self._error
        if self._scenario is None:
            try:
                self._scenario = simulation.build(settings)
            except Exception as exc:
                self._error = exc
                raise
        return self._scenario


def _sweep_progress(sweep_dir: Path) -> None:
    """One progress line for the whole sweep (stderr)."""
    total = os.environ.get(SWEEP_TOTAL_ENV)
    status = sweep_status(sweep_dir, int(total) if total and total.isdigit() else None)
    sys.stderr.write(status.line() + "\n")
    sys.stderr.flush()


def _killed_by_test(overrides: list[str]) -> None:
    wanted = os.environ.get(TEST_KILL_ENV)
    if wanted and wanted in overrides:
        os.kill(os.getpid(), signal.SIGKILL)


def run_one(settings: RunConfig, folder: Path, config: dict[str, Any], overrides: list[str],
            ctx: RunContext, scenario: SharedScenario | None = None) -> RunOutcome:
    """Simulate ``settings`` into ``folder`` (its resolved ``config`` and ``overrides`` go to
    the manifest) and print the outcome.

    Alone, a failed run raises: a :class:`ConfigError` or :class:`UserError` as it is, any
    other error as a :class:`UserError` with exit code 1 naming the manifest. In a sweep it is
    recorded and the sweep goes on. Ctrl-C and SIGTERM always raise (KeyboardInterrupt)."""

    def body(out: Path) -> dict[str, Any]:
        # imported here: the engine, numpy and matplotlib are not needed by a run that is
        # skipped as done (start-up time)
        from gridsim.engine import simulation
        from gridsim.output.files import write_outputs

        if ctx.multirun:
            _killed_by_test(overrides)
        progress = simulation.stderr_progress if settings.output.progress else None
        built = scenario.get(settings) if scenario is not None else None
        result = simulation.simulate(settings, scenario=built, progress=progress)
        return write_outputs(result, out, __version__)

    try:
        outcome = run_in_folder(folder, config=config, inputs=input_files(settings),
                                seed=settings.seed, replication=settings.replication,
                                overrides=overrides, version=__version__, body=body,
                                resume=True, session=ctx.session, reraise=not ctx.multirun)
    except (ConfigError, UserError):
        raise
    except Exception as exc:  # a run alone that failed: one line, exit code 1
        raise UserError(f"run failed: {type(exc).__name__}: {exc}",
                        hint=f"see {Path(folder) / MANIFEST}", code=1) from exc
    if outcome.status == "skipped":
        print(f"skipped (done before, same config): {outcome.folder}")
    elif outcome.status == "done" and outcome.summary is not None:
        # imported here: the summary table's module pulls in the engine (start-up time)
        from gridsim.output.files import format_summary

        summary = outcome.summary
        print(format_summary(summary))
        print(f"  ({summary['grids']} grids, {settings.duration_h:g} h simulated in "
              f"{outcome.wall_s or 0.0:.1f} s)")
        print(f"results: {outcome.folder}")
    else:
        err(f"run failed: {outcome.error} (see {Path(folder) / MANIFEST})")
    sys.stdout.flush()
    if ctx.multirun:
        run_ended()  # a watcher of this process (the basic launcher) prints the line now
        if ctx.sweep_dir is not None and not ctx.watched:
            _sweep_progress(ctx.sweep_dir)
    return outcome
