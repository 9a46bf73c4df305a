"""Campaigns (gridsim.model.campaign, conf/campaign/): each measure moves only the levers of its
mechanism, by hand-worked numbers on four hand-built grids; phases, costs, checks; the shipped
files compose and differ from ebike_2025 exactly in the measures they switch off."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from gridsim.errors import UserError
from gridsim.model.campaign import (
    MEASURES,
    BlockingSystemsConfig,
    CampaignConfig,
    ChargingPortsConfig,
    DoorKnockingConfig,
    InspectionDriveConfig,
    VideoAiConfig,
    blocking_allocation,
    campaign_cost_cny,
    campaign_costs,
    campaign_errors,
    campaign_phases,
    measure_levers,
    port_allocation,
    region_count,
)
from gridsim.model.levers import Levers
from gridsim.model.people import Roster, role_bit
from gridsim.model.region import Grids
from gridsim.model.validate import ConfigError
from gridsim.model.vocab import HAZARD_CLASSES
from tests.grids_by_hand import grids_by_hand

E = HAZARD_CLASSES.index("ebike_indoor")
GAS = HAZARD_CLASSES.index("gas")

# four grids: two urban communities, a rural grid, a commercial grid with no households
KINDS = ["urban_community", "urban_community", "rural", "commercial"]
HOUSEHOLDS = [100, 200, 20, 0]
EBIKES = [60, 30, 10, 0]
BUILDINGS = [10, 20, 20, 5]
PARTY = [2, 1, 1, 0]  # party members per grid
WORKERS = [1, 1, 2, 1]  # grid workers per grid (one of g0's is also a party member)


def _grids() -> Grids:
    return grids_by_hand(KINDS, households=HOUSEHOLDS, ebikes=EBIKES, buildings=BUILDINGS)


def _roster() -> Roster:
    pm, gw = role_bit("party_member"), role_bit("grid_worker")
    people = {0: [pm | gw, pm], 1: [pm, gw], 2: [pm, gw, gw], 3: [gw]}
    grid = [g for g, ps in people.items() for _ in ps]
    roles = [r for ps in people.values() for r in ps]
    n = len(grid)
    counts = np.bincount(grid, minlength=4)
    return Roster(grid=np.array(grid, dtype=np.int32), roles=np.array(roles, dtype=np.uint8),
                  categories=np.ones(n, dtype=np.uint8), x_m=np.zeros(n), y_m=np.zeros(n),
                  away_in_work_hours=np.zeros(n, dtype=bool),
                  by_grid_indptr=np.concatenate([[0], np.cumsum(counts)]))


def test_hand_built_roster_counts() -> None:
    r = _roster()
    assert r.count_by_grid(r.has_role("party_member")).tolist() == PARTY
    assert r.count_by_grid(r.has_role("grid_worker")).tolist() == WORKERS


def _only(lv: Levers, *, new: dict[tuple[int, int], float] | None = None,
          extra: dict[tuple[int, int], float] | None = None,
          remove: dict[tuple[int, int], float] | None = None,
          channels: dict[str, float] | None = None) -> None:
    """``lv`` is neutral except at the given (class, grid) cells (and channels)."""
    want_new = np.ones_like(lv.new_factor)
    want_extra = np.zeros_like(lv.find_extra_per_day)
    want_remove = np.zeros_like(lv.remove_share)
    for (c, g), v in (new or {}).items():
        want_new[c, g] = v
    for (c, g), v in (extra or {}).items():
        want_extra[c, g] = v
    for (c, g), v in (remove or {}).items():
        want_remove[c, g] = v
    np.testing.assert_allclose(lv.new_factor, want_new, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lv.find_extra_per_day, want_extra, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lv.remove_share, want_remove, rtol=0, atol=1e-12)
    assert lv.channel_factor == {**dict.fromkeys(lv.channel_factor, 1.0), **(channels or {})}


def test_ports_by_largest_remainder() -> None:
    g = _grids()
    # 4 ports by e-bikes 60:30 over the urban grids: quotas 8/3, 4/3 -> 2 + 1, the remainder
    # to g0 (2/3 > 1/3)
    assert port_allocation(4, g, ["urban_community"]).tolist() == [3, 1, 0, 0]
    # 3 ports over all kinds: quotas 1.8, 0.9, 0.3 -> 1 + 0 + 0, then remainders .9, .8, .3
    assert port_allocation(3, g, ["urban_community", "rural"]).tolist() == [2, 1, 0, 0]
    # equal remainders go to the lower grid id: 1 port, e-bikes 30 and 30
    g2 = grids_by_hand(["urban_community"] * 2, ebikes=[30, 30])
    assert port_allocation(1, g2, ["urban_community"]).tolist() == [1, 0]
    with pytest.raises(UserError, match="no e-bikes"):
        port_allocation(5, g, ["enterprise"])


def test_charging_ports_move_only_new_ebike_sites_where_placed() -> None:
    m = ChargingPortsConfig(enabled=True, count=4, bikes_per_port=10, uptake=0.5)
    # ports [3, 1]: served 30/60 and 10/30 -> 1 - 0.5 x 1/2, 1 - 0.5 x 1/3
    _only(measure_levers(m, _grids(), _roster()), new={(E, 0): 0.75, (E, 1): 1 - 0.5 / 3})
    # more capacity than bikes: the served share stops at 1
    big = dataclasses.replace(m, bikes_per_port=1000)
    _only(measure_levers(big, _grids(), _roster()), new={(E, 0): 0.5, (E, 1): 0.5})


def test_city_counts_scale_to_the_region_by_residents() -> None:
    g, r = _grids(), _roster()  # 4 x 100 residents
    assert region_count(ChargingPortsConfig(count=8, for_residents=800), g) == 4
    assert region_count(BlockingSystemsConfig(count=7, for_residents=1000), g) == 3  # 2.8
    assert region_count(ChargingPortsConfig(count=8), g) == 8  # the region's own count
    # 8 ports for 800 residents: this region's 4, as test_ports_by_largest_remainder's
    m = ChargingPortsConfig(enabled=True, count=8, for_residents=800, bikes_per_port=10,
                            uptake=0.5, cost_cny=100)
    _only(measure_levers(m, g, r), new={(E, 0): 0.75, (E, 1): 1 - 0.5 / 3})
    assert campaign_costs(_campaign(charging_ports=m), g, r, 10.0, 0.0) == {
        "charging_ports": 4 * 100}
    bad = campaign_errors(_campaign(charging_ports=ChargingPortsConfig(for_residents=0)))
    assert [e.split(":")[0] for e in bad] == ["campaign.charging_ports.for_residents"]


def test_blocking_systems_fill_grids_most_ebikes_first() -> None:
    g = _grids()
    # g0 (60 e-bikes) needs ceil(100/50) = 2, then g1 (30) gets the last one; rural left out
    assert blocking_allocation(3, 50, g, ["urban_community"]).tolist() == [2, 1, 0, 0]
    assert blocking_allocation(9, 50, g, ["urban_community"]).tolist() == [2, 4, 0, 0]
    # g3 has no households: never gets one
    assert blocking_allocation(9, 50, g, ["commercial", "rural"]).tolist() == [0, 0, 1, 0]
    m = BlockingSystemsConfig(enabled=True, count=3, households_per_system=50, efficacy=0.8)
    # covered 1 and 50/200: new x (1 - 0.8), (1 - 0.2); removed 0.8, 0.2
    _only(measure_levers(m, g, _roster()), new={(E, 0): 0.2, (E, 1): 0.8},
          remove={(E, 0): 0.8, (E, 1): 0.2})


def test_door_knocking_moves_only_find_extra_of_classes_with_find_prob() -> None:
    m = DoorKnockingConfig(enabled=True, duty_share=0.5, households_per_person_day=10,
                           find_prob={"ebike_indoor": 0.8, "gas": 0.5, "geohazard": 0.0})
    # visits per household a day: 2x.5x10/100 = .1, 1x.5x10/200 = .025, 1x.5x10/20 = .25,
    # and 0 in g3 (no households, no party members)
    v = [0.1, 0.025, 0.25]
    want = {(E, g): 0.8 * x for g, x in enumerate(v)} | {(GAS, g): 0.5 * x for g, x in enumerate(v)}
    _only(measure_levers(m, _grids(), _roster()), extra=want)
    # kinds: the rural grid left out
    urban = dataclasses.replace(m, kinds=["urban_community"])
    _only(measure_levers(urban, _grids(), _roster()),
          extra={k: x for k, x in want.items() if k[1] != 2})


def test_inspection_drive_moves_only_find_extra() -> None:
    m = InspectionDriveConfig(enabled=True, duty_share=0.2, buildings_per_person_day=5,
                              find_prob={"structural": 0.5})
    s = HAZARD_CLASSES.index("structural")
    # buildings inspected per building a day: 1x.2x5/10, 1x.2x5/20, 2x.2x5/20, 1x.2x5/5
    _only(measure_levers(m, _grids(), _roster()),
          extra={(s, 0): 0.05, (s, 1): 0.025, (s, 2): 0.05, (s, 3): 0.1})
    # more than every building a day: capped at 1 a day (the loop's own channels' form)
    busy = dataclasses.replace(m, buildings_per_person_day=100)
    _only(measure_levers(busy, _grids(), _roster()),
          extra={(s, 0): 0.5, (s, 1): 0.5, (s, 2): 0.5, (s, 3): 0.5})


def test_video_ai_moves_only_its_channel() -> None:
    _only(measure_levers(VideoAiConfig(enabled=True, feeds_factor=1.5), _grids(), _roster()),
          channels={"video_ai": 1.5})


def test_no_campaign_is_one_neutral_phase_at_no_cost() -> None:
    phases = campaign_phases(CampaignConfig(), _grids(), _roster())
    assert len(phases) == 1 and phases[0].from_day is None and phases[0].levers.is_neutral()
    assert campaign_cost_cny(CampaignConfig(), _grids(), _roster(), 199.0, 29100) == 0.0


def _campaign(**measures: Any) -> CampaignConfig:
    return CampaignConfig(name="t", **measures)


def test_phases_combine_measures_cumulatively() -> None:
    g, r = _grids(), _roster()
    ports = ChargingPortsConfig(enabled=True, count=4, bikes_per_port=10, uptake=0.5)
    block = BlockingSystemsConfig(enabled=True, from_day=5.0, count=3,
                                  households_per_system=50, efficacy=0.8)
    knock = DoorKnockingConfig(enabled=True, from_day=5.0, duty_share=0.5,
                               households_per_person_day=10, find_prob={"ebike_indoor": 0.8})
    video = VideoAiConfig(enabled=True, from_day=10.0, feeds_factor=2.0)
    off = InspectionDriveConfig(enabled=False, duty_share=1.0, buildings_per_person_day=100,
                                find_prob={"gas": 1.0})
    phases = campaign_phases(_campaign(charging_ports=ports, blocking_systems=block,
                                       door_knocking=knock, video_ai=video,
                                       inspection_drive=off), g, r)
    assert [p.from_day for p in phases] == [None, 5.0, 10.0]
    p0, p5, p10 = (p.levers for p in phases)
    _only(p0, new={(E, 0): 0.75, (E, 1): 1 - 0.5 / 3})
    knocked = {(E, 0): 0.08, (E, 1): 0.02, (E, 2): 0.2}
    both = {(E, 0): 0.75 * 0.2, (E, 1): (1 - 0.5 / 3) * 0.8}
    # remove_share is that of every measure in force (the loop removes, at a phase's start,
    # only the part beyond the previous phase's: here 0.8 and 0.2 on day 5, nothing on day 10)
    _only(p5, new=both, extra=knocked, remove={(E, 0): 0.8, (E, 1): 0.2})
    _only(p10, new=both, extra=knocked, remove={(E, 0): 0.8, (E, 1): 0.2},
          channels={"video_ai": 2.0})


def test_costs_by_hand() -> None:
    g, r = _grids(), _roster()
    c = _campaign(
        charging_ports=ChargingPortsConfig(enabled=True, count=4, bikes_per_port=10,
                                           uptake=0.5, cost_cny=800),
        blocking_systems=BlockingSystemsConfig(enabled=True, from_day=50.0, count=3,
                                               households_per_system=50, cost_cny=5000),
        door_knocking=DoorKnockingConfig(enabled=True, from_day=4.0, duty_share=0.5,
                                         households_per_person_day=10, cost_cny=200),
        inspection_drive=InspectionDriveConfig(enabled=True, duty_share=0.1,
                                               buildings_per_person_day=5, cost_cny=300,
                                               kinds=["rural"]),
        video_ai=VideoAiConfig(enabled=True, feeds_factor=1.5, cost_cny=3000))
    costs = campaign_costs(c, g, r, 10.0, 1000)
    assert costs == pytest.approx({
        "charging_ports": 4 * 800,
        "blocking_systems": 0.0,  # starts on day 50 of a 10-day run
        "door_knocking": 4 * 0.5 * (10 - 4) * 200,  # 4 party members, half of 6 days
        "inspection_drive": 2 * 0.1 * 10 * 300,  # the rural grid's 2 workers
        "video_ai": 500 * 3000,
    })
    assert campaign_cost_cny(c, g, r, 10.0, 1000) == pytest.approx(sum(costs.values()))
    assert campaign_costs(c, g, r, 60.0, 1000)["blocking_systems"] == 3 * 5000


def test_campaign_errors_name_the_key() -> None:
    c = _campaign(
        charging_ports=ChargingPortsConfig(uptake=1.5, count=-1, kinds=["urbn"]),
        blocking_systems=BlockingSystemsConfig(households_per_system=0, from_day=-2.0),
        door_knocking=DoorKnockingConfig(find_prob={"ebike": 0.5, "gas": 2.0}),
        inspection_drive=InspectionDriveConfig(duty_share=float("nan"), cost_source=" "),
        video_ai=VideoAiConfig(feeds_factor=-1, cost_cny=-5))
    keys = {e.split(":")[0] for e in campaign_errors(c)}
    assert keys == {
        "campaign.charging_ports.uptake", "campaign.charging_ports.count",
        "campaign.charging_ports.kinds", "campaign.blocking_systems.households_per_system",
        "campaign.blocking_systems.from_day", "campaign.door_knocking.find_prob.ebike",
        "campaign.door_knocking.find_prob.gas", "campaign.inspection_drive.duty_share",
        "campaign.inspection_drive.cost_source", "campaign.video_ai.feeds_factor",
        "campaign.video_ai.cost_cny"}
    assert campaign_errors(CampaignConfig()) == []


# --- the shipped files ---------------------------------------------------------------------


def _compose(option: str) -> CampaignConfig:
    from gridsim.app.hydra_app import compose_settings  # Hydra only for the composing tests

    s, choices = compose_settings([f"campaign={option}"])
    assert choices["campaign"] == option
    return s.campaign


def _flat(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    items = obj if isinstance(obj, dict) else dataclasses.asdict(obj)
    for k, v in items.items():
        if isinstance(v, dict):
            out |= _flat(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


# composing the seven files takes about 8 s: the tests that read them all are slow
@pytest.fixture(scope="module")
def shipped() -> dict[str, CampaignConfig]:
    return {o: _compose(o) for o in ("none", "ebike_2025", "ebike_ports", "ebike_blocking",
                                     "ebike_knocking", "inspection_drive", "video_ai")}


def test_default_is_none() -> None:
    from gridsim.app.hydra_app import compose_settings  # Hydra only for the composing tests

    s, choices = compose_settings([])
    assert choices["campaign"] == "none" and s.campaign.name == "none"
    assert not any(getattr(s.campaign, m).enabled for m in MEASURES)


@pytest.mark.slow
def test_ebike_2025_is_the_accounts_campaign(shipped: dict[str, CampaignConfig]) -> None:
    c = shipped["ebike_2025"]
    # docs/domain.md: 2,229 charging ports, 53 AI blocking systems, door-knocking
    assert c.charging_ports.count == 2229 and c.blocking_systems.count == 53
    assert [m for m in MEASURES if getattr(c, m).enabled] == [
        "charging_ports", "blocking_systems", "door_knocking"]
    assert "Suining" in c.source
    assert all(getattr(c, m).cost_source for m in MEASURES)


@pytest.mark.slow
@pytest.mark.parametrize(("option", "on"), [
    ("none", []),
    ("ebike_ports", ["charging_ports"]),
    ("ebike_blocking", ["blocking_systems"]),
    ("ebike_knocking", ["door_knocking"]),
    ("inspection_drive", ["inspection_drive"]),
    ("video_ai", ["video_ai"]),
])
def test_per_measure_files_differ_only_in_measures_switched(
        shipped: dict[str, CampaignConfig], option: str, on: list[str]) -> None:
    base, other = _flat(shipped["ebike_2025"]), _flat(shipped[option])
    differ = {k for k in base if base[k] != other[k]}
    switched = {f"{m}.enabled" for m in MEASURES
                if getattr(shipped["ebike_2025"], m).enabled != (m in on)}
    assert differ - {"name", "zh", "source"} == switched
    assert other["name"] == option
    assert [m for m in MEASURES if getattr(shipped[option], m).enabled] == on


@pytest.mark.slow
def test_shipped_campaigns_on_hand_built_grids(shipped: dict[str, CampaignConfig]) -> None:
    g, r = _grids(), _roster()
    none = campaign_phases(shipped["none"], g, r)
    assert len(none) == 1 and none[0].levers.is_neutral()
    assert campaign_cost_cny(shipped["none"], g, r, 199.0, 29100) == 0.0
    c = shipped["ebike_2025"]
    # four grids of 100 residents get no share of the city's ports (2,229 x 400 / 2.8 M < 0.5)
    (p,) = campaign_phases(c, g, r)
    assert np.all(p.levers.new_factor == 1.0) and not p.levers.remove_share.any()
    # as if the city's ports and systems were this region's
    c = dataclasses.replace(
        c, charging_ports=dataclasses.replace(c.charging_ports, for_residents=None),
        blocking_systems=dataclasses.replace(c.blocking_systems, for_residents=None))
    (p,) = campaign_phases(c, g, r)
    lv = p.levers
    others = [c for c in range(len(HAZARD_CLASSES)) if c != E]
    assert np.all(lv.new_factor[others] == 1.0) and not lv.remove_share[others].any()
    assert np.all(lv.new_factor[E, :2] < 1.0) and np.all(lv.new_factor[E, 2:] == 1.0)
    probs = shipped["ebike_2025"].door_knocking.find_prob
    found = [HAZARD_CLASSES.index(k) for k, v in probs.items() if v > 0]
    assert set(np.flatnonzero(lv.find_extra_per_day.any(axis=1))) == set(found)


def test_bad_range_fails_at_composition() -> None:
    with pytest.raises(ConfigError, match=r"campaign\.charging_ports\.uptake"):
        _compose_with(["campaign=ebike_2025", "campaign.charging_ports.uptake=1.5"])
    with pytest.raises(ConfigError, match="colour"):
        _compose_with(["campaign=ebike_2025", "+campaign.video_ai.colour=3"])


def _compose_with(overrides: list[str]) -> None:
    from gridsim.app.hydra_app import compose_settings  # Hydra only for the composing tests

    compose_settings(overrides)
