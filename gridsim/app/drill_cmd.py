"""``gridsim drill``: drill scripts from simulations, and after-action evaluations.

``gridsim drill script [overrides] [--out DIR]`` composes the config like ``gridsim run`` (the
same overrides, plus ``drill.*``), picks the seed's variant, simulates it
``drill.replications`` times on one built scenario and writes drill_script.md, msel.csv,
evaluation_sheet.md, drill.json and log_template.csv to ``DIR`` (default
``outputs/drills/<drill.name>-seed<seed>``).

``gridsim drill evaluate <drill folder | drill.json> <log.csv> [--out DIR]`` compares the times
recorded on the day with the script's simulated ones and writes after_action.md,
after_action.png and after_action.json (default: into the drill folder).

Bad configs, malformed logs and drill files, and folders that cannot be written (under a file,
read-only, a name too long for the file system: checked before anything is simulated) get one
line per problem (what, which path, what to do) and exit code 2; nothing is left half-written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from gridsim.errors import UserError, os_error, report

__all__ = ["drill_main"]

USAGE = """usage: gridsim drill <command> [args]

commands:
  script [overrides] [--out DIR]
        write a drill script (演练脚本) for the seed's variant: drill_script.md (中文 + English),
        msel.csv, evaluation_sheet.md, drill.json, log_template.csv
        (default folder: outputs/drills/<drill.name>-seed<seed>)
  evaluate <drill folder | drill.json> <log.csv> [--out DIR]
        compare the times recorded in a drill with the script's simulated ones:
        after_action.md (中文 + English), after_action.png, after_action.json
        (default: into the drill folder)

The log is a CSV with the columns seq,action,actual; actual is the drill-clock time as
T+mm:ss, T+h:mm:ss, mm:ss or seconds, empty when the action was not observed.

Overrides are those of `gridsim run`, plus drill.* (see README, "Drills"):
  drill.name=flood_drill drill.grids=[3,4] drill.replications=30 drill.start_h=9
  drill.grade=III drill.hazards=[landslide] drill.extra_injects=[road_blocked]

Examples:
  gridsim drill script scenario=small drill.grids=[3,4] seed=7
  gridsim drill evaluate outputs/drills/drill-seed7 day_log.csv
"""


def _usage_error(msg: str, hint: str = "see gridsim drill --help") -> int:
    return report(UserError(msg, hint=hint))


def _write_error(exc: OSError, what: str, folder: Path) -> UserError:
    """The one line of a file-system error while writing ``what`` into ``folder`` (an error
    without a file name, e.g. a full disk during a write, is blamed on the folder)."""
    if exc.filename is None:
        exc = OSError(exc.errno, exc.strerror, str(folder))
    return os_error(exc, f"cannot write {what}")


def _split_out(args: list[str]) -> tuple[list[str], Path | None, str | None]:
    """``(other args, --out folder, error)``."""
    rest: list[str] = []
    out: Path | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--out":
            if i + 1 >= len(args):
                return rest, None, "--out needs a folder"
            out = Path(args[i + 1])
            i += 2
            continue
        if a.startswith("--out="):
            out = Path(a.split("=", 1)[1])
        else:
            rest.append(a)
        i += 1
    return rest, out, None


def script(args: list[str]) -> int:
    """``gridsim drill script``."""
    # start-up time: Hydra, the engine, numpy and the drill modules only when a script is made
    from gridsim.app.hydra_app import compose_settings
    from gridsim.drills.render import check_folder, write_drill
    from gridsim.drills.script import build_script, fmt_t
    from gridsim.drills.timings import simulate_drill
    from gridsim.drills.variants import choose_variant, drill_run
    from gridsim.engine.simulation import build

    overrides, out, problem = _split_out(args)
    flags = [a for a in overrides if a.startswith("-")]
    if problem or flags:
        return _usage_error(problem or f"unknown option of `gridsim drill script`: {flags[0]}")
    settings, choices = compose_settings(overrides)
    folder = out or Path("outputs") / "drills" / f"{settings.drill.name}-seed{settings.seed}"
    check_folder(folder)  # before the replications are simulated
    scenario = build(settings)
    variant = choose_variant(settings, scenario)
    run, drill_scenario = drill_run(settings, scenario, variant)
    n = settings.drill.replications
    sys.stderr.write(f"simulating {n} replications of drill {settings.drill.name!r} "
                     f"(seed {settings.seed}) ...\n")

    def progress(done: int) -> None:
        if done % 10 == 0 and done < n:
            sys.stderr.write(f"  {done}/{n} replications\n")
            sys.stderr.flush()

    samples = simulate_drill(run, drill_scenario, variant, n, progress=progress)
    doc = build_script(settings, scenario, variant, samples, choices)
    try:
        paths = write_drill(doc, folder)
    except OSError as exc:
        raise _write_error(exc, "the drill folder", folder) from None
    v = variant
    print(f"drill {doc.name} · seed {doc.seed} · scenario {doc.scenario} · "
          f"hazard {doc.hazard_setting} · {n} replications")
    print(f"  grids {', '.join(f'G{g}' for g in v.grids)} · {v.hazard} (grade {v.grade})"
          f" in G{v.incident_grid} at {fmt_t(v.incident_at_s)}"
          f" · extra inject: {v.extra or 'none'}")
    print(f"  MSEL: {len(doc.msel)} rows, {len(doc.contingency)} contingency injects; "
          f"ends about {fmt_t(doc.end_s)}")
    for m in doc.msel:
        std = f"{fmt_t(m.median_s)} / {fmt_t(m.p90_s)}" if m.median_s is not None else ""
        what = str(m.action) if m.action is not None else m.inject_key
        print(f"  #{m.seq:<3} {m.time:>9}  {what:<28} {std}")
    for p in paths:
        print(f"  {p}")
    print(f"results: {folder}")
    return 0


def evaluate(args: list[str]) -> int:
    """``gridsim drill evaluate``."""
    # start-up time: numpy and matplotlib only when a drill is evaluated
    from gridsim.drills.evaluate import LogError, evaluate, load_drill, read_log
    from gridsim.drills.render import check_folder, write_after_action

    rest, out, problem = _split_out(args)
    if problem or len(rest) != 2 or any(a.startswith("-") for a in rest):
        return _usage_error(problem or "usage: gridsim drill evaluate <drill folder | "
                            "drill.json> <log.csv> [--out DIR]")
    drill_path, log_path = Path(rest[0]), Path(rest[1])
    try:
        doc, folder = load_drill(drill_path)
        log = read_log(log_path, doc)
    except LogError as exc:
        if len(exc.errors) > 1:
            exc.lines.append(f"{len(exc.errors)} problems; nothing written")
        raise
    target = out or folder
    check_folder(target, "the after-action report")
    ev = evaluate(doc, log)
    try:
        paths = write_after_action(ev, target)
    except OSError as exc:
        raise _write_error(exc, "the after-action report", target) from None
    print(f"after-action: {doc.name} (seed {doc.seed}): {ev.observed} of "
          f"{len(ev.actions)} actions recorded, {ev.late} late, "
          f"{ev.missing} not observed")
    by_seq = {a.seq: a for a in ev.actions}
    for s in ev.late_seqs:
        a = by_seq[s]
        assert a.actual_s is not None and a.percentile is not None  # late: it was recorded
        print(f"  late: #{s} {a.action} at T+{a.actual_s / 60:.1f} min "
              f"(p90 {a.p90_s / 60:.1f} min, percentile {a.percentile:.0f})")
    if ev.most_delaying:
        print("  most delayed clearance: " + ", ".join(
            f"#{s} {by_seq[s].action}" for s in ev.most_delaying))
    for o in ev.objectives:
        print(f"  {o.objective.id} {o.objective.category_name.en}: rating {o.rating}")
    for p in paths:
        print(f"  {p}")
    return 0


def _command(run: Callable[[list[str]], int], args: list[str]) -> int:
    """Run a drill command; a problem of the user's (a bad config, drill, log or folder) is one
    line per problem on stderr and exit code 2. Ctrl-C and SIGTERM go up to the console script
    (:func:`gridsim.app.cli.main`), which reports them."""
    from gridsim.model.validate import ConfigError  # start-up time: with the command

    try:
        return run(args)
    except (UserError, ConfigError, OSError) as exc:
        return report(exc)


def drill_main(args: list[str]) -> int:
    """Entry of ``gridsim drill``."""
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    commands = {"script": script, "evaluate": evaluate}
    if args[0] in commands:
        if any(a in ("-h", "--help") for a in args[1:]):
            sys.stdout.write(USAGE)
            return 0
        return _command(commands[args[0]], args[1:])
    return _usage_error(f"unknown command of `gridsim drill`: {args[0]}",
                        "the commands are script and evaluate: see gridsim drill --help")
