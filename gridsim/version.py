"""gridsim's version, in a module of its own at the bottom of the package.

Modules that write the version into their files (a run's manifest and summary, a drill script,
a calibration) import it from here rather than from the package ``gridsim``, whose
``__init__`` hands out the notebook API (:mod:`gridsim.api`, the top of the stack): an import
of the package from below would close a cycle in the import graph (tests/test_imports.py).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("gridsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
