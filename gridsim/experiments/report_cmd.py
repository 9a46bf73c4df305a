"""``gridsim report <folder> [--out DIR]``: the body of the command (the command line parses
the arguments).

A folder is reported only when its runs are of one experiment: runs of two experiments (two
``experiment.name`` in their manifests) would be merged under the first one's metrics, pairs
and half-widths, so the command refuses and names each experiment with its runs' folders.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from gridsim.errors import UserError
from gridsim.output.run_folder import MANIFEST, read_manifest

__all__ = ["experiments_in", "make_report"]


def experiments_in(folder: Path) -> dict[str, list[Path]]:
    """The experiments whose runs are under ``folder`` (by ``experiment.name`` of each run's
    manifest; ``""`` for runs of no experiment): name -> run folders."""
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob(MANIFEST)):
        m = read_manifest(path.parent)
        if m is None:
            continue
        exp = (m.get("config") or {}).get("experiment") or {}
        name = str(exp.get("name") or "") if isinstance(exp, dict) else ""
        found.setdefault(name, []).append(path.parent)
    return found


def _common(folders: list[Path], root: Path) -> str:
    """The part of the run folders' paths (relative to ``root``) they share, for a message."""
    parts = [f.relative_to(root).parts for f in folders]
    common: list[str] = []
    for seg in zip(*parts, strict=False):
        if len(set(seg)) != 1:
            break
        common.append(seg[0])
    return "/".join(common) or "."


def make_report(folder: Path, out: Path | None = None) -> int:
    """Gather the runs under ``folder`` into the report files (into ``out``, default the folder
    itself) and print what was written; :class:`UserError` for a folder that is not one
    experiment's."""
    # imported here: the report pulls in scipy, pyarrow and matplotlib, which a command that
    # refuses the folder does not need (start-up time)
    from gridsim.experiments.report import build_report
    from gridsim.experiments.report_output import write_report

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError("no such folder", folder,
                        "give an experiment's output folder, its hydra.sweep.dir")
    found = experiments_in(folder)
    if not found:
        raise UserError(f"no run with a {MANIFEST} under the folder", folder,
                        "give an experiment's output folder, its hydra.sweep.dir")
    if len(found) > 1:
        counts = Counter({name: len(runs) for name, runs in found.items()})
        listed = "; ".join(f"{name or '(no experiment)'}: {n} runs under "
                           f"{_common(found[name], folder)}"
                           for name, n in sorted(counts.items()))
        raise UserError(f"the folder holds the runs of {len(found)} experiments ({listed}), "
                        "which one report would mix", folder,
                        "report each experiment's own folder: gridsim report <its "
                        "hydra.sweep.dir>")
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
