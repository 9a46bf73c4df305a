"""Benchmark of the evacuation model: a whole township of the city evacuates.

    python benchmarks/bench_evacuation.py [--replications N] [--drills]

Builds ``scenario=suining_city`` (timed apart), picks its most populous township and evacuates
all of its grids with :func:`gridsim.evacuation.evacuate` (households, the warning through
every channel, helpers, the switch simulated at the warning, movement to shelters). Prints the
wall time of the evacuation, people, households (groups), events, clearance and the share of
people sheltered over time. Target: < 30 s for the evacuation.

``--replications N`` repeats it with N seeds and prints the clearance over replications (its
distribution); ``--drills`` compares the same township drilling 1 and 4 times a year (common
random numbers: the same seed, only the drill rate differs).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

TARGET_S = 30.0


def _fmt(x: float | None, unit: str = "s") -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f} {unit} ({x / 60:.1f} min)" if unit == "s" else f"{x:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=1)
    ap.add_argument("--drills", action="store_true", help="compare 1 and 4 drills a year")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from gridsim.app.cli import compose_settings
    from gridsim.evacuation import evacuate
    from gridsim.model.streams import Streams
    from gridsim.place.scenario import build_scenario

    settings, _ = compose_settings(["scenario=suining_city"])
    t0 = time.perf_counter()
    sc = build_scenario(settings.scenario)
    build_s = time.perf_counter() - t0
    g = sc.region.grids
    pop = np.bincount(g.township, weights=g.population)
    town = int(np.argmax(pop))
    grids = sc.region.township_grids([town])
    start_s = 30 * 3600.0  # 06:00 on the second day, as hazard=flood_evacuation
    print(f"scenario suining_city built in {build_s:.1f} s: {g.n:,} grids, "
          f"{int(g.population.sum()):,} people")
    print(f"township {sc.region.hierarchy.township_names[town]} (id {town}): {len(grids)} grids, "
          f"{int(pop[town]):,} people")

    def run(seed: int, per_year: float | None = None):
        t = time.perf_counter()
        res = evacuate(sc, grids, settings.evacuation, Streams(seed), start_s=start_s,
                       response=settings.response, drills_per_year=per_year,
                       scenario_seed=settings.scenario.seed)
        return res, time.perf_counter() - t

    res, wall = run(args.seed)
    s = res.summary()
    print(f"\nevacuation (seed {args.seed}): wall time {wall:.2f} s "
          f"(target < {TARGET_S:.0f} s: {'met' if wall < TARGET_S else 'NOT met'})")
    print(f"  people {res.population:,}  households (groups) {res.households.n:,}  "
          f"events {res.flow.events:,}  shelters {res.shelters.n}  helpers {res.helpers.n:,}")
    print(f"  clearance {_fmt(s['clearance_time_s'])}  p50 {_fmt(s['evacuation_p50_s'])}  "
          f"p90 {_fmt(s['evacuation_p90_s'])}")
    print(f"  not sheltered by the deadline ({settings.evacuation.deadline_h:g} h): "
          f"{s['not_sheltered_by_deadline']:,}   shelters full: {s['shelters_full']}   "
          f"longest queue: {s['bottleneck_max_queue_persons']} persons, "
          f"{s['bottleneck_max_wait_s']} s")
    c = res.curve(600.0)
    marks = "  ".join(f"{int(m)}min {sh / res.population:.0%}" for m, sh in
                      zip(c["since_warning_s"][::3] / 60, c["sheltered"][::3], strict=True))
    print(f"  sheltered since the warning: {marks}")

    if args.replications > 1:
        clear, walls = [], []
        for k in range(args.replications):
            r, w = run(args.seed + k)
            clear.append(r.clearance_time_s())
            walls.append(w)
        a = np.array(clear)
        print(f"\nclearance over {len(a)} replications: mean {np.nanmean(a) / 60:.1f} min, "
              f"min {np.nanmin(a) / 60:.1f}, max {np.nanmax(a) / 60:.1f}; "
              f"wall {np.mean(walls):.2f} s each")

    if args.drills:
        print("\ndrills a year (same seed): p50 / p90 / clearance / not sheltered by the deadline")
        for d in (1.0, 4.0):
            r, _ = run(args.seed, d)
            q = r.summary()
            print(f"  {d:g}: {_fmt(q['evacuation_p50_s'])} / {_fmt(q['evacuation_p90_s'])} / "
                  f"{_fmt(q['clearance_time_s'])} / {q['not_sheltered_by_deadline']:,}")


if __name__ == "__main__":
    main()
