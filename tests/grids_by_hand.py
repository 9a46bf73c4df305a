"""Grids built by hand for tests of rates and exposures (no generator, no scenario)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gridsim.model.region import Grids
from gridsim.model.vocab import GRID_KINDS

__all__ = ["grids_by_hand"]


def grids_by_hand(kinds: list[str], **fields: Any) -> Grids:
    """Grids of the given kinds, one village, township and county, 0.1 km² each, 100
    residents in 40 households, no other exposure, unless ``fields`` gives arrays (or lists)
    of :class:`Grids` fields."""
    n = len(kinds)
    zeros_i, zeros_f = np.zeros(n, dtype=np.int32), np.zeros(n, dtype=np.float32)
    values: dict[str, Any] = dict(
        village=np.zeros(n, dtype=np.int64), township=np.zeros(n, dtype=np.int64),
        county=np.zeros(n, dtype=np.int64),
        kind=np.array([GRID_KINDS.index(k) for k in kinds], dtype=np.int8),
        area_km2=np.full(n, 0.1), population=np.full(n, 100, dtype=np.int64),
        households=np.full(n, 40, dtype=np.int64), vulnerable_share=np.full(n, 0.1),
        x_m=np.arange(n) * 300.0, y_m=np.zeros(n), compounds=np.zeros(n, dtype=np.int64),
        monitoring_points=np.zeros(n, dtype=np.int64), buildings=zeros_i, ebikes=zeros_i,
        enterprises=zeros_i, forest_km2=zeros_f, steep_slope_km2=zeros_f,
        flood_prone_share=zeros_f)
    for name, v in fields.items():
        if name not in values:
            raise KeyError(name)
        values[name] = np.asarray(v, dtype=values[name].dtype)
    return Grids(**values)
