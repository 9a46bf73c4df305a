"""``grids.geojson``: the grids as polygons with their properties, and the hierarchy above them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridsim.model.region import Adjacency, Grids, GridShapes, Hierarchy, Region
from gridsim.model.vocab import GRID_KINDS
from gridsim.place.folder.errors import Problems, feature
from gridsim.place.folder.spec import SPEC_FILE, Spec
from gridsim.place.folder.tables import Table, read_geojson, to_float, to_int

__all__ = ["AREA_TOLERANCE", "EXPOSURE_COLUMNS", "GridData", "exposure_columns", "load_grids",
           "natural_key"]

#: A given ``area_km2`` must agree with the polygon's area within this share ...
AREA_TOLERANCE = 0.05
#: ... or within this many km² (for grids of (almost) no area).
AREA_ABS_TOLERANCE_KM2 = 1e-4


#: Optional exposure columns of grids.geojson (properties) and exposures.csv: name -> what a
#: cell must be ("count": an integer >= 0, "km2": a number >= 0, at most the grid's area,
#: "share": a number in [0, 1]); docs/scenario_format.md, "Exposures".
EXPOSURE_COLUMNS: dict[str, str] = {
    "buildings": "count", "ebikes": "count", "enterprises": "count",
    "forest_km2": "km2", "steep_slope_km2": "km2", "flood_prone_share": "share",
}


def exposure_columns(t: Table) -> dict[str, np.ndarray]:
    """The exposure columns a table has, checked cell by cell (every row needs a value), as
    int32 counts and float32 land and shares, in the table's row order."""
    out: dict[str, np.ndarray] = {}
    for col, what in EXPOSURE_COLUMNS.items():
        if not t.has(col):
            continue
        if what == "count":
            out[col] = t.ints(col, lo=0, what="a count").astype(np.int32)
        elif what == "km2":
            out[col] = t.floats(col, lo=0.0, what="an area in km²").astype(np.float32)
        else:
            out[col] = t.floats(col, lo=0.0, hi=1.0, what="a share").astype(np.float32)
    return out


def natural_key(s: str) -> tuple[Any, ...]:
    """Sort key in which ``T2`` comes before ``T10``."""
    parts = re.split(r"(\d+)", s)
    return (*((int(p) if i % 2 else p.casefold()) for i, p in enumerate(parts)), s)


@dataclass(frozen=True)
class GridData:
    """The grids of a scenario folder: the region, and where each grid was in the file."""

    region: Region
    where: list[str]  # by grid id: "feature 3 (id 7)"
    road_node: list[str | None]  # by grid id: the road node named by the data, if any
    #: exposure columns the file gives (:data:`EXPOSURE_COLUMNS`), by grid id; the region's
    #: grids hold 0 for the others until the loader fills them in
    exposures: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.region.grids.n


def _position_ok(p: Any) -> bool:
    return (isinstance(p, list | tuple) and len(p) >= 2
            and to_float(p[0]) is not None and to_float(p[1]) is not None)


def _rings(geom: Any, label: str, where: str, problems: Problems
           ) -> list[list[np.ndarray]] | None:
    """The polygons of a Polygon/MultiPolygon geometry as lists of rings (arrays ``k × 2``), each
    checked: positions of two finite numbers, at least 4 positions, closed."""
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        got = geom.get("type") if isinstance(geom, dict) else geom
        problems.add(label, where, "geometry", f"expected a Polygon or MultiPolygon, got {got!r}")
        return None
    coords = geom.get("coordinates")
    polys = [coords] if geom["type"] == "Polygon" else coords
    if not isinstance(polys, list) or not polys or not all(
            isinstance(p, list) and p for p in polys):
        problems.add(label, where, "geometry", f"expected {geom['type']} coordinates (lists of "
                     f"rings), got {str(coords)[:60]!r}")
        return None
    out: list[list[np.ndarray]] = []
    ok = True
    for pi, poly in enumerate(polys):
        rings = []
        for ri, ring in enumerate(poly):
            name = f"ring {ri}" + (f" of polygon {pi}" if geom["type"] == "MultiPolygon" else "")
            if not isinstance(ring, list):
                problems.add(label, where, "geometry", f"expected {name} to be a list of "
                             f"positions, got {ring!r}")
                ok = False
                continue
            bad = next((k for k, p in enumerate(ring) if not _position_ok(p)), None)
            if bad is not None:
                problems.add(label, where, "geometry", f"expected positions of two finite "
                             f"numbers in {name}, got {ring[bad]!r} at position {bad}")
                ok = False
                continue
            if len(ring) < 4:
                problems.add(label, where, "geometry", f"expected at least 4 positions in {name} "
                             f"(a closed ring), got {len(ring)}")
                ok = False
                continue
            a = np.array([[float(p[0]), float(p[1])] for p in ring])
            if not np.array_equal(a[0], a[-1]):
                problems.add(label, where, "geometry", f"expected a closed ring (the first "
                             f"position repeated at the end) in {name}, got first "
                             f"{ring[0]!r} and last {ring[-1]!r}")
                ok = False
                continue
            rings.append(a)
        out.append(rings)
    return out if ok else None


def _order(names: set[str], given: tuple[str, ...] | None, key: str, what: str,
           problems: Problems, grids_label: str) -> list[str] | None:
    """Names in id order: as listed in scenario.yaml (all of them, and no other), else natural."""
    if given is None:
        return sorted(names, key=natural_key)
    missing = sorted(names - set(given), key=natural_key)
    extra = [g for g in given if g not in names]
    if missing:
        problems.add(SPEC_FILE, "", key, f"expected every {what} of {grids_label}, got no "
                     f"{', '.join(map(repr, missing[:20]))}" + (
                         f" (and {len(missing) - 20} more)" if len(missing) > 20 else ""))
    if extra:
        problems.add(SPEC_FILE, "", key, f"expected only {what}s that have grids in "
                     f"{grids_label}, got {', '.join(map(repr, extra[:20]))}")
    return None if missing or extra else list(given)


def load_grids(spec: Spec, problems: Problems) -> GridData | None:
    """Read and check ``grids.geojson``; ``None`` if it has problems (all reported)."""
    import shapely  # start-up time: shapely only for scenario folders

    label = spec.label("grids")
    got = read_geojson(spec.files["grids"], label, problems)
    if got is None:
        return None
    feats, file_crs = got
    from pyproj import CRS  # start-up time: pyproj only for scenario folders

    src = spec.input_crs.get("grids") or file_crs or CRS.from_epsg(4326)
    n_before = problems.count
    polys_raw: list[list[list[np.ndarray]] | None] = []
    props_list: list[dict[str, Any]] = []
    where: list[str] = []
    for i, ft in enumerate(feats):
        if not isinstance(ft, dict) or ft.get("type") != "Feature":
            problems.add(label, feature(i), "type", f"expected a Feature, got {ft!r:.60}")
            continue
        props = ft.get("properties")
        props = props if isinstance(props, dict) else {}
        ident = props.get("id")
        w = feature(i, ident)
        polys_raw.append(_rings(ft.get("geometry"), label, w, problems))
        props_list.append(props)
        where.append(feature(i))
    if not props_list:
        problems.add(label, "", "features", "expected at least one grid, got none")
        return None
    keys = dict.fromkeys(k for props in props_list for k in props)
    cols = {k: [props.get(k) for props in props_list] for k in keys}
    t = Table(file=label, columns=cols, where=where, problems=problems)
    ids = t.ints("id", lo=0, what="an integer id")
    raw_ids = cols.get("id", [None] * t.n)
    t.ident = [f"id {v}" if to_int(v) is not None else "" for v in raw_ids]
    n = t.n
    # ids: unique, and exactly 0..n-1
    id_ok = np.array([(to_int(v) or 0) >= 0 and to_int(v) is not None for v in raw_ids],
                     dtype=bool)
    first: dict[int, int] = {}
    for i in range(n):
        if not id_ok[i]:
            continue
        gid = int(ids[i])
        if gid in first:
            t.bad(i, "id", f"a unique id (id {gid} is also {where[first[gid]]})", raw_ids[i])
            id_ok[i] = False
        else:
            first[gid] = i
    for i in range(n):
        if id_ok[i] and ids[i] >= n:
            t.bad(i, "id", f"an id in 0..{n - 1} (grid ids number the {n} grids from 0)",
                  raw_ids[i])
            id_ok[i] = False
    kind_names = t.strs("kind")
    kind = np.zeros(n, dtype=np.int8)
    for i, kn in enumerate(kind_names):
        if kn in GRID_KINDS:
            kind[i] = GRID_KINDS.index(kn)
        elif kn:
            t.bad(i, "kind", f"one of {', '.join(GRID_KINDS)}", kn)
    township = t.strs("township")
    village = t.strs("village")
    county = t.strs("county", required=False, default=spec.county)
    pop = t.ints("population", lo=0)
    hh = t.ints("households", lo=0)
    vuln = t.floats("vulnerable_share", lo=0.0, hi=1.0, what="a share")
    compounds = t.ints("compounds", required=False, default=0, lo=0)
    points = t.ints("monitoring_points", required=False, default=0, lo=0)
    exposed = exposure_columns(t)
    area_given = t.floats("area_km2", required=False, lo=0.0)
    road_node = t.strs("road_node", required=False, default="")
    cx = t.floats("centre_x_m", required=False)
    cy = t.floats("centre_y_m", required=False)
    for j in np.flatnonzero(np.isnan(cx) != np.isnan(cy)).tolist():
        t.bad(j, "centre_x_m, centre_y_m", "both or neither",
              (cols.get("centre_x_m", [None] * n)[j], cols.get("centre_y_m", [None] * n)[j]))
    # neighbours: given for all grids, or derived from the polygons
    nb_given = [p.get("neighbours") for p in props_list]
    has_nb = [v is not None for v in nb_given]
    nb_u: list[int] = []
    nb_v: list[int] = []
    if any(has_nb):
        for i, v in enumerate(nb_given):
            if v is None:
                t.bad(i, "neighbours", "a list of grid ids (other features give one)", v)
                continue
            nbs = [to_int(x) for x in v] if isinstance(v, list) else None
            if nbs is None or any(x is None or not 0 <= x < n for x in nbs):
                t.bad(i, "neighbours", f"a list of grid ids in 0..{n - 1}", v)
                continue
            nb_u.extend([i] * len(nbs))
            nb_v.extend(int(x) for x in nbs if x is not None)
    # the hierarchy
    counties = _order(set(county), spec.counties, "counties", "county", problems, label)
    townships = _order(set(township), spec.townships, "townships", "township", problems, label)
    town_county: dict[str, tuple[str, int]] = {}
    for i in range(n):
        c0 = town_county.setdefault(township[i], (county[i], i))
        if c0[0] != county[i]:
            t.bad(i, "county", f"{c0[0]!r} like the other grids of township {township[i]!r} "
                  f"({t.at(c0[1])})", county[i])
    # geometry: project, build polygons, check them
    geoms: list[Any] = [None] * n
    flat = [r for p in polys_raw if p is not None for poly in p for r in poly]
    if flat:
        xy = np.concatenate(flat)
        if src.is_geographic:
            off = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
        else:
            off = np.zeros(len(xy), dtype=bool)
        tr = spec.transform(src)
        if tr is not None and not off.any():
            px, py = tr(xy[:, 0], xy[:, 1])
            xy = np.column_stack([px, py])
        pos = 0
        for i, p in enumerate(polys_raw):
            if p is None:
                continue
            start = pos
            parts = []
            for poly in p:
                rings = []
                for r in poly:
                    rings.append(xy[pos:pos + len(r)])
                    pos += len(r)
                parts.append(shapely.Polygon(rings[0], rings[1:]))
            if off[start:pos].any():
                t.bad(i, "geometry", f"lon/lat in degrees ({src.name}); set input_crs.grids in "
                      "scenario.yaml if the file is in metres", p[0][0][0].tolist())
                continue
            if not np.isfinite(xy[start:pos]).all():
                t.bad(i, "geometry", f"coordinates that {spec.crs_text} can represent",
                      "infinite values after the transformation")
                continue
            geom = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
            if not shapely.is_valid(geom):
                t.bad(i, "geometry", "a valid polygon (no self-intersection, holes inside)",
                      shapely.is_valid_reason(geom))
                continue
            geoms[i] = geom
    if problems.count > n_before or any(gm is None for gm in geoms):
        return None
    area = np.array([gm.area for gm in geoms]) / 1e6
    cent = shapely.centroid(np.array(geoms, dtype=object))
    gx = np.where(np.isnan(cx), shapely.get_x(cent), cx)
    gy = np.where(np.isnan(cy), shapely.get_y(cent), cy)
    given = ~np.isnan(area_given)
    bad = given & (np.abs(area_given - area) > AREA_TOLERANCE * area + AREA_ABS_TOLERANCE_KM2)
    for j in np.flatnonzero(bad).tolist():
        t.bad(j, "area_km2", f"the polygon's area within {AREA_TOLERANCE:.0%} "
              f"({area[j]:.6g} km² in {spec.crs_text})", float(area_given[j]))
    area = np.where(given, area_given, area)
    if problems.count > n_before or counties is None or townships is None:
        return None
    c_id = {c: j for j, c in enumerate(counties)}
    t_id = {tn: j for j, tn in enumerate(townships)}
    vkeys = sorted({(t_id[township[i]], village[i]) for i in range(n)},
                   key=lambda kv: (kv[0], natural_key(kv[1])))
    v_id = {kv: j for j, kv in enumerate(vkeys)}
    perm = np.empty(n, dtype=np.int64)
    perm[ids] = np.arange(n)  # grid id -> feature index
    town_arr = np.array([t_id[township[i]] for i in perm], dtype=np.int64)
    hier = Hierarchy(
        county_names=tuple(counties),
        township_names=tuple(townships),
        township_county=np.array([c_id[town_county[tn][0]] for tn in townships], dtype=np.int64),
        village_names=tuple(v for _, v in vkeys),
        village_township=np.array([tt for tt, _ in vkeys], dtype=np.int64),
    )
    grids = Grids(
        village=np.array([v_id[(t_id[township[i]], village[i])] for i in perm], dtype=np.int64),
        township=town_arr,
        county=hier.township_county[town_arr],
        kind=kind[perm],
        area_km2=area[perm].astype(np.float64),
        population=pop[perm],
        households=hh[perm],
        vulnerable_share=vuln[perm].astype(np.float64),
        x_m=gx[perm].astype(np.float64),
        y_m=gy[perm].astype(np.float64),
        compounds=compounds[perm],
        monitoring_points=points[perm],
        **{name: (exposed[name][perm] if name in exposed else
                  np.zeros(n, dtype=np.int32 if what == "count" else np.float32))
           for name, what in EXPOSURE_COLUMNS.items()},
    )
    if any(has_nb):
        u = ids[np.array(nb_u, dtype=np.int64)] if nb_u else np.zeros(0, np.int64)
        v = np.array(nb_v, dtype=np.int64)
    else:
        arr = np.array([geoms[i] for i in perm], dtype=object)
        tree = shapely.STRtree(arr)
        tol = spec.neighbour_tolerance_m
        if tol > 0:
            pairs = tree.query(arr, predicate="dwithin", distance=tol)
        else:
            pairs = tree.query(arr, predicate="intersects")
        u, v = pairs[0].astype(np.int64), pairs[1].astype(np.int64)
    # the polygons kept (in the scenario's metres) for the GIS files and the maps
    shapes = GridShapes.from_shapely(np.array([geoms[i] for i in perm], dtype=object))
    region = Region(name=spec.name, hierarchy=hier, grids=grids,
                    neighbours=Adjacency.from_edges(n, u, v), crs=spec.crs_text, shapes=shapes)
    return GridData(region=region, where=[t.at(int(i)) for i in perm],
                    road_node=[road_node[i] or None for i in perm],
                    exposures={name: a[perm] for name, a in exposed.items()})
