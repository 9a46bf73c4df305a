"""Supplies: each grid's supply point (应急物资储备点), township depots, borrowing, replenishment.

The scenario's initial state is :class:`gridsim.model.supplies.SupplyPoints` (frozen);
:class:`SupplyLedger` is the run state: stock per grid and item, depot stock per township,
orders in transit. Stock never goes
negative: an incident takes what its grid has, borrows the rest from the nearest neighbour that
can spare it, or fetches it from the township depot; if nothing is within reach, the crew goes
on without (counted as unmet units; without an item that controls the hazard, the grid crew
cannot bring it under control: :mod:`gridsim.engine.incident`). Grids reorder from their
depot below a share of their initial stock, depots from the county (unlimited) below the same
share. Every movement is counted so that stock is conserved:
``initial + delivered_from_county = on_hand (grids + depots) + consumed + in transit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import simpy

from gridsim.engine.recorder import EventLog
from gridsim.model.clock import ProcessGenerator
from gridsim.model.params import SupplyPolicyConfig
from gridsim.model.supplies import SupplyPoints
from gridsim.model.vocab import SUPPLY_ITEMS

__all__ = ["Kit", "SupplyChain", "SupplyLedger"]


class Kit(NamedTuple):
    """What :meth:`SupplyChain.gather_kit` found for an incident."""

    delay_s: float  # until the last borrowed or fetched unit of any item is on scene
    shortage: bool  # the grid's own stock was short of some item
    control_delay_s: float  # ... of the controlling items only (0: all at hand)
    control_unmet: bool  # some units of a controlling item came from nowhere


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
    # demand counters (gridsim.planning.stock), [n_grids, n_items]: the units each grid's
    # incidents and storm tasks asked for, what they got from anywhere (own stock, a neighbour,
    # the depot), what the grid's own stock lacked when asked, and what nobody supplied;
    # demand = supplied + unmet. They count only: no result depends on them.
    demand: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    supplied: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    own_short: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    unmet: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))

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
            demand=np.zeros_like(stock), supplied=np.zeros_like(stock),
            own_short=np.zeros_like(stock), unmet=np.zeros_like(stock),
        )

    def asked(self, g: int, item: int, n: int, own: int, got: int) -> None:
        """Count a need of grid ``g``: ``n`` units of ``item`` asked for, ``own`` of them from
        its own stock, ``got`` in all (the rest unmet)."""
        self.demand[g, item] += n
        self.supplied[g, item] += got
        self.own_short[g, item] += n - own
        self.unmet[g, item] += n - got

    # -- bookkeeping ---------------------------------------------------------------------------
    def take(self, g: int, item: int, n: int) -> int:
        """Take up to ``n`` units of ``item`` from grid ``g``; returns how many were taken."""
        have = int(self.stock[g, item])
        got = min(n, have)
        self._left(have - got)
        self.stock[g, item] = have - got
        return got

    def take_from_depot(self, township: int, item: int, n: int) -> int:
        have = int(self.depot[township, item])
        got = min(n, have)
        self._left(have - got)
        self.depot[township, item] = have - got
        return got

    def _left(self, left: int) -> None:
        """Every fall in stock passes here (takes are the only way down): track the lowest."""
        if left < self.min_stock_seen:
            self.min_stock_seen = left
            if left < 0:
                raise AssertionError(f"negative stock {left}")

    def consume(self, n: int) -> None:
        """``n`` units used up on scene."""
        self.consumed += n

    def check(self) -> None:
        """Raise if any stock is negative (the whole ledger; takes check as they go)."""
        low = int(min(self.stock.min(initial=0), self.depot.min(initial=0)))
        self.min_stock_seen = min(self.min_stock_seen, low)
        if low < 0:
            raise AssertionError(f"negative stock {low}")

    def balance(self) -> int:
        """``initial + delivered - (on hand + consumed + in transit)``: zero when conserved."""
        return (self.initial_total + self.delivered_from_county
                - int(self.stock.sum() + self.depot.sum()) - self.consumed - self.in_transit)


class SupplyChain:
    """Taking, borrowing, fetching and replenishing supplies during a run."""

    def __init__(self, env: simpy.Environment, ledger: SupplyLedger, township: np.ndarray,
                 near_indptr: np.ndarray, near_indices: np.ndarray, near_time_s: np.ndarray,
                 depot_time_s: np.ndarray, policy: SupplyPolicyConfig, rng: np.random.Generator,
                 log: EventLog) -> None:
        self.env = env
        self.ledger = ledger
        self.township = township
        self._near = (near_indptr, near_indices, near_time_s)
        self.depot_time_s = depot_time_s
        self.policy = policy
        self.rng = rng
        self.log = log
        self.depot_reorder = np.floor(ledger.depot * policy.reorder_share).astype(np.int64)
        self.depot_target = ledger.depot.copy()
        self.unmet_units = 0

    def gather(self, g: int, needs: tuple[tuple[int, int], ...], incident: int
               ) -> tuple[float, bool]:
        """Take ``needs`` for an incident in grid ``g``. Returns ``(delay_s, shortage)``: the time
        until the last borrowed or fetched unit is on scene, and whether ``g`` was short."""
        kit = self.gather_kit(g, needs, incident)
        return kit.delay_s, kit.shortage

    def gather_kit(self, g: int, needs: tuple[tuple[int, int], ...], incident: int,
                   control: tuple[int, ...] = ()) -> Kit:
        """:meth:`gather`, and the delay and unmet units of the items in ``control`` (the
        ones that control the hazard) apart."""
        led = self.ledger
        delay = 0.0
        control_delay = 0.0
        control_unmet = False
        shortage = False
        indptr, indices, times = self._near
        for item, n in needs:
            item_delay = 0.0  # until this item's last borrowed or fetched unit is on scene
            got = led.take(g, item, n)
            led.consume(got)
            short = n - got
            if short == 0:
                led.asked(g, item, n, got, got)
                continue
            shortage = True
            if self.policy.borrow_from_neighbours:
                a, b = indptr[g], indptr[g + 1]
                for j, t in zip(indices[a:b].tolist(), times[a:b].tolist(), strict=True):
                    if j == g:
                        continue
                    k = led.take(j, item, short)
                    if k:
                        led.consume(k)
                        led.borrowed += k
                        short -= k
                        item_delay = max(item_delay, t)
                        self.log.log(self.env.now, "supply_borrowed", g, incident,
                                     f"{k} {SUPPLY_ITEMS[item]} from grid {j}")
                        self._maybe_reorder(j)
                        if short == 0:
                            break
            if short > 0:
                k = led.take_from_depot(int(self.township[g]), item, short)
                if k:
                    led.consume(k)
                    led.fetched_from_depot += k
                    short -= k
                    item_delay = max(item_delay, float(self.depot_time_s[g]))
                    self.log.log(self.env.now, "supply_fetched", g, incident,
                                 f"{k} {SUPPLY_ITEMS[item]} from the township depot")
                    self._maybe_reorder_depot(int(self.township[g]))
            led.asked(g, item, n, got, n - short)
            if short > 0:  # nothing left within reach: the crew goes on without
                self.unmet_units += short
                control_unmet = control_unmet or item in control
                self.log.log(self.env.now, "supply_unmet", g, incident,
                             f"{short} {SUPPLY_ITEMS[item]} not available")
            delay = max(delay, item_delay)
            if item in control:
                control_delay = max(control_delay, item_delay)
        if shortage:
            led.shortages += 1
        self._maybe_reorder(g)
        return Kit(delay, shortage, control_delay, control_unmet)

    def _maybe_reorder(self, g: int) -> None:
        led = self.ledger
        low = np.flatnonzero(led.stock[g] + led.on_order[g] < led.reorder_level[g])
        for item in low.tolist():
            want = int(led.target_level[g, item] - led.stock[g, item] - led.on_order[g, item])
            t = int(self.township[g])
            k = led.take_from_depot(t, item, want)
            if k <= 0:
                continue
            led.on_order[g, item] += k
            led.in_transit += k
            lead = self.policy.depot_lead_time.ppf(self.rng.random())
            self.env.process(self._deliver(g, item, k, lead))
            self._maybe_reorder_depot(t)

    def _maybe_reorder_depot(self, t: int) -> None:
        led = self.ledger
        low = np.flatnonzero(led.depot[t] + led.depot_on_order[t] < self.depot_reorder[t])
        for item in low.tolist():
            want = int(self.depot_target[t, item] - led.depot[t, item]
                       - led.depot_on_order[t, item])
            if want <= 0:
                continue
            led.depot_on_order[t, item] += want
            lead = self.policy.county_lead_time.ppf(self.rng.random())
            self.env.process(self._deliver_depot(t, item, want, lead))

    def _deliver(self, g: int, item: int, k: int, lead_s: float) -> ProcessGenerator:
        yield self.env.timeout(lead_s)
        led = self.ledger
        led.stock[g, item] += k
        led.on_order[g, item] -= k
        led.in_transit -= k
        self.log.log(self.env.now, "supply_delivered", g, -1, f"{k} {SUPPLY_ITEMS[item]}")

    def _deliver_depot(self, t: int, item: int, k: int, lead_s: float) -> ProcessGenerator:
        yield self.env.timeout(lead_s)
        led = self.ledger
        led.depot[t, item] += k
        led.depot_on_order[t, item] -= k
        led.delivered_from_county += k
        self.log.log(self.env.now, "depot_delivered", -1, -1,
                     f"township {t}: {k} {SUPPLY_ITEMS[item]}")
