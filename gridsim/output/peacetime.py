"""The peacetime loop's outputs: ``peacetime.csv`` (the 四单四办 stages by hazard class) and the
figure ``peacetime.png`` (where the loop queues).

``peacetime.csv`` has one row per stage of :data:`gridsim.model.vocab.LOOP_STAGES` × hazard class
of :data:`gridsim.model.vocab.HAZARD_CLASSES`, plus a row of class ``all`` per stage, in that
order, columns :data:`PEACETIME_FIELDS`; the rows are the loop's own account of the run
(:meth:`gridsim.engine.peacetime.PeaceLoop.stage_rows`). Every count is of events during the
run, the cases already in the loop at t = 0 included: cases that came to the stage
(``arrivals``), services that ended (``completed``), the cases the owners sent back to work
(``rework``, the rate stage), the deadlines that fell while a case was in the stage
(``supervised``, 支部督办); the rate stage's completed − rework is the summary's
``hazards_rectified``. The waits for a server and the times in the stage are over the cases that
came to the stage during the run (the start's cases have drawn, not observed, times); the rate
stage's share rectified within the class's deadline (``on_time_share``; empty for the other
stages); the time-average number of cases in the stage (``mean_in_stage``).

The figure draws the mean wait (days) of each stage, one bar per hazard class, the ``all`` row
as a black tick: a stage whose bars stand high is where the loop's servers are short.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridsim.csvtext import csv_text
from gridsim.fsutil import write_atomic
from gridsim.model.vocab import HAZARD_CLASSES, LOOP_STAGES, ZH
from gridsim.output.figures import _figure, _in_fonts, _save

if TYPE_CHECKING:
    from gridsim.engine.simulation import RunResult

__all__ = ["PEACETIME_FIELDS", "PEACETIME_FILES", "peacetime_rows", "write_peacetime"]

#: Columns of peacetime.csv, in order.
PEACETIME_FIELDS: tuple[str, ...] = (
    "stage", "stage_zh", "hazard_class", "hazard_class_zh", "arrivals", "completed",
    "mean_wait_days", "p90_wait_days", "mean_time_days", "on_time_share", "rework",
    "supervised", "mean_in_stage",
)

#: The files :func:`write_peacetime` writes (the figure only with ``output.figures``).
PEACETIME_FILES: tuple[str, ...] = ("peacetime.csv", "peacetime.png")

#: The class of the rows over all classes.
ALL = "all"


def _number(v: Any) -> Any:
    """A cell: NaN and None empty, floats rounded to 6 digits (byte-stable text)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not math.isfinite(v) else round(v, 6)
    return v


def peacetime_rows(result: RunResult) -> list[list[Any]]:
    """The rows of peacetime.csv: the loop's stage rows in stage × class order (``all`` last
    in each stage), with the Chinese names; every stage × class present exactly once."""
    rows = result.peace.stage_rows()
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (str(row["stage"]), str(row["hazard_class"]))
        if key in by_key:
            raise ValueError(f"PeaceLoop.stage_rows: stage {key[0]!r}, class {key[1]!r} twice")
        by_key[key] = row
    out = []
    for stage in LOOP_STAGES:
        for cls in (*HAZARD_CLASSES, ALL):
            r = by_key.get((stage, cls))
            if r is None:
                raise ValueError(f"PeaceLoop.stage_rows: no row of stage {stage!r}, "
                                 f"class {cls!r}")
            full = {**r, "stage_zh": ZH.get(stage, ""),
                    "hazard_class_zh": "全部" if cls == ALL else ZH.get(cls, "")}
            out.append([_number(full.get(f)) for f in PEACETIME_FIELDS])
    return out


def write_peacetime(result: RunResult, folder: Path, figures: bool) -> list[Path]:
    """Write peacetime.csv (and with ``figures`` peacetime.png) into ``folder``."""
    rows = peacetime_rows(result)
    paths = [folder / PEACETIME_FILES[0]]
    write_atomic(paths[0], csv_text(PEACETIME_FIELDS, rows))
    if figures:
        paths.append(folder / PEACETIME_FILES[1])
        loop_figure(rows, paths[1], result.duration_s / 86400.0)
    return paths


@_in_fonts
def loop_figure(rows: Sequence[Sequence[Any]], path: Path, days: float) -> None:
    """The mean wait per stage (days), a bar per hazard class, the ``all`` row as a tick."""
    # imports matplotlib (start-up time: gridsim.output.figures)
    from gridsim.output.cjk import bi

    i_stage = PEACETIME_FIELDS.index("stage")
    i_cls = PEACETIME_FIELDS.index("hazard_class")
    i_wait = PEACETIME_FIELDS.index("mean_wait_days")
    i_in = PEACETIME_FIELDS.index("arrivals")
    wait = {(r[i_stage], r[i_cls]): (float(r[i_wait]) if r[i_wait] != "" else math.nan)
            for r in rows}
    arrivals = {(r[i_stage], r[i_cls]): int(r[i_in] or 0) for r in rows}
    fig, ax = _figure((9.5, 4.6))
    fig.subplots_adjust(left=0.09, right=0.72, bottom=0.16, top=0.86)
    n_cls = len(HAZARD_CLASSES)
    width = 0.8 / n_cls
    colours = ("#e6550d", "#3182bd", "#fd8d3c", "#31a354", "#756bb1", "#8c6d31")
    for k, cls in enumerate(HAZARD_CLASSES):
        xs = [s + (k - (n_cls - 1) / 2) * width for s in range(len(LOOP_STAGES))]
        ys = [wait[(st, cls)] if math.isfinite(wait[(st, cls)]) else 0.0 for st in LOOP_STAGES]
        ax.bar(xs, ys, width=width, color=colours[k % len(colours)],
               label=bi(cls, ZH.get(cls, "")))
    ys_all = [wait[(st, ALL)] for st in LOOP_STAGES]
    ax.scatter(range(len(LOOP_STAGES)), ys_all, marker="_", s=900, color="black", zorder=3,
               label=bi("all classes", "全部"))
    ax.set_xticks(range(len(LOOP_STAGES)))
    ax.set_xticklabels([f"{bi(st, ZH.get(st, ''))}\n({arrivals[(st, ALL)]:,})"
                        for st in LOOP_STAGES])
    ax.set_ylabel(bi("mean wait (days)", "平均等待 (天)"))
    ax.set_xlabel(bi("stage (cases entering it in the run)", "环节 (运行期间进入的件数)"))
    ax.set_title(f"{bi('Where the closed loop queues', '四单四办 各环节等待')}\n"
                 f"({days:,.0f} days)")
    ax.legend(loc="upper left", fontsize=8, frameon=False, bbox_to_anchor=(1.02, 1.0),
              markerscale=0.4)
    _save(fig, path)
