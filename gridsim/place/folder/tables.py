"""Tables of a scenario folder: CSV files and GeoJSON point layers, read column by column with
one problem line per bad cell (file, row or feature, column, what was expected)."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.place.folder.errors import Problems, feature, row
from gridsim.place.folder.spec import Spec, parse_crs

__all__ = ["Table", "read_geojson", "read_table", "to_float", "to_int"]

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def to_int(v: Any) -> int | None:
    """An integer from a cell (``3``, ``"3"``, ``3.0``, ``"3.0"``), else ``None``."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if math.isfinite(v) and v.is_integer() else None
    if isinstance(v, str):
        t = v.strip()
        try:
            return int(t)
        except ValueError:
            f = to_float(t)
            return int(f) if f is not None and f.is_integer() else None
    return None


def to_float(v: Any) -> float | None:
    """A finite number from a cell, else ``None``."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        f = float(v)
    elif isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def _key(v: Any) -> Any:
    """A hashable key of a cell for look-ups."""
    if isinstance(v, str):
        return v.strip().lower()
    if v is None or isinstance(v, bool | int | float):
        return v
    return repr(v)


def _show(v: Any) -> str:
    return "an empty cell" if _empty(v) else repr(v)


@dataclass
class Table:
    """Rows of a CSV file or of a GeoJSON point layer, as columns.

    ``where[i]`` says where row ``i`` is (``row 5``: line 5 of the CSV file; ``feature 3``: the
    GeoJSON feature at index 3). ``point`` holds GeoJSON point coordinates (file CRS)."""

    file: str
    columns: dict[str, list[Any]]
    where: list[str]
    problems: Problems
    point: tuple[np.ndarray, np.ndarray] | None = None
    file_crs: Any = None
    ident: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.where)

    def at(self, i: int) -> str:
        return self.where[i] + (f" ({self.ident[i]})" if self.ident and self.ident[i] else "")

    def has(self, col: str) -> bool:
        return col in self.columns

    def bad(self, i: int, col: str, expected: str, got: Any) -> None:
        self.problems.add(self.file, self.at(i), col, f"expected {expected}, got {_show(got)}")

    def _column(self, col: str, required: bool) -> list[Any] | None:
        if col in self.columns:
            return self.columns[col]
        if required:
            cols = ", ".join(self.columns) or "none"
            self.problems.add(self.file, "", col, f"expected a column {col!r}, got columns {cols}")
        return None

    def ints(self, col: str, *, required: bool = True, default: int = 0,
             lo: int | None = None, hi: int | None = None, what: str = "an integer"
             ) -> np.ndarray:
        """Column ``col`` as int64 (``default`` where the column is absent or, if not required,
        a cell is empty)."""
        vals = self._column(col, required)
        out = np.full(self.n, default, dtype=np.int64)
        if vals is None:
            return out
        if vals and all(isinstance(v, str) for v in vals):  # the fast path of large CSV files
            try:
                out = np.array(vals).astype(np.int64)
                if (lo is None or out.min() >= lo) and (hi is None or out.max() <= hi):
                    return out
            except (ValueError, OverflowError):
                out = np.full(self.n, default, dtype=np.int64)
        rng = _range_text(lo, hi, "{}..{}", "")
        for i, v in enumerate(vals):
            if _empty(v) and not required:
                continue
            k = to_int(v)
            if k is None or (lo is not None and k < lo) or (hi is not None and k > hi):
                self.bad(i, col, what + rng, v)
            else:
                out[i] = k
        return out

    def floats(self, col: str, *, required: bool = True, default: float = math.nan,
               lo: float | None = None, hi: float | None = None, what: str = "a number"
               ) -> np.ndarray:
        """Column ``col`` as float64 (parsed exactly: a number written with ``repr`` comes back
        bit for bit)."""
        vals = self._column(col, required)
        out = np.full(self.n, default, dtype=np.float64)
        if vals is None:
            return out
        if vals and all(isinstance(v, str) for v in vals):
            try:
                out = np.array(vals).astype(np.float64)
                if (np.isfinite(out).all() and (lo is None or out.min() >= lo)
                        and (hi is None or out.max() <= hi)):
                    return out
            except ValueError:
                out = np.full(self.n, default, dtype=np.float64)
        rng = _range_text(lo, hi, "[{}, {}]", "g")
        for i, v in enumerate(vals):
            if _empty(v) and not required:
                continue
            f = to_float(v)
            if f is None or (lo is not None and f < lo) or (hi is not None and f > hi):
                self.bad(i, col, what + rng, v)
                out[i] = default
            else:
                out[i] = f
        return out

    def strs(self, col: str, *, required: bool = True, default: str = "") -> list[str]:
        """Column ``col`` as stripped strings (numbers become their text)."""
        vals = self._column(col, required)
        if vals is None:
            return [default] * self.n
        out = []
        for i, v in enumerate(vals):
            if _empty(v):
                if required:
                    self.bad(i, col, "a value", v)
                out.append(default)
            elif isinstance(v, str | int | float) and not isinstance(v, bool):
                out.append(v.strip() if isinstance(v, str) else str(v))
            else:
                self.bad(i, col, "a text or a number", v)
                out.append(default)
        return out

    def bools(self, col: str, *, default: bool = False) -> np.ndarray:
        vals = self._column(col, False)
        out = np.full(self.n, default, dtype=bool)
        if vals is None:
            return out
        uniq = {_key(v) for v in vals}
        table: dict[Any, bool] = {}
        for u in uniq:
            if isinstance(u, bool):
                table[u] = u
            elif u in _TRUE or u == 1:
                table[u] = True
            elif u in _FALSE or u == 0 or u is None:
                table[u] = False if u not in ("", None) else default
        for i, v in enumerate(vals):
            key = _key(v)
            if key in table:
                out[i] = table[key]
            else:
                self.bad(i, col, "true or false (also 1/0, yes/no)", v)
        return out

    def points(self, spec: Spec, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions in the scenario CRS, ``(x_m, y_m, ok)``: a GeoJSON point, or the columns
        ``x, y`` (in ``input_crs.<key>``, by default the scenario CRS) or ``lon, lat``
        (EPSG:4326)."""
        from pyproj import CRS  # start-up time: pyproj only for scenario folders

        if self.point is not None:
            x, y = self.point
            src = spec.input_crs.get(key) or self.file_crs or CRS.from_epsg(4326)
            ok = np.isfinite(x) & np.isfinite(y)
        elif self.has("x") or self.has("y"):
            x = self.floats("x")
            y = self.floats("y")
            src = spec.input_crs.get(key) or spec.crs
            ok = np.isfinite(x) & np.isfinite(y)
        elif self.has("lon") or self.has("lat"):
            x = self.floats("lon", lo=-180, hi=180)
            y = self.floats("lat", lo=-90, hi=90)
            src = CRS.from_epsg(4326)
            ok = np.isfinite(x) & np.isfinite(y)
        else:
            self.problems.add(self.file, "", "x, y", "expected columns x and y (or lon and lat) "
                              f"giving the position, got columns {', '.join(self.columns)}")
            z = np.zeros(self.n)
            return z, z.copy(), np.zeros(self.n, dtype=bool)
        if self.point is not None and src.is_geographic:
            for i in np.flatnonzero(ok & ((np.abs(x) > 180) | (np.abs(y) > 90))):
                self.bad(int(i), "geometry", f"lon/lat in degrees ({src.name}); set input_crs."
                         f"{key} in scenario.yaml if the file is in metres", (x[i], y[i]))
                ok[i] = False
        tr = spec.transform(src)
        if tr is not None and ok.any():
            px, py = tr(x[ok], y[ok])
            x, y = x.astype(float).copy(), y.astype(float).copy()
            x[ok], y[ok] = px, py
            ok &= np.isfinite(x) & np.isfinite(y)
        return x, y, ok


class _Members(dict):  # type: ignore[type-arg]
    """A JSON object as read, with the names it gives more than once and all their values."""

    repeated: dict[str, list[Any]]


def _members(pairs: list[tuple[str, Any]]) -> _Members:
    """``json``'s object_pairs_hook: the object, remembering repeated names (JSON allows them,
    and a plain dict would keep the last value without a word)."""
    obj = _Members(pairs)
    obj.repeated = {}
    if len(obj) < len(pairs):
        for k, v in pairs:
            obj.repeated.setdefault(k, []).append(v)
        obj.repeated = {k: vs for k, vs in obj.repeated.items() if len(vs) > 1}
    return obj


def _repeated_names(data: Any, label: str, problems: Problems) -> None:
    """A problem for each name a feature's properties (or the feature, or the collection)
    give more than once."""
    def report(obj: Any, where: str, what: str) -> None:
        for name, values in (getattr(obj, "repeated", None) or {}).items():
            shown = ", ".join(json.dumps(v, ensure_ascii=False)[:40] for v in values)
            problems.add(label, where, name, f"expected each {what} name once, got {name!r} "
                         f"{len(values)} times (values {shown})")

    report(data, "", "member")
    for i, ft in enumerate(data.get("features") or [] if isinstance(data, dict) else []):
        if not isinstance(ft, dict):
            continue
        props = ft.get("properties")
        report(ft, feature(i), "member")
        report(props, feature(i, props.get("id") if isinstance(props, dict) else None),
               "property")


def read_geojson(path: Path, label: str, problems: Problems
                 ) -> tuple[list[Any], Any] | None:
    """The features of a GeoJSON FeatureCollection and the CRS its ``crs`` member names (the
    older GeoJSON 2008 form that GDAL writes), or ``None`` after reporting why not. A name
    given twice in one object (a property of a feature, say) is a problem: it would be
    ambiguous which value holds."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"), object_pairs_hook=_members)
    except UnicodeDecodeError as exc:
        problems.add(label, "", "encoding", f"expected UTF-8 text, got {exc.reason} at byte "
                     f"{exc.start}")
        return None
    except json.JSONDecodeError as exc:
        problems.add(label, "", "syntax", f"expected GeoJSON, got {exc.msg} at line {exc.lineno} "
                     f"column {exc.colno}")
        return None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        got = data.get("type") if isinstance(data, dict) else type(data).__name__
        problems.add(label, "", "type", f"expected a FeatureCollection with a list of features, "
                     f"got {got!r}")
        return None
    n_before = problems.count
    _repeated_names(data, label, problems)
    if problems.count > n_before:
        return None
    file_crs = None
    crs = data.get("crs")
    if crs is not None:
        name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
        file_crs, why = parse_crs(name)
        if file_crs is None:
            problems.add(label, "", "crs", f"expected a named coordinate system, got {crs!r} "
                         f"({why})")
            return None
    return data["features"], file_crs


def read_table(path: Path, label: str, problems: Problems) -> Table | None:
    """A CSV file (UTF-8, comma separated, a header row) or a GeoJSON point layer."""
    if path.name.lower().endswith((".geojson", ".json")):
        got = read_geojson(path, label, problems)
        if got is None:
            return None
        feats, file_crs = got
        cols: dict[str, list[Any]] = {}
        where: list[str] = []
        xs: list[float] = []
        ys: list[float] = []
        props_list = []
        for i, ft in enumerate(feats):
            geom = ft.get("geometry") if isinstance(ft, dict) else None
            props = ft.get("properties") if isinstance(ft, dict) else None
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            if not isinstance(geom, dict) or geom.get("type") != "Point" \
                    or not isinstance(coords, list) or len(coords) < 2 \
                    or to_float(coords[0]) is None or to_float(coords[1]) is None:
                what = geom.get("type") if isinstance(geom, dict) else geom
                problems.add(label, feature(i), "geometry",
                             f"expected a Point with two numbers, got {what!r}")
                continue
            props_list.append(props if isinstance(props, dict) else {})
            where.append(feature(i))
            xs.append(float(coords[0]))
            ys.append(float(coords[1]))
        for props in props_list:
            for k in props:
                cols.setdefault(str(k), [])
        for k in cols:
            cols[k] = [p.get(k) for p in props_list]
        return Table(file=label, columns=cols, where=where, problems=problems,
                     point=(np.array(xs, dtype=float), np.array(ys, dtype=float)),
                     file_crs=file_crs)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                problems.add(label, "", "header", "expected a header row, got an empty file")
                return None
            header = [h.strip() for h in header]
            dup = sorted({h for h in header if header.count(h) > 1})
            if dup:
                problems.add(label, "row 1", "header", f"expected each column once, got "
                             f"{', '.join(map(repr, dup))} repeated")
                return None
            rows: list[list[str]] = []
            where = []
            for cells in reader:
                if not cells or all(not c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    problems.add(label, row(reader.line_num), "cells",
                                 f"expected {len(header)} cells (as in the header), got "
                                 f"{len(cells)}")
                    continue
                rows.append(cells)
                where.append(row(reader.line_num))
    except UnicodeDecodeError as exc:
        problems.add(label, "", "encoding", f"expected UTF-8 text, got {exc.reason} at byte "
                     f"{exc.start}")
        return None
    except csv.Error as exc:
        problems.add(label, "", "syntax", f"expected CSV, got {exc}")
        return None
    columns = {h: [r[j] for r in rows] for j, h in enumerate(header)}
    return Table(file=label, columns=columns, where=where, problems=problems)


def _range_text(lo: float | None, hi: float | None, both: str, spec: str) -> str:
    """What a bounded column expects, for its problem lines: ``" in 0..5"``, ``" >= 0"``, ...
    (``both`` formats the two bounds, ``spec`` each number)."""
    if lo is None and hi is None:
        return ""
    if lo is not None and hi is not None:
        return " in " + both.format(format(lo, spec), format(hi, spec))
    return f" >= {lo:{spec}}" if lo is not None else f" <= {hi:{spec}}"
