"""A scenario: everything about the place that a run needs, built once before time 0.

:func:`build_scenario` turns a :class:`~gridsim.model.params.ScenarioConfig` into frozen domain objects
and prepares travel times (shortest paths computed once with :mod:`scipy.sparse.csgraph`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.engine.departments import Stations
from gridsim.engine.supplies import SupplyPoints
from gridsim.model.params import ScenarioConfig
from gridsim.model.people import Roster
from gridsim.model.region import Region
from gridsim.model.streams import Streams
from gridsim.place.roads import (
    NearTimes,
    RoadNetwork,
    near_travel_times,
    times_from,
    township_times,
)

__all__ = ["Scenario", "build_scenario", "generate_parts", "prepare_scenario"]


@dataclass(frozen=True)
class Scenario:
    """A region with its roads, people, supplies and department stations, plus travel times."""

    region: Region
    roads: RoadNetwork
    roster: Roster
    supplies: SupplyPoints
    stations: Stations
    near: NearTimes  # grid -> grids within the mutual-aid radius (driving, seconds)
    depot_time_s: np.ndarray  # township depot -> each grid (driving, seconds)

    @property
    def n_grids(self) -> int:
        return self.region.grids.n

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


def build_scenario(
    cfg: ScenarioConfig, mutual_aid_radius_s: float, department_speed_factor: float = 1.0
) -> Scenario:
    """Generate (or load from a scenario folder) the scenario and prepare its travel times."""
    parts = generate_parts(cfg)
    return prepare_scenario(parts, mutual_aid_radius_s, department_speed_factor)


def generate_parts(cfg: ScenarioConfig) -> tuple:
    """The first half of :func:`build_scenario`: the place itself, without travel times,
    as ``(region, roads, roster, supplies, (department, grid, units))``."""
    if cfg.generator == "files":  # a scenario folder; bad data raises ScenarioDataError
        from pathlib import Path

        from gridsim.place.folder import load_parts

        return load_parts(Path(cfg.path), cfg)
    if cfg.generator != "synthetic":
        raise ValueError(f"scenario.generator: unknown generator {cfg.generator!r}")
    from gridsim.place.synthetic import generate

    return generate(cfg, Streams(cfg.seed))


def prepare_scenario(parts: tuple, mutual_aid_radius_s: float,
                     department_speed_factor: float = 1.0) -> Scenario:
    """The second half of :func:`build_scenario`: travel times on the roads of ``parts``.

    Memory stays linear in the grids: mutual-aid times are sparse rows, stations and depots
    are ``sources × grids`` (a few hundred sources)."""
    region, roads, roster, supplies, (dept, sgrid, units) = parts
    station_times = times_from(roads, roads.grid_node[sgrid], department_speed_factor)
    stations = Stations(department=dept, grid=sgrid, units=units, time_to_grid_s=station_times)
    near = near_travel_times(roads, mutual_aid_radius_s)
    # each grid needs only its own township's depot
    depot_time = township_times(roads, supplies.depot_grid, region.grids.township)
    return Scenario(region=region, roads=roads, roster=roster, supplies=supplies,
                    stations=stations, near=near, depot_time_s=depot_time)
