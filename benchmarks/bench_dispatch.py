"""The dispatcher's cost with a waiting queue: free-people counts against searching every request.

    python benchmarks/bench_dispatch.py [--quick]

The set-up of the Erlang C test (tests/test_theory.py): one grid, 3 commanders, λ = 0.2/min,
exponential service of mean 10 min (ρ = 2/3, P(wait) = 0.444), zero travel and delays. It runs
the same replications three times, interleaved, in one process on one built scenario:

* ``counts``: the dispatcher as shipped; a waiting request none of whose categories anybody
  free or held has is not searched (:meth:`gridsim.engine.dispatch.Dispatcher._anyone_for`),
  and the 4 candidates are searched in Python (``_choose_small``);
* ``search all``: that check forced true, so every waiting request is searched at every
  release, as before the counts;
* ``arrays``: as shipped, but every candidate set searched with arrays (``_SMALL = 0``), as
  before the Python search of small sets.

It prints the CPU seconds (``time.process_time``, best of the rounds) of each, their ratios, how
many searches (``_choose`` calls) each made per customer, and whether the waits are equal (they
must be: the counts only skip searches that assign nobody, and both searches pick the same
people). No pass or fail.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from params import one_grid  # tests/params.py builds the parameters by hand

from gridsim.engine import dispatch
from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import build, simulate
from gridsim.model.dists import Dist


def _run(s, scenario, mode: str) -> tuple[float, int, list[float], int]:
    calls = [0]
    search_all = mode == "search all"
    small = dispatch._SMALL
    if mode == "arrays":
        dispatch._SMALL = 0

    def observe(ctx: RunContext) -> None:
        d = ctx.dispatcher
        choose = d._choose

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls[0] += 1
            return choose(*args, **kwargs)

        d._choose = counted  # type: ignore[method-assign]
        if search_all:
            d._anyone_for = lambda needs: True  # type: ignore[method-assign]

    t = time.process_time()
    try:
        r = simulate(s, scenario=scenario, observe=observe)
    finally:
        dispatch._SMALL = small
    cpu = time.process_time() - t
    return cpu, calls[0], [i.response_s for i in r.incidents], len(r.incidents)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 h and 2 rounds (else 2000 h, 3)")
    a = ap.parse_args()
    hours, rounds = (500.0, 2) if a.quick else (2000.0, 3)
    s = one_grid(3, duration_h=hours, rate_per_day=0.2 * 1440.0,
                 handling=Dist.exponential(600.0), seed=1)
    scenario = build(s)
    modes = ("counts", "search all", "arrays")
    best = dict.fromkeys(modes, float("inf"))
    seen: dict[str, tuple[int, list[float], int]] = {}
    for _ in range(rounds):
        for mode in modes:
            cpu, calls, waits, n = _run(s, scenario, mode)
            best[mode] = min(best[mode], cpu)
            seen[mode] = (calls, waits, n)
    n = seen["counts"][2]
    print(f"M/M/3 one grid, {hours:.0f} h, {n} customers, best of {rounds} (CPU s)")
    for mode in modes:
        calls = seen[mode][0]
        print(f"  {mode:<11} {best[mode]:7.2f} s  {calls / n:5.2f} searches per customer")
    print(f"  ratio search all / counts: {best['search all'] / best['counts']:.2f}x")
    print(f"  ratio arrays / counts: {best['arrays'] / best['counts']:.2f}x")
    for mode in modes[1:]:
        same = [repr(w) for w in seen["counts"][1]] == [repr(w) for w in seen[mode][1]]
        print(f"  waits identical to {mode}: {same}")


if __name__ == "__main__":
    main()
