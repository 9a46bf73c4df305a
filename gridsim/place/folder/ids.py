"""The id tables of a scenario folder, read cheaply: how many grids ``grids.geojson`` has and
its townships in id order, for checking the ids a run config names (hazard warnings and
incidents, the weather's townships, a drill's grids, a plan's sites) before anything is built
(:mod:`gridsim.app.id_checks`). Only ``scenario.yaml`` and the grids' properties are looked at:
no coordinate system, geometry, road or table is read, and nothing is checked here (loading
the folder reports every problem of its data)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gridsim.place.folder.grids import natural_key
from gridsim.place.folder.spec import SPEC_FILE

__all__ = ["FolderIds", "folder_ids"]


@dataclass(frozen=True)
class FolderIds:
    """Grid ids ``0 .. n_grids - 1`` and township ids ``0 .. len(townships) - 1`` of a folder."""

    name: str  # the folder's name (the scenario's name in a run)
    grids_file: str  # the grids file as scenario.yaml names it
    n_grids: int
    townships: tuple[str, ...]  # township names in id order

    @property
    def n_townships(self) -> int:
        return len(self.townships)


#: scenario.yaml's stamp (path, size, modification time) -> the grids file's stamp and the
#: tables: a sweep checks every job in one process, and a run checks again when it starts (a
#: cached check costs two stat calls, no YAML).
_READ: dict[tuple[str, int, int], tuple[tuple[str, int, int], FolderIds]] = {}
_READ_KEPT = 8


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def folder_ids(folder: Path) -> FolderIds | None:
    """The id tables of the scenario folder ``folder``, or ``None`` when its ``scenario.yaml``
    or its grids file does not read as such (loading the folder reports why).

    Grid ids number the features of the grids file (the ids must be exactly ``0 .. n-1``);
    township ids are the positions in scenario.yaml ``townships:`` when it lists names, else
    the townships of the grids in natural order of their names (``T2`` before ``T10``), as
    loading numbers them (docs/scenario_format.md, "Ids")."""
    import yaml  # start-up time: YAML only when a file is read

    folder = Path(folder)
    spec_path = folder / SPEC_FILE
    try:
        key = _stamp(spec_path)
        hit = _READ.get(key)
        if hit is not None and _stamp(folder / hit[1].grids_file) == hit[0]:
            return hit[1]
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        grids_name = spec.get("grids") if isinstance(spec, dict) else None
        if not isinstance(grids_name, str) or not grids_name.strip():
            return None
        grids_path = folder / grids_name
        grids_key = _stamp(grids_path)
        data = json.loads(grids_path.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        return None
    names: set[str] = set()
    for ft in features:
        props = ft.get("properties") if isinstance(ft, dict) else None
        town = props.get("township") if isinstance(props, dict) else None
        if isinstance(town, str) and town:
            names.add(town)
    given = spec.get("townships")
    if isinstance(given, list) and given and all(isinstance(t, str) for t in given):
        townships = tuple(given)
    else:
        townships = tuple(sorted(names, key=natural_key))
    ids = FolderIds(name=folder.resolve().name, grids_file=grids_name, n_grids=len(features),
                    townships=townships)
    _READ.pop(key, None)
    while len(_READ) >= _READ_KEPT:
        del _READ[next(iter(_READ))]
    _READ[key] = (grids_key, ids)
    return ids
