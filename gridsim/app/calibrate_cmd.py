"""``gridsim calibrate [--spec FILE] [--out DIR] [--jobs N] [overrides...]``: fit the uncertain
parameters of a calibration spec to the account's figures and write the report
(:mod:`gridsim.experiments.calibrate`, :mod:`gridsim.experiments.calibrate_output`;
docs/calibration.md).

The spec's overrides, then the command line's, are composed once by the Hydra boundary
(:func:`gridsim.app.hydra_app.compose_settings`); the spec is checked against those settings
(unknown parameter paths, target keys that summary.json does not have, bad bands: one line
each, exit 2) and the report folder is made before anything is simulated.
"""

from __future__ import annotations

import argparse
import shlex
from importlib.resources import files
from pathlib import Path

from gridsim.errors import UserError, os_error

__all__ = ["DEFAULT_OUT", "DEFAULT_SPEC", "calibrate_main", "resolve_spec"]

#: The spec shipped with gridsim (``conf/calibration/``, installed with ``gridsim.conf``). Specs
#: there end in ``.yml``, not ``.yaml``: Hydra would take a folder of ``.yaml`` files in
#: ``conf/`` for a config group and offer it in ``gridsim run --help``.
DEFAULT_SPEC = "calibration/suining_2025.yml"
DEFAULT_OUT = Path("reports/calibration")
CONFIG_PACKAGE = "gridsim.conf"


def _shipped() -> list[str]:
    folder = files(CONFIG_PACKAGE) / "calibration"
    try:
        return sorted(f"calibration/{e.name}" for e in folder.iterdir()
                      if e.name.endswith((".yml", ".yaml")))
    except OSError:
        return []


def resolve_spec(name: str) -> Path:
    """A spec file: the path as given if it is a file, else the spec of that name shipped in
    gridsim's config (``calibration/suining_2025.yml``, or just ``suining_2025``)."""
    path = Path(name)
    if path.is_file():
        return path
    if not path.is_absolute():
        root = files(CONFIG_PACKAGE)
        for candidate in (name, f"calibration/{name}", f"calibration/{name}.yml"):
            shipped = Path(str(root / candidate))
            if shipped.is_file():
                return shipped
    known = ", ".join(_shipped()) or "none"
    raise UserError("calibration spec not found", name,
                    f"give a YAML file, or one of gridsim's own: {known}")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="gridsim calibrate",
        description="Fit uncertain parameters to the account's figures (simulated method of "
                    "moments with common random numbers) and write calibration.md, "
                    "calibration.json, targets.csv, trace.csv and calibration.png.",
        epilog="Overrides (key=value, group=option) are composed after the spec's own, like "
               "those of gridsim run. See docs/calibration.md.")
    ap.add_argument("--spec", default=DEFAULT_SPEC,
                    help=f"the calibration spec (default: gridsim's {DEFAULT_SPEC})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"the report folder (default: {DEFAULT_OUT})")
    ap.add_argument("--jobs", type=int, default=None,
                    help="worker processes for the replications (default: the spec's n_jobs)")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. duration_h=240")
    return ap


def calibrate_main(args: list[str]) -> int:
    """The command; raises :class:`UserError` / ``ConfigError`` for the command line to report
    (one line each, exit 2)."""
    try:
        ns = _parser().parse_args(args)
    except SystemExit as exc:  # --help, or a usage error (argparse exits with 2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    if ns.jobs is not None and ns.jobs < 1:
        raise UserError("--jobs must be at least 1", str(ns.jobs))
    # imported here: Hydra, the engine and scipy's optimisers only when the command runs
    # (start-up time of the other commands)
    from gridsim.app.hydra_app import compose_settings
    from gridsim.experiments.calibrate import calibrate, check_spec, load_spec
    from gridsim.experiments.calibrate_output import write_calibration
    from gridsim.model.validate import ConfigError

    spec = load_spec(resolve_spec(ns.spec))
    try:
        settings, _ = compose_settings([*spec.overrides, *ns.overrides])
    except ConfigError as exc:
        raise ConfigError([f"{spec.source}: overrides: {e}" for e in exc.errors]) from None
    check_spec(spec, settings)
    out: Path = ns.out
    try:  # the folder first: a calibration that cannot write its report should not start
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, "cannot make the report folder") from None
    result = calibrate(spec, settings, n_jobs=ns.jobs)
    command = shlex.join(["gridsim", "calibrate", *args])
    try:
        written = write_calibration(result, out, command)
    except OSError as exc:
        raise os_error(exc, "cannot write the calibration report") from None
    met = sum(r.met for r in result.final)
    print(f"calibration {spec.name}: {met} of {len(result.final)} targets met after "
          f"{len(result.evaluations)} evaluations ({result.cpu_s:.1f} s of CPU)")
    for r in result.final:
        print(f"  {r.target.name}: {r.mean:.4g} [{r.ci95_low:.4g}, {r.ci95_high:.4g}] against "
              f"{r.target.value:g} ({r.target.band.describe()}): "
              f"{'met' if r.met else 'not met'}")
    print(f"report: {written[0].parent}")
    return 0
