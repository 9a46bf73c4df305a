"""Supplies: each grid's supply point (应急物资储备点), township depots, borrowing, replenishment.

:class:`SupplyPoints` is the scenario's initial state (frozen); :class:`SupplyLedger` is the run
state: stock per grid and item, depot stock per township, orders in transit. Stock never goes
negative: an incident takes what its grid has, borrows the rest from the nearest neighbour that
can spare it, or fetches it from the township depot; if the depot is short too, it waits for the
county's delivery. Every movement is counted so that stock is conserved:
``initial + delivered_from_county = on_hand (grids + depots) + consumed + in transit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridsim.vocab import SUPPLY_ITEMS

__all__ = ["SupplyLedger", "SupplyPoints"]


@dataclass(frozen=True)
class SupplyPoints:
    """Initial stock (grids × items), township depots and where they stand."""

    grid_stock: np.ndarray  # int64 [n_grids, n_items]
    depot_stock: np.ndarray  # int64 [n_townships, n_items]
    depot_grid: np.ndarray  # the grid each township's depot stands in

    @property
    def items(self) -> tuple[str, ...]:
        return SUPPLY_ITEMS


@dataclass
class SupplyLedger:
    """The run-time stock of all supply points and depots."""

    stock: np.ndarray
    depot: np.ndarray
    initial_total: int
    reorder_level: np.ndarray  # [n_grids, n_items]
    target_level: np.ndarray
    on_order: np.ndarray  # [n_grids, n_items] units ordered from the depot, not yet arrived
    depot_on_order: np.ndarray  # [n_townships, n_items] units ordered from the county
    consumed: int = 0
    delivered_from_county: int = 0
    in_transit: int = 0  # units on their way from a depot to a grid
    shortages: int = 0  # incidents that found their own stock short
    borrowed: int = 0
    fetched_from_depot: int = 0
    min_stock_seen: int = field(default=0)

    @staticmethod
    def from_points(points: SupplyPoints, reorder_share: float) -> SupplyLedger:
        stock = points.grid_stock.astype(np.int64).copy()
        depot = points.depot_stock.astype(np.int64).copy()
        return SupplyLedger(
            stock=stock,
            depot=depot,
            initial_total=int(stock.sum() + depot.sum()),
            reorder_level=np.floor(stock * reorder_share).astype(np.int64),
            target_level=stock.copy(),
            on_order=np.zeros_like(stock),
            depot_on_order=np.zeros_like(depot),
            min_stock_seen=int(min(stock.min(initial=0), depot.min(initial=0))),
        )

    # -- bookkeeping ---------------------------------------------------------------------------
    def take(self, g: int, item: int, n: int) -> int:
        """Take up to ``n`` units of ``item`` from grid ``g``; returns how many were taken."""
        got = min(n, int(self.stock[g, item]))
        self.stock[g, item] -= got
        return got

    def take_from_depot(self, township: int, item: int, n: int) -> int:
        got = min(n, int(self.depot[township, item]))
        self.depot[township, item] -= got
        return got

    def consume(self, n: int) -> None:
        """``n`` units used up on scene."""
        self.consumed += n

    def check(self) -> None:
        """Raise if any stock is negative or units were created or lost."""
        low = int(min(self.stock.min(initial=0), self.depot.min(initial=0)))
        self.min_stock_seen = min(self.min_stock_seen, low)
        if low < 0:
            raise AssertionError(f"negative stock {low}")

    def balance(self) -> int:
        """``initial + delivered - (on hand + consumed + in transit)``: zero when conserved."""
        return (self.initial_total + self.delivered_from_county
                - int(self.stock.sum() + self.depot.sum()) - self.consumed - self.in_transit)
