"""``gridsim report <folder> [--out DIR]``: the body of the command (the command line parses
the arguments). The report's input checks (manifests and summaries that do not read, a folder
holding more than one experiment) are :func:`gridsim.experiments.report.collect_runs`'s.
"""

from __future__ import annotations

from pathlib import Path

from gridsim.errors import UserError

__all__ = ["make_report"]


def make_report(folder: Path, out: Path | None = None) -> int:
    """Gather the runs under ``folder`` into the report files (into ``out``, default the folder
    itself) and print what was written; :class:`UserError` for a folder that cannot be
    reported."""
    # imported here: the report pulls in scipy, pyarrow and matplotlib, which a command that
    # refuses the folder does not need (start-up time)
    from gridsim.experiments.report import build_report

    # start-up time: matplotlib only when writing
    from gridsim.experiments.report_output import write_report

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError("no such folder", folder,
                        "give an experiment's output folder, its hydra.sweep.dir")
    try:
        rep = build_report(folder)
    except FileNotFoundError as exc:
        raise UserError(str(exc), hint="run the experiment first") from None
    target = Path(out) if out is not None else folder
    files = write_report(rep, folder, target)
    done = sum(1 for r in rep.rows if r.get("status") == "done")
    print(f"report: {len(rep.rows)} runs ({done} done), {len(rep.variants)} variants, "
          f"{len(rep.metrics)} metrics")
    for f in files:
        print(f"  {f}")
    return 0
