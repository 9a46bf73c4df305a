"""Evacuation (转移避险): households warned through the grid's channels, vulnerable residents
helped by the members who cover them, movement over the road network with capacity-limited
links and doors, shelters with capacities, closed roads.

* :mod:`~gridsim.evacuation.network` — the network: links, doors, SFPE capacities, flow bounds;
* :mod:`~gridsim.evacuation.flow` — the mesoscopic movement (an event-driven queue per link);
* :mod:`~gridsim.evacuation.model` — who, when and where: :func:`evacuate`;
* :mod:`~gridsim.evacuation.results` — :class:`EvacuationResult` and its metrics;
* :mod:`~gridsim.evacuation.run` — an evacuation inside ``gridsim run``;
* :mod:`~gridsim.evacuation.output` — its files and figures.
"""

from gridsim.evacuation.flow import Closure, FlowRecord, Groups, ShelterSites, move
from gridsim.evacuation.model import (
    Shelters,
    SwitchTimes,
    assign_shelters,
    drill_multiplier,
    evacuate,
    place_shelters,
    road_closures,
    simulate_switch,
)
from gridsim.evacuation.network import (
    DRIVE,
    WALK,
    EvacNetwork,
    quickest_flow_bound,
    scenario_network,
    walking_capacity_pps,
)
from gridsim.evacuation.results import EvacuationResult, HelperTable, HouseholdTable

__all__ = [
    "DRIVE",
    "WALK",
    "Closure",
    "EvacNetwork",
    "EvacuationResult",
    "FlowRecord",
    "Groups",
    "HelperTable",
    "HouseholdTable",
    "ShelterSites",
    "Shelters",
    "SwitchTimes",
    "assign_shelters",
    "drill_multiplier",
    "evacuate",
    "move",
    "place_shelters",
    "quickest_flow_bound",
    "road_closures",
    "scenario_network",
    "simulate_switch",
    "walking_capacity_pps",
]
