"""The scenario presets against the reference account's figures (docs/domain.md)."""

from __future__ import annotations

import pytest
from handmade import settings_for

from gridsim.engine.simulation import build
from gridsim.experiments.statistics import PILOT_KEYS, scenario_statistics
from gridsim.place.gridding import Compounds, GridDesign, design_grids

PILOT = {
    "pilot_before": {"rural_grid_area_km2_mean": 0.61, "people_per_grid_mean": 4486,
                     "compounds_per_grid_mean": 3.16, "urban_compound_own_grid_share": 0.312},
    "pilot_after": {"rural_grid_area_km2_mean": 0.28, "people_per_grid_mean": 2044,
                    "compounds_per_grid_mean": 1.96, "urban_compound_own_grid_share": 0.558},
}


@pytest.fixture(scope="module")
def pilot_stats() -> dict[str, dict]:
    return {name: scenario_statistics(build(settings_for(f"scenario={name}"))) for name in PILOT}


@pytest.mark.parametrize("name", sorted(PILOT))
def test_pilot_presets_match_the_account_within_2_percent(pilot_stats, name) -> None:
    for key in PILOT_KEYS:
        assert pilot_stats[name][key] == pytest.approx(PILOT[name][key], rel=0.02), key


def test_pilot_presets_cover_the_same_land_and_people(pilot_stats) -> None:
    before, after = pilot_stats["pilot_before"], pilot_stats["pilot_after"]
    assert before["population"] == after["population"]
    assert before["area_km2"] == pytest.approx(after["area_km2"], rel=1e-9)
    assert after["grids"] > 2 * before["grids"]


def test_presets_carry_the_accounts_figures_as_their_reference() -> None:
    for name, figures in PILOT.items():
        ref = settings_for(f"scenario={name}").scenario.reference
        assert {k: pytest.approx(v) for k, v in figures.items()} == ref


@pytest.mark.slow
def test_suining_city_at_real_scale() -> None:
    """18,176 grids, 21,448 on-site commanders, 5,744 key monitoring points, five county-level
    areas (docs/domain.md); about 2.8 million people on about 5,300 km² (within 1 %)."""
    st = scenario_statistics(build(settings_for("scenario=suining_city",
                                                "hazard=city_rainstorm")))
    assert st["grids"] == 18176
    assert st["on_site_commanders"] == 21448
    assert st["key_monitoring_points"] == 5744
    assert st["counties"] == 5
    assert st["population"] == pytest.approx(2.8e6, rel=0.01)
    assert st["area_km2"] == pytest.approx(5300, rel=0.01)


def test_grid_design_is_realised_exactly() -> None:
    """A design of 40 grids, 30 % single-compound, 2.5 compounds per grid on 90 compounds:
    12 single grids and 100 grid-compound memberships, so 12 + 90 - 100 = 2 compounds own the
    12 single grids (the two largest, split in proportion to their people)."""
    import numpy as np

    n = 90
    rng = np.random.default_rng(3)
    people = rng.lognormal(7, 1, n)
    comps = Compounds(x_m=rng.uniform(0, 1e4, n), y_m=rng.uniform(0, 1e4, n), people=people,
                      area_km2=people / 2e4)
    g = design_grids(comps, GridDesign(40, 0.3, 2.5))
    assert g.n == 40
    assert int((g.compounds == 1).sum()) == 12
    assert int(g.compounds.sum()) == 100
    assert g.people.sum() == pytest.approx(people.sum())
    owners = set(g.members[g.members_indptr[:-1][g.compounds == 1]].tolist())
    assert len(owners) == 2  # the two largest compounds, split into 12 grids between them
    assert owners == set(np.argsort(-people)[:2].tolist())
    with pytest.raises(ValueError, match="cannot make"):
        design_grids(comps, GridDesign(40, 0.3, 1.0))
