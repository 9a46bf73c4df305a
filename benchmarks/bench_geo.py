"""CPU seconds of a city run's GIS files: grids.geojson, grids.gpkg and the summary's CRS keys.

    python benchmarks/bench_geo.py [--repeat N] [--scenario NAME] [--hours H] [--map]

One short run of ``--scenario`` (default ``suining_city``: 18,176 grids; ``hazard=calm``,
``--hours`` simulated hours: the GIS files' cost depends on the grids, not on the incidents) is
simulated once; then, ``--repeat`` times and interleaved (the machine is shared), each piece
of :mod:`gridsim.output.geo` is timed with ``time.process_time`` (user + sys) and the best
(least) time kept:

* ``grids.geojson`` text (squares of the grids' areas, as a synthetic scenario has), and
  written (atomically) to a temporary folder;
* the same with the region given real polygons (``Region.shapes``: the squares, clockwise, so
  that every ring is re-ordered to the right-hand rule: the costliest path);
* ``grids.geojson`` text as a run makes it (the cells' texts shared with grids.csv, which has
  made them already);
* ``grids.gpkg`` (written by hand through sqlite3), and apart its SQLite R-tree: packed as
  gridsim packs it, and for comparison filled by one INSERT per grid (SQLite's own R*-tree
  insertion);
* ``write_geo``: both files as a run writes them (cells' texts shared);
* ``crs_fields`` (summary.json's ``crs``, ``centre_lon``, ``centre_lat``);
* the CPU of a fresh Python process importing ``sqlite3`` (what grids.gpkg needs now) and
  ``pyogrio`` (what its GDAL writer needed, with geopandas and pandas when installed), less
  that of a process importing nothing (each the best of ``--repeat`` processes);
* ``--map``: ``gridsim scenario map`` of the city with polygons (18,176 compound paths,
  edges of width 0) and, beside it, as the raster of squares (once each: a second apiece).

Prints one table, no pass or fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scenario", default="suining_city")
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--map", action="store_true", help="also time the city map both ways")
    args = ap.parse_args()

    import numpy as np

    from gridsim.app.hydra_app import compose_settings
    from gridsim.csvtext import csv_column
    from gridsim.engine.simulation import build, simulate
    from gridsim.model.region import GridShapes
    from gridsim.output import geo
    from gridsim.output.metrics import GRID_FIELDS, grid_columns
    from gridsim.place.lonlat import square_shapes

    settings, _ = compose_settings([f"scenario={args.scenario}", "hazard=calm",
                                    f"duration_h={args.hours}", "output.progress=false",
                                    "output.figures=false"])
    result = simulate(settings, build(settings))
    region = result.scenario.region
    columns = grid_columns(result)
    sq = square_shapes(region.grids)
    # the same squares clockwise: every ring reversed (position order within each ring)
    ring_of = np.repeat(np.arange(sq.n_rings), np.diff(sq.ring_ptr))
    idx = sq.ring_ptr[:-1][ring_of] + sq.ring_ptr[1:][ring_of] - 1 - np.arange(len(sq.xy))
    cw = GridShapes(ring_ptr=sq.ring_ptr, ring_grid=sq.ring_grid, ring_hole=sq.ring_hole,
                    xy=sq.xy[idx])
    with_polygons = dataclasses.replace(region, shapes=cw)
    out = Path(tempfile.mkdtemp(prefix="bench_geo_"))
    corners = sq.xy.reshape(region.grids.n, 5, 2)  # one ring of 5 positions per grid
    env = np.column_stack([corners[:, :, 0].min(axis=1), corners[:, :, 0].max(axis=1),
                           corners[:, :, 1].min(axis=1), corners[:, :, 1].max(axis=1)])
    texts = [csv_column(c) for c in columns]

    cases: dict[str, Callable[[], object]] = {
        "grids.geojson text (squares)": lambda: geo.geojson_text(region, GRID_FIELDS, columns),
        "grids.geojson text (polygons, reoriented)": lambda: geo.geojson_text(
            with_polygons, GRID_FIELDS, columns),
        "grids.geojson text (squares, cell texts shared)": lambda: geo.geojson_text(
            region, GRID_FIELDS, columns, cell_texts=texts),
        "grids.gpkg": lambda: geo.write_gpkg(out / geo.GPKG, region, GRID_FIELDS, columns),
        "write_geo (both files, as a run)": lambda: geo.write_geo(out, region, GRID_FIELDS,
                                                                  columns, texts),
        "crs_fields": lambda: geo.crs_fields(region),
        "grids.gpkg's R-tree, packed (as written)": lambda: _rtree(env, packed=True),
        "grids.gpkg's R-tree, one INSERT per grid": lambda: _rtree(env, packed=False),
    }
    geo.crs_fields(region)  # the first pyproj transformer of the process, apart
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, fn in cases.items():
            t0 = time.process_time()
            fn()
            spent = time.process_time() - t0
            best[name] = min(best.get(name, spent), spent)
    print(f"{args.scenario}: {region.grids.n:,} grids")
    print(f"{'piece':48s} {'CPU s':>7s}")
    for name, spent in best.items():
        print(f"{name:48s} {spent:7.3f}")
    sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.suffix in (".geojson",
                                                                             ".gpkg")}
    print("sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(sizes.items())))
    print(f"(best of {args.repeat}, interleaved; files in {out})")
    base = _child_cpu("pass", args.repeat)
    for mod in ("sqlite3", "pyogrio"):
        spent = _child_cpu(f"import {mod}", args.repeat)
        print(f"{'import ' + mod + ' (a process, less an empty one)':48s} {spent - base:7.3f}")
    if args.map:
        from gridsim.output.maps import scenario_map

        scenario_map(result.scenario, out / "warm.png")  # matplotlib and the font, apart
        for name, sc in (("polygons", dataclasses.replace(
                result.scenario, region=with_polygons)), ("raster of squares", result.scenario)):
            t0 = time.process_time()
            scenario_map(sc, out / f"map_{name.split()[0]}.png")
            print(f"scenario map, {name:18s} {time.process_time() - t0:7.3f} CPU s")


def _rtree(env: np.ndarray, packed: bool) -> None:
    """An in-memory SQLite R-tree of the boxes ``env`` (minx, maxx, miny, maxy per grid)."""
    import sqlite3

    from gridsim.output import geo

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    if packed:
        geo._pack_rtree(db, "r", env)
    else:
        db.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)",
                       zip(range(1, len(env) + 1), *env.T.tolist(), strict=True))
    db.commit()
    db.close()


def _child_cpu(code: str, repeat: int) -> float:
    """The least CPU seconds (user + sys) of ``repeat`` fresh Python processes running
    ``code``."""
    import resource
    import subprocess
    import sys

    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best


if __name__ == "__main__":
    main()
