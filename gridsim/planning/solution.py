"""A site model's problem and its solution, shared by the exact solver
(:mod:`gridsim.planning.models`, which re-exports :class:`Problem` and :class:`Solution`) and
the heuristic (:mod:`gridsim.planning.heuristic`): the nearest open site of each demand point
and a plan's objective, recomputed from the instance's pairs whichever solver chose it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridsim.planning.instance import Instance

__all__ = ["Problem", "Solution", "assignment", "evaluate", "radius_of"]


@dataclass(frozen=True)
class Problem:
    """Which model, with how many sites ``p`` (MCLP, p-median, p-center) and which coverage
    radius ``radius_s`` (LSCP and MCLP; ``inf``: the instance's own radius)."""

    model: str
    p: int = 0
    radius_s: float = math.inf


@dataclass(frozen=True, eq=False)
class Solution:
    """A solved site model. ``open`` are the chosen candidates' indices (sorted); ``assign`` is
    each demand point's nearest open candidate among its pairs (-1 if none) and
    ``assign_time_s`` its time (inf if none). ``objective``: LSCP the open sites' total cost,
    MCLP the demand weight covered within ``radius_s``, p-median the sum of weight × time,
    p-center the worst time over demand of weight > 0. ``covered_share``: the share of all
    weight within the radius (the problem's, else the instance's) of an open site. ``gap`` is
    the proven relative gap ``|objective - bound| / |objective|`` (0: optimal; nan: no bound),
    ``status`` ``"optimal"``, ``"time_limit"`` or ``"heuristic"``, ``iterations`` the
    branch-and-bound nodes (exact) or the improving swaps (heuristic)."""

    model: str
    solver: str
    open: np.ndarray
    assign: np.ndarray
    assign_time_s: np.ndarray
    objective: float
    covered_share: float
    gap: float
    bound: float
    status: str
    iterations: int


def radius_of(instance: Instance, problem: Problem) -> float:
    """The coverage radius: the problem's, or the instance's when the problem's is inf."""
    return float(problem.radius_s) if math.isfinite(problem.radius_s) else instance.radius_s



def assignment(instance: Instance, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each demand point's nearest open candidate among its pairs (-1 if none) and its time
    (inf if none): the first open pair of each row, rows being sorted by time."""
    n = instance.n_demand
    assign = np.full(n, -1, dtype=np.int64)
    atime = np.full(n, np.inf)
    k = np.flatnonzero(is_open[instance.cand])
    if len(k):
        rows = instance.rows()[k]
        first = np.r_[True, rows[1:] != rows[:-1]]
        k = k[first]
        assign[rows[first]] = instance.cand[k]
        atime[rows[first]] = instance.time_s[k]
    return assign, atime


def evaluate(instance: Instance, problem: Problem, open_: np.ndarray, *, solver: str,
             status: str, bound: float, iterations: int) -> Solution:
    """The :class:`Solution` of the open sites ``open_``, its objective recomputed from the
    instance's pairs (not taken from the solver), its gap from ``bound``."""
    m = instance.n_candidates
    is_open = np.zeros(m, dtype=bool)
    is_open[open_] = True
    assign, atime = assignment(instance, is_open)
    w = instance.weight
    r = radius_of(instance, problem)
    covered = atime <= r
    total = float(w.sum())
    share = float(w[covered].sum()) / total
    pos = w > 0
    if problem.model == "lscp":
        objective = float(instance.cost[is_open].sum())
    elif problem.model == "mclp":
        objective = float(w[covered].sum())
    elif problem.model == "pmedian":
        objective = float(np.sum(w[pos] * atime[pos]))
    else:
        objective = float(atime[pos].max())
    if math.isnan(bound):
        gap = math.nan
    elif objective == bound:
        gap = 0.0
    else:
        gap = abs(objective - bound) / max(abs(objective), 1e-12)
        if gap < 1e-12:  # the bound's floating-point noise (a sum of weights), not a gap
            gap = 0.0
    return Solution(model=problem.model, solver=solver, open=np.flatnonzero(is_open),
                    assign=assign, assign_time_s=atime, objective=objective,
                    covered_share=share, gap=gap, bound=float(bound), status=status,
                    iterations=int(iterations))
