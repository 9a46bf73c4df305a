"""Writing a built scenario as a scenario folder, such that loading it gives the same arrays."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from gridsim.fsutil import atomic_target
from gridsim.model.frozen import thaw
from gridsim.model.people import ALL_CATEGORIES, category_bit, role_bit
from gridsim.model.region import SYNTHETIC_CRS  # the synthetic scenarios' CRS, named here too
from gridsim.model.vocab import CATEGORIES, DEPARTMENTS, GRID_KINDS, ROLES, SUPPLY_ITEMS
from gridsim.place.folder.spec import DEFAULT_MAX_SNAP_M, SPEC_FILE
from gridsim.place.lonlat import WGS84, geometry_texts, oriented_lonlat
from gridsim.place.roads import ROAD_CLASSES

if TYPE_CHECKING:
    from gridsim.model.params import ScenarioConfig
    from gridsim.model.people import Roster
    from gridsim.model.region import Region
    from gridsim.model.stations import Stations
    from gridsim.model.supplies import SupplyPoints
    from gridsim.place.roads import RoadNetwork
    from gridsim.place.shelters import Shelters


class Scenario(Protocol):
    """What export needs of a built scenario (:class:`gridsim.place.scenario.Scenario`, which
    builds on this package, so it is named by its shape here)."""

    @property
    def region(self) -> Region: ...
    @property
    def roads(self) -> RoadNetwork: ...
    @property
    def roster(self) -> Roster: ...
    @property
    def supplies(self) -> SupplyPoints: ...
    @property
    def stations(self) -> Stations: ...
    @property
    def shelters(self) -> Shelters: ...

__all__ = ["EXPORT_DECIMALS", "SYNTHETIC_CRS", "export_scenario"]


_FILES = {"grids": "grids.geojson", "roads": "roads.graphml",
          "supply_points": "supply_points.csv", "depots": "depots.csv",
          "stations": "stations.csv", "rosters": "rosters.csv"}
_SHELTERS_FILE = "shelters.csv"


def _atomic(path: Path, write: Any) -> Path:
    """Write ``path`` under a temporary name in the same folder, then rename it into place."""
    with atomic_target(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        write(fh)
    return path


def _num(v: float) -> str:
    return repr(float(v))


def _csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> Path:
    def write(fh: io.TextIOBase) -> None:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)

    return _atomic(path, write)


def _names(mask: int, vocab: tuple[str, ...], bit: Any) -> str:
    return "|".join(v for v in vocab if mask & bit(v))


#: Decimals of lon/lat in an exported grids.geojson: ``None``, every digit (the shortest text
#: of each double), so that the polygons load back into the scenario's metres to a nanometre
#: and the centres and areas they give match the scenario's (a run's grids.geojson, for
#: viewing, rounds to 1e-6 degree).
EXPORT_DECIMALS: int | None = None


def _grids(scenario: Scenario, crs: str, path: Path) -> Path:
    """grids.geojson in lon/lat (WGS 84, RFC 7946: no ``crs`` member, right-hand rings): the
    grids' polygons (their own where the scenario has them, squares of their area otherwise),
    and as properties everything a grid is, its centre and area in the scenario's metres
    exactly."""
    region = dataclasses.replace(scenario.region, crs=crs)
    g = region.grids
    h = region.hierarchy
    shapes, lon, lat = oriented_lonlat(region)
    geoms = geometry_texts(shapes, lon, lat, g.n, EXPORT_DECIMALS)

    def feature(i: int) -> str:
        x, y = float(g.x_m[i]), float(g.y_m[i])
        t = int(g.township[i])
        props = json.dumps({
            "id": i,
            "county": h.county_names[int(h.township_county[t])],
            "township": h.township_names[t],
            "village": h.village_names[int(g.village[i])],
            "kind": GRID_KINDS[int(g.kind[i])],
            "population": int(g.population[i]),
            "households": int(g.households[i]),
            "vulnerable_share": float(g.vulnerable_share[i]),
            "compounds": int(g.compounds[i]),
            "monitoring_points": int(g.monitoring_points[i]),
            "buildings": int(g.buildings[i]),
            "ebikes": int(g.ebikes[i]),
            "enterprises": int(g.enterprises[i]),
            "forest_km2": float(g.forest_km2[i]),
            "steep_slope_km2": float(g.steep_slope_km2[i]),
            "flood_prone_share": float(g.flood_prone_share[i]),
            "area_km2": float(g.area_km2[i]),
            "centre_x_m": x,
            "centre_y_m": y,
            "road_node": str(int(scenario.roads.grid_node[i])),
            "neighbours": region.neighbours.of(i).tolist(),
        }, ensure_ascii=False)
        return f'{{"type": "Feature", "properties": {props}, "geometry": {geoms[i]}}}'

    def write(fh: io.TextIOBase) -> None:
        fh.write('{"type": "FeatureCollection",\n "name": "grids",\n "features": [\n')
        for i in range(g.n):
            fh.write(feature(i))
            fh.write(",\n" if i < g.n - 1 else "\n")
        fh.write("]}\n")

    return _atomic(path, write)


def _roads(scenario: Scenario, path: Path) -> Path:
    """GraphML written directly (nodes ``0..n-1`` in order, floats with ``repr``)."""
    from xml.sax.saxutils import quoteattr  # start-up time: XML only for GraphML roads

    r = scenario.roads

    def write(fh: io.TextIOBase) -> None:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
                 '  <key id="x" for="node" attr.name="x" attr.type="double"/>\n'
                 '  <key id="y" for="node" attr.name="y" attr.type="double"/>\n'
                 '  <key id="length_m" for="edge" attr.name="length_m" attr.type="double"/>\n'
                 '  <key id="speed_mps" for="edge" attr.name="speed_mps" attr.type="double"/>\n'
                 '  <key id="road_class" for="edge" attr.name="road_class" '
                 'attr.type="string"/>\n'
                 '  <graph id="roads" edgedefault="undirected">\n')
        for i, (x, y) in enumerate(zip(r.x_m.tolist(), r.y_m.tolist(), strict=True)):
            fh.write(f'    <node id="{i}"><data key="x">{x!r}</data>'
                     f'<data key="y">{y!r}</data></node>\n')
        for u, v, ln, sp, c in zip(r.edge_u.tolist(), r.edge_v.tolist(), r.length_m.tolist(),
                                   r.speed_mps.tolist(), r.road_class.tolist(), strict=True):
            cls = quoteattr(ROAD_CLASSES[int(c)])[1:-1]
            fh.write(f'    <edge source="{u}" target="{v}"><data key="length_m">{ln!r}</data>'
                     f'<data key="speed_mps">{sp!r}</data>'
                     f'<data key="road_class">{cls}</data></edge>\n')
        fh.write("  </graph>\n</graphml>\n")

    return _atomic(path, write)


def _roster_rows(scenario: Scenario) -> Iterable[list[Any]]:
    ro = scenario.roster
    role_names = {int(m): _names(int(m), ROLES, role_bit) for m in np.unique(ro.roles)}
    cat_names = {int(m): ("all" if int(m) == ALL_CATEGORIES else
                          _names(int(m), CATEGORIES, category_bit))
                 for m in np.unique(ro.categories)}
    for g, r, c, x, y, a in zip(ro.grid.tolist(), ro.roles.tolist(), ro.categories.tolist(),
                                ro.x_m.tolist(), ro.y_m.tolist(),
                                ro.away_in_work_hours.tolist(), strict=True):
        yield [g, role_names[r], cat_names[c], repr(x), repr(y), "true" if a else "false"]


def export_scenario(scenario: Scenario, cfg: ScenarioConfig, folder: Path, *,
                    crs: str | None = None, max_snap_m: float = DEFAULT_MAX_SNAP_M
                    ) -> list[Path]:
    """Write ``scenario`` as a scenario folder (created if needed; files of the same names are
    replaced, each atomically) and return the paths written.

    Loading the folder (:func:`gridsim.place.folder.load_parts`) gives back exactly the same
    arrays: every value is written in full (floats with ``repr``), grids carry their exact
    centre, area, road node and neighbours. Coordinates are those of the scenario, in ``crs``
    (by default the scenario's own, ``region.crs``: for a synthetic scenario
    :data:`SYNTHETIC_CRS`), except grids.geojson's polygons, which are in lon/lat (WGS 84,
    every digit) so that GIS tools place the folder where it belongs;
    scenario.yaml says so (``input_crs.grids``)."""
    import yaml  # start-up time: YAML only when a file is read or written

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    region = scenario.region
    crs = region.crs if crs is None else crs
    g = region.grids
    h = region.hierarchy
    sp = scenario.supplies
    st = scenario.stations
    written = [_grids(scenario, crs, folder / _FILES["grids"]),
               _roads(scenario, folder / _FILES["roads"])]
    written.append(_csv(folder / _FILES["supply_points"], ["grid", *SUPPLY_ITEMS],
                        ([i, *sp.grid_stock[i].tolist()] for i in range(g.n))))
    dg = sp.depot_grid
    written.append(_csv(folder / _FILES["depots"], ["township", "grid", "x", "y", *SUPPLY_ITEMS],
                        ([h.township_names[t], int(dg[t]), _num(g.x_m[dg[t]]),
                          _num(g.y_m[dg[t]]), *sp.depot_stock[t].tolist()]
                         for t in range(h.n_townships))))
    written.append(_csv(folder / _FILES["stations"], ["department", "units", "grid", "x", "y"],
                        ([DEPARTMENTS[int(d)], int(u), int(s), _num(g.x_m[s]), _num(g.y_m[s])]
                         for d, u, s in zip(st.department.tolist(), st.units.tolist(),
                                            st.grid.tolist(), strict=True))))
    written.append(_csv(folder / _FILES["rosters"],
                        ["grid", "roles", "categories", "x_m", "y_m", "away_in_work_hours"],
                        _roster_rows(scenario)))
    sh = scenario.shelters
    files = dict(_FILES)
    if sh.n:  # a scenario's own shelters (a synthetic one has none: runs place them)
        files["shelters"] = _SHELTERS_FILE
        written.append(_csv(folder / _SHELTERS_FILE, ["name", "capacity", "grid", "x", "y"],
                            ([sh.name[i], int(sh.capacity[i]), int(sh.grid[i]),
                              _num(sh.x_m[i]), _num(sh.y_m[i])] for i in range(sh.n))))
    generate: dict[str, Any] = {"seed": int(cfg.seed)}
    for key in ("people", "supplies"):
        v = getattr(cfg, key)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            generate[key] = dataclasses.asdict(v)
    generate["departments"] = {d: dataclasses.asdict(dc) for d, dc in cfg.departments.items()}
    if cfg.exposure_per_kind:  # the grids carry their exposures; these are for other grids
        generate["exposure_per_kind"] = {k: dataclasses.asdict(ec)
                                         for k, ec in cfg.exposure_per_kind.items()}
    spec: dict[str, Any] = {
        "name": region.name,
        "description": f"exported by gridsim from the scenario {cfg.name!r} "
                       f"(generator {cfg.generator})",
        "crs": crs,
        **files,
        "input_crs": {"grids": WGS84},  # grids.geojson in lon/lat; the other files in crs
        "max_snap_m": float(max_snap_m),
        "counties": list(h.county_names),
        "townships": list(h.township_names),
        "generate": generate,
    }

    def write_spec(fh: io.TextIOBase) -> None:
        fh.write("# A gridsim scenario folder (format: docs/scenario_format.md).\n")
        # thaw: safe_dump writes only exact dicts and lists, not frozen settings' own
        yaml.safe_dump(thaw(spec), fh, sort_keys=False, allow_unicode=True, width=100)

    written.insert(0, _atomic(folder / SPEC_FILE, write_spec))
    return written
