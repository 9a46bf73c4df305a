"""Benchmark of ``gridsim experiment``: a 200-run sweep sequential against joblib, and the
per-run overhead of each launcher.

    python benchmarks/bench_sweep.py                 # everything (about 10 minutes on 2 cores)
    python benchmarks/bench_sweep.py --runs 40       # a shorter main sweep
    python benchmarks/bench_sweep.py --skip-main     # only the launcher overheads
    python benchmarks/bench_sweep.py --launchers basic joblib

1. The main sweep: the default scenario (the 400-grid district with its rainstorm) swept over
   ``--runs`` replications, each run 24 simulated hours without figures, events log or progress
   lines (``duration_h=24 output.figures=false output.events_log=false``), once with Hydra's
   basic launcher (sequential) and once with its joblib launcher on 2 workers
   (``hydra/launcher=joblib hydra.launcher.n_jobs=2``). The figure is the speedup of the wall
   times.
2. The overhead of each launcher on a small sweep (``--small`` runs of the same kind):
   ``(sweep wall - sum of run walls) / runs``, where a run's wall (``wall_s`` of its manifest)
   is its simulation and the writing of its files, and the sweep wall is the whole command
   (interpreter start, composing and checking every job, the launcher, the report excluded).
   For a launcher with several workers the sum of run walls is spread over its slots (its
   workers, at most the CPUs), so the table gives also
   ``(sweep wall * slots - sum of run walls) / runs``: the worker time spent on anything but
   simulating, per run.

Every sweep runs the installed ``gridsim`` command in a fresh temporary folder (nothing is
skipped as done). The Ray launcher starts a Ray of its own on this machine (``ray.init()``
without an address); its start-up is part of its overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
      replication: range(0,{runs})
duration_h: 24
output:
  events_log: false
  figures: false
  progress: false
experiment:
  name: bench
"""

LAUNCHERS: dict[str, tuple[list[str], int]] = {  # overrides, parallel slots
    "basic": ([], 1),
    "joblib": (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], 2),
    "submitit_local": (["hydra/launcher=submitit_local"], 0),  # 0: a process per run, at once
    "ray": (["hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2"], 2),
}


def sweep(runs: int, overrides: list[str]) -> tuple[float, list[float], int]:
    """Run a sweep of ``runs`` runs in a fresh folder: (wall s, run walls, exit code)."""
    exe = shutil.which("gridsim") or str(Path(sys.executable).with_name("gridsim"))
    with tempfile.TemporaryDirectory(prefix="gridsim-bench-") as tmp:
        folder = Path(tmp)
        (folder / "bench.yaml").write_text(EXPERIMENT.format(runs=runs), encoding="utf-8")
        env = dict(os.environ, MPLBACKEND="Agg", RAY_USAGE_STATS_ENABLED="0")
        t0 = time.perf_counter()
        proc = subprocess.run([exe, "experiment", "bench.yaml", *overrides], cwd=folder,
                              env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        walls = []
        for path in (folder / "multirun" / "bench").rglob("manifest.json"):
            m = json.loads(path.read_text(encoding="utf-8"))
            if m.get("status") == "done":
                walls.append(float(m["wall_s"]))
        if proc.returncode != 0 or len(walls) != runs:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        return wall, walls, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=200, help="runs of the main sweep (200)")
    ap.add_argument("--small", type=int, default=10, help="runs of the overhead sweeps (10)")
    ap.add_argument("--skip-main", action="store_true", help="only the launcher overheads")
    ap.add_argument("--launchers", nargs="*", default=list(LAUNCHERS), choices=list(LAUNCHERS))
    ns = ap.parse_args()
    print(f"gridsim experiment benchmark: default scenario (district, 400 grids, rainstorm), "
          f"duration_h=24, output.figures=false, output.events_log=false; "
          f"{os.cpu_count()} CPUs")
    if not ns.skip_main:
        print(f"\n1. a {ns.runs}-run sweep (replications of the default scenario)")
        results = {}
        for name in ("basic", "joblib"):
            wall, walls, code = sweep(ns.runs, LAUNCHERS[name][0])
            results[name] = wall
            print(f"  {name:<8} {' '.join(LAUNCHERS[name][0]) or '(sequential)':<48} "
                  f"wall {wall:7.1f} s  ({wall / ns.runs:.2f} s per run; runs simulate "
                  f"{sum(walls) / max(len(walls), 1):.2f} s each; {len(walls)} done, exit {code})")
        print(f"  speedup joblib (2 workers) / sequential: "
              f"{results['basic'] / results['joblib']:.2f}x")
    print(f"\n2. per-run overhead of each launcher ({ns.small}-run sweeps)")
    print(f"  {'launcher':<15} {'wall s':>8} {'sum runs s':>11} {'slots':>6} "
          f"{'(wall-sum)/run s':>17} {'(wall*slots-sum)/run s':>23}")
    for name in ns.launchers:
        overrides, slots = LAUNCHERS[name]
        wall, walls, code = sweep(ns.small, overrides)
        slots = min(slots or ns.small, os.cpu_count() or 1)  # worker slots that can run
        total = sum(walls)
        note = "" if code == 0 and len(walls) == ns.small else f"  ({len(walls)} done, exit {code})"
        print(f"  {name:<15} {wall:8.1f} {total:11.1f} {slots:6d} "
              f"{(wall - total) / ns.small:17.2f} {(wall * slots - total) / ns.small:23.2f}"
              f"{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
