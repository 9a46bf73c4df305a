"""gridsim: a discrete-event simulator of grid-based emergency management (网格化应急管理).

A city is cut into thousands of grids (网格), each with standby people and a supply point, that
hunt hazards in peacetime and, when a disaster strikes, switch in place into a forward command
post (平急转换). See README.md and ``docs/domain.md``.

Importing the package has no side effects: no config is registered, no backend chosen.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gridsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "build", "simulate"]


def simulate(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Run one simulation: see :func:`gridsim.engine.simulation.simulate`."""
    # start-up time: the engine on first use
    from gridsim.engine.simulation import simulate as _simulate

    return _simulate(*args, **kwargs)


def build(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Build a scenario: see :func:`gridsim.engine.simulation.build`."""
    from gridsim.engine.simulation import build as _build  # start-up time: the engine on first use

    return _build(*args, **kwargs)
