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
* the whole of ``write_outputs`` into a temporary folder;
* ``--fresh N``: the output phase as a run pays it, in ``N`` fresh processes (interleaved with
  nothing else; the best kept): the first ``write_outputs`` of a process that has simulated the
  run but not yet imported matplotlib, so the import, the font and every first-time cache are
  in it. Run it with ``PYTHONPATH`` at two checkouts to compare them.

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


def _overrides(scenario: str) -> list[str]:
    hazard = ["hazard=city_rainstorm"] if scenario == "suining_city" else []
    return [f"scenario={scenario}", *hazard, "output.progress=false"]


def _fresh_child(scenario: str) -> None:
    """Simulate, then print the CPU seconds of this process's first ``write_outputs``."""
    import sys

    from gridsim import __version__
    from gridsim.app.hydra_app import compose_settings
    from gridsim.engine.simulation import build, simulate
    from gridsim.output.files import write_outputs

    settings, _ = compose_settings(_overrides(scenario))
    result = simulate(settings, build(settings))
    assert not any(m.startswith("matplotlib") for m in sys.modules), "matplotlib imported early"
    out = Path(tempfile.mkdtemp(prefix="bench_outputs_fresh_"))
    t0 = time.process_time()
    write_outputs(result, out, __version__)
    print(time.process_time() - t0)


def _fresh(scenario: str, n: int) -> None:
    import subprocess
    import sys

    import gridsim

    spent = []
    for _ in range(n):
        child = subprocess.run([sys.executable, __file__, "--child", "--scenario", scenario],
                               capture_output=True, text=True, check=True)
        spent.append(float(child.stdout.split()[-1]))
    print(f"{scenario}: output phase of a run (first write_outputs of a fresh process, "
          f"matplotlib imported by it), gridsim at {Path(gridsim.__file__).parent}")
    print(f"  CPU s: best {min(spent):.3f} of {n} ({', '.join(f'{s:.3f}' for s in spent)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scenario", default="suining_city")
    ap.add_argument("--fresh", type=int, default=0, metavar="N",
                    help="time the output phase of a run in N fresh processes, and only that")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _fresh_child(args.scenario)
        return
    if args.fresh:
        _fresh(args.scenario, args.fresh)
        return

    import numpy as np

    from gridsim import __version__
    from gridsim.app.hydra_app import compose_settings
    from gridsim.csvtext import csv_columns, csv_text
    from gridsim.engine.incident import INCIDENT_FIELDS
    from gridsim.engine.simulation import build, simulate
    from gridsim.output import figures
    from gridsim.output.files import write_outputs
    from gridsim.output.metrics import GRID_FIELDS, grid_columns

    settings, _ = compose_settings(_overrides(args.scenario))
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
