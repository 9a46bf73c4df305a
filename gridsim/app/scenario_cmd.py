"""``gridsim scenario``: look at a scenario without simulating it.

* ``describe <name|path> [--json]``: the scenario's statistics
  (:mod:`gridsim.experiments.statistics`), side by side with the account's figures where the
  preset has a ``reference:`` block;
* ``map <name|path> --out map.png [--colour kind|density]``: a map of the grids
  (:mod:`gridsim.output.maps`);
* ``validate <path> [overrides]``: every check of a scenario folder (or preset file) at once,
  with the run config ``gridsim run scenario=<path> [overrides]`` would have (the ids its
  hazard, drill and plan name checked against the folder: :mod:`gridsim.app.id_checks`);
* ``export <name|path> <folder>``: build the scenario and write it as a scenario folder.

``<name|path>`` is a preset (an option of the ``scenario`` config group, see
:func:`gridsim.model.params.scenario_presets`), a scenario folder (a directory with
``scenario.yaml``) or a preset YAML file. It is composed exactly like ``gridsim run
scenario=<name>`` (describe, map and export with ``hazard=calm``: nothing is simulated, and a
scenario should not fail on the townships of a warning it will never see; validate with the
run's defaults and its overrides), so a bad file gets the same one-line errors and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridsim.model.params import scenario_presets
from gridsim.model.validate import ConfigError

__all__ = ["format_describe", "scenario_main"]

#: The ConfigStore option under which a scenario given by path is composed.
_PATH_OPTION = "_scenario_from_path"
#: Builds of at least this many grids print a progress line on stderr.
_LONG_BUILD_GRIDS = 2000

_GRIDS_ZH = {"urban_community": "城市社区网格", "rural": "农村网格", "enterprise": "企业网格",
             "commercial": "商圈网格"}

# statistic -> (English label, Chinese term, unit, format)
_LABELS: dict[str, tuple[str, str, str, str]] = {
    "grids": ("grids", "网格数", "", "int"),
    "population": ("population", "人口", "", "int"),
    "households": ("households", "户数", "", "int"),
    "area_km2": ("area", "面积", "km²", "area"),
    "counties": ("county-level areas", "县(市、区)", "", "int"),
    "townships": ("townships and streets", "乡镇(街道)", "", "int"),
    "villages": ("villages and communities", "村(社区)", "", "int"),
    "rural_grid_area_km2_mean": ("rural grid mean area", "农村网格平均面积", "km²", "3f"),
    "people_per_grid_mean": ("people served per grid", "网格服务人口", "", "0f"),
    "compounds_per_grid_mean": ("compounds per urban grid", "网格管理小区数", "", "2f"),
    "urban_compound_own_grid_share": ("single-compound urban grids", "城市小区单建网格比例", "",
                                      "share"),
    "on_site_commanders": ("on-site commanders", "现场指挥官", "", "int"),
    "grid_workers": ("grid workers", "网格员", "", "int"),
    "party_members": ("party members", "党员", "", "int"),
    "people_on_roster": ("people on the roster", "在册人员", "", "int"),
    "key_monitoring_points": ("key monitoring points", "重点监测点", "", "int"),
    "vulnerable_residents": ("vulnerable residents", "重点人群", "", "int"),
    "road_links": ("road links", "道路路段", "", "int"),
    "road_km": ("road length", "道路里程", "km", "0f"),
    "department_stations": ("department stations", "部门站点", "", "int"),
    "supply_points": ("supply points", "物资储备点", "", "int"),
}


class _Usage(Exception):
    """A problem with what the user asked for: message lines, exit code 2."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        super().__init__("; ".join(lines))


def _err(msg: str) -> None:
    sys.stderr.write(f"gridsim: {msg}\n")


# ----------------------------------------------------------------------------------------------
# <name|path> -> the run settings it composes to
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    """A scenario named on the command line."""

    label: str  # the preset name, or the path as given
    source: str  # "preset <name>", "folder <path>" or "file <path>"
    node: Any | None  # the config node composed for a path (None for a preset name)
    folder: Path | None  # the scenario folder, if it is one


def _is_pathlike(arg: str) -> bool:
    return "/" in arg or "\\" in arg or arg.endswith((".yaml", ".yml")) or arg in (".", "..")


def _locate(arg: str) -> _Target:
    """What ``arg`` names: a preset, a scenario folder or a preset YAML file."""
    from gridsim.app import hydra_app  # start-up time: Hydra only for this command

    presets = scenario_presets()
    path = Path(arg)
    if arg in presets and not _is_pathlike(arg):
        preset = presets[arg]
        folder = Path(str(preset)).parent if preset.name == "scenario.yaml" else None
        return _Target(arg, f"preset {arg}", None, folder)
    if path.is_dir():
        if not (path / "scenario.yaml").is_file():
            raise _Usage(f"{arg}: not a scenario folder (it has no scenario.yaml)")
        folder = path.resolve()
        # the node a scenario folder has as an option of the scenario group
        entry = hydra_app.scenario_folder_node(folder / "scenario.yaml", folder.name)
        return _Target(arg, f"folder {arg}", entry, folder)
    if path.is_file():
        try:
            node = hydra_app.load_scenario_file(path)
        except ValueError as exc:  # YAML syntax, encoding, not a mapping
            raise _Usage(f"{arg}: {exc}") from None
        return _Target(arg, f"file {arg}", node, None)
    if _is_pathlike(arg):
        raise _Usage(f"{arg}: no such scenario folder or file")
    raise _Usage(f"unknown scenario {arg!r}; available presets: {', '.join(presets)} "
                 "(or give the path of a scenario folder or preset YAML file)")


def _compose(target: _Target, overrides: list[str] | None = None) -> Any:
    """The run settings of ``target``, composed and checked like ``gridsim run``: with
    ``hazard=calm`` (describe, map, export), or, given ``overrides`` (validate), exactly as
    ``gridsim run scenario=<target> <overrides>`` composes them (its default hazard included).

    Raises :class:`gridsim.model.validate.ConfigError` naming the key and the file."""
    from gridsim.app import hydra_app  # start-up time: Hydra only for this command

    option = target.label
    if target.node is not None:
        hydra_app.store_scenario_option(_PATH_OPTION, target.node)
        option = _PATH_OPTION
    rest = ["hazard=calm"] if overrides is None else list(overrides)
    try:
        settings, _ = hydra_app.compose_settings([f"scenario={option}", *rest])
    except ConfigError as exc:
        if target.node is None:
            raise
        where = str(Path(target.label) / "scenario.yaml") if target.folder else target.label
        raise ConfigError([e.replace(f"config scenario={_PATH_OPTION}, which has no YAML file",
                                     where).replace(_PATH_OPTION, where)
                           for e in exc.errors]) from None
    return settings


def _estimated_grids(cfg: Any) -> int | None:
    try:
        n = int(cfg.urban_grids) + int(cfg.rural_grids)
        if int(cfg.compounds.count) > 0:
            n += int(cfg.compounds.design.grids)
        return n
    except (TypeError, ValueError, AttributeError):  # MISSING ("???") for a folder
        return None


def _build(target: _Target, settings: Any) -> Any:
    """The built scenario (with travel times), with a progress line on stderr when it is long."""
    # start-up time: scipy and the scenario layer only to build
    from gridsim.place.scenario import build_scenario

    cfg = settings.scenario
    n = _estimated_grids(cfg) if cfg.generator == "synthetic" else None
    loud = n is None or n >= _LONG_BUILD_GRIDS
    t0 = time.perf_counter()
    if loud:
        what = (f"building scenario {target.label} ({n:,} grids)" if n is not None
                else f"reading scenario {target.label} (generator {cfg.generator})")
        sys.stderr.write(f"gridsim: {what} ... ")
        sys.stderr.flush()
    try:
        sc = build_scenario(cfg)
    except BaseException as exc:
        if loud:
            sys.stderr.write("failed\n")
        errors = getattr(exc, "errors", None)  # ScenarioDataError: every problem of the data
        if isinstance(exc, ValueError) and isinstance(errors, list):
            raise _Usage(*(str(e) for e in errors)) from None
        raise
    if loud:
        sys.stderr.write(f"done in {time.perf_counter() - t0:.1f} s\n")
    return sc


# ----------------------------------------------------------------------------------------------
# describe
# ----------------------------------------------------------------------------------------------
def _label(key: str) -> str:
    if key in _LABELS:
        en, zh, unit, _ = _LABELS[key]
        return f"{en} {zh}" + (f" ({unit})" if unit else "")
    if key.startswith("grids_") and key[len("grids_"):] in _GRIDS_ZH:
        kind = key[len("grids_"):]
        return f"{kind.replace('_', ' ')} grids {_GRIDS_ZH[kind]}"
    return key.replace("_", " ")


def _fmt(key: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    style = _LABELS.get(key, ("", "", "", "int" if isinstance(v, int) else "2f"))[3]
    if style == "int":
        return f"{round(float(v)):,}"
    if style == "share":
        return f"{100.0 * float(v):.1f} %"
    if style == "area":
        return f"{float(v):,.1f}"
    return f"{float(v):,.{style[0]}f}"


def _rel(value: Any, ref: float) -> float | None:
    """Relative difference of ``value`` from the account's ``ref``."""
    if value is None or ref == 0:
        return None
    v = float(value)
    return (v - ref) / ref if math.isfinite(v) else None


def _describe_data(target: _Target, settings: Any, stats: dict[str, Any]) -> dict[str, Any]:
    """What ``describe --json`` prints: the statistics at the top level, then the account's
    figures and the relative differences (NaN as ``null``)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return v

    reference = {k: int(v) if float(v).is_integer() else float(v)
                 for k, v in settings.scenario.reference.items()}
    data: dict[str, Any] = {"scenario": settings.scenario.name, "source": target.source}
    data.update({k: clean(v) for k, v in stats.items()})
    data["reference"] = reference
    data["relative_difference"] = {k: _rel(stats.get(k), ref) for k, ref in reference.items()}
    return data


def format_describe(data: dict[str, Any]) -> str:
    """The ``describe`` table: one row per statistic, with the account's figure and the relative
    difference where the preset has one; CJK-aware column alignment."""
    from gridsim.output.files import _width  # start-up time: the output layer only to print

    reference: dict[str, float] = data.get("reference", {})
    diff: dict[str, float | None] = data.get("relative_difference", {})
    skip = {"scenario", "source", "reference", "relative_difference"}
    keys = [k for k in data if k not in skip] + [k for k in reference if k not in data]
    rows = []
    for k in keys:
        d = diff.get(k)
        rows.append((_label(k), _fmt(k, data.get(k)),
                     _fmt(k, reference[k]) if k in reference else "",
                     "n/a" if k in reference and d is None else
                     (f"{round(100.0 * d, 1) + 0.0:+.1f} %" if d is not None else "")))
    head = ("statistic 统计项", "scenario 情景", "account 报告", "difference 相对差")
    ncol = 4 if reference else 2
    cols = [head[:ncol]] + [r[:ncol] for r in rows]
    widths = [max(_width(r[i]) for r in cols) for i in range(len(cols[0]))]

    def line(r: tuple[str, ...]) -> str:
        cells = [r[0] + " " * (widths[0] - _width(r[0]))]
        cells += [" " * (widths[i] - _width(c)) + c for i, c in enumerate(r[1:], start=1)]
        return ("  " + "   ".join(cells)).rstrip()

    out = [f"scenario {data['scenario']} ({data['source']})", line(cols[0])]
    out += [line(r) for r in cols[1:]]
    if reference:
        out.append("  account: the figures of the reference account (docs/domain.md) this "
                   "preset is calibrated to\n  difference: (scenario − account) / account")
    return "\n".join(out)


def _cmd_describe(ns: argparse.Namespace) -> int:
    # start-up time: only for describe
    from gridsim.experiments.statistics import scenario_statistics

    target = _locate(ns.scenario)
    settings = _compose(target)
    sc = _build(target, settings)
    data = _describe_data(target, settings, scenario_statistics(sc))
    if ns.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(format_describe(data))
    return 0


# ----------------------------------------------------------------------------------------------
# map
# ----------------------------------------------------------------------------------------------
def _cmd_map(ns: argparse.Namespace) -> int:
    from gridsim.output.maps import scenario_map  # start-up time: matplotlib only for map

    out = Path(ns.out)
    if not out.parent.is_dir():
        raise _Usage(f"--out {ns.out}: the folder {out.parent} does not exist")
    target = _locate(ns.scenario)
    settings = _compose(target)
    sc = _build(target, settings)
    scenario_map(sc, out, colour=ns.colour, title=settings.scenario.name)
    print(f"map of {settings.scenario.name} ({sc.n_grids:,} grids, coloured by {ns.colour}): "
          f"{out}")
    return 0


# ----------------------------------------------------------------------------------------------
# validate
# ----------------------------------------------------------------------------------------------
def _summary(parts: Any) -> str:
    """One line on generated or loaded parts ``(region, roads, roster, supplies, stations)``."""
    try:
        region, roads, roster, _supplies, (dept, _sgrid, _units) = parts
        g = region.grids
        return (f"{g.n:,} grids, {int(g.population.sum()):,} people, "
                f"{float(g.area_km2.sum()):,.1f} km², {region.hierarchy.n_townships:,} townships, "
                f"{region.hierarchy.n_villages:,} villages, {len(roads.edge_u):,} road links, "
                f"{roster.n:,} people on the roster, {len(dept):,} department stations")
    except (TypeError, ValueError, AttributeError):
        return "loaded"


def _cmd_validate(ns: argparse.Namespace) -> int:

    target = _locate(ns.path)
    overrides = list(ns.overrides)
    for arg in overrides:
        if arg.lstrip("+~").split("=", 1)[0].split("@", 1)[0] == "scenario":
            raise _Usage(f"{arg}: the scenario is {ns.path}, the first argument; give only "
                         "other overrides (e.g. hazard=flood_evacuation plan=DIR)")
    errors: list[str] = []
    if target.folder is not None:
        # start-up time: pyproj and shapely only for folders
        from gridsim.place.folder import ScenarioDataError, load_parts, validate_folder

        errors.extend(validate_folder(target.folder))
        settings = None
        try:
            settings = _compose(target, overrides)
        except ConfigError as exc:
            errors.extend(exc.errors)
        parts = None
        if not errors and settings is not None:
            # start-up time: scipy and the scenario layer only to build
            from gridsim.place.scenario import check_loaded, prepare_scenario

            try:
                parts = load_parts(target.folder, settings.scenario)
            except ScenarioDataError as exc:
                errors.extend(exc.errors)
            else:  # what a run asks of it: e.g. stations for every department of the catalogue
                sc = prepare_scenario(parts, seed=settings.scenario.seed)
                errors.extend(f"config error at {e}" for e in check_loaded(settings, sc))
    else:
        # start-up time: scipy and the scenario layer only to build
        from gridsim.place.scenario import generate_parts

        try:
            settings = _compose(target, overrides)
            parts = generate_parts(settings.scenario)
        except ConfigError as exc:
            errors.extend(exc.errors)
        except ValueError as exc:  # the generator refuses the figures
            errors.append(f"{target.label}: {exc}")
    if errors:
        _err(f"{target.source}: {len(errors)} problem{'s' if len(errors) != 1 else ''}")
        for e in errors:
            sys.stderr.write(f"  {e}\n")
        return 2
    print(f"valid: {target.source}: {_summary(parts)}")
    return 0


# ----------------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------------
def _cmd_export(ns: argparse.Namespace) -> int:
    # start-up time: pyproj and shapely only for folders
    from gridsim.place.folder import ScenarioDataError, export_scenario

    folder = Path(ns.folder)
    target = _locate(ns.scenario)
    settings = _compose(target)
    sc = _build(target, settings)
    try:
        written = export_scenario(sc, settings.scenario, folder)
    except ScenarioDataError as exc:
        raise _Usage(*exc.errors) from None
    except (FileExistsError, NotADirectoryError, PermissionError) as exc:
        raise _Usage(f"{folder}: {exc.strerror or exc}") from None
    print(f"exported {settings.scenario.name} ({sc.n_grids:,} grids) to {folder}: "
          f"{len(written)} files")
    for p in written:
        p = Path(p)
        size = p.stat().st_size if p.is_file() else 0
        print(f"  {p}  ({size:,} bytes)")
    return 0


# ----------------------------------------------------------------------------------------------
# the command line
# ----------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    from gridsim.output.maps import COLOURINGS  # start-up time: matplotlib only for map

    p = argparse.ArgumentParser(
        prog="gridsim scenario",
        description="Look at a scenario without simulating it. <scenario> is a preset name "
                    "(gridsim scenario describe --help lists them), a scenario folder (a "
                    "directory with scenario.yaml) or a preset YAML file.")
    sub = p.add_subparsers(dest="command", required=True, metavar="command")


    presets = ", ".join(scenario_presets())
    name_help = f"a preset ({presets}) or the path of a scenario folder or preset YAML file"

    d = sub.add_parser("describe", help="statistics of a scenario, beside the account's figures",
                       description="Statistics of a scenario; for presets calibrated to the "
                                   "account, its figures and the relative difference.")
    d.add_argument("scenario", help=name_help)
    d.add_argument("--json", action="store_true", help="print JSON instead of a table")
    d.set_defaults(func=_cmd_describe)

    m = sub.add_parser("map", help="a PNG map of the grids, roads, stations, depots",
                       description="A PNG map of the grids (squares of their area) coloured by "
                                   "kind or by population density, with roads, department "
                                   "stations, township depots and key monitoring points.")
    m.add_argument("scenario", help=name_help)
    m.add_argument("--out", required=True, help="the PNG file to write")
    m.add_argument("--colour", "--color", dest="colour", choices=COLOURINGS, default="kind",
                   help="colour grids by kind (default) or by residents per km²")
    m.set_defaults(func=_cmd_map)

    v = sub.add_parser("validate", help="check a scenario folder: every problem at once",
                       description="Check a scenario folder (or a preset YAML file): every "
                                   "problem at once, with the run config gridsim run "
                                   "scenario=<path> [overrides] would have (the township and "
                                   "grid ids of its hazard, drill and plan checked against the "
                                   "folder). Exit 0 if it is valid, 2 if not.")
    v.add_argument("path", help="a scenario folder, a preset YAML file or a preset name")
    v.add_argument("overrides", nargs="*", metavar="override",
                   help="run config overrides (as gridsim run takes them, e.g. "
                        "hazard=flood_evacuation drill.grids=[3,4] plan=DIR): the ids they name "
                        "(townships, grids) are checked against the folder; without any, the "
                        "run's defaults are checked")
    v.set_defaults(func=_cmd_validate)

    e = sub.add_parser("export", help="build a scenario and write it as a scenario folder",
                       description="Build a scenario and write it as a scenario folder that "
                                   "gridsim run and gridsim scenario read back.")
    e.add_argument("scenario", help=name_help)
    e.add_argument("folder", help="the folder to write")
    e.set_defaults(func=_cmd_export)
    return p


def scenario_main(args: list[str]) -> int:
    """``gridsim scenario <command> ...``; returns the exit code (2 for a bad scenario)."""

    try:
        ns = _parser().parse_args(args)
    except SystemExit as exc:  # --help, or a usage error (argparse exits with 2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        return int(ns.func(ns))
    except BrokenPipeError:  # e.g. piped into head: stop quietly

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _Usage as exc:
        for line in exc.lines:
            _err(line)
        return 2
    except ConfigError as exc:
        for e in exc.errors:
            _err(e)
        return 2
