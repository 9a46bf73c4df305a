"""A scenario: the place a run happens in, built from the scenario settings alone, once.

:func:`build_scenario` turns a :class:`~gridsim.model.params.ScenarioConfig` into frozen domain
objects: the region, its roads, the people on its rosters, the supplies, the department stations
with their nearest-station driving times (:class:`~gridsim.place.roads.StationTimes`), each
grid's driving time from its township depot, and its shelters. Nothing about the response (the
levers a run varies) goes in: the tables that depend on response settings (mutual-aid near
times by the mutual-aid radius, station times at the departments' speed) are made per run in
the elaborate phase (:mod:`gridsim.engine.travel`).

A built scenario is reused: :func:`build_scenario` returns the same :class:`Scenario` object for
equal scenario settings while the content of every file it was read from is unchanged (an
in-process cache of the last :data:`CACHE_SIZE` scenarios, :class:`ScenarioCache`). So that
reuse cannot carry state from one run into the next, a scenario is immutable: a frozen
dataclass of frozen parts whose arrays are read-only (writing into one raises). Code that needs
a changed place (a drill's inject) makes a changed copy (:func:`dataclasses.replace`).

A built scenario is also kept on disk (:class:`PlaceCache`), so that the next process that asks
for the same place reads it instead of building it again (the city's generation and travel
times cost about a second of CPU; reading them back about 0.03 s). An entry is used only while
all of these are the same: the scenario settings (:func:`scenario_key`), the content of every
file the place is read from (:func:`gridsim.fsutil.file_sha256`), and gridsim itself (its
version, the versions of Python, numpy and scipy, and the source of every module that builds a
place: :func:`source_digest`). Entries are written atomically (:mod:`gridsim.fsutil`) with a
digest of their content, checked when read; an entry that does not check is built again. The
folder is ``$GRIDSIM_CACHE`` (default ``$XDG_CACHE_HOME/gridsim/place``, else
``~/.cache/gridsim/place``); ``GRIDSIM_CACHE=off`` turns the disk cache off. It keeps the
:data:`DISK_ENTRIES` most recently used entries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import pickle
import platform
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy

from gridsim.fsutil import file_sha256, write_atomic
from gridsim.model.budget import loaded_size, size_errors
from gridsim.model.people import Roster
from gridsim.model.region import Region
from gridsim.model.stations import Stations
from gridsim.model.streams import Streams
from gridsim.model.supplies import SupplyPoints
from gridsim.model.vocab import DEPARTMENTS
from gridsim.place.folder import Parts, folder_files, load_folder
from gridsim.place.roads import RoadNetwork, StationTimes, station_times, township_times
from gridsim.place.shelters import Shelters
from gridsim.place.synthetic import generate

if TYPE_CHECKING:
    from gridsim.model.params import RunConfig, ScenarioConfig

__all__ = [
    "CACHE_ENV",
    "CACHE_SIZE",
    "DISK_ENTRIES",
    "PlaceCache",
    "Scenario",
    "ScenarioCache",
    "build_scenario",
    "cached_table",
    "check_loaded",
    "generate_parts",
    "place_cache",
    "prepare_scenario",
    "scenario_key",
    "source_digest",
]

#: Built scenarios kept for reuse in one process (the most recently used).
CACHE_SIZE = 2
#: The environment variable naming the folder of the place cache on disk (``off``: none).
CACHE_ENV = "GRIDSIM_CACHE"
#: Entries (built places and their tables) kept on disk, the most recently used.
DISK_ENTRIES = 12


@dataclass(frozen=True, eq=False)
class Scenario:
    """A region with its roads, people, supplies, department stations and shelters, and the
    travel times that depend on the place alone. Immutable (see the module docstring)."""

    region: Region
    roads: RoadNetwork
    roster: Roster
    supplies: SupplyPoints
    stations: Stations
    station_times: StationTimes  # nearest stations per department and grid, at road speeds
    depot_time_s: np.ndarray  # township depot -> each grid (driving, seconds, float32)
    shelters: Shelters = field(default_factory=Shelters.empty)  # a folder's own (or none)
    seed: int = 0  # the scenario's own seed (generator, shelter placement): see streams()
    #: grids that driving into takes longer (a blocked road): ``(grid, factor)`` pairs
    slowed: tuple[tuple[int, float], ...] = ()
    #: the people who hunt hazards in peacetime (the loop's inspectors and door-knockers,
    #: gridsim.model.peace), when not ``roster``: a plan's duty posts add standby members who
    #: stay at their post (gridsim.planning.apply), so the place's own roster stays the
    #: loop's, and a plan changes the response, never the incidents
    peace_roster: Roster | None = None
    #: derived tables made on demand (a run's travel times, :mod:`gridsim.engine.travel`),
    #: reused by later runs; a copy made with :func:`dataclasses.replace` shares it, so each
    #: entry records the parts it was made from and is used only while they are the same
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_grids(self) -> int:
        return self.region.grids.n

    @property
    def peacetime_roster(self) -> Roster:
        """The people of the peacetime loop: :attr:`peace_roster`, else :attr:`roster`."""
        return self.peace_roster if self.peace_roster is not None else self.roster

    def streams(self) -> Streams:
        """The scenario's own random streams (its seed, not the run's), new at every call: a
        draw from them never moves a stream another user of the scenario sees."""
        return Streams(self.seed)

    def describe(self) -> dict[str, float]:
        g = self.region.grids
        return {
            "grids": g.n,
            "population": int(g.population.sum()),
            "area_km2": float(g.area_km2.sum()),
            "townships": self.region.hierarchy.n_townships,
            "villages": self.region.hierarchy.n_villages,
            "people_on_roster": self.roster.n,
            "road_links": len(self.roads.edge_u),
            "stations": self.stations.n,
        }


def generate_parts(cfg: ScenarioConfig) -> Parts:
    """The place itself, without travel times, as ``(region, roads, roster, supplies,
    (department, grid, units))``: generated, or loaded from a scenario folder (bad data raises
    :class:`~gridsim.place.folder.ScenarioDataError`)."""
    if cfg.generator == "files":
        return load_folder(Path(cfg.path), cfg).parts
    if cfg.generator != "synthetic":
        raise ValueError(f"scenario.generator: unknown generator {cfg.generator!r}")
    return generate(cfg, Streams(cfg.seed))


def prepare_scenario(parts: Parts, *, seed: int = 0, shelters: Shelters | None = None
                     ) -> Scenario:
    """The scenario of ``parts`` with its place-only travel times: each department's nearest
    stations to every grid and each grid's time from its township depot (memory and time linear
    in the city, see :mod:`gridsim.place.roads`). Its arrays are made read-only."""
    region, roads, roster, supplies, (dept, sgrid, units) = parts
    stations = Stations(department=np.asarray(dept, dtype=np.int64),
                        grid=np.asarray(sgrid, dtype=np.int64),
                        units=np.asarray(units, dtype=np.int64))
    times = station_times(roads, stations.grid, stations.department, len(DEPARTMENTS))
    # each grid needs only its own township's depot
    depot_time = township_times(roads, supplies.depot_grid, region.grids.township)
    sc = Scenario(region=region, roads=roads, roster=roster, supplies=supplies,
                  stations=stations, station_times=times, depot_time_s=depot_time,
                  shelters=shelters if shelters is not None else Shelters.empty(),
                  seed=int(seed))
    _freeze(sc)
    return sc


def _build(cfg: ScenarioConfig) -> Scenario:
    if cfg.generator == "files":  # one read of the folder: the parts and the shelters
        loaded = load_folder(Path(cfg.path), cfg)
        return prepare_scenario(loaded.parts, seed=cfg.seed, shelters=loaded.shelters)
    return prepare_scenario(generate_parts(cfg), seed=cfg.seed)


def _arrays(obj: Any, seen: set[int]) -> Iterator[np.ndarray]:
    """Every numpy array inside ``obj`` (dataclasses, tuples, lists, dicts), once each."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        yield obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if f.name != "memo":
                yield from _arrays(getattr(obj, f.name), seen)
    elif isinstance(obj, tuple | list):
        for v in obj:
            yield from _arrays(v, seen)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _arrays(v, seen)


def _freeze(obj: Any) -> None:
    """Make every array of ``obj`` read-only (its base too, so no view can write)."""
    for a in _arrays(obj, set()):
        a.setflags(write=False)


# ----------------------------------------------------------------------------------------------
# build once, reuse
# ----------------------------------------------------------------------------------------------
def _canonical(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__type__": type(obj).__name__,
                **{f.name: _canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_canonical(v) for v in obj]
    if isinstance(obj, float):
        return repr(obj)  # exact, and NaN/inf as text
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    return repr(obj)


def scenario_key(cfg: ScenarioConfig) -> str:
    """A stable hash (SHA-256) of the scenario settings: equal settings, equal key, in any
    process (field by field, sorted keys, exact floats)."""
    text = json.dumps(_canonical(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest(path: Path) -> str:
    """A file's content digest for the cache (``gridsim.fsutil.file_sha256``); a missing or
    unreadable file has one of its own, so it never matches a file that was read."""
    try:
        return file_sha256(path) or "missing"
    except OSError:
        return "unreadable"


@dataclass
class _Entry:
    scenario: Scenario
    files: list[tuple[Path, str]]  # (path, content digest) of every file it was built from


#: The modules whose source builds a place (relative to the package): a change to any of them
#: makes every entry of the disk cache stale.
_PLACE_SOURCES: tuple[str, ...] = ("model/**/*.py", "place/**/*.py", "fsutil.py", "csvtext.py",
                                   "errors.py")


@functools.cache
def source_digest() -> str:
    """SHA-256 of what a built place depends on besides its settings and files: gridsim's
    version, the versions of Python, numpy and scipy, and the source of every module of
    :data:`_PLACE_SOURCES` (names and content)."""
    root = Path(__file__).resolve().parents[1]
    try:
        version = metadata.version("gridsim")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        version = "unknown"
    h = hashlib.sha256()
    h.update(f"{version}|{platform.python_version()}|{np.__version__}|"
             f"{scipy.__version__}".encode())
    for path in sorted({p for pattern in _PLACE_SOURCES for p in root.glob(pattern)}):
        h.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


_MAGIC = b"gridsim place cache 1\n"


class PlaceCache:
    """Built places (and tables made from them) on disk, one file each, ``<key>.pkl``: a header
    line, the SHA-256 of the payload, the payload (a pickle). Written atomically; read only if
    the digest checks (two processes writing the same entry at once, a disk that filled up).
    Any problem reading or writing is a miss, never an error: the place is built instead."""

    def __init__(self, folder: Path, entries: int = DISK_ENTRIES) -> None:
        self.folder = Path(folder)
        self.entries = entries

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pkl"

    def load(self, key: str) -> Any | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head = len(_MAGIC) + 65
        digest = data[len(_MAGIC):head - 1].decode("ascii", "replace")
        payload = memoryview(data)[head:]
        if not data.startswith(_MAGIC) or hashlib.sha256(payload).hexdigest() != digest:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        try:
            obj = pickle.loads(payload)
        except Exception:  # a pickle of classes that changed shape: a miss, built again
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # most recently used
        return obj

    def store(self, key: str, obj: Any) -> None:
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self._path(key), _MAGIC + hashlib.sha256(payload).hexdigest().encode()
                         + b"\n" + payload)
            self._evict()
        except OSError:  # a full disk, a read-only home: the cache is only an optimisation
            pass

    def _evict(self) -> None:
        def mtime(p: Path) -> float:
            try:
                return p.stat().st_mtime
            except OSError:
                return 0.0

        entries = sorted(self.folder.glob("*.pkl"), key=mtime, reverse=True)
        for old in entries[self.entries:]:
            with contextlib.suppress(OSError):
                old.unlink()


def place_cache() -> PlaceCache | None:
    """The disk cache named by ``$GRIDSIM_CACHE`` (see the module docstring), or None when it
    is ``off`` (also ``0``, ``no``, ``false`` or empty)."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        if value.strip().lower() in ("", "off", "0", "no", "false"):
            return None
        return PlaceCache(Path(value).expanduser())
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return PlaceCache(Path(base) / "gridsim" / "place")


#: ``Scenario.memo`` key of the disk key of the place: ``(roads, key)``.
_DISK_KEY = "disk_key"


def _disk_key(cfg: ScenarioConfig, files: list[tuple[Path, str]]) -> str:
    text = json.dumps({"scenario": scenario_key(cfg), "source": source_digest(),
                       "files": [[str(p), d] for p, d in files]}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _from_disk(disk: PlaceCache | None, key: str) -> Scenario | None:
    got = disk.load(key) if disk is not None else None
    if not isinstance(got, Scenario):
        return None
    _freeze(got)
    return got


def _to_disk(disk: PlaceCache | None, key: str, scenario: Scenario) -> None:
    if disk is not None:
        disk.store(key, dataclasses.replace(scenario, memo={}))


def cached_table(scenario: Scenario, name: str, make: Callable[[], Any]) -> Any:
    """``make()``, a table made from the place alone (e.g. the mutual-aid near times of a
    radius), kept in the disk cache beside the place under ``name`` while the scenario is the
    one the cache built or read (the same roads); else ``make()`` as it is."""
    got = scenario.memo.get(_DISK_KEY)
    if got is None or got[0] is not scenario.roads:
        return make()
    disk = place_cache()
    if disk is None:
        return make()
    key = hashlib.sha256(f"{got[1]}|{name}".encode()).hexdigest()
    table = disk.load(key)
    if table is None:
        table = make()
        disk.store(key, table)
    return table


class ScenarioCache:
    """Built scenarios by scenario settings (:func:`scenario_key`) and, for a scenario folder,
    the content of every file it reads; the ``size`` most recently used are kept in the
    process, and every one built is kept on disk too (:func:`place_cache`)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self.size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.hits = 0
        self.builds = 0
        self.disk_hits = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def get(self, cfg: ScenarioConfig) -> Scenario:
        """The scenario of ``cfg``: the one built before while nothing it was built from has
        changed, else a new build (which then replaces the least recently used)."""
        key = scenario_key(cfg)
        entry = self._entries.get(key)
        if entry is not None:
            now = _input_files(cfg)
            if ([p for p, _ in entry.files] == now
                    and all(_digest(p) == d for p, d in entry.files)):
                self._entries.move_to_end(key)
                self.hits += 1
                return entry.scenario
            del self._entries[key]
        files = [(p, _digest(p)) for p in _input_files(cfg)]  # before reading: a change
        disk = place_cache()  # while loading shows at the next look
        disk_key = _disk_key(cfg, files)
        scenario = _from_disk(disk, disk_key)
        if scenario is not None:
            self.disk_hits += 1
        else:
            scenario = _build(cfg)
            self.builds += 1
            _to_disk(disk, disk_key, scenario)
        if disk is not None:
            scenario.memo[_DISK_KEY] = (scenario.roads, disk_key)
        self._entries[key] = _Entry(scenario=scenario, files=files)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return scenario


def _input_files(cfg: ScenarioConfig) -> list[Path]:
    if cfg.generator != "files":
        return []
    return folder_files(Path(cfg.path))


#: The process's scenario cache (see :func:`build_scenario`).
_CACHE = ScenarioCache()


def build_scenario(cfg: ScenarioConfig, *, reuse: bool = True) -> Scenario:
    """The scenario of ``cfg``, generated or read from its scenario folder (once), with its
    place-only travel times. With ``reuse`` (the default), a scenario built before in this
    process for equal settings, while the content of its files is unchanged, is returned as it
    is (the same object); ``reuse=False`` always builds a new one (and leaves the cache)."""
    if not reuse:
        return _build(cfg)
    return _CACHE.get(cfg)


def check_loaded(settings: RunConfig, scenario: Scenario) -> list[str]:
    """What the config asks of a built scenario that it does not have: township ids of warnings
    and grid ids of scripted incidents out of range, hazards whose department has no station.
    Lines as :class:`gridsim.model.validate.ConfigError` gives them (``key: problem``)."""
    errors: list[str] = []
    sc = settings.scenario
    where = f"scenario {sc.name!r}" + (f" loaded from {sc.path}" if sc.path else "")
    n_town = scenario.region.hierarchy.n_townships
    n_grids = scenario.n_grids
    for i, w in enumerate(settings.hazard.warnings):
        for t in w.townships:
            if not 0 <= t < n_town:
                errors.append(f"hazard.warnings[{i}].townships: township id {t} out of range "
                              f"0..{n_town - 1} of {where}")
        for gid in getattr(w, "grids", None) or []:
            if not 0 <= gid < n_grids:
                errors.append(f"hazard.warnings[{i}].grids: grid id {gid} out of range "
                              f"0..{n_grids - 1} of {where}")
    for i, si in enumerate(settings.hazard.incidents):
        if not 0 <= si.grid < n_grids:
            errors.append(f"hazard.incidents[{i}].grid: grid id {si.grid} out of range "
                          f"0..{n_grids - 1} of {where}")
    for name, h in settings.catalogue.hazards.items():
        if h.department in DEPARTMENTS and scenario.stations.of(h.department).size == 0:
            errors.append(f"catalogue.hazards.{name}.department: {h.department!r} has no "
                          f"stations in {where}")
    if sc.generator == "files" and not errors:  # its grids are known now: the run-size ceilings
        warning_grids = [np.unique(np.asarray(w.grids, dtype=np.int64)) if w.grids
                         else scenario.region.township_grids(w.townships)
                         for w in settings.hazard.warnings]
        errors.extend(size_errors(settings, loaded_size(settings, scenario.region.grids,
                                                        warning_grids)))
    return errors
