"""The top layer: the ``gridsim`` command line.

* :mod:`gridsim.app.cli` parses argv and dispatches;
* :mod:`gridsim.app.hydra_app` is the Hydra boundary, the one module of gridsim that imports
  Hydra and OmegaConf: composition, error lines, conversion to settings, Hydra's jobs;
* :mod:`gridsim.app.runs` runs checked settings into their run folder and prints the outcome;
* :mod:`gridsim.app.interrupts`: Ctrl-C and SIGTERM as one line and exit code 130 / 143;
* :mod:`gridsim.app.scenario_cmd` and :mod:`gridsim.app.drill_cmd`: ``gridsim scenario`` and
  ``gridsim drill``.
"""
