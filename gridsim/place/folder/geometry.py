"""Geometric consistency of a scenario folder: whether its files describe one place.

Each file of a folder can be valid on its own and the whole still be wrong: a road file in
another coordinate system (every road 50 km from every grid), a grid whose coordinates were
mistyped (30 km from all the others), a households column that holds residents. These checks
compare the files with each other, with k-d trees (:class:`scipy.spatial.cKDTree`: cost about
linear in the grids and road nodes, no grid × node table), and report each problem naming the
feature and the distance or ratio found. Thresholds: :data:`~gridsim.place.folder.spec.
DEFAULT_CHECKS`, changed by ``checks:`` in scenario.yaml (docs/scenario_format.md, "Geometric
checks"):

* a road node farther than ``road_far_km`` from every grid centre (one line for the file:
  how many nodes, the farthest and its distance);
* a grid whose nearest other grid centre is farther than all of ``grid_isolated_km``,
  ``grid_isolated_factor`` × the median nearest-centre spacing of the grids, and twice the two
  grids' radii (√(area/π)): a large rural grid is far from its neighbours' centres by its size;
* a grid with more households than residents (a household has at least one resident).

Shelters, depots and stations off the road network (farther than ``max_snap_m`` from every
road node) are checked where they are read (:mod:`gridsim.place.folder.load`), grid centres
where the roads are assembled (:func:`gridsim.place.folder.roads.assemble`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import spatial

from gridsim.place.folder.errors import Problems
from gridsim.place.folder.grids import GridData

__all__ = ["check_geometry", "far_road_nodes", "isolated_grids"]

#: At most this many features are named in one line.
_NAMED = 10


def far_road_nodes(node_x: np.ndarray, node_y: np.ndarray, grid_x: np.ndarray,
                   grid_y: np.ndarray, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, distances in m)`` of the road nodes farther than ``limit_m`` from every grid
    centre, farthest first."""
    if len(node_x) == 0 or len(grid_x) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    d, _ = spatial.cKDTree(np.column_stack([grid_x, grid_y])).query(
        np.column_stack([node_x, node_y]))
    d = np.asarray(d, dtype=float)
    far = np.flatnonzero(d > limit_m)
    far = far[np.argsort(-d[far], kind="stable")]
    return far.astype(np.int64), d[far]


def isolated_grids(x: np.ndarray, y: np.ndarray, area_km2: np.ndarray, min_km: float,
                   factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(grids, nearest other grid, distance in m, median spacing in m)`` of the grids whose
    nearest other grid centre is farther than ``min_km``, ``factor`` × the median of every
    grid's nearest-centre distance, and twice the sum of the two grids' radii √(area/π)."""
    n = len(x)
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), 0.0
    d, k = spatial.cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)
    d1 = np.asarray(d[:, 1], dtype=float)
    k1 = np.asarray(k[:, 1], dtype=np.int64)
    median = float(np.median(d1))
    radius = np.sqrt(np.maximum(np.asarray(area_km2, dtype=float), 0.0) / np.pi) * 1000.0
    limit = np.maximum(np.maximum(min_km * 1000.0, factor * median),
                       2.0 * (radius + radius[k1]))
    bad = np.flatnonzero(d1 > limit)
    return bad.astype(np.int64), k1[bad], d1[bad], median


def _named(names: list[str]) -> str:
    head = ", ".join(names[:_NAMED])
    return head + (f" (and {len(names) - _NAMED} more)" if len(names) > _NAMED else "")


def check_geometry(checks: dict[str, float], grids: GridData, grids_label: str,
                   raw_roads: Any, roads_label: str, problems: Problems) -> None:
    """Add the problems of the checks above (``raw_roads``: the road nodes as read, with
    ``x``, ``y``, ``node_name``; ``None`` if the roads could not be read)."""
    g = grids.region.grids
    pop = np.asarray(g.population, dtype=np.int64)
    hh = np.asarray(g.households, dtype=np.int64)
    for j in np.flatnonzero(hh > pop).tolist():
        ratio = f"{hh[j] / pop[j]:.3g} households per resident" if pop[j] > 0 else "no residents"
        problems.add(grids_label, grids.where[j], "households",
                     f"expected at most the grid's population ({int(pop[j]):,}: a household has "
                     f"at least one resident), got {int(hh[j]):,} ({ratio})")
    bad, other, dist, median = isolated_grids(g.x_m, g.y_m, g.area_km2,
                                              checks["grid_isolated_km"],
                                              checks["grid_isolated_factor"])
    for j, o, dj in zip(bad.tolist(), other.tolist(), dist.tolist(), strict=True):
        problems.add(grids_label, grids.where[j], "centre",
                     f"expected a grid near the others (its nearest other grid within "
                     f"{checks['grid_isolated_km']:g} km, or {checks['grid_isolated_factor']:g} × "
                     f"the median spacing {median / 1000:.2f} km, or its size), got the nearest "
                     f"grid centre ({grids.where[o]}) {dj / 1000:.1f} km away "
                     f"({dj / median if median > 0 else float('inf'):.0f} × the median spacing)")
    if raw_roads is None:
        return
    limit = checks["road_far_km"] * 1000.0
    far, dfar = far_road_nodes(np.asarray(raw_roads.x, dtype=float),
                               np.asarray(raw_roads.y, dtype=float), g.x_m, g.y_m, limit)
    if len(far):
        n = len(raw_roads.x)
        problems.add(roads_label, _named([raw_roads.node_name[i] for i in far.tolist()]),
                     "position", f"expected road nodes within road_far_km = "
                     f"{checks['road_far_km']:g} km (scenario.yaml checks:) of a grid centre, got "
                     f"{len(far):,} of {n:,} nodes ({len(far) / n:.0%}) farther, the farthest "
                     f"{dfar[0] / 1000:.1f} km from every grid (a file in another coordinate "
                     "system? see input_crs)")
