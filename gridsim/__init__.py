"""gridsim: a discrete-event simulator of grid-based emergency management (网格化应急管理).

A city is cut into thousands of grids (网格), each with standby people and a supply point, that
hunt hazards in peacetime and, when a disaster strikes, switch in place into a forward command
post (平急转换). See README.md and ``docs/domain.md``.

From a notebook or a script (``docs/notebook.md``)::

    import gridsim
    r = gridsim.run({"scenario": "small", "duration_h": 24})   # as `gridsim run` does
    r.summary["within_5min_share"], r.incidents().head()
    again = gridsim.load(r.folder)

:func:`run`, :func:`load` and :class:`Result` live in :mod:`gridsim.api`; :func:`simulate`
and :func:`build` are the engine's phases on frozen settings (:mod:`gridsim.engine.simulation`).

Importing the package has no side effects and stays cheap: no config is registered, no backend
chosen, and Hydra, numpy and the engine load on first use (tests/test_api.py checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridsim.version import __version__

if TYPE_CHECKING:
    from gridsim.api import Result, load, run

__all__ = ["Result", "__version__", "build", "load", "run", "simulate"]

#: The names :mod:`gridsim.api` hands out, imported on first use (PEP 562).
_API = ("Result", "load", "run")


def __getattr__(name: str) -> Any:
    """``gridsim.run``, ``gridsim.load`` and ``gridsim.Result``, from :mod:`gridsim.api`."""
    if name in _API:
        from gridsim import api  # start-up time: the API (and its imports) on first use

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})


_NOT_SETTINGS = (
    "{call} takes frozen RunConfig settings first "
    "(gridsim.app.hydra_app.compose_settings makes them), got {what}; to run from overrides "
    "as `gridsim run` does, with its run folder and files, call "
    "gridsim.run({{'scenario': 'small', 'duration_h': 24}}) or "
    "gridsim.run(['scenario=small', 'duration_h=24'])")


def _settings_or_type_error(args: tuple[Any, ...], kwargs: dict[str, Any], call: str) -> None:
    """A clear TypeError for a call that does not give frozen settings first (e.g.
    ``gridsim.simulate(scenario='small')``): it points to :func:`gridsim.run`."""
    # start-up time: the settings' class (dataclasses only) on the first call
    from gridsim.model.params import RunConfig

    settings = args[0] if args else kwargs.get("settings")
    if isinstance(settings, RunConfig):
        return
    if settings is None:
        got = "no settings" + (f", only {', '.join(f'{k}=...' for k in kwargs)}" if kwargs else "")
    else:
        got = f"{type(settings).__name__} {settings!r:.60}"
    raise TypeError(_NOT_SETTINGS.format(call=call, what=got))


def simulate(*args: Any, **kwargs: Any) -> Any:
    """Run one simulation of frozen settings in memory, no files written: the engine's
    :func:`gridsim.engine.simulation.simulate` (``settings, scenario=None, progress=None,
    observe=None, *, counterfactual_pass=False, moves=()``), returning its ``RunResult``.

    A call without settings first (``gridsim.simulate(scenario='small')``) is a TypeError that
    points to :func:`gridsim.run`, which composes overrides as ``gridsim run`` does."""
    _settings_or_type_error(args, kwargs, "gridsim.simulate(settings, scenario=None, ...)")
    # start-up time: the engine on first use
    from gridsim.engine.simulation import simulate as _simulate

    return _simulate(*args, **kwargs)


def build(*args: Any, **kwargs: Any) -> Any:
    """Build a scenario from frozen settings: :func:`gridsim.engine.simulation.build`
    (``settings``), returning the immutable ``Scenario``. A call without settings is a
    TypeError that points to :func:`gridsim.run`."""
    _settings_or_type_error(args, kwargs, "gridsim.build(settings)")
    from gridsim.engine.simulation import build as _build  # start-up time: the engine on first use

    return _build(*args, **kwargs)
