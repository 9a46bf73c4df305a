"""An evacuation's files and figures in the run folder.

=============================  ===============================================================
file                           content
=============================  ===============================================================
``evacuation.csv``             one row per evacuated grid: people, vulnerable, helpers, switch,
                               first/last warning, departure and arrival, not sheltered by the
                               deadline, clearance
``evacuation_curve.csv``       every ``curve_step_s``: persons not yet left, on the way,
                               sheltered (they add up to the population in every row)
``evacuation_shelters.csv``    one row per shelter: capacity, assigned, sheltered, occupancy,
                               first and last arrival, groups turned away
``evacuation_bottlenecks.csv`` the links with the longest waits: capacity, longest queue and
                               wait, person-seconds of waiting
``evacuation_curve.png``       the evacuation curve with the deadline and the clearance
``evacuation_bottlenecks.png`` a map: roads, evacuated grids, shelters, the bottleneck links
=============================  ===============================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gridsim.csvtext import csv_text
from gridsim.evacuation.results import EvacuationResult
from gridsim.fsutil import write_atomic
from gridsim.model.vocab import GRID_KINDS
from gridsim.place.scenario import Scenario

__all__ = ["EVACUATION_FIGURES", "EVACUATION_FILES", "write_evacuation"]

EVACUATION_FILES: tuple[str, ...] = ("evacuation.csv", "evacuation_curve.csv",
                                     "evacuation_shelters.csv", "evacuation_bottlenecks.csv")
EVACUATION_FIGURES: tuple[str, ...] = ("evacuation_curve.png", "evacuation_bottlenecks.png")

GRID_COLUMNS: tuple[str, ...] = (
    "warning", "grid", "township", "kind", "population", "households", "vulnerable",
    "vulnerable_households", "helped_households", "helpers", "helper_busy_max_s",
    "fallback_helpers", "drills_per_year", "switch_ready_s",
    "warned_first_s", "warned_last_s", "never_warned", "departed_first_s", "departed_last_s",
    "sheltered_first_s", "sheltered_last_s", "sheltered", "not_sheltered_by_deadline",
    "clearance_s", "assigned_shelter",
)
CURVE_COLUMNS: tuple[str, ...] = ("warning", "time_s", "since_warning_s", "not_left",
                                  "on_the_way", "sheltered")
SHELTER_COLUMNS: tuple[str, ...] = ("warning", "shelter", "name", "grid", "capacity", "assigned",
                                    "sheltered", "occupancy_share", "first_arrival_s",
                                    "last_arrival_s", "turned_away_groups")
BOTTLENECK_COLUMNS: tuple[str, ...] = (
    "warning", "rank", "link", "mode", "kind", "from_grid", "to_grid", "length_m",
    "clear_width_m", "capacity_per_s", "groups", "persons", "max_queue", "max_wait_s",
    "max_wait_at_s", "wait_person_s", "busy_s",
)


def _rows(columns: dict[str, Any], names: tuple[str, ...], fixed: dict[str, Any]) -> list[tuple]:
    cols = []
    n = len(next(iter(columns.values())))
    for name in names:
        if name in fixed:
            cols.append([fixed[name]] * n)
        else:
            v = columns[name]
            cols.append(v.tolist() if isinstance(v, np.ndarray) else list(v))
    return list(zip(*cols, strict=True))


def write_evacuation(results: list[EvacuationResult], scenario: Scenario, names: list[str],
                     folder: Path, step_s: float, bottlenecks: int, figures: bool) -> list[Path]:
    """Write the evacuation files (and figures) of ``results`` (one per warning ``names``)."""

    g = scenario.region.grids
    towns = scenario.region.hierarchy.township_names
    grid_rows: list[tuple] = []
    curve_rows: list[tuple] = []
    shelter_rows: list[tuple] = []
    link_rows: list[tuple] = []
    for name, r in zip(names, results, strict=True):
        per: dict[str, Any] = dict(r.per_grid())
        pos = np.searchsorted(r.grids, r.households.grid)
        assigned = np.full(len(r.grids), -1, dtype=np.int64)
        assigned[pos] = r.households.assigned_shelter
        per = {**per,
               "township": [towns[t] for t in g.township[r.grids].tolist()],
               "kind": [GRID_KINDS[k] for k in g.kind[r.grids].tolist()],
               "fallback_helpers": per["fallback_helpers"].astype(np.int64),
               "assigned_shelter": [r.shelters.name[a] if a >= 0 else ""
                                    for a in assigned.tolist()]}
        grid_rows += _rows(per, GRID_COLUMNS, {"warning": name})
        curve_rows += _rows(r.curve(step_s), CURVE_COLUMNS, {"warning": name})
        shelter_rows += _rows(r.per_shelter(), SHELTER_COLUMNS, {"warning": name})
        for rank, row in enumerate(r.bottlenecks(bottlenecks), start=1):
            row = {**row, "warning": name, "rank": rank}
            link_rows.append(tuple(row[c] for c in BOTTLENECK_COLUMNS))
    paths = [folder / f for f in EVACUATION_FILES]
    for path, cols, rows in zip(paths, (GRID_COLUMNS, CURVE_COLUMNS, SHELTER_COLUMNS,
                                        BOTTLENECK_COLUMNS),
                                (grid_rows, curve_rows, shelter_rows, link_rows), strict=True):
        write_atomic(path, csv_text(cols, rows))
    if figures and results:
        # start-up time: matplotlib only with figures on
        from gridsim.evacuation.figures import bottleneck_map, evacuation_curve

        fig_paths = [folder / f for f in EVACUATION_FIGURES]
        evacuation_curve(results[0], fig_paths[0], step_s, title=names[0])
        bottleneck_map(results[0], scenario, fig_paths[1], bottlenecks, title=names[0])
        paths += fig_paths
    return paths
