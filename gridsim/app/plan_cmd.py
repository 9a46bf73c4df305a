"""``gridsim plan``: pre-positioning plans (力量前置、物资前置) written as a plan folder.

``gridsim plan [overrides] [--out DIR]`` composes the config like ``gridsim run`` (the same
overrides, plus ``planning.*``) and, by ``planning.model``:

* ``lscp``, ``mclp``, ``pmedian``, ``pcenter``: builds the site-model instance from the
  scenario (:func:`gridsim.planning.build.from_scenario`) or reads it from
  ``planning.instance=<folder>`` (:func:`gridsim.planning.instance_io.read_instance`), solves
  it (:func:`gridsim.planning.models.solve`, ``planning.solver=exact|heuristic``) and writes
  plan.yaml, plan_sites.csv, plan_sites.geojson, plan_summary.json and instance/;
* ``stock``: stock levels to a service level (:func:`gridsim.planning.stock.plan_stock`);
* ``storm``: the moves ahead of a storm (:func:`gridsim.planning.storm.plan_storm`);
* a site model with ``planning.iterations=N > 1``: the simulation-optimisation loop
  (:func:`gridsim.planning.loop.run_loop`: optimise, simulate, reweight, optimise again), with
  ``iterations/<k>/`` and the history in plan_summary.json;

into ``DIR``: ``--out DIR``, else ``hydra.run.dir=DIR`` when given, else
``outputs/plans/<planning.model>-<planning.sites>-seed<seed>``. The folder is checked before
any work and written whole or not at all (:mod:`gridsim.planning.folder`).

Bad configs, instances and demand folders, a p above the candidates, an infeasible LSCP,
candidates off the road network: one line each, exit code 2, no folder.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from gridsim.errors import UserError, report

__all__ = ["default_folder", "plan_main"]

USAGE = """usage: gridsim plan [overrides] [--out DIR]

Decide where sites stand (选址), what stock they hold (物资储备) or what moves ahead of a
storm (力量前置、物资前置), and write a plan folder that `gridsim run plan=DIR` applies:
plan.yaml, plan_sites.csv, plan_sites.geojson, plan_summary.json, instance/
(default folder: outputs/plans/<planning.model>-<planning.sites>-seed<seed>;
hydra.run.dir=DIR is honoured too).

Overrides are those of `gridsim run`, plus planning.* (see docs/planning.md):
  planning.model=lscp|mclp|pmedian|pcenter|stock|storm   (default mclp)
  planning.solver=exact|heuristic                         (default exact)
  planning.sites=supply_points|posts|stations             (default supply_points)
  planning.p=5 planning.radius_s=300 planning.time_limit_s=60
  planning.demand=residents|exposures|<run or sweep folder>
  planning.candidates=0 (every grid) | N (the N grids of largest weight)
  planning.search_radius_s=0 (derived) planning.instance=<instance folder>
  planning.iterations=N (simulation-optimisation loop: optimise, simulate
      planning.replications runs, reweight, repeat; 1: one solve)
  planning.reweight=1.0 planning.reweight_by=auto|incidents|shortages

Examples:
  gridsim plan scenario=small planning.model=mclp planning.p=5 planning.radius_s=300 --out DIR
  gridsim plan scenario=small planning.model=lscp planning.solver=heuristic
  gridsim plan planning.instance=DIR/instance planning.model=mclp planning.p=10 \\
      planning.radius_s=600 --out DIR2
"""

#: Model and site names as the summary prints them (中文 + English).
MODEL_NAMES = {"lscp": "LSCP 集合覆盖", "mclp": "MCLP 最大覆盖", "pmedian": "p-median p-中位",
               "pcenter": "p-center p-中心", "stock": "stock 物资储备",
               "storm": "storm 前置 力量前置"}
SITE_NAMES = {"supply_points": "supply points 物资点", "posts": "standby posts 值守点",
              "stations": "stations 救援站"}
OBJECTIVES = {"lscp": "sites opened (total cost) 开设站点成本",
              "mclp": "demand covered 覆盖需求", "pmedian": "weight × time 加权时间 (s)",
              "pcenter": "worst time 最长时间 (s)"}


def _progress(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def _split_out(args: list[str]) -> tuple[list[str], Path | None, str | None]:
    """``(other args, --out folder, error)``."""
    from gridsim.app.drill_cmd import _split_out as split  # the same --out as drill script

    return split(args)


def _compose(overrides: list[str]) -> tuple[Any, Path | None]:
    """``(frozen settings, hydra.run.dir when the overrides give it)``."""
    # start-up time: Hydra only when a plan is made
    from gridsim.app.hydra_app import check, compose_config
    from gridsim.model.validate import ConfigError  # with Hydra: the composition's errors
    from gridsim.planning.checks import planning_errors  # the planning keys' range checks
    from gridsim.planning.loop import loop_errors  # the loop's keys (planning.iterations ...)

    cfg = compose_config(overrides)
    settings = check(cfg, overrides)
    errors = planning_errors(settings)  # (again, if validate already runs them: never twice)
    errors += [e for e in loop_errors(settings) if e not in errors]
    if errors:
        raise ConfigError([f"config error at {e}" for e in errors])
    run_dir = None
    if any(a.lstrip("+").startswith("hydra.run.dir=") for a in overrides):
        try:
            run_dir = Path(str(cfg.hydra.run.dir))
        except Exception as exc:  # a bad interpolation in hydra.run.dir
            raise UserError(f"hydra.run.dir does not resolve: {exc}",
                            hint="give a plain folder, or use --out DIR") from None
    return settings, run_dir


def _site_plan(settings: Any, folder: Path) -> tuple[list[Path], dict[str, Any], list[str]]:
    """A site model's plan folder; ``(files, summary, chosen ids)``."""
    # the solver stack only when a site model is planned (start-up time)
    from gridsim.planning import loop
    from gridsim.planning.build import from_scenario, search_radius
    from gridsim.planning.folder import write_plan_folder
    from gridsim.planning.instance_io import read_instance

    pc = settings.planning
    t0 = time.process_time()
    scenario = None
    if pc.instance:
        _progress(f"reading the instance {pc.instance} ...")
        instance = read_instance(Path(pc.instance))
        demand = "instance"
    else:
        from gridsim.engine.simulation import build  # the scenario: only without an instance

        _progress(f"building scenario {settings.scenario.name!r} ...")
        scenario = build(settings)
        instance = from_scenario(settings, scenario, progress=_progress)
        demand = str(pc.demand)
    _progress(f"  {instance.n_demand:,} demand points, {instance.n_candidates:,} candidates, "
              f"{instance.nnz:,} pairs ({time.process_time() - t0:.1f} s CPU)")
    eta = (f"at most {pc.time_limit_s:g} s (planning.time_limit_s)" if pc.solver == "exact"
           else "a few seconds")
    looped = None
    if int(pc.iterations) > 1 and scenario is not None:  # optimise -> simulate -> reweight
        _progress(f"simulation-optimisation loop: at most {pc.iterations} iterations of "
                  f"{pc.model} ({pc.solver}, each solve {eta}) and {pc.replications} runs each, "
                  "after the baseline's")
        looped = loop.run_loop(settings, scenario, progress=_progress, first=instance)
        site = looped.iterations[-1].site
        instance = site.instance
    else:
        _progress(f"solving {pc.model} ({pc.solver}) ... {eta}")
        t1 = time.process_time()
        site = loop.solve_sites(settings, instance, on_scenario=scenario is not None)
        _progress(f"  {site.solution.status} after {time.process_time() - t1:.1f} s CPU")
    sol, plan, table, ids = site.solution, site.plan, site.table, list(site.ids)
    summary = {
        "model": pc.model, "objective": sol.objective, "covered_share": sol.covered_share,
        "solver": sol.solver, "gap": sol.gap, "iterations": 1,
        "p": int(pc.p) if pc.model != "lscp" else len(ids), "radius_s": float(pc.radius_s),
        "search_radius_s": (instance.radius_s if pc.instance else search_radius(settings)),
        "sites": pc.sites, "department": plan.sites.department if plan.sites else "",
        "demand": demand, "status": sol.status, "bound": sol.bound,
        "solver_iterations": sol.iterations, "n_open": len(ids),
        "n_demand": instance.n_demand, "n_candidates": instance.n_candidates,
        "n_pairs": instance.nnz,
        "scenario": settings.scenario.name if scenario is not None else "",
        "instance": str(pc.instance), "name": str(pc.name), "seed": int(settings.seed),
    }
    if looped is not None:  # iterations done, the rule, the baseline and every iteration
        summary.update(loop.loop_summary(looped, float(pc.reweight), loop.signal_of(settings)))
    crs = None
    if scenario is not None and settings.scenario.generator == "synthetic":
        from gridsim.place.folder.export import SYNTHETIC_CRS  # only for a synthetic scenario

        crs = SYNTHETIC_CRS
    files = write_plan_folder(folder, plan=plan, summary=summary, sites=table,
                              instance=instance, crs=crs,
                              iterations=loop.iteration_files(looped) if looped else ())
    return files, summary, ids


def _other_plan(settings: Any, folder: Path) -> tuple[list[Path], dict[str, Any]]:
    """The stock or storm model's plan folder; ``(files, summary)``."""
    from gridsim.engine.simulation import build  # start-up time: with the command
    from gridsim.planning.folder import write_plan_folder

    pc = settings.planning
    _progress(f"building scenario {settings.scenario.name!r} ...")
    scenario = build(settings)
    if pc.model == "stock":
        from gridsim.planning.stock import plan_stock  # P4's model, on demand

        plan, fields = plan_stock(settings, scenario, progress=_progress)
    else:
        from gridsim.planning.storm import plan_storm  # P5's model, on demand

        plan, fields = plan_storm(settings, scenario, progress=_progress)
    summary: dict[str, Any] = {"model": pc.model, "objective": None, "covered_share": None,
                               "solver": None, "gap": None, "iterations": 1}
    summary.update(fields)
    summary.setdefault("scenario", settings.scenario.name)
    summary.setdefault("name", str(pc.name))
    summary.setdefault("seed", int(settings.seed))
    return write_plan_folder(folder, plan=plan, summary=summary), summary


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.6g}"
    return str(v)


#: The loop's outcome columns as printed (中文 + English).
LOOP_COLUMNS = (("within_5min_share", "within 5 min 五分钟到场"),
                ("late_incidents", "late 迟到"), ("unmet_incidents", "unmet 未到"),
                ("supply_shortages", "shortages 缺货"),
                ("supply_delay_mean_s", "supply delay 物资延误 s"),
                ("people_rescued", "rescued 获救"),
                ("losses_cny", "losses 损失 CNY"))


def _print_loop(summary: dict[str, Any]) -> None:
    """The simulation-optimisation loop's iterations: each outcome's mean over the runs and,
    for a plan, its paired difference from no plan with the 95 % interval."""
    lp = summary["loop"]
    print(f"  loop 仿真优化: {summary['iterations']} iterations 迭代 ({lp['stopped']}), "
          f"{lp['replications']} runs each 每次仿真, reweighted by 重新加权 {lp['reweight_by']} "
          f"(λ {lp['reweight']:g})")

    def cell(rec: dict[str, Any], m: str) -> str:
        v = rec[m]["mean"]
        return "n/a" if v is None else f"{v:,.4g}"

    print("    iteration 迭代: " + " · ".join(name for _, name in LOOP_COLUMNS)
          + " (mean 均值; Δ vs no plan 对比无预案 [95% CI])")
    base = summary["baseline"]["outcome"]
    print("    0 no plan 无预案: " + " · ".join(cell(base, m) for m, _ in LOOP_COLUMNS))
    for h in summary["history"]:
        parts = []
        for m, _ in LOOP_COLUMNS:
            d = h["paired_with_baseline"][m]
            lo, hi = d["ci95_low"], d["ci95_high"]
            ci = "" if lo is None or hi is None else f" [{lo:,.3g}, {hi:,.3g}]"
            delta = "n/a" if d["mean"] is None else f"{d['mean']:+,.3g}"
            parts.append(f"{cell(h['outcome'], m)} (Δ {delta}{ci})")
        again = f", the plan of {h['repeats']} again" if h["repeats"] else ""
        print(f"    {h['iteration']} ({len(h['sites'])} sites{again}): " + " · ".join(parts))


def default_folder(settings: Any) -> Path:
    """``outputs/plans/<planning.model>-<planning.sites>-seed<seed>``."""
    pc = settings.planning
    return Path("outputs") / "plans" / f"{pc.model}-{pc.sites}-seed{settings.seed}"


def plan(args: list[str]) -> int:
    """``gridsim plan``."""
    from gridsim.planning.folder import check_plan_folder  # start-up time: with the command

    overrides, out, problem = _split_out(args)
    flags = [a for a in overrides if a.startswith("-")]
    if problem or flags:
        raise UserError(problem or f"unknown option of `gridsim plan`: {flags[0]}",
                        hint="see gridsim plan --help")
    settings, run_dir = _compose(overrides)
    pc = settings.planning
    folder = out or run_dir or default_folder(settings)
    check_plan_folder(folder)  # before anything is built or solved
    if pc.model in ("lscp", "mclp", "pmedian", "pcenter"):
        files, summary, ids = _site_plan(settings, folder)
    else:
        files, summary = _other_plan(settings, folder)
        ids = []
    if pc.model in OBJECTIVES:
        print(f"plan {MODEL_NAMES[pc.model]} · sites 站点 {SITE_NAMES.get(pc.sites, pc.sites)}"
              f" · solver 求解 {summary['solver']} · demand 需求 {summary['demand']}")
        share = summary["covered_share"]
        print(f"  objective 目标值 ({OBJECTIVES[pc.model]}): {_fmt(summary['objective'])}"
              f" · covered share 覆盖率 (≤ {pc.radius_s:g} s): {share:.1%}"
              f" · gap 间隙 {_fmt(summary['gap'])} ({summary['status']})")
        shown = ", ".join(ids[:20]) + (f" … ({len(ids)} in all)" if len(ids) > 20 else "")
        print(f"  {len(ids)} sites 站点: {shown}")
        if "history" in summary:
            _print_loop(summary)
    else:
        print(f"plan {MODEL_NAMES.get(pc.model, pc.model)} · scenario 场景 "
              f"{settings.scenario.name} · seed {settings.seed}")
        for k, v in summary.items():
            if (k not in ("model", "iterations", "scenario", "seed") and v is not None
                    and not isinstance(v, dict | list)):
                print(f"  {k}: {_fmt(v)}")
    for p in files:
        print(f"  {p}")
    print(f"results: {folder}")
    return 0


def plan_main(args: list[str]) -> int:
    """Entry of ``gridsim plan``: a problem of the user's is one line per problem on stderr
    and exit code 2; Ctrl-C and SIGTERM go up to :func:`gridsim.app.cli.main`."""
    if any(a in ("-h", "--help", "help") for a in args[:1]) or "--help" in args:
        sys.stdout.write(USAGE)
        return 0
    from gridsim.model.validate import ConfigError  # start-up time: with the command

    try:
        return plan(args)
    except BrokenPipeError:  # the console script's to handle (e.g. piped into head)
        raise
    except (UserError, ConfigError, OSError) as exc:
        return report(exc)
