"""The place: building a :class:`~gridsim.place.scenario.Scenario` from scenario settings alone,
by the synthetic generator or from a scenario folder (:mod:`gridsim.place.folder`), with its
roads and travel times. Above :mod:`gridsim.model`, below the engine."""
