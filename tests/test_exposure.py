"""Incidents from exposure (issue 11, point 1): a hazard type's rate is per unit of what it
exposes (residents, households, e-bikes, km² of forest, ...) in each grid, not per grid.

Rates are checked in expectation, on the rate field a run uses (its base rates, the sum of which
is the expected count per unit of time of a Poisson process), never on a random count.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from gridsim.engine.hazards import RateField, catalogue_from_config
from gridsim.model import budget
from gridsim.model.dists import Dist
from gridsim.model.frozen import changed
from gridsim.model.params import CatalogueConfig, HazardConfig, HazardTypeConfig, RunConfig
from gridsim.model.rates import base_rates_per_day, unit_rates_per_day
from gridsim.model.region import Grids
from gridsim.model.validate import validate
from gridsim.model.vocab import EXPOSURES, GRID_KINDS
from gridsim.place.folder import export_scenario, load_parts, validate_folder
from gridsim.place.scenario import build_scenario
from tests.conftest import settings_for
from tests.grids_by_hand import grids_by_hand

FAST = ("output.figures=false", "output.progress=false", "output.events_log=false")
#: The exposure columns of a scenario folder (docs/scenario_format.md, "Exposures").
COLUMNS = ("buildings", "ebikes", "enterprises", "forest_km2", "steep_slope_km2",
           "flood_prone_share")


def hazard(exposure: str = "grid", **rates: dict[str, float]) -> HazardTypeConfig:
    """A hazard type with only what the rate field reads set to something meaningful."""
    return HazardTypeConfig(exposure=exposure, needs={"rescue": 1}, handling=Dist.fixed(60.0),
                            escalate_after_s=1e9, department="fire",
                            department_handling=Dist.fixed(60.0), **rates)


def base_per_day(hazards: dict[str, HazardTypeConfig], grids: Grids,
                 rate_scale: float = 1.0) -> np.ndarray:
    """The rate field's base rates (hazard × grid), incidents per day, as a run builds them."""
    field = RateField(catalogue_from_config(CatalogueConfig(name="t", hazards=hazards)), grids,
                      HazardConfig(name="t", rate_scale=rate_scale), np.array([]))
    return field.base * 86400.0


# ----------------------------------------------------------------------------------------------
# rates scale with exposure
# ----------------------------------------------------------------------------------------------
def test_doubling_residents_doubles_resident_driven_rates_exactly() -> None:
    kinds = ["urban_community", "rural", "commercial"]
    pop = np.array([100, 250, 40])
    hh = np.array([40, 90, 15])
    share = np.array([0.1, 0.5, 0.0], dtype=np.float32)
    hazards = {
        "by_residents": hazard("residents", rate_per_unit_day={"urban_community": 1e-3,
                                                               "rural": 2e-3}),
        "by_flood_prone": hazard("flood_prone_residents",
                                 rate_per_unit_day=dict.fromkeys(GRID_KINDS, 1e-4)),
        "by_households": hazard("households", rate_per_unit_day=dict.fromkeys(GRID_KINDS, 1e-3)),
    }
    one = base_per_day(hazards, grids_by_hand(kinds, population=pop, households=hh,
                                              flood_prone_share=share), rate_scale=3.0)
    two = base_per_day(hazards, grids_by_hand(kinds, population=2 * pop, households=hh,
                                              flood_prone_share=share), rate_scale=3.0)
    np.testing.assert_array_equal(two[0], 2 * one[0])  # × 2 is exact in floating point
    np.testing.assert_array_equal(two[1], 2 * one[1])
    np.testing.assert_array_equal(two[2], one[2])  # households did not change
    # the formula: rate of the grid's kind × exposure × rate_scale (commercial: no rate)
    assert one[0] == pytest.approx([1e-3 * 100 * 3, 2e-3 * 250 * 3, 0.0], rel=1e-12)
    assert one[1] == pytest.approx([1e-4 * 10 * 3, 1e-4 * 125 * 3, 0.0], rel=1e-6)
    assert one[2] == pytest.approx([1e-3 * 40 * 3, 1e-3 * 90 * 3, 1e-3 * 15 * 3], rel=1e-12)


def test_every_exposure_name_gives_a_grid_array() -> None:
    g = grids_by_hand(["rural", "enterprise"], population=[10, 20], households=[4, 8],
                      buildings=[4, 1], ebikes=[3, 9], enterprises=[0, 12],
                      forest_km2=[0.05, 0.0], steep_slope_km2=[0.02, 0.0],
                      flood_prone_share=[0.5, 0.25], compounds=[0, 2],
                      monitoring_points=[1, 0], area_km2=[0.1, 0.2])
    want = {"grid": [1, 1], "residents": [10, 20], "households": [4, 8], "buildings": [4, 1],
            "compounds": [0, 2], "ebikes": [3, 9], "enterprises": [0, 12], "area_km2": [0.1, 0.2],
            "forest_km2": [0.05, 0.0], "steep_slope_km2": [0.02, 0.0],
            "flood_prone_residents": [5, 5], "flood_prone_households": [2, 2],
            "monitoring_points": [1, 0]}
    assert set(want) == set(EXPOSURES)
    for name, values in want.items():
        got = g.exposure(name)
        assert got.dtype == np.float64 and got == pytest.approx(values, rel=1e-6), name
    with pytest.raises(KeyError, match="unknown exposure 'people'"):
        g.exposure("people")


def test_rate_per_grid_day_with_exposure_grid_keeps_the_old_rates() -> None:
    """``exposure: grid`` (the default) is one unit per grid: ``rate_per_grid_day`` gives every
    grid its kind's rate, whatever the grid holds; ``rate_per_unit_day`` says the same."""
    kinds = ["urban_community", "rural", "rural", "enterprise"]
    g = grids_by_hand(kinds, population=[5000, 10, 300, 0], ebikes=[900, 2, 40, 0])
    old = {"urban_community": 0.002, "rural": 0.001, "enterprise": 0.00375}
    base = base_per_day({"a": hazard(rate_per_grid_day=old),
                         "b": hazard("grid", rate_per_unit_day=old)}, g)
    assert base[0] == pytest.approx([0.002, 0.001, 0.001, 0.00375], rel=1e-12)
    np.testing.assert_array_equal(base[0], base[1])


def test_the_estimate_uses_the_run_s_base_rates() -> None:
    """The run-size estimate of a loaded scenario is the rate field's sum × time, warnings
    adding (multiplier − 1) × the base rates of their grids."""
    g = grids_by_hand(["urban_community", "rural", "commercial"], ebikes=[300, 20, 80])
    s = settings_for("scenario=small", "duration_h=48", *FAST)
    ebike = hazard("ebikes", rate_per_unit_day=dict.fromkeys(GRID_KINDS, 1e-3))
    s = changed(s, {"catalogue.hazards": {"ebike_fire": ebike}, "hazard.rate_scale": 2.0,
                    "hazard.warnings": [], "hazard.incidents": []})
    per_day = float(base_per_day({"ebike_fire": ebike}, g, rate_scale=2.0).sum())
    assert per_day == pytest.approx(2.0 * 1e-3 * 400)
    assert budget.loaded_size(s, g, []).incidents == pytest.approx(per_day * 2)


# ----------------------------------------------------------------------------------------------
# the pilot: the same people and land, cut into different grids
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pilots() -> dict[str, tuple[RunConfig, Grids]]:
    out = {}
    for name in ("pilot_before", "pilot_after"):
        s = settings_for(f"scenario={name}", "hazard=calm", *FAST)
        out[name] = (s, build_scenario(s.scenario).region.grids)
    return out


def test_pilot_before_and_after_expect_the_same_incidents(pilots) -> None:
    """pilot_after has more than twice pilot_before's grids (so per-grid rates would more than
    double its incidents), but the same people, households, compounds and land: the expected
    incidents of the standard catalogue, the rate field's sum, agree within ±10 % (issue 11),
    in fact within 1 %."""
    (s_before, before), (s_after, after) = pilots["pilot_before"], pilots["pilot_after"]
    assert after.n > 2 * before.n
    for name in ("residents", "households", "area_km2"):
        assert after.exposure(name).sum() == pytest.approx(before.exposure(name).sum(),
                                                           rel=1e-6), name
    hazards = dict(s_before.catalogue.hazards)
    assert hazards == dict(s_after.catalogue.hazards)
    assert {h.exposure for h in hazards.values()} != {"grid"}
    rate_before = base_per_day(hazards, before).sum(axis=1)
    rate_after = base_per_day(hazards, after).sum(axis=1)
    assert rate_after.sum() == pytest.approx(rate_before.sum(), rel=0.10)
    assert rate_after.sum() == pytest.approx(rate_before.sum(), rel=0.01)
    # each hazard type that happens at all, too
    for i, name in enumerate(hazards):
        if rate_before[i] > 0:
            assert rate_after[i] == pytest.approx(rate_before[i], rel=0.02), name


def test_synthetic_exposures_keep_each_kind_s_total(pilots) -> None:
    """Generated exposures vary from grid to grid, but the grids of a kind hold exactly the
    kind's mean × its residents, households or land (counts to the nearest unit)."""
    s, grids = pilots["pilot_after"]
    kinds = np.asarray(grids.kind)
    for kind_name, ec in s.scenario.exposure_per_kind.items():
        ids = kinds == GRID_KINDS.index(kind_name)
        if not ids.any():
            continue
        residents = grids.population[ids].sum()
        assert grids.ebikes[ids].sum() == pytest.approx(ec.ebikes_per_resident * residents,
                                                        abs=1.0)
        assert grids.forest_km2[ids].sum() == pytest.approx(
            ec.forest_share * grids.area_km2[ids].sum(), rel=0.01)
        fp = (grids.population[ids] * grids.flood_prone_share[ids].astype(float)).sum()
        assert fp == pytest.approx(ec.flood_prone_share * residents, rel=1e-5)
        if ec.cv > 0 and ids.sum() > 2:
            per_resident = grids.ebikes[ids] / np.maximum(grids.population[ids], 1)
            assert per_resident.std() > 0  # they do vary
    assert (grids.forest_km2 <= grids.area_km2 + 1e-6).all()
    assert ((grids.flood_prone_share >= 0) & (grids.flood_prone_share <= 1)).all()


def test_the_estimate_expects_the_generated_exposures(pilots) -> None:
    """For a synthetic scenario the estimate works from the settings alone: the pilot's
    residents are fixed totals, so its expected exposures are the generated ones."""
    s, grids = pilots["pilot_before"]
    expected = budget.expected_exposure_by_kind(s.scenario)
    assert expected is not None
    for name in ("residents", "ebikes", "flood_prone_residents", "households"):
        assert expected[name].sum() == pytest.approx(grids.exposure(name).sum(), rel=0.01), name


# ----------------------------------------------------------------------------------------------
# scenario folders
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> RunConfig:
    return settings_for("scenario=small", "duration_h=48", *FAST)


@pytest.fixture(scope="module")
def exported(small: RunConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exposure") / "small"
    export_scenario(build_scenario(small.scenario), small.scenario, folder)
    return folder


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def _edit_grids(folder: Path, edit) -> None:  # type: ignore[no-untyped-def]
    path = folder / "grids.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    for i, ft in enumerate(data["features"]):
        edit(i, ft["properties"])
    path.write_text(json.dumps(data), encoding="utf-8")


def _name_file(folder: Path, key: str, name: str) -> None:
    spec = folder / "scenario.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + f"{key}: {name}\n", encoding="utf-8")


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_export_writes_the_exposures_and_loads_them_back(small: RunConfig,
                                                          exported: Path) -> None:
    built = build_scenario(small.scenario).region.grids
    props = json.loads((exported / "grids.geojson").read_text(encoding="utf-8"))
    assert set(COLUMNS) <= set(props["features"][0]["properties"])
    loaded = load_parts(exported, small.scenario)[0].grids
    for name in COLUMNS:
        a, b = getattr(built, name), getattr(loaded, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def test_csv_and_geojson_exposure_columns_reach_the_grids(small: RunConfig, exported: Path,
                                                         tmp_path: Path) -> None:
    """ebikes and forest_km2 from exposures.csv, buildings from a grid property, the others
    generated from scenario.exposure_per_kind as the synthetic generator makes them."""
    folder = _copy(exported, tmp_path / "f")
    built = build_scenario(small.scenario).region.grids

    def edit(i: int, p: dict) -> None:
        for name in COLUMNS:
            del p[name]
        p["buildings"] = 1000 + i

    _edit_grids(folder, edit)
    n = built.n
    forest = [min(0.01 * (g % 3), float(built.area_km2[g])) for g in range(n)]
    rows = [[g, 7 * g, forest[g]] for g in reversed(range(n))]  # any row order
    _write_csv(folder / "exposures.csv", ["grid", "ebikes", "forest_km2"], rows)
    _name_file(folder, "exposures", "exposures.csv")
    assert validate_folder(folder) == []
    g = load_parts(folder, small.scenario)[0].grids
    np.testing.assert_array_equal(g.ebikes, 7 * np.arange(n))
    np.testing.assert_array_equal(g.forest_km2, np.array(forest, dtype=np.float32))
    np.testing.assert_array_equal(g.buildings, 1000 + np.arange(n))
    for name in ("enterprises", "steep_slope_km2", "flood_prone_share"):  # generated
        np.testing.assert_array_equal(getattr(g, name), getattr(built, name), err_msg=name)
    assert g.ebikes.dtype == np.int32 and g.forest_km2.dtype == np.float32


def test_bad_exposure_cells_are_named(exported: Path, tmp_path: Path) -> None:
    folder = _copy(exported, tmp_path / "bad")

    def edit(i: int, p: dict) -> None:
        if i == 2:
            p["ebikes"] = -3
        if i == 3:
            p["flood_prone_share"] = 1.5
        if i == 4:
            p["enterprises"] = "many"
        del p["steep_slope_km2"]

    _edit_grids(folder, edit)
    n = json.loads((folder / "grids.geojson").read_text(encoding="utf-8"))["features"]
    rows: list[list[object]] = [[g, 0.0] for g in range(len(n))]
    rows[1][1] = "steep"
    _write_csv(folder / "exposures.csv", ["grid", "steep_slope_km2"], rows)
    _name_file(folder, "exposures", "exposures.csv")
    errors = validate_folder(folder)
    assert "grids.geojson: feature 2 (id 2): ebikes: expected a count >= 0, got -3" in errors
    assert ("grids.geojson: feature 3 (id 3): flood_prone_share: expected a share in [0, 1], "
            "got 1.5") in errors
    assert "grids.geojson: feature 4 (id 4): enterprises: expected a count >= 0, got 'many'" \
        in errors
    assert ("exposures.csv: row 3 (grid 1): steep_slope_km2: expected an area in km² >= 0, "
            "got 'steep'") in errors
    assert len(errors) == 4, errors


def test_exposures_beyond_the_land_missing_rows_and_doubles_are_named(exported: Path,
                                                                       tmp_path: Path) -> None:
    folder = _copy(exported, tmp_path / "bad")
    area: dict[int, float] = {}

    def edit(i: int, p: dict) -> None:
        area[i] = p["area_km2"]
        if i == 5:
            p["forest_km2"] = p["area_km2"] * 2 + 1.0

    _edit_grids(folder, edit)
    _write_csv(folder / "exposures.csv", ["grid", "ebikes"], [[0, 1], [1, 2]])
    _name_file(folder, "exposures", "exposures.csv")
    errors = validate_folder(folder)
    assert (f"grids.geojson: feature 5 (id 5): forest_km2: expected at most the grid's area "
            f"({area[5]:.6g} km²), got {area[5] * 2 + 1.0:.6g}") in errors
    n = len(area)
    assert ("exposures.csv: grid: expected a row for every grid, got none for grid "
            f"{', '.join(map(str, range(2, 22)))} (and {n - 22} more)") in errors
    _write_csv(folder / "exposures.csv", ["grid", "ebikes"], [[g, 1] for g in range(n)])
    errors = validate_folder(folder)
    assert ("exposures.csv: ebikes: expected each exposure in one file, got 'ebikes' also as a "
            "property of grids.geojson") in errors
    _write_csv(folder / "exposures.csv", ["grid", "population"], [[g, 1] for g in range(n)])
    assert ("exposures.csv: columns: expected at least one exposure column (buildings, ebikes, "
            "enterprises, forest_km2, steep_slope_km2, flood_prone_share), got columns grid, "
            "population") in validate_folder(folder)


# ----------------------------------------------------------------------------------------------
# the settings
# ----------------------------------------------------------------------------------------------
def test_bad_rate_settings_are_named_by_key(small: RunConfig) -> None:
    key = "catalogue.hazards.ebike_fire"
    ebike = small.catalogue.hazards["ebike_fire"]
    assert ebike.exposure == "ebikes" and ebike.rate_per_unit_day and not ebike.rate_per_grid_day

    def errors(changes: dict) -> list[str]:
        return validate(changed(small, changes))

    assert f"{key}.exposure: unknown exposure 'bikes'; expected one of " \
        f"{', '.join(EXPOSURES)}" in errors({f"{key}.exposure": "bikes"})
    assert f"{key}.rate_per_grid_day: give rate_per_grid_day or rate_per_unit_day, not both" \
        in errors({f"{key}.rate_per_grid_day": {"rural": 0.1}})
    assert any(e.startswith(f"{key}.rate_per_unit_day: missing")
               for e in errors({f"{key}.rate_per_unit_day": {}}))
    assert f"{key}.rate_per_grid_day: is per grid, but exposure is 'ebikes': give " \
        "rate_per_unit_day (or exposure 'grid')" in errors({
            f"{key}.rate_per_unit_day": {}, f"{key}.rate_per_grid_day": {"rural": 0.1}})
    assert f"{key}.rate_per_unit_day.rural: must be >= 0, got -1e-07" \
        in errors({f"{key}.rate_per_unit_day.rural": -1e-7})
    assert f"{key}.rate_per_unit_day.town: unknown grid kind; expected one of " \
        f"{', '.join(GRID_KINDS)}" in errors({f"{key}.rate_per_unit_day.town": 1e-7})
    missing = errors({"scenario.exposure_per_kind": {
        k: v for k, v in small.scenario.exposure_per_kind.items() if k != "rural"}})
    assert any(e.startswith("scenario.exposure_per_kind.rural: missing: catalogue.hazards."
                            "ebike_fire is per unit of 'ebikes' in rural grids") for e in missing)
    assert "scenario.exposure_per_kind.rural.forest_share: must be <= 1, got 1.5" \
        in errors({"scenario.exposure_per_kind.rural.forest_share": 1.5})


def test_an_old_per_grid_catalogue_still_runs_its_rates(small: RunConfig) -> None:
    """A catalogue of the old form (rate_per_grid_day, no exposure) is valid and gives each
    grid its kind's rate."""
    old = {k: 0.001 * (i + 1) for i, k in enumerate(GRID_KINDS)}
    h = dataclasses.replace(small.catalogue.hazards["gas_leak"], exposure="grid",
                            rate_per_unit_day={}, rate_per_grid_day=old)
    s = changed(small, {"catalogue.hazards.gas_leak": h})
    assert validate(s) == []
    grids = build_scenario(s.scenario).region.grids
    want = np.array([old[k] for k in GRID_KINDS])[np.asarray(grids.kind, dtype=np.int64)]
    got = base_rates_per_day(unit_rates_per_day(s.catalogue.hazards["gas_leak"]), "grid", grids)
    np.testing.assert_array_equal(got, want)
