"""Roads of a scenario folder: an OpenStreetMap extract (``.osm.pbf`` through pyrosm, ``.osm``
XML) or a GraphML graph, made into a :class:`~gridsim.place.roads.RoadNetwork` whose grids are
snapped to their nearest road node."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse, spatial
from scipy.sparse import csgraph

from gridsim.place.folder.errors import Problems
from gridsim.place.folder.grids import GridData
from gridsim.place.folder.spec import SPEC_FILE, Spec
from gridsim.place.folder.tables import to_float, to_int
from gridsim.place.roads import ROAD_CLASSES, RoadNetwork

__all__ = [
    "ARTERIAL_CLASSES",
    "MIN_SEGMENT_M",
    "ROAD_CLASS_SPEED_KMH",
    "RURAL_CLASSES",
    "Network",
    "assemble",
    "parse_maxspeed",
    "read_roads",
]

#: Driving speed (km/h) by road class, used where a road gives no speed (no ``maxspeed`` tag, no
#: speed attribute) [assumed: typical free-flow speeds in a Chinese county town; override them in
#: scenario.yaml ``road_speeds_kmh``]. OpenStreetMap ways whose ``highway`` is not in this table
#: (footway, cycleway, path, steps, ...) are not driven on. The last three are the classes of
#: gridsim's synthetic roads (``gridsim.place.roads.ROAD_CLASSES``).
ROAD_CLASS_SPEED_KMH: dict[str, float] = {
    "motorway": 100.0, "motorway_link": 60.0,
    "trunk": 80.0, "trunk_link": 50.0,
    "primary": 60.0, "primary_link": 40.0,
    "secondary": 50.0, "secondary_link": 40.0,
    "tertiary": 40.0, "tertiary_link": 30.0,
    "unclassified": 30.0, "residential": 25.0, "living_street": 10.0, "service": 15.0,
    "road": 30.0, "track": 15.0,
    "urban": 25.0, "rural": 40.0, "arterial": 60.0,
}
#: OpenStreetMap classes drawn and counted as gridsim's ``arterial`` roads ...
ARTERIAL_CLASSES = frozenset({"motorway", "motorway_link", "trunk", "trunk_link", "primary",
                              "primary_link", "arterial"})
#: ... and as ``rural`` roads; every other class is ``urban``.
RURAL_CLASSES = frozenset({"unclassified", "track", "road", "rural"})
#: Road segments shorter than this (two OSM nodes at one place) are given this length.
MIN_SEGMENT_M = 0.01
_MPH = 1.609344


def parse_maxspeed(v: Any) -> float | None:
    """A ``maxspeed`` value in km/h: ``50``, ``"50"``, ``"30 mph"``, ``"50;60"`` (the first);
    ``None`` for anything that is not a number (``"RU:urban"``, ``"none"``, ``"signals"``)."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) and v > 0 else None
    s = str(v).strip().lower().split(";")[0].split("|")[0].strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", s)
    if not m:
        return None
    val = float(m.group(1)) * (_MPH if m.group(2) == "mph" else 1.0)
    return val if val > 0 else None


def _class_index(cls: str) -> int:
    if cls in ARTERIAL_CLASSES:
        return ROAD_CLASSES.index("arterial")
    if cls in RURAL_CLASSES:
        return ROAD_CLASSES.index("rural")
    return ROAD_CLASSES.index("urban")


def _first_class(v: Any) -> str:
    """A road class from an attribute (OSMnx writes lists as ``"['residential', 'tertiary']"``)."""
    if v is None:
        return ""
    s = str(v).strip()
    if s.startswith("["):
        m = re.search(r"['\"]([^'\"]+)['\"]", s)
        return m.group(1) if m else ""
    return s


@dataclass
class _Raw:
    """Road nodes and links as read, before merging, components and snapping."""

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    speed_mps: np.ndarray
    klass: np.ndarray
    node_grid: np.ndarray  # grid id given on the node (GraphML attribute ``grid``), else -1
    node_name: list[str]  # for messages
    node_key: list[str]  # the id a grid's ``road_node`` property refers to


def _speeds(spec: Spec) -> dict[str, float]:
    return {**ROAD_CLASS_SPEED_KMH, **spec.road_speeds_kmh}


def _osm_segments(way_nodes: list[list[int]], way_class: list[str], way_speed: list[float],
                  lon: dict[int, tuple[float, float]], spec: Spec) -> _Raw:
    """Segments between consecutive nodes of the kept ways, projected to the scenario CRS."""
    from pyproj import CRS  # start-up time: pyproj only for scenario folders

    index: dict[int, int] = {}
    us: list[int] = []
    vs: list[int] = []
    cls: list[int] = []
    spd: list[float] = []
    for refs, c, s in zip(way_nodes, way_class, way_speed, strict=True):
        ci = _class_index(c)
        prev = None
        for r in refs:
            if r not in lon:  # outside the extract: the way is cut there
                prev = None
                continue
            k = index.setdefault(r, len(index))
            if prev is not None and prev != k:
                us.append(prev)
                vs.append(k)
                cls.append(ci)
                spd.append(s)
            prev = k
    ids = list(index)
    ll = np.array([lon[i] for i in ids], dtype=float).reshape(-1, 2)
    x, y = ll[:, 0], ll[:, 1]
    tr = spec.transform(CRS.from_epsg(4326))
    if tr is not None and len(x):
        x, y = tr(x, y)
    u = np.array(us, dtype=np.int64)
    v = np.array(vs, dtype=np.int64)
    length = np.maximum(np.hypot(x[u] - x[v], y[u] - y[v]), MIN_SEGMENT_M) if len(u) else \
        np.zeros(0)
    return _Raw(x=np.asarray(x, float), y=np.asarray(y, float), u=u, v=v, length_m=length,
                speed_mps=np.array(spd, dtype=float) / 3.6, klass=np.array(cls, dtype=np.int8),
                node_grid=np.full(len(ids), -1, dtype=np.int64),
                node_name=[f"OSM node {i}" for i in ids], node_key=[str(i) for i in ids])


def _read_osm_xml(path: Path, label: str, spec: Spec, problems: Problems) -> _Raw | None:
    import xml.etree.ElementTree as ET  # start-up time: XML only for GraphML/.osm roads

    speeds = _speeds(spec)
    lonlat: dict[int, tuple[float, float]] = {}
    way_nodes: list[list[int]] = []
    way_class: list[str] = []
    way_speed: list[float] = []
    n_before = problems.count
    try:
        for _, elem in ET.iterparse(path, events=("end",)):
            if elem.tag == "node":
                nid = to_int(elem.get("id"))
                lat, lon = to_float(elem.get("lat")), to_float(elem.get("lon"))
                if nid is None or lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
                    problems.add(label, f"node {elem.get('id')}", "lat, lon",
                                 "expected an integer id and lat/lon in degrees, got "
                                 f"{elem.get('id')!r}, {elem.get('lat')!r}, {elem.get('lon')!r}")
                else:
                    lonlat[nid] = (lon, lat)
                elem.clear()
            elif elem.tag == "way":
                tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                cls = tags.get("highway") or ""
                if cls in speeds and tags.get("area") != "yes":
                    refs = [to_int(nd.get("ref")) for nd in elem.iter("nd")]
                    if any(r is None for r in refs):
                        problems.add(label, f"way {elem.get('id')}", "nd",
                                     "expected integer node references")
                    else:
                        kmh = parse_maxspeed(tags.get("maxspeed")) or speeds[cls]
                        way_nodes.append([int(r) for r in refs if r is not None])
                        way_class.append(cls)
                        way_speed.append(kmh)
                elem.clear()
            elif elem.tag == "relation":
                elem.clear()
    except ET.ParseError as exc:
        problems.add(label, "", "syntax", f"expected OpenStreetMap XML, got {exc}")
        return None
    if problems.count > n_before:
        return None
    return _osm_segments(way_nodes, way_class, way_speed, lonlat, spec)


def _read_pbf(path: Path, label: str, spec: Spec, problems: Problems) -> _Raw | None:
    try:
        from pyrosm import OSM  # start-up time: pyrosm (optional) only for .osm.pbf roads
    except ImportError:
        problems.add(label, "", "roads", "expected the pyrosm package to read .osm.pbf files "
                     "(pip install 'gridsim[geo]'), got it not installed; or give the roads as "
                     ".osm XML or GraphML")
        return None
    speeds = _speeds(spec)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = OSM(str(path)).get_network(network_type="driving", nodes=True)
    except Exception as exc:  # pyrosm raises many kinds on a broken file
        problems.add(label, "", "file", f"expected an OpenStreetMap .osm.pbf extract, got "
                     f"{type(exc).__name__}: {exc}")
        return None
    if got is None or got[0] is None or got[1] is None or len(got[1]) == 0:
        problems.add(label, "", "roads", "expected driveable roads (ways with a highway tag), "
                     "got none")
        return None
    nodes, edges = got
    lonlat = {int(i): (float(lo), float(la)) for i, lo, la in
              zip(nodes["id"].to_numpy(), nodes["lon"].to_numpy(), nodes["lat"].to_numpy(),
                  strict=True)}
    hw = [_first_class(h) for h in edges["highway"].to_list()]
    ms = edges["maxspeed"].to_list() if "maxspeed" in edges else [None] * len(hw)
    keep = [i for i, h in enumerate(hw) if h in speeds]
    us = edges["u"].to_numpy()
    vs = edges["v"].to_numpy()
    way_nodes = [[int(us[i]), int(vs[i])] for i in keep]
    way_class = [hw[i] for i in keep]
    way_speed = [parse_maxspeed(ms[i]) or speeds[hw[i]] for i in keep]
    raw = _osm_segments(way_nodes, way_class, way_speed, lonlat, spec)
    # pyrosm's edges run node to node; where an edge's geometry has more points, use its length
    import shapely
    from pyproj import CRS  # start-up time: pyproj only for scenario folders

    geoms = edges["geometry"].to_numpy()[keep]
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) > 2 * len(keep):
        tr = spec.transform(CRS.from_epsg(4326))
        cx, cy = (tr(coords[:, 0], coords[:, 1]) if tr is not None
                  else (coords[:, 0], coords[:, 1]))
        same = idx[1:] == idx[:-1]
        seg = np.hypot(np.diff(cx), np.diff(cy))[same]
        full = np.bincount(idx[1:][same], weights=seg, minlength=len(keep))
        # _osm_segments drops edges with a node outside the extract: match by position
        mask = np.array([int(us[i]) in lonlat and int(vs[i]) in lonlat
                         and us[i] != vs[i] for i in keep], dtype=bool)
        raw.length_m = np.maximum(full[mask], MIN_SEGMENT_M)
    return raw


def _read_graphml(path: Path, label: str, spec: Spec, problems: Problems) -> _Raw | None:
    import xml.etree.ElementTree as ET  # start-up time: XML only for GraphML/.osm roads

    import networkx as nx  # start-up time: networkx only for GraphML roads

    try:
        g = nx.read_graphml(path)
    except (ET.ParseError, nx.NetworkXError, KeyError, ValueError) as exc:
        problems.add(label, "", "file", f"expected GraphML, got {type(exc).__name__}: {exc}")
        return None
    speeds = _speeds(spec)
    n_before = problems.count
    names = list(g.nodes)
    index = {nm: i for i, nm in enumerate(names)}
    x = np.zeros(len(names))
    y = np.zeros(len(names))
    node_grid = np.full(len(names), -1, dtype=np.int64)
    for i, (nm, d) in enumerate(g.nodes(data=True)):
        fx, fy = to_float(d.get("x")), to_float(d.get("y"))
        if fx is None or fy is None:
            problems.add(label, f"node {nm!r}", "x, y", "expected two numbers (coordinates), "
                         f"got {d.get('x')!r}, {d.get('y')!r}")
            continue
        x[i], y[i] = fx, fy
        if d.get("grid") is not None:
            k = to_int(d.get("grid"))
            if k is None or k < 0:
                problems.add(label, f"node {nm!r}", "grid", "expected a grid id (an integer "
                             f">= 0), got {d.get('grid')!r}")
            else:
                node_grid[i] = k
    src = spec.input_crs.get("roads") or spec.crs
    if src.is_geographic and ((np.abs(x) > 180) | (np.abs(y) > 90)).any():
        problems.add(label, "", "x, y", f"expected lon/lat in degrees ({src.name}, set by "
                     f"{SPEC_FILE} input_crs.roads), got values beyond ±180/±90")
        return None
    tr = spec.transform(src)
    if tr is not None and len(x):
        x, y = tr(x, y)
    us, vs, length, speed, klass = [], [], [], [], []
    for a, b, d in g.edges(data=True):
        i, j = index[a], index[b]
        where = f"edge {a!r}-{b!r}"
        cls = _first_class(d.get("road_class", d.get("highway")))
        ln = d.get("length_m", d.get("length"))
        if ln is None:
            lm: float | None = float(np.hypot(x[i] - x[j], y[i] - y[j]))
        else:
            lm = to_float(ln)
        if lm is None or lm <= 0:
            problems.add(label, where, "length_m", f"expected metres > 0, got {ln!r}")
            continue
        sp: float | None = None
        if d.get("speed_mps") is not None:
            sp = to_float(d.get("speed_mps"))
            field = "speed_mps"
        elif d.get("speed_kmh", d.get("speed_kph")) is not None:
            kmh = to_float(d.get("speed_kmh", d.get("speed_kph")))
            sp = kmh / 3.6 if kmh is not None else None
            field = "speed_kmh"
        elif parse_maxspeed(d.get("maxspeed")) is not None:
            sp = parse_maxspeed(d.get("maxspeed")) / 3.6  # type: ignore[operator]
            field = "maxspeed"
        elif cls in speeds:
            sp = speeds[cls] / 3.6
            field = "road_class"
        else:
            problems.add(label, where, "speed", "expected speed_mps, speed_kmh, a numeric "
                         "maxspeed or a road_class with a known speed ("
                         f"{', '.join(speeds)}), got road_class {cls!r} and no speed")
            continue
        if sp is None or not sp > 0:
            problems.add(label, where, field, f"expected a speed > 0, got "
                         f"{d.get(field, d.get('speed_kph'))!r}")
            continue
        us.append(i)
        vs.append(j)
        length.append(lm)
        speed.append(sp)
        klass.append(_class_index(cls))
    if problems.count > n_before:
        return None
    return _Raw(x=np.asarray(x, float), y=np.asarray(y, float), u=np.array(us, dtype=np.int64),
                v=np.array(vs, dtype=np.int64), length_m=np.array(length, dtype=float),
                speed_mps=np.array(speed, dtype=float), klass=np.array(klass, dtype=np.int8),
                node_grid=node_grid, node_name=[f"node {nm!r}" for nm in names],
                node_key=[str(nm) for nm in names])


def read_roads(spec: Spec, problems: Problems) -> _Raw | None:
    """The road nodes and links of the folder's roads file (``None`` after reporting why not)."""
    path = spec.files["roads"]
    label = spec.label("roads")
    name = path.name.lower()
    if name.endswith(".graphml"):
        return _read_graphml(path, label, spec, problems)
    if name.endswith(".osm"):
        return _read_osm_xml(path, label, spec, problems)
    return _read_pbf(path, label, spec, problems)


@dataclass(frozen=True)
class Network:
    """The road network of a scenario and a spatial index of its nodes (for facilities)."""

    roads: RoadNetwork
    tree: spatial.cKDTree

    def distance_m(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Straight-line distance from each point to its nearest road node."""
        if len(x) == 0:
            return np.zeros(0)
        d, _ = self.tree.query(np.column_stack([x, y]))
        return np.asarray(d, dtype=float)


def _list(ids: list[int], k: int = 20) -> str:
    head = ", ".join(str(i) for i in ids[:k])
    return head + (f" (and {len(ids) - k} more)" if len(ids) > k else "")


def assemble(raw: _Raw, grids: GridData, spec: Spec, problems: Problems) -> Network | None:
    """Merge parallel links (the fastest stays), snap every grid to the main road network (the
    connected piece that reaches most grids) and keep only that piece.

    A grid's node is the node that names it (GraphML ``grid``), else the nearest node of the main
    piece; a grid whose centre is farther than ``max_snap_m`` from it is an error, and grids
    whose road node lies on another piece are reported together as unreachable."""
    label = spec.label("roads")
    g = grids.region.grids
    n_grids = g.n
    n_nodes = len(raw.x)
    n_before = problems.count
    keep = raw.u != raw.v
    a = np.minimum(raw.u, raw.v)[keep]
    b = np.maximum(raw.u, raw.v)[keep]
    length = raw.length_m[keep]
    speed = raw.speed_mps[keep]
    klass = raw.klass[keep]
    if len(a) == 0:
        problems.add(label, "", "roads", "expected at least one driveable road link, got none")
        return None
    order = np.lexsort((length / speed, b, a))
    a, b, length, speed, klass = a[order], b[order], length[order], speed[order], klass[order]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    a, b, length, speed, klass = a[first], b[first], length[first], speed[first], klass[first]
    adj = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n_nodes, n_nodes))
    _, label_of = csgraph.connected_components(adj, directed=False)
    # nodes named by the data
    node_of = np.full(n_grids, -1, dtype=np.int64)
    for i in np.flatnonzero(raw.node_grid >= 0):
        k = int(raw.node_grid[i])
        if k >= n_grids:
            problems.add(label, raw.node_name[i], "grid",
                         f"expected a grid id in 0..{n_grids - 1}, got {k}")
        elif node_of[k] >= 0:
            problems.add(label, raw.node_name[i], "grid", f"expected each grid on one node, got "
                         f"grid {k} also on {raw.node_name[int(node_of[k])]}")
        else:
            node_of[k] = i
    key_index: dict[str, int] | None = None
    for gid, key in enumerate(grids.road_node):
        if key is None:
            continue
        if key_index is None:
            key_index = {k: i for i, k in enumerate(raw.node_key)}
        if key not in key_index:
            problems.add(spec.label("grids"), grids.where[gid], "road_node",
                         f"expected the id of a node of {label}, got {key!r}")
        else:
            node_of[gid] = key_index[key]
    # linked nodes only: an isolated node is no road
    linked = np.zeros(n_nodes, dtype=bool)
    linked[a] = True
    linked[b] = True
    cand = np.flatnonzero(linked)
    pts = np.column_stack([raw.x, raw.y])
    centres = np.column_stack([g.x_m, g.y_m])
    d0, k0 = spatial.cKDTree(pts[cand]).query(centres)
    near0 = cand[k0]
    free = node_of < 0
    within = free & (d0 <= spec.max_snap_m)
    votes = np.concatenate([label_of[near0[within]], label_of[node_of[~free]]])
    if len(votes) == 0:
        main = int(np.bincount(label_of[cand]).argmax())
    else:
        main = int(np.bincount(votes).argmax())
    main_nodes = np.flatnonzero(linked & (label_of == main))
    main_tree = spatial.cKDTree(pts[main_nodes])
    d1, k1 = main_tree.query(centres)
    unreachable: list[int] = []
    grid_label = spec.label("grids")
    named_d = np.hypot(raw.x[np.maximum(node_of, 0)] - g.x_m, raw.y[np.maximum(node_of, 0)] - g.y_m)
    for gid in range(n_grids):
        if not free[gid]:
            if named_d[gid] > spec.max_snap_m:  # the node the data names, far from the grid
                problems.add(grid_label, grids.where[gid], "centre",
                             f"expected the grid's road node ({raw.node_name[node_of[gid]]} of "
                             f"{label}) within max_snap_m = {spec.max_snap_m:g} m ({SPEC_FILE}) "
                             f"of the grid's centre, got {named_d[gid]:.0f} m")
            elif label_of[node_of[gid]] != main:
                unreachable.append(gid)
            continue
        if d1[gid] <= spec.max_snap_m:
            node_of[gid] = main_nodes[k1[gid]]
        elif d0[gid] <= spec.max_snap_m:
            unreachable.append(gid)
        else:
            problems.add(grid_label, grids.where[gid], "centre",
                         f"expected a road node within max_snap_m = {spec.max_snap_m:g} m "
                         f"({SPEC_FILE}) of the grid's centre, got the nearest road "
                         f"{d0[gid]:.0f} m away in {label}")
    if unreachable:
        problems.add(label, f"grids {_list(unreachable)}", "connectivity",
                     "expected every grid to be reachable by road from the others, got "
                     f"{len(unreachable)} grid{'s' if len(unreachable) > 1 else ''} whose "
                     "nearest roads are not connected to the road network of the other "
                     f"{n_grids - len(unreachable)} grids")
    if problems.count > n_before:
        return None
    in_main = label_of == main
    new_id = np.cumsum(in_main) - 1
    e = in_main[a]
    roads = RoadNetwork(
        x_m=raw.x[in_main].astype(np.float64), y_m=raw.y[in_main].astype(np.float64),
        edge_u=new_id[a[e]].astype(np.int64), edge_v=new_id[b[e]].astype(np.int64),
        length_m=length[e].astype(np.float64), speed_mps=speed[e].astype(np.float64),
        road_class=klass[e].astype(np.int8), grid_node=new_id[node_of].astype(np.int64),
    )
    return Network(roads=roads, tree=spatial.cKDTree(np.column_stack([roads.x_m, roads.y_m])))
