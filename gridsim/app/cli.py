"""The ``gridsim`` command line: it parses argv and dispatches, nothing more.

* ``run``: :func:`gridsim.app.hydra_app.run_command` (Hydra's config, one run or a sweep);
* ``scenario``: :func:`gridsim.app.scenario_cmd.scenario_main`;
* ``experiment``: :func:`gridsim.app.hydra_app.experiment_command`, which hands the sweep to
  :func:`gridsim.experiments.sweep.run_sweep`;
* ``report``: :func:`gridsim.experiments.report_cmd.make_report`;
* ``drill``: :func:`gridsim.app.drill_cmd.drill_main`;
* ``plan``: :func:`gridsim.app.plan_cmd.plan_main` (pre-positioning plans, 力量前置、物资前置);
* ``calibrate``: :func:`gridsim.app.calibrate_cmd.calibrate_main`.

Every problem a user can fix is printed as one line by :func:`gridsim.errors.report` (exit 2,
or 1 for a run that failed); Ctrl-C and SIGTERM stop any command with one line and exit code
130 or 143 (:mod:`gridsim.app.interrupts`).

The commands' modules are imported when their command runs: ``gridsim --version`` or
``gridsim report`` do not pay for Hydra, the engine or matplotlib (start-up time).
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from pathlib import Path
from typing import Any

from gridsim import __version__
from gridsim.app.interrupts import exit_code, interrupts, message
from gridsim.errors import UserError, report

__all__ = ["USAGE", "main"]

USAGE = """usage: gridsim <command> [args]

commands:
  run [overrides]   simulate a scenario (Hydra): gridsim run --help lists the config groups
  scenario describe <name|path> [--json]
                    statistics of a scenario, beside the account's figures for calibrated presets
  scenario map <name|path> --out map.png [--colour kind|density]
                    a PNG map of grids, roads, stations, depots and key monitoring points
  scenario validate <path>
                    check a scenario folder: every problem at once (exit 2 if any)
  scenario export <name> <folder>
                    build a preset and write it as a scenario folder
  experiment <file.yaml> [overrides]
                    run every variant × replication of an experiment file (any Hydra launcher),
                    resumable; then its report when the file names a report_dir
  report <experiment folder> [--out DIR]
                    one table of an experiment's runs, statistics, figures, report.md/.html
  drill script [overrides] [--out DIR] | drill evaluate <drill> <log.csv>
                    drill scripts (演练脚本) and after-action reports: gridsim drill --help
  plan [overrides] [--out DIR]
                    pre-positioning (力量前置、物资前置): sites by LSCP, MCLP, p-median or
                    p-center, stock levels, storm moves; a plan folder: gridsim plan --help
  calibrate [--spec FILE] [--out DIR] [--jobs N] [overrides]
                    fit uncertain rates to the account's figures (default spec
                    calibration/suining_2025.yml, report in reports/calibration/)
  --version         print the version

Examples:
  gridsim run
  gridsim run seed=7 hazard=calm response=prepared
  gridsim run -m seed=1,2,3
  gridsim experiment experiments/team_size.yaml hydra/launcher=joblib
  gridsim report multirun/team_size --out reports/team_size
  gridsim scenario describe pilot_after
  gridsim scenario map suining_city --out suining.png
"""


def __getattr__(name: str) -> Any:
    """``gridsim.app.cli.compose_settings``, for code written before the Hydra boundary became
    :mod:`gridsim.app.hydra_app` (imported on first use: start-up time)."""
    if name == "compose_settings":
        from gridsim.app.hydra_app import compose_settings  # start-up time: Hydra on demand

        return compose_settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _err(msg: str) -> None:
    sys.stderr.write(f"gridsim: {msg}\n")


def _run(args: list[str]) -> int:
    from gridsim.app.hydra_app import run_command  # start-up time: Hydra only for run

    return run_command(args)


def _experiment(args: list[str]) -> int:
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write("usage: gridsim experiment <experiment.yaml> [overrides] "
                         "[--cfg job|hydra|all] [--info [what]] [--help]\n"
                         "  --help after the file: the experiment's config groups and keys\n")
        return 0
    if not args or args[0].startswith("-"):
        raise UserError("usage: gridsim experiment <experiment.yaml> [overrides]")
    from gridsim.app.hydra_app import experiment_command  # start-up time: Hydra on demand

    return experiment_command(Path(args[0]), list(args[1:]))


def _report(args: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gridsim report", description=(
        "Gather an experiment's runs into one table with statistics, figures and reports."))
    ap.add_argument("folder", type=Path, help="the experiment's output folder (its sweep dir)")
    ap.add_argument("--out", type=Path, default=None,
                    help="where to write (default: the experiment folder itself)")
    try:
        ns = ap.parse_args(args)
    except SystemExit as exc:  # --help, or a usage error (argparse exits with 2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    from gridsim.experiments.report_cmd import make_report  # start-up time: scipy on demand

    return make_report(ns.folder, ns.out)


def _scenario(args: list[str]) -> int:
    from gridsim.app.scenario_cmd import scenario_main  # start-up time: on demand

    return scenario_main(args)


def _drill(args: list[str]) -> int:
    from gridsim.app.drill_cmd import drill_main  # start-up time: on demand

    return drill_main(args)


def _plan(args: list[str]) -> int:
    from gridsim.app.plan_cmd import plan_main  # start-up time: on demand

    return plan_main(args)


def _calibrate(args: list[str]) -> int:
    from gridsim.app.calibrate_cmd import calibrate_main  # start-up time: on demand

    return calibrate_main(args)


COMMANDS = {"run": _run, "scenario": _scenario, "experiment": _experiment, "report": _report,
            "drill": _drill, "plan": _plan, "calibrate": _calibrate}


#: Hydra's shell-completion flags. Hydra's installed completion script calls the program
#: itself (``gridsim -sc query=bash``), not ``gridsim run``: :func:`_completion` answers.
COMPLETION_FLAGS = ("-sc", "--shell-completion")


def _completion(args: list[str]) -> int:
    """``gridsim -sc install=bash|query=bash|...``: the script Hydra installs calls the program
    with the whole command line in ``COMP_LINE``. On the command word it lists the commands;
    after ``run`` Hydra's completion of ``gridsim run`` answers; after any other command it
    offers nothing (the shell then completes file names)."""
    query = next((a.split("=", 1)[1] for a in args if a.startswith("query=")), None)
    if query is None:  # install= / uninstall=: Hydra's own script, for the program
        return _run(list(args))
    line = os.environ.get("COMP_LINE", "")
    point = os.environ.get("COMP_POINT", "")
    if point.isdigit():
        line = line[: int(point)]
    words = line.split()
    typed = line[len(line.rstrip()):] != ""  # the line ends in a space: a new word begins
    after = words[1:]  # the words after the program
    if not after or (len(after) == 1 and not typed):  # completing the command word
        word = after[0] if after else ""
        names = [n for n in COMMANDS if n.startswith(word)]
        sys.stdout.write(("\n" if query == "fish" else " ").join(names) + "\n")
        return 0
    if after[0] == "run":
        return _run(list(args))
    sys.stdout.write("\n")
    return 0


def _dispatch(args: list[str]) -> int:
    if args and args[0] in COMPLETION_FLAGS:
        return _completion(args)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if args[0] == "--version":
        print(f"gridsim {__version__}")
        return 0
    command = COMMANDS.get(args[0])
    if command is None:
        _err(f"unknown command {args[0]!r}\n{USAGE}")
        return 2
    return command(args[1:])


def _ends_the_process(args: list[str]) -> bool:
    """Whether the process may end as soon as this command has returned (:func:`_exit_now`):
    a plain ``gridsim run`` (no sweep: no launcher, no workers) given on the process's own
    command line, with no other thread running."""
    return (bool(args) and args[0] == "run"
            and not any(a in ("-m", "--multirun") or a.lower() == "hydra.mode=multirun"
                        for a in args[1:])
            and threading.active_count() == 1)


def _exit_now(code: int) -> None:
    """End the process with ``code`` without the interpreter's teardown: the standard streams
    flushed and the ``atexit`` functions run (logging's flush and close of gridsim.log,
    temporary folders' clean-up), then :func:`os._exit`. Freeing, one by one, the millions of
    objects a city run leaves (its scenario, incidents, people, the modules) costs about 0.35-0.4
    s of CPU once every file is written, for nothing: the operating system takes the memory
    back at once (docs/performance.md). If a stream cannot be flushed (a closed pipe), Python's
    own exit reports it as before."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gridsim`` console script; returns the exit code.

    Called with no ``argv`` (the console script, ``python -m gridsim``), a plain ``gridsim
    run`` ends the process itself once it has returned (:func:`_exit_now`); called with
    ``argv`` (tests, other Python code) it always returns."""
    args = sys.argv[1:] if argv is None else list(argv)
    code = _main(args)
    if argv is None and _ends_the_process(args):
        _exit_now(code)
    return code


def _main(args: list[str]) -> int:
    with interrupts() as state:
        try:
            return _dispatch(args)
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (Terminated)
            _err(message(exc, state))
            return exit_code(exc, state)
        except BrokenPipeError:  # e.g. piped into head: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except BaseException as exc:
            if state.received is not None:  # an interruption another library garbled
                _err(message(None, state))
                return exit_code(None, state)
            if isinstance(exc, SystemExit):
                raise
            if isinstance(exc, UserError | OSError) or isinstance(
                    getattr(exc, "errors", None), list):  # ConfigError, ScenarioDataError
                return report(exc)
            raise


if __name__ == "__main__":
    sys.exit(main())
