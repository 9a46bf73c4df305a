"""CPU seconds of the id pre-check of a scenario folder, beside loading the folder.

    python benchmarks/bench_folder_ids.py [--repeat N] [--scenario NAME]

``--scenario`` (default ``suining_city``: 18,176 grids) is built once and exported as a
scenario folder (``gridsim scenario export``) to a temporary folder. Then, ``--repeat`` times
and interleaved (the machine is shared), each timed with ``time.process_time`` (user + sys),
the best (least) time kept:

* ``folder_ids`` uncached: what the pre-check reads (scenario.yaml and the grids' properties;
  :mod:`gridsim.place.folder.ids`), once per process;
* ``folder_ids`` cached: every later check of the same files in the process (a sweep's jobs);
* ``folder_id_errors``: the whole check of a run config (hazard, drill; cached tables);
* ``validate_folder``: the whole folder read and checked (what a run's load costs at least),
  for scale.

Prints one table, no pass or fail.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _best(fn: Callable[[], object], before: Callable[[], None] | None = None,
          repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        if before is not None:
            before()
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scenario", default="suining_city")
    args = ap.parse_args()

    from gridsim.app.hydra_app import compose_settings
    from gridsim.app.id_checks import folder_id_errors
    from gridsim.place.folder import export_scenario, validate_folder
    from gridsim.place.folder import ids as ids_module
    from gridsim.place.scenario import build_scenario

    settings, _ = compose_settings([f"scenario={args.scenario}", "hazard=calm",
                                    "output.progress=false", "output.figures=false"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / args.scenario
        export_scenario(build_scenario(settings.scenario), settings.scenario, folder)
        grids_mb = (folder / "grids.geojson").stat().st_size / 1e6
        files, _ = compose_settings([f"scenario={folder}", "output.progress=false",
                                     "output.figures=false"])
        ids = ids_module.folder_ids(folder)
        assert ids is not None and ids.n_grids == settings.scenario.urban_grids + \
            settings.scenario.rural_grids + (settings.scenario.compounds.design.grids
                                             if settings.scenario.compounds.count > 0 else 0)
        rows = [
            ("folder_ids, uncached", _best(lambda: ids_module.folder_ids(folder),
                                           ids_module._READ.clear, args.repeat)),
            ("folder_ids, cached", _best(lambda: ids_module.folder_ids(folder),
                                         repeat=args.repeat)),
            ("folder_id_errors (run config)", _best(lambda: folder_id_errors(files),
                                                    repeat=args.repeat)),
            ("validate_folder (the whole folder)", _best(lambda: validate_folder(folder),
                                                         repeat=max(1, args.repeat // 3))),
        ]
    print(f"{args.scenario}: {ids.n_grids:,} grids, {ids.n_townships:,} townships, "
          f"grids.geojson {grids_mb:.1f} MB")
    for name, cpu in rows:
        print(f"  {name:<36} {cpu:8.3f} s CPU")


if __name__ == "__main__":
    main()
