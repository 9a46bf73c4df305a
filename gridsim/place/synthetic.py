"""A seeded synthetic region: urban core, rural periphery, roads, people, supplies, stations.

The generator needs no data files, so the default scenario runs anywhere. Layout: grids are
placed on a sunflower (Vogel) spiral whose radius grows with the cumulative grid area, urban
grids first, so each grid gets about its own area of land and the urban core is dense. Roads are
the Delaunay links between grid centres (long links dropped, but never one the minimum spanning
tree needs, so the network stays connected), with urban, rural and radial arterial classes.
Townships and villages are population-balanced k-means clusters of grids.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

import numpy as np
from scipy import spatial
from scipy.sparse import coo_matrix, csgraph

from gridsim.model.params import ScenarioConfig, scenario_presets
from gridsim.model.people import ALL_CATEGORIES, Roster, category_bit, role_bit
from gridsim.model.rates import GENERATED_EXPOSURES
from gridsim.model.region import Adjacency, Grids, Hierarchy, Region
from gridsim.model.streams import Streams, keyed_uniforms, stream_key
from gridsim.model.supplies import SupplyPoints
from gridsim.model.vocab import CATEGORIES, DEPARTMENTS, GRID_KINDS, SUPPLY_ITEMS
from gridsim.place.gridding import Compounds, GridDesign, UrbanGrids, design_grids
from gridsim.place.roads import RoadNetwork

__all__ = ["city", "generate", "kmeans_sites", "scaled"]

_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def _lognormal(rng: np.random.Generator, mean: np.ndarray, cv: np.ndarray) -> np.ndarray:
    sigma = np.sqrt(np.log1p(np.asarray(cv, dtype=float) ** 2))
    z = rng.standard_normal(len(mean))
    with np.errstate(divide="ignore"):
        mu = np.log(mean) - sigma**2 / 2  # a mean of 0 gives exactly 0
    return np.exp(mu + sigma * z)


def kmeans_sites(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator, iters: int = 12
) -> np.ndarray:
    """Weighted k-means labels of points (k-means++ start, Lloyd iterations)."""
    n = len(x)
    k = max(1, min(k, n))
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    pts = np.column_stack([x, y])
    w = np.asarray(w, dtype=float) + 1e-9
    centres = np.empty((k, 2))
    centres[0] = pts[_draw(rng, w / w.sum())]
    d2 = (x - centres[0, 0]) ** 2 + (y - centres[0, 1]) ** 2
    p = np.empty(n)
    step = np.empty(n)
    for i in range(1, k):
        np.multiply(w, d2, out=p)
        total = p.sum()
        if total > 0:
            p /= total
            centres[i] = pts[_draw(rng, p)]
        else:
            centres[i] = pts[rng.integers(n)]
        np.subtract(x, centres[i, 0], out=step)
        step *= step
        d2y = y - centres[i, 1]
        d2y *= d2y
        step += d2y
        np.minimum(d2, step, out=d2)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        _, labels = spatial.cKDTree(centres).query(pts)
        sw = np.bincount(labels, weights=w, minlength=k)
        cx = np.bincount(labels, weights=w * x, minlength=k)
        cy = np.bincount(labels, weights=w * y, minlength=k)
        empty = sw == 0
        centres[~empty, 0] = cx[~empty] / sw[~empty]
        centres[~empty, 1] = cy[~empty] / sw[~empty]
    _, labels = spatial.cKDTree(centres).query(pts)
    # relabel so that labels are 0..m-1 without gaps, in order of first appearance by position
    uniq = np.unique(labels)
    remap = np.full(k, -1)
    remap[uniq] = np.arange(len(uniq))
    return remap[labels]


def _draw(rng: np.random.Generator, p: np.ndarray) -> int:
    """``rng.choice(len(p), p=p)`` for probabilities ``p`` known to be valid: the same draw and
    the same arithmetic (the cumulative sum, normalised, searched with one uniform), without
    the checks that cost three more passes over ``p`` (k-means++ draws once per site)."""
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random(), side="right"))


def round_to_total(x: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``x`` that add up to ``total`` (largest remainders)."""
    q = x / x.sum() * total
    base = np.floor(q).astype(np.int64)
    order = np.argsort(-(q - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


def _compound_grids(cfg: ScenarioConfig, rng: np.random.Generator) -> UrbanGrids:
    """Urban-community grids made by the grid design from seeded compounds."""
    cc = cfg.compounds
    people = _lognormal(rng, np.full(cc.count, 1.0), np.full(cc.count, cc.people_cv))
    people = np.maximum(1, round_to_total(people, cc.people_total))
    area = people / cc.density_per_km2
    cum = np.cumsum(area) - area / 2
    r_m = np.sqrt(cum / math.pi) * 1000.0
    theta = np.arange(cc.count) * _GOLDEN_ANGLE
    comps = Compounds(x_m=r_m * np.cos(theta), y_m=r_m * np.sin(theta), people=people,
                      area_km2=area)
    d = cc.design
    return design_grids(comps, GridDesign(d.grids, d.single_compound_share, d.compounds_per_grid))


def _layout(cfg: ScenarioConfig, rng: np.random.Generator):
    kinds = [GRID_KINDS.index(k) for k in cfg.kinds]
    kind_cfgs = list(cfg.kinds.values())
    zones = {"urban": cfg.urban_grids, "rural": cfg.rural_grids}
    with_compounds = cfg.compounds.count > 0
    designed = _compound_grids(cfg, rng) if with_compounds else None
    kind_arr = []
    if designed is not None:
        kind_arr.append(np.full(designed.n, GRID_KINDS.index("urban_community")))
    for zone, n in zones.items():
        ids = [i for i, kc in enumerate(kind_cfgs) if kc.zone == zone
               and not (with_compounds and kinds[i] == GRID_KINDS.index("urban_community"))]
        if n == 0:
            continue
        wts = np.array([kind_cfgs[i].weight for i in ids], dtype=float)
        pick = rng.choice(len(ids), size=n, p=wts / wts.sum())
        kind_arr.append(np.array([kinds[ids[j]] for j in pick]))
    kind = np.concatenate(kind_arr).astype(np.int8)
    by_kind = {GRID_KINDS.index(k): v for k, v in cfg.kinds.items()}
    mean_area = np.array([by_kind[k].area_km2 for k in kind])
    area = _lognormal(rng, mean_area, np.array([by_kind[k].area_cv for k in kind]))
    n_designed = designed.n if designed is not None else 0
    if designed is not None:
        area[:n_designed] = designed.area_km2
    rural = np.array([cfg.kinds[GRID_KINDS[k]].zone == "rural" for k in kind])
    if cfg.rural_land_km2 > 0 and rural.any():
        area[rural] *= cfg.rural_land_km2 / area[rural].sum()
    # sunflower spiral: grid i sits at the radius enclosing the area of grids 0..i
    cum = np.cumsum(area) - area / 2
    r_m = np.sqrt(cum / math.pi) * 1000.0
    theta = np.arange(len(kind)) * _GOLDEN_ANGLE
    x = r_m * np.cos(theta)
    y = r_m * np.sin(theta)
    pop = _lognormal(rng, np.array([by_kind[k].population for k in kind]),
                     np.array([by_kind[k].population_cv for k in kind]))
    pop = np.maximum(1, np.round(pop)).astype(np.int64)
    if designed is not None:
        pop[:n_designed] = round_to_total(designed.people, round(float(designed.people.sum())))
    if cfg.rural_population > 0 and rural.any():
        pop[rural] = round_to_total(pop[rural].astype(float), cfg.rural_population)
    hh = np.maximum(1, np.round(pop / np.array([by_kind[k].household_size for k in kind])))
    vm = np.array([by_kind[k].vulnerable_share for k in kind])
    conc = 20.0
    vuln = rng.beta(vm * conc, (1 - vm) * conc)
    compounds = np.zeros(len(kind), dtype=np.int64)
    if designed is not None:
        compounds[:n_designed] = designed.compounds
    return kind, area, x, y, pop, hh.astype(np.int64), vuln, compounds


def _hierarchy(cfg: ScenarioConfig, x, y, pop, rng):
    n_town = cfg.counties * cfg.townships_per_county
    township = kmeans_sites(x, y, pop, n_town, rng)
    n_town = int(township.max()) + 1
    tx = np.bincount(township, weights=x) / np.bincount(township)
    ty = np.bincount(township, weights=y) / np.bincount(township)
    # counties: angular sectors around the centre, townships sorted by angle
    ang = np.arctan2(ty, tx)
    order = np.argsort(ang, kind="stable")
    township_county = np.empty(n_town, dtype=np.int64)
    for c, chunk in enumerate(np.array_split(order, cfg.counties)):
        township_county[chunk] = c
    # renumber townships county by county
    new_id = np.empty(n_town, dtype=np.int64)
    new_id[np.lexsort((ang, township_county))] = np.arange(n_town)
    township = new_id[township]
    township_county = township_county[np.argsort(new_id)]
    village = np.empty(len(x), dtype=np.int64)
    village_township: list[int] = []
    for t in range(n_town):
        ids = np.flatnonzero(township == t)
        lab = kmeans_sites(x[ids], y[ids], pop[ids], cfg.villages_per_township, rng, iters=8)
        village[ids] = len(village_township) + lab
        village_township.extend([t] * (int(lab.max()) + 1))
    county_names = tuple(f"C{c + 1}" for c in range(cfg.counties))
    township_names = tuple(f"C{township_county[t] + 1}-T{t + 1}" for t in range(n_town))
    village_names = tuple(f"T{vt + 1}-V{v + 1}" for v, vt in enumerate(village_township))
    hier = Hierarchy(
        county_names=county_names,
        township_names=township_names,
        township_county=township_county,
        village_names=village_names,
        village_township=np.array(village_township, dtype=np.int64),
    )
    return hier, township, village


def _roads(cfg: ScenarioConfig, kind, area, x, y):
    rc = cfg.roads
    n = len(x)
    pts = np.column_stack([x, y])
    if n < 3:
        u = np.arange(n - 1)
        v = u + 1
    else:
        tri = spatial.Delaunay(pts)
        s = tri.simplices
        e = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]).astype(np.int64)
        e.sort(axis=1)
        # the distinct links in (u, v) order: np.unique(e, axis=0) on integer keys, faster
        key = np.sort(e[:, 0] * n + e[:, 1])
        key = key[np.r_[True, key[1:] != key[:-1]]]
        u, v = key // n, key % n
    dist = np.hypot(x[u] - x[v], y[u] - y[v])
    spacing = 1000.0 * np.sqrt(np.maximum(area[u], area[v]))
    keep = dist <= rc.max_link_factor * spacing
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    if n > 1:
        mst = csgraph.minimum_spanning_tree(coo_matrix((dist + 1e-9, (u, v)), shape=(n, n)))
        mu, mv = mst.nonzero()
        in_mst = np.minimum(mu, mv).astype(np.int64) * n + np.maximum(mu, mv)
        keep |= np.isin(u * n + v, in_mst)
    u, v, dist = u[keep], v[keep], dist[keep]
    zone_urban = np.array([k in cfg.kinds and cfg.kinds[k].zone == "urban" for k in GRID_KINDS])
    urban = zone_urban[np.asarray(kind, dtype=np.int64)]
    klass = np.where(urban[u] & urban[v], 0, 1).astype(np.int8)
    # arterials: shortest paths (by length) from the centre grid to far grids at k angles
    if rc.arterials > 0 and n > 2:
        g = coo_matrix((dist, (u, v)), shape=(n, n)).tocsr()
        centre = int(np.argmin(np.hypot(x, y)))
        _, pred = csgraph.dijkstra(g, directed=False, indices=centre, return_predecessors=True)
        ang = np.arctan2(y, x)
        r = np.hypot(x, y)
        edge_key = u * n + v  # u < v, in sorted order (the links come sorted from np.unique)
        key_order = np.argsort(edge_key, kind="stable")
        sorted_keys = edge_key[key_order]
        for k in range(rc.arterials):
            target_ang = -math.pi + 2 * math.pi * (k + 0.5) / rc.arterials
            dang = np.abs(np.angle(np.exp(1j * (ang - target_ang))))
            cand = np.flatnonzero(dang < math.pi / rc.arterials)
            if len(cand) == 0:
                continue
            node = int(cand[np.argmax(r[cand])])
            path = [node]
            while node != centre and pred[node] >= 0:
                node = int(pred[node])
                path.append(node)
            a = np.array(path, dtype=np.int64)
            keys = np.minimum(a[1:], a[:-1]) * n + np.maximum(a[1:], a[:-1])
            at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
            found = sorted_keys[at] == keys
            klass[key_order[at[found]]] = 2
    speeds = np.array([rc.urban_speed_kmh, rc.rural_speed_kmh, rc.arterial_speed_kmh]) / 3.6
    roads = RoadNetwork(
        x_m=x.copy(), y_m=y.copy(), edge_u=u.astype(np.int64), edge_v=v.astype(np.int64),
        length_m=dist * rc.detour_factor, speed_mps=speeds[klass], road_class=klass,
        grid_node=np.arange(n),
    )
    return roads, Adjacency.from_edges(n, u, v)


def _roster(cfg: ScenarioConfig, grids: Grids, rng: np.random.Generator) -> Roster:
    pc = cfg.people
    n = grids.n
    extra = pc.commanders_per_grid - math.floor(pc.commanders_per_grid)
    n_cmd = math.floor(pc.commanders_per_grid) + (rng.random(n) < extra).astype(np.int64)
    n_cmd = np.maximum(n_cmd, 1)  # every grid has someone who knows (明白人)
    if pc.commanders_total > 0:  # exactly this many: one per grid, the rest spread at random
        n_cmd = np.ones(n, dtype=np.int64)
        extra_total = max(0, pc.commanders_total - n)
        np.add.at(n_cmd, rng.choice(n, size=extra_total, replace=extra_total > n), 1)
    n_work = np.full(n, pc.grid_workers_per_grid, dtype=np.int64)
    n_party = rng.poisson(grids.population * pc.party_members_per_1000 / 1000.0)
    per_grid = 1 + n_cmd + n_work + n_party
    total = int(per_grid.sum())
    grid = np.repeat(np.arange(n), per_grid)
    start = np.concatenate([[0], np.cumsum(per_grid)[:-1]])
    slot = np.arange(total) - np.repeat(start, per_grid)
    n_cmd_r, n_work_r = np.repeat(n_cmd, per_grid), np.repeat(n_work, per_grid)
    is_leader = slot == 0
    is_cmd = (slot >= 1) & (slot < 1 + n_cmd_r)
    is_work = (slot >= 1 + n_cmd_r) & (slot < 1 + n_cmd_r + n_work_r)
    is_party = slot >= 1 + n_cmd_r + n_work_r
    roles = np.zeros(total, dtype=np.uint8)
    roles[is_leader] = role_bit("grid_leader") | role_bit("party_member")
    roles[is_cmd] = role_bit("commander") | role_bit("party_member")
    roles[is_work] = role_bit("grid_worker")
    roles[is_party] = role_bit("party_member")
    cats = np.zeros(total, dtype=np.uint8)
    cats[is_leader] = category_bit("order") | category_bit("information")
    cats[is_cmd] = ALL_CATEGORIES
    cats[is_work] = category_bit("information") | category_bit("order") | category_bit("relocation")
    shares = np.array([pc.category_shares.get(c, 0.0) for c in CATEGORIES], dtype=float)
    pick = rng.choice(len(CATEGORIES), size=int(is_party.sum()), p=shares / shares.sum())
    cats[is_party] = (1 << pick).astype(np.uint8)
    # where each person lives and whether they work away: drawn per person, keyed on who they
    # are (grid, kind of member, rank among them), not on how many came before, so that a
    # variant with more or fewer grid workers leaves everybody else's home and job as they were
    # (common random numbers across team sizes)
    key = stream_key(rng)
    kind = np.select([is_leader, is_cmd, is_work], [0, 1, 2], 3)
    rank = slot - np.select([is_leader, is_cmd, is_work],
                            [0, 1, 1 + n_cmd_r], 1 + n_cmd_r + n_work_r)
    u = keyed_uniforms(key, grid[:, None], kind[:, None], rank[:, None], np.arange(3)[None, :])
    side = grids.side_m()[grid]
    px = grids.x_m[grid] + (u[:, 0] - 0.5) * side
    py = grids.y_m[grid] + (u[:, 1] - 0.5) * side
    away_p = np.zeros(total)
    for role, share in pc.away_share.items():
        away_p[(roles & role_bit(role)) != 0] = share
    # the leading role decides: commanders' share applies to commanders even if party members
    away_p[is_cmd] = pc.away_share.get("commander", 0.0)
    away_p[is_leader] = pc.away_share.get("grid_leader", 0.0)
    away = u[:, 2] < away_p
    indptr = np.concatenate([[0], np.cumsum(per_grid)])
    return Roster(grid=grid.astype(np.int32), roles=roles, categories=cats, x_m=px, y_m=py,
                  away_in_work_hours=away, by_grid_indptr=indptr)


def _supplies(cfg: ScenarioConfig, grids: Grids, township: np.ndarray, n_town: int) -> SupplyPoints:
    sc = cfg.supplies
    stock = np.zeros((grids.n, len(SUPPLY_ITEMS)), dtype=np.int64)
    for k, kind_name in enumerate(GRID_KINDS):
        per = sc.grid_stock.get(kind_name, {})
        for i, item in enumerate(SUPPLY_ITEMS):
            stock[grids.kind == k, i] = int(per.get(item, 0))
    n_per_town = np.bincount(township, minlength=n_town)
    depot = np.zeros((n_town, len(SUPPLY_ITEMS)), dtype=np.int64)
    for i, item in enumerate(SUPPLY_ITEMS):
        depot[:, i] = n_per_town * int(sc.depot_stock_per_grid.get(item, 0))
    # the depot stands in the grid nearest the township's population centre
    depot_grid = np.empty(n_town, dtype=np.int64)
    for t in range(n_town):
        ids = np.flatnonzero(township == t)
        w = grids.population[ids].astype(float)
        cx, cy = np.average(grids.x_m[ids], weights=w), np.average(grids.y_m[ids], weights=w)
        depot_grid[t] = ids[np.argmin(np.hypot(grids.x_m[ids] - cx, grids.y_m[ids] - cy))]
    return SupplyPoints(grid_stock=stock, depot_stock=depot, depot_grid=depot_grid)


def _stations(cfg: ScenarioConfig, grids: Grids, rng: np.random.Generator):
    dept, grid, units = [], [], []
    for d, dc in cfg.departments.items():
        labels = kmeans_sites(grids.x_m, grids.y_m, grids.population, dc.stations, rng, iters=8)
        # each label's grids in grid order (a stable sort), not a pass over all grids per label
        by_label = np.argsort(labels, kind="stable")
        cuts = np.searchsorted(labels[by_label], np.arange(int(labels.max()) + 2))
        for lab in range(int(labels.max()) + 1):
            ids = by_label[cuts[lab]:cuts[lab + 1]]
            w = grids.population[ids].astype(float)
            cx = np.average(grids.x_m[ids], weights=w)
            cy = np.average(grids.y_m[ids], weights=w)
            g = ids[np.argmin(np.hypot(grids.x_m[ids] - cx, grids.y_m[ids] - cy))]
            dept.append(DEPARTMENTS.index(d))
            grid.append(int(g))
            units.append(dc.units_per_station)
    return np.array(dept, dtype=np.int64), np.array(grid, dtype=np.int64), np.array(units, np.int64)


def _monitoring_points(cfg: ScenarioConfig, kind: np.ndarray, rng: np.random.Generator
                       ) -> np.ndarray:
    """Key monitoring points (重点监测点: geohazard, flood, fire) placed on grids, rural grids
    three times as likely as others [assumed]."""
    n = len(kind)
    if cfg.monitoring_points <= 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    w = np.where(kind == GRID_KINDS.index("rural"), 3.0, 1.0)
    picks = rng.choice(n, size=cfg.monitoring_points, p=w / w.sum())
    return np.bincount(picks, minlength=n).astype(np.int64)


#: Generated exposures that are counts (int32); the others are km² or a share (float32).
_COUNT_EXPOSURES = ("buildings", "ebikes", "enterprises")


def exposures(cfg: ScenarioConfig, kind: np.ndarray, area_km2: np.ndarray,
              population: np.ndarray, households: np.ndarray, rng: np.random.Generator,
              only: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """The generated exposures of grids (:data:`gridsim.model.rates.GENERATED_EXPOSURES`) from
    ``cfg.exposure_per_kind``: for grids of each kind, the kind's mean × the grid's residents,
    households or area × a lognormal factor (mean 1, ``cv``), then scaled so that the kind's
    total is exactly the mean × the kind's residents, households or area (counts rounded by
    largest remainders to the kind's rounded total). Land exposures are at most the grid's area, and
    ``flood_prone_share`` (drawn as flood-prone residents) is at most 1. Kinds without
    settings get 0. ``only``: these exposures (all by default); the draws of each exposure are
    the same whichever others are drawn (each has its own block of normal draws)."""
    n = len(kind)
    bases = {"residents": population.astype(np.float64),
             "households": households.astype(np.float64), "area_km2": area_km2.astype(float)}
    z = rng.standard_normal((len(GENERATED_EXPOSURES), n))
    out: dict[str, np.ndarray] = {}
    for row, (name, (field_name, per, factor)) in enumerate(GENERATED_EXPOSURES.items()):
        if only is not None and name not in only:
            continue
        base = bases[per]
        value = np.zeros(n)
        for kind_name, ec in cfg.exposure_per_kind.items():
            ids = np.flatnonzero(kind == GRID_KINDS.index(kind_name))
            mean = float(getattr(ec, field_name)) * factor
            if len(ids) == 0 or mean <= 0 or base[ids].sum() <= 0:
                continue
            sigma = math.sqrt(math.log1p(float(ec.cv) ** 2))
            v = base[ids] * np.exp(sigma * z[row, ids] - sigma**2 / 2)
            v *= mean * base[ids].sum() / v.sum()
            if per == "area_km2" or name == "flood_prone_share":
                v = np.minimum(v, base[ids])  # a share of the land or of the residents
            if name in _COUNT_EXPOSURES:  # whole units, the kind's total rounded
                v = round_to_total(v, round(float(v.sum()))).astype(float)
            value[ids] = v
        if name in _COUNT_EXPOSURES:
            out[name] = value.astype(np.int32)
        elif name == "flood_prone_share":
            pop = bases["residents"]
            out[name] = np.divide(value, pop, out=np.zeros(n), where=pop > 0).astype(np.float32)
        else:
            out[name] = value.astype(np.float32)
    return out


def generate(cfg: ScenarioConfig, streams: Streams):
    """Generate a synthetic scenario's parts: ``(region, roads, roster, supplies, stations)``,
    where ``stations`` is ``(department, grid, units)`` arrays. Seeded by ``streams``."""
    rng = streams.fresh("scenario/layout")
    kind, area, x, y, pop, hh, vuln, compounds = _layout(cfg, rng)
    hier, township, village = _hierarchy(cfg, x, y, pop, streams.fresh("scenario/hierarchy"))
    points = _monitoring_points(cfg, kind, streams.fresh("scenario/monitoring"))
    exposed = exposures(cfg, kind, area, pop, hh, streams.fresh("scenario/exposure"))
    grids = Grids(
        village=village, township=township, county=hier.township_county[township], kind=kind,
        area_km2=area, population=pop, households=hh, vulnerable_share=vuln, x_m=x, y_m=y,
        compounds=compounds, monitoring_points=points, **exposed,
    )
    roads, adjacency = _roads(cfg, kind, area, x, y)
    region = Region(name=cfg.name, hierarchy=hier, grids=grids, neighbours=adjacency)
    roster = _roster(cfg, grids, streams.fresh("scenario/people"))
    supplies = _supplies(cfg, grids, township, hier.n_townships)
    stations = _stations(cfg, grids, streams.fresh("scenario/stations"))
    return region, roads, roster, supplies, stations


# ----------------------------------------------------------------------------------------------
# larger cities, for measuring how cost grows with the city
# ----------------------------------------------------------------------------------------------
def scaled(cfg: ScenarioConfig, scale: int) -> ScenarioConfig:
    """``cfg`` with a city ``scale`` times larger: grids (urban and rural), rural land and
    people, the exact commanders total, key monitoring points and every department's stations
    times ``scale``; townships, villages per township and every per-grid figure stay (so each
    township is ``scale`` times larger). A copy; ``cfg`` is unchanged."""
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    # one replace (settings may be frozen, gridsim.model.frozen: no assignment after it)
    return dataclasses.replace(
        cfg,
        name=f"{cfg.name}_x{scale}" if scale != 1 else cfg.name,
        urban_grids=cfg.urban_grids * scale,
        rural_grids=cfg.rural_grids * scale,
        rural_land_km2=cfg.rural_land_km2 * scale,
        rural_population=cfg.rural_population * scale,
        monitoring_points=cfg.monitoring_points * scale,
        people=dataclasses.replace(cfg.people,
                                   commanders_total=cfg.people.commanders_total * scale),
        departments={d: dataclasses.replace(dc, stations=dc.stations * scale)
                     for d, dc in cfg.departments.items()},
        compounds=dataclasses.replace(
            cfg.compounds, count=cfg.compounds.count * scale,
            people_total=cfg.compounds.people_total * scale,
            design=dataclasses.replace(cfg.compounds.design,
                                       grids=cfg.compounds.design.grids * scale)))


def city(scale: int = 1, base: ScenarioConfig | None = None) -> ScenarioConfig:
    """The ``suining_city`` preset (18,176 grids) ``scale`` times larger (:func:`scaled`):
    ``city(4)`` has 72,704 grids. ``base``: another scenario to scale instead of the preset.
    For benchmarks: ``simulate(dataclasses.replace(settings, scenario=city(4)))``."""
    if base is None:
        import yaml  # only here: the preset file, read without the config system

        text = scenario_presets()["suining_city"].read_text(encoding="utf-8")
        base = _from_mapping(ScenarioConfig, yaml.safe_load(text))
    return scaled(base, scale)


def _from_mapping(cls: type, data: dict[str, Any]) -> Any:
    """A settings dataclass from a plain mapping of its fields (nested dataclasses, dicts and
    lists of them); unknown keys are an error."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    return cls(**{k: _value(hints[k], v) for k, v in data.items()})


def _value(tp: Any, v: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp) and isinstance(v, dict):
        return _from_mapping(typing.cast(type, tp), v)
    if origin is dict and isinstance(v, dict):
        return {k: _value(args[1], x) for k, x in v.items()}
    if origin is list and isinstance(v, list):
        return [_value(args[0], x) for x in v]
    if tp is float and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v
