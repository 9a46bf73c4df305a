"""``scenario.yaml``: what a scenario folder holds and in which coordinate system.

See ``docs/scenario_format.md`` for the format.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.place.folder.errors import Problems

__all__ = [
    "FILE_KEYS",
    "OPTIONAL_FILES",
    "SPEC_FILE",
    "Spec",
    "parse_crs",
    "read_spec",
]

SPEC_FILE = "scenario.yaml"

#: The files a scenario names, with the suffixes each may have.
FILE_KEYS: dict[str, tuple[str, ...]] = {
    "grids": (".geojson", ".json"),
    "roads": (".osm.pbf", ".pbf", ".osm", ".graphml"),
    "supply_points": (".csv",),
    "depots": (".csv", ".geojson", ".json"),
    "stations": (".csv", ".geojson", ".json"),
    "shelters": (".csv", ".geojson", ".json"),
    "rosters": (".csv",),
    "exposures": (".csv",),
}
REQUIRED_FILES = ("grids", "roads")
OPTIONAL_FILES = tuple(k for k in FILE_KEYS if k not in REQUIRED_FILES)
#: Settings of :class:`gridsim.model.params.ScenarioConfig` that ``generate:`` may give (used to
#: make the people, supplies and stations of files a scenario leaves out).
GENERATE_KEYS = ("seed", "people", "supplies", "departments", "exposure_per_kind")
OTHER_KEYS = ("name", "description", "crs", "input_crs", "max_snap_m", "neighbour_tolerance_m",
              "county", "counties", "townships", "road_speeds_kmh", "generate",
              "allow_outside_files", "checks")
#: The thresholds of the geometric checks (``checks:`` in scenario.yaml may change them;
#: :mod:`gridsim.place.folder.geometry`, docs/scenario_format.md "Geometric checks").
DEFAULT_CHECKS: dict[str, float] = {
    "road_far_km": 10.0,  # a road node farther than this from every grid centre
    "grid_isolated_km": 5.0,  # a grid whose nearest other grid centre is farther than ...
    "grid_isolated_factor": 10.0,  # ... this, and this × the median spacing, and its size
}
DEFAULT_MAX_SNAP_M = 500.0
DEFAULT_NEIGHBOUR_TOLERANCE_M = 1.0

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def parse_crs(value: object) -> tuple[Any, str]:
    """``(pyproj.CRS, "")`` or ``(None, reason)``."""
    from pyproj import CRS  # start-up time: pyproj only for scenario folders
    from pyproj.exceptions import CRSError  # start-up time: pyproj only for scenario folders

    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        return None, "not a coordinate system name"
    try:
        return CRS.from_user_input(value), ""
    except CRSError as exc:
        return None, f"unknown coordinate system: {str(exc).splitlines()[0]}"


def _is_metres(crs: Any) -> bool:
    units = {a.unit_name.lower() for a in crs.axis_info}
    return bool(units) and units <= {"metre", "meter", "m"}


@dataclass(frozen=True)
class Spec:
    """A parsed ``scenario.yaml``."""

    folder: Path
    name: str
    crs: Any  # pyproj.CRS, projected, metres
    crs_text: str
    files: dict[str, Path]
    input_crs: dict[str, Any]  # file key -> pyproj.CRS given in scenario.yaml
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    neighbour_tolerance_m: float = DEFAULT_NEIGHBOUR_TOLERANCE_M
    county: str = ""
    counties: tuple[str, ...] | None = None
    townships: tuple[str, ...] | None = None
    road_speeds_kmh: dict[str, float] = field(default_factory=dict)
    generate: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CHECKS))

    def label(self, key: str) -> str:
        """The file name used in messages (relative to the folder)."""
        p = self.files[key]
        try:
            return p.relative_to(self.folder).as_posix()
        except ValueError:
            return str(p)

    def transform(self, src: Any) -> Transform | None:
        """The transformation from ``src`` to the scenario CRS (``None`` when they are equal, so
        that coordinates already in the scenario CRS keep every bit)."""
        if src is None or src == self.crs:
            return None
        from pyproj import Transformer  # start-up time: pyproj only for scenario folders

        tr = Transformer.from_crs(src, self.crs, always_xy=True)

        def apply(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            ox, oy = tr.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
            return np.asarray(ox, dtype=float), np.asarray(oy, dtype=float)

        return apply


def read_spec(folder: Path, problems: Problems) -> Spec | None:
    """Parse ``folder/scenario.yaml``; every problem goes to ``problems`` (``None`` if the folder
    cannot be read at all)."""
    import yaml  # start-up time: YAML only when a file is read or written

    folder = Path(folder)
    path = folder / SPEC_FILE
    if not folder.is_dir():
        problems.add(str(folder), "", "folder", "expected a scenario folder, got no such folder")
        return None
    if not path.is_file():
        problems.add(SPEC_FILE, "", "file", f"expected {path}, got no such file")
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.add(SPEC_FILE, "", "syntax", f"expected YAML, got {' '.join(str(exc).split())}")
        return None
    if not isinstance(data, dict):
        problems.add(SPEC_FILE, "", "document", f"expected a mapping of keys, got {data!r}")
        return None
    f = SPEC_FILE
    for k in data:
        if k not in FILE_KEYS and k not in OTHER_KEYS:
            problems.add(f, "", str(k), "unknown key; expected one of "
                         + ", ".join((*FILE_KEYS, *OTHER_KEYS)))
    ok = True  # False: the rest of the folder cannot be read (no CRS, no grids or roads)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(f, "", "name", f"expected the scenario's name, got {name!r}")
        name = folder.name
    crs, why = parse_crs(data.get("crs"))
    crs_text = str(data.get("crs", ""))
    if crs is None:
        problems.add(f, "", "crs", "expected a projected coordinate system in metres "
                     f"(e.g. EPSG:32648), got {data.get('crs')!r} ({why})")
        ok = False
    elif not crs.is_projected or not _is_metres(crs):
        kind = "a geographic (lon/lat) one" if crs.is_geographic else "one not in metres"
        problems.add(f, "", "crs", "expected a projected coordinate system in metres "
                     f"(e.g. EPSG:32648), got {crs_text!r}, {kind}")
        ok = False
    allow_outside = data.get("allow_outside_files", False)
    if not isinstance(allow_outside, bool):
        problems.add(f, "", "allow_outside_files", f"expected true or false, got {allow_outside!r}")
        allow_outside = False
    inside = folder.resolve()
    files: dict[str, Path] = {}
    for key, suffixes in FILE_KEYS.items():
        v = data.get(key)
        if v is None:
            if key in REQUIRED_FILES:
                problems.add(f, "", key, "expected the name of a file in the scenario folder, "
                             "got nothing")
                ok = False
            continue
        if not isinstance(v, str) or not v.strip():
            problems.add(f, "", key, f"expected a file name, got {v!r}")
            ok = ok and key not in REQUIRED_FILES
            continue
        p = folder / v
        if not p.resolve().is_relative_to(inside):  # "../x", "/elsewhere/x", a link out
            if not allow_outside:
                problems.add(f, "", key, f"expected a file inside the scenario folder {folder}, "
                             f"got {v!r} (outside it: set allow_outside_files: true in "
                             f"{SPEC_FILE} to read it anyway)")
                ok = ok and key not in REQUIRED_FILES
                continue
            sys.stderr.write(f"gridsim: warning: {folder / SPEC_FILE}: {key}: reading {v!r}, "
                             "outside the scenario folder (allow_outside_files: true)\n")
        if not p.name.lower().endswith(suffixes):
            problems.add(f, "", key, f"expected a file ending in {' or '.join(suffixes)}, "
                         f"got {v!r}")
            ok = ok and key not in REQUIRED_FILES
        elif not p.is_file():
            problems.add(f, "", key, f"expected an existing file in {folder}, got {v!r}")
            ok = ok and key not in REQUIRED_FILES
        else:
            files[key] = p
    input_crs: dict[str, Any] = {}
    raw_in = data.get("input_crs") or {}
    if not isinstance(raw_in, dict):
        problems.add(f, "", "input_crs", f"expected a mapping file key -> CRS, got {raw_in!r}")
        raw_in = {}
    for key, v in raw_in.items():
        if key not in FILE_KEYS:
            problems.add(f, "", f"input_crs.{key}",
                         f"unknown file key; expected one of {', '.join(FILE_KEYS)}")
            continue
        c, why = parse_crs(v)
        if c is None:
            problems.add(f, "", f"input_crs.{key}", "expected a coordinate system "
                         f"(e.g. EPSG:4326), got {v!r} ({why})")
            files.pop(key, None)  # its coordinates cannot be read
            ok = ok and key not in REQUIRED_FILES
        else:
            input_crs[key] = c
    nums: dict[str, float] = {}
    for key, default, lo_open in (("max_snap_m", DEFAULT_MAX_SNAP_M, True),
                                  ("neighbour_tolerance_m", DEFAULT_NEIGHBOUR_TOLERANCE_M, False)):
        v = data.get(key, default)
        good = (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                and (v > 0 if lo_open else v >= 0))
        if not good:
            problems.add(f, "", key, f"expected a number of metres {'>' if lo_open else '>='} 0, "
                         f"got {v!r}")
        nums[key] = float(v) if good else default
    county = data.get("county", name if isinstance(name, str) else "")
    if not isinstance(county, str | int) or isinstance(county, bool):
        problems.add(f, "", "county", f"expected the county's name, got {county!r}")
        county = ""
    lists: dict[str, tuple[str, ...] | None] = {}
    for key in ("counties", "townships"):
        v = data.get(key)
        if v is None:
            lists[key] = None
            continue
        if not isinstance(v, list) or not all(isinstance(x, str | int) for x in v):
            problems.add(f, "", key, f"expected a list of names (ids in order), got {v!r}")
            lists[key] = None
            continue
        names = tuple(str(x) for x in v)
        dup = sorted({x for x in names if names.count(x) > 1})
        if dup:
            problems.add(f, "", key, f"expected each name once, got {', '.join(dup)} repeated")
        lists[key] = names
    speeds = data.get("road_speeds_kmh") or {}
    if not isinstance(speeds, dict):
        problems.add(f, "", "road_speeds_kmh", f"expected a mapping road class -> km/h, "
                     f"got {speeds!r}")
        speeds = {}
    good_speeds: dict[str, float] = {}
    for k, v in speeds.items():
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0:
            good_speeds[str(k)] = float(v)
        else:
            problems.add(f, "", f"road_speeds_kmh.{k}", f"expected km/h > 0, got {v!r}")
    generate = data.get("generate") or {}
    if not isinstance(generate, dict):
        problems.add(f, "", "generate", f"expected a mapping, got {generate!r}")
        generate = {}
    for k in generate:
        if k not in GENERATE_KEYS:
            problems.add(f, "", f"generate.{k}",
                         f"unknown key; expected one of {', '.join(GENERATE_KEYS)}")
    checks = dict(DEFAULT_CHECKS)
    raw_checks = data.get("checks") or {}
    if not isinstance(raw_checks, dict):
        problems.add(f, "", "checks", f"expected a mapping check -> threshold, got {raw_checks!r}")
        raw_checks = {}
    for k, v in raw_checks.items():
        if k not in DEFAULT_CHECKS:
            problems.add(f, "", f"checks.{k}",
                         f"unknown key; expected one of {', '.join(DEFAULT_CHECKS)}")
        elif (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
              and v > 0):
            checks[str(k)] = float(v)
        else:
            problems.add(f, "", f"checks.{k}", f"expected a number > 0, got {v!r}")
    if not ok:
        return None
    return Spec(folder=folder, name=str(name), crs=crs, crs_text=crs_text, files=files,
                input_crs=input_crs, max_snap_m=nums["max_snap_m"],
                neighbour_tolerance_m=nums["neighbour_tolerance_m"], county=str(county),
                counties=lists["counties"], townships=lists["townships"],
                road_speeds_kmh=good_speeds, generate=dict(generate), checks=checks)
