"""A scenario is built once and reused: equal scenario settings give the same built scenario
while the content of its files is unchanged, replications on one built scenario write the same
bytes as replications on separately built ones, and nothing a run does changes the scenario.
The place is built from the scenario settings alone; a scenario folder (with its shelters) is
read once."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import settings_for

import gridsim.place.folder.load as folder_load
from gridsim import __version__
from gridsim.engine.simulation import build, simulate
from gridsim.engine.travel import travel_for
from gridsim.model.frozen import freeze, thaw
from gridsim.model.params import RunConfig, ScenarioConfig
from gridsim.output.files import write_outputs
from gridsim.place.folder import export_scenario
from gridsim.place.scenario import (
    CACHE_SIZE,
    Scenario,
    ScenarioCache,
    build_scenario,
    scenario_key,
)
from gridsim.place.shelters import Shelters
from gridsim.place.synthetic import city

FAST = ("output.figures=false", "output.progress=false")


#: Tables made on demand and kept for later questions (the station searches' ``reached``, the
#: landmarks' ``memo``): they only grow, and never change an answer, so they are not the place.
_CACHES = ("memo", "reached")


def _arrays(obj: object, seen: set[int] | None = None) -> list[np.ndarray]:
    """Every array inside a scenario (dataclasses, tuples, lists, dicts)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [a for f in dataclasses.fields(obj) if f.name not in _CACHES
                for a in _arrays(getattr(obj, f.name), seen)]
    if isinstance(obj, tuple | list):
        return [a for v in obj for a in _arrays(v, seen)]
    if isinstance(obj, dict):
        return [a for v in obj.values() for a in _arrays(v, seen)]
    return []


def _digest(sc: Scenario) -> str:
    h = hashlib.sha256()
    for a in _arrays(sc):
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _as_files(cfg: ScenarioConfig, folder: Path) -> ScenarioConfig:
    return dataclasses.replace(cfg, generator="files", path=str(folder))


# ----------------------------------------------------------------------------------------------
# the same settings, the same scenario; the response does not go in
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_equal_scenario_settings_give_the_same_built_scenario() -> None:
    a = settings_for("scenario=small", *FAST)
    b = settings_for("scenario=small", "seed=9", "response=prepared",
                     "response.dispatch.mutual_aid_radius_s=900",
                     "response.department_speed_factor=0.5", *FAST)
    assert build(a) is build(b)  # run seed and every response lever leave the place alone
    c = settings_for("scenario=small", "scenario.seed=5", *FAST)
    assert build(c) is not build(a)
    assert scenario_key(c.scenario) != scenario_key(a.scenario)
    assert build_scenario(a.scenario, reuse=False) is not build(a)  # reuse can be refused


def test_the_key_is_a_stable_hash_of_the_settings() -> None:
    a = settings_for("scenario=district").scenario
    b = freeze(thaw(settings_for("scenario=district").scenario))  # equal, another object
    assert a is not b and scenario_key(a) == scenario_key(b)
    assert scenario_key(a) == scenario_key(thaw(a))  # frozen or not, the same settings
    assert len(scenario_key(a)) == 64 and int(scenario_key(a), 16) >= 0
    b = dataclasses.replace(b, people=dataclasses.replace(
        b.people, party_members_per_1000=b.people.party_members_per_1000 + 1e-9))
    assert scenario_key(a) != scenario_key(b)  # floats exactly


def test_the_cache_keeps_the_most_recently_used() -> None:
    cache = ScenarioCache(size=2)
    base = settings_for("scenario=small").scenario
    cfgs = [dataclasses.replace(base, seed=s) for s in (1, 2, 3)]
    first = cache.get(cfgs[0])
    cache.get(cfgs[1])
    assert cache.get(cfgs[0]) is first  # used again: now the most recent
    cache.get(cfgs[2])  # evicts cfgs[1], the least recently used
    assert len(cache) == 2
    assert cache.get(cfgs[0]) is first
    builds = cache.builds
    cache.get(cfgs[1])
    assert cache.builds == builds + 1 and len(cache) == 2
    assert CACHE_SIZE >= 1


def test_city_helper_is_the_preset_scaled() -> None:
    preset = settings_for("scenario=suining_city").scenario
    assert scenario_key(city(1)) == scenario_key(preset)
    c4 = city(4)
    assert c4.urban_grids + c4.rural_grids == 4 * (preset.urban_grids + preset.rural_grids)
    assert c4.urban_grids + c4.rural_grids == 72_704
    assert c4.rural_population == 4 * preset.rural_population
    assert c4.people.commanders_total == 4 * preset.people.commanders_total
    assert {d: c.stations for d, c in c4.departments.items()} == {
        d: 4 * c.stations for d, c in preset.departments.items()}
    assert c4.townships_per_county == preset.townships_per_county  # townships 4x larger
    assert preset.urban_grids == 800  # the preset is unchanged


# ----------------------------------------------------------------------------------------------
# immutable: reuse cannot carry anything from one run into the next
# ----------------------------------------------------------------------------------------------
def test_a_built_scenario_is_read_only() -> None:
    sc = build(settings_for("scenario=small", *FAST))
    arrays = _arrays(sc)
    assert len(arrays) > 30 and not any(a.flags.writeable for a in arrays)
    with pytest.raises(ValueError, match="read-only"):
        sc.region.grids.population[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        sc.supplies.grid_stock[0, 0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.roster = sc.roster  # type: ignore[misc]
    tr = travel_for(sc, settings_for("scenario=small").response)
    assert not tr.near.time_s.flags.writeable and not tr.station_time_s.flags.writeable


@pytest.mark.parametrize("overrides", [
    ("scenario=district", "duration_h=48"),
    pytest.param(("scenario=district", "hazard=flood_evacuation", "duration_h=36"),
                 marks=pytest.mark.slow),
    ("scenario=small", "duration_h=48", "response.department_speed_factor=0.5"),
])
def test_runs_leave_the_scenario_unchanged(overrides: tuple[str, ...]) -> None:
    s = settings_for(*overrides, *FAST)
    sc = build(s)
    before = _digest(sc)
    r = simulate(s, sc)
    assert r.incidents  # something happened
    assert _digest(sc) == before


@pytest.mark.slow
def test_replications_on_one_scenario_write_the_same_bytes_as_separate_builds(
        tmp_path: Path) -> None:
    """The replications of a variant on one built scenario, as a batch runs them, against each
    replication on a scenario of its own (built without the cache, as separate processes do).
    The district's flood evacuation with the red warning over township 1 only: the same
    incidents as over townships 0 and 1, an evacuation of a quarter of the cost (the flow of
    every household is most of a run's time)."""
    base = settings_for("scenario=district", "hazard=flood_evacuation", "duration_h=34",
                        "hazard.warnings.0.townships=[1]",
                        "output.figures=false", "output.progress=false",
                        "output.events_log=true")
    shared = build(base)
    for r in range(2):
        s = dataclasses.replace(base, replication=r)
        write_outputs(simulate(s, shared), tmp_path / f"shared{r}", __version__)
        own = build_scenario(s.scenario, reuse=False)
        assert own is not shared
        write_outputs(simulate(s, own), tmp_path / f"own{r}", __version__)
    for r in range(2):
        a, b = _files(tmp_path / f"shared{r}"), _files(tmp_path / f"own{r}")
        assert {"summary.json", "incidents.csv", "events.csv", "evacuation.csv"} <= set(a)
        assert a == b, f"replication {r}: {[k for k in a if a[k] != b.get(k)]}"
    # and the replications differ from each other (the comparison can fail)
    assert _files(tmp_path / "shared0")["incidents.csv"] != \
        _files(tmp_path / "shared1")["incidents.csv"]


# ----------------------------------------------------------------------------------------------
# a scenario folder: read once, reused while its files are unchanged
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> RunConfig:
    return settings_for("scenario=small", "hazard=flood_evacuation", "duration_h=33", *FAST)


@pytest.fixture
def folder(small: RunConfig, tmp_path: Path) -> Path:
    """`small` exported as a scenario folder with two shelters of its own."""
    out = tmp_path / "small"
    sc = build_scenario(small.scenario)
    shelters = Shelters.at_grids(sc, [3, 40], [5000, 6000], ["North school", "South hall"])
    export_scenario(dataclasses.replace(sc, shelters=shelters), small.scenario, out)
    return out


@pytest.mark.slow
def test_a_folder_scenario_carries_its_shelters_and_is_read_once(
        small: RunConfig, folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[Path] = []
    real = folder_load._load

    def counting(path: Path, cfg: ScenarioConfig | None):  # type: ignore[no-untyped-def]
        calls.append(Path(path))
        return real(path, cfg)

    monkeypatch.setattr(folder_load, "_load", counting)
    s = dataclasses.replace(small, scenario=_as_files(small.scenario, folder))
    sc = build_scenario(s.scenario, reuse=False)
    assert sc.shelters.name == ("North school", "South hall")
    assert sc.shelters.capacity.tolist() == [5000, 6000]
    assert sc.shelters.grid.tolist() == [3, 40]
    assert sc.shelters.node.tolist() == sc.roads.grid_node[[3, 40]].tolist()
    r = simulate(s, sc)
    assert len(calls) == 1  # the build; the evacuation takes the scenario's shelters
    assert r.evacuations and r.evacuations[0].shelters is sc.shelters
    write_outputs(r, tmp_path / "out", __version__)
    text = (tmp_path / "out" / "evacuation_shelters.csv").read_text(encoding="utf-8")
    assert "North school" in text and "South hall" in text


def test_the_cache_notices_a_changed_file(small: RunConfig, folder: Path) -> None:
    cache = ScenarioCache()
    cfg = _as_files(small.scenario, folder)
    first = cache.get(cfg)
    assert cache.get(cfg) is first
    # rewritten with the same content (new times): the content decides, still the same
    stations = folder / "stations.csv"
    text = stations.read_text(encoding="utf-8")
    stations.write_text(text, encoding="utf-8")
    assert cache.get(cfg) is first
    # a change of one digit keeps the size; the old modification time put back as well
    st = os.stat(stations)
    lines = text.splitlines(keepends=True)
    header, row = lines[0], lines[1]
    assert header.startswith("department,units") and row.split(",")[1] in "123456789"
    units = int(row.split(",")[1])
    lines[1] = row.replace(f",{units},", f",{units % 9 + 1},", 1)
    stations.write_text("".join(lines), encoding="utf-8")
    os.utime(stations, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(stations).st_size == st.st_size
    second = cache.get(cfg)
    assert second is not first
    assert int(second.stations.units[0]) == units % 9 + 1
    assert int(first.stations.units[0]) == units
    assert cache.get(cfg) is second
    # a file the scenario names is removed: rebuilt, and the folder's error comes out
    (folder / "shelters.csv").unlink()
    with pytest.raises(ValueError, match="shelters"):
        cache.get(cfg)


def test_a_copied_folder_is_another_scenario(small: RunConfig, folder: Path,
                                             tmp_path: Path) -> None:
    other = tmp_path / "copy"
    shutil.copytree(folder, other)
    cache = ScenarioCache()
    a = cache.get(_as_files(small.scenario, folder))
    b = cache.get(_as_files(small.scenario, other))
    assert a is not b and _digest(a) == _digest(b)


# ----------------------------------------------------------------------------------------------
# the tables that depend on the response: elaborated per run, cached per (radius, factor)
# ----------------------------------------------------------------------------------------------
def test_response_tables_are_made_per_run_and_cached() -> None:
    s = settings_for("scenario=district", *FAST)
    sc = build(s)
    t1 = travel_for(sc, s.response)
    assert travel_for(sc, s.response) is t1
    wide = dataclasses.replace(s.response, dispatch=dataclasses.replace(
        s.response.dispatch, mutual_aid_radius_s=900.0))
    t2 = travel_for(sc, wide)
    assert t2 is not t1 and t2.near.radius_s == 900.0
    assert t2.near.indices.size > t1.near.indices.size  # a wider radius reaches more grids
    slow = dataclasses.replace(s.response, department_speed_factor=0.5)
    t3 = travel_for(sc, slow)
    # every station time at half the speed is the road-speed time / 0.5, in float32
    np.testing.assert_array_equal(
        t3.station_time_s, (sc.station_times.time_s / 0.5).astype(np.float32))
    np.testing.assert_array_equal(t3.station_time_s[np.isfinite(t3.station_time_s)],
                                  (2 * t1.station_time_s)[np.isfinite(t1.station_time_s)])
    assert t3.near is t1.near  # the near times do not depend on the departments' speed
    # a changed copy of the scenario (a drill's roster) shares the tables of its roads
    copy = dataclasses.replace(sc, roster=sc.roster)
    assert travel_for(copy, s.response) is t1
    # a slowed copy (a blocked road into grid 5) has its own, slowed into grid 5 only
    slowed = dataclasses.replace(sc, slowed=((5, 3.0),))
    t4 = travel_for(slowed, s.response)
    assert t4 is not t1
    a, b = t1.near.indptr[5], t1.near.indptr[6]
    np.testing.assert_array_equal(t4.near.time_s[a:b], t1.near.time_s[a:b] * np.float32(3.0))
    np.testing.assert_array_equal(np.delete(t4.near.time_s, np.s_[a:b]),
                                  np.delete(t1.near.time_s, np.s_[a:b]))
    assert t4.depot_time_s[5] == t1.depot_time_s[5] * np.float32(3.0)
    np.testing.assert_array_equal(t4.station_time_s[:, 5], t1.station_time_s[:, 5] * 3)
    np.testing.assert_array_equal(np.delete(t4.station_time_s, 5, axis=1),
                                  np.delete(t1.station_time_s, 5, axis=1))


def test_the_place_imports_nothing_above_it() -> None:
    """``gridsim/place/`` builds on the model layer only: no engine, evacuation, drills,
    output, experiments or app import anywhere in it (inside functions too)."""
    import ast

    root = Path(__file__).resolve().parents[1] / "gridsim" / "place"
    above = ("gridsim.engine", "gridsim.evacuation", "gridsim.drills", "gridsim.output",
             "gridsim.experiments", "gridsim.app")
    found = []
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 10
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names if n.startswith(above)]
    assert found == []
