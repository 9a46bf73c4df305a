"""Scenario folders: a scenario as a folder of plain, documented files that a planner can make
from their own GIS (``docs/scenario_format.md``), and any built scenario written as one.

* :func:`load_parts` reads a folder into the parts :func:`gridsim.place.synthetic.generate` makes;
  bad data raises :class:`ScenarioDataError` listing every problem (file, feature or row,
  field, what was expected), and nothing is returned from a folder with any problem;
* :func:`validate_folder` lists the problems of a folder (``gridsim scenario validate``);
* :func:`export_scenario` writes a built scenario (e.g. a synthetic preset) as a folder whose
  loading gives exactly the same arrays, hence the same simulation results;
* :func:`load_folder` reads a folder once: the parts and the shelters it names;
* :func:`folder_files` lists the files loading a folder reads.

The implementation lives in the modules of this package.
"""

from __future__ import annotations

from gridsim.place.folder.errors import ScenarioDataError
from gridsim.place.folder.export import SYNTHETIC_CRS, export_scenario
from gridsim.place.folder.load import (
    Loaded,
    Parts,
    Shelters,
    folder_files,
    generate_block,
    generated_parts,
    load_folder,
    load_parts,
    registry_node,
    spec_errors,
    validate_folder,
)
from gridsim.place.folder.roads import ROAD_CLASS_SPEED_KMH

__all__ = [
    "ROAD_CLASS_SPEED_KMH",
    "SYNTHETIC_CRS",
    "Loaded",
    "Parts",
    "ScenarioDataError",
    "Shelters",
    "export_scenario",
    "folder_files",
    "generate_block",
    "generated_parts",
    "load_folder",
    "load_parts",
    "registry_node",
    "spec_errors",
    "validate_folder",
]
