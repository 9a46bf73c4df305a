"""The site models (选址模型) and their exact solution with ``scipy.optimize.milp`` (HiGHS).

Four classical models, each on an :class:`~gridsim.planning.instance.Instance`'s sparse pairs
(``N_i(r)``: the candidates within travel time ``r`` of demand point ``i``; ``w_i`` its weight,
``t_ij`` the time of pair ``(i, j)``; ``y_j`` = 1 when candidate ``j`` opens):

* **LSCP** (location set covering, Toregas, Swain, ReVelle & Bergman 1971): the least total cost
  of sites covering every demand point of weight > 0 within ``r``;
* **MCLP** (maximal covering location, Church & ReVelle 1974): the most demand weight covered
  within ``r`` by ``p`` sites;
* **p-median** (Hakimi 1964; the integer programme of ReVelle & Swain 1970): the least
  demand-weighted travel time with ``p`` sites, each demand point served by its nearest one;
* **p-center** (Hakimi 1964; the MILP and the covering-based search e.g. in Daskin 2013,
  *Network and Discrete Location*, 2nd ed., on center problems): the least worst travel time
  with ``p`` sites, solved by a bisection over set-covering problems (Minieka 1970).

Every constraint matrix is a ``scipy.sparse`` matrix with one entry per pair (no dense
demand × candidate table). :func:`solve` runs the exact solver or the heuristic
(:mod:`gridsim.planning.heuristic`) and returns a :class:`Solution` with its objective, the
nearest open site of each demand point, the covered share, and the proven gap and bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from gridsim.errors import UserError
from gridsim.planning import heuristic
from gridsim.planning.instance import Instance, _named
from gridsim.planning.solution import Problem, Solution, assignment, evaluate, radius_of

__all__ = ["SITE_MODELS", "SOLVERS", "Problem", "Solution", "solve"]

#: The site models :func:`solve` knows.
SITE_MODELS: tuple[str, ...] = ("lscp", "mclp", "pmedian", "pcenter")
#: Its solvers.
SOLVERS: tuple[str, ...] = ("exact", "heuristic")


# ---- shared pieces ------------------------------------------------------------------------


def check_problem(instance: Instance, problem: Problem, solver: str) -> None:
    """Raise :class:`UserError` for an unknown model or solver, a bad ``p`` or radius, or an
    instance with no demand weight."""
    if problem.model not in SITE_MODELS:
        raise UserError(f"planning.model: unknown site model {problem.model!r}",
                        hint="one of " + ", ".join(SITE_MODELS))
    if solver not in SOLVERS:
        raise UserError(f"planning.solver: unknown solver {solver!r}",
                        hint="one of " + ", ".join(SOLVERS))
    if math.isnan(problem.radius_s) or problem.radius_s < 0:
        raise UserError(f"planning.radius_s: must be >= 0, not {problem.radius_s}")
    if math.isfinite(problem.radius_s) and problem.radius_s > instance.radius_s:
        raise UserError(f"planning.radius_s: {problem.radius_s:g} s is beyond the instance's "
                        f"radius {instance.radius_s:g} s",
                        hint="the instance lacks the pairs beyond it; build it with a larger "
                        "radius")
    if problem.model != "lscp":
        m = instance.n_candidates
        if problem.p < 1:
            raise UserError(f"planning.p: must be >= 1 for {problem.model}, not {problem.p}")
        if problem.p > m:
            raise UserError(f"planning.p: {problem.p} sites asked of {m} candidates",
                            hint=f"choose p <= {m}")
    if not np.any(instance.weight > 0):
        raise UserError("instance: no demand point has a weight > 0", hint="nothing to serve")


def check_reachable(instance: Instance, model: str, r: float) -> None:
    """Raise :class:`UserError` naming the demand points of weight > 0 with no candidate
    within ``r`` (LSCP) or among the instance's pairs (p-median, p-center)."""
    rows = instance.rows()
    near = np.zeros(instance.n_demand, dtype=bool)
    near[rows[instance.time_s <= r]] = True
    lost = np.flatnonzero((instance.weight > 0) & ~near)
    if len(lost):
        ids = [instance.demand_ids[i] for i in lost[:10]]
        if model == "lscp":
            what = f"infeasible LSCP: demand beyond every candidate's radius of {r:g} s"
            hint = "add candidates near them, raise planning.radius_s, or use mclp"
        else:
            what = f"{model}: demand that no candidate reaches in the instance's pairs"
            hint = "add candidates near them or build the instance with a larger radius"
        raise UserError(_named(what, ids, len(lost)), hint=hint)


# ---- the exact formulations ---------------------------------------------------------------

#: HiGHS's relative MIP gap at which a solve counts as optimal. HiGHS's own default is 1e-4;
#: this is tighter, so that "optimal" means the best plan, not one within 0.01 % of it.
MIP_REL_GAP = 1e-9


@dataclass
class _Milp:
    """The outcome of one ``milp`` call: the solution vector (None if none), its status, the
    objective's dual bound and the nodes."""

    x: np.ndarray | None
    status: str
    bound: float
    nodes: int


def _milp(c: np.ndarray, integrality: np.ndarray, bounds: optimize.Bounds,
          constraints: list[optimize.LinearConstraint], time_limit_s: float, what: str,
          infeasible: str = "HiGHS proved the model infeasible") -> _Milp:
    """Run HiGHS; raise :class:`UserError` when it proves the model infeasible, or stops at the
    time limit without a solution."""
    res = optimize.milp(c, integrality=integrality, bounds=bounds, constraints=constraints,
                        options={"time_limit": max(float(time_limit_s), 1e-3),
                                 "mip_rel_gap": MIP_REL_GAP, "presolve": True, "disp": False})
    nodes = int(getattr(res, "mip_node_count", 0) or 0)
    bound = getattr(res, "mip_dual_bound", None)
    bound = math.nan if bound is None else float(bound)
    if res.status == 0:
        return _Milp(np.asarray(res.x), "optimal", bound, nodes)
    if res.status == 2:
        raise UserError(f"{what}: no solution exists", hint=infeasible)
    if res.x is not None and res.status == 1:
        return _Milp(np.asarray(res.x), "time_limit", bound, nodes)
    if res.status == 1:
        raise UserError(f"{what}: no solution found within the time limit of "
                        f"{time_limit_s:g} s", hint="raise planning.time_limit_s or use "
                        "planning.solver=heuristic")
    raise UserError(f"{what}: the MILP solver failed", hint=str(res.message))


def _coverage(instance: Instance, r: float, rows_of: np.ndarray) -> sparse.csr_matrix:
    """The 0/1 coverage matrix within ``r``: one row per kept demand point (``rows_of`` maps a
    demand index to its row, -1 to leave it out), one column per candidate."""
    rows = instance.rows()
    k = np.flatnonzero((instance.time_s <= r) & (rows_of[rows] >= 0))
    n_rows = int(rows_of.max()) + 1 if len(rows_of) else 0
    return sparse.csr_matrix((np.ones(len(k)), (rows_of[rows[k]], instance.cand[k])),
                             shape=(n_rows, instance.n_candidates))


def _merge_rows(a: sparse.csr_matrix, w: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Demand rows with the same coverage set merged into one (their weights summed): the
    same optimum, fewer rows. Rows are compared by their column lists, exactly."""
    a = a.tocsr()
    a.sort_indices()
    keys = [a.indices[a.indptr[i]:a.indptr[i + 1]].tobytes() for i in range(a.shape[0])]
    index: dict[bytes, int] = {}
    group = np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        group[i] = index.setdefault(key, len(index))
    n = len(index)
    first = np.full(n, -1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(keys))[::-1]
    merged = a[first]
    return sparse.csr_matrix(merged), np.bincount(group, weights=w, minlength=n)


def _lscp_exact(instance: Instance, r: float, time_limit_s: float,
                cost: np.ndarray | None = None,
                keep: np.ndarray | None = None) -> tuple[np.ndarray, _Milp]:
    """LSCP (Toregas et al. 1971): min sum_j c_j y_j s.t. sum_{j in N_i(r)} y_j >= 1 for each
    demand point i of weight > 0 (or each of ``keep``), y binary. Rows with the same coverage
    set are merged (one constraint each)."""
    m = instance.n_candidates
    c = instance.cost if cost is None else cost
    sel = instance.weight > 0 if keep is None else keep
    rows_of = np.where(sel, np.cumsum(sel) - 1, -1)
    a, _ = _merge_rows(_coverage(instance, r, rows_of), np.ones(int(sel.sum())))
    res = _milp(np.asarray(c, dtype=np.float64), np.ones(m), optimize.Bounds(0, 1),
                [optimize.LinearConstraint(a, lb=1, ub=np.inf)], time_limit_s, "lscp")
    assert res.x is not None
    return np.flatnonzero(res.x > 0.5), res


def _mclp_exact(instance: Instance, p: int, r: float,
                time_limit_s: float) -> tuple[np.ndarray, _Milp, float]:
    """MCLP (Church & ReVelle 1974): max sum_i w_i z_i s.t. z_i <= sum_{j in N_i(r)} y_j,
    sum_j y_j = p, y binary, 0 <= z_i <= 1.

    z is continuous: for binary y the right-hand side is a whole number, so the best z_i is
    min(1, sum y) in {0, 1}, and the relaxation of z is exact (Church & ReVelle 1974 note the
    same); it spares HiGHS branching on z. Demand points with no candidate within r (z_i = 0)
    and of weight 0 are left out, and points with the same coverage set are merged (weights
    summed). Returns the open sites, the outcome, and the bound on covered weight."""
    m = instance.n_candidates
    w = instance.weight
    rows = instance.rows()
    reach = np.zeros(instance.n_demand, dtype=bool)
    reach[rows[instance.time_s <= r]] = True
    sel = (w > 0) & reach
    rows_of = np.where(sel, np.cumsum(sel) - 1, -1)
    a, wz = _merge_rows(_coverage(instance, r, rows_of), w[sel])
    nz = a.shape[0]
    # variables [y (m), z (nz)]; rows: z_i - A_i y <= 0, then sum y = p
    cover = sparse.hstack([-a, sparse.identity(nz, format="csr")], format="csr")
    total = sparse.csr_matrix(np.r_[np.ones(m), np.zeros(nz)].reshape(1, -1))
    c = np.r_[np.zeros(m), -wz]
    integrality = np.r_[np.ones(m), np.zeros(nz)]
    res = _milp(c, integrality, optimize.Bounds(0, 1),
                [optimize.LinearConstraint(cover, lb=-np.inf, ub=0),
                 optimize.LinearConstraint(total, lb=p, ub=p)], time_limit_s, "mclp")
    assert res.x is not None
    return _top(res.x[:m], p), res, -res.bound


def _top(y: np.ndarray, p: int) -> np.ndarray:
    """The ``p`` candidates with the largest ``y`` (the open ones of a binary ``y``)."""
    order = np.lexsort((np.arange(len(y)), -np.round(y, 6)))
    return np.sort(order[:p])


def _pmedian_exact(instance: Instance, p: int,
                   time_limit_s: float) -> tuple[np.ndarray, _Milp]:
    """p-median (Hakimi 1964; ReVelle & Swain 1970): min sum_ij w_i t_ij x_ij over the
    instance's pairs s.t. sum_j x_ij = 1 for each demand point i of weight > 0,
    x_ij <= y_j, sum_j y_j = p, y binary, x >= 0.

    The assignment is restricted to the instance's pairs (a demand point can only be served by
    a candidate within the instance's radius); x is continuous, as for binary y an optimal x
    sends each point wholly to its nearest open site. Points of weight 0 are left out."""
    m = instance.n_candidates
    w = instance.weight
    rows = instance.rows()
    k = np.flatnonzero(w[rows] > 0)
    nx = len(k)
    sel = w > 0
    rows_of = np.cumsum(sel) - 1
    ar = np.arange(nx)
    one = np.ones(nx)
    # variables [y (m), x (nx)]
    assign = sparse.csr_matrix((one, (rows_of[rows[k]], m + ar)), shape=(int(sel.sum()), m + nx))
    link = sparse.csr_matrix((np.r_[one, -one], (np.r_[ar, ar], np.r_[m + ar, instance.cand[k]])),
                             shape=(nx, m + nx))
    total = sparse.csr_matrix(np.r_[np.ones(m), np.zeros(nx)].reshape(1, -1))
    c = np.r_[np.zeros(m), w[rows[k]] * instance.time_s[k]]
    res = _milp(c, np.r_[np.ones(m), np.zeros(nx)], optimize.Bounds(0, 1),
                [optimize.LinearConstraint(assign, lb=1, ub=1),
                 optimize.LinearConstraint(link, lb=-np.inf, ub=0),
                 optimize.LinearConstraint(total, lb=p, ub=p)], time_limit_s,
                f"pmedian with p={p}", infeasible=f"no {p} sites reach every demand point "
                "within the instance's pairs: raise planning.p or the instance's radius")
    assert res.x is not None
    return _top(res.x[:m], p), res


def _pcenter_exact(instance: Instance, p: int, time_limit_s: float,
                   start: np.ndarray | None) -> tuple[np.ndarray, str, float, int]:
    """p-center (Hakimi 1964) by a search over the distinct pair times T (Minieka 1970, "The
    m-center problem"; Daskin 2013): the optimum is the least t in T such that at most p sites
    cover every demand point of weight > 0 within t, and "at most p sites cover all within t"
    is decided by an LSCP with unit costs (:func:`_lscp_exact`). A bisection over T needs
    log2 |T| of them.

    The search starts from ``lo``: the largest over demand points of the nearest candidate's
    time (no plan does better), and ``hi``: the heuristic's worst time (``start``, feasible).
    Returns the open sites (p of them: sites the cover leaves free are filled greedily by
    weighted time, see :func:`gridsim.planning.heuristic.fill`), the status, the bound (the
    least time not proven infeasible) and the branch-and-bound nodes over all the solves."""
    deadline = time.monotonic() + time_limit_s
    w = instance.weight
    pos = w > 0
    first = instance.time_s[instance.indptr[:-1][pos]]
    lo_t = float(first.max())
    best = heuristic.pcenter(instance, p).open if start is None else start
    is_open = np.zeros(instance.n_candidates, dtype=bool)
    is_open[best] = True
    hi_t = float(assignment(instance, is_open)[1][pos].max())
    times = np.unique(instance.time_s[(instance.time_s >= lo_t) & (instance.time_s <= hi_t)])
    lo, hi = 0, len(times) - 1  # times[hi] is feasible with `best`; below times[lo] none is
    nodes = 0
    status = "optimal"
    ones = np.ones(instance.n_candidates)
    while lo < hi:
        mid = (lo + hi) // 2
        left = deadline - time.monotonic()
        if left <= 0:
            status = "time_limit"
            break
        try:
            sites, res = _lscp_exact(instance, float(times[mid]), left, cost=ones, keep=pos)
        except UserError:  # no cover found in the time left: the search stops here
            status = "time_limit"
            break
        nodes += res.nodes
        if len(sites) <= p:
            hi, best = mid, sites
        elif res.status == "optimal" or (math.isfinite(res.bound) and res.bound > p + 1e-6):
            lo = mid + 1
        else:  # neither proven feasible nor infeasible within the time left
            status = "time_limit"
            break
    return heuristic.fill(instance, best, p), status, float(times[lo]), nodes


# ---- the entry point ----------------------------------------------------------------------


def solve(instance: Instance, problem: Problem, *, solver: str = "exact",
          time_limit_s: float = 60.0) -> Solution:
    """Solve ``problem`` on ``instance`` exactly (``scipy.optimize.milp``, HiGHS, within
    ``time_limit_s``: a time-limited solve returns its best plan with its gap) or by the
    heuristic (:mod:`gridsim.planning.heuristic`).

    Raises :class:`UserError` for an unknown model or solver, ``p < 1`` or ``p`` above the
    candidates, an infeasible LSCP (naming the demand beyond every candidate's radius), a
    p-median or p-center demand point of weight > 0 that no candidate reaches, and an exact
    solve with no solution at its time limit."""
    check_problem(instance, problem, solver)
    r = radius_of(instance, problem)
    model, p = problem.model, problem.p
    if model == "lscp":
        check_reachable(instance, model, r)
    elif model in ("pmedian", "pcenter"):
        check_reachable(instance, model, instance.radius_s)
    if solver == "heuristic":
        return heuristic.solve(instance, problem)
    if model == "lscp":
        sites, res = _lscp_exact(instance, r, time_limit_s)
        return evaluate(instance, problem, sites, solver="exact", status=res.status,
                        bound=res.bound, iterations=res.nodes)
    if model == "mclp":
        sites, res, bound = _mclp_exact(instance, p, r, time_limit_s)
        return evaluate(instance, problem, sites, solver="exact", status=res.status,
                        bound=bound, iterations=res.nodes)
    if model == "pmedian":
        sites, res = _pmedian_exact(instance, p, time_limit_s)
        return evaluate(instance, problem, sites, solver="exact", status=res.status,
                        bound=res.bound, iterations=res.nodes)
    sites, status, bound, nodes = _pcenter_exact(instance, p, time_limit_s, None)
    return evaluate(instance, problem, sites, solver="exact", status=status, bound=bound,
                    iterations=nodes)
