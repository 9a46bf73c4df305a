"""The notebook API: :func:`run` a config as ``gridsim run`` does, :func:`load` a finished run
folder, and read either as a :class:`Result` (the summary as a dict, the tables as pandas
DataFrames). Walked through in ``docs/notebook.md``.

* :func:`run` takes the overrides of ``gridsim run`` as a list (``["scenario=small",
  "duration_h=24"]``) or a dict (``{"scenario": "small", "duration_h": 24}``; nested dicts are
  flattened with dots, lists become Hydra lists) and goes through the very path of the command
  (:func:`gridsim.app.hydra_app.run_plain`): the same defaults, checks and error lines, the same
  run folder (Hydra's ``outputs/<date>/<time>`` under the current folder, claimed uniquely; or
  ``folder=``), the same files, ``.hydra/`` and manifest, the same resume (a folder already
  done with the same config and inputs is not run again: ``Result.skipped``).
* :func:`load` reads a folder whose manifest says ``done``; a missing folder, a folder that is
  no run (or a sweep of runs), a run that failed or has not finished, a cut-short
  ``summary.json``: each is a :class:`gridsim.errors.UserError` with one line saying so.

Errors are gridsim's own: a bad override raises :class:`gridsim.model.validate.ConfigError`
whose ``errors`` are the lines ``gridsim run`` prints (after ``gridsim: ``); a problem with a
folder or a file raises :class:`~gridsim.errors.UserError` (its ``lines``).

pandas is needed only for the tables (``incidents()``, ``grids()``, ``events()``,
``table()``), imported when one is first asked for; without it they raise
:class:`PandasMissing` (an ImportError and a UserError) naming ``pip install pandas``.
Importing this module loads neither Hydra nor numpy (start-up time).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import numbers
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridsim.errors import UserError
from gridsim.output.run_folder import MANIFEST, SUMMARY, read_json

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PandasMissing", "Result", "load", "overrides_of", "run"]

#: The figures of a run are the files it wrote with these suffixes.
FIGURE_SUFFIXES = (".png", ".svg", ".html")
#: A string value Hydra's override grammar reads as that string when it is left unquoted.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./+@%-]*|[./][A-Za-z0-9_./+@%-]*")
#: Unquoted, these would read as a bool, null or a number.
_KEYWORDS = frozenset({"true", "false", "null", "nan", "inf"})


class PandasMissing(UserError, ImportError):
    """A table was asked for and pandas is not installed."""


# ----------------------------------------------------------------------------------------------
# overrides
# ----------------------------------------------------------------------------------------------
def _quoted(text: str) -> str:
    """``text`` as a quoted string of Hydra's override grammar (a backslash is escaped only
    where it precedes the quote or ends the string, as the grammar reads it)."""
    quote = "'" if "'" not in text or '"' in text else '"'
    body = re.sub(r"(\\+)(?=" + quote + r"|$)", lambda m: m.group(1) * 2, text)
    return quote + body.replace(quote, "\\" + quote) + quote


def _value(v: Any, key: str) -> str:
    """One value in Hydra's override grammar."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        x = float(v)
        return ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf") if math.isinf(x)
                else repr(x))
    if isinstance(v, os.PathLike):
        v = os.fspath(v)
    if isinstance(v, str):
        plain = (_PLAIN.fullmatch(v) is not None and v.lower() not in _KEYWORDS
                 and "${" not in v)
        return v if plain else _quoted(v)
    if isinstance(v, Mapping):
        return "{" + ",".join(f"{k}:{_value(x, f'{key}.{k}')}" for k, x in v.items()) + "}"
    if isinstance(v, Sequence):
        return "[" + ",".join(_value(x, f"{key}[{i}]") for i, x in enumerate(v)) + "]"
    raise TypeError(f"gridsim.run: the value of {key} is a {type(v).__name__} ({v!r:.60}); "
                    "give a str, number, bool, None, list or dict")


def _flatten(d: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for k, v in d.items():
        if not isinstance(k, str) or not k:
            raise TypeError(f"gridsim.run: override keys are non-empty strings, got {k!r}")
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            yield from _flatten(v, key + ".")
        else:
            yield key, v


def overrides_of(overrides: Sequence[str] | Mapping[str, Any]) -> list[str]:
    """The ``gridsim run`` overrides of a list (as it is) or of a dict: ``{"scenario": "small",
    "output": {"figures": False}, "seed": 7}`` gives ``["scenario=small",
    "output.figures=false", "seed=7"]``: nested dicts flattened with dots (a key such as
    ``"output.figures"`` or ``"+x"`` as it is), values in Hydra's grammar (``None`` is
    ``null``, lists ``[a,b]``, a string quoted where it would not read as itself)."""
    if isinstance(overrides, str | bytes):
        raise TypeError("gridsim.run: overrides are a list of strings or a dict, got a string; "
                        f"write [{overrides!r}] or {{'key': value}}")
    if isinstance(overrides, Mapping):
        return [f"{k}={_value(v, k)}" for k, v in _flatten(overrides, "")]
    out = list(overrides)
    bad = [a for a in out if not isinstance(a, str)]
    if bad:
        raise TypeError(f"gridsim.run: every override of a list is a 'key=value' string, got "
                        f"{bad[0]!r}; or give a dict")
    flags = [a for a in out if a.startswith("-")]
    if flags:
        raise UserError(f"gridsim.run takes overrides, not command-line flags: {flags[0]}",
                        hint="a sweep is a loop over gridsim.run (or gridsim run -m); Hydra's "
                        "--cfg, --info and --help are the command's")
    return out


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


# ----------------------------------------------------------------------------------------------
# the result of a run
# ----------------------------------------------------------------------------------------------
def _pandas() -> Any:
    try:
        import pandas  # optional, and start-up time: only when a table is asked for
    except ImportError as exc:
        raise PandasMissing("gridsim's tables (incidents(), grids(), events()) need pandas, "
                            "which is not installed", hint="pip install pandas") from exc
    return pandas


def _metric(summary: Mapping[str, Any], key: str, fmt: str) -> str:
    v = summary.get(key)
    return "n/a" if not isinstance(v, int | float) or isinstance(v, bool) else format(v, fmt)


@dataclass(frozen=True, repr=False, eq=False)
class Result:
    """A finished run: its folder, ``summary.json`` and manifest, and its tables on demand.

    Made by :func:`run` and :func:`load`; the tables are read from the folder each time one is
    asked for (a fresh DataFrame: change it at will)."""

    #: The run folder (absolute).
    folder: Path
    #: ``summary.json`` (every key of README's "Metrics").
    summary: dict[str, Any]
    #: ``manifest.json``: status, config, config_hash, inputs, seed, overrides, times, files.
    manifest: dict[str, Any] = field(default_factory=dict)
    #: Whether :func:`run` found the folder done with the same config and inputs and did not
    #: run again (``gridsim run`` says "skipped"); False for :func:`load`.
    skipped: bool = False

    @property
    def config(self) -> dict[str, Any]:
        """The run's resolved config (the manifest's ``config``: every setting, as a dict)."""
        config = self.manifest.get("config")
        return config if isinstance(config, dict) else {}

    @property
    def overrides(self) -> list[str]:
        """The overrides the run was made with (as ``gridsim run`` took them)."""
        return [str(o) for o in self.manifest.get("overrides") or []]

    @property
    def seed(self) -> int | None:
        seed = self.summary.get("seed", self.manifest.get("seed"))
        return seed if isinstance(seed, int) else None

    @property
    def scenario(self) -> str | None:
        name = self.summary.get("scenario")
        return str(name) if name is not None else None

    @property
    def files(self) -> list[Path]:
        """Every result file the run wrote (the manifest's ``files``)."""
        return [self.folder / str(f) for f in self.manifest.get("files") or []]

    @property
    def figures(self) -> list[Path]:
        """The run's figures (PNG and other pictures it wrote; none with
        ``output.figures=false``)."""
        return [p for p in self.files if p.suffix in FIGURE_SUFFIXES]

    def table(self, name: str) -> pd.DataFrame:
        """A CSV file of the run as a DataFrame, by its name (``"incidents.csv"``, or
        ``"incidents"``); a UserError naming the file when the run did not write it."""
        file = name if name.endswith(".csv") else f"{name}.csv"
        path = self.folder / file
        if not path.is_file():
            written = sorted(p.name for p in self.files if p.suffix == ".csv")
            raise UserError(f"the run wrote no {file}", path,
                            f"its tables: {', '.join(written) or 'none'}")
        pd = _pandas()
        return pd.read_csv(path)

    def incidents(self) -> pd.DataFrame:
        """``incidents.csv``: one row per incident (README, "What a run writes")."""
        return self.table("incidents.csv")

    def grids(self) -> pd.DataFrame:
        """``grids.csv``: one row per grid, its place and its results."""
        return self.table("grids.csv")

    def events(self) -> pd.DataFrame:
        """``events.csv``: the event log; a UserError when the run was made with
        ``output.events_log=false`` (it wrote none)."""
        logged = (self.config.get("output") or {}).get("events_log", True)
        if logged is False and not (self.folder / "events.csv").is_file():
            raise UserError("the run wrote no events.csv: it was made with "
                            "output.events_log=false", self.folder,
                            "run it again with output.events_log=true (events=True)")
        return self.table("events.csv")

    def __repr__(self) -> str:
        s = self.summary
        return (f"Result(scenario={self.scenario!r}, seed={self.seed}, "
                f"incidents={s.get('incidents', 'n/a')}, "
                f"response_p50={_metric(s, 'response_time_p50_s', '.0f')} s, "
                f"within_5min={_metric(s, 'within_5min_share', '.1%')}, "
                f"deaths={s.get('deaths', 'n/a')}, "
                f"folder={str(self.folder)!r}{', skipped' if self.skipped else ''})")


# ----------------------------------------------------------------------------------------------
# load and run
# ----------------------------------------------------------------------------------------------
def _runs_below(folder: Path, limit: int = 3) -> list[Path]:
    """A few run folders one or two levels under ``folder`` (a sweep's, an experiment's), for
    a hint; the deeper level is looked at only when the first has none, and lazily."""
    with contextlib.suppress(OSError):
        first = sorted(m.parent for m in folder.glob(f"*/{MANIFEST}"))[:limit]
        return first or [m.parent for m in itertools.islice(
            folder.glob(f"*/*/{MANIFEST}"), limit)]
    return []


def load(folder: str | os.PathLike[str]) -> Result:
    """The finished run in ``folder`` (one ``gridsim run`` or :func:`run` wrote, or one run of
    a sweep or an experiment) as a :class:`Result`.

    Raises :class:`gridsim.errors.UserError`, one line naming the folder or file, for a
    missing folder, a folder that is not a run (no ``manifest.json``; a sweep's folder names
    some of its runs), a run that failed, was interrupted or has not finished, or a
    ``summary.json`` that is missing or cut short."""
    path = Path(folder).expanduser().resolve()
    if not path.exists():
        raise UserError("no such run folder", path, "give the folder `gridsim run` printed "
                        "after 'results:' (relative to the current folder "
                        f"{Path.cwd()})")
    if not path.is_dir():
        raise UserError("not a run folder but a file", path, "give the folder that holds "
                        f"{MANIFEST} and {SUMMARY}")
    if not (path / MANIFEST).is_file():
        below = _runs_below(path)
        hint = (f"it holds run folders (a sweep?): load one of them, e.g. {below[0]}" if below
                else f"a run folder holds {MANIFEST}; this one does not")
        raise UserError(f"not a gridsim run folder (no {MANIFEST})", path, hint)
    manifest = read_json(path / MANIFEST, "manifest", hint="run it again to rewrite it")
    status = manifest.get("status")
    if status == "running":
        raise UserError("the run has not finished (its manifest says 'running')", path,
                        "wait for it to end; if its process was killed, run it again")
    if status in ("failed", "interrupted"):
        error = str(manifest.get("error") or "no error recorded")
        raise UserError(f"the run {status}: {error}", path / MANIFEST,
                        "its traceback is in the manifest; run it again")
    if status != "done":
        raise UserError(f"the manifest's status is {status!r}, expected 'done'", path / MANIFEST,
                        "run it again")
    summary = read_json(path / SUMMARY, "summary", hint="run it again to rewrite it")
    return Result(folder=path, summary=summary, manifest=manifest)


@contextlib.contextmanager
def _silenced(quiet: bool) -> Iterator[None]:
    if not quiet:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def run(overrides: Sequence[str] | Mapping[str, Any] = (), *,
        folder: str | os.PathLike[str] | None = None, figures: bool | None = None,
        events: bool | None = None, progress: bool | None = None,
        quiet: bool = False) -> Result:
    """Run one simulation exactly as ``gridsim run <overrides>`` does, and return its
    :class:`Result`.

    ``overrides``: the command's overrides, as a list (``["scenario=small", "seed=7"]``) or a
    dict (``{"scenario": "small", "seed": 7, "output": {"figures": False}}``, see
    :func:`overrides_of`); none: the defaults (the district, 72 h).

    ``folder``: the run folder (``hydra.run.dir``); None: where ``gridsim run`` puts it, a new
    ``outputs/<date>/<time>`` under the current folder. A folder already done with the same
    config and inputs is not run again (``Result.skipped``); one done with another config is
    cleared of gridsim's files and run again, as the command does.

    ``figures``, ``events``, ``progress``: ``output.figures``, ``output.events_log`` and
    ``output.progress`` (the progress lines on stderr), appended as overrides when given; None
    leaves them as the config says. ``quiet``: print nothing (the command prints the summary
    table and the folder).

    Raises :class:`gridsim.model.validate.ConfigError` (``errors``: the lines ``gridsim run``
    prints) for a config that does not compose or check, and :class:`gridsim.errors.UserError`
    for a folder that cannot be used or a run that failed (naming its manifest).
    """
    args = overrides_of(overrides)
    for key, value in (("output.figures", figures), ("output.events_log", events),
                       ("output.progress", progress)):
        if value is not None:
            if any(_key(a) == key for a in args):
                raise UserError(f"gridsim.run: {key} is given twice", key,
                                "give it either as an override or as the keyword")
            args.append(f"{key}={_value(bool(value), key)}")
    if folder is not None:
        if any(_key(a) == "hydra.run.dir" for a in args):
            raise UserError("gridsim.run: the run folder is given twice", "hydra.run.dir",
                            "give it either as folder= or as the override hydra.run.dir")
        args.append(f"hydra.run.dir={_value(os.fspath(folder), 'folder')}")
    # start-up time: Hydra, the engine and numpy only when a run is made
    from gridsim.app.hydra_app import run_plain

    with _silenced(quiet):
        outcome = run_plain(args)
    result = load(outcome.folder)
    return Result(folder=result.folder, summary=result.summary, manifest=result.manifest,
                  skipped=outcome.status == "skipped")
