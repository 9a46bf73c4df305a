"""The simulation-optimisation loop (仿真优化): optimise → simulate → reweight → optimise.

``gridsim plan ... planning.iterations=N`` (N > 1, a site model on a scenario) runs, for
iteration ``k = 1, 2, ...``:

1. **Optimise.** Solve the site model (:func:`gridsim.planning.models.solve`) on the instance
   built from the scenario with the current demand weights ``w_k``
   (:func:`gridsim.planning.build.from_scenario`; iteration 1: ``planning.demand``'s weights,
   so its plan is exactly the plan of ``gridsim plan`` with the same keys).
2. **Simulate.** Apply the plan (:func:`gridsim.planning.apply.apply_plan`) and run
   ``R = planning.replications`` replications ``r = 0..R-1`` of the settings on the applied
   scenario, in this process: no plan file, no counterfactual, no event log, no files (as
   :func:`gridsim.planning.stock.storm_demand` does). Each replication has its own random
   streams, the same for every plan, so every iteration sees the same storms (common random
   numbers). The runs with **no plan** on the same replications are iteration 0, the
   baseline every iteration's outcome is paired against.
3. **Record** the outcome of the R runs (:data:`OUTCOME_METRICS`: the summary keys of
   :func:`gridsim.output.metrics.summarize`, and the late and unmet incidents), their means
   with Student-t 95 % intervals, and the paired differences from the baseline.
4. **Reweight.** ``c_k[g]``, by ``planning.reweight_by`` (``auto``, the default: ``shortages``
   for ``planning.sites=supply_points``, whose stock changes shortages and not who arrives
   when, and ``incidents`` for ``posts`` and ``stations``, whose people and vehicles change who
   arrives when):

   - ``incidents``: grid ``g``'s late and unmet incidents summed over the R runs
     (:func:`gridsim.planning.build.late_or_unmet`: the rule of
     ``planning.demand=<run folder>``): where responders came late or not at all;
   - ``shortages``: what grid ``g``'s own supply point lacked when its incidents and storm
     tasks asked (:attr:`gridsim.engine.supplies.SupplyLedger.own_short`, units of each item)
     valued at ``planning.unit_cost_cny``, summed over the R runs, in CNY: where stock was
     short (borrowed from a neighbour, fetched from the depot, or not had at all).

   The next weights blend the previous ones with them, each as a share:

   ``w_{k+1} = W · (w_k / Σ w_k + λ · c_k / Σ c_k) / (1 + λ)``,  ``W = Σ w_1``, ``λ`` =
   ``planning.reweight``

   (so every iteration's weights sum to ``W`` and objectives stay in iteration 1's units: an
   exponential smoothing of where the plan's runs fail, started from the planner's demand).
   With no late or unmet incident at all (``Σ c_k = 0``) the weights stay ``w_k``, exactly.

**Held out** (``planning.holdout=H``, 0 by default): each place also runs replications
``R..R+H-1``, which the reweighting never sees; their outcome (``holdout`` in the records)
tells whether a later iteration's gain holds on storms it was not tuned to (out of sample).

The loop **stops** after ``planning.iterations`` iterations or as soon as an iteration's plan
(its set of grids) equals an earlier iteration's: that plan's runs are the earlier ones (same
place, same replications: the same draws), so they are not simulated again, its outcome is
copied and the loop ends. The final plan is the last iteration's.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from gridsim.engine.simulation import simulate
from gridsim.errors import UserError
from gridsim.model.params import RunConfig
from gridsim.model.plan import Plan, Sites
from gridsim.model.vocab import SUPPLY_ITEMS
from gridsim.output.metrics import summarize
from gridsim.place.scenario import Scenario
from gridsim.planning.apply import apply_plan
from gridsim.planning.build import from_scenario, late_or_unmet
from gridsim.planning.folder import IterationFiles, SiteTable, site_table
from gridsim.planning.instance import Instance
from gridsim.planning.models import SITE_MODELS, Problem, Solution, solve

__all__ = ["OUTCOME_METRICS", "Iteration", "LoopResult", "Outcome", "SitePlan", "ci95",
           "history", "iteration_files", "late_unmet", "loop_errors", "loop_summary",
           "outcome_record", "paired_record", "reweight", "run_loop", "signal_of",
           "simulate_outcome", "solve_sites", "weights_csv"]

#: The summary keys (:func:`gridsim.output.metrics.summarize`) recorded per run; a key a
#: summary lacks is recorded as NaN (null).
SUMMARY_METRICS: tuple[str, ...] = (
    "within_5min_share", "response_time_p90_s", "supply_shortages", "supply_delay_mean_s",
    "supply_delayed_incidents", "people_rescued", "deaths", "losses_cny", "incidents")
#: The outcome of a place's runs, per run: the summary keys, then the loop's own counts
#: (:func:`late_unmet`).
OUTCOME_METRICS: tuple[str, ...] = (*SUMMARY_METRICS, "late_incidents", "unmet_incidents")
#: ``planning.reweight_by``: what the next weights blend in (module docstring).
REWEIGHT_BY: tuple[str, ...] = ("auto", "incidents", "shortages")

Progress = Callable[[str], None]


def loop_errors(s: RunConfig) -> list[str]:
    """The loop's keys: ``planning.iterations`` a whole number >= 1, ``planning.reweight`` a
    finite number >= 0; with ``iterations > 1`` a site model on a scenario (not
    ``planning.instance``: its runs need the scenario) and ``planning.replications`` >= 1."""
    pc = s.planning
    out: list[str] = []
    it = pc.iterations
    if isinstance(it, bool) or not isinstance(it, int) or it < 1:
        out.append(f"planning.iterations: must be a whole number >= 1, got {it!r}")
        return out
    lam = pc.reweight
    if isinstance(lam, bool) or not isinstance(lam, int | float) or not math.isfinite(lam) \
            or lam < 0:
        out.append(f"planning.reweight: must be a finite number >= 0, got {lam!r}")
    if pc.reweight_by not in REWEIGHT_BY:
        out.append(f"planning.reweight_by: must be one of {', '.join(REWEIGHT_BY)}, "
                   f"got {pc.reweight_by!r}")
    if it > 1:
        if pc.model not in SITE_MODELS:
            out.append(f"planning.iterations: the loop is for the site models "
                       f"({', '.join(SITE_MODELS)}), not planning.model={pc.model}: use 1")
        if str(pc.instance):
            out.append("planning.iterations: the loop simulates the plans on a scenario, so it "
                       "cannot solve planning.instance; use 1, or plan from scenario=...")
        r = pc.replications
        if isinstance(r, bool) or not isinstance(r, int) or r < 1:
            out.append(f"planning.replications: the loop's runs per iteration must be a whole "
                       f"number >= 1, got {r!r}")
    h = pc.holdout
    if isinstance(h, bool) or not isinstance(h, int) or h < 0:
        out.append(f"planning.holdout: must be a whole number >= 0, got {h!r}")
    return out


def signal_of(s: RunConfig) -> str:
    """``planning.reweight_by`` with ``auto`` resolved by ``planning.sites`` (module docstring):
    ``incidents`` or ``shortages``."""
    by = str(s.planning.reweight_by)
    if by == "auto":
        return "shortages" if s.planning.sites == "supply_points" else "incidents"
    return by


# ----------------------------------------------------------------------------------------------
# one solve
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SitePlan:
    """A site model solved on an instance: the plan, the solution and plan_sites.csv's rows."""

    instance: Instance
    solution: Solution
    plan: Plan
    table: SiteTable
    ids: tuple[str, ...]  # the chosen candidate ids, in candidate order
    grids: tuple[int, ...] | None  # their grids (None: an instance without a scenario)


def solve_sites(settings: RunConfig, instance: Instance, *, on_scenario: bool) -> SitePlan:
    """Solve ``settings.planning``'s site model on ``instance`` and make its plan (a chosen
    candidate's grid is ``int(candidate_id)`` when the instance is a scenario's)."""
    pc = settings.planning
    problem = Problem(model=pc.model, p=int(pc.p), radius_s=float(pc.radius_s))
    sol = solve(instance, problem, solver=pc.solver, time_limit_s=float(pc.time_limit_s))
    holds = tuple((str(k), int(n)) for k, n in dict(pc.holds).get(pc.sites, {}).items())
    ids = tuple(instance.candidate_ids[j] for j in sol.open.tolist())
    grids = tuple(int(c) for c in ids) if on_scenario else None
    plan = Plan(model=pc.model, name=str(pc.name), sites=Sites(
        kind=pc.sites, grids=tuple(grids or ()),
        department=pc.department if pc.sites == "stations" else "", holds=holds))
    table = site_table(instance, sol.open, sol.assign, sol.assign_time_s, float(pc.radius_s),
                       holds, grids)
    return SitePlan(instance=instance, solution=sol, plan=plan, table=table, ids=ids,
                    grids=grids)


# ----------------------------------------------------------------------------------------------
# the runs of a place
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Outcome:
    """The R runs of one place: each metric per run, and per grid, summed over the runs, the
    late and unmet incidents and the value of what its own stock lacked."""

    values: dict[str, np.ndarray]  # metric -> float64 [R] (NaN where a run has none)
    late: np.ndarray  # int64 [n_grids]
    unmet: np.ndarray  # int64 [n_grids]
    short_cny: np.ndarray  # float64 [n_grids]: own_short units x planning.unit_cost_cny

    def signal(self, by: str) -> np.ndarray:
        """``c_k`` of ``by`` (``incidents`` or ``shortages``, :func:`signal_of`)."""
        if by == "shortages":
            return self.short_cny
        return (self.late + self.unmet).astype(np.float64)


def late_unmet(incidents: list[Any], end_s: float, n_grids: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(late, unmet)`` incidents per grid of one run (:func:`late_or_unmet`)."""
    late = np.zeros(n_grids, dtype=np.int64)
    unmet = np.zeros(n_grids, dtype=np.int64)
    for inc in incidents:
        kind = late_or_unmet(inc.notified_s, inc.first_on_scene_s, end_s)
        if kind == "late":
            late[inc.grid] += 1
        elif kind == "unmet":
            unmet[inc.grid] += 1
    return late, unmet


def _number(v: Any) -> float:
    return math.nan if v is None else float(v)


def simulate_outcome(settings: RunConfig, scenario: Scenario, replications: int, *, first: int = 0,
                     tick: Callable[[], None] | None = None) -> Outcome:
    """Run replications ``first..first+replications-1`` of ``settings`` on ``scenario`` (the
    plan's place) in this process: no plan file, no counterfactual, no event log, no files.
    ``tick()`` after each run (progress)."""
    base = dataclasses.replace(
        settings, plan=None,
        output=dataclasses.replace(settings.output, events_log=False, counterfactual=False))
    n = scenario.n_grids
    values = {m: np.full(replications, math.nan) for m in OUTCOME_METRICS}
    late = np.zeros(n, dtype=np.int64)
    unmet = np.zeros(n, dtype=np.int64)
    short = np.zeros((n, len(SUPPLY_ITEMS)), dtype=np.int64)
    for r in range(replications):
        result = simulate(dataclasses.replace(base, replication=first + r), scenario)
        summary = summarize(result, "")
        for m in SUMMARY_METRICS:
            values[m][r] = _number(summary.get(m))
        lt, um = late_unmet(result.incidents, result.duration_s, n)
        values["late_incidents"][r] = float(lt.sum())
        values["unmet_incidents"][r] = float(um.sum())
        late += lt
        unmet += um
        short += result.ctx.supply.ledger.own_short
        if tick is not None:
            tick()
    cost = np.array([float(settings.planning.unit_cost_cny[it]) for it in SUPPLY_ITEMS])
    return Outcome(values=values, late=late, unmet=unmet, short_cny=short @ cost)


def ci95(x: np.ndarray) -> dict[str, float]:
    """``mean`` and the Student-t 95 % interval ``ci95_low``, ``ci95_high`` over the finite
    values of ``x`` (NaN where undefined: no value, or one), and their count ``n``."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return {"mean": mean, "ci95_low": math.nan, "ci95_high": math.nan, "n": n}
    h = float(stats.t.ppf(0.975, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return {"mean": mean, "ci95_low": mean - h, "ci95_high": mean + h, "n": n}


def outcome_record(out: Outcome) -> dict[str, dict[str, float]]:
    """Each metric's mean and 95 % interval over the runs."""
    return {m: ci95(out.values[m]) for m in OUTCOME_METRICS}


def paired_record(out: Outcome, baseline: Outcome) -> dict[str, dict[str, float]]:
    """Each metric's paired difference (this place − the baseline, replication by
    replication: common random numbers), mean and 95 % interval."""
    return {m: ci95(out.values[m] - baseline.values[m]) for m in OUTCOME_METRICS}


# ----------------------------------------------------------------------------------------------
# reweighting
# ----------------------------------------------------------------------------------------------
def reweight(weight: np.ndarray, counts: np.ndarray, lam: float, total: float) -> np.ndarray:
    """``total · (weight / Σ weight + lam · counts / Σ counts) / (1 + lam)`` (module docstring);
    ``weight`` itself when ``counts`` are all 0."""
    c = np.asarray(counts, dtype=np.float64)
    csum = float(c.sum())
    if csum <= 0.0:
        return np.asarray(weight, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    wsum = float(w.sum())
    share = w / wsum if wsum > 0 else np.zeros_like(w)
    return total * (share + lam * c / csum) / (1.0 + lam)


# ----------------------------------------------------------------------------------------------
# the loop
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Iteration:
    """One optimise → simulate step: the weights it solved with, its plan and its runs."""

    k: int  # 1, 2, ...
    weight: np.ndarray  # float64 [n_grids]: the demand weights solved with
    site: SitePlan
    outcome: Outcome  # its runs (copied from ``repeats`` when the plan repeats)
    repeats: int | None  # the earlier iteration whose plan this one repeats
    holdout: Outcome | None = None  # its runs on the held-out replications (planning.holdout)


@dataclass(frozen=True, eq=False)
class LoopResult:
    """The loop's iterations and the baseline (no plan) on the same replications."""

    baseline: Outcome
    iterations: list[Iteration]
    replications: int
    stopped: str  # "repeated" | "iterations"
    holdout: int = 0  # held-out replications R..R+H-1
    baseline_holdout: Outcome | None = None


class _Clock:
    """Progress with the time left, by the runs done (a solve's time is not foreseen)."""

    def __init__(self, total_runs: int, say: Progress) -> None:
        self.total, self.done, self.say = total_runs, 0, say
        self.start = time.monotonic()
        self.shown = self.start

    def tick(self, label: str) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.shown >= 5.0 or self.done == self.total:
            self.shown = now
            self.say(f"  {label}: {self.done}/{self.total} runs, {now - self.start:.0f} s, "
                     f"about {self.left():.0f} s left")

    def left(self) -> float:
        spent = time.monotonic() - self.start
        return spent / self.done * (self.total - self.done) if self.done else math.nan


def run_loop(settings: RunConfig, scenario: Scenario, *, progress: Progress | None = None,
             first: Instance | None = None) -> LoopResult:
    """The loop of ``settings.planning`` on ``scenario`` (module docstring); ``first``:
    iteration 1's instance when it is built already (``from_scenario(settings, scenario)``)."""
    errors = loop_errors(settings)
    if errors:
        raise UserError("; ".join(errors), hint="see docs/planning.md, section The "
                        "simulation-optimisation loop")
    say = progress or (lambda msg: None)
    pc = settings.planning
    n_iter, reps, lam = int(pc.iterations), int(pc.replications), float(pc.reweight)
    hold = int(pc.holdout)
    clock = _Clock((reps + hold) * (n_iter + 1), say)

    def runs(place: Scenario, label: str) -> tuple[Outcome, Outcome | None]:
        out = simulate_outcome(settings, place, reps, tick=lambda: clock.tick(label))
        held = (simulate_outcome(settings, place, hold, first=reps,
                                 tick=lambda: clock.tick(label + " (held out)"))
                if hold else None)
        return out, held

    def solve_k(k: int, weight: np.ndarray | None) -> SitePlan:
        say(f"loop: iteration {k}/{n_iter}: solving {pc.model} ({pc.solver}) ...")
        t0 = time.process_time()
        instance = (first if k == 1 and first is not None
                    else from_scenario(settings, scenario, weight=weight))
        site = solve_sites(settings, instance, on_scenario=True)
        say(f"  {site.solution.status}, objective {site.solution.objective:,.6g}, "
            f"{len(site.ids)} sites ({time.process_time() - t0:.1f} s CPU)")
        return site

    first_site = solve_k(1, None)  # before any run: a plan that cannot be made fails at once
    say(f"loop: iteration 0 (no plan, the baseline): {reps} runs"
        + (f" and {hold} held out" if hold else "") + " ...")
    baseline, baseline_held = runs(scenario, "iteration 0")
    done: list[Iteration] = []
    weight: np.ndarray | None = None  # iteration 1: planning.demand's weights
    total = math.nan
    stopped = "iterations"
    for k in range(1, n_iter + 1):
        site = first_site if k == 1 else solve_k(k, weight)
        w = np.asarray(site.instance.weight, dtype=np.float64)
        if k == 1:
            total = float(w.sum())
        grids = tuple(sorted(site.grids or ()))
        repeats = next((it.k for it in done if tuple(sorted(it.site.grids or ())) == grids),
                       None)
        if repeats is not None:
            say(f"  the plan of iteration {repeats} again: its runs stand, the loop stops")
            done.append(Iteration(k=k, weight=w, site=site, outcome=done[repeats - 1].outcome,
                                  repeats=repeats, holdout=done[repeats - 1].holdout))
            stopped = "repeated"
            break
        applied = apply_plan(site.plan, scenario)
        say(f"loop: iteration {k}/{n_iter}: {reps} runs with its plan ...")
        outcome, held = runs(applied, f"iteration {k}")
        done.append(Iteration(k=k, weight=w, site=site, outcome=outcome, repeats=None,
                              holdout=held))
        weight = reweight(w, outcome.signal(signal_of(settings)), lam, total)
    return LoopResult(baseline=baseline, iterations=done, replications=reps, stopped=stopped,
                      holdout=hold, baseline_holdout=baseline_held)


def history(result: LoopResult) -> list[dict[str, Any]]:
    """plan_summary.json's ``history``: one record per iteration."""
    out = []
    for it in result.iterations:
        sol = it.site.solution
        counts = it.outcome.late + it.outcome.unmet
        short = it.outcome.short_cny
        out.append({
            "iteration": it.k,
            "sites": list(it.site.ids),
            "grids": list(it.site.grids or ()),
            "objective": sol.objective,
            "covered_share": sol.covered_share,
            "status": sol.status,
            "gap": sol.gap,
            "weight_total": float(it.weight.sum()),
            "repeats": it.repeats,
            "outcome": outcome_record(it.outcome),
            "paired_with_baseline": paired_record(it.outcome, result.baseline),
            # what the loop buys over one solve (iteration 1), on the same replications
            "paired_with_first": paired_record(it.outcome, result.iterations[0].outcome),
            "late_unmet_grids": int(np.count_nonzero(counts)),
            "short_grids": int(np.count_nonzero(short)),
            "short_cny": float(short.sum()),
        })
        first = result.iterations[0].holdout
        if it.holdout is not None and result.baseline_holdout is not None and first is not None:
            # the same plan on replications the reweighting never saw (out of sample)
            out[-1]["holdout"] = {
                "outcome": outcome_record(it.holdout),
                "paired_with_baseline": paired_record(it.holdout, result.baseline_holdout),
                "paired_with_first": paired_record(it.holdout, first)}
    return out


def loop_summary(result: LoopResult, lam: float, by: str) -> dict[str, Any]:
    """plan_summary.json's loop fields: ``iterations`` (done), ``loop`` (the rule and why it
    stopped), ``baseline`` (iteration 0's outcome), ``history``."""
    best = min(result.iterations, key=lambda it: (float(it.outcome.signal(by).sum()), it.k))
    baseline: dict[str, Any] = {"iteration": 0, "outcome": outcome_record(result.baseline)}
    if result.baseline_holdout is not None:
        baseline["holdout"] = {"outcome": outcome_record(result.baseline_holdout)}
    return {
        "iterations": len(result.iterations),
        "loop": {"replications": result.replications, "holdout": result.holdout,
                 "reweight": lam, "reweight_by": by, "stopped": result.stopped,
                 "fewest_failures_iteration": best.k,
                 "rule": "w_{k+1} = W (w_k/sum w_k + reweight c_k/sum c_k) / (1 + reweight), "
                         "c_k per grid over the runs of iteration k: " + (
                             "the CNY value of what its own stock lacked (own_short x "
                             "unit_cost_cny)" if by == "shortages" else
                             "its late and unmet incidents") + "; W = sum w_1; w_k when "
                         "sum c_k = 0"},
        "baseline": baseline,
        "history": history(result),
    }


def weights_csv(it: Iteration) -> str:
    """``iterations/<k>/weights.csv``: ``id``, ``weight`` (what iteration ``k`` solved with,
    shortest round-trip text), ``late``, ``unmet``, ``short_cny`` (its runs' figures per grid:
    the next weights blend in ``late + unmet`` or ``short_cny``, by ``planning.reweight_by``)."""
    ids = it.site.instance.demand_ids  # a scenario's grid indices: no quoting needed
    w, late, unmet = it.weight.tolist(), it.outcome.late.tolist(), it.outcome.unmet.tolist()
    short = it.outcome.short_cny.tolist()
    lines = ["id,weight,late,unmet,short_cny"] + [
        f"{ids[g]},{w[g]!r},{late[g]},{unmet[g]},{short[g]!r}" for g in range(len(ids))]
    return "\n".join(lines) + "\n"  # weights as Python's shortest round-trip text


def iteration_files(result: LoopResult) -> list[IterationFiles]:
    """The ``iterations/<k>/`` folders of the plan folder."""
    return [IterationFiles(k=it.k, plan=it.site.plan, sites=it.site.table,
                           weights_csv=weights_csv(it)) for it in result.iterations]
