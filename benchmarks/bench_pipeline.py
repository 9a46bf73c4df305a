"""Benchmark of the run pipeline (issue 10): every performance figure of the issue with its target.

    python benchmarks/bench_pipeline.py                    # everything (about 10-15 minutes)
    python benchmarks/bench_pipeline.py --quick --skip-city
    python benchmarks/bench_pipeline.py --only lifecycle --only replications

Figures (``--only`` takes these names; ``--skip-city`` leaves out the three city-size ones):

``city_run``
    ``gridsim run scenario=suining_city hazard=city_rainstorm`` as a whole process, as a user
    starts it (default run folder, figures and events log on): CPU seconds, target <= 4.0 s.
    Beside it, what a process that only starts and skips that finished run costs.
``city_experiment``
    ``gridsim experiment`` of a temporary file that sweeps ``replication=range(0,100)`` on
    ``scenario=suining_city hazard=city_rainstorm``, figures, events log and GIS files off (as
    every quiet run of this benchmark: ``output.gis`` came with issue 13 after the target was
    set, and its files cost about 0.7 s of CPU per city replication): CPU seconds of the whole
    command, target <= 150 s. ``--quick`` runs 10 replications and multiplies by 10
    (labelled as extrapolated; it also multiplies the fixed start-up cost, so it overestimates).
``replications``
    20 replications of one variant (the default district, figures, events log and GIS files
    off) in one ``gridsim experiment``, over one ``gridsim run`` of the same settings: CPU
    ratio, target <= 2.5x.
``city4x``
    build + simulate of the city and of a 4x city (72,704 grids from the synthetic generator),
    each in a fresh process (this script with ``--child scale N``): CPU ratio 4x / 1x, target
    <= 4.5x, and the ratio of the two processes' peak RSS (``ru_maxrss``), target <= 4.5x.
``joblib``
    40 district replications (as ``replications``) with Hydra's joblib launcher on 2 workers
    over the basic (sequential) launcher: wall-time speedup, target >= 1.8x; CPU of both beside.
``lifecycle``
    issue 2's per-event target, restated per incident: ``simulate()`` of the default district
    run over the bare-SimPy model of the same lifecycle (``benchmarks/bare_lifecycle.py``), CPU
    per incident, target <= 3x; beside it the old per-event ratio of ``bench_run.py`` (cost per
    SimPy event against a bare timeout loop with as many events and processes, in its own
    interleaved rounds, timed here in CPU where ``bench_run.py`` times wall).

The environment of every command (and child): the place cache on disk
(``gridsim.place.scenario.PlaceCache``) in a folder of this benchmark, empty when it starts, so
that no figure depends on what an earlier benchmark or run left in ``~/.cache/gridsim``; the
figures that measure building (``city4x``) turn it off. Python's bytecode cache on, in a folder
of this benchmark (``PYTHONPYCACHEPREFIX``), as an installed package has it: a machine that sets
``PYTHONDONTWRITEBYTECODE`` (as this development machine does) would otherwise compile every
gridsim module in every process, about 0.15-0.2 s of CPU each; ``--no-bytecode`` keeps the
environment's setting. ``city_run`` gives the run with the place cache warm (a planner's second
run of the city, the figure judged) and cold (the first run after installing or changing
gridsim's place-building code) side by side.

How it measures. CPU is user + sys. A command runs as a child process: its CPU and peak RSS
are that child's ``wait4`` resource usage (its waited-for descendants included); this script
is a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so workers that outlive their parent
(joblib's loky workers) are reaped here and their CPU is added. In-process figures use
``time.process_time()``. The machine is shared: whenever two things are compared they run
alternately, A B A B ..., and each side keeps its best (least) CPU; the table says so.
Each command runs in a fresh temporary folder (nothing is skipped as done unless asked).
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench_run and bare_lifecycle, this script's neighbours

CITY = ["scenario=suining_city", "hazard=city_rainstorm"]
# output.gis=false: the GIS files (issue 13, about 0.4 s of CPU and 18 MB a city run) are off
# in a sweep as the figures are
QUIET = ["output.figures=false", "output.events_log=false", "output.gis=false",
         "output.progress=false"]

TARGETS = {
    "city_run_cpu_s": 4.0,
    "city_experiment_cpu_s": 150.0,
    "replications_ratio": 2.5,
    "city4x_cpu_ratio": 4.5,
    "city4x_rss_ratio": 4.5,
    "joblib_speedup": 1.8,
    "lifecycle_ratio": 3.0,
}
CASES = ("city_run", "city_experiment", "replications", "city4x", "joblib", "lifecycle")
CITY_CASES = ("city_run", "city_experiment", "city4x")

EXPERIMENT = """\
defaults:
  - config
  - _self_
hydra:
  searchpath:
    - pkg://gridsim.conf
  mode: MULTIRUN
  sweep:
    dir: multirun/bench
    subdir: ${{hydra.job.override_dirname}}
  sweeper:
    params:
{params}      replication: range(0,{runs})
output:
  events_log: false
  figures: false
  gis: false
  progress: false
experiment:
  name: bench
  metrics: [within_5min_share]
"""


# -- measuring a command -------------------------------------------------------------------------
@dataclasses.dataclass
class Proc:
    """One finished command: exit code, CPU (user + sys) and wall seconds, peak RSS, output."""

    code: int
    cpu_s: float
    wall_s: float
    rss_mb: float
    out: str
    err: str

    def failure(self) -> str | None:
        if self.code == 0:
            return None
        lines = [ln.strip() for ln in self.err.splitlines() if ln.strip()
                 and not ln.startswith("Set the environment variable HYDRA_FULL_ERROR")]
        return f"exit {self.code}: " + (lines or ["(no stderr)"])[-1][:200]


def _become_subreaper() -> bool:
    """Orphaned descendants (workers whose parent has exited) become our children (Linux)."""
    try:
        pr_set_child_subreaper = 36
        return ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_orphans(deadline_s: float = 60.0) -> float:
    """Wait for descendants re-parented to this process; their CPU seconds."""
    cpu = 0.0
    end = time.monotonic() + deadline_s
    while True:
        try:
            pid, _, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return cpu
        if pid == 0:  # some still run (loky workers notice their parent is gone within seconds)
            if time.monotonic() > end:
                sys.stderr.write("  (orphaned workers still running; their CPU is left out)\n")
                return cpu
            time.sleep(0.05)
            continue
        cpu += ru.ru_utime + ru.ru_stime


#: The environment the commands run in (see the module docstring): :func:`set_environment`.
ENV: dict[str, str] = {}


def set_environment(folder: Path, bytecode: bool) -> None:
    """The place cache in ``folder``/place, Python's bytecode cache in ``folder``/pyc (unless
    not ``bytecode``), for every command and child of this benchmark."""
    ENV.clear()
    ENV.update(os.environ, MPLBACKEND="Agg", GRIDSIM_CACHE=str(folder / "place"))
    if bytecode:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(folder / "pyc")


def run_command(cmd: Sequence[str], cwd: Path, **extra: str) -> Proc:
    """Run ``cmd`` in ``cwd`` (environment :data:`ENV` and ``extra``); its own resource usage
    (``wait4``), orphans' CPU added."""
    env = dict(ENV or os.environ, **extra)
    env.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(list(cmd), cwd=cwd, stdout=fo, stderr=fe, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu = ru.ru_utime + ru.ru_stime + _reap_orphans()
        fo.seek(0)
        fe.seek(0)
        return Proc(code=p.returncode, cpu_s=cpu, wall_s=wall, rss_mb=ru.ru_maxrss / 1024.0,
                    out=fo.read(), err=fe.read())


def gridsim_exe() -> str:
    """The console script of this interpreter (not a version manager's shim on the PATH,
    which costs a shell or two of its own), else the one on the PATH."""
    own = Path(sys.executable).with_name("gridsim")
    return str(own) if own.is_file() else (shutil.which("gridsim") or "gridsim")


def gridsim_run(overrides: Sequence[str], **extra: str) -> Proc:
    """``gridsim run overrides`` in a fresh folder, with Hydra's default run folder."""
    with tempfile.TemporaryDirectory(prefix="gridsim-bench-") as tmp:
        return run_command([gridsim_exe(), "run", *overrides], Path(tmp), **extra)


def gridsim_experiment(runs: int, params: Sequence[str] = (), extra: Sequence[str] = ()
                       ) -> tuple[Proc, int]:
    """``gridsim experiment`` of a temporary file sweeping ``replication=range(0,runs)`` (and
    single-valued ``params``, e.g. ``scenario: suining_city``) in a fresh folder: the command
    and how many runs' manifests say done."""
    text = EXPERIMENT.format(runs=runs, params="".join(f"      {p}\n" for p in params))
    with tempfile.TemporaryDirectory(prefix="gridsim-bench-") as tmp:
        folder = Path(tmp)
        (folder / "bench.yaml").write_text(text, encoding="utf-8")
        proc = run_command([gridsim_exe(), "experiment", "bench.yaml", *extra], folder)
        done = 0
        for path in (folder / "multirun" / "bench").rglob("manifest.json"):
            try:
                done += json.loads(path.read_text(encoding="utf-8")).get("status") == "done"
            except (OSError, ValueError):
                pass
        return proc, done


def alternate(rounds: int, sides: dict[str, Callable[[], Proc]], label: str
              ) -> dict[str, list[Proc]]:
    """Run the sides alternately ``rounds`` times (A B A B ...): every side's results."""
    out: dict[str, list[Proc]] = {k: [] for k in sides}
    for r in range(rounds):
        for name, fn in sides.items():
            t0 = time.perf_counter()
            p = fn()
            out[name].append(p)
            note = p.failure() or f"cpu {p.cpu_s:.2f} s, wall {p.wall_s:.2f} s"
            _note(f"  {label} round {r + 1}/{rounds} {name}: {note} "
                  f"({time.perf_counter() - t0:.0f} s)")
    return out


def best(procs: list[Proc]) -> Proc:
    """The run with the least CPU among those that succeeded (else the first)."""
    ok = [p for p in procs if p.code == 0]
    return min(ok, key=lambda p: p.cpu_s) if ok else procs[0]


def _note(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


# -- in-process helpers (children) ----------------------------------------------------------------
def compose_settings(overrides: list[str]):  # type: ignore[no-untyped-def]
    """gridsim's settings for ``gridsim run overrides`` (``bench_run.compose_settings``: this
    script and its fallbacks below also measure a checkout from before issue 10, for a
    before/after in the same conditions)."""
    import bench_run

    return bench_run.compose_settings(overrides)[0]


def _scaled_city(scale: int):  # type: ignore[no-untyped-def]
    """The city rainstorm settings with the city ``scale`` times larger: grids, land, people,
    commanders, monitoring points and stations times ``scale`` (part C's helper
    ``gridsim.place.synthetic.city`` when it exists). ``(settings, how)``."""
    base = compose_settings([*CITY, *QUIET])
    if scale == 1:
        return base, "scenarios/suining_city.yaml"
    try:
        from gridsim.place.synthetic import city  # type: ignore[attr-defined]
    except ImportError:
        city = None
    if city is not None:
        return (dataclasses.replace(base, scenario=city(scale, base=base.scenario)),
                f"gridsim.place.synthetic.city({scale}) of the composed suining_city")
    sc = base.scenario
    ov = [f"scenario.urban_grids={sc.urban_grids * scale}",
          f"scenario.rural_grids={sc.rural_grids * scale}",
          f"scenario.rural_land_km2={sc.rural_land_km2 * scale}",
          f"scenario.rural_population={sc.rural_population * scale}",
          f"scenario.monitoring_points={sc.monitoring_points * scale}",
          f"scenario.people.commanders_total={sc.people.commanders_total * scale}"]
    ov += [f"scenario.departments.{d}.stations={c.stations * scale}"
           for d, c in sc.departments.items()]
    return compose_settings([*CITY, *QUIET, *ov]), "overrides: " + " ".join(ov)


def child_scale(scale: int) -> dict:
    """build + simulate of the city rainstorm at ``scale``, in this (fresh) process."""
    from gridsim.engine.simulation import build, simulate

    settings, how = _scaled_city(scale)
    c0 = time.process_time()
    scenario = build(settings)
    c1 = time.process_time()
    res = simulate(settings, scenario)
    c2 = time.process_time()
    return {"scale": scale, "how": how, "grids": int(scenario.n_grids),
            "population": int(scenario.region.grids.population.sum()),
            "incidents": len(res.incidents), "build_cpu_s": c1 - c0,
            "simulate_cpu_s": c2 - c1, "peak_rss_mb":
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def near_times(settings, scenario):  # type: ignore[no-untyped-def]
    """The mutual-aid near times (CSR rows) of a run: elaborated from the scenario and the
    response settings (``gridsim.engine.travel``), or, in an older checkout, the scenario's."""
    try:
        from gridsim.engine.travel import travel_for
    except ImportError:
        return scenario.near
    return travel_for(scenario, settings.response).near


def lifecycle_inputs(settings, scenario, res):  # type: ignore[no-untyped-def]
    """The bare model's inputs from a gridsim run: its grids' base rates, rosters, near
    times, number of incidents, duration and mean handling time."""
    import bare_lifecycle
    import numpy as np

    from gridsim.engine.hazards import catalogue_from_config
    from gridsim.model.rates import base_rates_per_day

    catalogue = catalogue_from_config(settings.catalogue)
    grids = scenario.region.grids
    weight = sum(base_rates_per_day(h.rate_per_unit_day, h.exposure, grids)
                 for h in catalogue.hazards)
    handling = np.array([i.resolved_s - i.handling_start_s for i in res.incidents])
    handling = handling[np.isfinite(handling)]
    near = near_times(settings, scenario)
    return bare_lifecycle.Lifecycle(
        rate_weight=np.asarray(weight, dtype=float),
        responders=np.diff(np.asarray(scenario.roster.by_grid_indptr)),
        near_indptr=near.indptr, near_indices=near.indices, near_time_s=near.time_s,
        n_incidents=len(res.incidents), duration_s=float(res.duration_s),
        handling_mean_s=float(handling.mean()))


def child_lifecycle(rounds: int) -> dict:
    """simulate() of the default district run against the bare lifecycle model, alternately,
    CPU per incident; then bench_run's per-event figures (its own rounds)."""
    import bare_lifecycle
    import bench_run

    from gridsim.engine.simulation import build, simulate

    settings = compose_settings(list(bench_run.DEFAULT_OVERRIDES))
    scenario = build(settings)
    res = simulate(settings, scenario)  # warm-up: imports, caches
    lc = lifecycle_inputs(settings, scenario, res)
    bare_lifecycle.run(lc, seed=0)
    sim_cpu: list[float] = []
    bare_cpu: list[float] = []
    bare_runs = []
    per_round = 5  # a bare run is short: several tries a round
    for k in range(rounds):
        c0 = time.process_time()
        r = simulate(settings, scenario)
        sim_cpu.append(time.process_time() - c0)
        for j in range(per_round):
            c0 = time.process_time()
            b = bare_lifecycle.run(lc, seed=per_round * k + j + 1)
            bare_cpu.append(time.process_time() - c0)
            bare_runs.append(b)
    assert len(r.incidents) == lc.n_incidents  # the same run each time
    ev = bench_run.child_events(3, clock=time.process_time, breakdown=False)
    g_us = ev["sim_s"] / ev["events"] * 1e6
    b_us = ev["bare_s"] / ev["bare_events"] * 1e6
    return {
        "incidents": lc.n_incidents, "events": int(r.events_processed),
        "responders_per_incident": float(statistics.mean(i.responders for i in r.incidents)),
        "handling_mean_s": lc.handling_mean_s, "rounds": rounds, "per_round": per_round,
        "sim_cpu_best_s": min(sim_cpu), "sim_cpu_median_s": statistics.median(sim_cpu),
        "bare_cpu_best_s": min(bare_cpu), "bare_cpu_median_s": statistics.median(bare_cpu),
        "bare_events": statistics.mean(b.events for b in bare_runs),
        "bare_served_share": statistics.mean(b.served / b.incidents for b in bare_runs),
        "bare_waited": sum(b.waited for b in bare_runs),
        "old_ratio": g_us / b_us, "old_gridsim_us": g_us, "old_bare_us": b_us,
        "old_events": ev["events"],
    }


def child_phases(_: int) -> dict:
    """Where the CPU of a whole ``gridsim run`` of the city goes, in this (fresh) process:
    ``gridsim.app.cli.main`` run in process, ``time.process_time`` read where ``simulate()``
    (the outer call: its counterfactual pass is inside it) and ``write_outputs`` start and
    end. Phases: the interpreter's start and the command's imports (before ``main``), the
    command before the model (composition, check, Hydra's job, the run folder and the
    engine's import on first use), ``simulate()`` (the scenario read from the place cache
    included), the run's files (``write_outputs``: matplotlib's import included), the rest
    (manifest, summary table)."""
    import resource

    at_start = resource.getrusage(resource.RUSAGE_SELF)
    start = at_start.ru_utime + at_start.ru_stime  # the interpreter's start and this script
    c0 = time.process_time()
    from gridsim.app import cli
    from gridsim.engine import simulation
    from gridsim.output import files

    marks: dict[str, float] = {}
    depth = [0]
    simulate, write_outputs = simulation.simulate, files.write_outputs

    def timed_simulate(*args: object, **kwargs: object) -> object:
        depth[0] += 1
        if depth[0] == 1:
            marks["sim0"] = time.process_time()
        try:
            return simulate(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                marks["sim1"] = time.process_time()

    def timed_write(*args: object, **kwargs: object) -> object:
        marks["out0"] = time.process_time()
        try:
            return write_outputs(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            marks["out1"] = time.process_time()

    simulation.simulate = timed_simulate  # type: ignore[assignment]
    files.write_outputs = timed_write  # type: ignore[assignment]
    c1 = time.process_time()
    with tempfile.TemporaryDirectory(prefix="gridsim-bench-") as tmp:
        code = cli.main(["run", *CITY, f"hydra.run.dir={Path(tmp) / 'run'}",
                         "output.progress=false"])
    c2 = time.process_time()
    if code or set(marks) != {"sim0", "sim1", "out0", "out1"}:
        raise SystemExit(f"the run failed (exit {code}) or did not simulate")
    return {"start_s": start, "imports_s": c1 - c0,
            "before_model_s": marks["sim0"] - c1, "simulate_s": marks["sim1"] - marks["sim0"],
            "between_s": marks["out0"] - marks["sim1"],
            "files_s": marks["out1"] - marks["out0"], "after_s": c2 - marks["out1"],
            "total_s": start + c2 - c0}


def child_main(case: str, arg: int) -> int:
    if case == "scale":
        out = child_scale(arg)
    elif case == "lifecycle":
        out = child_lifecycle(arg)
    elif case == "phases":
        out = child_phases(arg)
    else:
        raise SystemExit(f"unknown child case {case!r}")
    print(json.dumps(out))
    return 0


def spawn_child(case: str, arg: int, **extra: str) -> tuple[Proc, dict | None]:
    """This script as ``--child case arg`` in a fresh process: the process and its JSON."""
    with tempfile.TemporaryDirectory(prefix="gridsim-bench-") as tmp:
        p = run_command([sys.executable, str(Path(__file__).resolve()), "--child", case,
                         str(arg)], Path(tmp), **extra)
    if p.code != 0:
        return p, None
    return p, json.loads(p.out.strip().splitlines()[-1])


# -- the figures ---------------------------------------------------------------------------------
@dataclasses.dataclass
class Row:
    figure: str
    measured: str
    target: str = ""
    met: bool | None = None  # None: no target (context) or not measured

    def line(self) -> str:
        met = {True: "yes", False: "NO", None: ""}[self.met]
        return f"{self.figure:<62} {self.measured:>24}  {self.target:<10} {met}"


class Bench:
    def __init__(self, ns: argparse.Namespace) -> None:
        self.ns = ns
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def add(self, figure: str, measured: str, target: str = "", met: bool | None = None) -> None:
        row = Row(figure, measured, target, met)
        self.rows.append(row)
        _note("  -> " + row.line().rstrip())

    def failed(self, figure: str, target: str, proc: Proc) -> None:
        self.add(figure, "failed", target, False)
        self.notes.append(f"{figure}: {proc.failure()}")
        sys.stderr.write(proc.err[-3000:])

    # each case ----------------------------------------------------------------------------
    def city_run(self) -> None:
        rounds = 1 if self.ns.quick else 3
        # the first run fills the place cache (it is a cold run too, kept with the cold ones)
        first = gridsim_run(CITY)
        res = alternate(rounds, {
            "warm": lambda: gridsim_run(CITY),
            "cold": lambda: gridsim_run(CITY, GRIDSIM_CACHE="off"),
        }, "city_run")
        p, cold = best(res["warm"]), best([first, *res["cold"]])
        name = (f"suining_city rainstorm run, whole process (CPU, place cache warm, best of "
                f"{rounds})")
        t = TARGETS["city_run_cpu_s"]
        if p.code:
            return self.failed(name, f"<= {t:g} s", p)
        self.add(name, f"{p.cpu_s:.2f} s", f"<= {t:g} s", p.cpu_s <= t)
        self.add("  the same, wall / peak RSS", f"{p.wall_s:.2f} s / {p.rss_mb:.0f} MB")
        self.add(f"  the same, place cache cold (CPU, best of {rounds + 1})",
                 "failed" if cold.code else f"{cold.cpu_s:.2f} s")
        # where the warm run's CPU goes (the in-process phases of the least of `rounds` runs)
        phases = [spawn_child("phases", 0) for _ in range(rounds)]
        done = [out for proc, out in phases if out is not None]
        if not done:
            self.add("  where it goes (CPU)", "failed")
            self.notes.append(f"phases: {phases[0][0].failure()}")
        else:
            ph = min(done, key=lambda o: o["total_s"])
            self.add(f"  where it goes (CPU, in process, least of {rounds}): total",
                     f"{ph['total_s']:.2f} s")
            for key, label in (("start_s", "interpreter start"), ("imports_s", "imports"),
                               ("before_model_s", "composition, check, job, run folder"),
                               ("simulate_s", "simulate() (its counterfactual pass inside)"),
                               ("files_s", "the run's files and figures"),
                               ("after_s", "the rest (manifest, summary table)")):
                self.add(f"    {label}", f"{ph[key]:.2f} s")
        # a process that starts and skips that run (done before, same config)
        with tempfile.TemporaryDirectory(prefix="gridsim-bench-") as tmp:
            folder = Path(tmp) / "run"
            first = run_command([gridsim_exe(), "run", *CITY, f"hydra.run.dir={folder}"],
                                Path(tmp))
            again = run_command([gridsim_exe(), "run", *CITY, f"hydra.run.dir={folder}"],
                                Path(tmp))
        if first.code or again.code:
            self.add("  start and skip the finished run (CPU)", "failed")
            self.notes.append(f"skip run: {(first.failure() or again.failure())}")
        elif "skipped" not in again.out:
            self.add("  start and skip the finished run (CPU)", f"{again.cpu_s:.2f} s (ran again)")
        else:
            self.add("  start and skip the finished run (CPU)", f"{again.cpu_s:.2f} s")

    def city_experiment(self) -> None:
        runs = 10 if self.ns.quick else 100
        factor = 100 // runs
        p, done = gridsim_experiment(runs, ["scenario: suining_city", "hazard: city_rainstorm"])
        _note(f"  city_experiment {runs} runs: cpu {p.cpu_s:.1f} s, wall {p.wall_s:.1f} s, "
              f"{done} done")
        t = TARGETS["city_experiment_cpu_s"]
        name = ("100-replication city experiment (CPU)" if factor == 1 else
                f"100-replication city experiment (CPU; {runs} runs x {factor}, extrapolated)")
        if p.code or done != runs:
            if not p.code:
                p.code, p.err = 1, p.err + f"\nonly {done} of {runs} runs done"
            return self.failed(name, f"<= {t:g} s", p)
        cpu = p.cpu_s * factor
        self.add(name, f"{cpu:.1f} s", f"<= {t:g} s", cpu <= t)
        if factor != 1:
            self.notes.append(f"city experiment: {runs} runs measured, x {factor}; the start-up "
                              f"and the scenario build are multiplied too (an upper estimate)")
        self.add(f"  the same, per run ({runs} runs: CPU / wall)",
                 f"{p.cpu_s / runs:.2f} s / {p.wall_s / runs:.2f} s")

    def replications(self) -> None:
        rounds = 1 if self.ns.quick else 2
        res = alternate(rounds, {
            "single run": lambda: gridsim_run(QUIET),
            "20 replications": lambda: self._experiment_checked(20),
        }, "replications")
        one, twenty = best(res["single run"]), best(res["20 replications"])
        t = TARGETS["replications_ratio"]
        name = f"20 district replications of one variant / 1 run (CPU, best of {rounds})"
        for p in (one, twenty):
            if p.code:
                return self.failed(name, f"<= {t:g}x", p)
        ratio = twenty.cpu_s / one.cpu_s
        self.add(name, f"{ratio:.2f}x", f"<= {t:g}x", ratio <= t)
        self.add("  the same: 20 replications / 1 run (CPU)",
                 f"{twenty.cpu_s:.2f} s / {one.cpu_s:.2f} s")

    def _experiment_checked(self, runs: int, extra: Sequence[str] = ()) -> Proc:
        p, done = gridsim_experiment(runs, (), extra)
        if p.code == 0 and done != runs:
            p.code, p.err = 1, p.err + f"\nonly {done} of {runs} runs done"
        return p

    def city4x(self) -> None:
        rounds = 1 if self.ns.quick else 2
        got: dict[int, list[dict]] = {1: [], 4: []}
        procs: dict[int, list[Proc]] = {1: [], 4: []}
        for r in range(rounds):
            for scale in (1, 4):
                p, out = spawn_child("scale", scale, GRIDSIM_CACHE="off")  # builds, not reads
                procs[scale].append(p)
                if out is not None:
                    got[scale].append(out)
                note = p.failure() or (f"build {out['build_cpu_s']:.2f} s + simulate "
                                       f"{out['simulate_cpu_s']:.2f} s CPU, "
                                       f"{out['peak_rss_mb']:.0f} MB")
                _note(f"  city4x round {r + 1}/{rounds} {scale}x: {note}")
        name = f"4x city / city: build + simulate (CPU, best of {rounds})"
        t = TARGETS["city4x_cpu_ratio"]
        for scale in (1, 4):
            if not got[scale]:
                return self.failed(name, f"<= {t:g}x", procs[scale][0])
        one = min(got[1], key=lambda o: o["build_cpu_s"] + o["simulate_cpu_s"])
        four = min(got[4], key=lambda o: o["build_cpu_s"] + o["simulate_cpu_s"])
        c1 = one["build_cpu_s"] + one["simulate_cpu_s"]
        c4 = four["build_cpu_s"] + four["simulate_cpu_s"]
        self.add(name, f"{c4 / c1:.2f}x", f"<= {t:g}x", c4 / c1 <= t)
        rss1 = min(o["peak_rss_mb"] for o in got[1])
        rss4 = min(o["peak_rss_mb"] for o in got[4])
        tr = TARGETS["city4x_rss_ratio"]
        self.add("4x city / city: peak RSS of the process (least of the rounds)",
                 f"{rss4 / rss1:.2f}x", f"<= {tr:g}x", rss4 / rss1 <= tr)
        for o, c in ((one, c1), (four, c4)):
            self.add(f"  {o['scale']}x: grids / incidents",
                     f"{o['grids']:,} / {o['incidents']:,}")
            self.add(f"  {o['scale']}x: build + simulate (CPU) / peak RSS",
                     f"{o['build_cpu_s']:.2f} + {o['simulate_cpu_s']:.2f} = {c:.2f} s / "
                     f"{o['peak_rss_mb']:.0f} MB")
        self.notes.append(f"4x city config: {four['how']}")

    def joblib(self) -> None:
        runs = 40
        load0 = os.getloadavg()[0]
        res = alternate(1, {
            "sequential": lambda: self._experiment_checked(runs),
            "joblib x2": lambda: self._experiment_checked(
                runs, ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]),
        }, "joblib")
        seq, par = res["sequential"][0], res["joblib x2"][0]
        t = TARGETS["joblib_speedup"]
        name = f"joblib 2 workers over sequential, {runs} district replications (wall)"
        for p in (seq, par):
            if p.code:
                return self.failed(name, f">= {t:g}x", p)
        speedup = seq.wall_s / par.wall_s
        self.add(name, f"{speedup:.2f}x", f">= {t:g}x", speedup >= t)
        self.add("  wall: sequential / joblib", f"{seq.wall_s:.1f} s / {par.wall_s:.1f} s")
        self.add("  CPU: sequential / joblib (workers included)",
                 f"{seq.cpu_s:.1f} s / {par.cpu_s:.1f} s")
        self.add("  CPU joblib / sequential", f"{par.cpu_s / seq.cpu_s:.2f}x")
        # a speedup needs idle cores: with others' work on the machine there are none to gain
        self.add("  load average (1 min) before / after", f"{load0:.1f} / "
                 f"{os.getloadavg()[0]:.1f}", f"{os.cpu_count()} CPUs")

    def lifecycle(self) -> None:
        rounds = 8 if self.ns.quick else 20
        p, out = spawn_child("lifecycle", rounds)
        t = TARGETS["lifecycle_ratio"]
        name = "per incident: simulate() / bare-SimPy lifecycle (CPU, best)"
        if out is None:
            return self.failed(name, f"<= {t:g}x", p)
        n = out["incidents"]
        ratio = out["sim_cpu_best_s"] / out["bare_cpu_best_s"]
        self.add(name, f"{ratio:.1f}x", f"<= {t:g}x", ratio <= t)
        self.add("  the same, medians",
                 f"{out['sim_cpu_median_s'] / out['bare_cpu_median_s']:.1f}x")
        self.add("  per incident: gridsim / bare (CPU, best)",
                 f"{out['sim_cpu_best_s'] / n * 1e6:.0f} us / "
                 f"{out['bare_cpu_best_s'] / n * 1e6:.0f} us")
        self.add("  incidents / SimPy events: gridsim / bare",
                 f"{n} / {out['events']:,} / {out['bare_events']:.0f}")
        self.add("  responders per incident: gridsim / bare",
                 f"{out['responders_per_incident']:.2f} / 1")
        self.add("old per-event ratio (bench_run.py's, in CPU: per SimPy event)",
                 f"{out['old_ratio']:.1f}x", "<= 2x", out["old_ratio"] <= 2.0)
        self.add("  per event: gridsim / bare timeout loop",
                 f"{out['old_gridsim_us']:.2f} us / {out['old_bare_us']:.2f} us")
        self.notes.append(
            f"lifecycle: {out['rounds']} rounds of 1 simulate() and {out['per_round']} bare "
            f"runs, best and median CPU of each side; the bare model served "
            f"{out['bare_served_share']:.1%} of its incidents before the end "
            f"({out['bare_waited']} waits); mean handling {out['handling_mean_s']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer rounds; the city experiment runs 10 replications x 10")
    ap.add_argument("--skip-city", action="store_true",
                    help=f"leave out the city-size figures ({', '.join(CITY_CASES)})")
    ap.add_argument("--only", action="append", choices=CASES, metavar="NAME",
                    help=f"only this figure (repeatable): {', '.join(CASES)}")
    ap.add_argument("--no-bytecode", action="store_true",
                    help="keep the environment's PYTHONDONTWRITEBYTECODE (see the docstring)")
    ap.add_argument("--child", nargs=2, metavar=("CASE", "ARG"), help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    if ns.child:
        return child_main(ns.child[0], int(ns.child[1]))
    caches = tempfile.TemporaryDirectory(prefix="gridsim-bench-caches-")
    set_environment(Path(caches.name), bytecode=not ns.no_bytecode)
    if not ns.no_bytecode:  # the bytecode cache filled once (figures and the engine included)
        _note("warm-up: a 1-hour district run with figures (fills the bytecode cache)")
        gridsim_run(["duration_h=1", "output.progress=false"])
    cases = [c for c in CASES if (not ns.only or c in ns.only)
             and not (ns.skip_city and c in CITY_CASES)]
    if not _become_subreaper():
        _note("note: not a child subreaper; CPU of workers that outlive their parent is lost")
    import gridsim

    head = (f"gridsim {gridsim.__version__} pipeline benchmark · Python "
            f"{platform.python_version()} · {platform.machine()} · {os.cpu_count()} CPUs · "
            f"load {os.getloadavg()[0]:.1f}" + (" · --quick" if ns.quick else ""))
    _note(head)
    bench = Bench(ns)
    t0 = time.perf_counter()
    for case in cases:
        _note(f"[{case}]")
        getattr(bench, case)()
    print(head)
    print("CPU is user + sys; compared sides run alternately, best (least CPU) of each kept.")
    print(f"{'figure':<62} {'measured':>24}  {'target':<10} met?")
    for row in bench.rows:
        print(row.line().rstrip())
    for note in bench.notes:
        print(f"note: {note}")
    judged = [r for r in bench.rows if r.met is not None and not r.figure.startswith("old ")]
    met = sum(1 for r in judged if r.met)
    missed = [r.figure.split(" (")[0] for r in judged if not r.met]
    print(f"summary: {met} of {len(judged)} targets met"
          + (f"; missed: {'; '.join(missed)}" if missed else "")
          + f" (benchmark took {time.perf_counter() - t0:.0f} s; load "
            f"{os.getloadavg()[0]:.1f} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
