"""Base incident rates from exposure: the one place where a hazard type's configured rate becomes
a rate per grid, shared by the rate field of a run (:class:`gridsim.engine.hazards.RateField`)
and the run-size estimate (:mod:`gridsim.model.budget`).

A hazard type's rate is per unit of its exposure (``catalogue.hazards.<h>.exposure``, one of
:data:`gridsim.model.vocab.EXPOSURES`) per day, by grid kind:

    base rate of grid g (per day) = rate_per_unit_day[kind of g] × exposure[g]

``exposure: grid`` is one unit per grid, so its ``rate_per_grid_day`` (or ``rate_per_unit_day``)
is the old rate per grid per day. Weather and the open-hazard stock multiply the base in a run;
``hazard.rate_scale`` multiplies every base rate.
"""

from __future__ import annotations

import numpy as np

from gridsim.model.params import HazardTypeConfig
from gridsim.model.region import Grids
from gridsim.model.vocab import EXPOSURES, GRID_KINDS

__all__ = [
    "DERIVED_EXPOSURES",
    "GENERATED_EXPOSURES",
    "base_rates_per_day",
    "exposure_by_kind",
    "exposure_source",
    "unit_rates_per_day",
]


def unit_rates_per_day(hc: HazardTypeConfig) -> np.ndarray:
    """Incidents per unit of the hazard's exposure per day, by :data:`GRID_KINDS` (kinds not
    given: 0). ``rate_per_unit_day`` if given, else ``rate_per_grid_day`` (exposure ``grid``;
    validation accepts exactly one of the two)."""
    rates = hc.rate_per_unit_day or hc.rate_per_grid_day
    return np.array([float(rates.get(k, 0.0)) for k in GRID_KINDS], dtype=np.float64)


def base_rates_per_day(unit_rates: np.ndarray, exposure: str, grids: Grids) -> np.ndarray:
    """A hazard's base rate of every grid, incidents per day (``rate_scale`` not applied), from
    its rates per unit by kind (:func:`unit_rates_per_day`) and its exposure's name."""
    kinds = np.asarray(grids.kind, dtype=np.int64)
    return np.asarray(unit_rates, dtype=np.float64)[kinds] * grids.exposure(exposure)


def exposure_by_kind(grids: Grids, exposure: str) -> np.ndarray:
    """The total of ``exposure`` over the grids of each kind, by :data:`GRID_KINDS`."""
    if exposure not in EXPOSURES:
        raise KeyError(f"unknown exposure {exposure!r}; expected one of {', '.join(EXPOSURES)}")
    return np.bincount(np.asarray(grids.kind, dtype=np.int64), weights=grids.exposure(exposure),
                       minlength=len(GRID_KINDS)).astype(np.float64)


#: The exposures the synthetic generator draws (:mod:`gridsim.place.synthetic`) and the
#: estimate expects (:mod:`gridsim.model.budget`): exposure (a :class:`Grids` field) ->
#: (its :class:`~gridsim.model.params.ExposureConfig` field, the exposure it is per unit of,
#: the unit's factor). ``flood_prone_share`` is drawn as flood-prone residents, then divided
#: by the residents; forest and steep land are at most the grid's area.
GENERATED_EXPOSURES: dict[str, tuple[str, str, float]] = {
    "buildings": ("buildings_per_household", "households", 1.0),
    "ebikes": ("ebikes_per_resident", "residents", 1.0),
    "enterprises": ("enterprises_per_1000_residents", "residents", 1e-3),
    "forest_km2": ("forest_share", "area_km2", 1.0),
    "steep_slope_km2": ("steep_slope_share", "area_km2", 1.0),
    "flood_prone_share": ("flood_prone_share", "residents", 1.0),
}

#: Exposures derived from a generated one: exposure -> (the generated field, its base).
DERIVED_EXPOSURES: dict[str, tuple[str, str]] = {
    "flood_prone_residents": ("flood_prone_share", "residents"),
    "flood_prone_households": ("flood_prone_share", "households"),
}


def exposure_source(exposure: str) -> str | None:
    """The :data:`GENERATED_EXPOSURES` field an exposure comes from (``None``: the grids have it
    without exposure settings, e.g. residents, households, area, compounds)."""
    if exposure in GENERATED_EXPOSURES:
        return exposure
    if exposure in DERIVED_EXPOSURES:
        return DERIVED_EXPOSURES[exposure][0]
    return None
