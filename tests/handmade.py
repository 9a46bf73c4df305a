"""Hand-made configurations for exact and theory tests.

The one-grid builders live in :mod:`params` (typed parameters built without Hydra) and are
re-exported here. :func:`settings_for` composes the shipped config as ``gridsim run`` does, for
tests that mean the shipped figures; :func:`shipped` does too (the same frozen settings, composed
once per test session: a test changes them with :func:`dataclasses.replace` or :func:`changed`).
"""

from __future__ import annotations

import functools

from conftest import settings_for
from params import ZERO, add_incident, add_warning, changed, one_grid

from gridsim.model.params import RunConfig

__all__ = ["ZERO", "add_incident", "add_warning", "changed", "one_grid", "settings_for",
           "shipped"]


@functools.cache
def _composed(overrides: tuple[str, ...]) -> RunConfig:
    return settings_for(*overrides)


def shipped(*overrides: str) -> RunConfig:
    """The settings ``gridsim run <overrides>`` would use (frozen)."""
    return _composed(tuple(overrides))
