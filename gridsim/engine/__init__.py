"""The engine: SimPy processes (hazard arrivals, the switch, dispatch, the incident lifecycle,
supplies, departments, reporting, peacetime steps) and the phased run of
:mod:`gridsim.engine.simulation`. It takes typed parameters, never a Hydra config."""
