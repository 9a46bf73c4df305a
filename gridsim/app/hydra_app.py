"""The Hydra boundary: the one module of ``gridsim/`` that imports Hydra and OmegaConf.

Everything that turns a Hydra config into gridsim's typed settings happens here, once per run
(once per variant in an experiment): registering the schema and the scenario presets in Hydra's
ConfigStore, composing ``conf/`` (or an experiment file), describing a composition error in one
line naming the key and the file or override it comes from, converting the DictConfig into the
:class:`gridsim.model.params.RunConfig` dataclasses, checking the value ranges and freezing
them (:mod:`gridsim.model.frozen`). Below this module there is no DictConfig: the engine, the
place and the outputs take frozen settings.

The commands that need Hydra start here too:

* :func:`run_command` (``gridsim run``): a plain run composes once with Hydra's compose API,
  checks once, claims its run folder (a time-stamped folder is claimed atomically, so two runs
  started in the same second keep both their results) and runs through Hydra's own
  :func:`hydra.core.utils.run_job` (the ``.hydra/`` files, logging, callbacks are Hydra's).
  ``-m`` checks every job, then sweeps with gridsim's sweeper and Hydra's launcher; any
  other Hydra flag (``--help``, ``--cfg``, ``--info``, ...) goes to ``hydra.main`` as it is.
* :func:`experiment_command` (``gridsim experiment``): the orchestration is
  :func:`gridsim.experiments.orchestrate.run_experiment` (the experiment's checks, its jobs,
  the launch settings, the sweep and its report); this module is its Hydra side
  (:class:`_ExperimentBoundary`: composing the experiment and each of its variants once,
  checking them, Hydra's multirun with gridsim's sweeper, :mod:`hydra_plugins.gridsim_sweeper`,
  which launches the replications of a variant in batches); :func:`run_task` runs a batch in
  one process on one built scenario, each replication into the folder it would have had as a
  job of its own.

The run itself (the folder's lifecycle, the simulation, the files) is Hydra-free:
:mod:`gridsim.app.runs` and :mod:`gridsim.output.run_folder`.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import itertools
import json
import os
import re
import shutil
import sys
import uuid
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml  # OmegaConf's YAML library, for its to_yaml of a batch's replications
from hydra import compose, initialize_config_dir, initialize_config_module
from hydra._internal.callbacks import Callbacks  # Hydra's own, as its run and multirun use them
from hydra._internal.config_loader_impl import (  # Hydra's own rules, as its loader applies them
    ConfigLoaderImpl,
    get_overrides_dirname,
)
from hydra.core.config_store import ConfigNode, ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus, configure_log, run_job
from hydra.types import HydraContext, RunMode
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict, read_write
from omegaconf._utils import get_omega_conf_dumper  # the dumper of OmegaConf.to_yaml

from gridsim.app import runs
from gridsim.app.five_pre_map import apply_five_pre
from gridsim.app.id_checks import folder_id_errors
from gridsim.experiments import checks, orchestrate
from gridsim.fsutil import write_atomic
from gridsim.model import params
from gridsim.model.frozen import freeze
from gridsim.model.params import RunConfig
from gridsim.model.validate import ConfigError, validate
from gridsim.output.run_folder import RunOutcome, claim_run_folder

__all__ = [
    "BATCH_ENV",
    "CONFIG_MODULE",
    "check",
    "compose_config",
    "compose_settings",
    "experiment_command",
    "is_sweep",
    "load_scenario_file",
    "register_configs",
    "run_command",
    "run_plain",
    "run_task",
    "scenario_folder_node",
    "store_scenario_option",
    "sweep_jobs",
    "to_settings",
]

CONFIG_MODULE = "gridsim.conf"
GROUPS = ("scenario", "catalogue", "hazard", "response", "evacuation", "planning")
MULTIRUN_FLAGS = ("-m", "--multirun")
#: The ``hydra.job.env_set`` key by which gridsim's sweeper hands a job the replications of its
#: batch (see :mod:`hydra_plugins.gridsim_sweeper`).
BATCH_ENV = "GRIDSIM_BATCH"


# ----------------------------------------------------------------------------------------------
# the ConfigStore: the schema and the scenario presets
# ----------------------------------------------------------------------------------------------
def _stored(cs: ConfigStore, group: str | None, name: str) -> Any:
    """The ConfigStore's entry ``group/name``, or None."""
    repo: Any = cs.repo
    for part in (group.split("/") if group else []):
        repo = repo.get(part) if isinstance(repo, dict) else None
    return repo.get(f"{name}.yaml") if isinstance(repo, dict) else None


def register_configs() -> None:
    """Register the schema and the scenario presets in Hydra's ConfigStore.

    An entry is stored again only when it changed (a preset's file, or the presets there are):
    parsing every preset costs a quarter of a second, and a process composes many configs
    (an experiment: the experiment, each variant, Hydra's sweep, each batch of runs)."""
    cs = ConfigStore.instance()
    # The schema only at the root: group files are validated as they merge into its typed
    # fields, and schema entries stored in a group would show up as options of that group.
    if _stored(cs, None, "gridsim_schema") is None:
        cs.store(name="gridsim_schema", node=RunConfig, provider="gridsim")
    for name, path in params.scenario_presets().items():
        source = Path(str(path))
        try:
            stamp = f"gridsim:{source}:{source.stat().st_mtime_ns}"
        except OSError:  # a preset in a zip archive: no modification time to compare
            stamp = ""
        entry = _stored(cs, "scenario", name)
        if stamp and entry is not None and getattr(entry, "provider", None) == stamp:
            continue
        # stored unparsed: a run reads the one preset it chooses (the others cost 30 ms each)
        cs.store(group="scenario", name=name, node={}, provider=stamp or "gridsim")
        stored = _stored(cs, "scenario", name)
        cs.repo["scenario"][f"{name}.yaml"] = _LazyPreset(stored, path, source, name)


def _preset_node(path: Any, source: Path, name: str) -> DictConfig:
    """The config node of a scenario preset: its YAML file, or a scenario folder's node."""
    if path.name == "scenario.yaml":  # a scenario folder: its files are read at build
        return OmegaConf.create(scenario_folder_node(source, name))
    return OmegaConf.create(path.read_text(encoding="utf-8"))


class _LazyPreset(ConfigNode):
    """A ConfigStore entry of a scenario preset whose YAML is parsed when Hydra first loads it
    (``ConfigStore.load`` copies the entry and sets ``node`` on the copy: the parsed node is
    shared by the copies, what each copy sets is its own)."""

    def __init__(self, stored: ConfigNode, path: Any, source: Path, name: str) -> None:
        self.__dict__.update(stored.__dict__)
        self.__dict__.pop("node", None)
        self._parsed: list[DictConfig] = []  # shared by the copies of this entry
        self._own: DictConfig | None = None
        self._args = (path, source, name)

    @property  # type: ignore[override]
    def node(self) -> DictConfig:
        if self._own is not None:
            return self._own
        if not self._parsed:
            self._parsed.append(_preset_node(*self._args))
        return self._parsed[0]

    @node.setter
    def node(self, value: DictConfig) -> None:
        self._own = value


def scenario_folder_node(scenario_yaml: Path, name: str | None = None) -> dict[str, Any]:
    """The config node of a scenario folder as an option of the ``scenario`` group."""
    # imported here: gridsim.place.folder pulls in numpy, scipy and pyproj, which a run of a
    # synthetic preset does not need to compose (start-up time)
    from gridsim.place.folder import registry_node

    return registry_node(Path(scenario_yaml), name)


def store_scenario_option(name: str, node: Any) -> None:
    """Store ``node`` (a mapping, or a node from :func:`load_scenario_file`) as the option
    ``name`` of the ``scenario`` group."""
    ConfigStore.instance().store(group="scenario", name=name,
                                 node=node if isinstance(node, DictConfig)
                                 else OmegaConf.create(node))


def load_scenario_file(path: Path) -> Any:
    """The config node of a preset YAML file of the user's; :class:`ValueError` with one line
    when it does not read as YAML or does not hold a mapping."""
    try:
        node = OmegaConf.create(Path(path).read_text(encoding="utf-8"))
    except Exception as exc:  # YAML syntax, encoding: OmegaConf raises many kinds
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"cannot read the scenario file: {first}") from None
    if not OmegaConf.is_dict(node):
        raise ValueError("a scenario file must hold a mapping of scenario keys")
    return node


# ----------------------------------------------------------------------------------------------
# scenario=<path>: a scenario folder or a preset YAML file as an option of the scenario group
# ----------------------------------------------------------------------------------------------
#: The options registered from a path in this process: the value as typed -> the folder's
#: scenario.yaml or the preset file (Hydra's launchers hand the ConfigStore to their workers).
_PATH_OPTIONS: dict[str, Path] = {}


def _looks_like_path(value: str) -> bool:
    """Whether a ``scenario=`` value names a path rather than an option: it has a ``/``, ends in
    ``.yaml``/``.yml``, or exists on disk and is no preset's name."""
    if value in _PATH_OPTIONS:
        return True
    if "/" in value or "\\" in value or value.endswith((".yaml", ".yml")) or value in (".", ".."):
        return True
    if value in params.scenario_presets() or _stored(ConfigStore.instance(), "scenario",
                                                      value) is not None:
        return False
    return Path(value).exists()


def _path_node(path: Path, label: str) -> tuple[Path, Any]:
    """``(source file, config node)`` of a scenario folder or a preset YAML file; ValueError
    with what was expected (``label``: the path as typed)."""
    if path.is_dir():
        spec = path / "scenario.yaml"
        if not spec.is_file():
            raise ValueError(f"{label} is not a scenario folder: expected "
                             f"{label.rstrip('/')}/scenario.yaml, got no such file "
                             "(docs/scenario_format.md)")
        return spec, scenario_folder_node(spec, path.resolve().name)
    if not path.is_file():
        raise ValueError(f"expected a scenario folder (with scenario.yaml) or a preset YAML "
                         f"file, got no such file or folder {label}")
    if path.name == "scenario.yaml":  # the folder named by its scenario.yaml
        return path, scenario_folder_node(path, path.resolve().parent.name)
    return path, load_scenario_file(path)


def _register_path(value: str, also: Sequence[Path] = ()) -> str:
    """Register the folder or preset file ``value`` names (relative to the working folder, else
    to a folder of ``also``) as the option ``value`` of the scenario group; the value to use in
    the override (``value`` itself, unless Hydra cannot look it up as it is typed: then the
    absolute path). ValueError with one line when it names nothing usable."""
    typed = value
    path = Path(value).expanduser()
    if not path.is_absolute() and not path.exists():
        path = next((Path(d) / value for d in also if (Path(d) / value).exists()), path)
    source, node = _path_node(path, value)
    last = value.rstrip("/").rsplit("/", 1)[-1]
    if value.endswith("/") or last in ("", ".", "..") or value.startswith("~"):
        value = str(path.resolve())  # a value Hydra's lookup cannot split into group/name
    group, _, name = f"scenario/{value}".rpartition("/")
    name = name[: -len(".yaml")] if name.endswith(".yaml") else name  # Hydra adds .yaml
    group = "/".join(p for p in group.split("/") if p)  # as ConfigStore's lookup skips them
    source = source.resolve()
    if _PATH_OPTIONS.get(value) != source or _stored(ConfigStore.instance(), group,
                                                      name) is None:
        ConfigStore.instance().store(group=group, name=name, node=OmegaConf.create(node),
                                     provider=f"gridsim:{source}")
        _PATH_OPTIONS[value] = source
    _PATH_OPTIONS.setdefault(typed, source)
    return value


def _file_scenario_values(config_file: Path) -> list[str]:
    """The ``scenario`` values an experiment file chooses: its defaults list
    (``override scenario: X``) and its sweep (``hydra.sweeper.params.scenario: X,Y``)."""
    try:
        data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):  # composition reports it
        return []
    if not isinstance(data, dict):
        return []
    values: list[str] = []
    for entry in data.get("defaults") or []:
        if isinstance(entry, dict):
            values += [str(v) for k, v in entry.items()
                       if str(k).split()[-1] == "scenario" and isinstance(v, str)]
    hydra_node = data.get("hydra")
    sweep = (((hydra_node or {}).get("sweeper") or {}).get("params") or {}
             if isinstance(hydra_node, dict) else {})
    if isinstance(sweep, dict) and isinstance(sweep.get("scenario"), str):
        values += [v.strip() for v in sweep["scenario"].split(",") if v.strip()]
    return values


def scenario_paths(overrides: Sequence[str], config_file: Path | None = None) -> list[str]:
    """``overrides`` with every ``scenario=<path>`` (also each value of a sweep, and the
    scenario values of the experiment file ``config_file``) registered as an option of the
    scenario group, so that Hydra composes a scenario folder or a preset YAML file like a
    preset (in this process and in its launchers' workers); the overrides to compose (a value
    rewritten only where Hydra could not look it up as typed: a trailing ``/``, ``.``).
    :class:`ConfigError` with one line naming the override (or file) and what was expected."""
    out: list[str] = []
    also = [config_file.parent] if config_file is not None else []
    for where_from, value in ((f"{config_file}", v) for v in (
            _file_scenario_values(config_file) if config_file is not None else [])):
        if _looks_like_path(value):
            try:
                _register_path(value, also)
            except ValueError as exc:
                raise ConfigError([f"config error at scenario: {exc} ({where_from})"]) from None
    for arg in overrides:
        if override_key(arg) != "scenario" or "=" not in arg or arg.startswith("~"):
            out.append(arg)
            continue
        head, _, raw = arg.partition("=")
        values = [v for v in raw.split(",")] if is_sweep(arg) and "(" not in raw else [raw]
        if not any(_looks_like_path(v) for v in values):
            out.append(arg)
            continue
        try:
            new = [_register_path(v, also) if _looks_like_path(v) else v for v in values]
        except ValueError as exc:
            raise ConfigError([f"config error at scenario: {exc} (command-line override "
                               f"{arg})"]) from None
        out.append(f"{head}={','.join(new)}")
    return out


def _apply_folder_settings(cfg: DictConfig, overrides: Sequence[str]) -> None:
    """A scenario folder's own settings into ``cfg`` (in place), however it is chosen
    (``scenario=<folder>``, a folder preset, ``scenario.generator=files scenario.path=...``):
    the name (the folder's), the absolute path, and the ``generate:`` block of its scenario.yaml
    over the option's settings (``people`` and ``supplies`` field by field, ``seed``,
    ``departments`` and ``exposure_per_kind`` whole); then the command line's ``scenario.*``
    values once more, so that they win. ConfigError naming scenario.yaml for a setting of
    ``generate:`` that does not fit the schema."""
    node = cfg.get("scenario") if isinstance(cfg, DictConfig) else None
    if not isinstance(node, DictConfig) or node.get("generator") != "files":
        return
    raw_path = node.get("path")
    if not isinstance(raw_path, str) or not raw_path:
        return
    # imported here: gridsim.place.folder pulls in numpy, scipy and pyproj (start-up time)
    from gridsim.place.folder import generate_block

    folder = Path(raw_path).expanduser()
    if folder.name == "scenario.yaml":
        folder = folder.parent
    gen = generate_block(folder)
    spec_file = folder / "scenario.yaml"
    try:
        with read_write(node), open_dict(node):
            node.path = str(folder.resolve())
            node.name = folder.resolve().name
            for k, v in gen.items():
                fields = v.items() if k in ("people", "supplies") and isinstance(v, dict) else ()
                for parent, f, x in ([(node[k], f, x) for f, x in fields] if fields
                                     else [(node, k, v)]):
                    parent[f] = {} if isinstance(x, dict) else x  # replaced whole ...
                    if isinstance(x, dict):
                        parent.merge_with({f: x})  # ... as the schema types it
    except Exception as exc:  # OmegaConf raises many kinds; all mean "does not fit the schema"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError([f"config error at scenario: {first} ({spec_file}: generate)"]
                          ) from None
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except Exception:  # a malformed override: composition reported it already
        return
    again = [ov for ov in parsed if ov.key_or_group.startswith("scenario.")
             and ov.key_or_group != "scenario.path"  # made absolute above
             and not (ov.is_add() or ov.is_delete() or ov.is_sweep_override())
             and ov.package is None]
    if again:
        with read_write(cfg):
            ConfigLoaderImpl._apply_overrides_to_config(again, cfg)


# ----------------------------------------------------------------------------------------------
# where a config value comes from: a command-line override or a YAML file of conf/
# ----------------------------------------------------------------------------------------------
#: The key an override sets: ``+scenario.foo=1`` -> ``scenario.foo``.
override_key = orchestrate.override_key


def _searchpath(overrides: Sequence[str]) -> list[str]:
    """The entries of ``hydra.searchpath=[...]`` overrides, in order."""
    entries: list[str] = []
    for arg in overrides:
        if override_key(arg) != "hydra.searchpath" or "=" not in arg:
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
    from importlib.resources import files  # only when describing an error

    name = f"{option}.yaml"
    if group == "scenario":
        if option in _PATH_OPTIONS:  # scenario=<path>: the folder's scenario.yaml, the file
            return str(_PATH_OPTIONS[option])
        preset = params.scenario_presets().get(option)
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
    return not (key in GROUPS or key.startswith("hydra"))


def where(key: str, choices: dict[str, str], overrides: Sequence[str],
          searchpath: list[str], primary: str = "conf/config.yaml") -> str:
    """Where the value at ``key`` was set: the override that sets it, else its file."""
    dotted = re.sub(r"\[(\d+)\]", r".\1", key)  # a.b[0].c -> a.b.0.c, as overrides write it
    for arg in reversed(overrides):  # the last override of a key wins
        k = re.sub(r"\[(\d+)\]", r".\1", override_key(arg))
        if _is_value_override(k) and (dotted == k or dotted.startswith(f"{k}.")):
            return f"command-line override {arg}"
    top = key.split(".")[0].split("[")[0]
    if top in GROUPS and top in choices:
        found = _group_file(top, choices[top], searchpath)
    else:
        found = primary
    if any(_is_value_override(k) and (k == top or k.startswith((f"{top}.", f"{top}[")))
           for k in map(override_key, overrides)):
        found += " or an override"
    return found


_META = ("full_key:", "object_type=", "reference_type=", "To append to your config",
         "Set the environment variable HYDRA_FULL_ERROR")


def describe(exc: BaseException, choices: dict[str, str], overrides: Sequence[str],
             searchpath: list[str], primary: str = "conf/config.yaml") -> str:
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
        by = [a for a in overrides if override_key(a) == group]
        if by:
            found = f"command-line override {by[-1]}"
        elif parent == "config":
            found = "conf/config.yaml"
        else:
            parent_group, _, parent_option = parent.rpartition("/")
            found = (_group_file(parent_group, parent_option, searchpath) if parent_group
                     else parent)
        return f"config error at {group}: unknown option {option!r}{avail} ({found})"

    bad = getattr(exc, "override", None)  # OverrideParseException: the override's syntax
    if isinstance(bad, str):
        detail = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()
                       and not ln.startswith(("Error parsing override", "See https://"))), "")
        return (f"config error at {override_key(bad) or '?'}: cannot parse the override "
                f"{bad!r}: {detail} (see https://hydra.cc/docs/advanced/override_grammar/basic)")

    m = re.search(r"Ambiguous value for argument '([^']+)'", text)
    if m:  # a sweep (a,b) without --multirun
        k = override_key(m.group(1))
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

    found = ""
    in_file = re.search(r"In '([^']+)/([^'/]+)': \w+ raised while composing", text)
    by_override = re.search(r"(?:Error merging override|Could not override) '?([^'\n]+?)'?\.?$",
                            text, re.MULTILINE)
    if in_file:
        found = _group_file(in_file.group(1), in_file.group(2), searchpath)
    elif by_override:
        k = override_key(by_override.group(1))
        match = [a for a in overrides if override_key(a) == k]
        found = f"command-line override {match[-1] if match else by_override.group(1)}"
        key = key or k
    elif key:
        found = where(key, choices, overrides, searchpath, primary)
    head = f"config error at {key}" if key else "config error"
    return f"{head}: {reason}" + (f" ({found})" if found else "")


# ----------------------------------------------------------------------------------------------
# composing, converting and checking
# ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _hydra(config_dir: Path | None) -> Iterator[Any]:
    """Hydra initialised on gridsim's config module (or on ``config_dir``, an experiment's
    folder); yields Hydra's ``Hydra`` object (its config loader, run and multirun)."""
    register_configs()
    _register_sweeper()
    init = (initialize_config_module(CONFIG_MODULE, version_base=None, job_name="gridsim")
            if config_dir is None
            else initialize_config_dir(str(config_dir.resolve()), version_base=None,
                                       job_name="gridsim"))
    with init:
        hydra = GlobalHydra.instance().hydra
        assert hydra is not None
        yield hydra


def _register_sweeper() -> None:
    """gridsim's sweeper as the option ``hydra/sweeper=gridsim`` (its module stores it in the
    ConfigStore), also where Hydra's plugin scan does not see it (an editable install)."""
    # Hydra's plugin scan first: it executes the plugin modules it finds (Hydra's own basic
    # sweeper among them) afresh, so a sweeper class imported before it would subclass a
    # BasicSweeper that is no longer Hydra's
    Plugins.instance()
    from hydra_plugins.gridsim_sweeper import GridsimSweeper  # after the scan, see above

    Plugins.instance().register(GridsimSweeper)


def _composition_error(exc: BaseException, overrides: Sequence[str],
                       caught: Sequence[warnings.WarningMessage], primary: str) -> ConfigError:
    msg = describe(exc, {}, overrides, _searchpath(overrides), primary)
    missing = [m.group(1) for w in caught
               if (m := re.search(r"path=(\S+) is not available", str(w.message)))]
    if missing:
        msg += f"; hydra.searchpath folder not found: {', '.join(missing)}"
    return ConfigError([msg])


def compose_config(overrides: Sequence[str], config_dir: Path | None = None,
                   config_name: str = "config") -> DictConfig:
    """The composed config (with its ``hydra`` node) of gridsim's own config, or of the config
    file ``config_name`` in ``config_dir`` (an experiment); ConfigError if it does not compose."""
    overrides = scenario_paths(overrides, config_dir / f"{config_name}.yaml"
                               if config_dir is not None else None)
    primary = (f"{config_dir / config_name}.yaml" if config_dir is not None
               else "conf/config.yaml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _hydra(config_dir):
                return compose(config_name, overrides=overrides, return_hydra_config=True)
        except Exception as exc:  # Hydra raises many kinds; all mean "bad config"
            raise _composition_error(exc, overrides, caught, primary) from None


def _unknown_keys(node: Any, path: str = "") -> list[tuple[str, str]]:
    """``(key, schema class)`` of every key of a composed config that its schema does not have.

    Hydra lets ``+key=value`` and ``++key=value`` add keys to a typed node, and OmegaConf's
    conversion to dataclasses drops them silently; they are rejected like any unknown key."""
    found: list[tuple[str, str]] = []
    if isinstance(node, DictConfig):
        typ = OmegaConf.get_type(node)
        known = ({f.name for f in dataclasses.fields(typ)}
                 if isinstance(typ, type) and dataclasses.is_dataclass(typ) else None)
        for k in node.keys():
            key = f"{path}.{k!s}" if path else str(k)
            if known is not None and k not in known:
                found.append((key, typ.__name__))  # type: ignore[union-attr]
                continue
            child: Any = node._get_node(k)
            if isinstance(child, DictConfig | ListConfig):
                found += _unknown_keys(child, key)
    elif isinstance(node, ListConfig):
        for i in range(len(node)):
            item: Any = node._get_node(i)
            if isinstance(item, DictConfig | ListConfig):
                found += _unknown_keys(item, f"{path}[{i}]")
    return found


def to_settings(cfg: DictConfig) -> RunConfig:
    """Typed settings from a composed config (its ``hydra`` node, if any, left aside).

    Raises OmegaConf's errors for a value that does not convert, and ``KeyError`` naming a key
    the schema does not have."""
    if OmegaConf.get_type(cfg) is not RunConfig:  # composed without the schema
        merged = OmegaConf.merge(OmegaConf.structured(RunConfig), _without_hydra(cfg))
        obj = OmegaConf.to_object(merged)
        assert isinstance(obj, RunConfig)
        return obj
    # field by field: the hydra node is not converted (nor copied away first)
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    values: dict[str, Any] = {k: OmegaConf.to_object(node)
                              if isinstance(node, DictConfig | ListConfig) else cfg[k]
                              for k, node in _app_nodes(cfg) if k in fields}
    return RunConfig(**values)


def _choices(cfg: DictConfig) -> dict[str, str]:
    return {k: str(v) for k, v in cfg.hydra.runtime.choices.items()}


def check(cfg: DictConfig, overrides: Sequence[str], primary: str = "conf/config.yaml"
          ) -> RunConfig:
    """Frozen settings (:func:`gridsim.model.frozen.freeze`) from a composed config, or
    :class:`ConfigError` with one line per problem, each naming the key and the file or override
    it comes from. One conversion, one range check."""
    _apply_folder_settings(cfg, overrides)  # a scenario folder's name, path and generate:
    choices = _choices(cfg) if "hydra" in cfg else {}
    searchpath = _searchpath(overrides)
    if "hydra" in cfg:
        searchpath += [str(s.path) if s.schema == "file" else f"{s.schema}://{s.path}"
                       for s in cfg.hydra.runtime.config_sources
                       if s.schema in ("file", "pkg")]
    unknown = _unknown_keys(cfg)
    unknown = [(k, t) for k, t in unknown if not k.startswith("hydra")]
    if unknown:
        raise ConfigError([f"config error at {k}: unknown key {k.rsplit('.', 1)[-1]!r} ({t} has "
                           f"no such field) ({where(k, choices, overrides, searchpath, primary)})"
                           for k, t in unknown])
    try:
        settings = to_settings(cfg)
    except Exception as exc:  # OmegaConf raises many kinds; all mean "bad config"
        raise ConfigError([describe(exc, choices, overrides, searchpath, primary)]) from None
    settings, errors = apply_five_pre(settings)  # 五预 levers onto the model's keys, once
    errors += validate(settings)
    errors += folder_id_errors(settings)  # ids a scenario folder lacks (hazard, drill, plan)
    if errors:
        raise ConfigError([f"config error at {e} "
                           f"({where(e.split(':')[0], choices, overrides, searchpath, primary)})"
                           for e in errors])
    return freeze(settings)  # the one place settings are made: read-only from here on


def compose_settings(overrides: Sequence[str], config_dir: Path | None = None,
                     config_name: str = "config") -> tuple[RunConfig, dict[str, str]]:
    """Compose and check the run config without Hydra's app; ``(settings, group choices)``.

    ``overrides`` are those of ``gridsim run``, Hydra's own included (``hydra.searchpath=[...]``
    adds config folders). Raises :class:`gridsim.model.validate.ConfigError` with one line per
    problem, each naming the key and the file or override it comes from. With ``config_dir``,
    the config is the file ``config_name`` there (an experiment file) instead of gridsim's own.
    """
    overrides = list(overrides)
    cfg = compose_config(overrides, config_dir, config_name)
    primary = (f"{config_dir / config_name}.yaml" if config_dir is not None
               else "conf/config.yaml")
    return check(cfg, overrides, primary), _choices(cfg)


def _app_nodes(cfg: DictConfig) -> Iterator[tuple[str, Any]]:
    """The top-level keys of the run's config and their nodes, its ``hydra`` node left aside
    (no copy of the config: OmegaConf's copies cost as much as a conversion)."""
    for k in cfg.keys():
        if k != "hydra":
            yield str(k), cfg._get_node(k)


def _without_hydra(cfg: DictConfig) -> DictConfig:
    """The config without its ``hydra`` node, as a DictConfig (a copy: for saving as YAML)."""
    if "hydra" not in cfg:
        return cfg
    app = copy.copy(cfg)
    with read_write(app), open_dict(app):
        app.pop("hydra")
    return app


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The run's config with interpolations resolved, as a plain dict (the manifest's
    ``config``), its ``hydra`` node left aside."""
    return {k: OmegaConf.to_container(node, resolve=True)
            if isinstance(node, DictConfig | ListConfig) else cfg[k]
            for k, node in _app_nodes(cfg)}


# ----------------------------------------------------------------------------------------------
# sweeps: the jobs of ``-m`` and of an experiment
# ----------------------------------------------------------------------------------------------
def is_sweep(arg: str) -> bool:
    """Whether an override sweeps several values (``a=1,2``, ``range(...)``, ``choice(...)``)."""
    try:
        return bool(OverridesParser.create().parse_override(arg).is_sweep_override())
    except Exception:  # a malformed override: composition reports it
        return False


def sweep_jobs(args: Sequence[str]) -> list[list[str]] | None:
    """The overrides of each job of ``gridsim run -m args`` (as Hydra's basic sweeper makes
    them), or ``None`` when they cannot be worked out here (Hydra will then report)."""
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
    except Exception:  # a malformed override: composition reports it
        return None
    return [list(job) for job in itertools.product(*axes.values())]


def _job_settings(base: DictConfig | None, overrides: Sequence[str],
                  config_dir: Path | None = None, config_name: str = "config") -> RunConfig:
    """The checked settings of the job ``overrides`` of a sweep whose config without its sweeps
    is ``base`` (None: not known): :func:`compose_settings` of the job, without composing it
    again when the job only sets values of ``base``."""
    overrides = list(overrides)
    applied = _value_overrides(base, overrides) if base is not None else None
    if base is None or applied is None:  # a group chosen anew, a key added or deleted
        return compose_settings(overrides, config_dir, config_name)[0]
    # base with the job's values set as Hydra's composition sets them (after its defaults
    # list): the same config, without composing it again
    primary = (f"{config_dir / config_name}.yaml" if config_dir is not None
               else "conf/config.yaml")
    cfg = copy.deepcopy(base)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ConfigLoaderImpl._apply_overrides_to_config(applied, cfg)
        except Exception as exc:  # as a composition's error
            raise _composition_error(exc, overrides, caught, primary) from None
    return check(cfg, overrides, primary)


def _prevalidate(overrides: list[str]) -> int | None:
    """Check every job of ``gridsim run -m`` before Hydra starts anything: one line per
    problem, prefixed by the job; the exit code (None: a sweep this function cannot expand,
    each job is checked when it runs)."""
    jobs = sweep_jobs(overrides)
    if jobs is None:
        return None
    swept = [i for i in range(len(jobs[0])) if len({job[i] for job in jobs}) > 1] if jobs else []
    base: DictConfig | None = None
    if len(jobs) > 1:  # composed once: the jobs that only set values are checked on it
        try:
            base = compose_config([a for a in overrides if not is_sweep(a)])
        except ConfigError:  # each job reports it, composed on its own
            base = None
    failed = False
    for n, job in enumerate(jobs):
        try:
            _job_settings(base, job)
        except ConfigError as exc:
            failed = True
            what = " ".join(job[i] for i in swept)
            prefix = f"job #{n}" + (f" ({what})" if what else "") + ": "
            for e in exc.errors:
                runs.err(prefix + e)
    return 2 if failed else 0


# ----------------------------------------------------------------------------------------------
# the Hydra task: one run, or a batch of replications of one variant
# ----------------------------------------------------------------------------------------------
def _run_context(hc: Any) -> runs.RunContext:
    multirun = hc.mode == RunMode.MULTIRUN
    return runs.RunContext(
        multirun=multirun,
        sweep_dir=Path(str(hc.sweep.dir)) if multirun else None,
        watched=bool(os.environ.get(runs.SWEEP_WATCHED_ENV)),
        session=os.environ.get(runs.SWEEP_SESSION_ENV, ""))


def _checked(cfg: DictConfig, overrides: list[str], multirun: bool) -> RunConfig:
    """The settings of a job's config; its problems printed, exit 2, when it does not check."""
    try:
        return check(cfg, overrides)
    except ConfigError as exc:
        for e in exc.errors:
            runs.err(e)
        raise SystemExit(2) from None


def run_task(cfg: DictConfig) -> dict[str, Any]:
    """The Hydra task of ``gridsim run -m``, of ``gridsim run`` with Hydra flags and of
    ``gridsim experiment``: one run written into Hydra's output folder, or, for a job gridsim's
    sweeper launched with a batch of replications, every replication of the batch."""
    hc = HydraConfig.get()
    ctx = _run_context(hc)
    overrides = [str(o) for o in hc.overrides.task]
    batch = hc.job.env_set.get(BATCH_ENV) if hc.job.env_set else None
    if batch:
        return _run_batch(cfg, hc, decode_batch(str(batch)), ctx)
    settings = _checked(cfg, overrides, ctx.multirun)
    outcome = runs.run_one(settings, Path(hc.runtime.output_dir), resolved_config(cfg),
                           overrides, ctx)
    return outcome.summary or {}


def encode_batch(spec: dict[str, Any]) -> str:
    """A batch spec as a value Hydra's override grammar takes unquoted (base64 of its JSON)."""
    raw = json.dumps(spec, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_batch(value: str) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    spec = json.loads(raw.decode("utf-8"))
    assert isinstance(spec, dict)
    return spec


def _batch_root(cfg: DictConfig, hc: Any) -> DictConfig:
    """A config of the batch's own (app and ``hydra`` nodes) that each replication's values
    are set into in turn (one copy per batch, not per replication)."""
    full = copy.deepcopy(cfg)
    hydra_cfg = copy.deepcopy(hc)
    OmegaConf.set_readonly(hydra_cfg, False)  # HydraConfig marks its node read-only
    with read_write(full), open_dict(full):
        full["hydra"] = hydra_cfg
    return full


def _set_member(full: DictConfig, carrier_overrides: list[str], member: list[Any],
                subdir: str, also: Sequence[Any] = ()) -> list[str]:
    """Set into ``full`` what a replication of the batch would have had as a job of its own:
    its overrides and replication, job number and id, override_dirname, and the sweep's own
    subdir (the batch job ran in a scratch folder); the same into the ``hydra`` nodes ``also``
    (HydraConfig's copy of ``full.hydra``, kept equal to it); returns its overrides."""
    num, replication = int(member[0]), member[1]
    overrides = list(carrier_overrides)
    if replication is not None:  # the carrier's overrides, with this member's replication
        overrides = [replication if override_key(o) == "replication" else o for o in overrides]
    parsed = OverridesParser.create().parse_overrides(overrides)
    h = full.hydra
    with read_write(full), open_dict(full):
        for ov in parsed:  # only replication differs from the carrier (see the sweeper)
            if ov.get_key_element() == "replication":
                full.replication = int(ov.value())  # type: ignore[arg-type]
    old_id, old_num = str(h.job.id), str(h.job.num)
    job_id: Any = None  # None: the id is left as it is
    if old_id == old_num:
        job_id = num
    elif old_id.endswith(f"_{old_num}"):
        job_id = f"{old_id[: -len(old_num)]}{num}"
    oc = h.job.config.override_dirname
    dirname = get_overrides_dirname(
        overrides=[ov for ov in parsed if not ov.get_key_element().startswith("hydra")],
        kv_sep=oc.kv_sep, item_sep=oc.item_sep, exclude_keys=oc.exclude_keys)
    hydra_overrides = [o for o in h.overrides.hydra
                       if not str(o).lstrip("+").startswith(
                           (f"hydra.job.env_set.{BATCH_ENV}=", "hydra.sweep.subdir="))]
    for node in (h, *also):
        # set_config marks the hydra node read-only: its own flag, which the root's does not
        # lift
        with read_write(node), open_dict(node):
            node.overrides.task = overrides
            node.overrides.hydra = hydra_overrides
            node.job.env_set.pop(BATCH_ENV, None)
            node.sweep.subdir = subdir
            node.job.num = num
            if job_id is not None:
                node.job.id = job_id
            node.job.override_dirname = dirname
    return overrides


class _MemberYaml:
    """The ``.hydra/hydra.yaml`` text of each replication of a batch, as
    ``OmegaConf.to_yaml(HydraConfig.instance().cfg)`` writes it, without dumping Hydra's whole
    node (about 4 kB of YAML, the costliest part of a replication's ``.hydra/`` files) for
    each: the first replication's node is dumped once with a unique token in place of each
    value that differs between the replications (what :func:`_set_member` and
    :func:`_run_member` set: the task overrides, the job's number, id and override_dirname,
    the output folder), and each replication's text is that template with the tokens replaced
    by its values as YAML writes them. In block style a scalar's text depends on the scalar
    alone as long as YAML does not fold it (folding happens only at a space, or anywhere in a
    double-quoted scalar): a value whose text has a space, a line break or a double quote,
    or a node that differs from the template's elsewhere (a task overrides list of another
    length), is dumped whole instead."""

    _PATHS = (("job", "override_dirname"), ("job", "id"), ("job", "num"),
              ("runtime", "output_dir"))

    def __init__(self) -> None:
        self._template: str | None = None
        self._tokens: list[str] = []
        self._tasks = -1

    @staticmethod
    def _dump(container: Any) -> str:
        """What :meth:`OmegaConf.to_yaml` does with a plain container."""
        return str(yaml.dump(container, default_flow_style=False, allow_unicode=True,
                             sort_keys=False, Dumper=get_omega_conf_dumper()))

    def _values(self, hydra: DictConfig) -> list[Any]:
        raw = [hydra[a]._get_node(b)._value() for a, b in self._PATHS]
        task = OmegaConf.to_container(hydra.overrides.task, resolve=False)
        assert isinstance(task, list)
        return [*raw, *task]

    def text(self, root: DictConfig) -> str:
        hydra = root.hydra
        if self._template is None:
            container: Any = OmegaConf.to_container(root, resolve=False, enum_to_str=True)
            node = container["hydra"]
            self._tasks = len(node["overrides"]["task"])
            salt = uuid.uuid4().hex
            self._tokens = [f"GRIDSIMVALUE{salt}X{i}"
                            for i in range(len(self._PATHS) + self._tasks)]
            for (a, b), token in zip(self._PATHS, self._tokens, strict=False):
                node[a][b] = token
            node["overrides"]["task"] = self._tokens[len(self._PATHS):]
            template = self._dump(container)
            if all(template.count(t) == 1 for t in self._tokens):
                self._template = template
            else:  # a token is not where it was put (cannot happen in block style): dump whole
                self._template = ""
        values = self._values(hydra)
        if not self._template or len(values) != len(self._tokens):
            return str(OmegaConf.to_yaml(root))
        text = self._template
        for token, value in zip(self._tokens, values, strict=True):
            if isinstance(value, bool) or not isinstance(value, str | int):
                return str(OmegaConf.to_yaml(root))
            line = self._dump({"k": value})
            scalar = line[3:-1]
            if (not line.startswith("k: ") or line.count("\n") != 1 or not scalar
                    or " " in scalar or scalar[0] in "\"|>"):
                return str(OmegaConf.to_yaml(root))
            text = text.replace(token, scalar)
        return text


_REPLICATION_LINE = re.compile(r"^replication: .*$", re.MULTILINE)


def _run_member(full: DictConfig, overrides: list[str], config_text: str | None,
                callbacks: Callbacks, body: Any, hydra_yaml: _MemberYaml | None = None) -> Any:
    """What Hydra's ``run_job`` does for a job, for one replication of a batch, without its
    copies of the whole config: the output folder, its ``.hydra/`` files (the same YAML as
    Hydra's; ``hydra.yaml`` through ``hydra_yaml``, the batch's template), the job's log file,
    the working folder (``hydra.job.chdir``) and the callbacks; then ``body(full)``.
    HydraConfig holds the job's ``hydra`` node already (set by :func:`_run_batch`)."""
    folder = Path(str(OmegaConf.select(full, "hydra.sweep.dir"))) / str(
        OmegaConf.select(full, "hydra.sweep.subdir"))
    # the output folder into both the batch's config and HydraConfig's copy of its hydra node
    for node in (full.hydra, HydraConfig.instance().cfg.hydra):  # type: ignore[union-attr]
        with read_write(node), open_dict(node):
            node.runtime.output_dir = os.path.abspath(folder)
    folder.mkdir(parents=True, exist_ok=True)
    old_cwd = os.getcwd()
    chdir = bool(full.hydra.job.chdir)
    try:
        if chdir:
            os.chdir(folder)
        configure_log(full.hydra.job_logging, full.hydra.verbose)
        if full.hydra.output_subdir is not None:
            out = Path(full.hydra.runtime.output_dir) / str(full.hydra.output_subdir)
            out.mkdir(parents=True, exist_ok=True)
            text = (config_text if config_text is not None
                    else OmegaConf.to_yaml(_without_hydra(full)))
            write_atomic(out / "config.yaml", text)
            own: Any = HydraConfig.instance().cfg  # a DictConfig of one key, hydra
            write_atomic(out / "hydra.yaml", hydra_yaml.text(own) if hydra_yaml is not None
                         else OmegaConf.to_yaml(own))
            write_atomic(out / "overrides.yaml", OmegaConf.to_yaml(full.hydra.overrides.task))
        callbacks.on_job_start(config=full, task_function=body)
        ret = JobReturn(overrides=overrides, working_dir=os.getcwd())
        try:
            ret.return_value = body(full)
            ret.status = JobStatus.COMPLETED
        except Exception as exc:  # as run_job: recorded, re-raised after the callbacks
            ret.return_value, ret.status = exc, JobStatus.FAILED
        callbacks.on_job_end(config=full, job_return=ret)
        return ret.return_value
    finally:
        if chdir:
            os.chdir(old_cwd)


def _run_batch(cfg: DictConfig, hc: Any, spec: dict[str, Any], ctx: runs.RunContext
               ) -> dict[str, Any]:
    """The replications of one variant in this process, on one built scenario, each into the
    folder (with the ``.hydra/`` files, the manifest) it would have had as its own job.

    The config is composed and checked once for the batch (by the launcher, here); a
    replication's settings are the batch's with its replication, unless an interpolation of
    the config could make them differ: then each is converted and checked on its own."""
    carrier_overrides = [str(o) for o in hc.overrides.task]
    settings0 = _checked(cfg, carrier_overrides, ctx.multirun)
    resolved0 = resolved_config(cfg)
    text0 = OmegaConf.to_yaml(cfg)
    # without interpolations in the run's config, a replication changes its one line
    plain = "${" not in text0 and len(_REPLICATION_LINE.findall(text0)) == 1
    shared = runs.SharedScenario()
    scratch = Path(hc.runtime.output_dir)
    full = _batch_root(cfg, hc)
    callbacks = Callbacks(full)
    done = 0
    hydra_yaml = _MemberYaml()
    mine: list[Any] = []  # HydraConfig's copy of the batch's hydra node, once set
    for member in spec["members"]:  # Hydra's run_job restores its HydraConfig after the batch
        own = HydraConfig.instance().cfg
        also = [own.hydra] if mine and mine[0] is own else []  # type: ignore[union-attr]
        overrides = _set_member(full, carrier_overrides, member, str(spec["subdir"]), also)
        if not also:  # for the ${hydra:...} resolver of the job (then kept equal in place)
            HydraConfig.instance().set_config(full)
            mine[:] = [HydraConfig.instance().cfg]
        r = int(full.replication)

        def body(job: DictConfig, overrides: list[str] = overrides, r: int = r) -> Any:
            if plain:
                settings = dataclasses.replace(settings0, replication=r)
                resolved = {**resolved0, "replication": r}
            else:
                settings = _checked(job, overrides, ctx.multirun)
                resolved = resolved_config(job)
            folder = Path(str(job.hydra.runtime.output_dir))
            return runs.run_one(settings, folder, resolved, overrides, ctx, scenario=shared)

        text = _REPLICATION_LINE.sub(f"replication: {r}", text0) if plain else None
        result = _run_member(full, overrides, text, callbacks, body, hydra_yaml)
        if isinstance(result, BaseException):
            raise result
        done += 1
    _remove_scratch(scratch)
    return {"batch": done}


def _remove_scratch(folder: Path) -> None:
    """Remove the folder a batch job ran in, if it holds only what Hydra wrote there."""
    try:
        names = {p.name for p in folder.iterdir()}
    except OSError:
        return
    if names <= {".hydra", "gridsim.log"}:
        shutil.rmtree(folder, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# gridsim run
# ----------------------------------------------------------------------------------------------
def _run_plain(overrides: list[str]) -> int:
    """``gridsim run [overrides]`` without Hydra flags: :func:`run_plain`, exit code 0."""
    run_plain(overrides)
    return 0


def run_plain(overrides: list[str]) -> RunOutcome:
    """``gridsim run [overrides]`` without Hydra flags: compose once, check once, claim the run
    folder, run through Hydra's ``run_job``; the run's outcome (its folder, status, summary),
    which :func:`gridsim.api.run` returns as a Result."""
    overrides = [*scenario_paths(overrides), "hydra.mode=RUN"]  # as hydra.main adds it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _hydra(None) as hydra:
                cfg = hydra.compose_config(config_name="config", overrides=overrides,
                                           run_mode=RunMode.RUN, from_shell=True,
                                           with_log_configuration=False)
                loader = hydra.config_loader
        except Exception as exc:  # Hydra raises many kinds; all mean "bad config"
            raise _composition_error(exc, overrides, caught, "conf/config.yaml") from None
    task_overrides = [str(o) for o in cfg.hydra.overrides.task]
    settings = check(cfg, task_overrides)
    raw_dir = OmegaConf.to_container(cfg.hydra.run, resolve=False).get("dir")  # type: ignore
    HydraConfig.instance().set_config(cfg)
    try:
        target = Path(str(OmegaConf.select(cfg, "hydra.run.dir")))
    except Exception as exc:  # a bad interpolation in hydra.run.dir
        raise ConfigError([describe(exc, _choices(cfg), overrides, [])]) from None
    # a time-stamped folder (Hydra's default) is a new folder for every run: claimed
    # atomically, with a suffix when another run took the name in the same second
    folder = claim_run_folder(target, unique="${now:" in str(raw_dir))
    with read_write(cfg.hydra.run):
        cfg.hydra.run.dir = str(folder)
    ctx = runs.RunContext(multirun=False, sweep_dir=None, watched=False, session="")
    outcomes: list[RunOutcome] = []

    def task(task_cfg: DictConfig) -> dict[str, Any]:
        hc = HydraConfig.get()
        outcome = runs.run_one(settings, Path(hc.runtime.output_dir),
                               resolved_config(task_cfg), task_overrides, ctx)
        outcomes.append(outcome)
        return outcome.summary or {}

    callbacks = Callbacks(cfg)
    callbacks.on_run_start(config=cfg, config_name="config")
    ret = run_job(task_function=task, config=cfg, job_dir_key="hydra.run.dir",
                  job_subdir_key=None,
                  hydra_context=HydraContext(config_loader=loader, callbacks=callbacks))
    callbacks.on_run_end(config=cfg, config_name="config", job_return=ret)
    _ = ret.return_value  # re-raises the run's exception
    return outcomes[-1]


def _multirun(config_dir: Path | None, config_name: str, overrides: list[str]) -> None:
    """Hydra's multirun (sweeper, launcher) of gridsim's config or of an experiment file, with
    :func:`run_task` as the task."""
    with _hydra(config_dir) as hydra:
        hydra.multirun(config_name=config_name, task_function=run_task, overrides=overrides,
                       with_log_configuration=True)


def _value_overrides(base: DictConfig, overrides: Sequence[str]) -> list[Any] | None:
    """The overrides of a job that set values of ``base`` (its composed config), parsed; None
    when one does more than set a value (chooses a group option other than ``base``'s, adds,
    deletes, names a package) or does not parse: the job must then be composed."""
    choices = _choices(base)
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except Exception:  # a malformed override: its composition reports it
        return None
    values = []
    for ov in parsed:
        key = ov.key_or_group
        if key in choices:
            if ov.is_sweep_override() or ov.get_value_element_as_str() != choices[key]:
                return None
            continue  # the option base has already: nothing to set
        if (ov.is_add() or ov.is_force_add() or ov.is_delete() or ov.package is not None
                or ov.is_sweep_override() or "/" in key or key.startswith("hydra")):
            return None
        values.append(ov)
    return values


def _compose_multirun(overrides: list[str], config_dir: Path, config_name: str) -> DictConfig:
    """The config of ``config_name`` in ``config_dir`` as Hydra's multirun composes it (sweep
    overrides left to the sweeper); ConfigError if it does not compose."""
    primary = f"{config_dir / config_name}.yaml"
    overrides = scenario_paths(overrides, Path(primary))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _hydra(config_dir) as hydra:
                return hydra.compose_config(config_name=config_name, overrides=overrides,
                                            run_mode=RunMode.MULTIRUN, from_shell=True,
                                            with_log_configuration=False)
        except Exception as exc:  # Hydra raises many kinds; all mean "bad config"
            raise _composition_error(exc, overrides, caught, primary) from None


def _multirun_composed(cfg: DictConfig, config_dir: Path, config_name: str,
                       extra: list[str]) -> None:
    """What Hydra's ``multirun`` does after its composition, on ``cfg`` (composed by
    :func:`_compose_multirun`), with the Hydra overrides ``extra`` set into it as the
    composition sets them (and recorded in ``hydra.overrides.hydra``, for the jobs)."""
    with _hydra(config_dir) as hydra:
        parsed = OverridesParser.create().parse_overrides(extra)
        ConfigLoaderImpl._apply_overrides_to_config(parsed, cfg)
        with read_write(cfg.hydra), open_dict(cfg.hydra):
            cfg.hydra.overrides.hydra.extend(extra)
        configure_log(cfg.hydra.hydra_logging, cfg.hydra.verbose)  # as multirun's compose
        callbacks = Callbacks(cfg)
        callbacks.on_multirun_start(config=cfg, config_name=config_name)
        sweeper = Plugins.instance().instantiate_sweeper(
            config=cfg, hydra_context=HydraContext(
                config_loader=_SweepLoader.of(hydra.config_loader), callbacks=callbacks),
            task_function=run_task)
        task_overrides = OmegaConf.to_container(cfg.hydra.overrides.task, resolve=False)
        assert isinstance(task_overrides, list)
        sweeper.sweep(arguments=task_overrides)
        callbacks.on_multirun_end(config=cfg, config_name=config_name)


def _derived_job_config(master: DictConfig, sweep_overrides: Sequence[str]) -> DictConfig | None:
    """What Hydra's ``load_sweep_config(master, sweep_overrides)`` composes for a job of the
    sweep whose config is ``master``, without composing it again, when the job only sets values
    (of the app or of the ``hydra`` node) on top of ``master``: a copy of ``master`` with the
    job's values set as the composition sets them (after the defaults list, in order), its
    ``hydra.overrides`` lists and ``override_dirname`` as the composition makes them, and the
    composition's flags (struct root, writable hydra node) and resolver cache. None (compose
    it) when an override does more (chooses another group option, adds or deletes a key of the
    app, names a package, sweeps), when ``master``'s own task overrides are not all among the
    job's, or when a group choice of ``master`` is missing (a multirun skips missing choices,
    a run's composition refuses them)."""
    try:
        parsed = OverridesParser.create().parse_overrides(list(sweep_overrides))
        master_task = [str(o) for o in master.hydra.overrides.task]
        choices = _choices(master)
    except Exception:  # a malformed override, an unusual master: Hydra composes and reports
        return None
    if not set(master_task) <= set(sweep_overrides):
        return None
    if any(v == "???" for v in choices.values()):
        return None
    app: list[Any] = []
    hydra_ovs: list[Any] = []
    for ov in parsed:
        key = ov.key_or_group
        if ov.is_sweep_override() or ov.is_delete() or ov.package is not None or "/" in key:
            return None
        if key == "hydra" or key.startswith("hydra."):
            if ov.is_add():
                return None
            hydra_ovs.append(ov)
        elif key in choices:
            if ov.get_value_element_as_str() != choices[key]:
                return None
            app.append(ov)  # the option master has already: recorded, nothing to set
        else:
            if ov.is_add() or ov.is_force_add():
                return None
            app.append(ov)
    cfg = copy.deepcopy(master)
    values = [ov for ov in parsed if ov.key_or_group not in choices]
    try:
        with read_write(cfg), read_write(cfg.hydra):
            ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
    except Exception:  # as the composition would fail: let it say so
        return None
    OmegaConf.set_struct(cfg, True)
    OmegaConf.set_readonly(cfg.hydra, False)
    h = cfg.hydra
    h.overrides.task = [ov.input_line for ov in app]
    h.overrides.hydra = [*(str(o) for o in master.hydra.overrides.hydra),
                         *(ov.input_line for ov in hydra_ovs)]
    oc = h.job.config.override_dirname
    h.job.override_dirname = get_overrides_dirname(
        overrides=app, kv_sep=oc.kv_sep, item_sep=oc.item_sep, exclude_keys=oc.exclude_keys)
    OmegaConf.copy_cache(from_config=master, to_config=cfg)
    return cfg


class _SweepLoader(ConfigLoaderImpl):
    """Hydra's config loader of a sweep gridsim launches, whose ``load_sweep_config`` (each
    launcher calls it once per job, in the launching process or a worker) gives a job that only
    sets values :func:`_derived_job_config` of the sweep's config instead of a composition of
    its own (about half a second of CPU per job: a batch of district replications costs about
    as much to compose again as five of its runs). Any other job is composed as before."""

    @classmethod
    def of(cls, loader: Any) -> Any:
        if type(loader) is not ConfigLoaderImpl:  # another loader: used as it is
            return loader
        own = cls.__new__(cls)
        own.__dict__.update(loader.__dict__)
        return own

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]
                          ) -> DictConfig:
        derived = _derived_job_config(master_config, sweep_overrides)
        if derived is not None:
            return derived
        return super().load_sweep_config(master_config, sweep_overrides)


def _hydra_main(args: list[str]) -> int:
    """``gridsim run`` with Hydra's own flags (``--help``, ``--cfg``, ``--info``, ...):
    hydra.main as it is; each job's config is checked in :func:`run_task`."""
    import hydra  # the decorator only: hydra.main's argument parser handles these flags

    register_configs()
    task = hydra.main(version_base=None, config_path=f"pkg://{CONFIG_MODULE}",
                      config_name="config")(run_task)
    saved = sys.argv
    completion = any(a in ("-sc", "--shell-completion") for a in args)
    # Hydra's completion scripts name the program by sys.argv[0] (``complete ... gridsim``)
    # and call it as ``gridsim -sc query=...``, which the command line hands back here
    sys.argv = ["gridsim" if completion else "gridsim run", *args]
    try:
        with _completion_line() if completion else contextlib.nullcontext():
            task()
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return 0


@contextlib.contextmanager
def _completion_line() -> Iterator[None]:
    """``COMP_LINE`` (and ``COMP_POINT``) without the ``run`` word while Hydra's completion
    reads them: Hydra strips the program's name and takes every other word for an override."""
    line = os.environ.get("COMP_LINE")
    point = os.environ.get("COMP_POINT")
    m = re.match(r"^(\s*\S+\s+)run(\s+|$)", line or "")
    if line is None or m is None:
        yield
        return
    cut = m.end() - m.start(2) + len("run")  # "run" and the spaces after it
    os.environ["COMP_LINE"] = line[: m.end(1)] + line[m.end():]
    if point is not None and point.isdigit():
        os.environ["COMP_POINT"] = str(max(len(m.group(1)), int(point) - cut))
    try:
        yield
    finally:
        os.environ["COMP_LINE"] = line
        if point is not None:
            os.environ["COMP_POINT"] = point


@contextlib.contextmanager
def _environ(key: str, value: str) -> Iterator[None]:
    """``os.environ[key] = value`` while the block runs."""
    before = os.environ.get(key)
    os.environ[key] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def run_command(args: list[str]) -> int:
    """``gridsim run [overrides]``; raises :class:`ConfigError` / :class:`UserError` for the
    command line to report, returns the exit code otherwise."""
    args = scenario_paths(args)  # scenario=<folder or preset file> as an option
    flags = [a for a in args if a.startswith("-")]
    if not flags:
        return _run_plain(list(args))
    if all(f in MULTIRUN_FLAGS for f in flags):
        overrides = [a for a in args if not a.startswith("-")]
        code = _prevalidate(overrides)
        if code:
            return code
        session = uuid.uuid4().hex  # the manifests of this sweep's runs say it
        extra = ["hydra.mode=MULTIRUN", f"++hydra.job.env_set.{runs.SWEEP_SESSION_ENV}={session}"]
        jobs = sweep_jobs(overrides)
        total = str(len(jobs)) if jobs is not None else ""  # for the progress line
        extra.append(f"++hydra.job.env_set.{runs.SWEEP_TOTAL_ENV}='{total}'")
        if not any(override_key(a) == "hydra/sweeper" for a in overrides):
            # gridsim's sweeper: replications of one variant in batches; every job was just
            # checked, so it composes none to check them again (Hydra's basic sweeper would)
            extra += ["hydra/sweeper=gridsim", f"hydra.sweeper.validate={code is None}"]
        with _environ(runs.SWEEP_SESSION_ENV, session), _environ(runs.SWEEP_TOTAL_ENV, total):
            _multirun(None, "config", [*overrides, *extra])  # the sweeper: in this process
        return 0
    return _hydra_main(list(args))


# ----------------------------------------------------------------------------------------------
# gridsim experiment
# ----------------------------------------------------------------------------------------------
class _Composed:
    """An experiment's composed config as :class:`gridsim.experiments.orchestrate.Composed`
    (each value read from the ``hydra`` node when it is first asked for)."""

    def __init__(self, config: DictConfig) -> None:
        self.config = config

    @property
    def sweeper_params(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.config.hydra.sweeper.params or {}).items()}

    @property
    def sweep_dir(self) -> str:
        return str(self.config.hydra.sweep.dir)

    @property
    def sweeper_target(self) -> str:
        return str(self.config.hydra.sweeper.get("_target_", ""))

    @property
    def launcher_target(self) -> str:
        return str(self.config.hydra.launcher.get("_target_", ""))

    @property
    def ray_address(self) -> bool:
        return bool(self.config.hydra.launcher.ray.init.get("address"))

    @property
    def ray_object_store(self) -> bool:
        return "object_store_memory" in self.config.hydra.launcher.ray.init

    @property
    def launcher_backend(self) -> str | None:
        backend = self.config.hydra.launcher.get("backend")
        return None if backend is None else str(backend)


class _ExperimentBoundary:
    """The Hydra side of ``gridsim experiment``
    (:class:`gridsim.experiments.orchestrate.Boundary`)."""

    def compose_sweep(self, overrides: Sequence[str], config_dir: Path, config_name: str
                      ) -> _Composed:
        return _Composed(_compose_multirun(list(overrides), config_dir, config_name))

    def check(self, composed: Any, overrides: Sequence[str], primary: str) -> RunConfig:
        assert isinstance(composed, _Composed)
        return check(composed.config, overrides, primary)

    def variant_settings(self, base: Any, overrides: Sequence[str], config_dir: Path,
                         config_name: str) -> RunConfig:
        assert isinstance(base, _Composed)
        return _job_settings(base.config, overrides, config_dir, config_name)

    def is_sweep(self, arg: str) -> bool:
        return is_sweep(arg)

    def sweep_jobs(self, args: Sequence[str]) -> list[list[str]] | None:
        return sweep_jobs(args)

    def multirun(self, composed: Any, config_dir: Path, config_name: str,
                 extra: list[str]) -> None:
        assert isinstance(composed, _Composed)
        _multirun_composed(composed.config, config_dir, config_name, extra)


#: Hydra's own flags that ``gridsim experiment`` hands to ``hydra.main`` (the flag, and
#: whether it takes a value): they print and exit, nothing runs.
HYDRA_FLAGS = {"--cfg": True, "-c": True, "--package": True, "-p": True, "--info": None,
               "-i": None, "--help": False, "-h": False, "--hydra-help": False,
               "--resolve": False}


def _hydra_flags(args: Sequence[str]) -> bool:
    return any(a.split("=", 1)[0] in HYDRA_FLAGS for a in args)


def _experiment_flags(path: Path, args: list[str]) -> int:
    """``gridsim experiment <file.yaml> --cfg job|hydra|all`` (``--package``, ``--resolve``),
    ``--info [what]``, ``--help``, ``--hydra-help``: Hydra's ``hydra.main`` on the experiment
    file, as ``gridsim run`` with these flags, with the sweeper ``gridsim experiment`` uses;
    the sweep's config is printed (``--cfg``), nothing runs. Exit code 0."""
    # imported here: the decorator only, whose argument parser handles these flags
    import hydra

    data = checks.check_file(path)
    flags: list[str] = []
    overrides: list[str] = []
    rest = list(args)
    while rest:
        a = rest.pop(0)
        name = a.split("=", 1)[0]
        if name not in HYDRA_FLAGS:
            if a in MULTIRUN_FLAGS:
                continue  # an experiment is a sweep already
            if a.startswith("-"):
                raise ConfigError([f"{path}: gridsim experiment does not take {a!r}; Hydra's "
                                   "flags it takes: " + ", ".join(sorted(HYDRA_FLAGS))])
            overrides.append(a)
            continue
        flags.append(a)
        if "=" in a:
            continue
        value_next = bool(rest) and not rest[0].startswith("-") and "=" not in rest[0]
        if HYDRA_FLAGS[name] is True or (name in ("--info", "-i") and value_next):
            if not rest:
                raise ConfigError([f"{path}: {a} expects a value (e.g. {a} job)"])
            flags.append(rest.pop(0))
    if not checks.chooses_sweeper(data) and not any(
            override_key(a) == "hydra/sweeper" for a in overrides):
        overrides = ["hydra/sweeper=gridsim", *overrides]
    swept = [a for a in overrides if is_sweep(a)]
    if swept:  # Hydra prints a run's config: each swept override at its first value
        first = sweep_jobs(overrides)
        if first:
            overrides = first[0]
            runs.err("the config printed takes the first value of each swept override ("
                     + ", ".join(swept) + ")")
    register_configs()
    _register_sweeper()
    task = hydra.main(version_base=None, config_path=str(path.parent.resolve()),
                      config_name=path.stem)(run_task)
    saved = sys.argv
    # the overrides first: ``--info`` takes an optional value, which would swallow one
    sys.argv = ["gridsim experiment", *overrides, *flags]
    try:
        task()
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return 0


def experiment_command(path: Path, overrides: list[str]) -> int:
    """``gridsim experiment <file.yaml> [overrides]``: :func:`gridsim.experiments.orchestrate.
    run_experiment` with this module as its Hydra side; with Hydra's own flags (``--cfg``,
    ``--info``, ``--help``), :func:`_experiment_flags`."""
    if _hydra_flags(overrides):
        return _experiment_flags(path, list(overrides))
    return orchestrate.run_experiment(path, overrides, _ExperimentBoundary())
