"""The heuristic solver of the site models: greedy, then swap improvement.

* **LSCP**: Chvátal's (1979) greedy set cover (each step the site of most newly covered demand
  points per unit cost), then redundant sites removed (the costliest first, ties by index).
* **MCLP, p-median**: greedy (each step the site of best marginal gain; the gains can only
  fall as sites open, so they are kept in a heap and recomputed lazily, Minoux 1978), then
  vertex substitution (Teitz & Bart 1968): swap an open site for a closed one while that
  improves the objective. Each round evaluates every swap at once, incrementally over the
  sparse pairs (the gain of the site coming in, the loss of the one going out and their
  overlap, as in Whitaker 1983's fast interchange), in O(pairs), and makes the best one.
* **p-center**: a bisection over the distinct pair times t, each test "do p sites cover every
  demand point within t?" answered by the MCLP heuristic at radius t (unit weights), started
  from the p-median heuristic's plan; its bound is the largest over demand points of the
  nearest candidate's time.

Everything is deterministic: ties go to the lowest candidate index. Demand points of weight 0
play no part (except in LSCP's count of them, none). No dense demand × candidate table.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np
from scipy import sparse

from gridsim.errors import UserError
from gridsim.planning.instance import Instance
from gridsim.planning.solution import Problem, Solution, assignment, evaluate, radius_of

__all__ = ["fill", "lscp", "mclp", "pcenter", "pmedian", "solve"]


class _Pairs:
    """The pairs within a radius among demand points of weight > 0, by row (``row``, ``cand``,
    ``time``, row-sorted by time) and by column (``colptr``, ``order``: the pair indices of
    each candidate)."""

    def __init__(self, instance: Instance, r: float) -> None:
        rows = instance.rows()
        k = np.flatnonzero((instance.time_s <= r) & (instance.weight[rows] > 0))
        self.m = instance.n_candidates
        self.n = instance.n_demand
        self.row = rows[k]
        self.cand = instance.cand[k]
        self.time = instance.time_s[k]
        self.order = np.argsort(self.cand, kind="stable")
        self.colptr = np.zeros(self.m + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.cand, minlength=self.m), out=self.colptr[1:])

    def col(self, j: int) -> np.ndarray:
        """The pair indices of candidate ``j``."""
        return self.order[self.colptr[j]:self.colptr[j + 1]]


def _lazy_greedy(m: int, gains: np.ndarray, k: int, gain: Callable[[int], float],
                 take: Callable[[int], None], done: Callable[[], bool] | None = None,
                 skip: np.ndarray | None = None) -> list[int]:
    """Up to ``k`` sites, each the one of largest ``gain`` (ties: lowest index), from the
    initial ``gains`` (upper bounds, as gains only fall); ``take(j)`` opens ``j``. Stops
    early when ``done()``."""
    heap = [(-float(g), j) for j, g in enumerate(gains) if skip is None or not skip[j]]
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap and len(chosen) < k and not (done is not None and done()):
        _, j = heapq.heappop(heap)
        entry = (-gain(j), j)
        if not heap or entry <= heap[0]:
            take(j)
            chosen.append(j)
        else:
            heapq.heappush(heap, entry)
    return chosen


# ---- MCLP ---------------------------------------------------------------------------------


def mclp(instance: Instance, p: int, r: float, weight: np.ndarray | None = None,
         start: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """``p`` sites covering much demand weight within ``r``: lazy greedy from ``start`` (or
    nothing), then Teitz & Bart swaps. Returns the sorted open sites and the swaps made."""
    pr = _Pairs(instance, r)
    w = instance.weight if weight is None else weight
    m = pr.m
    cnt = np.zeros(pr.n, dtype=np.int64)  # open sites covering each demand point
    sid = np.zeros(pr.n, dtype=np.int64)  # the sum of their indices: the site when cnt == 1
    is_open = np.zeros(m, dtype=bool)

    def take(j: int) -> None:
        rows = pr.row[pr.col(j)]
        cnt[rows] += 1
        sid[rows] += j
        is_open[j] = True

    def gain(j: int) -> float:
        rows = pr.row[pr.col(j)]
        return float(w[rows][cnt[rows] == 0].sum())

    for j in (start if start is not None else ()):
        take(int(j))
    wp = w[pr.row]
    gains = np.bincount(pr.cand, weights=wp * (cnt[pr.row] == 0), minlength=m)
    _lazy_greedy(m, gains, p - int(is_open.sum()), gain, take, skip=is_open)
    total = float(w.sum())
    swaps = 0
    while True:
        unc = cnt[pr.row] == 0
        gains = np.bincount(pr.cand, weights=wp * unc, minlength=m)
        one = cnt == 1
        loss = np.bincount(sid[one], weights=w[one], minlength=m)
        sel = np.flatnonzero(one[pr.row] & ~is_open[pr.cand])
        best = _best_swap(gains, loss, is_open, wp[sel], pr.cand[sel], sid[pr.row[sel]],
                          1e-9 * max(total, 1.0))
        if best is None:
            break
        best_k, best_j = best
        rows = pr.row[pr.col(best_j)]
        cnt[rows] -= 1
        sid[rows] -= best_j
        is_open[best_j] = False
        take(best_k)
        swaps += 1
    return np.flatnonzero(is_open), swaps


# ---- p-median -----------------------------------------------------------------------------


class _Median:
    """The p-median state: each demand point's nearest and second-nearest open site, as the
    cost of serving it (weight × time; ``omega`` when no open site reaches it, more than any
    served plan costs, so that serving everyone comes first)."""

    def __init__(self, instance: Instance) -> None:
        self.pr = _Pairs(instance, instance.radius_s)
        self.w = instance.weight
        self.cost = self.w[self.pr.row] * self.pr.time
        self.omega = float(self.cost.sum()) + 1.0
        self.is_open = np.zeros(self.pr.m, dtype=bool)
        self.c1 = np.full(self.pr.n, self.omega)
        self.s1 = np.full(self.pr.n, -1, dtype=np.int64)
        self.c2 = np.full(self.pr.n, self.omega)

    def refresh(self) -> None:
        """Recompute c1, s1, c2 from the open sites (the rows are sorted by time)."""
        pr = self.pr
        k = np.flatnonzero(self.is_open[pr.cand])
        self.c1[:] = self.omega
        self.c2[:] = self.omega
        self.s1[:] = -1
        if not len(k):
            return
        rows = pr.row[k]
        first = np.r_[True, rows[1:] != rows[:-1]]
        self.c1[rows[first]] = self.cost[k[first]]
        self.s1[rows[first]] = pr.cand[k[first]]
        second = np.r_[False, first[:-1] & ~first[1:]]
        self.c2[rows[second]] = self.cost[k[second]]

    def gain(self, j: int) -> float:
        """The fall of the total cost if ``j`` opens."""
        k = self.pr.col(j)
        return float(np.maximum(self.c1[self.pr.row[k]] - self.cost[k], 0.0).sum())

    def take(self, j: int) -> None:
        k = self.pr.col(j)
        rows = self.pr.row[k]
        better = self.cost[k] < self.c1[rows]
        self.c1[rows[better]] = self.cost[k[better]]
        self.s1[rows[better]] = j
        self.is_open[j] = True

    def greedy(self, p: int) -> None:
        """Open sites up to ``p``, each the one of largest gain (lazily, the gains of
        facility location only falling as sites open)."""
        pr = self.pr
        gains = np.bincount(pr.cand, weights=np.maximum(self.c1[pr.row] - self.cost, 0.0),
                            minlength=pr.m)
        _lazy_greedy(pr.m, gains, p - int(self.is_open.sum()), self.gain, self.take,
                     skip=self.is_open.copy())
        self.refresh()

    def swap(self) -> int:
        """Teitz & Bart swaps, the best each round, until none improves; the swaps made."""
        pr = self.pr
        m = pr.m
        swaps = 0
        while True:
            c1r = self.c1[pr.row]
            gains = np.bincount(pr.cand, weights=np.maximum(c1r - self.cost, 0.0), minlength=m)
            served = self.s1 >= 0
            loss = np.bincount(self.s1[served], weights=(self.c2 - self.c1)[served],
                               minlength=m)
            s1r = self.s1[pr.row]
            c2r = self.c2[pr.row]
            sel = np.flatnonzero((s1r >= 0) & ~self.is_open[pr.cand] & (self.cost < c2r))
            ex = c2r[sel] - np.maximum(self.cost[sel], c1r[sel])
            best = _best_swap(gains, loss, self.is_open, ex, pr.cand[sel], s1r[sel],
                              1e-9 * max(float(np.sum(self.c1)), 1.0))
            if best is None:
                return swaps
            k, j = best
            self.is_open[j] = False
            self.is_open[k] = True
            self.refresh()
            swaps += 1


def _best_swap(gains: np.ndarray, loss: np.ndarray, is_open: np.ndarray, extra: np.ndarray,
               cand: np.ndarray, out: np.ndarray, tol: float) -> tuple[int, int] | None:
    """The best swap of a Teitz & Bart round (Whitaker 1983's fast interchange), or None when
    none improves by more than ``tol``: ``(site k to open, open site j to close)``. Opening k
    gains ``gains[k]``; closing j loses ``loss[j]``; pair i of ``(extra, cand, out)`` says that
    opening ``cand[i]`` also wins back ``extra[i]`` of what closing ``out[i]`` would lose. Ties
    go to the lowest index."""
    m = len(gains)
    loss_open = np.where(is_open, loss, np.inf)
    j_min = int(np.argmin(loss_open))
    base = -loss_open[j_min]
    delta = np.where(is_open, -np.inf, gains + base)
    corr = None
    if len(extra):
        corr = sparse.csr_matrix((extra, (cand, out)), shape=(m, m))
        corr.sum_duplicates()
        val = corr.data - loss[corr.indices]
        nonempty = np.flatnonzero(np.diff(corr.indptr))
        rowmax = np.maximum.reduceat(val, corr.indptr[nonempty])
        better = rowmax > base
        delta[nonempty[better]] = gains[nonempty[better]] + rowmax[better]
    k = int(np.argmax(delta))
    if delta[k] <= tol:
        return None
    j = j_min
    if corr is not None and corr.indptr[k + 1] > corr.indptr[k]:
        lo, hi = corr.indptr[k], corr.indptr[k + 1]
        v = corr.data[lo:hi] - loss[corr.indices[lo:hi]]
        if v.max() > base:
            j = int(corr.indices[lo:hi][v == v.max()].min())
    return k, j


def pmedian(instance: Instance, p: int) -> tuple[np.ndarray, int]:
    """``p`` sites of small weighted travel time: lazy greedy, then Teitz & Bart swaps.
    Raises :class:`UserError` when the plan leaves demand of weight > 0 unserved."""
    st = _Median(instance)
    st.greedy(p)
    swaps = st.swap()
    lost = np.flatnonzero((instance.weight > 0) & (st.s1 < 0))
    if len(lost):
        raise UserError(f"pmedian heuristic: {p} sites leave {len(lost)} demand points "
                        "unserved, e.g. " + ", ".join(instance.demand_ids[i] for i in lost[:10]),
                        hint="try planning.solver=exact, raise planning.p or the radius")
    return np.flatnonzero(st.is_open), swaps


def fill(instance: Instance, open_: np.ndarray, p: int) -> np.ndarray:
    """``open_`` with sites added up to ``p``, each the one that cuts the weighted travel
    time most (ties: lowest index). Sorted."""
    open_ = np.asarray(open_, dtype=np.int64)
    if len(open_) >= p:
        return np.sort(open_)
    st = _Median(instance)
    for j in open_:
        st.take(int(j))
    st.greedy(p)
    return np.flatnonzero(st.is_open)


# ---- p-center -----------------------------------------------------------------------------


def pcenter(instance: Instance, p: int) -> Solution:
    """``p`` sites of small worst travel time (see the module's text), as a Solution with the
    bound of the nearest candidates."""
    problem = Problem("pcenter", p)
    pos = instance.weight > 0
    lo_t = float(instance.time_s[instance.indptr[:-1][pos]].max())
    best, swaps = pmedian(instance, p)
    is_open = np.zeros(instance.n_candidates, dtype=bool)
    is_open[best] = True
    hi_t = float(assignment(instance, is_open)[1][pos].max())
    times = np.unique(instance.time_s[(instance.time_s >= lo_t) & (instance.time_s <= hi_t)])
    unit = pos.astype(np.float64)
    n_pos = float(unit.sum())
    lo, hi = 0, len(times) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        sites, s = mclp(instance, p, float(times[mid]), weight=unit)
        swaps += s
        pr = _Pairs(instance, float(times[mid]))
        covered = np.zeros(instance.n_demand, dtype=bool)
        covered[pr.row[np.isin(pr.cand, sites)]] = True
        if float(unit[covered].sum()) >= n_pos:
            hi, best = mid, sites
        else:
            lo = mid + 1
    return evaluate(instance, problem, best, solver="heuristic", status="heuristic",
                    bound=lo_t, iterations=swaps)


# ---- LSCP ---------------------------------------------------------------------------------


def lscp(instance: Instance, r: float) -> np.ndarray:
    """Sites covering every demand point of weight > 0 within ``r`` at small cost: Chvátal's
    greedy (most newly covered points per unit cost), then redundant sites removed."""
    pr = _Pairs(instance, r)
    m = pr.m
    cost = instance.cost
    cnt = np.zeros(pr.n, dtype=np.int64)
    need = int(np.count_nonzero(instance.weight > 0))
    state = {"covered": 0}

    def ratio(j: int) -> float:
        g = float(np.count_nonzero(cnt[pr.row[pr.col(j)]] == 0))
        if g == 0:
            return 0.0
        return g / cost[j] if cost[j] > 0 else np.inf

    def take(j: int) -> None:
        rows = pr.row[pr.col(j)]
        state["covered"] += int(np.count_nonzero(cnt[rows] == 0))
        cnt[rows] += 1

    gains = np.array([ratio(j) for j in range(m)])
    chosen = _lazy_greedy(m, gains, m, ratio, take, done=lambda: state["covered"] >= need)
    kept = set(chosen)
    for j in sorted(chosen, key=lambda j: (-cost[j], j)):
        rows = pr.row[pr.col(j)]
        if np.all(cnt[rows] >= 2):
            cnt[rows] -= 1
            kept.discard(j)
    return np.array(sorted(kept), dtype=np.int64)


# ---- the entry point ----------------------------------------------------------------------


def solve(instance: Instance, problem: Problem) -> Solution:
    """The heuristic's Solution of ``problem`` (checked by
    :func:`gridsim.planning.models.solve`, which calls this)."""
    r = radius_of(instance, problem)
    nan = float("nan")
    if problem.model == "lscp":
        return evaluate(instance, problem, lscp(instance, r), solver="heuristic",
                        status="heuristic", bound=nan, iterations=0)
    if problem.model == "mclp":
        sites, swaps = mclp(instance, problem.p, r)
    elif problem.model == "pmedian":
        sites, swaps = pmedian(instance, problem.p)
    else:
        return pcenter(instance, problem.p)
    return evaluate(instance, problem, sites, solver="heuristic", status="heuristic",
                    bound=nan, iterations=swaps)
