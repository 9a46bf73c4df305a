"""Writing a run's files: summary.json, incidents.csv, events.csv, grids.csv, the GIS files
(grids.geojson, grids.gpkg: :mod:`gridsim.output.geo`) and the figures.

Every file is written to a temporary name and renamed into place
(:func:`gridsim.fsutil.write_atomic`), so a crash never leaves a half-written file. Files hold no
wall-clock times and no absolute paths: the same config and seed give byte-identical files.
"""

from __future__ import annotations

import contextlib
import gc
import json
import unicodedata
from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.csvtext import csv_column, csv_columns, csv_text
from gridsim.engine.incident import INCIDENT_FIELDS
from gridsim.engine.recorder import EVENT_COLUMNS
from gridsim.engine.simulation import RunResult
from gridsim.evacuation.output import write_evacuation
from gridsim.fsutil import write_atomic  # the one atomic-write helper, re-exported here
from gridsim.output.figures import write_figures
from gridsim.output.geo import GEO_FILES, write_geo
from gridsim.output.metrics import GRID_FIELDS, grid_columns, summarize
from gridsim.output.peacetime import PEACETIME_FILES, write_peacetime
from gridsim.output.run_report import write_run_pages

__all__ = ["OUTPUT_FILES", "format_summary", "write_atomic", "write_outputs"]

#: Data files of a run (figures are listed in :data:`gridsim.output.figures.FIGURES`);
#: grids.geojson and grids.gpkg with ``output.gis`` (the default); peacetime.csv and its figure
#: peacetime.png (with ``output.figures``), :mod:`gridsim.output.peacetime`.
OUTPUT_FILES: tuple[str, ...] = ("summary.json", "incidents.csv", "events.csv", "grids.csv",
                                 *GEO_FILES, *PEACETIME_FILES)


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the files are written.

    Drawing a figure makes thousands of small objects (ticks, texts, transforms), which set off
    collections of the oldest generation, and each of those walks every object the process
    holds: the whole run (its incidents, its log, its scenario), to find none to free. That was
    about a tenth of the figures' CPU in a city run. The figures' own cycles are collected
    once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_outputs(result: RunResult, folder: Path, version: str) -> dict[str, Any]:
    """Write all files of a run into ``folder``; returns the summary."""
    with _no_collection():
        return _write_outputs(result, folder, version)


def _write_outputs(result: RunResult, folder: Path, version: str) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarize(result, version)
    incs = result.incidents
    write_atomic(folder / "incidents.csv",
                 csv_columns(INCIDENT_FIELDS, [list(map(attrgetter(f), incs))
                                               for f in INCIDENT_FIELDS]))
    columns = grid_columns(result)
    texts = [csv_column(c) for c in columns]  # each cell's text, once for both files
    write_atomic(folder / "grids.csv", csv_columns(GRID_FIELDS, texts))
    # the same rows with the grids' polygons, in lon/lat (and the scenario's CRS)
    if result.settings.output.gis:
        write_geo(folder, result.scenario.region, GRID_FIELDS, columns, texts)
    if result.settings.output.events_log:
        write_atomic(folder / "events.csv",
                     csv_text(EVENT_COLUMNS, result.ctx.log.table_rows()))
    if result.settings.output.figures:
        share = np.array(columns[GRID_FIELDS.index("within_5min_share")], dtype=float)
        write_figures(result, folder, share)
    # the peacetime loop by stage and hazard class, and its figure (gridsim.output.peacetime)
    write_peacetime(result, folder, result.settings.output.figures)
    if result.evacuations:  # evacuation*.csv and figures (gridsim.evacuation.output)
        ev = result.settings.evacuation
        names = [w.name for w in result.settings.hazard.warnings if w.evacuate]
        write_evacuation(result.evacuations, result.scenario, names, folder, ev.curve_step_s,
                         ev.bottlenecks, result.settings.output.figures)
    write_run_pages(result, folder, summary, _TABLE)  # grid_modes.csv, map.html, report.html
    # the summary last: its presence says the run's files are complete
    write_atomic(folder / "summary.json",
                 json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    return summary


_TABLE: tuple[tuple[str, str, str], ...] = (
    ("incidents", "incidents 事件", "{}"),
    ("response_time_p50_s", "response p50 (notice → on scene) 响应时间", "{:.0f} s"),
    ("response_time_p90_s", "response p90", "{:.0f} s"),
    ("within_5min_share", "within 5 min 应急五分钟", "{:.1%}"),
    ("switch_latency_p50_s", "switch latency p50 平急转换", "{:.0f} s"),
    ("switch_latency_p90_s", "switch latency p90", "{:.0f} s"),
    ("escalations", "escalations 网格吹哨", "{}"),
    ("report_on_time_share", "reports on time 信息上报", "{:.1%}"),
    ("supply_shortages", "supply shortages 物资短缺", "{}"),
    ("responder_utilization", "responder utilization 力量利用率", "{:.4%}"),
    ("storm_utilization", "storm utilization 预警期间人员占用率", "{:.1%}"),
    ("rescues", "rescues by grid forces 基层应急救援", "{}"),
    ("people_rescued", "people rescued 营救被困人员", "{}"),
    ("deaths", "deaths 死亡", "{}"),
    ("losses_averted_cny", "losses averted 挽回经济损失", "{:,.0f} CNY"),
    ("clearance_time_s", "evacuation clearance 转移避险", "{:.0f} s"),
    ("evacuation_p90_s", "evacuation p90 (90 % sheltered)", "{:.0f} s"),
    ("not_sheltered_by_deadline", "not sheltered by the deadline 时限内未安置", "{}"),
)


def _width(text: str) -> int:
    """Display width in a terminal (CJK characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_summary(summary: dict[str, Any]) -> str:
    """A short table of the headline metrics."""
    lines = [f"gridsim run · scenario {summary['scenario']} · hazard {summary['hazard']} · "
             f"response {summary['response']} · seed {summary['seed']}"]
    width = max(_width(label) for _, label, _ in _TABLE)
    for key, label, fmt in _TABLE:
        if key not in summary:  # e.g. the evacuation's keys in a run without one
            continue
        v = summary.get(key)
        txt = "n/a" if v is None else fmt.format(v)
        lines.append(f"  {label}{' ' * (width - _width(label))}  {txt:>10}")
    return "\n".join(lines)
