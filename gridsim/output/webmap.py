"""The offline interactive map of a run (交互式网格地图): ``map.html``, one self-contained page.

The page draws every grid on a ``<canvas>`` with gridsim's own small script
(``gridsim/output/webmap.js``, inline in the page: no CDN, no network, no library), coloured by
a metric chosen in a ``<select>`` (the per-grid columns of ``grids.csv``) or by the grid's mode
at the time of a slider (平时 peace, 预警 alert, 前线指挥部 forward command, 恢复 recovery:
:data:`gridsim.model.vocab.MODES`), with a legend. The mouse wheel zooms, a drag pans, a double
click shows the whole map again; hovering shows a grid's id and values, a click keeps them.

Geometry: the grid polygons of ``grids.geojson`` where the run folder has that file (RFC 7946,
lon/lat, drawn in a local equirectangular projection), squares of each grid's area around its
``x_m, y_m`` (local metres) otherwise. The modes over time come from ``grid_modes.csv`` (grid,
t_s, mode: one row per change, every grid in PEACE at 0), which :func:`write_grid_modes` writes
from the switch's record of the changes (every run, with or without the event log).

City scale: the data travel as base64 little-endian typed arrays (Float32 coordinates relative
to the map's centre, Float32 metric values, small integer codes for text columns and modes); the
script fills one path per colour, so a frame costs a few dozen fills whatever the grids.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gridsim.csvtext import csv_columns
from gridsim.fsutil import write_atomic
from gridsim.model.vocab import MODES, SUPPLY_ITEMS, ZH

if TYPE_CHECKING:
    from gridsim.engine.simulation import RunResult

__all__ = ["GRID_MODES_FILE", "MAP_FILE", "MODE_COLOURS", "MapData", "column_label",
           "map_from_result", "map_from_run", "mode_changes", "write_grid_modes", "write_map"]

#: The mode timeline of a run folder: one row per change of a grid's mode.
GRID_MODES_FILE = "grid_modes.csv"
#: The map page of a run folder.
MAP_FILE = "map.html"
#: Colours of the modes (as in the run's figures).
MODE_COLOURS: dict[str, str] = {"PEACE": "#c6dbef", "ALERT": "#fdae6b",
                                "FORWARD_COMMAND": "#d62728", "RECOVERY": "#74c476"}
_SCRIPT = Path(__file__).with_name("webmap.js")

#: Bilingual labels of the columns of grids.csv (English 中文).
_LABELS: dict[str, str] = {
    "grid": "grid 网格", "county": "county 区县", "township": "township 乡镇",
    "village": "village 村社区", "kind": "grid kind 网格类型", "area_km2": "area km² 面积",
    "population": "population 人口", "households": "households 户数",
    "vulnerable_share": "vulnerable share 脆弱人群比例", "responders": "responders 应急力量",
    "incidents": "incidents 事件", "responded": "incidents answered 已响应事件",
    "within_5min_share": "within 5 min 应急五分钟", "response_time_p50_s":
    "response p50 s 响应时间", "switch_episodes": "switch episodes 平急转换次数",
    "switch_latency_mean_s": "switch latency mean s 平急转换", "mode_at_end":
    "mode at the end 结束时模式", "open_hazards_end": "open hazards at the end 未处理隐患",
    **{f"stock_{it}_end": f"{it.replace('_', ' ')} stock at the end {ZH.get(it, '')}物资"
       for it in SUPPLY_ITEMS},
}
#: Columns of grids.csv that place a grid rather than describe it.
_PLACE = ("grid", "x_m", "y_m")
#: A text column with at most this many values can colour the map (a legend of categories).
_MAX_CATEGORIES = 12


def column_label(name: str) -> str:
    """The bilingual label of a per-grid column (the name itself for a column gridsim does not
    know: a user's own)."""
    return _LABELS.get(name, name)


@dataclass(frozen=True, eq=False)
class MapData:
    """What the map draws, in memory.

    ``grid`` holds the grid ids (one per grid, in the order of grids.csv); the outline of grid
    ``i`` is the rings ``ring_offsets[grid_rings[i]:grid_rings[i + 1]]`` of ``xy`` (vertices,
    ``x, y`` or ``lon, lat`` when ``lonlat``; a ring's vertex range is
    ``xy[ring_offsets[r]:ring_offsets[r + 1]]``). ``numeric`` are the per-grid numbers (NaN: no
    value), ``text`` the per-grid texts, each ``(column, values)`` in the order of grids.csv.
    ``changes`` is the mode timeline: ``(grid index, t_s, mode index of MODES)`` arrays in time
    order, every grid in PEACE at 0; ``None`` when the run kept none (``output.events_log``
    off). ``source`` names where the outlines come from."""

    grid: np.ndarray
    xy: np.ndarray
    ring_offsets: np.ndarray
    grid_rings: np.ndarray
    lonlat: bool
    numeric: tuple[tuple[str, np.ndarray], ...]
    text: tuple[tuple[str, tuple[str, ...]], ...]
    duration_s: float
    changes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    source: str = "grids.csv"
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return len(self.grid)


# ----------------------------------------------------------------------------------------------
# the mode timeline
# ----------------------------------------------------------------------------------------------
def mode_changes(result: RunResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grid, t_s, mode)`` of every change of a grid's mode in the run, in time order (the
    switch's record of them, :attr:`RunResult.mode_changes`: with or without the event log;
    the same changes, in the same order, as the log's ``mode_*`` rows)."""
    return result.mode_changes


def write_grid_modes(result: RunResult, folder: Path) -> Path:
    """Write :data:`GRID_MODES_FILE` (grid, t_s, mode) into ``folder`` (every run: the
    switch's record, :func:`mode_changes`)."""
    g, t, m = mode_changes(result)  # grid ids are the grids' indices (grids.csv's "grid")
    return write_atomic(folder / GRID_MODES_FILE,
                        csv_columns(("grid", "t_s", "mode"),
                                    [g.tolist(), t.tolist(), [MODES[i] for i in m.tolist()]]))


# ----------------------------------------------------------------------------------------------
# building the map's data
# ----------------------------------------------------------------------------------------------
def _squares(x: np.ndarray, y: np.ndarray, area_km2: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Squares of each grid's area around its centre: ``(xy, ring_offsets, grid_rings)``."""
    half = np.sqrt(np.maximum(np.nan_to_num(area_km2), 1e-6)) * 500.0
    n = len(x)
    dx = np.array([-1.0, 1.0, 1.0, -1.0])
    dy = np.array([-1.0, -1.0, 1.0, 1.0])
    xy = np.stack([(x[:, None] + dx * half[:, None]).ravel(),
                   (y[:, None] + dy * half[:, None]).ravel()], axis=1)
    return xy, np.arange(0, 4 * n + 1, 4, dtype=np.int64), np.arange(n + 1, dtype=np.int64)


def _columns(names: list[str], values: list[list[str]]) -> tuple[
        tuple[tuple[str, np.ndarray], ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """The per-grid columns (texts as read) split into numbers and texts."""
    numeric: list[tuple[str, np.ndarray]] = []
    text: list[tuple[str, tuple[str, ...]]] = []
    for name, col in zip(names, values, strict=True):
        if name in _PLACE:
            continue
        try:
            numeric.append((name, np.array([float(v) if v != "" else math.nan for v in col])))
        except ValueError:
            text.append((name, tuple(col)))
    return tuple(numeric), tuple(text)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and columns of a CSV file."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return [], []
    header, body = rows[0], rows[1:]
    cols = [list(c) for c in zip(*body, strict=True)] if body else [[] for _ in header]
    return header, cols


def _rings_of(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The rings of a GeoJSON Polygon or MultiPolygon (others: none)."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Polygon" and isinstance(coords, list):
        return list(coords)
    if kind == "MultiPolygon" and isinstance(coords, list):
        return [ring for poly in coords for ring in poly]
    return []


def _geojson_outlines(path: Path, ids: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Outlines of the grids from a run's ``grids.geojson`` (lon/lat), matched to ``ids`` by
    their ``grid`` property; None when the file does not hold a polygon for every grid."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        return None
    rings_by: dict[int, list[list[list[float]]]] = {}
    for f in feats:
        props = f.get("properties") if isinstance(f, dict) else None
        gid = props.get("grid") if isinstance(props, dict) else None
        rings = [r for r in _rings_of(f.get("geometry")) if len(r) >= 3]
        if isinstance(gid, int | float) and rings:
            rings_by.setdefault(int(gid), []).extend(rings)
    if any(int(g) not in rings_by for g in ids.tolist()):
        return None
    pts: list[list[float]] = []
    ring_off = [0]
    grid_rings = [0]
    for g in ids.tolist():
        for ring in rings_by[int(g)]:
            pts.extend([float(p[0]), float(p[1])] for p in ring)
            ring_off.append(len(pts))
        grid_rings.append(len(ring_off) - 1)
    return (np.array(pts, dtype=float).reshape(-1, 2), np.array(ring_off, dtype=np.int64),
            np.array(grid_rings, dtype=np.int64))


def _read_modes(path: Path, index: dict[int, int]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    header, cols = _read_csv(path)
    if header[:3] != ["grid", "t_s", "mode"]:
        return None
    code = {m: i for i, m in enumerate(MODES)}
    try:
        g = np.array([index[int(v)] for v in cols[0]], dtype=np.int64)
        t = np.array([float(v) for v in cols[1]], dtype=float)
        m = np.array([code[v] for v in cols[2]], dtype=np.int8)
    except (KeyError, ValueError):
        return None
    order = np.argsort(t, kind="stable")
    return g[order], t[order], m[order]


def map_from_run(folder: Path) -> MapData | None:
    """The map of a finished run folder: its ``grids.csv`` (values, and squares around
    ``x_m, y_m``), ``grids.geojson`` (polygons, when present), ``grid_modes.csv`` (the modes
    over time, when present) and ``summary.json`` (the duration). None when the folder has no
    ``grids.csv`` with ``grid``, ``x_m``, ``y_m`` and ``area_km2`` columns."""
    folder = Path(folder)
    path = folder / "grids.csv"
    if not path.is_file():
        return None
    header, cols = _read_csv(path)
    need = ("grid", "x_m", "y_m", "area_km2")
    if any(k not in header for k in need):
        return None
    col = dict(zip(header, cols, strict=True))
    try:
        ids = np.array([int(v) for v in col["grid"]], dtype=np.int64)
        x, y = (np.array([float(v) for v in col[k]]) for k in ("x_m", "y_m"))
        area = np.array([float(v) if v else math.nan for v in col["area_km2"]])
    except ValueError:
        return None
    numeric, text = _columns(header, cols)
    outlines = _geojson_outlines(folder / "grids.geojson", ids) \
        if (folder / "grids.geojson").is_file() else None
    lonlat = outlines is not None
    if outlines is None:
        outlines = _squares(x, y, area)
        source = "grids.csv (squares of each grid's area 按面积的方格)"
    else:
        source = "grids.geojson (grid polygons 网格边界)"
    index = {int(g): i for i, g in enumerate(ids.tolist())}
    changes = _read_modes(folder / GRID_MODES_FILE, index) \
        if (folder / GRID_MODES_FILE).is_file() else None
    duration = 0.0
    try:
        duration = float(json.loads((folder / "summary.json").read_text("utf-8"))["duration_h"]
                         ) * 3600.0
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if changes is not None and len(changes[1]):
        duration = max(duration, float(changes[1].max()))
    notes = () if changes is not None else (
        "no mode timeline in this run folder (grid_modes.csv: every run writes it; a folder of "
        "an older gridsim, or made by hand, may have none) 无模式时间线",)
    return MapData(grid=ids, xy=outlines[0], ring_offsets=outlines[1], grid_rings=outlines[2],
                   lonlat=lonlat, numeric=numeric, text=text, duration_s=duration,
                   changes=changes, source=source, notes=notes)


def map_from_result(result: RunResult) -> MapData:
    """The map of a run in memory: its per-grid table (the columns of grids.csv), the grids'
    polygons where the scenario has them (``Region.shapes``, in the scenario's metres), squares
    of each grid's area otherwise, and the modes over time (the switch's record)."""
    # the per-grid table's module imports the engine's results (kept out of map_from_run)
    from gridsim.output.metrics import GRID_FIELDS, grid_columns

    g = result.scenario.region.grids
    numeric, text = _result_columns(list(GRID_FIELDS), grid_columns(result))
    changes = mode_changes(result)
    shapes = getattr(result.scenario.region, "shapes", None)
    if shapes is not None and shapes.n_rings:
        xy = np.asarray(shapes.xy, dtype=float)
        ring_off = np.asarray(shapes.ring_ptr, dtype=np.int64)
        grid_rings = np.asarray(shapes.grid_ptr(g.n), dtype=np.int64)
        source = "the scenario's grid polygons 网格边界"
    else:
        xy, ring_off, grid_rings = _squares(np.asarray(g.x_m, float), np.asarray(g.y_m, float),
                                            np.asarray(g.area_km2, float))
        source = "squares of each grid's area 按面积的方格"
    return MapData(grid=np.arange(g.n, dtype=np.int64), xy=xy, ring_offsets=ring_off,
                   grid_rings=grid_rings, lonlat=False, numeric=numeric, text=text,
                   duration_s=float(result.duration_s), changes=changes, source=source)


def _cell(v: Any) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    return str(v)


def _result_columns(names: list[str], cols: list[list[Any] | range]) -> tuple[
        tuple[tuple[str, np.ndarray], ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """:func:`_columns` of the per-grid table in memory, as if each value had been written as
    text (:func:`_cell`) and read back. A column of only Python ints and floats goes straight
    to an array (``float(str(v)) == float(v)`` for both: ``str`` of a float round-trips, of an
    int is exact; a non-finite float reads back as NaN); any other column (texts, bools,
    None, numpy scalars) through the texts, as read from grids.csv. At city scale that is
    about 0.3 s less than a text per cell (345,000 cells)."""
    numeric: list[tuple[str, np.ndarray]] = []
    text: list[tuple[str, tuple[str, ...]]] = []
    for name, col in zip(names, cols, strict=True):
        if name in _PLACE:
            continue
        if set(map(type, col)) <= {int, float}:
            v = np.array(col, dtype=float)
            v[~np.isfinite(v)] = math.nan
            numeric.append((name, v))
            continue
        num, txt = _columns([name], [[c if isinstance(c, str) else _cell(c) for c in col]])
        numeric += num
        text += txt
    return tuple(numeric), tuple(text)


# ----------------------------------------------------------------------------------------------
# the page
# ----------------------------------------------------------------------------------------------
def _b64(a: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
                            .tobytes()).decode("ascii")


def _plane(data: MapData) -> np.ndarray:
    """The vertices in metres of a local plane, relative to the map's centre (lon/lat in an
    equirectangular projection at the mean latitude)."""
    xy = np.asarray(data.xy, dtype=float)
    if len(xy) == 0:
        return xy.reshape(0, 2)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    c = (lo + hi) / 2
    if data.lonlat:
        k = math.cos(math.radians(float(c[1])))
        return np.stack([(xy[:, 0] - c[0]) * 111_320.0 * k, (xy[:, 1] - c[1]) * 110_574.0],
                        axis=1)
    return xy - c


def _domain(name: str, v: np.ndarray) -> tuple[float, float, bool]:
    """Colour range of a numeric column: 0..1 for a share, else the 2nd to 98th percentile of
    its finite values (a few extreme grids do not wash out the rest); whether it is clipped."""
    fin = v[np.isfinite(v)]
    if name.endswith("_share") and (len(fin) == 0 or (fin.min() >= 0 and fin.max() <= 1)):
        return 0.0, 1.0, False
    if len(fin) == 0:
        return 0.0, 1.0, False
    lo, hi = float(np.quantile(fin, 0.02)), float(np.quantile(fin, 0.98))
    clipped = lo > float(fin.min()) or hi < float(fin.max())
    if hi <= lo:
        lo, hi, clipped = float(fin.min()), float(fin.max()), False
    return lo, hi, clipped


def _payload(data: MapData) -> dict[str, Any]:
    n = data.n
    metrics: list[dict[str, Any]] = []
    for name, v in data.numeric:
        v = np.asarray(v, dtype=float)
        lo, hi, clipped = _domain(name, v)
        metrics.append({"key": name, "label": column_label(name), "kind": "num",
                        "values": _b64(np.where(np.isfinite(v), v, np.nan), "f4"),
                        "lo": lo, "hi": hi, "clipped": clipped,
                        "share": name.endswith("_share"),
                        "int": bool(np.all(np.isnan(v) | (v == np.round(v))))})
    texts: list[dict[str, Any]] = []
    for name, vals in data.text:
        cats = sorted(set(vals))
        code = {c: i for i, c in enumerate(cats)}
        entry = {"key": name, "label": column_label(name), "cats": cats,
                 "codes": _b64(np.array([code[v] for v in vals], dtype=np.uint16), "u2")}
        texts.append(entry)
        if 1 < len(cats) <= _MAX_CATEGORIES:
            metrics.append({**entry, "kind": "cat",
                            "catLabels": [f"{c} {ZH[c]}" if c in ZH else c for c in cats]})
    modes = [{"name": m, "label": f"{m.lower().replace('_', ' ')} {ZH.get(m, '')}",
              "colour": MODE_COLOURS[m]} for m in MODES]
    ch = data.changes
    return {
        "n": n, "source": data.source, "notes": list(data.notes),
        "ids": _b64(data.grid, "i4"),
        "xy": _b64(_plane(data).ravel(), "f4"),
        "ringOffsets": _b64(data.ring_offsets, "u4"), "gridRings": _b64(data.grid_rings, "u4"),
        "metrics": metrics, "texts": texts, "modes": modes,
        "durationS": float(data.duration_s),
        "changes": None if ch is None else {"g": _b64(ch[0], "u4"), "t": _b64(ch[1], "f4"),
                                            "m": _b64(ch[2], "u1")},
    }


_CSS = """body{max-width:none;margin:0;padding:0}
#gm{display:flex;flex-direction:column;height:100vh;font-size:14px}
#gm-bar{display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center;padding:.4em .8em;
border-bottom:1px solid #ddd;background:#fafafa}
#gm-bar h1{font-size:16px;margin:0 .6em 0 0}
#gm-slider{width:22em}
#gm-wrap{position:relative;flex:1;min-height:300px;overflow:hidden}
#gm-canvas{position:absolute;left:0;top:0;width:100%;height:100%;cursor:grab;background:#fff}
#gm-legend{position:absolute;right:.6em;top:.6em;background:rgba(255,255,255,.92);
border:1px solid #ccc;padding:.4em .6em;font-size:12px;max-width:24em}
#gm-legend .sw{display:inline-block;width:1.1em;height:.9em;vertical-align:middle;
margin-right:.4em;border:1px solid #999}
#gm-legend .bar{height:.9em;border:1px solid #999;margin:.2em 0}
#gm-legend .ends{display:flex;justify-content:space-between}
#gm-tip,#gm-info{position:absolute;background:rgba(255,255,255,.95);border:1px solid #999;
padding:.3em .5em;font-size:12px;pointer-events:none;white-space:nowrap;display:none}
#gm-info{left:.6em;bottom:.6em;pointer-events:auto;max-height:60%;overflow:auto}
select,button,input{font-family:inherit}
#gm-foot{padding:.2em .8em;font-size:12px;color:#555;border-top:1px solid #ddd}
"""


def _body(title: str, payload: dict[str, Any], script: str) -> str:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return (
        '<div id="gm">\n<div id="gm-bar">'
        f"<h1>{html.escape(title)}</h1>"
        '<label>colour by 指标 <select id="gm-metric"></select></label>'
        '<label>time 时间 <input id="gm-slider" type="range" min="0" max="1000" value="0">'
        '</label><button id="gm-play" type="button">▶</button>'
        '<span id="gm-time"></span></div>\n'
        '<div id="gm-wrap"><canvas id="gm-canvas"></canvas><div id="gm-legend"></div>'
        '<div id="gm-tip"></div><div id="gm-info"></div></div>\n'
        '<div id="gm-foot"><span id="gm-source"></span> · wheel: zoom 放大 · drag: pan 平移 · '
        "double click: whole map 全图 · click a grid: keep its values 点选网格</div></div>\n"
        f'<script type="application/json" id="gridsim-map-data">{data}</script>\n'
        f"<script>\n{script}\n</script>")


def write_map(data: MapData, path: Path, *, title: str) -> Path:
    """Write the interactive map of ``data`` as a whole HTML page at ``path`` (atomically)."""
    # the page's skeleton loads the font module, which imports matplotlib: only when a page is
    # written (a run without figures writes grid_modes.csv and imports no matplotlib)
    from gridsim.output.html import page

    script = _SCRIPT.read_text(encoding="utf-8")
    text = page(title, _body(title, _payload(data), script), css=_CSS, lang="en")
    return write_atomic(Path(path), text)


def page_size(data: MapData, title: str = "map") -> int:
    """The size in bytes of the page :func:`write_map` writes for ``data`` (benchmarks)."""
    from gridsim.output.html import page  # matplotlib with the font (see write_map)

    buf = io.StringIO()
    buf.write(page(title, _body(title, _payload(data), _SCRIPT.read_text("utf-8")), css=_CSS))
    return len(buf.getvalue().encode("utf-8"))
