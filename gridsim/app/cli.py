"""The ``gridsim`` command line. Hydra ends here: below this module there is no DictConfig.

``gridsim run [overrides]`` composes ``conf/`` (installed as the package ``gridsim.conf``),
checks it (schema, then value ranges), turns it into typed settings and simulates. A bad config
gets one line per problem naming the key and the file, and exit code 2, before anything runs.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from gridsim import __version__

__all__ = ["main"]

CONFIG_MODULE = "gridsim.conf"
_GROUPS = ("scenario", "catalogue", "hazard", "response", "evacuation")

USAGE = """usage: gridsim <command> [args]

commands:
  run [overrides]   simulate a scenario (Hydra): gridsim run --help lists the config groups
  scenario describe <name|path> [--json]
                    statistics of a scenario, beside the account's figures for calibrated presets
  scenario map <name|path> --out map.png [--colour kind|density]
                    a PNG map of grids, roads, stations, depots and key monitoring points
  scenario validate <path>
                    check a scenario folder: every problem at once (exit 2 if any)
  scenario export <name> <folder>
                    build a preset and write it as a scenario folder
  drill script [overrides] [--out DIR] | drill evaluate <drill> <log.csv>
                    drill scripts (演练脚本) and after-action reports: gridsim drill --help
  --version         print the version

Examples:
  gridsim run
  gridsim run seed=7 hazard=calm response=prepared
  gridsim run -m seed=1,2,3
  gridsim scenario describe pilot_after
  gridsim scenario map suining_city --out suining.png
"""


def _err(msg: str) -> None:
    sys.stderr.write(f"gridsim: {msg}\n")


# ----------------------------------------------------------------------------------------------
# where a config value comes from: a command-line override or a YAML file of conf/
# ----------------------------------------------------------------------------------------------
def _override_key(arg: str) -> str:
    """The key an override sets: ``+scenario.foo=1`` -> ``scenario.foo``."""
    return arg.lstrip("+~").split("=", 1)[0].split("@", 1)[0].strip()


def _searchpath(overrides: list[str]) -> list[str]:
    """The entries of ``hydra.searchpath=[...]`` overrides, in order."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    entries: list[str] = []
    for arg in overrides:
        if _override_key(arg) != "hydra.searchpath" or "=" not in arg:
            continue
        try:
            value = OverridesParser.create().parse_override(arg).value()
        except Exception:  # a malformed override: Hydra reports it
            continue
        if isinstance(value, list):
            entries.extend(str(v) for v in value)
        elif value is not None:
            entries.append(str(value))
    return entries


def _group_file(group: str, option: str, searchpath: list[str]) -> str:
    """The YAML file of a group option, searched like Hydra does: the package, then searchpath."""
    from importlib.resources import files

    name = f"{option}.yaml"
    if group == "scenario":
        from gridsim.model.params import scenario_presets

        preset = scenario_presets().get(option)
        if preset is not None:
            return (f"scenarios/{option}/scenario.yaml" if preset.name == "scenario.yaml"
                    else f"scenarios/{name}")
    try:
        if files(CONFIG_MODULE).joinpath(group, name).is_file():
            return f"conf/{group}/{name}"
    except (ModuleNotFoundError, OSError):
        pass
    for sp in searchpath:
        if sp.startswith("pkg://"):
            module = sp[len("pkg://"):].strip("/").replace("/", ".")
            try:
                if files(module).joinpath(group, name).is_file():
                    return f"{sp.rstrip('/')}/{group}/{name}"
            except (ModuleNotFoundError, OSError):
                continue
        else:
            path = Path(sp.removeprefix("file://")) / group / name
            if path.is_file():
                return str(path.resolve())
    return f"config {group}={option}, which has no YAML file"  # e.g. a ConfigStore entry


def _is_value_override(key: str) -> bool:
    """True for ``a.b=v``; false for a group choice (``scenario=small``) or a Hydra setting."""
    return not (key in _GROUPS or key.startswith("hydra"))


def _where(key: str, choices: dict[str, str], overrides: list[str], searchpath: list[str]) -> str:
    """Where the value at ``key`` was set: the override that sets it, else its file."""
    dotted = re.sub(r"\[(\d+)\]", r".\1", key)  # a.b[0].c -> a.b.0.c, as overrides write it
    for arg in reversed(overrides):  # the last override of a key wins
        k = re.sub(r"\[(\d+)\]", r".\1", _override_key(arg))
        if _is_value_override(k) and (dotted == k or dotted.startswith(f"{k}.")):
            return f"command-line override {arg}"
    top = key.split(".")[0].split("[")[0]
    if top in _GROUPS and top in choices:
        where = _group_file(top, choices[top], searchpath)
    else:
        where = "conf/config.yaml"
    if any(_is_value_override(k) and (k == top or k.startswith((f"{top}.", f"{top}[")))
           for k in map(_override_key, overrides)):
        where += " or an override"
    return where


_META = ("full_key:", "object_type=", "reference_type=", "To append to your config",
         "Set the environment variable HYDRA_FULL_ERROR")


def _describe(exc: BaseException, choices: dict[str, str], overrides: list[str],
              searchpath: list[str]) -> str:
    """One line on a Hydra/OmegaConf composition error: the key, the problem and its source."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__
    text = "\n".join(str(x) for x in chain)

    # an unknown option of a config group: name the options there are
    m = re.search(r"In '([^']+)': Could not find '([^']+)'", text)
    if m:
        parent, target = m.groups()
        group, _, option = target.rpartition("/")
        opts = re.search(r"Available options in '[^']+':\s*\n((?:\t.*\n?)+)", text)
        avail = ""
        if opts:
            names = [o.strip() for o in opts.group(1).splitlines() if o.strip()]
            avail = "; available options: " + ", ".join(names)
        by = [a for a in overrides if _override_key(a) == group]
        if by:
            where = f"command-line override {by[-1]}"
        elif parent == "config":
            where = "conf/config.yaml"
        else:
            parent_group, _, parent_option = parent.rpartition("/")
            where = _group_file(parent_group, parent_option, searchpath) if parent_group else parent
        return f"config error at {group}: unknown option {option!r}{avail} ({where})"

    bad = getattr(exc, "override", None)  # OverrideParseException: the override's syntax
    if isinstance(bad, str):
        detail = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()
                       and not ln.startswith(("Error parsing override", "See https://"))), "")
        return (f"config error at {_override_key(bad) or '?'}: cannot parse the override "
                f"{bad!r}: {detail} (see https://hydra.cc/docs/advanced/override_grammar/basic)")

    m = re.search(r"Ambiguous value for argument '([^']+)'", text)
    if m:  # a sweep (a,b) without --multirun
        k = _override_key(m.group(1))
        return (f"config error at {k}: ambiguous value in {m.group(1)!r}: to sweep over the "
                f"values add -m, for a list write {k}=[...], for a string quote it")

    keys = re.findall(r"full_key:\s*(\S+)", text)
    key = keys[-1] if keys else ""
    # the reason: the first line of the innermost error that is not Hydra's wrapping
    lines = [ln.strip() for ln in str(chain[-1]).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(_META)
             and not re.match(r"(In '[^']+': \w+ raised while composing config:|Error merging|"
                              r"Could not override)", ln)]
    reason = lines[0] if lines else (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    unknown = re.match(r"Key '([^']+)' not in '([^']+)'", reason)
    if unknown:
        reason = f"unknown key {unknown.group(1)!r} ({unknown.group(2)} has no such field)"

    where = ""
    in_file = re.search(r"In '([^']+)/([^'/]+)': \w+ raised while composing", text)
    by_override = re.search(r"(?:Error merging override|Could not override) '?([^'\n]+?)'?\.?$",
                            text, re.MULTILINE)
    if in_file:
        where = _group_file(in_file.group(1), in_file.group(2), searchpath)
    elif by_override:
        k = _override_key(by_override.group(1))
        match = [a for a in overrides if _override_key(a) == k]
        where = f"command-line override {match[-1] if match else by_override.group(1)}"
        key = key or k
    elif key:
        where = _where(key, choices, overrides, searchpath)
    head = f"config error at {key}" if key else "config error"
    return f"{head}: {reason}" + (f" ({where})" if where else "")


# ----------------------------------------------------------------------------------------------
# composing and checking
# ----------------------------------------------------------------------------------------------
def _to_settings(cfg: Any) -> Any:
    """Typed settings from a composed config (without its ``hydra`` node).

    The config is merged again into the bare schema, so that a key added with ``+key=value``
    (which Hydra lets through) is rejected like any unknown key.
    """
    from omegaconf import OmegaConf

    from gridsim.model.params import RunConfig, to_settings

    plain = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(plain, dict)
    plain.pop("hydra", None)
    return to_settings(OmegaConf.merge(OmegaConf.structured(RunConfig), plain))


def _check(cfg: Any, choices: dict[str, str], overrides: list[str],
           searchpath: list[str]) -> Any:
    """Settings from a composed config, or :class:`ConfigError` with one line per problem."""
    from gridsim.model.validate import ConfigError, validate

    try:
        settings = _to_settings(cfg)
    except Exception as exc:  # OmegaConf raises many kinds; all mean "bad config"
        raise ConfigError([_describe(exc, choices, overrides, searchpath)]) from None
    errors = validate(settings)
    if errors:
        raise ConfigError([f"config error at {e} "
                           f"({_where(e.split(':')[0], choices, overrides, searchpath)})"
                           for e in errors])
    return settings


def _compose(overrides: list[str], config_dir: Path | None = None,
             config_name: str = "config") -> Any:
    """The composed config (with its ``hydra`` node) of gridsim's own config, or of the config
    file ``config_name`` in ``config_dir`` (an experiment); ConfigError if it does not compose."""
    from hydra import compose, initialize_config_dir, initialize_config_module

    from gridsim.model.params import register_configs
    from gridsim.model.validate import ConfigError

    register_configs()
    searchpath = _searchpath(overrides)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            init = (initialize_config_module(CONFIG_MODULE, version_base=None)
                    if config_dir is None
                    else initialize_config_dir(str(config_dir.resolve()), version_base=None))
            with init:
                return compose(config_name, overrides=overrides, return_hydra_config=True)
    except Exception as exc:  # Hydra raises many kinds; all mean "bad config"
        msg = _describe(exc, {}, overrides, searchpath)
        missing = [m.group(1) for w in caught
                   if (m := re.search(r"path=(\S+) is not available", str(w.message)))]
        if missing:
            msg += f"; hydra.searchpath folder not found: {', '.join(missing)}"
        raise ConfigError([msg]) from None


def compose_settings(overrides: list[str], config_dir: Path | None = None,
                     config_name: str = "config") -> tuple[Any, dict[str, str]]:
    """Compose and check the run config without Hydra's app; ``(settings, group choices)``.

    ``overrides`` are those of ``gridsim run``, Hydra's own included (``hydra.searchpath=[...]``
    adds config folders). Raises :class:`gridsim.model.validate.ConfigError` with one line per problem,
    each naming the key and the file or override it comes from. With ``config_dir``, the config
    is the file ``config_name`` there (an experiment file) instead of gridsim's own.
    """
    overrides = list(overrides)
    cfg = _compose(overrides, config_dir, config_name)
    choices = {k: str(v) for k, v in cfg.hydra.runtime.choices.items()}
    return _check(cfg, choices, overrides, _searchpath(overrides)), choices


def _sweep_jobs(args: list[str]) -> list[list[str]] | None:
    """The overrides of each job of ``gridsim run -m args`` (as Hydra's basic sweeper makes
    them), or ``None`` when they cannot be worked out here (Hydra will then report)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    axes: dict[str, list[str]] = {}
    try:
        for arg in args:
            ov = parser.parse_override(arg)
            key = ov.get_key_element()
            if ov.is_sweep_override():
                if not ov.is_discrete_sweep():
                    return None
                axes[key] = [f"{key}={v}" for v in ov.sweep_string_iterator()]
            else:
                axes[key] = [arg]
    except Exception:
        return None
    return [list(job) for job in itertools.product(*axes.values())]


def _prevalidate(overrides: list[str], multirun: bool) -> int:
    """Check the config of a run, or of every job of a sweep, before Hydra starts anything.

    Prints one line per problem (prefixed by the job for a sweep) and returns the exit code.
    """
    from gridsim.model.validate import ConfigError

    jobs = _sweep_jobs(overrides) if multirun else [overrides]
    if jobs is None:  # a sweep this function cannot expand: each job is checked when it runs
        return 0
    swept = [i for i in range(len(jobs[0])) if len({job[i] for job in jobs}) > 1] if jobs else []
    failed = False
    for n, job in enumerate(jobs):
        try:
            compose_settings(job)
        except ConfigError as exc:
            failed = True
            prefix = ""
            if multirun:
                what = " ".join(job[i] for i in swept)
                prefix = f"job #{n}" + (f" ({what})" if what else "") + ": "
            for e in exc.errors:
                _err(prefix + e)
    return 2 if failed else 0


def _run_task(cfg: Any) -> dict[str, Any]:
    """The Hydra task: one simulation written into Hydra's output folder."""
    from hydra.core.hydra_config import HydraConfig

    from gridsim.engine.simulation import simulate, stderr_progress
    from gridsim.model.validate import ConfigError
    from gridsim.output.files import format_summary, write_outputs

    hc = HydraConfig.get()
    choices = {k: str(v) for k, v in hc.runtime.choices.items()}
    overrides = [str(o) for o in hc.overrides.task]
    searchpath = [str(s.path) if s.schema == "file" else f"{s.schema}://{s.path}"
                  for s in hc.runtime.config_sources if s.schema in ("file", "pkg")]
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from gridsim.experiments import sweep as ex

    out = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    before = ex.read_manifest(out)
    if (before and before.get("status") == "done" and (out / "summary.json").is_file()
            and before.get("config_hash") == _hash_or_none(cfg)):  # checked when it ran
        print(f"skipped (done before, same config): {out}")
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert isinstance(summary, dict)
        return summary
    try:
        settings = _check(cfg, choices, overrides, searchpath)
    except ConfigError as exc:
        for e in exc.errors:
            _err(e)
        raise SystemExit(2) from None
    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict)
    digest = ex.config_hash(resolved)
    ex.remove_partial_files(out)  # left by a run of this folder that was killed while writing
    started = ex.now_unix()
    ex.write_manifest(out, status="running", config_hash=digest, seed=settings.seed,
                      replication=settings.replication, gridsim_version=__version__,
                      overrides=overrides, started_unix=started, finished_unix=None,
                      wall_s=None, error=None, traceback=None,
                      session=os.environ.get("GRIDSIM_SWEEP_SESSION", ""), config=resolved)
    t0 = time.perf_counter()
    try:
        progress = stderr_progress if settings.output.progress else None
        result = simulate(settings, progress=progress)
        summary = write_outputs(result, out, __version__)
    except KeyboardInterrupt:  # Ctrl-C: no half-written file stays; the next invocation reruns
        ex.remove_partial_files(out)
        ex.write_manifest(out, status="interrupted", finished_unix=ex.now_unix(),
                          wall_s=round(time.perf_counter() - t0, 3))
        raise
    except Exception as exc:  # a failed run is recorded; a sweep goes on with the next run
        wall = time.perf_counter() - t0
        ex.write_manifest(out, **ex.error_fields(exc), finished_unix=ex.now_unix(),
                          wall_s=round(wall, 3))
        _err(f"run failed: {type(exc).__name__}: {exc} (see {out / ex.MANIFEST})")
        if not multirun:
            raise SystemExit(1) from None
        if not os.environ.get(ex.SWEEP_WATCHED_ENV):
            _sweep_progress(Path(hc.sweep.dir))
        return {}
    wall = time.perf_counter() - t0
    ex.write_manifest(out, status="done", finished_unix=ex.now_unix(), wall_s=round(wall, 3))
    print(format_summary(summary))
    print(f"  ({summary['grids']} grids, {settings.duration_h:g} h simulated in {wall:.1f} s)")
    print(f"results: {out}")
    if multirun and not os.environ.get(ex.SWEEP_WATCHED_ENV):
        _sweep_progress(Path(hc.sweep.dir))
    return summary


def _hash_or_none(cfg: Any) -> str | None:
    """The config hash of a run's config, or None if it does not resolve."""
    from omegaconf import OmegaConf

    from gridsim.experiments.sweep import config_hash

    try:
        resolved = OmegaConf.to_container(cfg, resolve=True)
        assert isinstance(resolved, dict)
        return config_hash(resolved)
    except Exception:  # a bad interpolation: the check reports it
        return None


def _sweep_progress(sweep_dir: Path) -> None:
    """One progress line for the whole sweep (stderr)."""
    from gridsim.experiments.sweep import SWEEP_TOTAL_ENV, sweep_status

    total = os.environ.get(SWEEP_TOTAL_ENV)
    status = sweep_status(sweep_dir, int(total) if total and total.isdigit() else None)
    sys.stderr.write(status.line() + "\n")
    sys.stderr.flush()


_MULTIRUN_FLAGS = ("-m", "--multirun")


def run(args: list[str]) -> int:
    """``gridsim run``: check the config (of each job of a sweep), then hand over to Hydra.

    A run with other Hydra flags (``--help``, ``--cfg``, ``--config-dir`` ...) goes straight to
    Hydra; its config is still checked, job by job, in :func:`_run_task`.
    """
    import hydra

    from gridsim.model.params import register_configs

    register_configs()
    flags = [a for a in args if a.startswith("-")]
    if all(f in _MULTIRUN_FLAGS for f in flags):
        code = _prevalidate([a for a in args if not a.startswith("-")],
                            multirun=bool(flags))
        if code:
            return code
    task = hydra.main(version_base=None, config_path=f"pkg://{CONFIG_MODULE}",
                      config_name="config")(_run_task)
    saved = sys.argv
    sys.argv = ["gridsim run", *args]
    try:
        task()
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return 0


def _experiment_jobs(cfg: Any, overrides: list[str]) -> list[list[str]] | None:
    """Every job of an experiment: its sweeper params, with command-line overrides winning."""
    params = {str(k): str(v) for k, v in (cfg.hydra.sweeper.params or {}).items()}
    for arg in overrides:
        key = _override_key(arg)
        if "=" in arg and not key.startswith("hydra"):
            params[key] = arg.split("=", 1)[1]
    plain = [a for a in overrides if _override_key(a).startswith("hydra")]
    return _sweep_jobs([f"{k}={v}" for k, v in params.items()] + plain)


def experiment(args: list[str]) -> int:
    """``gridsim experiment <file.yaml> [overrides]``: run every variant × replication of an
    experiment file with Hydra's launcher of choice (``hydra/launcher=joblib`` ...), skipping
    runs already done with the same config, recording failed ones and going on."""
    import uuid

    import hydra

    from gridsim.experiments.sweep import SWEEP_TOTAL_ENV, SweepWatcher, sweep_status
    from gridsim.model.validate import ConfigError

    if not args or args[0].startswith("-"):
        _err("usage: gridsim experiment <experiment.yaml> [overrides]")
        return 2
    path = Path(args[0])
    if path.suffix != ".yaml" or not path.is_file():
        _err(f"experiment file not found: {path} (expected a .yaml file, e.g. "
             "experiments/pilot_redesign.yaml)")
        return 2
    overrides = args[1:]
    fixed = [a for a in overrides if not _is_sweep(a)]
    try:
        base = _compose(fixed, path.parent, path.stem)
    except ConfigError as exc:
        for e in exc.errors:
            _err(f"{path}: {e}")
        return 2
    jobs = _experiment_jobs(base, overrides)
    sweep_dir = Path(str(base.hydra.sweep.dir)).resolve()
    if jobs:
        # check each variant once (replications only change the seed stream)
        seen: set[tuple[str, ...]] = set()
        failed = False
        for job in jobs:
            key = tuple(a for a in job if _override_key(a) != "replication")
            if key in seen:
                continue
            seen.add(key)
            try:
                compose_settings(job, path.parent, path.stem)
            except ConfigError as exc:
                failed = True
                for e in exc.errors:
                    _err(f"variant ({' '.join(key)}): {e}")
        if failed:
            return 2
    total = len(jobs) if jobs else None
    os.environ[SWEEP_TOTAL_ENV] = str(total or "")
    os.environ["GRIDSIM_SWEEP_SESSION"] = uuid.uuid4().hex
    print(f"experiment {base.experiment.name or path.stem}: {total or '?'} runs into {sweep_dir}")
    task = hydra.main(version_base=None, config_path=str(path.parent.resolve()),
                      config_name=path.stem)(_run_task)
    saved = sys.argv
    sys.argv = ["gridsim experiment", "--multirun", *overrides, *_launch_overrides(base)]
    watcher = SweepWatcher(sweep_dir, total, since=time.time()).start()
    code = 0
    try:
        task()
    except SystemExit as exc:
        code = int(exc.code) if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        code = 130
    finally:
        sys.argv = saved
        watcher.stop()
    status = sweep_status(sweep_dir, total)
    print(status.line())
    for folder, error in status.failures:
        print(f"  failed: {folder}: {error}")
    print(f"results: {sweep_dir}")
    if code:
        what = "interrupted" if code == 130 else f"stopped (exit {code})"
        print(f"sweep {what}: finished runs are kept; run the same command again to run the "
              "rest")
        return code
    report_dir = str(base.experiment.report_dir or "")
    if report_dir:
        code = report([str(sweep_dir), "--out", report_dir])
        if code:
            return code
    else:
        print(f"next: gridsim report {sweep_dir}")
    return 1 if status.failures else 0


def _launch_overrides(base: Any) -> list[str]:
    """Hydra settings ``gridsim experiment`` adds to every launch.

    * the sweep folder as an absolute path, so that workers started elsewhere (SLURM jobs, Ray
      workers, whose working folder is not ours) write where this process watches;
    * ``GRIDSIM_SWEEP_WATCHED`` set in every job (``hydra.job.env_set`` reaches the workers of
      any launcher): this process shows the progress, the runs print none;
    * Hydra's Ray launcher asks ``ray.init`` for an object store size, which Ray refuses when it
      connects to a running cluster (``ValueError: When connecting to an existing cluster,
      object_store_memory must not be provided``): with an address, it asks for none;
    * Hydra's basic sweeper composes every job in this process before launching any; gridsim's
      sweeper (``hydra_plugins.gridsim_sweeper``) composes one job per variant instead. It is
      registered here through Hydra's API, since Hydra's plugin scan (``pkgutil``) does not see
      the plugins of an editable install.
    """
    from hydra.core.plugins import Plugins

    from gridsim.experiments.sweep import SWEEP_WATCHED_ENV
    from hydra_plugins.gridsim_sweeper import TARGET, GridsimSweeper

    sweep_dir = Path(str(base.hydra.sweep.dir)).resolve()
    extra = [f"hydra.sweep.dir={_quote(str(sweep_dir))}",
             f"++hydra.job.env_set.{SWEEP_WATCHED_ENV}=1"]
    if str(base.hydra.sweeper.get("_target_", "")).endswith("core_plugins.basic_sweeper."
                                                            "BasicSweeper"):
        Plugins.instance().register(GridsimSweeper)
        extra.append(f"hydra.sweeper._target_={TARGET}")
    launcher = base.hydra.launcher
    if "ray_launcher" in str(launcher.get("_target_", "")):
        init = launcher.ray.init
        if init.get("address") and "object_store_memory" not in init:
            extra.append("++hydra.launcher.ray.init.object_store_memory=null")
    return extra


def _quote(value: str) -> str:
    """A string as a quoted value of Hydra's override grammar."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def report(args: list[str]) -> int:
    """``gridsim report <experiment output folder> [--out DIR]``."""
    import argparse

    from gridsim.experiments.report import build_report
    from gridsim.experiments.report_output import write_report

    ap = argparse.ArgumentParser(prog="gridsim report", description=(
        "Gather an experiment's runs into one table with statistics, figures and reports."))
    ap.add_argument("folder", type=Path, help="the experiment's output folder (its sweep dir)")
    ap.add_argument("--out", type=Path, default=None,
                    help="where to write (default: the experiment folder itself)")
    ns = ap.parse_args(args)
    if not ns.folder.is_dir():
        _err(f"no such folder: {ns.folder}")
        return 2
    try:
        rep = build_report(ns.folder)
    except FileNotFoundError as exc:
        _err(str(exc))
        return 2
    out = ns.out or ns.folder
    files = write_report(rep, ns.folder, out)
    done = sum(1 for r in rep.rows if r.get("status") == "done")
    print(f"report: {len(rep.rows)} runs ({done} done), {len(rep.variants)} variants, "
          f"{len(rep.metrics)} metrics")
    for f in files:
        print(f"  {f}")
    return 0


def _is_sweep(arg: str) -> bool:
    """Whether an override sweeps several values (``a=1,2``, ``range(...)``, ``choice(...)``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return bool(OverridesParser.create().parse_override(arg).is_sweep_override())
    except Exception:
        return False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gridsim`` console script."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if args[0] == "--version":
        print(f"gridsim {__version__}")
        return 0
    if args[0] == "run":
        return run(args[1:])
    if args[0] == "scenario":
        from gridsim.app.scenario_cmd import scenario_main

        return scenario_main(args[1:])
    if args[0] == "experiment":
        return experiment(args[1:])
    if args[0] == "report":
        return report(args[1:])
    if args[0] == "drill":
        from gridsim.app.drill_cmd import drill_main

        return drill_main(args[1:])
    _err(f"unknown command {args[0]!r}\n{USAGE}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
