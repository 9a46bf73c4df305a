"""``gridsim scenario describe | map | validate | export`` end to end.

Every test runs the installed console script in a subprocess from a temporary folder. Small
presets mostly; ``describe suining_city --json`` once (a few seconds) for the city's totals.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from console import explain, gridsim

from gridsim.experiments.statistics import PILOT_KEYS
from gridsim.output.files import _width

#: The account's pilot figures (docs/domain.md), before and after the redesign.
PILOT = {
    "pilot_before": {"rural_grid_area_km2_mean": 0.61, "people_per_grid_mean": 4486,
                     "compounds_per_grid_mean": 3.16, "urban_compound_own_grid_share": 0.312},
    "pilot_after": {"rural_grid_area_km2_mean": 0.28, "people_per_grid_mean": 2044,
                    "compounds_per_grid_mean": 1.96, "urban_compound_own_grid_share": 0.558},
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"




@pytest.fixture(scope="module")
def cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenario_cli")


# ----------------------------------------------------------------------------------------------
# describe
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PILOT))
def test_describe_json_pilot_figures_within_2_percent(name: str, cwd: Path) -> None:
    proc = gridsim("scenario", "describe", name, "--json", cwd=cwd)
    assert proc.returncode == 0, explain(proc)
    data = json.loads(proc.stdout)
    assert data["scenario"] == name
    assert tuple(PILOT[name]) == PILOT_KEYS
    for key, account in PILOT[name].items():
        assert data[key] == pytest.approx(account, rel=0.02), key
        assert data["reference"][key] == pytest.approx(account), key
        assert data["relative_difference"][key] == pytest.approx(data[key] / account - 1.0)
    assert 0.0 < data["urban_compound_own_grid_share"] < 1.0  # a fraction, not a percentage


@pytest.mark.slow
def test_describe_table_side_by_side_with_the_account(cwd: Path) -> None:
    proc = gridsim("scenario", "describe", "pilot_before", cwd=cwd)
    assert proc.returncode == 0, explain(proc)
    out = proc.stdout
    assert "pilot_before" in out.splitlines()[0]
    for label in ("rural grid mean area 农村网格平均面积", "people served per grid 网格服务人口",
                  "compounds per urban grid 网格管理小区数", "城市小区单建网格比例",
                  "on-site commanders 现场指挥官", "grids 网格数", "account", "difference"):
        assert label in out, f"{label!r} not in\n{out}"
    rows = {ln.split("  ")[1].strip(): ln for ln in out.splitlines()[2:] if "  " in ln.strip()}
    area = next(ln for k, ln in rows.items() if k.startswith("rural grid mean area"))
    assert "0.610" in area and "%" in area, area  # scenario, account, relative difference
    people = next(ln for k, ln in rows.items() if k.startswith("people served per grid"))
    assert people.count("4,486") == 2, people
    share = next(ln for k, ln in rows.items() if k.startswith("single-compound"))
    assert share.count("31.2 %") == 2, share  # shown as a percentage in the table

    # columns line up on display width (CJK characters are two columns wide)
    table = [ln for ln in out.splitlines()[1:] if ln.startswith("  ") and "  " in ln.strip()]
    full = [ln for ln in table if ln.rstrip().endswith("%") or "difference" in ln]
    short = [ln for ln in table if ln not in full]
    assert len(full) >= 5 and len(short) >= 10
    assert len({_width(ln) for ln in full}) == 1, "\n".join(full)
    assert len({_width(ln) for ln in short}) == 1, "\n".join(short)


@pytest.mark.slow
def test_describe_suining_city_json(cwd: Path) -> None:
    proc = gridsim("scenario", "describe", "suining_city", "--json", cwd=cwd)
    assert proc.returncode == 0, explain(proc)
    data = json.loads(proc.stdout)
    assert data["grids"] == 18176
    assert data["on_site_commanders"] == 21448
    assert data["key_monitoring_points"] == 5744
    assert data["reference"]["grids"] == 18176
    assert data["relative_difference"]["population"] == pytest.approx(0.0, abs=0.01)
    assert data["compounds_per_grid_mean"] is None  # no compounds: null, not NaN
    assert "building scenario suining_city" in proc.stderr  # a progress line for a long build


@pytest.mark.slow
def test_describe_a_preset_yaml_file(cwd: Path) -> None:
    from gridsim.model.params import scenario_presets

    mine = cwd / "mine.yaml"
    mine.write_text(scenario_presets()["small"].read_text(encoding="utf-8")
                    .replace("name: small", "name: mine"), encoding="utf-8")
    proc = gridsim("scenario", "describe", "mine.yaml", "--json", cwd=cwd)
    assert proc.returncode == 0, explain(proc)
    data = json.loads(proc.stdout)
    assert data["scenario"] == "mine" and data["grids"] == 70


def test_unknown_name_exits_2_listing_the_presets(cwd: Path) -> None:
    proc = gridsim("scenario", "describe", "atlantis", cwd=cwd)
    assert proc.returncode == 2, explain(proc)
    assert "atlantis" in proc.stderr
    for name in ("district", "small", "pilot_before", "pilot_after", "suining_city"):
        assert name in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_bad_preset_file_exits_2_naming_key_and_file(cwd: Path) -> None:
    from gridsim.model.params import scenario_presets

    bad = cwd / "bad.yaml"
    bad.write_text(scenario_presets()["small"].read_text(encoding="utf-8")
                   .replace("rural_grids: 30", "rural_grids: -30"), encoding="utf-8")
    proc = gridsim("scenario", "describe", "bad.yaml", cwd=cwd)
    assert proc.returncode == 2, explain(proc)
    assert "scenario.rural_grids" in proc.stderr and "bad.yaml" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_usage_lists_the_scenario_commands(cwd: Path) -> None:
    proc = gridsim("--help", cwd=cwd)
    assert proc.returncode == 0
    for cmd in ("scenario describe", "scenario map", "scenario validate", "scenario export"):
        assert cmd in proc.stdout


# ----------------------------------------------------------------------------------------------
# map
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("colour", ["kind", "density"])
def test_map_writes_a_png(colour: str, cwd: Path) -> None:
    out = cwd / f"small_{colour}.png"
    proc = gridsim("scenario", "map", "small", "--out", out.name, "--colour", colour, cwd=cwd)
    assert proc.returncode == 0, explain(proc)
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 10_000
    assert not list(cwd.glob("*.part")), "a temporary file was left behind"
    assert out.name in proc.stdout


# ----------------------------------------------------------------------------------------------
# export and validate (scenario folders)
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(cwd: Path) -> Path:
    folder = cwd / "small_folder"
    proc = gridsim("scenario", "export", "small", str(folder), cwd=cwd)
    assert proc.returncode == 0, explain(proc)
    assert (folder / "scenario.yaml").is_file()
    assert (folder / "grids.geojson").is_file()
    for line in proc.stdout.splitlines()[1:]:  # every file it says it wrote exists
        assert Path(line.split()[0]).is_file(), line
    return folder


def test_export_writes_a_scenario_folder(exported: Path) -> None:
    files = sorted(p.name for p in exported.iterdir())
    assert len(files) >= 2, files
    assert not list(exported.glob("*.part"))


@pytest.mark.slow
def test_validate_an_exported_folder(exported: Path, cwd: Path) -> None:
    proc = gridsim("scenario", "validate", str(exported), cwd=cwd)
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.startswith("valid")
    assert len(proc.stdout.strip().splitlines()) == 1
    assert "70 grids" in proc.stdout


@pytest.mark.slow
def test_describe_an_exported_folder(exported: Path, cwd: Path) -> None:
    proc = gridsim("scenario", "describe", str(exported), "--json", cwd=cwd)
    assert proc.returncode == 0, explain(proc)
    assert json.loads(proc.stdout)["grids"] == 70


@pytest.mark.slow
def test_validate_a_broken_folder_names_file_and_field(exported: Path, cwd: Path) -> None:
    broken = cwd / "broken_folder"
    shutil.copytree(exported, broken)
    geo = json.loads((broken / "grids.geojson").read_text(encoding="utf-8"))
    geo["features"][3]["properties"]["population"] = -5
    (broken / "grids.geojson").write_text(json.dumps(geo), encoding="utf-8")
    proc = gridsim("scenario", "validate", str(broken), cwd=cwd)
    assert proc.returncode == 2, explain(proc)
    assert "grids.geojson" in proc.stderr and "population" in proc.stderr, proc.stderr
    assert "valid" not in proc.stdout
    assert "Traceback" not in proc.stderr
