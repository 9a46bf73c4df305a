"""Benchmark of the site models' solvers at city scale (issue 12's speed targets, part P1).

    python benchmarks/bench_planning.py                 # city MCLP: heuristic and exact
    python benchmarks/bench_planning.py --top           # candidates of most residents instead
    python benchmarks/bench_planning.py --models        # and the other models, and p-center's
                                                        # two exact formulations compared
    python benchmarks/bench_planning.py --spopt 2000    # PySAL spopt's MCLP on the same instance
                                                        # cut to its first N demand points
                                                        # (pip install -e .[bench])

The instance: ``scenario=suining_city`` (18,176 grids), demand = every grid weighted by its
residents, candidates = 2,000 grids drawn by ``np.random.default_rng(0).choice`` (``--top``:
the 2,000 of most residents, as ``gridsim plan ... planning.candidates=2000`` picks them, a
much harder instance for the exact solver: they crowd the centre), pairs = the road times
within 300 s (``gridsim.place.roads.near_travel_times``, ~120,000 pairs); MCLP with p = 500
and radius 300 s. Each figure is CPU seconds (user + sys of the process, all
threads: ``resource.getrusage``) and wall seconds; the issue's targets are printed beside them:
exact to proven optimum in <= 20 s on one core, the heuristic >= 99 % of the optimum in < 1 s.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

CITY = ["scenario=suining_city", "planning.model=mclp", "planning.p=500",
        "planning.radius_s=300", "planning.candidates=2000"]


def cpu() -> float:
    """User + sys seconds of this process and its finished children (spopt's CBC)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    c0, w0 = cpu(), time.perf_counter()
    out = fn()
    return out, cpu() - c0, time.perf_counter() - w0


def city_instance(overrides: list[str], top: bool = True) -> Any:
    """The instance of ``overrides``: with ``top``, as ``gridsim plan`` builds it
    (:func:`gridsim.planning.build.from_scenario`: the candidates of most residents); else
    with 2,000 candidates drawn by ``np.random.default_rng(0).choice`` (spread over the city)."""
    from gridsim.app.hydra_app import compose_settings  # here: after argparse (--help is quick)
    from gridsim.place.roads import near_travel_times
    from gridsim.place.scenario import build_scenario
    from gridsim.planning.build import from_scenario
    from gridsim.planning.instance import Instance

    settings = compose_settings(overrides)[0]
    scenario, c_s, _ = timed(lambda: build_scenario(settings.scenario))
    grids = scenario.region.grids
    print(f"scenario {settings.scenario.name}: {grids.n:,} grids, built in {c_s:.2f} s CPU")

    def random_candidates() -> Instance:
        near = near_travel_times(scenario.roads, 300.0)
        cands = np.sort(np.random.default_rng(0).choice(grids.n, 2000, replace=False))
        col = np.full(grids.n, -1, dtype=np.int64)
        col[cands] = np.arange(len(cands))
        # near's rows are origins: the candidate (an undirected road graph: either way)
        origin = np.repeat(np.arange(grids.n), np.diff(near.indptr))
        keep = col[origin] >= 0
        xy = np.column_stack([grids.x_m, grids.y_m]).astype(np.float64)
        return Instance.from_pairs(
            demand_ids=[str(i) for i in range(grids.n)],
            weight=np.asarray(grids.population, dtype=np.float64), demand_xy=xy,
            candidate_ids=[str(g) for g in cands], candidate_xy=xy[cands],
            cost=np.ones(len(cands)), demand_index=near.indices[keep].astype(np.int64),
            candidate_index=col[origin[keep]], time_s=near.time_s[keep], radius_s=300.0)

    inst, c_i, w_i = timed(lambda: from_scenario(settings, scenario) if top
                           else random_candidates())
    how = "of most residents" if top else "drawn at random (seed 0)"
    print(f"instance: {inst.n_demand:,} demand x {inst.n_candidates:,} candidates {how}, "
          f"{inst.nnz:,} pairs within {inst.radius_s:g} s: {c_i:.2f} s CPU ({w_i:.2f} s wall)")
    return inst


def line(name: str, sol: Any, c: float, w: float, target: str = "") -> None:
    gap = "nan" if math.isnan(sol.gap) else f"{sol.gap:.2e}"
    print(f"  {name:<22} objective {sol.objective:>14,.1f}  covered {sol.covered_share:.4f}  "
          f"gap {gap:>8}  {sol.status:<10} iterations {sol.iterations:>5}  "
          f"CPU {c:6.2f} s  wall {w:6.2f} s  {target}")


def mclp_city(top: bool) -> Any:
    from gridsim.planning.models import Problem, solve  # here: after argparse

    inst = city_instance(CITY, top)
    problem = Problem("mclp", 500, 300.0)
    heur, c_h, w_h = timed(lambda: solve(inst, problem, solver="heuristic"))
    exact, c_e, w_e = timed(lambda: solve(inst, problem, time_limit_s=600.0))
    print("MCLP, p = 500, radius 300 s:")
    line("heuristic", heur, c_h, w_h, "(target: < 1 s)")
    line("exact (HiGHS)", exact, c_e, w_e, "(target: proven optimum in <= 20 s)")
    print(f"  heuristic / optimum = {heur.objective / exact.objective:.5f} "
          f"(target: >= 0.99); the exact bound {exact.bound:,.1f}")
    return inst


def pcenter_milp(inst: Any, p: int, time_limit_s: float) -> tuple[float, float]:
    """p-center as one MILP (e.g. Daskin 2013, Network and Discrete Location): min z s.t.
    sum_j x_ij = 1, x_ij <= y_j, sum_j y_j = p, z >= sum_j t_ij x_ij for each demand point of
    weight > 0: for comparison
    with the bisection :func:`gridsim.planning.models.solve` uses. Returns (objective, CPU)."""
    from scipy import optimize, sparse  # here: only this comparison needs them

    m = inst.n_candidates
    rows = inst.rows()
    k = np.flatnonzero(inst.weight[rows] > 0)
    nx = len(k)
    sel = inst.weight > 0
    ro = (np.cumsum(sel) - 1)[rows[k]]
    ar = np.arange(nx)
    one = np.ones(nx)
    nv = m + nx + 1
    assign = sparse.csr_matrix((one, (ro, m + ar)), shape=(int(sel.sum()), nv))
    link = sparse.csr_matrix((np.r_[one, -one], (np.r_[ar, ar], np.r_[m + ar, inst.cand[k]])),
                             shape=(nx, nv))
    total = sparse.csr_matrix((np.ones(m), (np.zeros(m, int), np.arange(m))), shape=(1, nv))
    worst = sparse.csr_matrix((np.r_[inst.time_s[k], -np.ones(int(sel.sum()))],
                               (np.r_[ro, np.arange(int(sel.sum()))],
                                np.r_[m + ar, np.full(int(sel.sum()), nv - 1)])),
                              shape=(int(sel.sum()), nv))
    c = np.zeros(nv)
    c[-1] = 1.0
    integ = np.r_[np.ones(m), np.zeros(nx + 1)]
    res, cpu_s, _ = timed(lambda: optimize.milp(
        c, integrality=integ, bounds=optimize.Bounds(0, np.r_[np.ones(m + nx), np.inf]),
        constraints=[optimize.LinearConstraint(assign, 1, 1),
                     optimize.LinearConstraint(link, -np.inf, 0),
                     optimize.LinearConstraint(total, p, p),
                     optimize.LinearConstraint(worst, -np.inf, 0)],
        options={"time_limit": time_limit_s, "mip_rel_gap": 1e-9}))
    return (float(res.fun) if res.x is not None else math.nan), cpu_s


def other_models(scenario: str, p: int, milp_limit_s: float) -> None:
    from gridsim.planning.models import Problem, solve  # here: after argparse

    inst = city_instance([f"scenario={scenario}", "planning.model=pmedian", f"planning.p={p}",
                          "planning.radius_s=300", "planning.candidates=0"], top=True)
    for problem in (Problem("lscp", radius_s=300.0), Problem("mclp", p, 300.0),
                    Problem("pmedian", p), Problem("pcenter", p)):
        print(f"{problem.model}, p = {p}, radius {problem.radius_s:g} s:")
        for solver in ("heuristic", "exact"):
            sol, c, w = timed(lambda s=solver, pr=problem: solve(inst, pr, solver=s,  # type: ignore[misc]
                                                                 time_limit_s=600.0))
            line(solver, sol, c, w)
    obj, c = pcenter_milp(inst, p, milp_limit_s)
    print(f"  p-center as one MILP (z >= sum t x), time limit {milp_limit_s:g} s: best "
          f"objective {obj:,.1f}  CPU {c:.2f} s (compare the bisection's exact line above)")


def spopt_mclp(inst: Any, n: int) -> None:
    """PySAL spopt's MCLP (PuLP + HiGHS or CBC) on the first ``n`` demand points."""
    try:
        import pulp  # here: the optional bench extra
        from spopt.locate import MCLP
    except ImportError:
        sys.exit("spopt and pulp are not installed: pip install -e .[bench]")
    from gridsim.planning.models import Problem, solve

    keep = np.arange(min(n, inst.n_demand))
    m = inst.n_candidates
    dense = np.full((len(keep), m), 1e9)  # spopt wants a dense cost matrix: that is its limit
    rows = inst.rows()
    k = np.flatnonzero(rows < len(keep))
    dense[rows[k], inst.cand[k]] = inst.time_s[k]
    w = inst.weight[keep]
    solver = pulp.HiGHS(msg=False, timeLimit=600) \
        if "HiGHS" in pulp.listSolvers(onlyAvailable=True) \
        else pulp.PULP_CBC_CMD(msg=False, timeLimit=600)
    (model, c_b, _) = timed(lambda: MCLP.from_cost_matrix(dense, w, service_radius=300.0,
                                                          p_facilities=500))
    (_, c_s, w_s) = timed(lambda: model.solve(solver, results=False))
    print(f"spopt MCLP ({solver.name}) on {len(keep):,} demand points: build {c_b:.2f} s CPU, "
          f"solve {c_s:.2f} s CPU ({w_s:.2f} s wall), status "
          f"{pulp.LpStatus[model.problem.status]}, covered {model.problem.objective.value():,.1f}")
    from gridsim.planning.instance import Instance

    sub = Instance.from_pairs(demand_ids=[inst.demand_ids[i] for i in keep], weight=w,
                              demand_xy=inst.demand_xy[keep], candidate_ids=inst.candidate_ids,
                              candidate_xy=inst.candidate_xy, cost=inst.cost,
                              demand_index=rows[k], candidate_index=inst.cand[k],
                              time_s=inst.time_s[k], radius_s=inst.radius_s)
    sol, c, wall = timed(lambda: solve(sub, Problem("mclp", 500, 300.0), time_limit_s=600.0))
    line("gridsim exact", sol, c, wall)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", action="store_true",
                    help="the 2,000 candidates of most residents, as gridsim plan picks them "
                         "(planning.candidates=2000), instead of 2,000 drawn at random")
    ap.add_argument("--models", action="store_true", help="every model on --scenario too")
    ap.add_argument("--scenario", default="district", help="the scenario of --models")
    ap.add_argument("--p", type=int, default=20, help="p of --models")
    ap.add_argument("--milp-limit", type=float, default=120.0,
                    help="time limit of p-center's one-MILP formulation in --models (s)")
    ap.add_argument("--spopt", type=int, default=0, metavar="N",
                    help="spopt's MCLP on the city instance's first N demand points")
    args = ap.parse_args(argv)
    inst = mclp_city(args.top)
    if args.spopt:
        spopt_mclp(inst, args.spopt)
    if args.models:
        other_models(args.scenario, args.p, args.milp_limit)


if __name__ == "__main__":
    main()
