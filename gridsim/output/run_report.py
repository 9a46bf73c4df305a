"""A single run's report (单次运行报告): ``report.html`` beside the run's files.

The page opens with the run's headline numbers (the metrics of the terminal summary, with their
English and Chinese labels), then the run's figures (the PNGs, embedded), the interactive map
(``map.html``, :mod:`gridsim.output.webmap`, written beside the report and shown in a frame),
and the list of the run's files with what each holds. It is written only when the run draws its
figures (``output.figures``); the mode timeline ``grid_modes.csv`` the map reads is written by
every run (from the switch's record of the mode changes, with or without the event log).

Like every file of a run it holds no wall-clock time and no absolute path: the same config and
seed give the same bytes. The skeleton and the bundled CJK font are
:func:`gridsim.output.html.page`'s.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridsim.evacuation.output import EVACUATION_FIGURES
from gridsim.fsutil import write_atomic
from gridsim.output.figures import FIGURES
from gridsim.output.webmap import (
    GRID_MODES_FILE,
    MAP_FILE,
    map_from_result,
    write_grid_modes,
    write_map,
)

if TYPE_CHECKING:
    from gridsim.engine.simulation import RunResult

__all__ = ["REPORT_FILE", "RUN_PAGE_FILES", "render_report", "write_run_pages"]

#: The single run's report.
REPORT_FILE = "report.html"
#: The files this module writes into a run folder (for the run folder's list of result files).
RUN_PAGE_FILES: tuple[str, ...] = (GRID_MODES_FILE, MAP_FILE, REPORT_FILE)

#: What each file of a run holds (English 中文), in the order the report lists them.
_FILES: dict[str, str] = {
    "summary.json": "the run's metrics 运行指标",
    "incidents.csv": "one row per incident 事件表",
    "events.csv": "the event log 事件日志",
    "grids.csv": "one row per grid 网格表",
    "grids.geojson": "the grids with their results, lon/lat 网格地图数据",
    "grids.gpkg": "the grids with their results (GeoPackage) 网格地图数据",
    GRID_MODES_FILE: "each change of a grid's mode 网格模式变化",
    MAP_FILE: "the interactive map 交互式网格地图",
    "evacuation.csv": "the evacuation, one row per warning 转移避险",
    "evacuation_curve.csv": "people sheltered over time 转移避险",
    "manifest.json": "what was run, with which inputs 运行清单",
}

#: Captions of the figures a run may draw (English 中文).
_CAPTIONS: dict[str, str] = {
    "response_times.png": "Response times 响应时间",
    "modes_over_time.png": "Grids by mode over time 各模式网格数",
    "map_within_5min.png": "5-minute share by grid 各网格五分钟到场率",
    "evacuation_curve.png": "Evacuation: people sheltered over time 转移避险",
    "evacuation_bottlenecks.png": "Evacuation bottlenecks 转移避险",
}

_CSS = """.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.5em .8em;min-width:12em;background:#fafafa}
.card .v{font-size:1.5em;font-weight:600}.card .l{font-size:.85em;color:#444}
iframe.map{width:100%;height:640px;border:1px solid #ccc}
.meta{color:#555}
"""


def _headlines(summary: dict[str, Any], labels: Sequence[tuple[str, str, str]]) -> str:
    """One card per metric of ``labels`` (key, bilingual label, format) the summary has."""
    cards = []
    for key, label, fmt in labels:
        if key not in summary:
            continue
        v = summary[key]
        try:
            text = "n/a 无" if v is None else fmt.format(v)
        except (TypeError, ValueError):
            text = str(v)
        cards.append(f'<div class="card" data-key="{html.escape(key)}"><div class="v">'
                     f'{html.escape(text)}</div><div class="l">{html.escape(label)}</div></div>')
    return '<div class="cards">' + "".join(cards) + "</div>"


def _figures(folder: Path, names: Sequence[str]) -> str:
    parts = []
    for name in names:
        path = folder / name
        if not path.is_file():
            continue
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        cap = html.escape(_CAPTIONS.get(name, name))
        parts.append(f'<figure><img alt="{cap}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{cap} · <code>{html.escape(name)}</code></figcaption>"
                     "</figure>")
    return "\n".join(parts) if parts else "<p>no figure 无图</p>"


def _files(folder: Path, extra: Sequence[str]) -> str:
    """The table of the run's data files (those present, and ``extra``: written after)."""
    names = [n for n in _FILES if (folder / n).is_file() or n in extra]
    rows = "".join(f'<tr><td><a href="{html.escape(n)}"><code>{html.escape(n)}</code></a></td>'
                   f"<td>{html.escape(_FILES[n])}</td></tr>" for n in names)
    return ("<table><tr><th>file 文件</th><th>what it holds 内容</th></tr>" + rows + "</table>")


def render_report(summary: dict[str, Any], folder: Path, *,
                  labels: Sequence[tuple[str, str, str]], figures: Sequence[str],
                  with_map: bool) -> str:
    """The whole ``report.html`` page of the run in ``folder`` (its figures read from there)."""
    head = (f"scenario 场景 <b>{html.escape(str(summary.get('scenario')))}</b> · hazard 灾害 "
            f"<b>{html.escape(str(summary.get('hazard')))}</b> · response "
            f"<b>{html.escape(str(summary.get('response')))}</b> · seed "
            f"<b>{html.escape(str(summary.get('seed')))}</b> · "
            f"{html.escape(str(summary.get('duration_h')))} h · "
            f"{summary.get('grids', 0):,} grids 网格")
    body = [f"<h1>gridsim run 运行报告</h1><p class=\"meta\">{head}</p>",
            "<h2>Headline numbers 主要指标</h2>", _headlines(summary, labels),
            "<h2>Figures 图</h2>", _figures(folder, figures)]
    if with_map:
        body += ["<h2>Map 网格地图</h2>",
                 f'<p><a href="{MAP_FILE}">open the map on its own 全图</a></p>',
                 f'<iframe class="map" src="{MAP_FILE}" title="map"></iframe>']
    body += ["<h2>Files 文件</h2><p>in this run folder, beside this page 本运行目录</p>",
             _files(folder, ("summary.json", "manifest.json"))]
    # the page's skeleton loads the font module, which imports matplotlib: only when a report
    # is written (a run without figures imports no matplotlib)
    from gridsim.output.html import page

    title = f"gridsim run · {summary.get('scenario')} · {summary.get('hazard')}"
    return page(title, "\n".join(body), css=_CSS)


def write_run_pages(result: RunResult, folder: Path, summary: dict[str, Any],
                    labels: Sequence[tuple[str, str, str]]) -> list[Path]:
    """Write what this module adds to a run folder: ``grid_modes.csv`` (every run, from the
    switch's record of the mode changes) and, when the run draws figures, ``map.html`` and
    ``report.html``. Called by the run's writer after the other files, before
    ``summary.json``; ``labels`` are the terminal summary's metrics (key, bilingual label,
    format)."""
    folder = Path(folder)
    out: list[Path] = [write_grid_modes(result, folder)]
    if not result.settings.output.figures:
        return out
    # from the run in memory: the same grids, values and polygons as grids.csv and
    # grids.geojson (tests/test_webmap.py), without reading a city's 13 MB of GeoJSON back
    data = map_from_result(result)
    title = f"gridsim map 网格地图 · {summary.get('scenario')} · {summary.get('hazard')}"
    out.append(write_map(data, folder / MAP_FILE, title=title))
    text = render_report(summary, folder, labels=labels, figures=(*FIGURES, *EVACUATION_FIGURES),
                         with_map=True)
    out.append(write_atomic(folder / REPORT_FILE, text))
    return out
