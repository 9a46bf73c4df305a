"""A plan (预案): where sites stand, what stock the supply points hold, and what moves ahead of
a storm (力量前置、物资前置).

These are the plan's domain objects, frozen: :command:`gridsim plan` makes them
(:mod:`gridsim.planning`), :mod:`gridsim.planning.plan_io` reads and writes them as a plan
folder (``plan.yaml`` and its tables), and a run applies them (``gridsim run plan=DIR``): the
sites and stock change the place before the run, the moves are carried out by the engine when
their warning is issued. Grids and townships are the scenario's indices (0-based, as in
``grids.csv``); items are :data:`gridsim.model.vocab.SUPPLY_ITEMS`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MOVE_KINDS", "PLAN_MODELS", "SITE_KINDS", "STOCK_SITES", "Move", "Plan", "Sites",
           "StockLevel"]

#: What ``planning.model`` may be: the four site models, stock levels, and storm moves.
PLAN_MODELS: tuple[str, ...] = ("lscp", "mclp", "pmedian", "pcenter", "stock", "storm")
#: What the chosen sites are (``planning.sites``).
SITE_KINDS: tuple[str, ...] = ("supply_points", "posts", "stations")
#: Where a stock level applies: a grid's supply point or a township's depot.
STOCK_SITES: tuple[str, ...] = ("grid", "depot")
#: What a storm move carries: people (a team) or stock.
MOVE_KINDS: tuple[str, ...] = ("team", "stock")


@dataclass(frozen=True)
class Sites:
    """The chosen sites of a site model: ``kind`` at each of ``grids``.

    ``holds`` is what each chosen site holds, as ``(what, count)`` pairs: supply items' units for
    ``supply_points``, ``people`` on duty for ``posts``, ``units`` (vehicles) for ``stations``
    of ``department``."""

    kind: str
    grids: tuple[int, ...]
    department: str = ""
    holds: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class StockLevel:
    """The stock of ``item`` at a grid's supply point or a township's depot: ``units``."""

    site: str  # "grid" | "depot"
    id: int  # the grid or the township
    item: str
    units: int


@dataclass(frozen=True)
class Move:
    """One move ahead of a storm: ``people`` members of ``from_grid`` (a team) or ``units`` of
    ``item`` (stock) go to ``to_grid`` when warning number ``warning`` of the hazard is
    issued, along the roads (they arrive after the road travel time)."""

    what: str  # "team" | "stock"
    from_grid: int
    to_grid: int
    people: int = 0
    item: str = ""
    units: int = 0
    warning: int = 0


@dataclass(frozen=True)
class Plan:
    """A whole plan. ``model`` is the planning model that made it (:data:`PLAN_MODELS`)."""

    model: str
    name: str = ""
    sites: Sites | None = None
    stock: tuple[StockLevel, ...] = ()
    moves: tuple[Move, ...] = ()
