"""Loading a scenario folder: every file read and checked, all problems reported at once, and
nothing returned unless everything is valid."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import spatial

from gridsim.model.params import scenario_presets
from gridsim.model.people import ALL_CATEGORIES, Roster, category_bit, role_bit
from gridsim.model.region import Region
from gridsim.model.streams import Streams
from gridsim.model.supplies import SupplyPoints
from gridsim.model.vocab import CATEGORIES, DEPARTMENTS, ROLES, SUPPLY_ITEMS
from gridsim.place import synthetic as syn
from gridsim.place.folder.errors import Problems, ScenarioDataError
from gridsim.place.folder.geometry import check_geometry
from gridsim.place.folder.grids import (
    AREA_ABS_TOLERANCE_KM2,
    AREA_TOLERANCE,
    EXPOSURE_COLUMNS,
    GridData,
    exposure_columns,
    load_grids,
)
from gridsim.place.folder.roads import Network, assemble, read_roads
from gridsim.place.folder.spec import (
    FILE_KEYS,
    GENERATE_KEYS,
    OPTIONAL_FILES,
    SPEC_FILE,
    Spec,
    read_spec,
)
from gridsim.place.folder.tables import Table, read_table
from gridsim.place.roads import RoadNetwork
from gridsim.place.shelters import Shelters

if TYPE_CHECKING:
    from gridsim.model.params import ScenarioConfig

__all__ = [
    "Loaded",
    "Parts",
    "Shelters",
    "folder_files",
    "generate_block",
    "generated_parts",
    "load_folder",
    "load_parts",
    "registry_node",
    "spec_errors",
    "validate_folder",
]

StationArrays = tuple[np.ndarray, np.ndarray, np.ndarray]
Parts = tuple[Region, RoadNetwork, Roster, SupplyPoints, StationArrays]


@dataclass(frozen=True)
class Loaded:
    """Everything a scenario folder holds: the parts a simulation needs, and the shelters."""

    parts: Parts
    shelters: Shelters


def _positions(t: Table, spec: Spec, key: str, grids: GridData | None, net: Network | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position and grid of each facility row: the ``grid`` column where given, else the grid
    whose centre is nearest (a row with a grid and no position stands at the grid's centre).
    Rows farther than ``max_snap_m`` from a road are errors. Without ``grids`` (they have
    problems) only the cells are checked."""
    g = grids.region.grids if grids is not None else None
    grid = t.ints("grid", required=False, default=-1, lo=0, hi=g.n - 1 if g else None,
                  what="a grid id")
    if t.point is None and t.has("grid") and not any(t.has(c) for c in ("x", "y", "lon", "lat")):
        if g is None:
            return np.zeros(t.n), np.zeros(t.n), grid
        safe = np.where(grid >= 0, grid, 0)
        x, y, ok = g.x_m[safe], g.y_m[safe], grid >= 0  # at the grid's centre
        where_field = "grid"
    else:
        x, y, ok = t.points(spec, key)
        where_field = "x, y" if t.point is None else "geometry"
    if g is not None and ok.any() and where_field != "grid":
        _, near = spatial.cKDTree(np.column_stack([g.x_m, g.y_m])).query(
            np.column_stack([x[ok], y[ok]]))
        grid[ok & (grid < 0)] = np.asarray(near, dtype=np.int64)[(grid < 0)[ok]]
    if net is not None and ok.any():
        d = np.full(t.n, 0.0)
        d[ok] = net.distance_m(x[ok], y[ok])
        for i in np.flatnonzero(d > spec.max_snap_m).tolist():
            t.problems.add(t.file, t.at(i), where_field,
                           f"expected a position within max_snap_m = {spec.max_snap_m:g} m "
                           f"({SPEC_FILE}) of a road, got the nearest road {d[i]:.0f} m away"
                           + (" (at the centre of its grid)" if where_field == "grid" else ""))
    return x, y, grid


def _stock(t: Table) -> np.ndarray:
    return np.column_stack([t.ints(item, lo=0, what="a count") for item in SUPPLY_ITEMS]
                           ).astype(np.int64).reshape(t.n, len(SUPPLY_ITEMS))


def _supply_points(t: Table, grids: GridData | None) -> np.ndarray | None:
    n = grids.n if grids is not None else None
    grid = t.ints("grid", lo=0, hi=n - 1 if n else None, what="a grid id")
    t.ident = [f"grid {v}" for v in grid.tolist()]
    stock = _stock(t)
    if n is None:
        return None
    seen: dict[int, int] = {}
    out = np.zeros((n, len(SUPPLY_ITEMS)), dtype=np.int64)
    for i, gid in enumerate(grid.tolist()):
        if gid in seen and 0 <= gid < n:
            t.bad(i, "grid", f"one row per grid (grid {gid} is also {t.where[seen[gid]]})", gid)
        seen.setdefault(gid, i)
        if 0 <= gid < n:
            out[gid] = stock[i]
    return out


def _township_ids(t: Table, grids: GridData | None) -> np.ndarray:
    vals = t.strs("township")
    out = np.full(t.n, -1, dtype=np.int64)
    if grids is None:
        return out
    names = grids.region.hierarchy.township_names
    by_name = {nm: i for i, nm in enumerate(names)}
    for i, v in enumerate(vals):
        if v in by_name:
            out[i] = by_name[v]
        elif v.isdigit() and int(v) < len(names):
            out[i] = int(v)
        elif v:
            t.bad(i, "township", f"a township of {len(names)} in the grids (a name such as "
                  f"{names[0]!r}, or an id 0..{len(names) - 1})", v)
    return out


def _depots(t: Table, spec: Spec, grids: GridData | None, net: Network | None
            ) -> tuple[np.ndarray, np.ndarray] | None:
    town = _township_ids(t, grids)
    names = grids.region.hierarchy.township_names if grids is not None else ()
    t.ident = [f"township {names[v]}" if v >= 0 else "" for v in town.tolist()]
    _, _, grid = _positions(t, spec, "depots", grids, net)
    stock = _stock(t)
    if grids is None:
        return None
    h = grids.region.hierarchy
    depot_stock = np.zeros((h.n_townships, len(SUPPLY_ITEMS)), dtype=np.int64)
    depot_grid = np.full(h.n_townships, -1, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, k in enumerate(town.tolist()):
        if k < 0:
            continue
        if k in seen:
            t.bad(i, "township", f"one depot per township ({h.township_names[k]!r} has one in "
                  f"{t.where[seen[k]]})", h.township_names[k])
            continue
        seen[k] = i
        depot_stock[k] = stock[i]
        depot_grid[k] = grid[i]
    missing = [h.township_names[k] for k in range(h.n_townships) if k not in seen]
    if missing and not any(v < 0 for v in town.tolist()):
        t.problems.add(t.file, "", "township", "expected a depot for every township, got none "
                       f"for {', '.join(map(repr, missing[:20]))}"
                       + (f" (and {len(missing) - 20} more)" if len(missing) > 20 else ""))
    return depot_stock, depot_grid


def _stations(t: Table, spec: Spec, grids: GridData | None, net: Network | None
              ) -> StationArrays:
    names = t.strs("department")
    dept = np.full(t.n, -1, dtype=np.int64)
    t.ident = [f"{d}" if d else "" for d in names]
    for i, d in enumerate(names):
        if d in DEPARTMENTS:
            dept[i] = DEPARTMENTS.index(d)
        elif d:
            t.bad(i, "department", f"one of {', '.join(DEPARTMENTS)}", d)
    units = t.ints("units", lo=1, what="a number of units")
    _, _, grid = _positions(t, spec, "stations", grids, net)
    return dept, grid.astype(np.int64), units


def _shelters(t: Table, spec: Spec, grids: GridData | None, net: Network | None) -> Shelters:
    names = t.strs("name")
    t.ident = names
    cap = t.ints("capacity", lo=0, what="a number of people")
    x, y, grid = _positions(t, spec, "shelters", grids, net)
    grid = grid.astype(np.int64)
    # each shelter is reached at its grid's road node (bad cells are problems already)
    node = (net.roads.grid_node[np.maximum(grid, 0)] if net is not None and len(grid)
            else np.full(len(grid), -1, dtype=np.int64))
    return Shelters(name=tuple(names), capacity=np.maximum(cap, 0), grid=grid, node=node,
                    x_m=x.astype(np.float64), y_m=y.astype(np.float64))


def _masks(t: Table, col: str, vocab: tuple[str, ...], bit: Any, allow_empty: bool,
           all_mask: int | None) -> np.ndarray:
    vals = t.strs(col, required=not allow_empty)
    uniq: dict[str, int | None] = {}
    for v in set(vals):
        if v == "" and allow_empty:
            uniq[v] = 0
            continue
        if all_mask is not None and v.lower() == "all":
            uniq[v] = all_mask
            continue
        parts = [p.strip() for p in v.split("|")]
        uniq[v] = None if not v or any(p not in vocab for p in parts) else \
            int(np.bitwise_or.reduce([bit(p) for p in parts]))
    out = np.zeros(t.n, dtype=np.uint8)
    what = (f"names of {', '.join(vocab)} joined by '|'"
            + (" (or 'all', or empty)" if all_mask is not None else ""))
    for i, v in enumerate(vals):
        m = uniq[v]
        if m is None:
            if v or not allow_empty:
                t.bad(i, col, what, v)
        else:
            out[i] = m
    return out


def _rosters(t: Table, grids: GridData | None) -> Roster | None:
    g = grids.region.grids if grids is not None else None
    grid = t.ints("grid", lo=0, hi=g.n - 1 if g else None, what="a grid id")
    roles = _masks(t, "roles", ROLES, role_bit, False, None)
    cats = _masks(t, "categories", CATEGORIES, category_bit, True, ALL_CATEGORIES)
    x = t.floats("x_m", required=False)
    y = t.floats("y_m", required=False)
    away = t.bools("away_in_work_hours")
    if g is None:
        return None
    safe = np.where((grid >= 0) & (grid < g.n), grid, 0)
    x = np.where(np.isnan(x), g.x_m[safe], x)
    y = np.where(np.isnan(y), g.y_m[safe], y)
    order = np.argsort(safe, kind="stable")
    counts = np.bincount(safe, minlength=g.n)
    return Roster(grid=safe[order].astype(np.int32), roles=roles[order], categories=cats[order],
                  x_m=x[order].astype(np.float64), y_m=y[order].astype(np.float64),
                  away_in_work_hours=away[order],
                  by_grid_indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


def _exposure_table(t: Table, grids: GridData | None) -> dict[str, np.ndarray]:
    """``exposures.csv``: a ``grid`` column and exposure columns, one row for every grid; the
    columns by grid id (empty when the grids have problems)."""
    n = grids.n if grids is not None else None
    grid = t.ints("grid", lo=0, hi=n - 1 if n else None, what="a grid id")
    t.ident = [f"grid {v}" for v in grid.tolist()]
    cols = exposure_columns(t)
    if not cols:
        t.problems.add(t.file, "", "columns", "expected at least one exposure column ("
                       f"{', '.join(EXPOSURE_COLUMNS)}), got columns {', '.join(t.columns)}")
    if n is None:
        return {}
    seen: dict[int, int] = {}
    for i, gid in enumerate(grid.tolist()):
        if gid in seen and 0 <= gid < n:
            t.bad(i, "grid", f"one row per grid (grid {gid} is also {t.where[seen[gid]]})", gid)
        seen.setdefault(gid, i)
    missing = [g for g in range(n) if g not in seen]
    if missing:
        t.problems.add(t.file, "", "grid", "expected a row for every grid, got none for grid "
                       f"{', '.join(map(str, missing[:20]))}"
                       + (f" (and {len(missing) - 20} more)" if len(missing) > 20 else ""))
        return {}
    order = np.array([seen[g] for g in range(n)], dtype=np.int64)
    return {name: a[order] for name, a in cols.items()}


def _with_exposures(grids: GridData, table: Table | None, given_csv: dict[str, np.ndarray],
                    spec: Spec, cfg: ScenarioConfig | None, problems: Problems) -> Region:
    """The region with every exposure: grids.geojson's properties, exposures.csv's columns
    (a column in both is a problem), and the others generated from
    ``cfg.exposure_per_kind`` as the synthetic generator makes them (stream
    ``scenario/exposure`` of ``cfg.seed``; none without ``cfg``). Land beyond a grid's area is
    a problem."""
    g = grids.region.grids
    label = spec.label("grids")
    for name in sorted(set(grids.exposures) & set(given_csv)):
        assert table is not None
        problems.add(table.file, "", name, f"expected each exposure in one file, got {name!r} "
                     f"also as a property of {label}")
    values = {**given_csv, **grids.exposures}
    for name, a in values.items():
        if EXPOSURE_COLUMNS[name] != "km2":
            continue
        file = label if name in grids.exposures else (table.file if table else label)
        limit = g.area_km2 * (1 + AREA_TOLERANCE) + AREA_ABS_TOLERANCE_KM2
        for j in np.flatnonzero(a > limit)[:50].tolist():
            where = grids.where[j] if name in grids.exposures else f"grid {j}"
            problems.add(file, where, name, f"expected at most the grid's area "
                         f"({float(g.area_km2[j]):.6g} km²), got {float(a[j]):.6g}")
    absent = tuple(n for n in EXPOSURE_COLUMNS if n not in values)
    if cfg is not None and absent:
        values.update(syn.exposures(cfg, np.asarray(g.kind), g.area_km2, g.population,
                                    g.households, Streams(cfg.seed).fresh("scenario/exposure"),
                                    only=absent))
    if not values:
        return grids.region
    return dataclasses.replace(grids.region, grids=dataclasses.replace(g, **values))


def _generated(problems: Problems, what: str, fn: Any) -> Any:
    """Make a part from the config; a config that cannot make it is a problem of the folder."""
    try:
        return fn()
    except Exception as exc:  # a config without the settings for it
        problems.add(SPEC_FILE, "", what, "expected the file, or settings to generate it from "
                     f"(generate: in {SPEC_FILE}, or the scenario config), got "
                     f"{type(exc).__name__}: {exc}")
        return None


def _load(folder: Path, cfg: ScenarioConfig | None) -> tuple[Parts | None, Shelters]:
    """Load ``folder``: ``(parts, shelters)``; with ``cfg`` ``None`` nothing is generated and the
    parts are ``None`` (a check only). Raises :class:`ScenarioDataError` with every problem."""
    problems = Problems()
    spec = read_spec(Path(folder), problems)
    if spec is None:
        raise ScenarioDataError(problems.errors())
    grids = load_grids(spec, problems)
    raw = read_roads(spec, problems)
    net = assemble(raw, grids, spec, problems) if raw is not None and grids is not None else None
    if grids is not None:  # the files against each other: one place?
        check_geometry(spec.checks, grids, spec.label("grids"), raw, spec.label("roads"),
                       problems)
    tables: dict[str, Table] = {}
    for key in OPTIONAL_FILES:
        if key in spec.files:
            t = read_table(spec.files[key], spec.label(key), problems)
            if t is not None:
                tables[key] = t
    stock = _supply_points(tables["supply_points"], grids) if "supply_points" in tables else None
    depots = _depots(tables["depots"], spec, grids, net) if "depots" in tables else None
    stations = _stations(tables["stations"], spec, grids, net) if "stations" in tables else None
    shelters = (_shelters(tables["shelters"], spec, grids, net) if "shelters" in tables
                else Shelters.empty())
    roster = _rosters(tables["rosters"], grids) if "rosters" in tables else None
    given_csv = (_exposure_table(tables["exposures"], grids) if "exposures" in tables else {})
    region = (_with_exposures(grids, tables.get("exposures"), given_csv, spec, cfg, problems)
              if grids is not None else None)
    if cfg is None or problems or grids is None:
        problems.raise_if_any()
        return None, shelters
    g = grids.region.grids
    h = grids.region.hierarchy
    if roster is None:
        roster = _generated(problems, "rosters", lambda: syn._roster(
            cfg, g, Streams(cfg.seed).fresh("scenario/people")))
    if stock is None or depots is None:
        made = _generated(problems, "supply_points/depots", lambda: syn._supplies(
            cfg, g, g.township, h.n_townships))
        if made is not None:
            stock = made.grid_stock if stock is None else stock
            depots = (made.depot_stock, made.depot_grid) if depots is None else depots
    if stations is None:
        stations = _generated(problems, "stations", lambda: syn._stations(
            cfg, g, Streams(cfg.seed).fresh("scenario/stations")))
    problems.raise_if_any()
    assert net is not None and roster is not None and stock is not None
    assert depots is not None and stations is not None
    supplies = SupplyPoints(grid_stock=stock, depot_stock=depots[0], depot_grid=depots[1])
    assert region is not None
    return (region, net.roads, roster, supplies, stations), shelters


def load_folder(folder: Path, cfg: ScenarioConfig) -> Loaded:
    """The parts and the shelters of a scenario folder, read once (see :func:`load_parts`;
    the folder's shelters file, if it names one, else none)."""
    parts, shelters = _load(Path(folder), cfg)
    assert parts is not None
    return Loaded(parts=parts, shelters=shelters)


def load_parts(folder: Path, cfg: ScenarioConfig) -> Parts:
    """The scenario in ``folder`` as ``(region, roads, roster, supplies, (department, grid,
    units))``, the tuple :func:`gridsim.place.synthetic.generate` returns. People, supplies and
    stations whose files the folder does not name are generated from ``cfg`` as the synthetic
    generator does. Raises :class:`ScenarioDataError` listing every problem."""
    return load_folder(folder, cfg).parts


def validate_folder(folder: Path) -> list[str]:
    """Every problem of the scenario folder (empty when it is valid). Files the folder leaves
    out are not generated here."""
    try:
        _load(Path(folder), None)
    except ScenarioDataError as exc:
        return exc.errors
    return []


# ----------------------------------------------------------------------------------------------
# the scenario folder in the configuration
# ----------------------------------------------------------------------------------------------
def _raw_yaml(folder: Path) -> dict[str, Any]:
    import yaml  # start-up time: YAML only when a file is read or written

    try:
        data = yaml.safe_load((Path(folder) / SPEC_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def folder_files(folder: Path) -> list[Path]:
    """The files loading ``folder`` reads: its ``scenario.yaml`` and every file that names (as
    :func:`~gridsim.place.folder.spec.read_spec` resolves them: ``folder / name``), in the
    order of :data:`~gridsim.place.folder.spec.FILE_KEYS`. Whether they exist is not checked
    here (loading reports it)."""
    folder = Path(folder)
    data = _raw_yaml(folder)
    return [folder / SPEC_FILE] + [folder / v for k in FILE_KEYS
                                   if isinstance(v := data.get(k), str) and v.strip()]


def spec_errors(folder: Path) -> list[str]:
    """The problems of ``folder/scenario.yaml`` alone (quick: no data file is read)."""
    problems = Problems()
    read_spec(Path(folder), problems)
    return problems.errors()


def generated_parts(folder: Path) -> set[str]:
    """Which of ``rosters``, ``supply_points``, ``depots``, ``stations`` the folder leaves to
    be generated from the scenario config."""
    data = _raw_yaml(folder)
    return {k for k in ("rosters", "supply_points", "depots", "stations") if not data.get(k)}


#: Placeholders for the synthetic generator's mandatory settings, which a files scenario does not
#: use (they keep a scenario folder composable as a config group option).
_PLACEHOLDERS: dict[str, Any] = {
    "townships_per_county": 1, "villages_per_township": 1, "urban_grids": 0, "rural_grids": 0,
}
#: The preset whose ``seed``, ``people``, ``supplies``, ``departments`` and
#: ``exposure_per_kind`` a scenario folder's ``generate:`` block falls back on, key by key (the
#: default scenario of ``conf/config.yaml``): a folder without ``generate:`` gets these.
GENERATE_DEFAULTS_PRESET = "district"


def generate_block(folder: Path) -> dict[str, Any]:
    """The ``generate:`` settings of ``folder/scenario.yaml`` (only the keys of
    :data:`~gridsim.place.folder.spec.GENERATE_KEYS`; empty when there is none: reading the
    folder reports a bad block)."""
    gen = _raw_yaml(Path(folder)).get("generate")
    return {k: v for k, v in gen.items() if k in GENERATE_KEYS} if isinstance(gen, dict) else {}


def _generate_defaults() -> dict[str, Any]:
    """The settings of :data:`GENERATE_DEFAULTS_PRESET` a ``generate:`` block may give."""
    import yaml  # start-up time: YAML only when a file is read or written

    preset = scenario_presets().get(GENERATE_DEFAULTS_PRESET)
    if preset is None or preset.name == "scenario.yaml":
        return {}
    data = yaml.safe_load(preset.read_text(encoding="utf-8"))
    return {k: data[k] for k in GENERATE_KEYS if isinstance(data, dict) and k in data}


def registry_node(scenario_yaml: Path, name: str | None = None) -> dict[str, Any]:
    """The config node of a scenario folder as an option of the ``scenario`` group: generator
    ``files``, its (absolute) path, and the ``generate:`` settings of its scenario.yaml, over
    those of :data:`GENERATE_DEFAULTS_PRESET` (``people`` and ``supplies`` field by field;
    ``seed``, ``departments`` and ``exposure_per_kind`` whole)."""
    folder = Path(scenario_yaml).parent
    node: dict[str, Any] = {**_PLACEHOLDERS, **_generate_defaults()}
    for k, v in generate_block(folder).items():
        if k in ("people", "supplies") and isinstance(v, dict) and isinstance(node.get(k), dict):
            node[k] = {**node[k], **v}
        else:
            node[k] = v
    node.update(name=name or folder.resolve().name, generator="files",
                path=str(folder.resolve()))
    return node
