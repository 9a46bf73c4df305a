"""Benchmark of the peacetime loop (issue 14, point 6): a city-year of peacetime.

    python benchmarks/bench_peacetime.py                    # 3 rounds, campaign=none
    python benchmarks/bench_peacetime.py --rounds 1 --campaign ebike_2025
    python benchmarks/bench_peacetime.py --loop-only        # the loop alone (no whole run)
    python benchmarks/bench_peacetime.py --days 3 --loop-only  # what the loop adds to 72 h

What it measures, in CPU seconds (``time.process_time``: user + sys of this process, one core),
on ``scenario=suining_city`` (18,176 grids) over 365 days (``--days``) of ``hazard=calm``
(peacetime only: no warning, no weather):

* **the loop alone**: the 四单四办 loop of :mod:`gridsim.engine.peacetime` driven as a run drives
  it, through the API the run uses: :class:`~gridsim.model.peace.PeaceModel` built from the
  settings (timed on its own: ``build``), :meth:`PeaceLoop.start` from the steady state on
  stream ``peace/initial`` (``start``), then one :meth:`PeaceLoop.step` of
  ``peacetime.step_h`` at a time over the year on stream ``peace/steps``, each followed by
  :meth:`PeaceLoop.multipliers` as the run's rate field reads them (``steps``). Target: build
  + start + steps ≤ 30 s on one core.
* **the whole run**: :func:`gridsim.engine.simulation.simulate` of the same settings (no
  counterfactual pass, no campaign baseline pass, no figures, no events log), on the scenario
  built once before (the scenario build is printed apart: it is not the loop's cost).

The two are timed interleaved (loop, run, loop, run, ...) on this shared machine and each
figure is the least of its rounds. It also prints the hazards the loop processed in the year
(new, found, rectified: counts, not times, the same in every round) and the CPU per found
hazard. Figures only: no pass/fail assertion (tests never time anything).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET_LOOP_S = 30.0  # a city-year of the loop on one core (issue 14)
TARGET_72H_S = 0.5  # what the loop may add to a 72-hour city run (issue 10)
CITY = ["scenario=suining_city", "hazard=calm", "output.counterfactual=false",
        "output.campaign_baseline=false", "output.progress=false", "output.figures=false",
        "output.events_log=false", "output.gis=false"]


def loop_alone(settings: Any, scenario: Any, days: float) -> dict[str, float]:
    """CPU of the loop's build, start and steps over the year, and its counts."""
    from gridsim.engine.hazards import catalogue_from_config  # after sys.path is set
    from gridsim.engine.peacetime import PeaceLoop, loop_streams
    from gridsim.engine.simulation import peace_model
    from gridsim.model.campaign import campaign_phases
    from gridsim.model.streams import Streams

    streams = Streams(settings.seed, settings.replication)
    catalogue = catalogue_from_config(settings.catalogue)
    scenario.memo.clear()  # the model is cached on the scenario: build it anew every round
    t0 = time.process_time()
    model = peace_model(settings, scenario, catalogue)
    t1 = time.process_time()
    phases = campaign_phases(settings.campaign, scenario.region.grids, scenario.roster)
    loop = PeaceLoop.start(model, phases, loop_streams(streams.get, "initial"))
    t2 = time.process_time()
    rng = loop_streams(streams.get, "steps")  # the run's streams, one per hazard class
    step_days = settings.peacetime.step_h / 24.0
    n_steps = round(days / step_days)
    for _ in range(n_steps):
        loop.step(step_days, rng)
        loop.multipliers()
    t3 = time.process_time()
    return {"build": t1 - t0, "start": t2 - t1, "steps": t3 - t2, "n_steps": float(n_steps),
            "new": float(loop.new_total), "found": float(loop.found_total),
            "rectified": float(loop.rectified_total),
            "open_end": float(loop.stock_end().sum())}


def whole_run(settings: Any, scenario: Any, days: float) -> dict[str, float]:
    """CPU of ``simulate()`` over the year, and what it counted."""
    from gridsim.engine.simulation import simulate  # after sys.path is set

    t0 = time.process_time()
    result = simulate(settings, scenario)
    cpu = time.process_time() - t0
    return {"run": cpu, "incidents": float(len(result.incidents)),
            "run_found": float(result.peace.found_total)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--campaign", default="none", help="campaign option (default: none)")
    ap.add_argument("--loop-only", action="store_true", help="skip the whole run")
    ap.add_argument("--days", type=float, default=365.0, help="days of peacetime (365)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import bench_run  # the benchmarks' own helper, beside this file

    from gridsim.place.scenario import build_scenario  # after sys.path is set

    days = args.days
    settings = bench_run.compose_settings([*CITY, f"duration_h={days * 24:g}",
                                           f"campaign={args.campaign}"])[0]
    t0 = time.process_time()
    scenario = build_scenario(settings.scenario)
    build_s = time.process_time() - t0
    best: dict[str, float] = {}
    counts: dict[str, float] = {}
    for _ in range(max(1, args.rounds)):
        parts = [loop_alone] if args.loop_only else [loop_alone, whole_run]
        for part in parts:
            got = part(settings, scenario, days)
            for k, v in got.items():
                if k in ("build", "start", "steps", "run"):
                    best[k] = min(best.get(k, float("inf")), v)
                else:
                    counts[k] = v
    loop_s = best["build"] + best["start"] + best["steps"]
    n = scenario.n_grids
    print(f"bench_peacetime: scenario=suining_city ({n} grids), hazard=calm, {days:g} days, "
          f"campaign={args.campaign}, peacetime.step_h={settings.peacetime.step_h:g} "
          f"({counts['n_steps']:.0f} steps); CPU seconds (user+sys), least of {args.rounds} "
          f"round(s)")
    print(f"  scenario build (not the loop's)     {build_s:8.2f} s")
    print(f"  loop: PeaceModel.build              {best['build']:8.2f} s")
    print(f"  loop: PeaceLoop.start (steady state){best['start']:8.2f} s")
    print(f"  loop: steps + multipliers           {best['steps']:8.2f} s")
    target, what = ((TARGET_LOOP_S, "a city-year") if days >= 365 else
                    (TARGET_72H_S * days / 3.0, f"{days:g} days (0.5 s per 72 h)"))
    print(f"  loop alone, total                   {loop_s:8.2f} s   target <= {target:g} s "
          f"for {what} on one core: {'met' if loop_s <= target else 'NOT met'}")
    print(f"  hazards in the {days:g} days: new {counts['new']:.0f}, found {counts['found']:.0f}, "
          f"rectified {counts['rectified']:.0f}, open at the end {counts['open_end']:.0f}")
    if counts["found"] > 0:
        print(f"  loop CPU per found hazard           {loop_s / counts['found'] * 1e6:8.1f} us")
    if "run" in best:
        print(f"  whole run (simulate)                {best['run']:8.2f} s   "
              f"({counts['incidents']:.0f} incidents, {counts['run_found']:.0f} hazards found)")
        print(f"  run minus loop (incidents, response){best['run'] - loop_s:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
