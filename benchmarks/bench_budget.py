"""Measure the per-incident and per-step costs behind the run-size estimate (gridsim.model.budget).

    python benchmarks/bench_budget.py [--quick]

:mod:`gridsim.model.budget` refuses a run before it starts when its estimate is beyond a
ceiling, and prints the estimate's memory and CPU time. Those use a few constants measured
here, by slopes between two runs that differ only in their length, so that what every run has
(imports, the scenario, caches that fill once per grid) cancels out:

* bytes per incident: the growth of the memory ``tracemalloc`` traces that
  :func:`gridsim.engine.simulation.simulate` leaves (its result alive), per extra incident,
  with the events log on and off (``district``, ``hazard=calm``, ``hazard.rate_scale=10``:
  incidents dominate the steps);
* CPU seconds per incident: the same runs without tracemalloc (``time.process_time``);
* CPU seconds per grid and peacetime step: ``suining_city`` with every incident rate at 0, so
  only the scheduled steps cost (per step, per grid);
* SimPy events per step (those runs) and per incident (the busy runs, less their steps');
* bytes per scheduled step: the same, with the events log on (one row per step).

It prints each measured value beside the constant in :mod:`gridsim.model.budget`, no pass or
fail. Every case runs in a fresh process (this script with ``--child``) that prints one JSON
line. The machine is shared: CPU figures vary by some tens of percent from run to run; the
constants are rounded up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def _compose(overrides: list[str]):
    try:  # the Hydra boundary (after the issue-10 layout); the CLI module before it
        from gridsim.app.hydra_app import compose_settings  # type: ignore[import-not-found]
    except ImportError:
        from gridsim.app.cli import compose_settings
    settings, _ = compose_settings(overrides)
    return settings


def _child(overrides: list[str], traced: bool) -> dict:
    import tracemalloc

    from gridsim.engine.simulation import build, simulate

    settings = _compose([*overrides, "output.figures=false", "output.progress=false"])
    scenario = build(settings)
    if traced:
        tracemalloc.start()
    t0 = time.process_time()
    result = simulate(settings, scenario)
    cpu = time.process_time() - t0
    # what the run keeps (the result is alive): a peak would hide it under the transients of
    # setting the run up, which do not grow with its length
    kept = tracemalloc.get_traced_memory()[0] if traced else 0
    if traced:
        tracemalloc.stop()
    steps = sum(1 for _ in result.ctx.log.rows if _[1] == "peace_step")
    step_h = settings.peacetime.step_h
    return {"incidents": len(result.incidents), "cpu_s": cpu, "kept_bytes": kept,
            "grids": scenario.region.grids.n, "steps": int(settings.duration_h // step_h),
            "logged_steps": steps, "events": result.events_processed}


def _run(overrides: list[str], traced: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", json.dumps({"o": overrides, "t": traced})]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"case {overrides} failed (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs (noisier slopes)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(_child(spec["o"], spec["t"])))
        return

    from gridsim.model import budget

    short, long = (1000, 3000) if args.quick else (2000, 8000)
    busy = ["hazard=calm", "hazard.rate_scale=10"]
    rows = []
    for log in ("true", "false"):
        ov = [*busy, f"output.events_log={log}"]
        a, b = (_run([*ov, f"duration_h={d}"], traced=True) for d in (short, long))
        per = (b["kept_bytes"] - a["kept_bytes"]) / max(b["incidents"] - a["incidents"], 1)
        rows.append((f"bytes per incident, events log {log}", per,
                     budget.BYTES_PER_INCIDENT + (budget.BYTES_PER_LOGGED_INCIDENT
                                                  if log == "true" else 0)))
    a, b = (_run([*busy, "output.events_log=false", f"duration_h={d}"], traced=False)
            for d in (short, long))
    rows.append(("CPU s per incident", (b["cpu_s"] - a["cpu_s"])
                 / max(b["incidents"] - a["incidents"], 1), budget.CPU_S_PER_INCIDENT))
    busy_runs = (a, b)
    calm = ["scenario=suining_city", "hazard=calm", "hazard.rate_scale=0",
            "hazard.incidents=[]"]
    s_short, s_long = (2000, 6000) if args.quick else (4000, 16000)
    a, b = (_run([*calm, "output.events_log=false", f"duration_h={d}"], traced=False)
            for d in (s_short, s_long))
    rows.append(("CPU s per grid and step", (b["cpu_s"] - a["cpu_s"])
                 / max((b["steps"] - a["steps"]) * b["grids"], 1), budget.CPU_S_PER_GRID_STEP))
    per_step = (b["events"] - a["events"]) / max(b["steps"] - a["steps"], 1)
    rows.append(("SimPy events per scheduled step", per_step, budget.EVENTS_PER_STEP))
    a, b = busy_runs
    rows.append(("SimPy events per incident", (b["events"] - a["events"] - per_step
                                               * (b["steps"] - a["steps"]))
                 / max(b["incidents"] - a["incidents"], 1), budget.EVENTS_PER_INCIDENT))
    a, b = (_run([*calm, "output.events_log=true", f"duration_h={d}"], traced=True)
            for d in (s_short, s_long))
    rows.append(("bytes per scheduled step, events log on", (b["kept_bytes"] - a["kept_bytes"])
                 / max(b["steps"] - a["steps"], 1), budget.BYTES_PER_LOGGED_STEP))
    print(f"{'figure':44s} {'measured':>12s} {'constant':>12s}")
    for name, measured, constant in rows:
        print(f"{name:44s} {measured:12.4g} {constant:12.4g}")


if __name__ == "__main__":
    main()
