"""CPU seconds of a run's figures at district, city and 4x city scale.

    python benchmarks/bench_figures.py [--repeat N] [--skip-4x]

For each scale (``district``: 400 grids; ``suining_city``: 18,176; a 4x city: 72,704 grids from
:func:`gridsim.place.synthetic.city`), one rainstorm run is simulated, then its three figures
(:mod:`gridsim.output.figures`) are drawn and saved ``--repeat`` times, interleaved with the
map drawn the district way (every grid a square marker over every road link: the drawing
before the raster, forced by raising ``RASTER_GRIDS``). Each figure's CPU time
(``time.process_time``) is the best of the repeats (the machine is shared). The first figure
of the process, which also pays for importing matplotlib and loading the bundled font, is
drawn once before and reported apart (``import``).

Prints one table, no pass or fail. The raster map's cost does not grow with the grids; the
vector map's does. The last column says how each figure was written: ``cropped`` (drawn once,
the canvas cropped to what is drawn) or ``savefig`` (something was drawn off the canvas, so
matplotlib saved the tight box, drawing the figure a second time).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path


def _compose(overrides: list[str]):
    try:  # the Hydra boundary (after the issue-10 layout); the CLI module before it
        from gridsim.app.hydra_app import compose_settings  # type: ignore[import-not-found]
    except ImportError:
        from gridsim.app.cli import compose_settings
    settings, _ = compose_settings(overrides)
    return settings


def _settings(scale: str):
    base = ["output.progress=false", "output.events_log=false"]
    if scale == "district":
        return _compose(base)
    city = _compose(["scenario=suining_city", *base])
    if scale == "city":
        return city
    from gridsim.place.synthetic import city as scaled

    return dataclasses.replace(city, scenario=scaled(4, base=city.scenario))


FIGURES = ("response_times", "modes_over_time", "map (as drawn)", "map (vector)")


def _draw(name: str, result, share, out: Path) -> None:  # type: ignore[no-untyped-def]
    from gridsim.output import figures

    if name == "response_times":
        figures.response_times(result, out / "r.png")
    elif name == "modes_over_time":
        figures.modes_over_time(result, out / "m.png")
    elif name == "map (as drawn)":
        figures.map_within_5min(result, out / "a.png", share)
    else:  # every grid a marker: the drawing below RASTER_GRIDS
        raster = figures.RASTER_GRIDS
        figures.RASTER_GRIDS = 10**9
        try:
            figures.map_within_5min(result, out / "v.png", share)
        finally:
            figures.RASTER_GRIDS = raster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-4x", action="store_true")
    args = ap.parse_args()

    import numpy as np

    from gridsim.engine.simulation import build, simulate
    from gridsim.output import figures
    from gridsim.output.metrics import GRID_FIELDS, grid_rows

    out = Path(tempfile.mkdtemp(prefix="bench_figures_"))
    saved_whole: set[str] = set()  # figures written by savefig (drawn past their canvas)

    def spy_on_savefig() -> None:
        from matplotlib.figure import Figure  # after the first figure, which times the import

        savefig = Figure.savefig

        def spy(self, fname, *a, **k):  # type: ignore[no-untyped-def]
            saved_whole.add(Path(str(fname)).name.removesuffix(".part"))
            return savefig(self, fname, *a, **k)

        Figure.savefig = spy  # type: ignore[method-assign]
    scales = ["district", "city"] + ([] if args.skip_4x else ["4x city"])
    rows = []
    warm = False
    for scale in scales:
        settings = _settings(scale)
        result = simulate(settings, build(settings))
        share = np.array([r[GRID_FIELDS.index("within_5min_share")] for r in grid_rows(result)],
                         dtype=float)
        if not warm:
            t0 = time.process_time()
            figures.response_times(result, out / "warm.png")
            rows.append(("import", "matplotlib, font, first figure", time.process_time() - t0,
                         ""))
            warm = True
            spy_on_savefig()
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            for name in FIGURES:
                t0 = time.process_time()
                _draw(name, result, share, out)
                spent = time.process_time() - t0
                best[name] = min(best.get(name, spent), spent)
        n = result.scenario.region.grids.n
        files = {"response_times": "r.png", "modes_over_time": "m.png",
                 "map (as drawn)": "a.png", "map (vector)": "v.png"}
        for name, spent in best.items():
            how = "savefig" if files[name] in saved_whole else "cropped"
            rows.append((f"{scale} ({n:,} grids)", name, spent, how))
        rows.append((f"{scale} ({n:,} grids)", "run's figures (as drawn)",
                     best["response_times"] + best["modes_over_time"] + best["map (as drawn)"],
                     ""))
        saved_whole.clear()
    print(f"{'scale':28s} {'figure':32s} {'CPU s':>7s}  written")
    for scale, name, spent, how in rows:
        print(f"{scale:28s} {name:32s} {spent:7.2f}  {how}")
    print(f"(best of {args.repeat}; files in {out})")


if __name__ == "__main__":
    main()
