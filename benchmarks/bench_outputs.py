"""CPU seconds of writing a city run's files: the CSV tables and the figures.

    python benchmarks/bench_outputs.py [--repeat N] [--scenario NAME]

One ``scenario=suining_city hazard=city_rainstorm`` run (18,176 grids, about 65,000 event-log
rows) is simulated once; then, ``--repeat`` times and interleaved (the machine is shared),
each piece of :func:`gridsim.output.files.write_outputs` is timed with
``time.process_time`` and the best (least) time kept:

* each CSV table (``incidents.csv``, ``grids.csv``, ``events.csv``) as gridsim writes it
  (:mod:`gridsim.csvtext`, a column at a time) and, beside it, written cell by cell with
  :func:`gridsim.csvtext.csv_cell` and :class:`csv.writer` (the way before), with the ratio;
  the two texts are compared and must be equal;
* each figure (:mod:`gridsim.output.figures`), after a first figure that pays for importing
  matplotlib and loading the bundled font (reported apart, once);
* the whole of ``write_outputs`` into a temporary folder.

Prints one table, no pass or fail.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any


def _cell_by_cell(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The CSV text as written before the column-at-a-time writer: a csv_cell call per cell."""
    from gridsim.csvtext import csv_cell

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scenario", default="suining_city")
    args = ap.parse_args()

    import numpy as np

    from gridsim import __version__
    from gridsim.app.hydra_app import compose_settings
    from gridsim.csvtext import csv_columns, csv_text
    from gridsim.engine.incident import INCIDENT_FIELDS
    from gridsim.engine.simulation import build, simulate
    from gridsim.output import figures
    from gridsim.output.files import write_outputs
    from gridsim.output.metrics import GRID_FIELDS, grid_columns

    hazard = ["hazard=city_rainstorm"] if args.scenario == "suining_city" else []
    settings, _ = compose_settings([f"scenario={args.scenario}", *hazard,
                                    "output.progress=false"])
    result = simulate(settings, build(settings))
    out = Path(tempfile.mkdtemp(prefix="bench_outputs_"))

    incs = result.incidents
    events = result.ctx.log.sorted_rows()
    columns = grid_columns(result)
    share = np.array(columns[GRID_FIELDS.index("within_5min_share")], dtype=float)
    event_header = ("time_s", "event", "grid", "incident", "detail")

    def incidents_now() -> str:
        return csv_columns(INCIDENT_FIELDS, [list(map(attrgetter(f), incs))
                                             for f in INCIDENT_FIELDS])

    def incidents_before() -> str:
        return _cell_by_cell(INCIDENT_FIELDS, (tuple(getattr(i, f) for f in INCIDENT_FIELDS)
                                               for i in incs))

    cases: dict[str, Callable[[], object]] = {
        "incidents.csv": incidents_now,
        "incidents.csv (cell by cell)": incidents_before,
        "grids.csv": lambda: csv_columns(GRID_FIELDS, grid_columns(result)),
        "grids.csv (cell by cell)": lambda: _cell_by_cell(
            GRID_FIELDS, zip(*grid_columns(result), strict=True)),
        "events.csv": lambda: csv_text(event_header, result.ctx.log.sorted_rows()),
        "events.csv (cell by cell)": lambda: _cell_by_cell(event_header,
                                                           result.ctx.log.sorted_rows()),
        "response_times.png": lambda: figures.response_times(result, out / "r.png"),
        "modes_over_time.png": lambda: figures.modes_over_time(result, out / "m.png"),
        "map_within_5min.png": lambda: figures.map_within_5min(result, out / "a.png", share),
        "write_outputs (all files)": lambda: write_outputs(result, out / "run", __version__),
    }
    # the same text both ways
    same = {
        "incidents.csv": incidents_now() == incidents_before(),
        "grids.csv": cases["grids.csv"]() == cases["grids.csv (cell by cell)"](),
        "events.csv": csv_text(event_header, events) == _cell_by_cell(event_header, events),
    }
    t0 = time.process_time()
    figures.response_times(result, out / "first.png")
    first = time.process_time() - t0

    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, fn in cases.items():
            t0 = time.process_time()
            fn()
            spent = time.process_time() - t0
            best[name] = min(best.get(name, spent), spent)

    n = result.scenario.region.grids.n
    print(f"{args.scenario}: {n:,} grids, {len(incs):,} incidents, {len(events):,} event rows")
    print(f"{'piece':34s} {'CPU s':>7s}  note")
    print(f"{'first figure (import, font)':34s} {first:7.3f}  matplotlib imported, font loaded")
    for name, spent in best.items():
        note = ""
        base = name.replace(" (cell by cell)", "")
        if name.endswith("(cell by cell)") and best.get(base):
            note = (f"{spent / best[base]:.1f}x the column writer; same text: "
                    f"{'yes' if same[base] else 'NO'}")
        print(f"{name:34s} {spent:7.3f}  {note}")
    print(f"(best of {args.repeat}, interleaved; files in {out})")


if __name__ == "__main__":
    main()
