"""The site models' solvers (gridsim.planning.models, .heuristic) against brute force.

Small random Euclidean instances (a dense time table is fine at 12 × 7 in a test), every
model's exact optimum checked against enumeration of all site subsets, the objectives
recomputed from the times independently of the solvers, the heuristic bounded by the exact
optimum and equal to it where greedy is provably optimal, and the errors of bad input.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gridsim.errors import UserError
from gridsim.planning.instance import Instance
from gridsim.planning.models import Problem, solve

SEEDS = range(5)


def dense(seed: int, n: int = 12, m: int = 7, side: float = 1000.0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, side, (n, 2))
    c = rng.uniform(0, side, (m, 2))
    t = np.hypot(d[:, None, 0] - c[None, :, 0], d[:, None, 1] - c[None, :, 1])
    w = rng.integers(0, 10, n).astype(float)  # some weights 0
    w[0] = 5.0
    cost = rng.integers(1, 5, m).astype(float)
    return d, c, t, w, cost


def make(d: np.ndarray, c: np.ndarray, t: np.ndarray, w: np.ndarray, cost: np.ndarray,
         radius: float) -> Instance:
    di, ci = np.nonzero(t <= radius)
    return Instance.from_pairs(demand_ids=[f"d{i}" for i in range(len(d))], weight=w,
                               demand_xy=d, candidate_ids=[f"c{j}" for j in range(len(c))],
                               candidate_xy=c, cost=cost, demand_index=di, candidate_index=ci,
                               time_s=t[di, ci], radius_s=radius)


def nearest(t: np.ndarray, radius: float, sites: tuple[int, ...]) -> np.ndarray:
    """Each demand point's least time to ``sites`` among the pairs within ``radius``."""
    sub = np.where(t[:, list(sites)] <= radius, t[:, list(sites)], np.inf)
    return sub.min(axis=1)


def brute(model: str, t: np.ndarray, w: np.ndarray, cost: np.ndarray, p: int, r: float,
          radius: float) -> float:
    """The optimum by enumeration: all p-subsets, or (LSCP) all subsets."""
    m = t.shape[1]
    pos = w > 0
    if model == "lscp":
        best = math.inf
        for k in range(1, m + 1):
            for s in itertools.combinations(range(m), k):
                if np.all(nearest(t, r, s)[pos] <= r):
                    best = min(best, float(cost[list(s)].sum()))
        return best
    vals = []
    for s in itertools.combinations(range(m), p):
        near = nearest(t, radius, s)
        if model == "mclp":
            vals.append(float(w[near <= r].sum()))
        elif np.all(np.isfinite(near[pos])):
            vals.append(float(np.sum(w[pos] * near[pos])) if model == "pmedian"
                        else float(near[pos].max()))
    return max(vals) if model == "mclp" else min(vals, default=math.inf)


def recomputed(model: str, t: np.ndarray, w: np.ndarray, cost: np.ndarray, sites: np.ndarray,
               r: float, radius: float) -> float:
    near = nearest(t, radius, tuple(int(j) for j in sites))
    pos = w > 0
    if model == "lscp":
        return float(cost[sites].sum())
    if model == "mclp":
        return float(w[near <= r].sum())
    if model == "pmedian":
        return float(np.sum(w[pos] * near[pos]))
    return float(near[pos].max())


CASES = [(model, p) for model in ("mclp", "pmedian", "pcenter") for p in (1, 2, 3)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("model", "p"), [("lscp", 0), *CASES])
@pytest.mark.parametrize("radius", [math.inf, 650.0])
def test_exact_equals_brute_force_and_heuristic_never_beats_it(seed: int, model: str, p: int,
                                                               radius: float) -> None:
    d, c, t, w, cost = dense(seed)
    r = {"lscp": 600.0, "mclp": 450.0}.get(model, math.inf)
    inst = make(d, c, t, w, cost, radius)
    want = brute(model, t, w, cost, p, r, radius)
    problem = Problem(model, p, r)
    if not math.isfinite(want):  # no plan serves every point: the solver says so
        with pytest.raises(UserError):
            solve(inst, problem)
        return
    exact = solve(inst, problem)
    assert exact.status == "optimal" and exact.solver == "exact"
    assert exact.objective == pytest.approx(want, rel=1e-9)
    assert exact.objective == pytest.approx(
        recomputed(model, t, w, cost, exact.open, r, radius), rel=1e-12)
    if model != "lscp":
        assert len(exact.open) == p
    assert exact.gap == pytest.approx(0.0, abs=1e-6)
    try:
        heur = solve(inst, problem, solver="heuristic")
    except UserError:  # p-median's heuristic may fail to serve all; never silently
        assert model == "pmedian" and math.isfinite(radius)
        return
    assert heur.status == "heuristic"
    assert heur.objective == pytest.approx(
        recomputed(model, t, w, cost, heur.open, r, radius), rel=1e-12)
    if model == "mclp":
        assert heur.objective <= exact.objective + 1e-9
    else:
        assert heur.objective >= exact.objective - 1e-9
    if p == 1:  # greedy's first step is the best single site: optimal
        assert heur.objective == pytest.approx(exact.objective, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("model", "r"), [("mclp", 300.0), ("pmedian", math.inf),
                                          ("pcenter", math.inf)])
def test_larger_instances_exact_equals_brute_force(seed: int, model: str, r: float) -> None:
    """40 demand points, 12 candidates, p = 4 (495 subsets): room for the swaps to matter."""
    d, c, t, w, cost = dense(seed, n=40, m=12)
    inst = make(d, c, t, w, cost, math.inf)
    want = brute(model, t, w, cost, 4, r, math.inf)
    exact = solve(inst, Problem(model, 4, r))
    heur = solve(inst, Problem(model, 4, r), solver="heuristic")
    assert exact.objective == pytest.approx(want, rel=1e-9)
    if model == "mclp":
        assert heur.objective <= exact.objective
    else:
        assert heur.objective >= exact.objective - 1e-9 * abs(exact.objective)


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_covers_every_demand_point_and_assignments_are_nearest(seed: int) -> None:
    d, c, t, w, cost = dense(seed)
    inst = make(d, c, t, w, cost, math.inf)
    for solver in ("exact", "heuristic"):
        sol = solve(inst, Problem("lscp", radius_s=650.0), solver=solver)
        near = t[:, sol.open].min(axis=1)
        assert np.all(near[w > 0] <= 650.0)
        assert sol.covered_share == pytest.approx(w[near <= 650.0].sum() / w.sum())
        np.testing.assert_allclose(sol.assign_time_s, near)
        assert np.all(np.isin(sol.assign, sol.open))
        np.testing.assert_allclose(t[np.arange(len(d)), sol.assign], near)


def test_pcenter_objective_is_the_worst_assigned_time() -> None:
    d, c, t, w, cost = dense(7, n=30, m=9)
    inst = make(d, c, t, w, cost, math.inf)
    for solver in ("exact", "heuristic"):
        sol = solve(inst, Problem("pcenter", 3), solver=solver)
        assert sol.objective == float(t[w > 0][:, sol.open].min(axis=1).max())
        assert sol.objective == float(sol.assign_time_s[w > 0].max())
        assert sol.bound <= sol.objective
        if solver == "exact":  # proven: the bisection closed on the optimum
            assert sol.bound == sol.objective and sol.gap == 0.0
        else:  # no plan beats the nearest candidate of the worst-placed point
            assert sol.bound == float(t[w > 0].min(axis=1).max())
            assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective)


def test_pmedian_objective_is_the_weighted_sum_of_nearest_times() -> None:
    d, c, t, w, cost = dense(8, n=30, m=9)
    inst = make(d, c, t, w, cost, math.inf)
    for solver in ("exact", "heuristic"):
        sol = solve(inst, Problem("pmedian", 3), solver=solver)
        assert sol.objective == pytest.approx(float(np.sum(w * t[:, sol.open].min(axis=1))),
                                              rel=1e-12)


def test_mclp_heuristic_is_optimal_on_disjoint_coverage_sets() -> None:
    """Each candidate covers its own demand points: greedy takes the p heaviest sets, which
    is optimal (the covered weight is a sum over the chosen sets)."""
    weights = [7.0, 3.0, 9.0, 1.0, 4.0, 8.0, 2.0, 6.0]  # one point per candidate, plus pairs
    di, ci, ts = [], [], []
    for j in range(len(weights)):
        for k in range(2):
            di.append(2 * j + k)
            ci.append(j)
            ts.append(10.0 + k)
    far = len(di)  # a point beyond the radius of every candidate
    di.append(far)
    ci.append(0)
    ts.append(900.0)
    w = np.repeat(weights, 2) / 2
    w = np.r_[w, 100.0]
    n = len(w)
    inst = Instance.from_pairs(demand_ids=range(n), weight=w, demand_xy=np.zeros((n, 2)),
                               candidate_ids=range(len(weights)),
                               candidate_xy=np.zeros((len(weights), 2)),
                               cost=np.ones(len(weights)), demand_index=di, candidate_index=ci,
                               time_s=ts, radius_s=1000.0)
    for p in (1, 3, 5):
        heur = solve(inst, Problem("mclp", p, 100.0), solver="heuristic")
        exact = solve(inst, Problem("mclp", p, 100.0))
        want = sum(sorted(weights, reverse=True)[:p])
        assert heur.objective == exact.objective == want
        assert set(heur.open) == set(np.argsort(weights)[::-1][:p])
        assert heur.covered_share == pytest.approx(want / w.sum())


def test_lscp_heuristic_is_optimal_on_a_nested_chain() -> None:
    """Candidate j covers demand points 0..j (nested sets): the largest alone covers all, and
    Chvátal's greedy (most new points per cost, equal costs) takes it first and stops."""
    n = 6
    di, ci = zip(*[(i, j) for j in range(n) for i in range(j + 1)], strict=True)
    inst = Instance.from_pairs(demand_ids=range(n), weight=np.ones(n),
                               demand_xy=np.zeros((n, 2)), candidate_ids=range(n),
                               candidate_xy=np.zeros((n, 2)), cost=np.ones(n),
                               demand_index=di, candidate_index=ci, time_s=np.full(len(di), 5.0),
                               radius_s=10.0)
    for solver in ("exact", "heuristic"):
        sol = solve(inst, Problem("lscp", radius_s=10.0), solver=solver)
        assert list(sol.open) == [n - 1] and sol.objective == 1.0


def test_redundant_sites_are_removed_by_the_lscp_heuristic() -> None:
    """Greedy takes c0 (3 new points per cost 1) then c1 and c2 for the last two points: c0 is
    then redundant, and removing it leaves the optimum {c1, c2}."""
    cover = {0: [1, 2, 3], 1: [0, 1, 2], 2: [3, 4]}
    di = [i for j in cover for i in cover[j]]
    ci = [j for j in cover for _ in cover[j]]
    n = 5
    inst = Instance.from_pairs(demand_ids=range(n), weight=np.ones(n),
                               demand_xy=np.zeros((n, 2)), candidate_ids=range(3),
                               candidate_xy=np.zeros((3, 2)), cost=[1.0, 1.5, 1.5],
                               demand_index=di, candidate_index=ci,
                               time_s=np.ones(len(di)), radius_s=10.0)
    heur = solve(inst, Problem("lscp", radius_s=5.0), solver="heuristic")
    assert list(heur.open) == [1, 2] and heur.objective == 3.0
    assert solve(inst, Problem("lscp", radius_s=5.0)).objective == 3.0


# ---- errors -------------------------------------------------------------------------------


def small() -> Instance:
    d, c, t, w, cost = dense(0)
    return make(d, c, t, w, cost, math.inf)


@pytest.mark.parametrize("p", [0, -1, 8])
@pytest.mark.parametrize("model", ["mclp", "pmedian", "pcenter"])
def test_p_out_of_range_is_a_user_error(model: str, p: int) -> None:
    with pytest.raises(UserError, match=r"planning\.p:"):
        solve(small(), Problem(model, p, 300.0))


def test_infeasible_lscp_names_the_demand_beyond_every_radius() -> None:
    d, c, t, w, cost = dense(0)
    d = np.r_[d, [[9e4, 9e4], [9e4, 9.1e4]]]
    t = np.r_[t, np.full((2, t.shape[1]), 1e5)]
    w = np.r_[w, 1.0, 1.0]
    inst = make(d, c, t, w, cost, math.inf)
    with pytest.raises(UserError, match=r"infeasible LSCP.*\(2\): d12, d13") as info:
        solve(inst, Problem("lscp", radius_s=800.0))
    assert "800" in str(info.value)
    with pytest.raises(UserError, match="infeasible LSCP"):
        solve(inst, Problem("lscp", radius_s=800.0), solver="heuristic")


def test_unreachable_demand_is_named_for_pmedian_and_pcenter() -> None:
    d, c, t, w, cost = dense(0)
    t[3] = 5000.0  # d3 beyond the instance's radius from every candidate
    w[3] = 2.0
    inst = make(d, c, t, w, cost, 1000.0)
    for model in ("pmedian", "pcenter"):
        for solver in ("exact", "heuristic"):
            with pytest.raises(UserError, match=rf"{model}: demand that no candidate reaches.*d3"):
                solve(inst, Problem(model, 2), solver=solver)
    w[3] = 0.0  # weight 0: nothing to serve there, no error
    assert solve(make(d, c, t, w, cost, 1000.0), Problem("pmedian", 2)).status == "optimal"


def test_unknown_model_solver_and_radius_beyond_the_instance() -> None:
    d, c, t, w, cost = dense(0)
    inst = make(d, c, t, w, cost, 600.0)
    with pytest.raises(UserError, match="unknown site model"):
        solve(inst, Problem("median", 2))
    with pytest.raises(UserError, match="unknown solver"):
        solve(inst, Problem("mclp", 2, 300.0), solver="greedy")
    with pytest.raises(UserError, match="beyond the instance's radius"):
        solve(inst, Problem("mclp", 2, 700.0))


# ---- Instance.from_pairs ------------------------------------------------------------------


def pairs(**change: object) -> Instance:
    args: dict[str, object] = dict(
        demand_ids=["a", "b"], weight=[1.0, 2.0], demand_xy=[[0, 0], [1, 1]],
        candidate_ids=["x", "y", "z"], candidate_xy=[[0, 0], [1, 0], [2, 0]],
        cost=[1.0, 1.0, 2.0], demand_index=[1, 0, 1, 0, 1, 0],
        candidate_index=[2, 1, 0, 1, 2, 2], time_s=[30.0, 20.0, 10.0, 15.0, 5.0, 99.0],
        radius_s=50.0)
    args.update(change)
    return Instance.from_pairs(**args)  # type: ignore[arg-type]


def test_from_pairs_sorts_rows_by_time_keeps_the_least_of_duplicates_drops_far_pairs() -> None:
    inst = pairs()
    assert inst.n_demand == 2 and inst.n_candidates == 3 and inst.nnz == 3
    assert list(inst.indptr) == [0, 1, 3]
    # a: (y, 20), (y, 15) -> 15; (z, 99) beyond 50 s. b: (z, 30), (x, 10), (z, 5) -> z 5, x 10
    assert list(inst.cand) == [1, 2, 0]
    assert list(inst.time_s) == [15.0, 5.0, 10.0]
    assert not inst.time_s.flags.writeable


@pytest.mark.parametrize(("change", "match"), [
    ({"weight": [1.0]}, "weight has shape"),
    ({"weight": [1.0, -2.0]}, "negative weight of demand.*b"),
    ({"weight": [1.0, float("nan")]}, "weight is not finite"),
    ({"demand_xy": [[0, 0]]}, "demand_xy has shape"),
    ({"cost": [1.0, -1.0, 0.0]}, "negative cost of candidate.*y"),
    ({"demand_ids": ["a", "a"]}, "duplicate demand ids.*a"),
    ({"candidate_ids": ["x", "y", "x"]}, "duplicate candidate ids.*x"),
    ({"candidate_index": [2, 1, 0, 1, 2, 3]}, "candidate_index outside 0..2"),
    ({"demand_index": [1, 0, 1]}, "demand_index has shape"),
    ({"time_s": [30.0, -1.0, 10.0, 15.0, 5.0, 99.0]}, r"time_s not finite.*\('a', 'y'\)"),
    ({"radius_s": -5.0}, "radius_s must be >= 0"),
])
def test_from_pairs_names_the_bad_field(change: dict[str, object], match: str) -> None:
    with pytest.raises(UserError, match=match):
        pairs(**change)


# ---- the time limit -----------------------------------------------------------------------


def test_a_time_limited_solve_keeps_its_incumbent_and_gap_and_none_is_an_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS stopping at its limit (status 1) is simulated around the real solve: with an
    incumbent, the plan is kept with status time_limit and the gap against HiGHS's bound; with
    none, a UserError says to raise the limit."""
    from scipy import optimize

    import gridsim.planning.models as models

    real = optimize.milp
    inst = small()
    problem = Problem("pmedian", 2)
    best = solve(inst, problem)

    def stopped(*args: object, **kwargs: object) -> optimize.OptimizeResult:
        res = real(*args, **kwargs)  # type: ignore[arg-type]
        res.status = 1
        res.mip_dual_bound = 0.9 * res.fun
        return res

    monkeypatch.setattr(models.optimize, "milp", stopped)
    sol = solve(inst, problem, time_limit_s=1.0)
    assert sol.status == "time_limit"
    assert sol.objective == pytest.approx(best.objective)
    assert sol.bound == pytest.approx(0.9 * best.objective)
    assert sol.gap == pytest.approx(0.1)

    def nothing(*args: object, **kwargs: object) -> optimize.OptimizeResult:
        return optimize.OptimizeResult(status=1, x=None, message="time limit reached",
                                       mip_node_count=0, mip_dual_bound=None)

    monkeypatch.setattr(models.optimize, "milp", nothing)
    with pytest.raises(UserError, match="no solution found within the time limit of 1 s"):
        solve(inst, problem, time_limit_s=1.0)
