"""scripts/apply_calibration.py: a fit's factors become the catalogue's defaults, comments kept."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "apply_calibration.py"
spec = importlib.util.spec_from_file_location("apply_calibration", SCRIPT)
assert spec is not None and spec.loader is not None
ac = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ac)

CATALOGUE = """\
name: test
hazards:
  fire:                           # a fire
    # calibrated: an older fit
    rate_per_unit_day: {urban: 2.0e-06, rural: 1.0e-06}
    consequences:
      trapped:
        any_share: 0.1            # [assumed] most fires trap nobody
      injured:
        any_share: 0.02           # [assumed]
      loss:
        median_cny: 30000         # [DOMAIN] a source
  flood:
    rate_per_unit_day: {urban: 4.0e-07, rural: 8.0e-07}
    consequences:
      trapped:
        any_share: 0.3            # [assumed] calibrated: an older fit, x3; was 0.1: [assumed] first
"""


def _report(factor: float, leaves: list[str], mode: str = "scale") -> dict:
    return {"name": "t", "evaluations": 5,
            "parameters": [{"name": "p", "mode": mode, "fitted": factor, "leaves": leaves}]}


def test_factors_multiply_each_leaf_and_nothing_else() -> None:
    leaves = ["catalogue.hazards.fire.rate_per_unit_day.urban",
              "catalogue.hazards.fire.rate_per_unit_day.rural",
              "catalogue.hazards.fire.consequences.trapped.any_share",
              "catalogue.hazards.flood.consequences.trapped.any_share"]
    text, changes = ac.apply(CATALOGUE, _report(1.5, leaves), "reports/x")
    before, after = yaml.safe_load(CATALOGUE), yaml.safe_load(text)
    assert len(changes) == 4
    for leaf in leaves:
        keys = leaf.split(".")[1:]
        a, b = after, before
        for k in keys:
            a, b = a[k], b[k]
        assert math.isclose(a, 1.5 * b, rel_tol=1e-5), leaf
    # untouched: the injured share (same key name, other block), the flood's rates, the loss
    assert after["hazards"]["fire"]["consequences"]["injured"] == \
        before["hazards"]["fire"]["consequences"]["injured"]
    assert after["hazards"]["flood"]["rate_per_unit_day"] == \
        before["hazards"]["flood"]["rate_per_unit_day"]
    assert after["hazards"]["fire"]["consequences"]["loss"] == \
        before["hazards"]["fire"]["consequences"]["loss"]
    lines = text.splitlines()
    fire_share = next(ln for ln in lines if "0.15" in ln)
    # the tag stays first, the fit is named, and what the value first was is kept
    assert "# [assumed] calibrated: reports/x (t, 5 evaluations), x1.5 of 0.1; was 0.1: " \
           "[assumed] most fires trap nobody" in fire_share
    flood_share = next(ln for ln in lines if "0.45" in ln)
    assert flood_share.endswith("was 0.1: [assumed] first")  # not the older fit's note again
    assert "# calibrated: reports/x (t, 5 evaluations), x1.5 of the value before it" in text
    assert "# a fire" in text  # other comments stay


def test_set_mode_puts_the_value_and_an_unknown_leaf_is_refused() -> None:
    text, _ = ac.apply(CATALOGUE, _report(12345.0, [
        "catalogue.hazards.fire.consequences.loss.median_cny"], mode="set"), "r")
    assert yaml.safe_load(text)["hazards"]["fire"]["consequences"]["loss"]["median_cny"] == 12345
    assert "[DOMAIN] calibrated: r (t, 5 evaluations) of 30000; was 30000: [DOMAIN] a source" \
        in text
    with pytest.raises(KeyError, match=r"fire\.consequences\.loss\.sigma"):
        ac.apply(CATALOGUE, _report(2.0, ["catalogue.hazards.fire.consequences.loss.sigma"]), "r")
    with pytest.raises(KeyError, match=r"fire\.rate_per_unit_day\.commercial"):
        ac.apply(CATALOGUE, _report(2.0, ["catalogue.hazards.fire.rate_per_unit_day.commercial"]),
                 "r")
