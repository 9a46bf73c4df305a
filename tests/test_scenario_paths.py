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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# ----------------------------------------------------------------------------------------------
# the ids a run config names, checked against the folder before anything runs
# ----------------------------------------------------------------------------------------------
def _city_rainstorm_townships() -> list[int]:
    """The townships conf/hazard/city_rainstorm.yaml rains on (read from the file itself)."""
    from importlib.resources import files

    text = files(hydra_app.CONFIG_MODULE).joinpath("hazard", "city_rainstorm.yaml").read_text(
        encoding="utf-8")
    return [int(t) for t in yaml.safe_load(text)["weather"]["townships"]]


def _plan(tmp_path: Path) -> Path:
    """A plan folder (by hand, as gridsim plan writes one) whose sites are grids 2, 80 and 95."""
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "plan.yaml").write_text("gridsim_plan: 1\nmodel: mclp\nsites:\n  kind: supply_points"
                                    "\n  grids: [2, 80, 95]\n  holds: {sandbag: 200}\n",
                                    encoding="utf-8")
    return plan


# small exported: 70 grids (ids 0..69), 4 townships (ids 0..3)
HAS_GRIDS = "my_district/grids.geojson has 70 grids, ids 0..69"
HAS_TOWNS = "my_district/grids.geojson has 4 townships, ids 0..3"


@pytest.mark.parametrize("case", [pytest.param("weather", marks=pytest.mark.slow), "warning",
                                  pytest.param("drill", marks=pytest.mark.slow),
                                  pytest.param("plan", marks=pytest.mark.slow)])
def test_ids_the_folder_lacks_stop_validate_and_run(case: str, folder: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """One line per key naming the key, the ids the folder lacks and where the key was set;
    exit 2 from ``gridsim scenario validate <folder> [overrides]`` and from ``gridsim run``,
    and no run folder."""
    from gridsim.app import cli

    monkeypatch.chdir(tmp_path)
    if case == "weather":  # a hazard option of conf/ whose weather rains on 66 townships
        overrides = ["hazard=city_rainstorm"]
        beyond = [t for t in _city_rainstorm_townships() if t >= 4]
        assert len(beyond) > 10  # listed up to ten, then counted
        line = (f"config error at hazard.weather.townships: township ids "
                f"{', '.join(map(str, beyond[:10]))} ... ({len(beyond)} in all) are not in "
                f"scenario folder 'my_district' ({HAS_TOWNS}) (conf/hazard/city_rainstorm.yaml)")
    elif case == "warning":  # a scripted warning's grids
        overrides = ["hazard=flood_evacuation", "hazard.warnings.0.grids=[3,70]"]
        line = ("config error at hazard.warnings[0].grids: grid id 70 is not in scenario "
                f"folder 'my_district' ({HAS_GRIDS}) (command-line override "
                "hazard.warnings.0.grids=[3,70])")
    elif case == "drill":
        overrides = ["drill.grids=[5,70,71]"]
        line = ("config error at drill.grids: grid ids 70, 71 are not in scenario folder "
                f"'my_district' ({HAS_GRIDS}) (command-line override drill.grids=[5,70,71])")
    else:
        plan = _plan(tmp_path)
        overrides = [f"plan={plan}"]
        line = (f"config error at plan: {plan} names grids 80, 95 that scenario folder "
                f"'my_district' lacks ({HAS_GRIDS}) (command-line override plan={plan})")
    capsys.readouterr()
    assert scenario_main(["validate", str(folder), *overrides]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"gridsim: folder {folder}: 1 problem", f"  {line}"]
    out = tmp_path / "run"
    assert cli.main(["run", f"scenario={folder}", *overrides, f"hydra.run.dir={out}"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"gridsim: {line}"]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["plan"] if case == "plan" else [])


def test_validate_takes_the_runs_defaults_and_refuses_a_scenario_override(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without overrides the run's own defaults are checked (the default hazard rains on
    townships 0..3, which small has); the scenario is the first argument only."""
    assert scenario_main(["validate", str(folder)]) == 0
    capsys.readouterr()
    assert scenario_main(["validate", str(folder), "scenario=small"]) == 2
    assert capsys.readouterr().err == (
        f"gridsim: scenario=small: the scenario is {folder}, the first argument; give only other "
        "overrides (e.g. hazard=flood_evacuation plan=DIR)\n")


def test_folder_ids_number_townships_as_loading_does(tmp_path: Path) -> None:
    """Township ids: natural order of the names (T2 before T10), or scenario.yaml's list."""
    from gridsim.place.folder.ids import folder_ids

    (tmp_path / "scenario.yaml").write_text("name: x\ngrids: g.geojson\n", encoding="utf-8")
    feats = [{"type": "Feature", "properties": {"id": i, "township": t}, "geometry": None}
             for i, t in enumerate(["T10", "T2", "T10"])]
    (tmp_path / "g.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                    "features": feats}), encoding="utf-8")
    ids = folder_ids(tmp_path)
    assert ids is not None and (ids.n_grids, ids.townships) == (3, ("T2", "T10"))
    assert ids.grids_file == "g.geojson"
    (tmp_path / "scenario.yaml").write_text("name: x\ngrids: g.geojson\ntownships: [T10, T2]\n"
                                            "max_snap_m: 400\n", encoding="utf-8")
    ids = folder_ids(tmp_path)  # scenario.yaml changed (its size): read again
    assert ids is not None and ids.townships == ("T10", "T2")
    (tmp_path / "g.geojson").write_text("{", encoding="utf-8")
    assert folder_ids(tmp_path) is None  # loading the folder reports the syntax
