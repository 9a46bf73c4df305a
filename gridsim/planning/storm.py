"""Storm 前置 (力量前置、物资前置): which teams and what stock to move, when a warning is issued,
from low-risk grids to high-risk ones (``gridsim plan ... planning.model=storm``).

**Warnings.** Those of a run of the same settings and seed, in the run's order: the scripted
ones (``hazard.warnings``), then the forecast's (:func:`gridsim.engine.weather.build_weather`,
the same streams, so the same warnings). Only warnings that switch their grids count (a team
joins a standing post). A grid is a *sink* of the first such warning over it (by start time,
then number): its moves depart at that warning's issue.

**Risk.** The expected incidents of a grid over its warning's window ``[start, end]``, from the
rate field of the run (:class:`gridsim.engine.hazards.RateField`: each hazard's base rate of
the grid, × ``hazard.rate_scale``), × the warning's ``rate_multipliers`` in the grids it warns,
× the weather's rain multiplier of the grid's township integrated over the window (hazards
that follow the rain). Peacetime hazard stock is taken at its initial multiplier, 1. Analytic,
not simulated: the plan needs no replication and is deterministic. A source's risk is taken
over its sink's window.

**Moves.** For people and each supply item separately, a transportation problem (Hitchcock
1941) over sparse arcs ``i -> j``: a sink ``j``, a source ``i`` of lower risk than ``j`` within
``min(planning.storm_lead_s, planning.storm_radius_s)`` road seconds of it (so a move arrives
within the warning's lead; :func:`gridsim.place.roads.near_travel_times`, no grid × grid
table), the ``planning.storm_sources_per_sink`` nearest such sources (0: all; the problem
grows as sinks × this, linear in the city). Maximise the risk covered,
``sum x_ij (r_j - r_i) / w_k`` (each person or unit counted by the incidents more it may meet,
in incidents' worth: ``w`` is
``storm_team_per_incident`` for people, the most units of the item an incident asks for, else
1, for an item), subject to

* a source gives at most what it has above its keep: people, its members less
  ``max(storm_keep_people, ceil(storm_keep_share * members))``; an item, its stock less
  ``ceil(storm_keep_share * stock)``;
* a sink takes at most what it wants: people, ``ceil(storm_team_per_incident * r_j)``; an
  item, ``ceil(storm_stock_cover * expected use) - stock`` (the catalogue's units per incident);
* with ``storm_max_moves > 0``, at most that many moves (arcs used, all resources together:
  a binary per arc, Williams' fixed-charge linking ``x <= u y``).

Without the cap the constraint matrix is totally unimodular (a transportation problem, with
integer supplies, wants and bounds), so HiGHS' dual simplex (:func:`scipy.optimize.linprog`)
ends at an integer optimum (checked; else the MILP); with the cap,
:func:`scipy.optimize.milp` (HiGHS) with integer flows; both within ``planning.time_limit_s``,
the gap reported (``iterations``: simplex iterations, or branch-and-bound nodes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from gridsim.engine.hazards import catalogue_from_config
from gridsim.engine.weather import RunWeather, build_weather
from gridsim.errors import UserError
from gridsim.model.params import RunConfig, WarningConfig
from gridsim.model.plan import Move, Plan
from gridsim.model.rates import base_rates_per_day
from gridsim.model.streams import Streams
from gridsim.model.vocab import SUPPLY_ITEMS
from gridsim.place.roads import near_travel_times
from gridsim.place.scenario import Scenario

__all__ = ["Transport", "grid_risk", "plan_storm", "transport"]


@dataclass(frozen=True, eq=False)
class Transport:
    """The solution of :func:`transport`."""

    flow: np.ndarray  # int64 [n_arcs]
    objective: float  # sum flow * gain
    gap: float
    status: str  # "optimal" | "time_limit"
    iterations: int  # branch-and-bound nodes


def transport(src: np.ndarray, dst: np.ndarray, resource: np.ndarray, gain: np.ndarray,
              supply: np.ndarray, demand: np.ndarray, *, max_arcs: int = 0,
              time_limit_s: float = 60.0) -> Transport:
    """Maximise ``sum gain_a x_a`` over integer flows ``x_a >= 0`` on arcs ``a`` (``src[a]`` ->
    ``dst[a]`` of ``resource[a]``), with ``sum_{a from i, resource k} x_a <= supply[k, i]`` and
    ``sum_{a to j, resource k} x_a <= demand[k, j]``, and with ``max_arcs > 0`` at most that
    many arcs carrying flow. Sparse: one row per (resource, grid) that an arc uses."""
    n = len(src)
    if n == 0:
        return Transport(np.zeros(0, dtype=np.int64), 0.0, 0.0, "optimal", 0)
    src, dst, res = (np.asarray(a, dtype=np.int64) for a in (src, dst, resource))
    upper = np.minimum(supply[res, src], demand[res, dst]).astype(float)
    arcs = np.arange(n)
    rows = []
    caps = []
    for key, cap in ((res * supply.shape[1] + src, supply.ravel()),
                     (res * demand.shape[1] + dst, demand.ravel())):
        uniq, inv = np.unique(key, return_inverse=True)
        rows.append(sparse.csr_array((np.ones(n), (inv, arcs)), shape=(len(uniq), n)))
        caps.append(cap[uniq].astype(float))
    a_mat = sparse.vstack(rows, format="csr")
    cons = [LinearConstraint(a_mat, -np.inf, np.concatenate(caps))]
    c = -np.asarray(gain, dtype=float)
    lo, hi = np.zeros(n), upper
    integrality = np.ones(n)
    if max_arcs > 0:  # y_a binary, x_a - upper_a y_a <= 0, sum y <= max_arcs
        link = sparse.hstack([sparse.eye_array(n), sparse.diags_array(-upper)], format="csr")
        count = sparse.csr_array(np.concatenate([np.zeros(n), np.ones(n)])[None, :])
        cons = [LinearConstraint(sparse.hstack([a_mat, sparse.csr_array((a_mat.shape[0], n))],
                                               format="csr"), -np.inf, np.concatenate(caps)),
                LinearConstraint(link, -np.inf, 0.0),
                LinearConstraint(count, -np.inf, float(max_arcs))]
        c = np.concatenate([c, np.zeros(n)])
        lo, hi = np.zeros(2 * n), np.concatenate([upper, np.ones(n)])
        integrality = np.ones(2 * n)
    if max_arcs <= 0:
        # totally unimodular with integer bounds: the dual simplex ends at an integer vertex
        lp = linprog(c, A_ub=a_mat, b_ub=np.concatenate(caps), bounds=np.c_[lo, hi],
                     method="highs-ds", options={"time_limit": float(time_limit_s)})
        if lp.x is not None and lp.status == 0 and np.abs(lp.x - np.rint(lp.x)).max() < 1e-6:
            flow = np.rint(lp.x).astype(np.int64)
            return Transport(flow=flow, objective=float(np.dot(flow, gain)), gap=0.0,
                             status="optimal", iterations=int(lp.nit))
    res_ = milp(c, constraints=cons, bounds=Bounds(lo, hi), integrality=integrality,
                options={"time_limit": float(time_limit_s)})
    if res_.x is None:
        raise UserError("the storm moves' problem found no solution within the time limit",
                        "planning.time_limit_s", hint=str(res_.message))
    flow = np.rint(res_.x[:n]).astype(np.int64)
    gap = float(getattr(res_, "mip_gap", 0.0) or 0.0)
    return Transport(flow=flow, objective=float(np.dot(flow, gain)), gap=gap,
                     status="optimal" if res_.status == 0 else "time_limit",
                     iterations=int(getattr(res_, "mip_node_count", 0) or 0))


def _rain_integral(weather: RunWeather | None, h: int, town: np.ndarray, a: float, b: float
                   ) -> np.ndarray:
    """Each township's rain multiplier of hazard ``h`` integrated over ``[a, b]`` seconds (the
    window's length where it has none)."""
    if weather is None:
        return np.full(len(town), b - a)
    for hh, m in weather.multipliers:
        if hh != h:
            continue
        step = weather.step_s
        k0, k1 = int(a // step), math.ceil(b / step)
        total = np.zeros(m.shape[0])
        for k in range(k0, k1):
            overlap = min(b, (k + 1) * step) - max(a, k * step)
            if overlap <= 0:
                continue
            total += overlap * (m[:, k] if 0 <= k < m.shape[1] else 1.0)
        return total[town]
    return np.full(len(town), b - a)


def grid_risk(settings: RunConfig, scenario: Scenario, warning: WarningConfig,
              warned: np.ndarray, weather: RunWeather | None) -> np.ndarray:
    """Expected incidents of every hazard in every grid over ``warning``'s window, float64
    [n_hazards, n_grids] (see the module docstring); ``warned``: the grids it warns."""
    catalogue = catalogue_from_config(settings.catalogue)
    grids = scenario.region.grids
    town = np.asarray(grids.township, dtype=np.int64)
    a = warning.start_h * 3600.0
    b = min(a + warning.duration_h * 3600.0, settings.duration_h * 3600.0)
    out = np.zeros((len(catalogue.hazards), grids.n))
    for h in catalogue.hazards:
        rate_s = (base_rates_per_day(h.rate_per_unit_day, h.exposure, grids)
                  * settings.hazard.rate_scale / 86400.0)
        mult = np.ones(grids.n)
        mult[warned] = float(warning.rate_multipliers.get(h.name, 1.0))
        out[h.index] = rate_s * mult * _rain_integral(weather, h.index, town, a, max(a, b))
    return out


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _check(settings: RunConfig) -> None:
    p = settings.planning
    for key, value, ok in (
            ("storm_lead_s", p.storm_lead_s, p.storm_lead_s >= 0),
            ("storm_radius_s", p.storm_radius_s, p.storm_radius_s > 0),
            ("storm_keep_people", p.storm_keep_people, p.storm_keep_people >= 0),
            ("storm_keep_share", p.storm_keep_share, 0.0 <= p.storm_keep_share <= 1.0),
            ("storm_team_per_incident", p.storm_team_per_incident,
             p.storm_team_per_incident >= 0),
            ("storm_stock_cover", p.storm_stock_cover, p.storm_stock_cover >= 0),
            ("storm_max_moves", p.storm_max_moves, p.storm_max_moves >= 0),
            ("storm_sources_per_sink", p.storm_sources_per_sink,
             p.storm_sources_per_sink >= 0)):
        if not (ok and math.isfinite(float(value))):
            raise UserError(f"planning.{key}: {value} is out of range",
                            hint="lead, radius, keeps, team, cover, moves >= 0; keep share "
                                 "in [0, 1]; radius > 0")


def plan_storm(settings: RunConfig, scenario: Scenario, *,
               progress: Callable[[str], None] | None = None) -> tuple[Plan, dict]:
    """The storm 前置 plan of ``settings`` on ``scenario`` (see the module docstring) and its
    summary fields for ``plan_summary.json``."""
    _check(settings)
    cfg = settings.planning
    say = progress or (lambda _line: None)
    catalogue = catalogue_from_config(settings.catalogue)
    weather = build_weather(settings, scenario, catalogue,
                            Streams(settings.seed, settings.replication))
    warnings = list(settings.hazard.warnings) + (list(weather.warnings) if weather else [])
    n = scenario.n_grids
    first = np.full(n, -1, dtype=np.int64)  # each grid's first switching warning
    warned_of: dict[int, np.ndarray] = {}
    order = sorted(range(len(warnings)), key=lambda i: (warnings[i].start_h, i))
    for i in order:
        w = warnings[i]
        if not w.triggers_switch:
            continue
        wg = (np.unique(np.asarray(w.grids, dtype=np.int64)) if w.grids
              else scenario.region.township_grids(w.townships))
        warned_of[i] = wg
        new = wg[first[wg] < 0]
        first[new] = i
    sinks = np.flatnonzero(first >= 0)
    radius = min(float(cfg.storm_lead_s), float(cfg.storm_radius_s))
    say(f"storm 前置: {len(warnings)} warnings, {len(sinks):,} warned grids, arcs within "
        f"{radius:.0f} s\n")
    # risk of every grid over each used warning's window (n_warnings used x grids)
    risk: dict[int, np.ndarray] = {}
    units_use: dict[int, np.ndarray] = {}  # expected units used, [items, grids]
    people_use: dict[int, np.ndarray] = {}
    for i in sorted(set(first[sinks].tolist())):
        by_h = grid_risk(settings, scenario, warnings[i], warned_of[i], weather)
        risk[i] = by_h.sum(axis=0)
        use = np.zeros((len(SUPPLY_ITEMS), n))
        for h in catalogue.hazards:
            for item, k in h.supplies:
                use[item] += by_h[h.index] * k
        units_use[i] = use
        people_use[i] = risk[i]
    members = np.diff(scenario.roster.by_grid_indptr).astype(np.int64)
    keep_people = np.maximum(int(cfg.storm_keep_people),
                             np.ceil(cfg.storm_keep_share * members).astype(np.int64))
    stock = np.asarray(scenario.supplies.grid_stock, dtype=np.int64)  # [grids, items]
    keep_stock = np.ceil(cfg.storm_keep_share * stock).astype(np.int64)
    n_res = 1 + len(SUPPLY_ITEMS)  # resource 0: people; 1 + k: item k
    supply = np.zeros((n_res, n), dtype=np.int64)
    supply[0] = np.maximum(members - keep_people, 0)
    supply[1:] = np.maximum(stock - keep_stock, 0).T
    demand = np.zeros((n_res, n), dtype=np.int64)
    r_sink = np.zeros(n)
    for j in sinks.tolist():
        i = int(first[j])
        r_sink[j] = risk[i][j]
        demand[0, j] = math.ceil(cfg.storm_team_per_incident * risk[i][j] - 1e-9)
        want = np.ceil(cfg.storm_stock_cover * units_use[i][:, j] - 1e-9).astype(np.int64)
        demand[1:, j] = np.maximum(want - stock[j], 0)
    src_l: list[np.ndarray] = []
    dst_l: list[np.ndarray] = []
    time_l: list[np.ndarray] = []
    gain_l: list[np.ndarray] = []
    if len(sinks) and radius > 0:
        near = near_travel_times(scenario.roads, radius)  # symmetric roads: row j = into j
        for j in sinks.tolist():
            if not demand[:, j].any():
                continue
            idx, t = near.row(j)
            idx = idx.astype(np.int64)
            r = risk[int(first[j])]
            ok = (idx != j) & (r[idx] < r[j]) & (np.asarray(t) <= radius) & (supply[:, idx] > 0
                                                                               ).any(axis=0)
            if cfg.storm_sources_per_sink > 0:  # the nearest few (the row is sorted by time)
                ok &= np.cumsum(ok) <= cfg.storm_sources_per_sink
            src_l.append(idx[ok])
            dst_l.append(np.full(int(ok.sum()), j, dtype=np.int64))
            time_l.append(np.asarray(t, dtype=float)[ok])
            gain_l.append(r[j] - r[idx[ok]])
    a_src, a_dst = _cat(src_l, np.int64), _cat(dst_l, np.int64)
    a_time, a_gain = _cat(time_l, np.float64), _cat(gain_l, np.float64)
    # one arc per resource that both ends trade
    live = (supply[:, a_src] > 0) & (demand[:, a_dst] > 0)  # [resources, arcs]
    rk, ak = np.nonzero(live)
    order_a = np.lexsort((rk, ak))
    rk, ak = rk[order_a], ak[order_a]
    # each resource in incidents' worth: a person is 1 / storm_team_per_incident of one, a
    # unit of an item 1 / the most units of it one incident asks for
    per = np.ones(n_res)
    if cfg.storm_team_per_incident > 0:
        per[0] = float(cfg.storm_team_per_incident)
    for h in catalogue.hazards:
        for item, k in h.supplies:
            per[1 + item] = max(per[1 + item], float(k))
    sol = transport(a_src[ak], a_dst[ak], rk, a_gain[ak] / per[rk], supply, demand,
                    max_arcs=int(cfg.storm_max_moves), time_limit_s=float(cfg.time_limit_s))
    moves = []
    used = np.flatnonzero(sol.flow > 0)
    for a in used.tolist():
        s, d, k, x = int(a_src[ak[a]]), int(a_dst[ak[a]]), int(rk[a]), int(sol.flow[a])
        if k == 0:
            moves.append(Move(what="team", from_grid=s, to_grid=d, people=x,
                              warning=int(first[d])))
        else:
            moves.append(Move(what="stock", from_grid=s, to_grid=d, item=SUPPLY_ITEMS[k - 1],
                              units=x, warning=int(first[d])))
    moves.sort(key=lambda m: (m.warning, m.what, m.to_grid, m.from_grid, m.item))
    total_risk = float(r_sink.sum())
    teamed = sorted({m.to_grid for m in moves if m.what == "team"})
    covered = float(r_sink[teamed].sum()) / total_risk if total_risk > 0 else 0.0
    units = {it: sum(m.units for m in moves if m.item == it) for it in SUPPLY_ITEMS}
    summary = {
        "model": "storm", "solver": "exact", "objective": round(sol.objective, 9),
        "covered_share": round(covered, 9), "gap": sol.gap, "solver_iterations": sol.iterations,
        "status": sol.status, "moves": len(moves),
        "people": sum(m.people for m in moves), "units": units,
        "risk_covered": round(sol.objective, 9),
        "warned_grids": len(sinks), "warned_risk": round(total_risk, 9),
        "warnings": len(warnings), "arcs": len(ak),
        "lead_s": float(cfg.storm_lead_s), "radius_s": radius,
        "max_arc_time_s": float(a_time[ak[used]].max()) if len(used) else 0.0,
        "risk": "expected incidents over the warning (rate field x warning x rain)",
    }
    say(f"storm 前置: {len(moves)} moves, {summary['people']} people, "
        f"{sum(units.values())} units, risk covered {sol.objective:.4g}\n")
    return Plan(model="storm", name=cfg.name, moves=tuple(moves)), summary
