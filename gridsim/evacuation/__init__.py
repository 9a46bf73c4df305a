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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The names below are re-exported lazily (PEP 562): importing one submodule (``checks``, which
# config validation needs in every run) does not load the others, which pull in
# scipy.sparse.csgraph and the place-building layer (about 0.2 s of start-up for a run that
# evacuates nobody, or one that is skipped as done). Type checkers and the import-graph test
# read the imports under TYPE_CHECKING.
if TYPE_CHECKING:
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

#: where each re-exported name lives
_SOURCES: dict[str, str] = {
    "Closure": "flow",
    "FlowRecord": "flow",
    "Groups": "flow",
    "ShelterSites": "flow",
    "move": "flow",
    "Shelters": "model",
    "SwitchTimes": "model",
    "assign_shelters": "model",
    "drill_multiplier": "model",
    "evacuate": "model",
    "place_shelters": "model",
    "road_closures": "model",
    "simulate_switch": "model",
    "DRIVE": "network",
    "WALK": "network",
    "EvacNetwork": "network",
    "quickest_flow_bound": "network",
    "scenario_network": "network",
    "walking_capacity_pps": "network",
    "EvacuationResult": "results",
    "HelperTable": "results",
    "HouseholdTable": "results",
}

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


def __getattr__(name: str) -> Any:
    """``gridsim.evacuation.<name>``: the re-exported name, its submodule imported on first use."""
    mod = _SOURCES.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
