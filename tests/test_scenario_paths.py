"""scenario=<path>: a scenario folder or a preset YAML file as an option of the scenario
group (relative, absolute, a bare name in the working folder, a sweep), the folder's name and
path in the settings, its generate: block over the district preset's, and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gridsim.app import hydra_app
from gridsim.app.scenario_cmd import scenario_main
from gridsim.model.params import scenario_presets
from gridsim.model.validate import ConfigError
from gridsim.place.folder import validate_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """small exported, without rosters (made from generate:, 3 grid workers a grid)."""
    out = tmp_path_factory.mktemp("paths") / "my_district"
    assert scenario_main(["export", "small", str(out)]) == 0
    spec = yaml.safe_load((out / "scenario.yaml").read_text(encoding="utf-8"))
    spec.pop("rosters")
    spec["generate"]["people"]["grid_workers_per_grid"] = 3
    (out / "scenario.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True),
                                       encoding="utf-8")
    return out


def _scenario(overrides: list[str]) -> object:
    return hydra_app.compose_settings([*overrides, "hazard=calm"])[0].scenario


def test_relative_absolute_and_bare_name(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder.parent)
    first = None
    for value in ("./my_district", "my_district/", str(folder)):
        sc = first = _scenario([f"scenario={value}"])
        assert sc.name == "my_district", value  # type: ignore[attr-defined]
        assert sc.path == str(folder.resolve()), value  # type: ignore[attr-defined]
        assert sc.generator == "files"  # type: ignore[attr-defined]
        assert sc.people.grid_workers_per_grid == 3  # type: ignore[attr-defined]
    # the long form names the folder too, with the same generate: settings
    long = _scenario(["scenario.generator=files", "scenario.path=my_district"])
    assert long.name == "my_district"  # type: ignore[attr-defined]
    assert long.people == first.people  # type: ignore[attr-defined]
    # an override of the command line still wins over generate:
    sc = _scenario(["scenario=./my_district", "scenario.people.grid_workers_per_grid=1"])
    assert sc.people.grid_workers_per_grid == 1  # type: ignore[attr-defined]


def test_a_sweep_of_folders_registers_each(folder: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    other.mkdir()
    for p in folder.iterdir():
        (other / p.name).write_bytes(p.read_bytes())
    monkeypatch.chdir(tmp_path)
    args = hydra_app.scenario_paths([f"scenario={folder},./other", "seed=1"])
    assert args == [f"scenario={folder},./other", "seed=1"]
    for job in hydra_app.sweep_jobs(args) or []:
        sc = _scenario(job)
        assert sc.name in ("my_district", "other")  # type: ignore[attr-defined]


def test_a_preset_file_path(tmp_path: Path) -> None:
    mine = tmp_path / "sub" / "mine.yaml"
    mine.parent.mkdir()
    mine.write_text(scenario_presets()["small"].read_text(encoding="utf-8"), encoding="utf-8")
    sc = _scenario([f"scenario={mine}"])
    assert sc.name == "small" and sc.generator == "synthetic"  # type: ignore[attr-defined]


def test_bad_paths_get_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError) as exc:
        _scenario(["scenario=./nothere"])
    assert exc.value.errors == [
        "config error at scenario: expected a scenario folder (with scenario.yaml) or a preset "
        "YAML file, got no such file or folder ./nothere (command-line override "
        "scenario=./nothere)"]
    with pytest.raises(ConfigError) as exc:
        _scenario(["scenario=empty"])
    assert exc.value.errors == [
        "config error at scenario: empty is not a scenario folder: expected empty/scenario.yaml, "
        "got no such file (docs/scenario_format.md) (command-line override scenario=empty)"]
    # a preset's name stays the preset even where a folder of that name exists
    (tmp_path / "small").mkdir()
    assert _scenario(["scenario=small"]).generator == "synthetic"  # type: ignore[attr-defined]


def test_without_generate_it_validates_with_the_district_settings(folder: Path,
                                                                  tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for p in folder.iterdir():
        (bare / p.name).write_bytes(p.read_bytes())
    spec = yaml.safe_load((bare / "scenario.yaml").read_text(encoding="utf-8"))
    del spec["generate"], spec["stations"]
    (bare / "scenario.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert scenario_main(["validate", str(bare)]) == 0
    district = yaml.safe_load(scenario_presets()["district"].read_text(encoding="utf-8"))
    sc = _scenario([f"scenario={bare}"])
    assert sc.people.grid_workers_per_grid == district["people"]["grid_workers_per_grid"]  # type: ignore[attr-defined]
    assert set(sc.departments) == set(district["departments"])  # type: ignore[attr-defined]


def test_files_outside_the_folder(folder: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    for p in folder.iterdir():
        target = tmp_path / p.name if p.name == "depots.csv" else inner / p.name
        target.write_bytes(p.read_bytes())
    spec_path = inner / "scenario.yaml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    spec["depots"] = "../depots.csv"
    spec_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert validate_folder(inner) == [
        f"scenario.yaml: depots: expected a file inside the scenario folder {inner}, got "
        "'../depots.csv' (outside it: set allow_outside_files: true in scenario.yaml to read it "
        "anyway)"]
    spec["allow_outside_files"] = True
    spec_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    capsys.readouterr()
    assert validate_folder(inner) == []
    assert "warning" in capsys.readouterr().err


@pytest.mark.slow
def test_validate_and_run_agree_on_the_roster(folder: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert scenario_main(["validate", str(folder)]) == 0
    line = capsys.readouterr().out
    on_roster = int(line.split(" people on the roster")[0].rsplit(", ", 1)[1].replace(",", ""))
    out = tmp_path / "run"
    assert hydra_app.run_command([f"scenario={folder}", "duration_h=1", "hazard=calm",
                                  f"hydra.run.dir={out}"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["responders_on_roster"] == on_roster
    assert summary["scenario"] == "my_district"
    assert summary["scenario_path"] == str(folder.resolve())
