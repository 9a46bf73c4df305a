"""Scenario folders: real data in (GeoJSON grids, OpenStreetMap or GraphML roads, CSV or GeoJSON
facilities, a ``scenario.yaml``), scenario files out. The public functions are re-exported by
:mod:`gridsim.scenario_files`; the format is documented in ``docs/scenario_format.md``."""
