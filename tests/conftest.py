"""Shared test helpers: compose settings from the shipped config, run small simulations."""

from __future__ import annotations

import pytest

from gridsim.app.hydra_app import compose_settings
from gridsim.model.params import RunConfig


def settings_for(*overrides: str) -> RunConfig:
    """The run settings that ``gridsim run <overrides>`` would use (composed and validated)."""
    settings, _ = compose_settings(list(overrides))
    return settings


@pytest.fixture
def small_settings() -> RunConfig:
    """The small 70-grid scenario, 48 hours, rainstorm, no figures."""
    return settings_for("scenario=small", "duration_h=48", "output.figures=false",
                        "output.progress=false")
