"""The place cache on disk (gridsim.place.scenario.PlaceCache): a place built in one process is
read back by the next while its settings, the content of its files and gridsim's place-building
source are unchanged; any change of those is a miss and a new build; a damaged entry is built
again; ``GRIDSIM_CACHE=off`` writes nothing. A run on a place read back writes the same bytes
as a run on a place built."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import settings_for
from scipy import sparse

import gridsim.place.scenario as scenario_mod
from gridsim import __version__
from gridsim.engine.simulation import simulate
from gridsim.engine.travel import travel_for
from gridsim.output.files import write_outputs
from gridsim.place.folder import export_scenario
from gridsim.place.scenario import CACHE_ENV, PlaceCache, ScenarioCache, place_cache

FAST = ("output.figures=false", "output.progress=false")


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The disk cache in a folder of this test (the test session turns it off elsewhere)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pkl")) if folder.is_dir() else []


def _same_arrays(a: object, b: object) -> None:
    """Every field of two scenarios (recursively) equal: arrays by value, dtype and shape."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    elif sparse.issparse(a):
        assert type(a) is type(b) and a.shape == b.shape and (a != b).nnz == 0
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b)
        for f in dataclasses.fields(a):
            if f.name != "memo":
                _same_arrays(getattr(a, f.name), getattr(b, f.name))
    elif isinstance(a, tuple | list):
        assert len(a) == len(b)  # type: ignore[arg-type]
        for x, y in zip(a, b, strict=True):  # type: ignore[call-overload]
            _same_arrays(x, y)
    else:
        assert a == b


def test_a_place_built_once_is_read_back_by_the_next_process(disk: Path) -> None:
    cfg = settings_for("scenario=small", *FAST).scenario
    first = ScenarioCache()  # a process's cache: the place is built and stored
    built = first.get(cfg)
    assert (first.builds, first.disk_hits) == (1, 0)
    assert len(_entries(disk)) == 1
    second = ScenarioCache()  # the next process: read back, not built
    read = second.get(cfg)
    assert (second.builds, second.disk_hits) == (0, 1)
    assert read is not built
    _same_arrays(built, read)
    with pytest.raises(ValueError, match="read-only"):  # frozen as a built one is
        read.region.grids.population[0] = 1
    # another scenario setting: another entry
    third = ScenarioCache()
    third.get(dataclasses.replace(cfg, seed=cfg.seed + 1))
    assert third.builds == 1 and len(_entries(disk)) == 2


def test_runs_on_a_place_read_back_write_the_same_bytes(disk: Path, tmp_path: Path) -> None:
    s = settings_for("scenario=small", "duration_h=24", *FAST)
    files = {}
    for name in ("built", "read"):
        cache = ScenarioCache()
        sc = cache.get(s.scenario)
        assert cache.disk_hits == (name == "read")
        travel_for(sc, s.response)  # the near times: made and stored, then read back
        out = tmp_path / name
        write_outputs(simulate(s, sc), out, __version__)
        files[name] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert len(_entries(disk)) == 2  # the place and its near times
    assert files["built"] == files["read"]


def test_a_changed_input_file_is_a_miss(disk: Path, tmp_path: Path) -> None:
    """A scenario folder: one digit of stations.csv changed (same size, the old modification
    time put back) gives a new build that has the new value."""
    small = settings_for("scenario=small", *FAST)
    folder = tmp_path / "small"
    export_scenario(scenario_mod.build_scenario(small.scenario, reuse=False), small.scenario,
                    folder)
    cfg = dataclasses.replace(small.scenario, generator="files", path=str(folder))
    first = ScenarioCache().get(cfg)
    again = ScenarioCache()
    assert again.get(cfg) is not None and again.disk_hits == 1
    stations = folder / "stations.csv"
    st = os.stat(stations)
    lines = stations.read_text(encoding="utf-8").splitlines(keepends=True)
    units = int(lines[1].split(",")[1])
    lines[1] = lines[1].replace(f",{units},", f",{units % 9 + 1},", 1)
    stations.write_text("".join(lines), encoding="utf-8")
    os.utime(stations, ns=(st.st_atime_ns, st.st_mtime_ns))
    changed = ScenarioCache()
    second = changed.get(cfg)
    assert (changed.builds, changed.disk_hits) == (1, 0)
    assert int(first.stations.units[0]) == units
    assert int(second.stations.units[0]) == units % 9 + 1


def test_changed_place_building_source_is_a_miss(disk: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = settings_for("scenario=small", *FAST).scenario
    ScenarioCache().get(cfg)
    assert ScenarioCache().get(cfg) is not None
    monkeypatch.setattr(scenario_mod, "source_digest", lambda: "another gridsim")
    other = ScenarioCache()
    other.get(cfg)
    assert (other.builds, other.disk_hits) == (1, 0)


def test_the_source_digest_covers_the_place_building_modules() -> None:
    root = Path(scenario_mod.__file__).resolve().parents[1]
    covered = {p for pattern in scenario_mod._PLACE_SOURCES for p in root.glob(pattern)}
    for name in ("place/synthetic.py", "place/roads.py", "place/scenario.py",
                 "place/folder/load.py", "model/region.py", "model/params.py"):
        assert root / name in covered, name
    assert len(scenario_mod.source_digest()) == 64


def test_a_damaged_entry_is_built_again(disk: Path) -> None:
    cfg = settings_for("scenario=small", *FAST).scenario
    ScenarioCache().get(cfg)
    (entry,) = _entries(disk)
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0xFF  # one byte of the payload: the digest no longer checks
    entry.write_bytes(bytes(data))
    cache = ScenarioCache()
    cache.get(cfg)
    assert (cache.builds, cache.disk_hits) == (1, 0)
    entry.write_bytes(entry.read_bytes()[:100])  # truncated (a full disk)
    cache = ScenarioCache()
    cache.get(cfg)
    assert cache.builds == 1


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("off", "0", "", "false"):
        monkeypatch.setenv(CACHE_ENV, value)
        assert place_cache() is None
    monkeypatch.setenv(CACHE_ENV, "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cfg = settings_for("scenario=small", *FAST).scenario
    for _ in range(2):
        cache = ScenarioCache()
        cache.get(cfg)
        assert cache.builds == 1
    assert not any(tmp_path.rglob("*.pkl"))
    monkeypatch.delenv(CACHE_ENV)
    got = place_cache()
    assert got is not None and got.folder == tmp_path / "xdg" / "gridsim" / "place"


def test_only_the_most_recent_entries_are_kept(tmp_path: Path) -> None:
    cache = PlaceCache(tmp_path, entries=3)
    for i in range(5):
        cache.store(f"k{i}", {"i": i})
        t = 1_000_000 + i
        os.utime(tmp_path / f"k{i}.pkl", (t, t))
    cache.store("k5", {"i": 5})
    assert sorted(p.stem for p in tmp_path.glob("*.pkl")) == ["k3", "k4", "k5"]
    assert cache.load("k4") == {"i": 4}
    assert cache.load("k0") is None


def test_an_unwritable_cache_folder_is_no_error(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    cfg = settings_for("scenario=small", *FAST).scenario
    cache = ScenarioCache()
    assert cache.get(cfg) is not None and cache.builds == 1
