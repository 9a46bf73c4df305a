"""Start-up: what importing a module loads, in a fresh interpreter.

A run's config check imports ``gridsim.evacuation.checks`` (and through it
``gridsim.place.roads`` for the road classes); a skipped run needs nothing more. The evacuation
package re-exports its names lazily (PEP 562), so that import does not load the movement model,
the evacuation network or the place-building layer; ``gridsim.place.roads`` and
``gridsim.model.dists`` load ``scipy.spatial`` / ``scipy.special`` at first use only.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gridsim.evacuation as evacuation


def _loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    code = f"import sys\n{statement}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_config_check_does_not_load_the_evacuation_model() -> None:
    mods = _loaded_after("import gridsim.evacuation.checks")
    assert "gridsim.evacuation.checks" in mods
    heavy = {"gridsim.evacuation.flow", "gridsim.evacuation.model", "gridsim.evacuation.network",
             "gridsim.evacuation.results", "gridsim.place.scenario", "scipy.spatial",
             "scipy.special"}
    assert not mods & heavy, sorted(mods & heavy)


def test_dists_and_roads_load_scipy_special_and_spatial_at_first_use() -> None:
    mods = _loaded_after("import gridsim.model.dists, gridsim.place.roads")
    assert "scipy.special" not in mods and "scipy.spatial" not in mods
    used = _loaded_after(
        "from gridsim.model.dists import Dist\n"
        "import numpy as np\n"
        "x = Dist(kind='lognormal', median_s=60.0, sigma=0.5).ppf_array(np.array([0.5]))\n"
        "assert abs(float(x[0]) - 60.0) < 1e-9  # the median\n")
    assert "scipy.special" in used


@pytest.mark.parametrize("name", evacuation.__all__)
def test_every_lazy_name_is_its_submodules_object(name: str) -> None:
    import importlib  # here: the submodule each name comes from, by its name

    source = evacuation._SOURCES[name]
    assert getattr(evacuation, name) is getattr(
        importlib.import_module(f"gridsim.evacuation.{source}"), name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        _ = evacuation.not_a_name  # type: ignore[attr-defined]
    assert set(evacuation.__all__) == set(evacuation._SOURCES)
    assert set(evacuation.__all__) <= set(dir(evacuation))
