"""Range checks of the stock keys of ``planning.*`` (``planning.model=stock``,
:mod:`gridsim.planning.stock`), on their own so that the settings' checks
(:mod:`gridsim.planning.checks`) need not import the engine."""

from __future__ import annotations

import math

from gridsim.model.params import RunConfig
from gridsim.model.vocab import SUPPLY_ITEMS

__all__ = ["SERVICE_SCOPES", "stock_errors"]

#: What ``planning.service_scope`` may be.
SERVICE_SCOPES: tuple[str, ...] = ("storms", "grid")


def stock_errors(settings: RunConfig) -> list[str]:
    """The range checks of the stock keys, ``"key: message"`` each (for
    :func:`gridsim.planning.checks.planning_errors`)."""
    pl = settings.planning
    errors = []
    if not isinstance(pl.replications, int) or pl.replications < 1:
        errors.append(f"planning.replications: must be an integer >= 1, got {pl.replications!r}")
    if not 0.0 < pl.service_level <= 1.0:
        errors.append(f"planning.service_level: must be in (0, 1], got {pl.service_level!r}")
    if pl.service_scope not in SERVICE_SCOPES:
        errors.append(f"planning.service_scope: must be one of {', '.join(SERVICE_SCOPES)}, "
                      f"got {pl.service_scope!r}")
    for key, table in (("unit_cost_cny", pl.unit_cost_cny), ("min_units", pl.min_units)):
        unknown = sorted(set(table) - set(SUPPLY_ITEMS))
        if unknown:
            errors.append(f"planning.{key}: unknown supply item(s) {', '.join(unknown)} "
                          f"(expected {', '.join(SUPPLY_ITEMS)})")
        for item, v in table.items():
            if item in SUPPLY_ITEMS and not (isinstance(v, int | float) and math.isfinite(v)
                                             and v >= 0):
                errors.append(f"planning.{key}.{item}: must be a number >= 0, got {v!r}")
    missing = [it for it in SUPPLY_ITEMS if it not in pl.unit_cost_cny]
    if missing:
        errors.append(f"planning.unit_cost_cny: no cost for {', '.join(missing)}")
    for item, v in pl.min_units.items():
        if (item in SUPPLY_ITEMS and isinstance(v, int | float) and math.isfinite(v)
                and not float(v).is_integer()):
            errors.append(f"planning.min_units.{item}: must be a whole number, got {v!r}")
    return errors
