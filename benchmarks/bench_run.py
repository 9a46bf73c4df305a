"""Performance benchmark of gridsim: event throughput, the default run and a city-size run.

    python benchmarks/bench_run.py [--skip-city] [--repeat N]

Prints one table (figures only, no pass/fail assertions):

(a) event throughput of the default run (``gridsim run`` defaults: district, 72 h, rainstorm):
    the wall time per processed SimPy event of :func:`gridsim.engine.simulation.simulate` against a
    bare SimPy loop that schedules and processes the same number of timeout events in the same
    number of processes. The figure is the ratio of the two costs per event (target <= 2x).
(b) wall time and peak memory (RSS) of the default run, scenario build included, and the files
    that ``gridsim run`` writes (figures included);
(c) the same for a city-size run (scenario=suining_city, hazard=city_rainstorm, 72 h), with the
    build split into scenario generation and travel-time preparation.
    Targets: default run < 10 s; city-size run < 60 s and < 2 GB peak RSS.

Every case runs in a fresh Python process (this script with ``--child CASE``), which prints one
JSON line; peak RSS is that process's ``ru_maxrss`` (imports included).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

DEFAULT_OVERRIDES = ["output.progress=false"]
CITY_OVERRIDES = ["scenario=suining_city", "hazard=city_rainstorm", "duration_h=72",
                  "output.progress=false"]
TARGETS = {"ratio": 2.0, "default_s": 10.0, "city_s": 60.0, "city_rss_mb": 2048.0}


def compose_settings(overrides: list[str]):  # type: ignore[no-untyped-def]
    """``(settings, group choices)`` of ``gridsim run overrides``, from the Hydra boundary
    (``gridsim.app.cli`` in a checkout from before it, so that one can be measured too)."""
    try:
        from gridsim.app.hydra_app import compose_settings as compose
    except ImportError:
        from gridsim.app.cli import compose_settings as compose
    return compose(overrides)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# -- child cases ---------------------------------------------------------------------------------
def _bare_simpy(n_events: int, n_processes: int, seed: int = 0,
                clock: Callable[[], float] = time.perf_counter) -> tuple[float, int]:
    """Time (wall, or ``clock``) and event count of a bare SimPy loop: ``n_processes`` generator
    processes that yield timeouts of random length until about ``n_events`` events have been
    scheduled."""
    import random

    import simpy

    env = simpy.Environment()
    rng = random.Random(seed)
    n_processes = max(1, min(n_processes, n_events))
    # each process costs one Initialize event; the rest are timeouts, spread evenly
    timeouts = max(0, n_events - n_processes)
    per, extra = divmod(timeouts, n_processes)

    def proc(k: int):
        for _ in range(k):
            yield env.timeout(rng.random() * 3600.0)

    for i in range(n_processes):
        env.process(proc(per + (1 if i < extra else 0)))
    t0 = clock()
    env.run()
    return clock() - t0, next(env._eid)  # type: ignore[attr-defined]


def _count_processes(settings, scenario) -> int:
    """How many SimPy processes a run starts (one extra, uncounted run)."""
    import simpy.events

    from gridsim.engine.simulation import simulate

    counter = [0]
    orig = simpy.events.Process.__init__

    def counting(self, env, generator):  # type: ignore[no-untyped-def]
        counter[0] += 1
        orig(self, env, generator)

    simpy.events.Process.__init__ = counting  # type: ignore[method-assign]
    try:
        simulate(settings, scenario)
    finally:
        simpy.events.Process.__init__ = orig  # type: ignore[method-assign]
    return counter[0]


#: areas of a run's time that the floor keeps (see _FLOOR_AREAS)
_LIFECYCLE = "incident lifecycle (respond, escalation, returns)"
_MACHINERY = "SimPy machinery (queue, events, resources)"
_SETUP = "setup and collection"

#: where a run's time goes, by the generator a SimPy process runs or the method called
_PROCESS_AREA = {
    "respond": _LIFECYCLE, "_department": _LIFECYCLE, "_returns": _LIFECYCLE,
    "arrivals": "hazard arrivals", "_scripted": "hazard arrivals",
    "_conditions": "warnings and peacetime steps",
    "_ready_batch": "mode switch", "_peace_batch": "mode switch",
    "_deliver": "supplies", "_deliver_depot": "supplies",
    "_availability": "dispatch", "_progress": "progress",
}


#: what is left of a run if dispatch, the switch, arrivals, warnings, supplies and reporting
#: cost nothing: the processes' SimPy events, the incident lifecycle's own code, set-up
_FLOOR_AREAS = (_MACHINERY, _LIFECYCLE, _SETUP)


def _breakdown(settings, scenario) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Exclusive wall time (s) of one simulate() by area: each SimPy process resume is charged
    to its generator's area, and the dispatcher's, the switch's and the supply chain's methods
    to theirs (nested calls counted once, where they run); what is left of ``env.run`` is
    SimPy's own machinery. The timers add about a microsecond per timed call."""
    import collections

    import simpy
    import simpy.events

    from gridsim.engine.dispatch import Dispatcher
    from gridsim.engine.reporting import initial_report
    from gridsim.engine.simulation import simulate
    from gridsim.engine.supplies import SupplyChain
    from gridsim.engine.switch import ModeSwitch

    acc: dict[str, float] = collections.defaultdict(float)
    nested: list[float] = []
    clock = time.perf_counter

    def timed(area, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            name = area(args[0]) if callable(area) else area
            t0 = clock()
            nested.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                el = clock() - t0
                acc[name] += el - nested.pop()
                if nested:
                    nested[-1] += el
        return wrapper

    patches = [
        (simpy.events.Process, "_resume", lambda p: _PROCESS_AREA.get(
            p._generator.__name__, p._generator.__name__)),
        (simpy.Environment, "run", _MACHINERY),
        (Dispatcher, "request", "dispatch"), (Dispatcher, "retry", "dispatch"),
        (Dispatcher, "release", "dispatch"),
        (ModeSwitch, "hold", "mode switch"), (ModeSwitch, "release", "mode switch"),
        (SupplyChain, "gather", "supplies"),
    ]
    saved = [(cls, name, getattr(cls, name)) for cls, name, _ in patches]
    for cls, name, area in patches:
        setattr(cls, name, timed(area, getattr(cls, name)))
    import gridsim.engine.incident as incident_module
    saved_report = incident_module.initial_report
    incident_module.initial_report = timed("reporting", initial_report)  # type: ignore[assignment]
    try:
        t0 = clock()
        simulate(settings, scenario)
        acc[_SETUP] = (clock() - t0) - sum(acc.values())
    finally:
        for cls, name, fn in saved:
            setattr(cls, name, fn)
        incident_module.initial_report = saved_report  # type: ignore[assignment]
    return dict(acc)


@contextlib.contextmanager
def _timed_env_run(into: list[float], clock: Callable[[], float] = time.perf_counter
                   ) -> Iterator[None]:
    """Append the time (wall, or ``clock``) of every ``simpy.Environment.run`` inside the block
    to ``into``."""
    import simpy

    real_run = simpy.Environment.run

    def timed_run(self, until=None):  # type: ignore[no-untyped-def]
        t0 = clock()
        try:
            return real_run(self, until)
        finally:
            into.append(clock() - t0)

    simpy.Environment.run = timed_run  # type: ignore[method-assign]
    try:
        yield
    finally:
        simpy.Environment.run = real_run  # type: ignore[method-assign]


def child_events(repeat: int, clock: Callable[[], float] = time.perf_counter,
                 breakdown: bool = True) -> dict:
    """The per-event figures: ``simulate()`` of the default run and the bare loop, alternately,
    best of each, timed by ``clock`` (wall by default; ``benchmarks/bench_pipeline.py`` passes
    ``time.process_time``); with ``breakdown``, the split by area (wall)."""
    from gridsim.engine.simulation import build, simulate

    settings, _ = compose_settings(DEFAULT_OVERRIDES)
    scenario = build(settings)
    simulate(settings, scenario)  # warm up (imports, caches)
    events = simulate(settings, scenario).events_processed
    processes = _count_processes(settings, scenario)
    _bare_simpy(events, processes)  # warm up
    # interleaved rounds, best of each side: the shared machine has slow phases that last
    # seconds (with the two sides timed one after the other the ratio swung from 9x to 17x);
    # a bare loop takes about 2 ms, so it gets ten tries a round
    sim_s: list[float] = []
    run_s: list[float] = []  # env.run alone: the bare loop's timer also starts after set-up
    bare_s: list[float] = []
    bare_events = 0
    for k in range(4 * repeat):
        t0 = clock()
        with _timed_env_run(run_s, clock):
            res = simulate(settings, scenario)
        sim_s.append(clock() - t0)
        for j in range(10):
            t, bare_events = _bare_simpy(events, processes, seed=10 * k + j, clock=clock)
            bare_s.append(t)
    areas: dict[str, float] = {}
    if breakdown:
        parts = [_breakdown(settings, scenario) for _ in range(repeat)]
        areas = {k: min(p.get(k, 0.0) for p in parts) for k in parts[0]}
    return {"events": events, "processes": processes, "incidents": len(res.incidents),
            "sim_s": min(sim_s), "run_s": min(run_s), "bare_s": min(bare_s),
            "bare_events": bare_events, "areas": areas}


def _run_case(overrides: list[str]) -> dict:
    t_start = time.perf_counter()
    from gridsim import __version__
    from gridsim.engine.simulation import simulate
    from gridsim.engine.travel import travel_for
    from gridsim.output.files import write_outputs
    from gridsim.place.scenario import generate_parts, prepare_scenario

    settings, _ = compose_settings(overrides)
    t_import = time.perf_counter() - t_start
    resp = settings.response
    t0 = time.perf_counter()
    parts = generate_parts(settings.scenario)
    t1 = time.perf_counter()
    scenario = prepare_scenario(parts, seed=settings.scenario.seed)
    travel = travel_for(scenario, resp)  # the run's own (cached on the scenario for simulate)
    t2 = time.perf_counter()
    res = simulate(settings, scenario)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_outputs(res, Path(tmp), __version__)
    t4 = time.perf_counter()
    d = scenario.describe()
    out = {
        "import_compose_s": t_import, "generate_s": t1 - t0, "travel_times_s": t2 - t1,
        "build_s": t2 - t0, "simulate_s": t3 - t2, "outputs_s": t4 - t3, "run_s": t4 - t0,
        "grids": d["grids"], "population": d["population"], "area_km2": d["area_km2"],
        "townships": d["townships"], "villages": d["villages"],
        "people_on_roster": d["people_on_roster"], "incidents": len(res.incidents),
        "events": res.events_processed, "switch_episodes": len(res.ctx.switch.ep_grid),
        "near_mb": travel.near.nbytes() / 1e6, "peak_rss_mb": _peak_rss_mb(),
    }
    return out


def child(case: str, repeat: int) -> dict:
    if case == "events":
        return child_events(repeat)
    if case == "default":
        return _run_case(DEFAULT_OVERRIDES)
    if case == "city":
        return _run_case(CITY_OVERRIDES)
    raise SystemExit(f"unknown case {case!r}")


# -- parent --------------------------------------------------------------------------------------
def _spawn(case: str, repeat: int) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", case,
                           "--repeat", str(repeat)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"case {case} failed (exit {proc.returncode})")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    return out


def _row(label: str, value: str, target: str = "") -> str:
    return f"  {label:<46}{value:>18}   {target}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-city", action="store_true", help="leave out the city-size run")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions in (a), best kept")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.repeat)))
        return 0

    print(f"gridsim benchmark · Python {platform.python_version()} · {platform.machine()} · "
          f"{os.cpu_count()} CPUs")
    ev = _spawn("events", args.repeat)
    g_us = ev["sim_s"] / ev["events"] * 1e6
    b_us = ev["bare_s"] / ev["bare_events"] * 1e6
    ratio = g_us / b_us
    print("(a) event throughput, default run (district, 72 h, rainstorm)")
    print(_row("SimPy events processed", f"{ev['events']:,}"))
    print(_row("processes started / incidents", f"{ev['processes']:,} / {ev['incidents']:,}"))
    print(_row("gridsim simulate()", f"{ev['sim_s'] * 1e3:.1f} ms"))
    print(_row("gridsim events per second", f"{ev['events'] / ev['sim_s']:,.0f}"))
    print(_row("gridsim cost per event", f"{g_us:.2f} us"))
    print(_row("gridsim simulate() per incident", f"{ev['sim_s'] / ev['incidents'] * 1e3:.2f} ms"))
    print(_row("bare SimPy cost per event (same counts)", f"{b_us:.2f} us"))
    print(_row("ratio gridsim / bare SimPy", f"{ratio:.1f}x", f"target <= {TARGETS['ratio']:g}x"))
    run_ratio = ev["run_s"] / ev["events"] * 1e6 / b_us
    print(_row("  the same, event loop only (env.run)", f"{run_ratio:.1f}x",
               "set-up and collection left out on both sides"))
    areas = ev["areas"]
    timed_total = sum(areas.values())
    floor = sum(sec for name, sec in areas.items() if name in _FLOOR_AREAS) / timed_total * ratio
    print(_row("  floor: every model area but the lifecycle free", f"{floor:.1f}x",
               "SimPy machinery + incident lifecycle + set-up"))
    print("    the ratio by where simulate() spends its time (shares from a separately timed run;")
    print("    an area's part of the ratio is its share x the ratio)")
    print(f"    {'area':<52}{'share':>7}{'of ratio':>10}{'per incident':>15}")
    for name, sec in sorted(areas.items(), key=lambda kv: -kv[1]):
        share = sec / timed_total
        print(f"    {name:<52}{share:>7.1%}{share * ratio:>9.2f}x"
              f"{share * ev['sim_s'] / ev['incidents'] * 1e6:>12.1f} us")
    de = _spawn("default", args.repeat)
    print("(b) default run, fresh process")
    print(_row("build (generation + travel times)", f"{de['build_s']:.2f} s"))
    print(_row("simulate", f"{de['simulate_s']:.2f} s"))
    print(_row("write outputs (csv, json, figures)", f"{de['outputs_s']:.2f} s"))
    print(_row("run = build + simulate + outputs", f"{de['run_s']:.2f} s",
               f"target < {TARGETS['default_s']:g} s"))
    print(_row("imports and config composition", f"{de['import_compose_s']:.2f} s"))
    print(_row("whole process (wall)", f"{de['process_wall_s']:.2f} s"))
    print(_row("peak RSS", f"{de['peak_rss_mb']:.0f} MB"))
    print(_row("grids / incidents / events",
               f"{de['grids']:,} / {de['incidents']:,} / {de['events']:,}"))

    if not args.skip_city:
        ci = _spawn("city", args.repeat)
        total = ci["run_s"]
        print("(c) city-size run (scenario=suining_city, hazard=city_rainstorm, 72 h), "
              "fresh process")
        print(_row("grids / townships / villages",
                   f"{ci['grids']:,} / {ci['townships']} / {ci['villages']:,}", "18,176 grids"))
        print(_row("population", f"{ci['population']:,}", "~2.8 M"))
        print(_row("area", f"{ci['area_km2']:,.0f} km²", "~5,300 km²"))
        print(_row("people on the roster", f"{ci['people_on_roster']:,}"))
        print(_row("build: scenario generation", f"{ci['generate_s']:.2f} s"))
        print(_row("build: travel-time preparation", f"{ci['travel_times_s']:.2f} s"))
        print(_row("simulate", f"{ci['simulate_s']:.2f} s"))
        print(_row("write outputs (csv, json, figures)", f"{ci['outputs_s']:.2f} s"))
        print(_row("run = build + simulate + outputs", f"{total:.2f} s",
                   f"target < {TARGETS['city_s']:g} s"))
        print(_row("whole process (wall)", f"{ci['process_wall_s']:.2f} s"))
        print(_row("peak RSS", f"{ci['peak_rss_mb']:.0f} MB",
                   f"target < {TARGETS['city_rss_mb'] / 1024:g} GB"))
        print(_row("incidents / switch episodes",
                   f"{ci['incidents']:,} / {ci['switch_episodes']:,}"))
        print(_row("SimPy events / per second",
                   f"{ci['events']:,} / {ci['events'] / ci['simulate_s']:,.0f}"))
        print(_row("incidents simulated per second",
                   f"{ci['incidents'] / ci['simulate_s']:,.0f}"))
        print(_row("mutual-aid travel times (sparse)", f"{ci['near_mb']:.1f} MB"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
