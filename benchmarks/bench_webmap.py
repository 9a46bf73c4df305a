"""CPU seconds and bytes of a run's interactive map (map.html) and report (report.html).

    python benchmarks/bench_webmap.py [--scenario suining_city] [--hazard city_rainstorm]
                                      [--repeat N]

One run is simulated and its files written (figures on: grids.csv, grids.geojson,
grid_modes.csv, the PNGs); then, ``--repeat`` times, the map's data are read back from the
folder (:func:`gridsim.output.webmap.map_from_run`), the page written
(:func:`~gridsim.output.webmap.write_map`) and the whole of
:func:`gridsim.output.run_report.write_run_pages` run. Each CPU time (``time.process_time``) is
the best of the repeats (the machine is shared). Prints the times, the pages' sizes and the
number of mode changes; no pass or fail.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _best(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="suining_city")
    ap.add_argument("--hazard", default="city_rainstorm")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from gridsim.app.hydra_app import compose_settings
    from gridsim.engine.simulation import simulate
    from gridsim.output.files import _TABLE, write_outputs
    from gridsim.output.run_report import REPORT_FILE, write_run_pages
    from gridsim.output.webmap import MAP_FILE, map_from_run, write_map

    settings, _ = compose_settings([f"scenario={args.scenario}", f"hazard={args.hazard}",
                                    "output.progress=false"])
    result = simulate(settings)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        summary = write_outputs(result, folder, "bench")
        data = map_from_run(folder)
        assert data is not None
        read = _best(args.repeat, lambda: map_from_run(folder))
        page = Path(tmp) / "map_only.html"
        write = _best(args.repeat, lambda: write_map(data, page, title="bench"))
        pages = _best(args.repeat, lambda: write_run_pages(result, folder, summary, _TABLE))
        changes = 0 if data.changes is None else len(data.changes[0])
        print(f"{args.scenario} / {args.hazard}: {data.n:,} grids, {changes:,} mode changes, "
              f"outlines from {data.source}")
        print(f"  map_from_run     {read:6.3f} s CPU")
        print(f"  write_map        {write:6.3f} s CPU")
        print(f"  write_run_pages  {pages:6.3f} s CPU (grid_modes.csv, map.html, report.html)")
        print(f"  {MAP_FILE:<16} {(folder / MAP_FILE).stat().st_size / 1e6:6.2f} MB")
        print(f"  {REPORT_FILE:<16} {(folder / REPORT_FILE).stat().st_size / 1e6:6.2f} MB")


if __name__ == "__main__":
    main()
