"""The response settings the engine reads per event, typed once per run.

The settings (:mod:`gridsim.model.params`, frozen at the Hydra boundary by
:mod:`gridsim.model.frozen`) keep the config's own spelling: grades as strings (``"III"``),
per-kind values as mappings by grid kind name. The engine's processes want ints and arrays, so
the run's elaborate phase turns them into a :class:`ResponseParams` once (``RunContext.compiled``)
instead of converting a string or a mapping at every incident:

* ``trigger_grade``: the index into :data:`~gridsim.model.vocab.GRADES` (0 = Ⅰ 特别重大) of the
  grade at which an incident switches its grid (``response.switch.trigger_grade``); an incident
  of grade index ``<=`` it switches;
* ``local_speed_mps``: the speed inside a grid by grid kind, an array indexed like
  :data:`~gridsim.model.vocab.GRID_KINDS` (``response.dispatch.local_speed_mps``), read-only;
  :func:`local_speeds` gives it alone, for the dispatcher and the switch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.model.params import DispatchConfig, ResponseConfig
from gridsim.model.vocab import GRADES, GRID_KINDS

__all__ = ["ResponseParams", "local_speeds"]


def local_speeds(dispatch: DispatchConfig) -> np.ndarray:
    """``dispatch.local_speed_mps`` as a read-only array indexed by grid kind (GRID_KINDS)."""
    speed = np.array([float(dispatch.local_speed_mps[k]) for k in GRID_KINDS], dtype=float)
    speed.setflags(write=False)
    return speed


@dataclass(frozen=True, eq=False)
class ResponseParams:
    """The per-event response settings of a run as ints and arrays (see the module docstring)."""

    trigger_grade: int  # index into GRADES: this grade or worse switches its grid
    trigger_neighbours: bool  # ... and the grids next to it
    local_speed_mps: np.ndarray  # by grid kind (GRID_KINDS), read-only

    @classmethod
    def of(cls, response: ResponseConfig) -> ResponseParams:
        """The typed view of ``response`` (checked settings: every name is known)."""
        return cls(
            trigger_grade=GRADES.index(response.switch.trigger_grade),
            trigger_neighbours=bool(response.switch.trigger_neighbours),
            local_speed_mps=local_speeds(response.dispatch),
        )

    def switches(self, grade: int) -> bool:
        """Whether an incident of ``grade`` (index into GRADES) switches its grid."""
        return grade <= self.trigger_grade
