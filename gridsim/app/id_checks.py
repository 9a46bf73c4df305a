"""The ids a run config names, checked against a scenario folder before anything runs.

A synthetic scenario's grid and township counts follow from its settings, so
:func:`gridsim.model.validate.validate` checks the ids of a run config against them. A scenario
folder's are known only from its files: :func:`folder_id_errors` reads the folder's id tables
(:func:`gridsim.place.folder.ids.folder_ids`: scenario.yaml and the grids' properties, nothing
else) and lists, one line per config key, the ids the folder lacks:

* ``hazard.warnings[i].townships`` and ``.grids``, ``hazard.incidents[i].grid``,
  ``hazard.road_closures[i].grids``, ``hazard.weather.townships`` (when there is weather);
* ``drill.grids`` (``gridsim drill script``);
* ``plan`` (``plan=DIR``, :func:`gridsim.planning.plan_io.read_plan`): the grids of its sites,
  stock levels and moves, the townships of its depot stock levels.

It sits in the app layer because a plan is read by the planning layer, above the place layer.
The lines have the form of :func:`gridsim.model.validate.validate`'s (``key: message``), so that
:func:`gridsim.app.hydra_app.check` adds the file or override each key comes from. The run
checks the built scenario again when it starts (:func:`gridsim.place.scenario.check_loaded`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gridsim.model.params import RunConfig

if TYPE_CHECKING:
    from gridsim.place.folder.ids import FolderIds

__all__ = ["folder_id_errors"]

#: Ids listed in one line at most; the rest are counted.
_SHOWN = 10


def _listed(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:_SHOWN]))
    return shown + (f" ... ({len(ids)} in all)" if len(ids) > _SHOWN else "")


def _missing(values: Iterable[int], n: int) -> list[int]:
    return sorted({int(v) for v in values if not 0 <= int(v) < n})


class _Lines:
    """The lines of one folder: each key with the ids of one kind the folder lacks."""

    def __init__(self, ids: FolderIds, grids_file: str) -> None:
        self.ids = ids
        self.grids_file = grids_file
        self.lines: list[str] = []

    def _has(self, what: str) -> str:
        n = self.ids.n_grids if what == "grid" else self.ids.n_townships
        return f"{self.grids_file} has {n} {what}{'s' if n != 1 else ''}, ids 0..{n - 1}"

    def check(self, key: str, what: str, values: Iterable[int]) -> None:
        n = self.ids.n_grids if what == "grid" else self.ids.n_townships
        bad = _missing(values, n)
        if not bad or n == 0:  # no township named in the grids: loading reports it
            return
        one = len(bad) == 1
        self.lines.append(f"{key}: {what} id{'' if one else 's'} {_listed(bad)} "
                          f"{'is' if one else 'are'} not in scenario folder {self.ids.name!r} "
                          f"({self._has(what)})")

    def plan(self, plan_path: str, what: str, values: Iterable[int]) -> None:
        n = self.ids.n_grids if what == "grid" else self.ids.n_townships
        bad = _missing(values, n)
        if bad and n:
            self.lines.append(f"plan: {plan_path} names {what}s {_listed(bad)} that scenario "
                              f"folder {self.ids.name!r} lacks ({self._has(what)})")


def folder_id_errors(settings: RunConfig) -> list[str]:
    """The ids of ``settings`` that its scenario folder lacks, one ``key: message`` line per
    config key (empty for a synthetic scenario, or when the folder's scenario.yaml or grids do
    not read: loading the folder reports that)."""
    sc = settings.scenario
    if sc.generator != "files" or not sc.path:
        return []
    # imported here: gridsim.place.folder pulls in numpy, scipy and pyproj, which a synthetic
    # scenario's check does not need (start-up time)
    from gridsim.place.folder.ids import folder_ids

    folder = Path(sc.path)
    if folder.name == "scenario.yaml":
        folder = folder.parent
    ids = folder_ids(folder)
    if ids is None:
        return []
    out = _Lines(ids, f"{ids.name}/{ids.grids_file}")
    hz = settings.hazard
    for i, w in enumerate(hz.warnings):
        out.check(f"hazard.warnings[{i}].townships", "township", w.townships)
        out.check(f"hazard.warnings[{i}].grids", "grid", w.grids)
    for i, si in enumerate(hz.incidents):
        out.check(f"hazard.incidents[{i}].grid", "grid", [si.grid])
    for i, rc in enumerate(hz.road_closures):
        out.check(f"hazard.road_closures[{i}].grids", "grid", rc.grids)
    if hz.weather.kind != "none":  # the weather's townships are used only with weather
        out.check("hazard.weather.townships", "township", hz.weather.townships)
    out.check("drill.grids", "grid", settings.drill.grids)
    if settings.plan is not None and str(settings.plan).strip():
        _plan(settings.plan, out)
    return out.lines


def _plan(plan_path: str, out: _Lines) -> None:
    """The grids and townships a plan names that the folder lacks (a plan that does not read is
    reported by :func:`gridsim.model.validate.validate`)."""
    # imported here: the planning layer reads plans (YAML, CSV) only for a run with plan=
    from gridsim.errors import UserError
    from gridsim.planning.plan_io import read_plan

    try:
        plan = read_plan(Path(plan_path))
    except UserError:
        return
    grids = [*(plan.sites.grids if plan.sites is not None else ()),
             *(lv.id for lv in plan.stock if lv.site == "grid"),
             *(g for m in plan.moves for g in (m.from_grid, m.to_grid))]
    out.plan(plan_path, "grid", grids)
    out.plan(plan_path, "township", [lv.id for lv in plan.stock if lv.site == "depot"])
