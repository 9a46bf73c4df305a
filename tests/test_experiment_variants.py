"""``gridsim experiment`` checks a variant that only sets values by setting them into the
experiment's one composition (Hydra's own override rules) instead of composing it again: the
settings and the error lines are those of a full composition of the variant (the oracle here),
and a variant that chooses another group option is composed. The jobs of ``gridsim run -m``
are checked the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_experiments import write_experiment

from gridsim.app import hydra_app
from gridsim.app.hydra_app import compose_settings
from gridsim.experiments import orchestrate
from gridsim.model.validate import ConfigError


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = write_experiment(tmp_path_factory.mktemp("variants"))
    boundary = hydra_app._ExperimentBoundary()
    base = boundary.compose_sweep(["hydra/sweeper=gridsim",
                                   *orchestrate.session_overrides("test")],
                                  path.parent, path.stem)
    return path, base


def _both(path: Path, base: object, job: list[str]) -> tuple[object, object]:
    """(the fast route's outcome, a full composition's outcome): settings or error lines."""
    boundary = hydra_app._ExperimentBoundary()
    outcomes = []
    for route in (lambda: boundary.variant_settings(base, job, path.parent, path.stem),
                  lambda: compose_settings(job, path.parent, path.stem)[0]):
        try:
            outcomes.append(route())
        except ConfigError as exc:
            outcomes.append(exc.errors)
    return outcomes[0], outcomes[1]


@pytest.mark.parametrize("job", [
    ["response.switch.recovery_h=6", "replication=2"],
    pytest.param(["seed=11", "duration_h=4", "response.switch.alert_delay.median_s=90"],
                 marks=pytest.mark.slow),
    pytest.param(["scenario.people.grid_workers_per_grid=3", "replication=0"],
                 marks=pytest.mark.slow),
], ids=["one-value", "three-values", "scenario-value"])
def test_a_variant_of_values_has_the_settings_of_its_own_composition(
        experiment: tuple[Path, object], job: list[str]) -> None:
    path, base = experiment
    assert hydra_app._value_overrides(base.config, job) is not None  # the fast route
    fast, full = _both(path, base, job)
    assert not isinstance(full, list), full
    assert fast == full
    assert fast.replication == int(dict(a.split("=") for a in job).get("replication", 0))


@pytest.mark.parametrize("job", [
    ["response.switch.recovery_h=-1"],      # out of range: the range check
    ["response.switch.recovery_h=abc"],     # not a number: the override's merge
    ["response.switch.no_such_key=1"],      # not in the schema
], ids=["range", "type", "unknown-key"])
def test_a_bad_variant_gives_the_lines_of_its_own_composition(
        experiment: tuple[Path, object], job: list[str]) -> None:
    path, base = experiment
    fast, full = _both(path, base, job)
    assert isinstance(full, list) and full, full
    assert fast == full


@pytest.mark.slow
def test_a_variant_choosing_another_group_option_is_composed(
        experiment: tuple[Path, object]) -> None:
    path, base = experiment
    choices = hydra_app._choices(base.config)
    same = [f"response={choices['response']}", "seed=3"]
    other = ["response=prepared" if choices["response"] != "prepared" else "response=standard"]
    assert hydra_app._value_overrides(base.config, same) is not None
    for job in (other, ["+response.extra=1"], ["~seed"]):
        assert hydra_app._value_overrides(base.config, job) is None, job
    fast, full = _both(path, base, other)
    assert fast == full


@pytest.mark.slow
@pytest.mark.parametrize(("job", "bad"), [
    (["scenario=small", "hazard=calm", "duration_h=2", "seed=5"], False),
    (["scenario=small", "hazard=calm", "duration_h=-5", "seed=5"], True),
    (["scenario=small", "hazard=calm", "duration_h=2", "seed=abc"], True),
], ids=["good", "range", "type"])
def test_a_job_of_run_m_is_checked_as_its_own_composition_would(job: list[str],
                                                                bad: bool) -> None:
    """``gridsim run -m``: the jobs are checked on the composition of the overrides that are no
    sweep (here: all but ``seed``), with the lines composing each job would give."""
    base = hydra_app.compose_config(job[:3])
    assert hydra_app._value_overrides(base, job) is not None  # the fast route
    outcomes = []
    for route in (lambda: hydra_app._job_settings(base, job),
                  lambda: compose_settings(job)[0]):
        try:
            outcomes.append(route())
        except ConfigError as exc:
            outcomes.append(exc.errors)
    assert isinstance(outcomes[1], list) is bad, outcomes[1]
    assert outcomes[0] == outcomes[1]
