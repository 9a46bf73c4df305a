"""Range checks of the ``planning.*`` settings (called by :func:`gridsim.model.validate.validate`).

Only values are checked here: the folders ``planning.instance`` and ``planning.demand`` name are
read (and their problems reported, file by file) by ``gridsim plan`` itself, since a run that
does not plan never reads them.
"""

from __future__ import annotations

import math

from gridsim.model.params import RunConfig
from gridsim.model.plan import PLAN_MODELS, SITE_KINDS
from gridsim.model.vocab import DEPARTMENTS, SUPPLY_ITEMS
from gridsim.planning.stock_checks import stock_errors

__all__ = ["HOLD_KEYS", "SOLVERS", "planning_errors"]

#: ``planning.solver``.
SOLVERS: tuple[str, ...] = ("exact", "heuristic")
#: What each kind of site may hold (``planning.holds.<kind>``).
HOLD_KEYS: dict[str, tuple[str, ...]] = {
    "supply_points": SUPPLY_ITEMS,
    "posts": ("people",),
    "stations": ("units",),
}


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> str | None:
    if value in allowed:
        return None
    return f"{key}: must be one of {', '.join(allowed)}, got {value!r}"


def planning_errors(s: RunConfig) -> list[str]:
    """Every problem of ``s.planning``, one ``planning.<key>: message`` line each."""
    pc = s.planning
    out: list[str] = []
    for key, value, allowed in (("planning.model", pc.model, PLAN_MODELS),
                                ("planning.solver", pc.solver, SOLVERS),
                                ("planning.sites", pc.sites, SITE_KINDS),
                                ("planning.department", pc.department, DEPARTMENTS)):
        msg = _one_of(key, str(value), allowed)
        if msg:
            out.append(msg)

    def num(key: str, v: float, lo: float, lo_open: bool) -> bool:
        if v is None or isinstance(v, bool) or not math.isfinite(float(v)):
            out.append(f"{key}: must be a finite number, got {v}")
            return False
        if v < lo or (lo_open and v == lo):
            out.append(f"{key}: must be {'>' if lo_open else '>='} {lo:g}, got {v}")
            return False
        return True

    num("planning.p", pc.p, 1, False)
    radius_ok = num("planning.radius_s", pc.radius_s, 0, True)
    num("planning.time_limit_s", pc.time_limit_s, 0, True)
    num("planning.candidates", pc.candidates, 0, False)
    if (num("planning.search_radius_s", pc.search_radius_s, 0, False) and radius_ok
            and 0 < pc.search_radius_s < pc.radius_s):
        out.append(f"planning.search_radius_s: must be 0 (derived) or at least planning.radius_s "
                   f"({pc.radius_s:g}), got {pc.search_radius_s:g}")
    if not str(pc.demand).strip():
        out.append("planning.demand: must be residents, exposures or a run or sweep folder, "
                   "got an empty value")
    for kind, held in pc.holds.items():
        if kind not in HOLD_KEYS:
            out.append(f"planning.holds.{kind}: unknown kind of site; expected one of "
                       f"{', '.join(SITE_KINDS)}")
            continue
        for what, n in held.items():
            if what not in HOLD_KEYS[kind]:
                out.append(f"planning.holds.{kind}.{what}: a {kind} site cannot hold {what!r}; "
                           f"expected one of {', '.join(HOLD_KEYS[kind])}")
            elif isinstance(n, bool) or not isinstance(n, int) or n < 0:
                out.append(f"planning.holds.{kind}.{what}: must be a whole number >= 0, got {n}")
    out.extend(stock_errors(s))  # planning.model=stock's keys (P4)
    return out
