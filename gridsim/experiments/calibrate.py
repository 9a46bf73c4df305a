"""Calibration to the account's figures: the simulated method of moments (SMM) with common
random numbers (``gridsim calibrate``; docs/calibration.md).

A calibration spec (YAML, e.g. ``conf/calibration/suining_2025.yml``) names

* the runs: Hydra overrides (``scenario=suining_city hazard=suining_2025``), the root seed, the
  replications per evaluation and those of the final evaluation;
* the parameters θ: config paths of the run settings with bounds, each either a value set at its
  paths (``mode: value``) or a factor on the values the config has there (``mode: scale``, e.g.
  one scale on ``catalogue.hazards.*.rate_per_grid_day.*``; ``*`` stands for every key of a
  mapping);
* the targets: an expression over ``summary.json`` keys (``a.b`` for nested keys, ``+ - * /``,
  numbers, e.g. ``(incidents_by_grade.I + incidents_by_grade.II) * 8760 / duration_h``), the
  account's value and its band (``relative: 0.15``: ±15 %; ``factor: 1.5``; ``absolute: a``;
  ``at_most: true``; ``at_least: true``).

The method. For a candidate θ the run settings are the base settings with θ put in along each
path by :func:`dataclasses.replace` (nothing is mutated), and the same replications
``0 .. R-1`` of the same root seed are simulated on the one built scenario: common random
numbers, so two candidates see the same random draws and their difference is θ's, not noise.
The objective is ``Σ_k w_k d_k²`` over the targets' replication means ``m_k(θ)``, with
``d_k`` the distance to the account's value in units of the band's half-width:
``(m − t)/(r·|t|)`` for ``relative: r``, ``(m − t)/a`` for ``absolute: a``,
``ln(m/t)/ln f`` for ``factor: f``, and for the one-sided bands the excess only,
``max(0, m − t)/s`` (``at_most``; ``s`` the target's ``scale``, else ``max(|t|, 1)``). So
for a two-sided band ``|d_k| ≤ 1`` exactly when the mean lies in it, and a one-sided band
pulls only when the mean is beyond its bound (``d_k = 0`` within it). A mean that is not a
number (a metric with no value in a run) counts as ``d = 1000``.

It is minimised over ``u = (ln θ − ln low)/(ln high − ln low)`` in the unit box (``log:
false``: linear in θ): the starting point and a Latin-hypercube design
(:class:`scipy.stats.qmc.LatinHypercube`, seeded by the spec's seed) first, then Nelder–Mead
with the box as bounds (:func:`scipy.optimize.minimize`) from the best point so far, restarted
from the best with a smaller simplex while a start improves it (with CRN the objective is a step
function of θ, on whose flat steps a simplex can stop early), until the budget of evaluations
is spent or a start brings nothing. SMM with a deterministic objective
(CRN) rather than approximate Bayesian computation: the account gives one figure per target, so
there is no posterior worth its cost (ABC needs thousands of runs of a city run that costs
seconds), and the fitted point with per-target intervals answers the question asked (does the
model reproduce the account?). The final evaluation simulates ``final_replications`` other
replications (``R .. R+F-1``: not those the fit saw) at the best θ and gives, per target, the
mean with its 95 % Student-t interval, the 2.5–97.5 % range of single replications, and whether
the mean is in the band.

The same spec, overrides and seed give the same evaluations, fitted values and files byte for
byte (:mod:`gridsim.experiments.calibrate_output`; only the CPU time in ``calibration.md``
differs), whatever ``n_jobs``.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import math
import sys
import time
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from scipy import optimize, stats
from scipy.stats import qmc

from gridsim import __version__
from gridsim.engine import simulation
from gridsim.errors import UserError
from gridsim.experiments.checks import read_yaml, summary_metric_keys
from gridsim.model.params import RunConfig
from gridsim.model.validate import ConfigError, validate
from gridsim.output.metrics import summarize
from gridsim.place.scenario import Scenario

__all__ = [
    "BANDS",
    "Band",
    "Calibration",
    "Evaluation",
    "Parameter",
    "Spec",
    "Target",
    "TargetResult",
    "apply",
    "calibrate",
    "check_spec",
    "evaluate_expression",
    "leaf_paths",
    "load_spec",
    "parse_spec",
    "spec_problems",
]

#: The kinds of band a target may have (exactly one of these keys in its ``band``).
BANDS = ("relative", "factor", "absolute", "at_most", "at_least")
#: The first simplex's step of each Nelder-Mead start, in the unit box: the first start, then
#: restarts from the best point while a start improves it.
RESTART_STEPS = (0.15, 0.05, 0.02)
#: The distance given to a target whose mean is not a number.
NAN_DISTANCE = 1000.0
#: The top-level keys of a spec file.
SPEC_KEYS = ("name", "title", "overrides", "seed", "replications", "final_replications",
             "budget", "n_jobs", "parameters", "targets")
BUDGET_KEYS = ("max_evaluations", "design", "xatol")
PARAMETER_KEYS = ("path", "paths", "mode", "bounds", "start", "log", "note")
TARGET_KEYS = ("expr", "value", "band", "label", "label_zh", "source", "weight", "scale")


# ----------------------------------------------------------------------------------------------
# the spec
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    """Where a target's simulated mean should lie around the account's value."""

    kind: str  # one of BANDS
    width: float = 0.0  # r (relative), f (factor), a (absolute); 0 for one-sided bands

    def interval(self, value: float) -> tuple[float, float]:
        """``(low, high)`` of the band around ``value``."""
        if self.kind == "relative":
            h = self.width * abs(value)
            return value - h, value + h
        if self.kind == "factor":
            return value / self.width, value * self.width
        if self.kind == "absolute":
            return value - self.width, value + self.width
        if self.kind == "at_most":
            return -math.inf, value
        return value, math.inf

    def describe(self) -> str:
        if self.kind == "relative":
            return f"±{100 * self.width:g} %"
        if self.kind == "factor":
            return f"factor {self.width:g}"
        if self.kind == "absolute":
            return f"±{self.width:g}"
        return "at most" if self.kind == "at_most" else "at least"


@dataclass(frozen=True)
class Parameter:
    """A calibrated parameter: a value (or a factor on the config's values) at config paths."""

    name: str
    paths: tuple[str, ...]
    mode: str  # "value" or "scale"
    low: float
    high: float
    start: float | None  # None: the config's value (value mode, all paths alike) or 1 (scale)
    log: bool = True
    note: str = ""

    def to_unit(self, theta: float) -> float:
        if self.log:
            return (math.log(theta) - math.log(self.low)) / (math.log(self.high)
                                                              - math.log(self.low))
        return (theta - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        u = min(1.0, max(0.0, float(u)))
        if self.log:
            return float(math.exp(math.log(self.low)
                                  + u * (math.log(self.high) - math.log(self.low))))
        return float(self.low + u * (self.high - self.low))


@dataclass(frozen=True)
class Target:
    """A figure of the account and the expression of summary keys the model gives for it."""

    name: str
    expr: str
    value: float
    band: Band
    label: str = ""
    label_zh: str = ""
    source: str = ""
    weight: float = 1.0
    scale: float | None = None  # one-sided bands: the distance's unit (default max(|value|, 1))
    names: tuple[str, ...] = ()  # the summary keys the expression reads

    def distance(self, mean: float) -> float:
        """``d``: the signed distance of ``mean`` to the value in band half-widths (see the
        module's docstring): for a two-sided band ``|d| <= 1`` exactly when ``mean`` is in it;
        for a one-sided band 0 within it, the excess over the bound (in ``scale``) beyond."""
        if not math.isfinite(mean):
            return NAN_DISTANCE
        t, b = self.value, self.band
        if b.kind == "relative":
            return (mean - t) / (b.width * abs(t))
        if b.kind == "absolute":
            return (mean - t) / b.width
        if b.kind == "factor":
            return math.log(max(mean, abs(t) * 1e-9) / t) / math.log(b.width)
        s = self.scale if self.scale is not None else max(abs(t), 1.0)
        return max(0.0, mean - t) / s if b.kind == "at_most" else -max(0.0, t - mean) / s

    def met(self, mean: float) -> bool:
        low, high = self.band.interval(self.value)
        return math.isfinite(mean) and low <= mean <= high


@dataclass(frozen=True)
class Spec:
    """A calibration spec (see the module's docstring and docs/calibration.md)."""

    source: str
    name: str
    title: str
    overrides: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]
    seed: int = 1
    replications: int = 10
    final_replications: int = 30
    max_evaluations: int = 60
    design: int = 8
    xatol: float = 0.01
    n_jobs: int = 1


class _Problems:
    """Problem lines of a spec file, each naming the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, key: str, what: str) -> None:
        self.lines.append(f"{self.source}: {key}: {what}")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _unknown(p: _Problems, key: str, data: Mapping[str, Any], known: Sequence[str]) -> None:
    for k in data:
        if str(k) not in known:
            p.add(f"{key}{k}" if key else str(k),
                  f"unknown key (expected one of {', '.join(known)})")


def _expression_names(expr: str) -> tuple[str, ...]:
    """The dotted summary keys an expression reads; ValueError naming what is not allowed."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {exc.msg}") from None
    names: list[str] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            walk(node.body)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult
                                                        | ast.Div):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            walk(node.operand)
        elif isinstance(node, ast.Constant) and _number(node.value):
            pass
        elif isinstance(node, ast.Name | ast.Attribute):
            names.append(_dotted(node))
        else:
            raise ValueError(f"{ast.unparse(node)!r} is not allowed (summary keys, numbers, "
                             "+ - * / and brackets)")

    walk(tree)
    return tuple(dict.fromkeys(names))


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    raise ValueError(f"{ast.unparse(node)!r} is not a summary key")


def evaluate_expression(expr: str, values: Mapping[str, Any]) -> float:
    """The value of a target's expression over a flat summary (``a.b`` keys); NaN when a key's
    value is not a number (null in the summary) or a division is by zero."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            return a / b if b != 0 else math.nan
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Constant):
            return float(node.value)  # type: ignore[arg-type]  # a number: parse_spec checked
        found = values.get(_dotted(node))
        return float(found) if found is not None and _number(found) else math.nan

    return ev(ast.parse(expr, mode="eval"))


def _band(p: _Problems, key: str, data: Any) -> Band | None:
    if not isinstance(data, Mapping) or len(data) != 1 or str(next(iter(data))) not in BANDS:
        p.add(key, f"a band is one of {', '.join(f'{b}: ...' for b in BANDS)}, got {data!r}")
        return None
    kind, width = str(next(iter(data))), next(iter(data.values()))
    if kind in ("at_most", "at_least"):
        if width is not True:
            p.add(f"{key}.{kind}", f"must be true, got {width!r}")
            return None
        return Band(kind)
    ok = _number(width) and (width > 1 if kind == "factor" else width > 0)
    if not ok:
        need = "a number above 1" if kind == "factor" else "a positive number"
        p.add(f"{key}.{kind}", f"must be {need}, got {width!r}")
        return None
    return Band(kind, float(width))


def _parameter(p: _Problems, name: str, data: Any) -> Parameter | None:
    key = f"parameters.{name}"
    if not isinstance(data, Mapping):
        p.add(key, f"a parameter is a mapping (path, mode, bounds, ...), got {data!r}")
        return None
    n = len(p.lines)
    _unknown(p, f"{key}.", data, PARAMETER_KEYS)
    paths: list[str] = []
    if ("path" in data) == ("paths" in data):
        p.add(key, "give exactly one of path (a config path) or paths (a list of them)")
    elif "path" in data:
        paths = [data["path"]]
    elif isinstance(data["paths"], list) and data["paths"]:
        paths = list(data["paths"])
    else:
        p.add(f"{key}.paths", f"must be a non-empty list of config paths, got {data['paths']!r}")
    for i, path in enumerate(paths):
        if not isinstance(path, str) or not path or any(not s for s in path.split(".")):
            p.add(f"{key}.path" if "path" in data else f"{key}.paths[{i}]",
                  f"must be a dotted config path (e.g. hazard.rate_scale), got {path!r}")
    mode = data.get("mode", "value" if len(paths) == 1 else "scale")
    if mode not in ("value", "scale"):
        p.add(f"{key}.mode", f"must be value or scale, got {mode!r}")
    log = data.get("log", True)
    if not isinstance(log, bool):
        p.add(f"{key}.log", f"must be true or false, got {log!r}")
        log = True
    bounds = data.get("bounds")
    low = high = math.nan
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(_number(b) for b in bounds)
            and bounds[0] < bounds[1]):
        p.add(f"{key}.bounds", f"must be [low, high] with low < high, got {bounds!r}")
    else:
        low, high = float(bounds[0]), float(bounds[1])
        if log and low <= 0:
            p.add(f"{key}.bounds", f"a log-scaled parameter needs low > 0, got {bounds!r} "
                  "(or set log: false)")
    start = data.get("start")
    if start is not None and not _number(start):
        p.add(f"{key}.start", f"must be a number, got {start!r}")
    elif start is not None and math.isfinite(low) and not low <= start <= high:
        p.add(f"{key}.start", f"must lie within the bounds [{low:g}, {high:g}], got {start!r}")
    note = data.get("note", "")
    if len(p.lines) > n:
        return None
    return Parameter(name=name, paths=tuple(paths), mode=str(mode), low=low, high=high,
                     start=None if start is None else float(start), log=log, note=str(note))


def _target(p: _Problems, name: str, data: Any) -> Target | None:
    key = f"targets.{name}"
    if not isinstance(data, Mapping):
        p.add(key, f"a target is a mapping (expr, value, band, ...), got {data!r}")
        return None
    n = len(p.lines)
    _unknown(p, f"{key}.", data, TARGET_KEYS)
    expr = data.get("expr", name)
    names: tuple[str, ...] = ()
    if not isinstance(expr, str) or not expr.strip():
        p.add(f"{key}.expr", f"must be an expression of summary keys, got {expr!r}")
    else:
        try:
            names = _expression_names(expr)
        except ValueError as exc:
            p.add(f"{key}.expr", str(exc))
    value = data.get("value")
    if not _number(value):
        p.add(f"{key}.value", f"must be a number (the account's figure), got {value!r}")
    band = _band(p, f"{key}.band", data.get("band"))
    if band is not None and value is not None and _number(value):
        if band.kind in ("relative", "factor") and value == 0:
            p.add(f"{key}.band", f"a {band.kind} band needs a value other than 0")
        if band.kind == "factor" and value < 0:
            p.add(f"{key}.band", "a factor band needs a positive value")
    weight = data.get("weight", 1.0)
    if not (_number(weight) and weight > 0):
        p.add(f"{key}.weight", f"must be a positive number, got {weight!r}")
    scale = data.get("scale")
    if scale is not None and not (_number(scale) and scale > 0):
        p.add(f"{key}.scale", f"must be a positive number, got {scale!r}")
    if len(p.lines) > n or band is None:
        return None
    return Target(name=name, expr=str(expr), value=float(value), band=band,  # type: ignore[arg-type]
                  label=str(data.get("label", "") or ""),
                  label_zh=str(data.get("label_zh", "") or ""),
                  source=str(data.get("source", "") or ""), weight=float(weight),
                  scale=None if scale is None else float(scale), names=names)


def _int_key(p: _Problems, data: Mapping[str, Any], key: str, default: int, least: int,
             prefix: str = "") -> int:
    v = data.get(key, default)
    if not (_integer(v) and v >= least):
        p.add(f"{prefix}{key}", f"must be a whole number of at least {least}, got {v!r}")
        return default
    return int(v)


def parse_spec(data: Any, source: str) -> Spec:
    """A spec from the YAML mapping of a spec file; :class:`ConfigError` with one line per
    problem (file, key, what was expected)."""
    p = _Problems(source)
    if data is None:
        raise UserError("the calibration spec is empty", source,
                        "a spec names overrides, parameters and targets: see "
                        "docs/calibration.md")
    if not isinstance(data, Mapping):
        raise UserError(f"the calibration spec holds a YAML {type(data).__name__}, expected a "
                        "mapping (overrides, parameters, targets, ...)", source)
    _unknown(p, "", data, SPEC_KEYS)
    overrides = data.get("overrides", [])
    if not (isinstance(overrides, list) and all(isinstance(o, str) for o in overrides)):
        p.add("overrides", f"must be a list of Hydra overrides (strings), got {overrides!r}")
        overrides = []
    budget = data.get("budget", {})
    if not isinstance(budget, Mapping):
        p.add("budget", f"must be a mapping (max_evaluations, design, xatol), got {budget!r}")
        budget = {}
    _unknown(p, "budget.", budget, BUDGET_KEYS)
    xatol = budget.get("xatol", 0.01)
    if not (_number(xatol) and 0 < xatol < 1):
        p.add("budget.xatol", f"must be a number in (0, 1) (a share of each parameter's "
              f"range, in the search's unit box), got {xatol!r}")
        xatol = 0.01
    seed = data.get("seed", 1)
    if not _integer(seed) or seed < 0:
        p.add("seed", f"must be a whole number >= 0, got {seed!r}")
        seed = 1
    params: list[Parameter] = []
    raw_params = data.get("parameters")
    if not isinstance(raw_params, Mapping) or not raw_params:
        p.add("parameters", "must be a non-empty mapping of name -> {path, bounds, ...}, got "
              f"{raw_params!r}")
    else:
        for name, pd in raw_params.items():
            par = _parameter(p, str(name), pd)
            if par is not None:
                params.append(par)
    targets: list[Target] = []
    raw_targets = data.get("targets")
    if not isinstance(raw_targets, Mapping) or not raw_targets:
        p.add("targets", "must be a non-empty mapping of name -> {expr, value, band, ...}, got "
              f"{raw_targets!r}")
    else:
        for name, td in raw_targets.items():
            t = _target(p, str(name), td)
            if t is not None:
                targets.append(t)
    spec = Spec(
        source=source, name=str(data.get("name", "") or Path(source).stem),
        title=str(data.get("title", "") or ""), overrides=tuple(overrides),
        parameters=tuple(params), targets=tuple(targets), seed=int(seed),
        replications=_int_key(p, data, "replications", 10, 1),
        final_replications=_int_key(p, data, "final_replications", 30, 2),
        max_evaluations=_int_key(p, budget, "max_evaluations", 60, 1, "budget."),
        design=_int_key(p, budget, "design", 8, 0, "budget."), xatol=float(xatol),
        n_jobs=_int_key(p, data, "n_jobs", 1, 1))
    if p.lines:
        raise ConfigError(p.lines)
    return spec


def load_spec(path: Path) -> Spec:
    """Read and parse a spec file; :class:`UserError` when it cannot be read as YAML,
    :class:`ConfigError` for its problems."""
    hint = "a calibration spec is a YAML file, e.g. conf/calibration/suining_2025.yml"
    if not path.is_file():
        raise UserError("calibration spec not found", path, hint)
    return parse_spec(read_yaml(path, "calibration spec", hint), str(path))


# ----------------------------------------------------------------------------------------------
# config paths in the settings
# ----------------------------------------------------------------------------------------------
Leaf = tuple[str, ...]


def _key_of(mapping: Mapping[Any, Any], name: str) -> Any:
    for k in mapping:
        if str(k) == name:
            return k
    raise KeyError(name)


def leaf_paths(settings: Any, path: str) -> list[Leaf]:
    """The number-valued leaves a config path names in the settings (``*`` for every key of a
    mapping: ``catalogue.hazards.*.rate_per_grid_day.*``); ValueError naming the first part
    that does not resolve, or when the path matches nothing."""
    out: list[Leaf] = []

    def walk(obj: Any, parts: list[str], done: Leaf) -> None:
        here = ".".join(done) or "the settings"
        if not parts:
            if not _number(obj):
                raise ValueError(f"{here} holds {type(obj).__name__} {obj!r}, not a number")
            out.append(done)
            return
        head, rest = parts[0], parts[1:]
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            names = [f.name for f in dataclasses.fields(obj)]
            if head not in names:
                raise ValueError(f"unknown key {head!r} at {'.'.join((*done, head))} "
                                 f"({type(obj).__name__} has {', '.join(names)})")
            walk(getattr(obj, head), rest, (*done, head))
        elif isinstance(obj, Mapping):
            keys = [str(k) for k in obj]
            if head == "*":  # an empty mapping adds nothing (the path as a whole must match)
                for k in keys:
                    walk(obj[_key_of(obj, k)], rest, (*done, k))
            elif head not in keys:
                raise ValueError(f"unknown key {head!r} at {'.'.join((*done, head))} (the keys "
                                 f"there are {', '.join(keys) or 'none'})")
            else:
                walk(obj[_key_of(obj, head)], rest, (*done, head))
        elif isinstance(obj, list | tuple) and head.isdigit() and int(head) < len(obj):
            walk(obj[int(head)], rest, (*done, head))
        else:
            raise ValueError(f"{here} holds {type(obj).__name__} {obj!r}, which has no key "
                             f"{head!r}")

    walk(settings, path.split("."), ())
    if not out:
        raise ValueError(f"{path} matches no value (its * stand for empty mappings only)")
    return out


def _get(obj: Any, leaf: Leaf) -> Any:
    for part in leaf:
        if dataclasses.is_dataclass(obj):
            obj = getattr(obj, part)
        elif isinstance(obj, Mapping):
            obj = obj[_key_of(obj, part)]
        else:
            obj = obj[int(part)]
    return obj


def _put(obj: Any, leaf: Leaf, value: Any) -> Any:
    """A copy of ``obj`` with ``value`` at ``leaf``: :func:`dataclasses.replace` for settings,
    new mappings and sequences of the same kind for the containers on the way."""
    if not leaf:
        return value
    head, rest = leaf[0], leaf[1:]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{head: _put(getattr(obj, head), rest, value)})
    if isinstance(obj, Mapping):
        k = _key_of(obj, head)
        new = dict(obj)
        new[k] = _put(obj[k], rest, value)
        if isinstance(obj, types.MappingProxyType):
            return types.MappingProxyType(new)
        return type(obj)(new) if isinstance(obj, dict) else new
    items = list(obj)
    items[int(head)] = _put(items[int(head)], rest, value)
    return type(obj)(items)


@dataclass(frozen=True)
class _Bound:
    """A parameter with its leaves and their values in the base settings."""

    parameter: Parameter
    leaves: tuple[Leaf, ...]
    base: tuple[float, ...]


def _bind(parameters: Sequence[Parameter], settings: RunConfig) -> list[_Bound]:
    bound = []
    for par in parameters:
        leaves = [leaf for path in par.paths for leaf in leaf_paths(settings, path)]
        bound.append(_Bound(par, tuple(dict.fromkeys(leaves)),
                            tuple(float(_get(settings, leaf)) for leaf in dict.fromkeys(leaves))))
    return bound


def apply(settings: RunConfig, bound: Sequence[_Bound], theta: Sequence[float]) -> RunConfig:
    """The settings with each parameter's value put at its leaves (a factor on the base values
    for ``mode: scale``); integer fields get the value rounded."""
    out = settings
    for b, value in zip(bound, theta, strict=True):
        for leaf, base in zip(b.leaves, b.base, strict=True):
            v = value * base if b.parameter.mode == "scale" else value
            old = _get(settings, leaf)
            out = _put(out, leaf, round(v) if _integer(old) else float(v))
    return out


def _start(b: _Bound) -> float:
    par = b.parameter
    if par.start is not None:
        return par.start
    if par.mode == "value":
        return b.base[0]
    if par.low <= 1.0 <= par.high:  # a scale starts at the config's own values
        return 1.0
    return math.sqrt(par.low * par.high) if par.log else (par.low + par.high) / 2


def spec_problems(spec: Spec, settings: RunConfig) -> list[str]:
    """What is wrong with a spec for these run settings, one line each naming the spec file and
    the key: paths that name no number of the settings, parameters that share a leaf, starts
    outside the bounds, bounds at which the settings fail their range checks, and target
    expressions reading keys that summary.json does not have."""
    p = _Problems(spec.source)
    owner: dict[Leaf, str] = {}
    for par in spec.parameters:
        leaves: list[Leaf] = []
        for i, path in enumerate(par.paths):
            key = f"parameters.{par.name}." + ("path" if len(par.paths) == 1 else f"paths[{i}]")
            try:
                leaves += leaf_paths(settings, path)
            except ValueError as exc:
                p.add(key, str(exc))
        for leaf in leaves:
            if leaf in owner and owner[leaf] != par.name:
                p.add(f"parameters.{par.name}", f"{'.'.join(leaf)} is also set by parameter "
                      f"{owner[leaf]!r}")
            owner.setdefault(leaf, par.name)
        if not leaves:
            continue
        b = _Bound(par, tuple(leaves), tuple(float(_get(settings, lf)) for lf in leaves))
        start = _start(b)
        if par.mode == "value" and par.start is None and len(set(b.base)) > 1:
            p.add(f"parameters.{par.name}.start", "its paths hold different values "
                  f"({', '.join(f'{v:g}' for v in sorted(set(b.base)))}): give a start")
        elif not par.low <= start <= par.high:
            p.add(f"parameters.{par.name}.start", f"the start {start:g} (the config's value) "
                  f"is outside the bounds [{par.low:g}, {par.high:g}]: give a start")
        for edge in (par.low, par.high):
            errors = validate(apply(settings, [b], [edge]))
            for e in errors[:3]:
                p.add(f"parameters.{par.name}.bounds", f"at {edge:g} the run settings do not "
                      f"check: {e}")
    known = set(summary_metric_keys(settings))
    for t in spec.targets:
        for name in t.names:
            if name not in known:
                near = [k for k in sorted(known) if k.startswith(name + ".")][:4] or \
                    difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.75)
                hint = f"; did you mean {', '.join(near)}?" if near else ""
                p.add(f"targets.{t.name}.expr", f"{name!r} is not a key of summary.json{hint} "
                      "(nested keys as a.b: see README \"Metrics\")")
    return p.lines


def check_spec(spec: Spec, settings: RunConfig) -> None:
    """Raise :class:`ConfigError` with the lines of :func:`spec_problems`, if any."""
    problems = spec_problems(spec, settings)
    if problems:
        raise ConfigError(problems)


# ----------------------------------------------------------------------------------------------
# evaluations
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evaluation:
    """One candidate: its parameter values, the targets' replication means and the objective."""

    index: int
    phase: str  # "start", "design", "local" or "final"
    theta: tuple[float, ...]
    means: tuple[float, ...]
    objective: float


@dataclass(frozen=True)
class TargetResult:
    """A target at the fitted parameters, over the final evaluation's replications."""

    target: Target
    values: tuple[float, ...]
    mean: float
    sd: float
    ci95_low: float
    ci95_high: float
    range95_low: float
    range95_high: float
    distance: float
    met: bool


@dataclass(frozen=True)
class Calibration:
    """The outcome of :func:`calibrate`."""

    spec: Spec
    parameters: tuple[tuple[Parameter, tuple[str, ...], float, float], ...]  # (par, leaves,
    #   start, fitted)
    evaluations: tuple[Evaluation, ...]
    best: Evaluation
    final: tuple[TargetResult, ...]
    final_objective: float
    optimizer: str  # how the local search ended
    settings: RunConfig  # the fitted settings
    cpu_s: float  # CPU seconds of this process (and of its workers, with n_jobs > 1)
    wall_s: float

    @property
    def all_met(self) -> bool:
        return all(r.met for r in self.final)


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _replicate(settings: RunConfig, scenario: Scenario | None, exprs: tuple[str, ...]
               ) -> tuple[float, ...]:
    """One replication: simulate, summarise (no files), the targets' expressions."""
    result = simulation.simulate(settings, scenario=scenario)
    flat = _flat(summarize(result, __version__))
    return tuple(evaluate_expression(e, flat) for e in exprs)


def _in_worker(settings: RunConfig, exprs: tuple[str, ...]) -> tuple[tuple[float, ...], float]:
    """A replication in a joblib worker: the scenario is built once per worker (the place's
    in-process cache); returns the values and the worker's CPU seconds for it."""
    t0 = time.process_time()
    values = _replicate(settings, None, exprs)
    return values, time.process_time() - t0


class _Runner:
    """Simulates the replications of a candidate: in this process on one built scenario, or
    with ``n_jobs`` joblib processes."""

    def __init__(self, settings: RunConfig, targets: Sequence[Target], n_jobs: int) -> None:
        self.exprs = tuple(t.expr for t in targets)
        self.n_jobs = n_jobs
        self.scenario = simulation.build(settings)
        self.worker_cpu_s = 0.0
        self._pool: Any = None

    def values(self, settings: RunConfig, replications: Sequence[int]) -> np.ndarray:
        """``(replications, targets)`` values of the targets' expressions."""
        runs = [dataclasses.replace(settings, replication=int(r)) for r in replications]
        if self.n_jobs <= 1 or len(runs) <= 1:
            rows = [_replicate(s, self.scenario, self.exprs) for s in runs]
        else:
            # joblib comes with Hydra's joblib launcher; imported only for n_jobs > 1
            from joblib import Parallel, delayed

            if self._pool is None:
                self._pool = Parallel(n_jobs=self.n_jobs, backend="loky")
            out = self._pool(delayed(_in_worker)(s, self.exprs) for s in runs)
            rows = [v for v, _ in out]
            self.worker_cpu_s += sum(c for _, c in out)
        return np.array(rows, dtype=float).reshape(len(runs), len(self.exprs))


def _objective(targets: Sequence[Target], means: Sequence[float]) -> float:
    return float(sum(t.weight * t.distance(m) ** 2 for t, m in zip(targets, means, strict=True)))


def _means(values: np.ndarray) -> tuple[float, ...]:
    """Column means; NaN for a column with a NaN (a replication without the figure)."""
    return tuple(float(v) for v in values.mean(axis=0))


class _Budget(Exception):
    """The evaluation budget is spent."""


def _duration(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    if s < 90:
        return f"{s:.0f} s"
    return f"{s / 60:.1f} min" if s < 5400 else f"{s / 3600:.1f} h"


class _Progress:
    """Progress lines with an estimate of the time left (stderr), at most one every
    ``every_s`` seconds, and one at each phase's start."""

    def __init__(self, spec: Spec, stream: TextIO | None, every_s: float = 2.0) -> None:
        self.spec, self.stream, self.every_s = spec, stream, every_s
        self.t0 = time.monotonic()
        self.last = -math.inf
        self.phase = ""

    def line(self, text: str) -> None:
        if self.stream is None:
            return
        self.stream.write(f"calibrate: {text}\n")
        self.stream.flush()

    def evaluation(self, ev: Evaluation, best: float) -> None:
        now = time.monotonic()
        if ev.phase == self.phase and now - self.last < self.every_s:
            return
        self.phase, self.last = ev.phase, now
        spent = now - self.t0
        n = ev.index + 1
        # what is left: the rest of the budget, and the final evaluation (in replications)
        left_evals = (self.spec.max_evaluations - n
                      + self.spec.final_replications / self.spec.replications)
        left = spent / n * left_evals
        self.line(f"evaluation {n} of at most {self.spec.max_evaluations} ({ev.phase}): "
                  f"objective {ev.objective:.4g}, best {best:.4g}; {_duration(spent)} so far, "
                  f"at most about {_duration(left)} left")


def calibrate(spec: Spec, settings: RunConfig, *, stream: TextIO | None = sys.stderr,
              n_jobs: int | None = None,
              on_evaluation: Callable[[Evaluation], None] | None = None) -> Calibration:
    """Fit the spec's parameters to its targets (the method: see the module's docstring).

    ``settings`` are the run's checked settings (the spec's overrides composed in); the spec is
    checked against them first (:class:`ConfigError`). Progress lines go to ``stream`` (None:
    none)."""
    check_spec(spec, settings)
    cpu0, wall0 = time.process_time(), time.monotonic()
    settings = dataclasses.replace(settings, seed=spec.seed)
    bound = _bind(spec.parameters, settings)
    pars = [b.parameter for b in bound]
    targets = spec.targets
    runner = _Runner(settings, targets, n_jobs if n_jobs is not None else spec.n_jobs)
    fit_reps = list(range(spec.replications))
    progress = _Progress(spec, stream)
    progress.line(f"{spec.name}: {len(pars)} parameters, {len(targets)} targets, "
                  f"{spec.replications} replications an evaluation, at most "
                  f"{spec.max_evaluations} evaluations, then {spec.final_replications} "
                  "replications at the fit")
    evaluations: list[Evaluation] = []
    cache: dict[tuple[float, ...], Evaluation] = {}

    def evaluate(theta: tuple[float, ...], phase: str) -> Evaluation:
        key = tuple(float(f"{t:.12g}") for t in theta)
        if key in cache:
            return cache[key]
        if len(evaluations) >= spec.max_evaluations:
            raise _Budget
        candidate = apply(settings, bound, key)
        errors = validate(candidate)
        if errors:
            raise ConfigError([f"{spec.source}: at {_theta_text(pars, key)} the run settings "
                               f"do not check: {e}" for e in errors])
        means = _means(runner.values(candidate, fit_reps))
        ev = Evaluation(len(evaluations), phase, key, means, _objective(targets, means))
        evaluations.append(ev)
        cache[key] = ev
        best = min(e.objective for e in evaluations)
        progress.evaluation(ev, best)
        if on_evaluation is not None:
            on_evaluation(ev)
        return ev

    def at_unit(u: Sequence[float], phase: str) -> Evaluation:
        return evaluate(tuple(par.from_unit(x) for par, x in zip(pars, u, strict=True)), phase)

    start = tuple(_start(b) for b in bound)
    message = "budget spent"
    try:
        evaluate(start, "start")
        if spec.design:
            design = qmc.LatinHypercube(d=len(pars), seed=spec.seed).random(spec.design)
            for u in design:
                at_unit(u, "design")
        # Nelder-Mead from the best point so far, restarted from the best with a smaller
        # simplex while that improves it: with common random numbers the objective is a step
        # function of θ (counts), on whose flat steps a simplex can stop early
        for step in RESTART_STEPS:
            before = min(e.objective for e in evaluations)
            first = min(evaluations, key=lambda e: (e.objective, e.index))
            u0 = np.array([par.to_unit(t) for par, t in zip(pars, first.theta, strict=True)])
            res = optimize.minimize(
                lambda u: at_unit(u, "local").objective, u0, method="Nelder-Mead",
                bounds=[(0.0, 1.0)] * len(pars),
                options={"xatol": spec.xatol, "fatol": 1e-9,
                         "maxfev": max(1, spec.max_evaluations - len(evaluations)),
                         "initial_simplex": _simplex(u0, step)})
            message = str(res.message)
            if min(e.objective for e in evaluations) >= before or before == 0.0:
                break
    except _Budget:
        pass
    best = min(evaluations, key=lambda e: (e.objective, e.index))
    fitted = apply(settings, bound, best.theta)
    progress.line(f"best of {len(evaluations)} evaluations: {_theta_text(pars, best.theta)} "
                  f"(objective {best.objective:.4g}); final evaluation with "
                  f"{spec.final_replications} replications")
    final_reps = range(spec.replications, spec.replications + spec.final_replications)
    values = runner.values(fitted, list(final_reps))
    results = tuple(_result(t, values[:, k]) for k, t in enumerate(targets))
    final_objective = _objective(targets, [r.mean for r in results])
    cpu = time.process_time() - cpu0 + runner.worker_cpu_s
    wall = time.monotonic() - wall0
    met = sum(r.met for r in results)
    progress.line(f"{met} of {len(results)} targets met; {_duration(cpu)} of CPU")
    return Calibration(
        spec=spec,
        parameters=tuple((b.parameter, tuple(".".join(lf) for lf in b.leaves), s, f)
                         for b, s, f in zip(bound, start, best.theta, strict=True)),
        evaluations=tuple(evaluations), best=best, final=results,
        final_objective=final_objective, optimizer=message, settings=fitted, cpu_s=cpu,
        wall_s=wall)


def _simplex(u0: np.ndarray, step: float = 0.15) -> np.ndarray:
    """Nelder–Mead's first simplex: ``u0`` and a step along each axis, inwards at the box's
    edges (scipy's default steps 5 % of the value, nothing from 0)."""
    d = len(u0)
    pts = [u0.copy()]
    for i in range(d):
        p = u0.copy()
        p[i] = u0[i] + step if u0[i] + step <= 1.0 else u0[i] - step
        pts.append(p)
    return np.array(pts).reshape(d + 1, d)


def _theta_text(pars: Sequence[Parameter], theta: Sequence[float]) -> str:
    return ", ".join(f"{p.name} = {t:.6g}" for p, t in zip(pars, theta, strict=True))


def _result(t: Target, x: np.ndarray) -> TargetResult:
    """A target's figures over the final replications (NaN values make NaN figures)."""
    n = len(x)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    h = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n) if n > 1 else math.nan
    lo, hi = (float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975))) \
        if np.isfinite(x).all() else (math.nan, math.nan)
    return TargetResult(target=t, values=tuple(float(v) for v in x), mean=mean, sd=sd,
                        ci95_low=mean - h, ci95_high=mean + h, range95_low=lo, range95_high=hi,
                        distance=t.distance(mean), met=t.met(mean))
