"""How building and simulating grow with the city: the city rainstorm at 1x and 4x.

Each measurement runs in a fresh process (``--child SCALE``), so peak memory is that one
build and run alone: ``gridsim.place.synthetic.city(scale)`` (18,176 grids times ``scale``:
grids, land, people, commanders, monitoring points and stations) with the city rainstorm,
figures off. It prints CPU seconds (user + sys of the process, ``time.process_time``) for

* generate: the synthetic generator (grids, roads, people, supplies, stations);
* place times: each department's nearest stations per grid and the depot times;
* elaborate: the run's travel tables (mutual-aid near times);
* simulate: the run itself;

and the peak resident memory (``ru_maxrss``). Rounds alternate the scales (the machine is
shared); the best of each is kept. Ratios 4x / 1x are printed beside the targets of issue 10
(build + simulate <= 4.5x, peak memory <= 4.5x).

    python benchmarks/bench_city_scale.py [--rounds 2] [--scales 1 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time


def child(scale: int) -> dict[str, float]:
    from gridsim.app.cli import compose_settings
    from gridsim.engine.simulation import simulate
    from gridsim.engine.travel import travel_for
    from gridsim.model.streams import Streams
    from gridsim.place.scenario import prepare_scenario
    from gridsim.place.synthetic import city, generate

    settings = compose_settings(["scenario=suining_city", "hazard=city_rainstorm",
                                 "output.figures=false", "output.progress=false",
                                 "output.events_log=false"])[0]
    cfg = city(scale)
    settings = dataclasses.replace(settings, scenario=cfg)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    c0 = time.process_time()
    parts = generate(cfg, Streams(cfg.seed))
    c1 = time.process_time()
    scenario = prepare_scenario(parts, seed=cfg.seed)
    c2 = time.process_time()
    travel_for(scenario, settings.response)
    c3 = time.process_time()
    res = simulate(settings, scenario)
    c4 = time.process_time()
    return {"scale": scale, "grids": scenario.n_grids, "incidents": len(res.incidents),
            "generate_s": c1 - c0, "place_times_s": c2 - c1, "elaborate_s": c3 - c2,
            "simulate_s": c4 - c3, "build_simulate_s": c4 - c0,
            "rss_before_mb": rss0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return
    best: dict[int, dict[str, float]] = {}
    for r in range(args.rounds):
        for scale in args.scales:
            out = subprocess.run([sys.executable, __file__, "--child", str(scale)],
                                 capture_output=True, text=True, check=True)
            got = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"round {r + 1} {scale}x: " + ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in got.items()),
                flush=True)
            b = best.setdefault(scale, dict(got))
            for k, v in got.items():
                if k.endswith("_s") or k == "peak_rss_mb":
                    b[k] = min(b[k], v)
    print()
    print(f"{'':24s}" + "".join(f"{s}x".rjust(12) for s in args.scales))
    for k in ("grids", "incidents", "generate_s", "place_times_s", "elaborate_s", "simulate_s",
              "build_simulate_s", "peak_rss_mb"):
        print(f"{k:24s}" + "".join(f"{best[s][k]:12.2f}" if isinstance(best[s][k], float)
                                   else f"{best[s][k]:12d}" for s in args.scales))
    if 1 in best and len(best) > 1:
        big = max(best)
        for k, target in (("build_simulate_s", 4.5), ("peak_rss_mb", 4.5),
                          ("generate_s", None), ("place_times_s", None), ("elaborate_s", None),
                          ("simulate_s", None)):
            ratio = best[big][k] / best[1][k]
            note = f"  (target <= {target}x: {'met' if ratio <= target else 'NOT met'})" \
                if target else ""
            print(f"ratio {big}x/1x {k:18s} {ratio:6.2f}x{note}")


if __name__ == "__main__":
    main()
