"""Benchmark of the calibration (``gridsim calibrate``): CPU seconds of one evaluation and of a
whole calibration on a small spec, and an estimate for the shipped Suining spec.

    python benchmarks/bench_calibration.py            # the small calibration (about a minute)
    python benchmarks/bench_calibration.py --city     # also one suining_city + suining_2025 run
                                                      #   (199 days), and the spec's estimate

The small calibration: ``scenario=small`` (70 grids) with the default rainstorm over
``--hours`` simulated hours, no files; one parameter, ``hazard.rate_scale`` (bounds 0.2–5,
start 1), fitted to the incident count that the model itself gives at ``rate_scale=2`` over the
same replications (so the answer is known: 2). It prints the CPU of one evaluation (``R``
replications on the built scenario), the CPU of the whole calibration (its evaluations and the
final evaluation) and the fitted value.

With ``--city`` it times one replication of the shipped spec's runs (its overrides: the
city, 199 days, the counterfactual) and multiplies by the spec's runs,
``max_evaluations × replications + final_replications``, spread over its ``n_jobs`` workers:
the CPU and the wall time the calibration would take at most on this machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gridsim import __version__  # noqa: E402
from gridsim.app.calibrate_cmd import DEFAULT_SPEC, resolve_spec  # noqa: E402
from gridsim.app.hydra_app import compose_settings  # noqa: E402
from gridsim.engine.simulation import build, simulate  # noqa: E402
from gridsim.experiments.calibrate import calibrate, load_spec, parse_spec  # noqa: E402
from gridsim.output.metrics import summarize  # noqa: E402

QUIET = ["output.figures=false", "output.events_log=false", "output.progress=false"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def small(hours: float, reps: int, budget: int) -> None:
    settings, _ = compose_settings(["scenario=small", f"duration_h={hours:g}", *QUIET])
    scenario = build(settings)
    truth = dataclasses.replace(settings, hazard=dataclasses.replace(settings.hazard,
                                                                     rate_scale=2.0))
    t0 = _cpu()
    counts = [summarize(simulate(dataclasses.replace(truth, seed=7, replication=r),
                                 scenario=scenario), __version__)["incidents"]
              for r in range(reps)]
    one_eval = _cpu() - t0
    target = sum(counts) / len(counts)
    spec = parse_spec({
        "name": "bench", "seed": 7, "replications": reps, "final_replications": 2 * reps,
        "budget": {"max_evaluations": budget, "design": 4},
        "parameters": {"rate_scale": {"path": "hazard.rate_scale", "bounds": [0.2, 5.0],
                                      "start": 1.0}},
        "targets": {"incidents": {"value": target, "band": {"relative": 0.05}}}}, "bench")
    t0 = _cpu()
    cal = calibrate(spec, settings, stream=None)
    whole = _cpu() - t0
    runs = len(cal.evaluations) * reps + spec.final_replications
    print(f"small: {settings.scenario.name}, {hours:g} h, {reps} replications an evaluation, "
          f"target {target:g} incidents (made at rate_scale = 2)")
    print(f"  one evaluation ({reps} runs):  {one_eval:7.2f} s CPU "
          f"({one_eval / reps:.3f} s a run)")
    print(f"  whole calibration:             {whole:7.2f} s CPU ({len(cal.evaluations)} "
          f"evaluations + final, {runs} runs; {whole / runs:.3f} s a run)")
    print(f"  fitted rate_scale = {cal.best.theta[0]:.4g} (known: 2), objective "
          f"{cal.best.objective:.3g}; {cal.optimizer}")


def city() -> None:
    spec = load_spec(resolve_spec(DEFAULT_SPEC))
    settings, _ = compose_settings(list(spec.overrides))
    t0, w0 = _cpu(), time.monotonic()
    scenario = build(settings)
    built = _cpu() - t0
    t1, w1 = _cpu(), time.monotonic()
    summarize(simulate(dataclasses.replace(settings, seed=spec.seed), scenario=scenario),
              __version__)
    run_cpu, run_wall = _cpu() - t1, time.monotonic() - w1
    runs = spec.max_evaluations * spec.replications + spec.final_replications
    jobs = max(1, spec.n_jobs)
    print(f"city: {' '.join(spec.overrides)}")
    print(f"  build {built:.1f} s CPU; one run {run_cpu:.1f} s CPU, {run_wall:.1f} s wall "
          f"(the whole process so far {time.monotonic() - w0 + (w1 - w0):.1f} s)")
    print(f"  the spec at most: {runs} runs = {runs * run_cpu / 60:.1f} min CPU, about "
          f"{runs * run_cpu / jobs / 60:.1f} min wall on {jobs} workers "
          "(target: at most 30 min on 2 cores)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=48.0)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--city", action="store_true")
    ns = ap.parse_args()
    small(ns.hours, ns.reps, ns.budget)
    if ns.city:
        city()
    return 0


if __name__ == "__main__":
    sys.exit(main())
