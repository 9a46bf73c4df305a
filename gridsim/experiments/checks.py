"""An experiment file is checked before anything runs: each problem one line naming the file
and the key, exit code 2.

* the file itself: missing, not YAML, empty or not a mapping (:func:`check_file`);
* the sweep: zero jobs;
* ``experiment.metrics`` and the keys of ``experiment.half_width``: metric keys a run's
  ``summary.json`` has, nested ones as ``a.b`` (as ``gridsim report`` flattens them);
* ``experiment.half_width`` values and ``experiment.relative_half_width``: positive numbers;
* ``experiment.variant_keys``: keys the experiment sweeps;
* ``experiment.pairs``: pairs of two variants, each named by a value of a swept key;
* ``experiment.labels``: ``"key=value"`` or ``"key"`` of a swept key, a non-empty label.

The metric keys are read from the code that writes the summary
(:func:`gridsim.output.metrics.summarize` and the evacuation's
:meth:`~gridsim.evacuation.results.EvacuationResult.summary`), from their source with
:mod:`ast`, so that a metric added there is known here without a list to keep in step and
without importing the engine (:func:`summary_metric_keys`).
"""

from __future__ import annotations

import ast
import importlib
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from gridsim.errors import UserError
from gridsim.model.params import RunConfig
from gridsim.model.validate import ConfigError

__all__ = ["check_experiment", "check_file", "chooses_sweeper", "experiment_problems",
           "summary_metric_keys"]

_PACKAGE = Path(__file__).resolve().parents[1]  # the package gridsim/
#: Where the summary's keys are written: (source file, function, class or None).
_SUMMARY = (_PACKAGE / "output" / "metrics.py", "summarize", None)
_EVACUATION = (_PACKAGE / "evacuation" / "results.py", "summary", "EvacuationResult")


# ----------------------------------------------------------------------------------------------
# the file
# ----------------------------------------------------------------------------------------------
def read_yaml(path: Path, what: str, hint: str) -> Any:
    """The YAML content of ``path`` (the ``what`` file, e.g. "experiment file"), or one
    :class:`UserError` naming it when it cannot be read or is not YAML."""
    import yaml  # PyYAML comes with Hydra; only gridsim's own files are read with it

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the {what}: {exc}", path, hint) from None
    except yaml.YAMLError as exc:
        first = (str(exc).strip().splitlines() or ["not YAML"])[0]
        raise UserError(f"the {what} is not YAML: {first}", path, hint) from None


def check_file(path: Path) -> dict[str, Any]:
    """The experiment file's YAML mapping; :class:`UserError` when ``path`` is not an experiment
    file gridsim can read: not found, not ``.yaml``, not YAML, empty, or not a mapping."""
    hint = "an experiment file is a Hydra config in experiments/, e.g. experiments/team_size.yaml"
    if path.suffix != ".yaml" or not path.is_file():
        raise UserError("experiment file not found (expected a .yaml file)", path, hint)
    data = read_yaml(path, "experiment file", hint)
    if data is None:
        raise UserError("the experiment file is empty", path, hint)
    if not isinstance(data, dict):
        raise UserError(f"the experiment file holds a YAML {type(data).__name__}, expected a "
                        "mapping (defaults, hydra, experiment, ...)", path, hint)
    return data


def chooses_sweeper(data: dict[str, Any]) -> bool:
    """Whether an experiment file's defaults list picks a sweeper (``override hydra/sweeper:
    ...``)."""
    for entry in data.get("defaults") or []:
        if isinstance(entry, dict) and any(str(k).split()[-1] == "hydra/sweeper"
                                           for k in entry):
            return True
    return False


# ----------------------------------------------------------------------------------------------
# the keys of summary.json, from the source that writes them
# ----------------------------------------------------------------------------------------------
Tree = dict[str, Any]  # key -> Tree (a nested dict) or None (a value)


class _Source:
    """A module's syntax tree, the values of its module-level names (constants, and names it
    imports from gridsim's light modules) and its functions."""

    def __init__(self, path: Path) -> None:
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        self.functions: dict[str, ast.FunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.names: dict[str, ast.expr] = {}
        self.imported: dict[str, tuple[str, str]] = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(t, ast.Name):
                        self.names[t.id] = node.value
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    self.imported[a.asname or a.name] = (node.module, a.name)

    def method(self, cls: str, name: str) -> ast.FunctionDef:
        for node in self.classes[cls].body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
        raise KeyError(f"{cls}.{name}")

    def value(self, name: str) -> Any:
        """The value of a module-level name: a literal, or a name imported from gridsim's
        vocabulary (the only imports whose values the summary's keys come from)."""
        if name in self.names:
            return ast.literal_eval(self.names[name])
        module, attr = self.imported[name]
        if not module.startswith("gridsim.model."):  # light modules only: no engine import
            raise KeyError(name)
        return getattr(importlib.import_module(module), attr)


class _Keys:
    """Evaluates, over a function's syntax tree, the keys of the dict it returns."""

    def __init__(self, source: _Source, hazards: Sequence[str], evacuation: Tree | None) -> None:
        self.src = source
        self.hazards = list(hazards)
        self.evacuation = evacuation

    def returned(self, fn: ast.FunctionDef) -> Tree:
        tree = self._returned(fn)
        if tree is None:
            raise ValueError(f"{fn.name} does not return a dict this check can read")
        return tree

    def _returned(self, fn: ast.FunctionDef) -> Tree | None:
        ret = next((n for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None),
                   None)
        return self.tree(ret.value, fn) if ret is not None and ret.value is not None else None

    def _assigned(self, name: str, fn: ast.FunctionDef) -> ast.expr | None:
        found = None
        for n in ast.walk(fn):
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                 for t in n.targets):
                found = n.value
        return found

    def spread(self, node: ast.expr) -> Tree | None:
        """The keys of ``**f(...)`` with ``f`` a function imported from another gridsim module
        (read from that module's source, not imported): of the first of its returns that this
        check can read (e.g. the literal dict it returns when there is nothing to count)."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            return None
        if node.func.id in self.src.functions:  # a function of the same module
            local = self.built(self.src.functions[node.func.id])
            return local if isinstance(local, dict) else None
        if node.func.id not in self.src.imported:
            return None
        module, attr = self.src.imported[node.func.id]
        if not module.startswith("gridsim."):
            return None
        path = _PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py")
        if not path.is_file():
            return None
        src = _Source(path)
        fn = src.functions.get(attr)
        if fn is None:
            return None
        keys = _Keys(src, self.hazards, self.evacuation)
        for ret in ast.walk(fn):
            if not (isinstance(ret, ast.Return) and ret.value is not None):
                continue
            tree = keys.tree(ret.value, fn)
            if isinstance(tree, dict):
                return tree
        return None

    def iterable(self, node: ast.expr, env: dict[str, str] | None = None) -> list[str] | None:
        """The values a ``for`` iterates over: a literal, a module-level name, the hazard
        types of the catalogue (``ctx.catalogue.hazards``), or a module-level mapping indexed by
        an enclosing comprehension's variable (``for f in FIELDS[g]`` inside ``for g in
        FIELDS``: ``env`` binds ``g``)."""
        if isinstance(node, ast.Tuple | ast.List):
            return [str(ast.literal_eval(e)) for e in node.elts]
        if isinstance(node, ast.Name):
            return [str(v) for v in self.src.value(node.id)]
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                and isinstance(node.slice, ast.Name) and env and node.slice.id in env):
            return [str(v) for v in self.src.value(node.value.id)[env[node.slice.id]]]
        if isinstance(node, ast.Attribute) and node.attr == "hazards":
            return self.hazards
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "enumerate" and len(node.args) == 1):
            return self.iterable(node.args[0])  # ``for k, c in enumerate(X)``: X's items
        return None

    def tree(self, node: ast.expr, fn: ast.FunctionDef,
             env: dict[str, str] | None = None) -> Tree | None:
        if isinstance(node, ast.IfExp):  # ``None if x is None else {...}``: the dict's keys
            for branch in (node.body, node.orelse):
                got = self.tree(branch, fn, env)
                if got is not None:
                    return got
            return None
        if isinstance(node, ast.Dict):
            out: Tree = {}
            for k, v in zip(node.keys, node.values, strict=True):
                if k is None:  # **spread: the evacuation's keys
                    if "evacuations" in ast.unparse(v):
                        if self.evacuation:
                            out.update(self.evacuation)
                        continue
                    spread = self.spread(v)
                    if spread is None:
                        raise ValueError(f"cannot read the keys spread by {ast.unparse(v)!r}")
                    out.update(spread)
                    continue
                if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                    raise ValueError(f"cannot read the key {ast.unparse(k)!r}")
                out[k.value] = self.tree(v, fn, env)
            return out
        if isinstance(node, ast.DictComp):
            gen = node.generators[0]
            values = self.iterable(gen.iter, env)
            if isinstance(gen.iter, ast.Call) and not (  # enumerate: keyed by the item
                    isinstance(gen.target, ast.Tuple) and len(gen.target.elts) == 2
                    and ast.unparse(node.key) == ast.unparse(gen.target.elts[1])):
                values = None
            if values is None:
                raise ValueError(f"cannot read the keys of {ast.unparse(node)!r}")
            if isinstance(gen.target, ast.Name):  # each value's leaf, the variable bound to it
                return {v: self.tree(node.value, fn, {**(env or {}), gen.target.id: v})
                        for v in values}
            leaf = self.tree(node.value, fn, env)
            return {v: leaf for v in values}
        if isinstance(node, ast.Name):
            value = self._assigned(node.id, fn)
            return self.tree(value, fn) if value is not None else None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in self.src.functions):
            return self.built(self.src.functions[node.func.id])
        return None

    def built(self, fn: ast.FunctionDef) -> Tree | None:
        """A function that fills a dict in a loop (``out[key] = {...}`` under ``for key in
        VALUES``) and returns it; else the dict it returns."""
        for loop in (n for n in ast.walk(fn) if isinstance(n, ast.For)):
            for stmt in loop.body:
                if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                        and isinstance(stmt.targets[0], ast.Subscript)
                        and isinstance(loop.target, ast.Name)
                        and ast.unparse(stmt.targets[0].slice) == loop.target.id):
                    values = self.iterable(loop.iter)
                    if values is not None:
                        leaf = self.tree(stmt.value, fn)
                        return {v: leaf for v in values}
        return self._returned(fn)


@cache
def _sources() -> tuple[_Source, _Source]:
    return _Source(_SUMMARY[0]), _Source(_EVACUATION[0])


def _flatten(tree: Tree, prefix: str = "") -> list[str]:
    out: list[str] = []
    for k, v in tree.items():
        out += _flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"]
    return out


def summary_metric_keys(settings: RunConfig) -> list[str]:
    """The keys of the ``summary.json`` a run of ``settings`` writes, nested ones as ``a.b``:
    read from the source of the functions that write it (see the module's docstring)."""
    summary_src, evac_src = _sources()
    evacuation = None
    if any(w.evacuate for w in settings.hazard.warnings):
        evac = _Keys(evac_src, (), None)
        evacuation = evac.returned(evac_src.method(_EVACUATION[2], _EVACUATION[1]))
    keys = _Keys(summary_src, sorted(settings.catalogue.hazards), evacuation)
    return _flatten(keys.returned(summary_src.functions[_SUMMARY[1]]))


# ----------------------------------------------------------------------------------------------
# the experiment
# ----------------------------------------------------------------------------------------------
def _override_key(arg: str) -> str:
    return arg.lstrip("+~").split("=", 1)[0].split("@", 1)[0].strip()


def _swept(jobs: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    """The keys whose value differs between jobs (``replication`` aside) and their values."""
    values: dict[str, list[str]] = {}
    for job in jobs:
        for arg in job:
            key = _override_key(arg)
            if key.startswith("hydra") or "=" not in arg:
                continue
            v = arg.split("=", 1)[1]
            if v not in values.setdefault(key, []):
                values[key].append(v)
    return {k: v for k, v in values.items() if len(v) > 1 and k != "replication"}


def _close(name: str, known: Sequence[str]) -> str:
    import difflib  # only for a message

    near = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(near)}?" if near else ""


def _positive(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def experiment_problems(settings: RunConfig, jobs: Sequence[Sequence[str]] | None,
                        variants: Sequence[RunConfig]) -> list[str]:
    """The problems of an experiment, one line each naming the key (``jobs``: the overrides of
    every job, or None when the sweep is one Hydra expands itself; ``variants``: the settings of
    each variant)."""
    problems: list[str] = []
    exp = settings.experiment
    if jobs is not None and not jobs:
        problems.append("hydra.sweeper.params: the sweep has no job (a range or a list of no "
                        "value?)")
    known: set[str] = set()
    for s in variants or [settings]:
        known.update(summary_metric_keys(s))
    ordered = sorted(known)
    for i, metric in enumerate(exp.metrics):
        if metric not in known:
            problems.append(f"experiment.metrics[{i}]: unknown metric {metric!r}"
                            f"{_close(metric, ordered)} (the keys of summary.json, nested ones "
                            "as a.b: see README \"Metrics\")")
    for metric, value in exp.half_width.items():
        if metric not in known:
            problems.append(f"experiment.half_width.{metric}: unknown metric {metric!r}"
                            f"{_close(metric, ordered)}")
        if not _positive(value):
            problems.append(f"experiment.half_width.{metric}: must be a positive number (the "
                            f"wanted half-width of its 95 % interval), got {value!r}")
    if not _positive(exp.relative_half_width):
        problems.append("experiment.relative_half_width: must be a positive number (a share of "
                        f"the mean), got {exp.relative_half_width!r}")
    swept = _swept(jobs or [])
    if jobs is not None:
        for i, key in enumerate(exp.variant_keys):
            if key not in swept:
                what = ", ".join(swept) or "nothing but the replication"
                problems.append(f"experiment.variant_keys[{i}]: {key!r} is not swept (the "
                                f"experiment sweeps {what})")
        values = {v for vs in swept.values() for v in vs}
        for i, pair in enumerate(exp.pairs):
            if len(pair) != 2:
                problems.append(f"experiment.pairs[{i}]: a pair is [variant, baseline], got "
                                f"{list(pair)!r}")
                continue
            for name in pair:
                if str(name) not in values and not any(
                        f"{k}={v}" == str(name) for k, vs in swept.items() for v in vs):
                    problems.append(f"experiment.pairs[{i}]: {name!r} names no variant (the "
                                    "swept values are "
                                    f"{', '.join(sorted(values)) or 'none'})")
        for name, label in exp.labels.items():
            lkey, _, lvalue = str(name).partition("=")
            if lkey not in swept or (lvalue and lvalue not in swept[lkey]):
                problems.append(f"experiment.labels.{name}: names no swept key or value (the "
                                "form is \"key=value\" or \"key\" of a swept key)")
            elif not str(label).strip():
                problems.append(f"experiment.labels.{name}: the label is empty")
    return problems


def check_experiment(path: Path, settings: RunConfig, jobs: Sequence[Sequence[str]] | None,
                     variants: Sequence[RunConfig]) -> None:
    """Raise :class:`ConfigError` with a line per problem of :func:`experiment_problems`,
    each naming the experiment file."""
    problems = experiment_problems(settings, jobs, variants)
    if problems:
        raise ConfigError([f"{path}: {p}" for p in problems])
