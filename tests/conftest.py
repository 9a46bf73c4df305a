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


#: Module fixtures that run a whole command (a sweep, a plan loop, drill scripts, every plan
#: model): the tests that use one are in the slow lane together, since the fixture's cost is
#: paid by whichever of them runs first (the fast lane, ``-m "not slow"``, stays under 3
#: minutes on 2 cores; the full suite and CI run them all).
SLOW_FIXTURES: frozenset[tuple[str, str]] = frozenset({
    ("test_experiments", "reference"),  # a sweep of 2 variants x 3 replications
    ("test_planning_loop", "supply_loop"),  # optimise -> simulate -> reweight, 2 iterations
    ("test_drills", "scripts"),  # drill scripts in both languages, with their runs
    ("test_plan_command", "plans"),  # gridsim plan of every model
    ("test_presets", "pilot_stats"),  # both pilot presets built and described
    ("test_exposure", "pilots"),  # both pilot presets built, their expected incidents
})


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.path.stem
        names = getattr(item, "fixturenames", ())
        if any((module, name) in SLOW_FIXTURES for name in names):
            item.add_marker(pytest.mark.slow)
