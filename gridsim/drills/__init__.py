"""Drills (演练): drill scripts whose time standards come from simulations, and after-action
evaluations of a drill's recorded times (``gridsim drill``; README, "Drills").

* :mod:`~gridsim.drills.records`: the typed records passed between them (action ids, injects,
  MSEL rows, the script, the log, the evaluation), made text only by ``render``;
* :mod:`~gridsim.drills.variants`: what a seed decides (grid, hazard, inject times, twist) and
  the run a drill becomes;
* :mod:`~gridsim.drills.timings`: the expected actions' times over replications;
* :mod:`~gridsim.drills.script`: the MSEL, the header and the contingency injects;
* :mod:`~gridsim.drills.texts`: bilingual texts (AQ/T 9007 contents, HSEEP columns);
* :mod:`~gridsim.drills.evaluate`: the log, percentiles, late actions, delays to clearance;
* :mod:`~gridsim.drills.render`: the Markdown, CSV and JSON files and the figure, and the check
  of a folder before anything is written into it.

Importing the package has no side effects and imports none of them.
"""

from __future__ import annotations

__all__: list[str] = []
