"""Supply points (应急物资储备点) and township depots as a scenario holds them: the initial stock.

The run state (stock during a run, borrowing, replenishment) is
:mod:`gridsim.engine.supplies`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.model.vocab import SUPPLY_ITEMS

__all__ = ["SupplyPoints"]


@dataclass(frozen=True)
class SupplyPoints:
    """Initial stock (grids × items), township depots and where they stand."""

    grid_stock: np.ndarray  # int64 [n_grids, n_items]
    depot_stock: np.ndarray  # int64 [n_townships, n_items]
    depot_grid: np.ndarray  # the grid each township's depot stands in

    @property
    def items(self) -> tuple[str, ...]:
        return SUPPLY_ITEMS
