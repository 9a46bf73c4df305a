"""Benchmark of the storm work's cost in the city run (issue 10's speed targets, part P1).

    python benchmarks/bench_storm.py                       # this checkout, 3 rounds
    python benchmarks/bench_storm.py --base /tmp/x/base    # and another checkout, interleaved

What it measures. ``simulate()`` of ``scenario=suining_city hazard=city_rainstorm`` (no
counterfactual pass, no progress line), in CPU seconds (``time.process_time``, user + sys), on a
scenario built once in the process, with the post tasks on and with
``response.storm_work.enabled=false``: the difference is what the storm work (the posts' tasks,
their hand-offs and the command structure on top, gridsim.engine.storm and
gridsim.engine.command) costs. Each checkout runs in a child process of its own (``PYTHONPATH``
set to it), and the children alternate, A B A B ..., on this shared machine; each figure is
the least of its rounds. It also prints the SimPy events each run scheduled (the same in every
round: a count, not a time, so it does not depend on the machine's load).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CITY = ["scenario=suining_city", "hazard=city_rainstorm", "output.counterfactual=false",
        "output.progress=false", "output.figures=false"]


def child(rounds: int) -> dict[str, float]:
    """Least CPU of ``simulate()`` with storm work on and off, over ``rounds`` alternations."""
    sys.path.insert(0, str(HERE))
    import bench_run  # the benchmark's own helper, beside this file

    from gridsim.engine.simulation import simulate  # after sys.path is set
    from gridsim.place.scenario import build_scenario  # likewise

    on = bench_run.compose_settings(CITY)[0]
    off = bench_run.compose_settings([*CITY, "response.storm_work.enabled=false"])[0]
    scenario = build_scenario(on.scenario)
    simulate(off, scenario)  # warm: imports, caches
    best = {"on": float("inf"), "off": float("inf")}
    events: dict[str, float] = {}
    for _ in range(rounds):
        for name, settings in (("on", on), ("off", off)):
            t0 = time.process_time()
            result = simulate(settings, scenario)
            best[name] = min(best[name], time.process_time() - t0)
            events[f"events_{name}"] = float(result.events_processed)
    return {**best, **events}


def run_child(checkout: Path, rounds: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child",
                          str(rounds)], env=env, cwd=checkout, capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"bench_storm: the child for {checkout} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, help="another checkout, measured interleaved")
    ap.add_argument("--rounds", type=int, default=3, help="alternations (least kept)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    if ns.child is not None:
        print(json.dumps(child(ns.child)))
        return 0
    sides = {"this": HERE.parent}
    if ns.base is not None:
        sides = {"base": ns.base.resolve(), **sides}
    best: dict[str, dict[str, float]] = {}
    for _ in range(ns.rounds):
        for name, path in sides.items():
            got = run_child(path, 1)
            mine = best.setdefault(name, {"on": float("inf"), "off": float("inf")})
            for k in ("on", "off"):
                mine[k] = min(mine[k], got[k])
            for k in ("events_on", "events_off"):
                mine[k] = got[k]
    print("simulate() of the city rainstorm, CPU s (least of "
          f"{ns.rounds} interleaved rounds)")
    print(f"{'checkout':10} {'storm on':>9} {'storm off':>9} {'storm work':>10} "
          f"{'events on':>10} {'events off':>10}")
    for name, b in best.items():
        print(f"{name:10} {b['on']:9.3f} {b['off']:9.3f} {b['on'] - b['off']:10.3f} "
              f"{b['events_on']:10.0f} {b['events_off']:10.0f}")
    if "base" in best:
        sb = best["base"]["on"] - best["base"]["off"]
        st = best["this"]["on"] - best["this"]["off"]
        print(f"storm work: base / this = {sb / st:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
