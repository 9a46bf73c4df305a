"""Stock levels to a service level (物资前置: ``planning.model=stock``).

Every grid supply point and township depot gets an order-up-to (base-stock) level of each
supply item, sized from the demand of simulated storms: the newsvendor's critical fractile
taken as an empirical quantile over replications.

**Demand.** ``planning.replications`` runs ``R`` of the settings, replication ``r = 0..R-1``
(the run's own streams, so common random numbers with any later run of the same settings), on
the scenario with *unlimited* grid stock, no plan, no counterfactual, no event log and no
files. A grid's demand ``D[r, g, i]`` is the units of item ``i`` its incidents and storm tasks
asked for in storm ``r`` (the supply ledger's counter, :attr:`gridsim.engine.simulation.
RunResult.supply_demand`: supplied + unmet). With unlimited stock nothing is ever short, so
this is what they would have used, undistorted by the delays and unworked units a shortage
causes.

**Levels.** ``S[k]`` is the ``k``-th smallest of ``D[0..R-1, g, i]`` (``k = 1..R``), the
empirical quantile of fractile ``k / R`` (numpy's ``method="inverted_cdf"``).

* ``planning.service_scope=storms`` (the default): "95 % of storms without a shortage" is
  city-wide. Every grid and item gets the same order statistic ``k``, the least ``k`` for
  which the share of storms whose demand is within the levels at *every* grid and item (a
  storm without a shortage anywhere) is at least ``planning.service_level``; the share is
  monotone in ``k``, found by bisection over ``ceil(level * R) .. R``.
* ``planning.service_scope=grid``: per grid and item, ``k = ceil(level * R)``: in at least that
  share of storms that grid's own stock of that item covers its demand (the city as a whole
  sees a shortage more often).

A grid's level is never below ``planning.min_units`` of the item (0 by default: a grid with no
demand in any storm holds none). **Depots** hold what the grids' levels leave uncovered: the
township's excess ``E[r, t, i] = sum over its grids of max(D[r, g, i] - level, 0)``, at the
same order statistic ``k``. With ``service_scope=storms`` most depots then come to 0, and a
grid then gets no replenishment during a storm: its level is meant to last the storm.

**What it guarantees (in-sample).** A "shortage" is a grid's own stock lacking what is asked
of it (:attr:`gridsim.engine.supplies.SupplyLedger.own_short`). In a storm ``r`` whose demand is
within the levels everywhere, a run with the plan's levels applied never has one: nobody is
short, so nobody borrows, the stock only falls by the grid's own takes, and the run is the
unlimited one (the same draws; replenishment only adds stock). So re-simulating the same
replications gives at least ``storms_without_shortage_share`` (computed on the recorded
demand) of storms without a shortage. The share is in-sample: new replications will see
somewhat less.

**Cost.** ``cost_cny`` is the sum of every level (grids and depots) times
``planning.unit_cost_cny`` of its item; ``cost_change_cny`` is that minus the same sum over the
scenario's stock. The plan lists every grid's and every depot's level of every item (a full
stock table: applying it sets the whole stock).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np

from gridsim.engine.simulation import simulate
from gridsim.errors import UserError
from gridsim.model.params import RunConfig
from gridsim.model.plan import Plan, StockLevel
from gridsim.model.vocab import SUPPLY_ITEMS
from gridsim.place.scenario import Scenario
from gridsim.planning.stock_checks import SERVICE_SCOPES, stock_errors

__all__ = ["SERVICE_SCOPES", "StockLevels", "plan_stock", "size_levels", "stock_errors",
           "stock_plan", "storm_demand", "storms_covered"]

#: The grid stock of the demand runs: more than any storm asks for.
UNLIMITED = 10**12


def storm_demand(settings: RunConfig, scenario: Scenario, *,
                 progress: Callable[[str], None] | None = None) -> np.ndarray:
    """``D[r, g, i]``: the units of item ``i`` grid ``g``'s incidents and storm tasks asked for
    in replication ``r`` of ``settings`` (``r = 0..planning.replications - 1``), with unlimited
    grid stock. int64 ``[R, n_grids, n_items]``."""
    n = settings.planning.replications
    sp = scenario.supplies
    unlimited = dataclasses.replace(scenario, supplies=dataclasses.replace(
        sp, grid_stock=np.full_like(sp.grid_stock, UNLIMITED)))
    base = dataclasses.replace(
        settings, plan=None,
        output=dataclasses.replace(settings.output, events_log=False, counterfactual=False))
    demand = np.zeros((n, *sp.grid_stock.shape), dtype=np.int64)
    start = time.monotonic()
    for r in range(n):
        result = simulate(dataclasses.replace(base, replication=r), unlimited)
        demand[r] = result.supply_demand
        if progress is not None:
            spent = time.monotonic() - start
            left = spent / (r + 1) * (n - r - 1)
            progress(f"stock: storm {r + 1}/{n} simulated, {spent:.0f} s, "
                     f"about {left:.0f} s left\n")
    return demand


def storms_covered(demand: np.ndarray, level: np.ndarray) -> np.ndarray:
    """For each storm ``r``: is its demand within ``level`` at every grid and item (bool
    ``[R]``)."""
    return np.all(demand <= level[None], axis=(1, 2))


@dataclasses.dataclass(frozen=True, eq=False)
class StockLevels:
    """The levels sized from a demand table (:func:`size_levels`)."""

    grid: np.ndarray  # int64 [n_grids, n_items]
    depot: np.ndarray  # int64 [n_townships, n_items]
    k: int  # the order statistic used (1..R): fractile k / R
    covered_share: float  # storms whose demand is within the grid levels everywhere


def size_levels(demand: np.ndarray, township: np.ndarray, n_townships: int,
                service_level: float, scope: str, min_units: np.ndarray) -> StockLevels:
    """The base-stock levels of ``demand`` (``[R, n_grids, n_items]``) at ``service_level``
    under ``scope`` (see the module docstring); ``township[g]`` is grid ``g``'s township,
    ``min_units[i]`` the least level of item ``i`` at a grid."""
    n = demand.shape[0]
    ordered = np.sort(demand, axis=0)
    lo = max(1, math.ceil(service_level * n - 1e-9))

    def levels(k: int) -> np.ndarray:
        return np.maximum(ordered[k - 1], min_units[None, :].astype(np.int64))

    if scope == "grid":
        k = lo
    elif scope == "storms":
        hi = n  # covers every storm: the share there is 1
        while lo < hi:  # the least k whose covered share reaches the level
            mid = (lo + hi) // 2
            if storms_covered(demand, levels(mid)).mean() >= service_level - 1e-12:
                hi = mid
            else:
                lo = mid + 1
        k = lo
    else:
        raise UserError(f"planning.service_scope: {scope!r} is not one of "
                        f"{', '.join(SERVICE_SCOPES)}")
    grid = levels(k)
    excess = np.maximum(demand - grid[None], 0)  # [R, G, I]
    by_town = np.zeros((n_townships, n, demand.shape[2]), dtype=np.int64)  # [T, R, I]
    np.add.at(by_town, township, excess.transpose(1, 0, 2))
    depot = np.sort(by_town, axis=1)[:, k - 1]
    return StockLevels(grid=grid, depot=depot, k=k,
                       covered_share=float(storms_covered(demand, grid).mean()))


def stock_plan(levels: StockLevels, scenario: Scenario, settings: RunConfig,
               replications: int) -> tuple[Plan, dict]:
    """The plan listing every grid's and depot's level, and its summary fields."""
    pl = settings.planning
    cost = np.array([float(pl.unit_cost_cny[it]) for it in SUPPLY_ITEMS])
    sp = scenario.supplies
    stock = [StockLevel("grid", g, SUPPLY_ITEMS[i], int(levels.grid[g, i]))
             for g in range(levels.grid.shape[0]) for i in range(len(SUPPLY_ITEMS))]
    stock += [StockLevel("depot", t, SUPPLY_ITEMS[i], int(levels.depot[t, i]))
              for t in range(levels.depot.shape[0]) for i in range(len(SUPPLY_ITEMS))]
    grid_units = levels.grid.sum(axis=0)
    depot_units = levels.depot.sum(axis=0)
    now_units = sp.grid_stock.sum(axis=0) + sp.depot_stock.sum(axis=0)
    plan_cost = float((grid_units + depot_units) @ cost)
    now_cost = float(now_units @ cost)
    items = {it: {"grid_units": int(grid_units[i]), "depot_units": int(depot_units[i]),
                  "units": int(grid_units[i] + depot_units[i]),
                  "change_units": int(grid_units[i] + depot_units[i] - now_units[i]),
                  "unit_cost_cny": float(cost[i]),
                  "cost_cny": float((grid_units[i] + depot_units[i]) * cost[i])}
             for i, it in enumerate(SUPPLY_ITEMS)}
    summary = {
        "model": "stock",
        "cost_cny": plan_cost,
        "cost_change_cny": plan_cost - now_cost,
        "scenario_cost_cny": now_cost,
        "service_level": float(pl.service_level),
        "service_scope": pl.service_scope,
        "replications": int(replications),
        "fractile": levels.k / replications,
        "storms_without_shortage_share": levels.covered_share,
        "in_sample": True,
        "grids_changed": int(np.any(levels.grid != sp.grid_stock, axis=1).sum()),
        "items": items,
    }
    return Plan(model="stock", name=pl.name, stock=tuple(stock)), summary


def plan_stock(settings: RunConfig, scenario: Scenario, *,
               progress: Callable[[str], None] | None = None) -> tuple[Plan, dict]:
    """Stock levels of every grid supply point and township depot at
    ``planning.service_level`` from ``planning.replications`` simulated storms, and the summary
    fields of ``plan_summary.json`` (cost, service level, per-item totals; see the module
    docstring for the definitions)."""
    errors = stock_errors(settings)
    if errors:
        raise UserError("planning: " + "; ".join(errors),
                        hint="see docs/planning.md, section Stock")
    pl = settings.planning
    demand = storm_demand(settings, scenario, progress=progress)
    grids = scenario.region.grids
    min_units = np.array([int(pl.min_units.get(it, 0)) for it in SUPPLY_ITEMS], dtype=np.int64)
    levels = size_levels(demand, np.asarray(grids.township, dtype=np.int64),
                         scenario.supplies.depot_stock.shape[0], pl.service_level,
                         pl.service_scope, min_units)
    plan, summary = stock_plan(levels, scenario, settings, demand.shape[0])
    summary["demand_mean_units"] = {it: float(demand[:, :, i].sum(axis=1).mean())
                                    for i, it in enumerate(SUPPLY_ITEMS)}
    return plan, summary
