"""Statistics of a scenario, named as in the reference account (docs/domain.md) where it has them.

The four pilot figures:

* ``rural_grid_area_km2_mean``: mean area of rural grids (农村网格管理面积);
* ``people_per_grid_mean``: residents per grid over all grids (服务人口数量);
* ``compounds_per_grid_mean``: compounds managed per urban-community grid (管理小区数);
* ``urban_compound_own_grid_share``: share of urban-community grids that hold a single compound
  (城市小区单建网格比例), a fraction (see :mod:`gridsim.place.gridding` for why it is per grid).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gridsim.model.people import role_bit
from gridsim.model.vocab import GRID_KINDS
from gridsim.place.scenario import Scenario

__all__ = ["PILOT_KEYS", "scenario_statistics"]

PILOT_KEYS: tuple[str, ...] = ("rural_grid_area_km2_mean", "people_per_grid_mean",
                               "compounds_per_grid_mean", "urban_compound_own_grid_share")


def _mean(a: np.ndarray) -> float:
    return float(a.mean()) if len(a) else math.nan


def scenario_statistics(sc: Scenario) -> dict[str, Any]:
    """Figures of a scenario, as plain numbers (NaN where undefined)."""
    g = sc.region.grids
    h = sc.region.hierarchy
    rural = g.kind == GRID_KINDS.index("rural")
    community = g.kind == GRID_KINDS.index("urban_community")
    with_compounds = community & (g.compounds > 0)
    roster = sc.roster
    stats: dict[str, Any] = {
        "grids": g.n,
        "population": int(g.population.sum()),
        "households": int(g.households.sum()),
        "area_km2": float(g.area_km2.sum()),
        "counties": len(h.county_names),
        "townships": h.n_townships,
        "villages": h.n_villages,
        "rural_grid_area_km2_mean": _mean(g.area_km2[rural]),
        "people_per_grid_mean": _mean(g.population.astype(float)),
        "compounds_per_grid_mean": _mean(g.compounds[with_compounds].astype(float)),
        "urban_compound_own_grid_share": _mean((g.compounds[with_compounds] == 1).astype(float)),
        "on_site_commanders": int(np.count_nonzero(roster.roles & role_bit("commander"))),
        "grid_workers": int(np.count_nonzero(roster.roles & role_bit("grid_worker"))),
        "party_members": int(np.count_nonzero(roster.roles & role_bit("party_member"))),
        "people_on_roster": roster.n,
        "key_monitoring_points": int(g.monitoring_points.sum()),
        "vulnerable_residents": int(np.round(g.population * g.vulnerable_share).sum()),
        "road_links": len(sc.roads.edge_u),
        "road_km": float(sc.roads.length_m.sum() / 1000.0),
        "department_stations": sc.stations.n,
        "supply_points": g.n,
    }
    for k, name in enumerate(GRID_KINDS):
        stats[f"grids_{name}"] = int(np.count_nonzero(g.kind == k))
    return stats
