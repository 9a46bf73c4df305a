"""Hand-made configurations for exact and theory tests.

The one-grid builders live in :mod:`params` (typed parameters built without Hydra) and are
re-exported here. :func:`settings_for` composes the shipped config as ``gridsim run`` does, for
tests that mean the shipped figures; :func:`shipped` does too, composing each set of overrides
once per test session and handing out copies (the tests change their settings in place).
"""

from __future__ import annotations

import copy
import functools

from conftest import settings_for
from params import ZERO, add_incident, add_warning, one_grid

from gridsim.model.params import RunConfig

__all__ = ["ZERO", "add_incident", "add_warning", "one_grid", "settings_for", "shipped"]


@functools.cache
def _composed(overrides: tuple[str, ...]) -> RunConfig:
    return settings_for(*overrides)


def shipped(*overrides: str) -> RunConfig:
    """A fresh copy of the settings ``gridsim run <overrides>`` would use."""
    return copy.deepcopy(_composed(tuple(overrides)))
