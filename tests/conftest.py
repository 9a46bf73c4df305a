"""Shared test helpers: compose settings from the shipped config, run small simulations."""

from __future__ import annotations

import os
from functools import cache

import pytest

from gridsim.app.hydra_app import compose_settings
from gridsim.model.params import RunConfig

# the place cache on disk (gridsim.place.scenario.PlaceCache) off for the test session and
# the commands it starts, so that tests build what they test (tests/test_place_disk_cache.py
# turns it on in a folder of its own)
os.environ["GRIDSIM_CACHE"] = "off"


@cache
def _composed(overrides: tuple[str, ...]) -> RunConfig:
    """Composed once per test session for each set of overrides (a composition costs about
    half a second; the tests ask for the same few dozen sets hundreds of times)."""
    settings, _ = compose_settings(list(overrides))
    return settings


def settings_for(*overrides: str) -> RunConfig:
    """The run settings that ``gridsim run <overrides>`` would use (composed, validated and
    frozen): shared by every test that asks for them, which changes them with
    :func:`dataclasses.replace` or :func:`gridsim.model.frozen.changed` (a changed copy)."""
    return _composed(tuple(overrides))


@pytest.fixture
def small_settings() -> RunConfig:
    """The small 70-grid scenario, 48 hours, rainstorm, no figures."""
    return settings_for("scenario=small", "duration_h=48", "output.figures=false",
                        "output.progress=false")
