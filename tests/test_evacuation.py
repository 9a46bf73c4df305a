"""Verification of the evacuation model (gridsim.evacuation), each test with its tolerance.

The cases follow docs/references.md: the RiMEA tests in network form (1: a corridor; 5:
pre-movement; 9: doors; 12: an upstream bottleneck), the SFPE capacities, and the quickest-flow
lower bounds (one path: ``τ + N/u``; parallel paths: ``(N + Σ uᵢτᵢ) / Σ uᵢ``). Every assertion is
on a formula, not on a number the code produced before.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from console import console_script
from handmade import settings_for
from scipy import stats

from gridsim.evacuation import (
    WALK,
    Closure,
    EvacNetwork,
    Groups,
    ShelterSites,
    SwitchTimes,
    drill_multiplier,
    evacuate,
    move,
    quickest_flow_bound,
    road_closures,
    scenario_network,
    simulate_switch,
)
from gridsim.evacuation.model import Shelters, leading_roles
from gridsim.model.dists import Dist
from gridsim.model.params import EvacuationChannelConfig, RunConfig
from gridsim.model.streams import Streams
from gridsim.model.vocab import ROLES
from gridsim.place.scenario import Scenario, build_scenario

V = 1.33  # RiMEA test 1 walking speed, m/s
BIG = 10**9  # a shelter that never fills


def singles(n: int, ready: np.ndarray | None = None, origin: int = 0, shelter: int = 0
            ) -> Groups:
    """``n`` one-person walking groups at ``origin``, all leaving at 0 (ready at ``ready``)."""
    ready = np.zeros(n) if ready is None else np.asarray(ready, float)
    return Groups(persons=np.ones(n, np.int64), mode=np.zeros(n, np.int64),
                  origin=np.full(n, origin), depart_s=np.zeros(n), ready_s=ready,
                  speed_factor=np.ones(n), shelter=np.full(n, shelter))


def one_shelter(node: int) -> ShelterSites:
    return ShelterSites(node=np.array([node]), capacity=np.array([BIG]))


def entries_of(record, link: int) -> np.ndarray:
    """``[head_in, tail_in, units]`` of the entries of ``link`` (walkers), by entry time."""
    rows = [(h, t, u) for lk, m, _, h, t, u in record.entries if lk == link and m == WALK]
    a = np.array(rows, dtype=float).reshape(-1, 3)
    return a[np.argsort(a[:, 0], kind="stable")]


@pytest.fixture(scope="module")
def small() -> tuple[RunConfig, Scenario]:
    s = settings_for("scenario=small", "output.progress=false")
    return s, build_scenario(s.scenario)


# ----------------------------------------------------------------------------------------------
# capacities and movement on hand-made networks
# ----------------------------------------------------------------------------------------------
def test_sfpe_capacity_is_specific_flow_times_effective_width() -> None:
    """SFPE: capacity = 1.3 p/(m·s) × (clear width − 2 × 0.15 m); exact (1e-12)."""
    net = EvacNetwork.from_links(2, [0, 0, 0], [1, 1, 1], [1.0] * 3, [1.0, 2.0, 0.2], V)
    assert np.allclose(net.capacity[WALK], [1.3 * 0.7, 1.3 * 1.7, 0.0], rtol=0, atol=1e-12)


def test_rimea_1_a_40_m_link_at_1_33_m_s_is_crossed_in_30_1_s() -> None:
    """RiMEA test 1 (a 40 m corridor, 2 m wide, 1.33 m/s; accepted 26–34 s) as one link: the
    person crosses it in exactly 40 / 1.33 = 30.08 s (tolerance 1e-9 s) after passing its
    entrance, which takes 1 / capacity; both together are within RiMEA's band."""
    net = EvacNetwork.from_links(2, [0], [1], [40.0], [2.0], V)
    rec = move(net, singles(1), one_shelter(1), trace=True)
    head_in, tail_in, _ = entries_of(rec, 0)[0]
    crossing = rec.sheltered_s[0] - tail_in
    assert crossing == pytest.approx(40.0 / V, abs=1e-9)
    assert round(crossing, 1) == 30.1
    assert tail_in - head_in == pytest.approx(1.0 / net.capacity[WALK, 0], abs=1e-9)
    assert 26.0 <= rec.sheltered_s[0] <= 34.0


def test_flow_through_a_door_never_exceeds_capacity_and_reaches_it_with_a_queue() -> None:
    """RiMEA 9/12 in network form. 300 people reach a 1 m door (capacity 0.91 p/s) at random
    within 60 s, more than it can pass: entries never overlap and each takes at least
    1/capacity (so the flow never exceeds capacity, tolerance 1e-9 s), and while anyone waits
    the door is never idle (the next entry starts when the last ends, 1e-9 s), so over the busy
    period the flow equals capacity (relative tolerance 1e-9)."""
    net = EvacNetwork.from_links(2, [0], [1], [5.0], [1.0], V)
    u = net.capacity[WALK, 0]
    ready = np.sort(np.random.default_rng(7).uniform(0, 60, 300))
    rec = move(net, singles(300, ready), one_shelter(1), trace=True)
    e = entries_of(rec, 0)
    assert np.all(e[:, 1] - e[:, 0] >= e[:, 2] / u - 1e-9)
    assert np.all(e[1:, 0] >= e[:-1, 1] - 1e-9)
    waited = e[1:, 0] > ready[1:] + 1e-9  # FIFO: the k-th entry is the k-th arrival
    assert waited.sum() > 250
    assert np.allclose(e[1:, 0][waited], e[:-1, 1][waited], rtol=0, atol=1e-9)
    busy_from = e[np.flatnonzero(np.r_[True, ~waited])[-1], 0]  # start of the last busy period
    last = e[e[:, 0] >= busy_from]
    assert last[:, 2].sum() / (last[-1, 1] - last[0, 0]) == pytest.approx(u, rel=1e-9)


def test_rimea_9_a_room_empties_about_twice_as_fast_through_4_doors_as_through_2() -> None:
    """RiMEA test 9: 1,000 people leave a 30 × 20 m room by 4 or by 2 doors of 1 m. Each is
    ready at its door after walking up to 25 s: each time lies between the bound N/(k·u) and
    that plus 25 s, and the ratio is 2 within 0.05 (RiMEA: "about 2")."""
    rng = np.random.default_rng(9)
    ready = rng.uniform(0, 25, 1000)
    times = {}
    for k in (2, 4):
        net = EvacNetwork.from_links(2, [0] * k, [1] * k, [0.0] * k, [1.0] * k, V)
        rec = move(net, singles(1000, ready), one_shelter(1))
        bound = 1000 / (k * net.capacity[WALK, 0])
        times[k] = float(np.max(rec.sheltered_s))
        assert bound <= times[k] <= bound + 25.0
        assert np.all(rec.links.persons[WALK] >= 1000 / k - 2)  # the doors share the load
    assert times[2] / times[4] == pytest.approx(2.0, abs=0.05)


def test_rimea_12_an_upstream_bottleneck_meters_the_flow_downstream() -> None:
    """RiMEA test 12: room → 1 m door → 10 m corridor (3 m) → 2 m door → out. 500 people
    queue at the first door: the second door never sees a queue (longest wait 0, 1e-9 s) and
    its flow over any stretch of time never exceeds the first door's capacity (at most one
    person more, the discreteness of people, and the rate over all of them within 1e-9)."""
    net = EvacNetwork.from_links(4, [0, 1, 2], [1, 2, 3], [0.0, 10.0, 0.0], [1.0, 3.0, 2.0], V)
    u_up = net.capacity[WALK, 0]
    rec = move(net, singles(500), one_shelter(3), trace=True)
    down = entries_of(rec, 2)
    assert rec.links.max_wait_s[WALK, 2] == pytest.approx(0.0, abs=1e-9)
    t = down[:, 1]  # a person has passed when its tail is in
    counts = np.arange(1, len(t) + 1)
    i, j = np.triu_indices(len(t), 1)
    sel = slice(None, None, 97)  # a sample of all windows
    assert np.all(counts[j[sel]] - counts[i[sel]] <= u_up * (t[j[sel]] - t[i[sel]]) + 1 + 1e-9)
    assert 499 / (t[-1] - t[0]) == pytest.approx(u_up, rel=1e-9)


# ----------------------------------------------------------------------------------------------
# quickest-flow bounds
# ----------------------------------------------------------------------------------------------
def test_one_path_clearance_equals_the_bound_travel_time_plus_n_over_capacity() -> None:
    """One path, τ = 30 s, u = 1.3 p/s, N = 100 (docs/references.md: 106.9 s): the bound is
    τ + N/u (1e-9) and, with everybody ready at 0, the clearance equals it (1e-6 s)."""
    net = EvacNetwork.from_links(2, [0], [1], [30.0 * V], [1.3], V)  # effective width 1 m
    bound = quickest_flow_bound(net, [0], [1], 100)
    assert bound == pytest.approx(30.0 + 100 / 1.3, abs=1e-9)
    assert round(bound, 1) == 106.9
    rec = move(net, singles(100), one_shelter(1))
    assert np.max(rec.sheltered_s) == pytest.approx(bound, abs=1e-6)


def test_parallel_paths_clearance_meets_the_temporally_repeated_flow_bound() -> None:
    """Two parallel paths, τ = 30 s and 50 s, u = 1.3 p/s each, N = 100 (docs/references.md:
    78.5 s): the bound is (N + Σuτ)/Σu (1e-9); with zero pre-movement and the model's route
    choice the clearance is never below it and within 1 s (one person's passage, 1/u = 0.77 s,
    plus rounding) above it."""
    net = EvacNetwork.from_links(2, [0, 0], [1, 1], [30.0 * V, 50.0 * V], [1.3, 1.3], V)
    bound = quickest_flow_bound(net, [0], [1], 100)
    assert bound == pytest.approx((100 + 1.3 * 30 + 1.3 * 50) / 2.6, abs=1e-9)
    assert round(bound, 1) == 78.5
    rec = move(net, singles(100), one_shelter(1))
    clearance = float(np.max(rec.sheltered_s))
    assert bound - 1e-9 <= clearance <= bound + 1.0
    assert rec.links.persons[WALK].min() > 0  # both paths used


def test_clearance_is_never_below_the_bound_on_a_real_road_network(small) -> None:
    """The small district's evacuation network (townships 0-1, walking only, everybody ready at
    their grid's exit at 0): the clearance is at least the quickest-flow bound from any exit
    to any shelter (a super source, so a valid bound; tolerance 1e-6 s). From one exit to one
    shelter, where the bound is the optimum, the clearance is within 15 % of it: route choice
    sees the queue at the next link only, so a queue two links ahead diverts too few people to
    a parallel route (12 % here)."""
    s, sc = small
    grids = sc.region.township_grids([0, 1])[:12]
    cfg = replace(s.evacuation, drive_share={})
    net = scenario_network(sc.roads, sc.region.grids, grids, cfg)
    shelters = Shelters.at_grids(sc, np.array([40, 50]), np.array([BIG, BIG]))
    n = 3000
    rng = np.random.default_rng(3)
    origin = net.home_node[rng.integers(len(grids), size=n)]
    groups = Groups(persons=np.ones(n, np.int64), mode=np.zeros(n, np.int64), origin=origin,
                    depart_s=np.zeros(n), ready_s=np.zeros(n), speed_factor=np.ones(n),
                    shelter=np.zeros(n, np.int64))
    rec = move(net, groups, ShelterSites(node=shelters.node, capacity=shelters.capacity))
    bound = quickest_flow_bound(net, sorted(set(origin.tolist())), shelters.node.tolist(), n)
    assert np.all(np.isfinite(rec.sheltered_s))
    assert float(np.max(rec.sheltered_s)) >= bound - 1e-6
    # one origin and one shelter: the bound is the exact quickest flow
    one = replace(groups, origin=np.full(n, net.home_node[0]))
    rec = move(net, one, ShelterSites(shelters.node[:1], shelters.capacity[:1]))
    bound = quickest_flow_bound(net, [int(net.home_node[0])], shelters.node[:1].tolist(), n)
    assert bound - 1e-6 <= float(np.max(rec.sheltered_s)) <= 1.15 * bound


# ----------------------------------------------------------------------------------------------
# shelters, closures, conservation
# ----------------------------------------------------------------------------------------------
def test_a_full_shelter_sends_newcomers_to_the_next_one() -> None:
    """A line 0 → A → B; A has room for 10 of the 30 people assigned to it: exactly 10 stay
    in A, the other 20 are turned away and sheltered in B (exact counts)."""
    net = EvacNetwork.from_links(3, [0, 1], [1, 2], [50.0, 50.0], [2.0, 2.0], V)
    sites = ShelterSites(node=np.array([1, 2]), capacity=np.array([10, 100]))
    rec = move(net, singles(30), sites)
    assert rec.occupancy.tolist() == [10, 20]
    assert rec.turned_away.tolist() == [20, 0]
    assert int(rec.redirected.sum()) == 20
    assert np.all(rec.sheltered_s[rec.shelter == 1] > rec.sheltered_s[rec.shelter == 0].max())


def test_a_closed_road_sends_the_waiting_groups_another_way() -> None:
    """Two routes 0 → 1: a short one (100 m) and a long one (600 m); 300 people queue at the
    short one, which closes at T = 100 s. Nobody enters it after T (the entries that would have
    are exactly the withdrawn ones), the rest take the long way, everybody is sheltered, and
    nobody arrives by the long way faster than its free travel time (1e-9 s)."""
    net = EvacNetwork.from_links(3, [0, 0, 2], [1, 2, 1], [100.0, 300.0, 300.0], [1.0] * 3, V)
    T = 100.0
    rec = move(net, singles(300), one_shelter(1), closures=[Closure(T, (0,), "landslide")],
               trace=True)
    late = {(lk, g) for lk, _, g, h, _, _ in rec.entries if lk == 0 and h > T}
    assert late and late == {(lk, g) for lk, _, g, _ in rec.withdrawn}
    assert rec.closures[0][2] == len(late)
    assert np.all(np.isfinite(rec.sheltered_s))
    assert rec.links.persons[WALK, 0] + rec.links.persons[WALK, 1] == 300
    assert rec.links.persons[WALK, 1] == len(late)
    assert np.min(rec.sheltered_s[list({g for _, g in late})]) >= T + 600.0 / V - 1e-9


def test_a_shelter_cut_off_by_a_closure_strands_who_cannot_reach_another() -> None:
    """The only road to the shelter closes at 10 s: those not past it are stranded (counted on
    the way, never sheltered) and the count of people still adds up (exact)."""
    net = EvacNetwork.from_links(2, [0], [1], [50.0], [1.0], V)
    rec = move(net, singles(100), one_shelter(1), closures=[Closure(10.0, (0,))], trace=True)
    sheltered = int(np.isfinite(rec.sheltered_s).sum())
    assert 0 < sheltered < 100
    assert int(rec.stranded.sum()) == 100 - sheltered
    assert rec.levels[-1][1:] == (0, 100 - sheltered, sheltered)


def test_people_are_conserved_at_every_event(small) -> None:
    """The small district's townships 0-1 evacuate with a road closed during the run: after
    every event, not yet left + on the way + sheltered = population (exact), and the engine's
    running counts agree with the households' own times at every event time (exact)."""
    s, sc = small
    grids = sc.region.township_grids([0, 1])
    net = scenario_network(sc.roads, sc.region.grids, grids, s.evacuation)
    closures = road_closures(net, sc, [(3600.0 * 30.25, 33, 25, "landslide")])
    res = evacuate(sc, grids, s.evacuation, Streams(5), start_s=3600.0 * 30, network=net,
                   closures=closures, trace=True)
    pop = res.population
    levels = np.array(res.flow.levels[1:], dtype=float)
    assert pop == int(sc.region.grids.population[grids].sum())
    assert np.all(levels[:, 1] + levels[:, 2] + levels[:, 3] == pop)
    last_at_time = np.r_[levels[1:, 0] != levels[:-1, 0], True]
    t = levels[last_at_time, 0]
    not_left, on_way, sheltered = res.counts_at(t)
    assert np.array_equal(levels[last_at_time, 1], not_left)
    assert np.array_equal(levels[last_at_time, 2], on_way)
    assert np.array_equal(levels[last_at_time, 3], sheltered)
    assert res.sheltered == pop


# ----------------------------------------------------------------------------------------------
# who and when: warning, pre-movement, drills, helpers
# ----------------------------------------------------------------------------------------------
def _phone_only(s: RunConfig, day: Dist, night: Dist, per_year: float = 0.0):
    """Evacuation settings where every household hears the warning at its start (a phone
    channel with no delay and full reach) and nobody waits for a helper."""
    e = s.evacuation
    return replace(e, channels={"phone": EvacuationChannelConfig("warning", Dist.fixed(0.0), 1.0)},
                   premovement_day=day, premovement_night=night, helped_households="any",
                   vulnerable_speed_factor=1.0,
                   drills=replace(e.drills, per_year=per_year))


@pytest.mark.parametrize(("hour", "per_year"), [(10.0, 0.0), (23.0, 0.0), (10.0, 4.0)])
def test_rimea_5_premovement_times_follow_the_configured_distribution(small, hour, per_year
                                                                      ) -> None:
    """RiMEA test 5: pre-movement times (leaving home − warning heard) of the households who
    leave on their own follow the configured distribution: uniform 10–100 s by day, lognormal
    (median 300 s, σ 0.5) at night (23:00), and by day in a grid that drills 4 times a year the
    uniform scaled by m(4) (the drill curve). Tolerance: the Kolmogorov–Smirnov statistic below
    its 0.1 % critical value 1.95/√n."""
    s, sc = small
    day, night = Dist(kind="uniform", low_s=10.0, high_s=100.0), Dist.lognormal(300.0, 0.5)
    cfg = _phone_only(s, day, night, per_year)
    grids = sc.region.township_grids([2])
    res = evacuate(sc, grids, cfg, Streams(11), start_s=hour * 3600.0)
    hh = res.households
    own = hh.helper < 0
    pre = (hh.depart_s - hh.warned_s)[own]
    assert np.all(hh.warned_s == hour * 3600.0)
    m = float(drill_multiplier(per_year, cfg.drills.premovement_floor, cfg.drills.scale_per_year))
    if hour == 23.0:
        cdf = stats.lognorm(s=0.5, scale=300.0).cdf
    else:
        cdf = stats.uniform(loc=10.0 * m, scale=90.0 * m).cdf
    d = stats.kstest(pre, cdf).statistic
    assert d < 1.95 / math.sqrt(len(pre)), (d, len(pre))


def test_drill_curve_and_the_switch(small) -> None:
    """The drill curve m(d) = floor + (1 − floor)·exp(−d/scale): m(0) = 1, m(∞) = floor, the
    formula at 1 and 4 drills (1e-12). The switch's delays scale with it: with the supply point
    the slowest part of the switch (a fixed 10,000 s), the post is ready exactly
    10,000 · m(d) s after the warning (1e-6 s)."""
    s, sc = small
    dc = s.evacuation.drills
    m = drill_multiplier(np.array([0.0, 1.0, 4.0, 1e9]), dc.switch_floor, dc.scale_per_year)
    f, k = dc.switch_floor, dc.scale_per_year
    assert np.allclose(m, [1.0, f + (1 - f) * math.exp(-1 / k), f + (1 - f) * math.exp(-4 / k),
                           f], rtol=0, atol=1e-12)
    resp = s.response
    sw = replace(resp.switch, alert_delay=Dist.fixed(1.0), assembly_mobilisation=Dist.fixed(1.0),
                 away_return=Dist.fixed(1.0), supply_open_delay=Dist.fixed(10_000.0))
    resp = replace(resp, switch=sw)
    grids = np.arange(10)
    for d, md in zip((1.0, 4.0), m[1:3], strict=True):
        factor = np.ones(sc.n_grids)
        factor[grids] = md
        times = simulate_switch(sc, grids, resp, np.random.default_rng(0), 100.0, factor)
        assert np.allclose(times.grid_ready_s - 100.0, 10_000.0 * md, rtol=0, atol=1e-6), d


def test_vulnerable_households_wait_for_their_helper_who_must_search_without_a_commander(
        small) -> None:
    """Households with no able member leave only when their helper (a party member or grid
    worker who covers them) has them ready. With fixed help (300 s) and search (600 s) times,
    when the on-site commanders are absent every such household leaves exactly 600 s × (its
    place in its helper's round) later than when they are there (1e-6 s); helpers are
    never commanders or grid leaders."""
    s, sc = small
    cfg = replace(s.evacuation, help_time=Dist.fixed(300.0), search_time=Dist.fixed(600.0))
    grids = sc.region.township_grids([3])
    start = 3600.0 * 10
    present = SwitchTimes.at(start, len(grids), sc.roster.n)
    lead = leading_roles(sc.roster.roles)
    cmd_gone = present.member_ready_s.copy()
    cmd_gone[lead == ROLES.index("commander")] = np.inf
    absent = SwitchTimes(present.grid_ready_s, cmd_gone)
    a = evacuate(sc, grids, cfg, Streams(2), start_s=start, switch=present)
    b = evacuate(sc, grids, cfg, Streams(2), start_s=start, switch=absent)
    hh_a, hh_b = a.households, b.households
    needs = hh_a.vulnerable >= hh_a.persons
    assert needs.any() and np.array_equal(needs, hh_a.helper >= 0)
    assert np.array_equal(hh_a.helper, hh_b.helper)
    helpers = a.helpers.person[hh_a.helper[needs]]
    assert np.all(helpers >= 0)
    assert np.all(np.isin(lead[helpers], [ROLES.index(r) for r in cfg.helper_roles]))
    assert np.all(hh_a.depart_s[needs] >= start + 300.0 - 1e-9)
    for h in range(a.helpers.n):
        mine = np.flatnonzero(hh_a.helper == h)
        order = mine[np.argsort(hh_a.depart_s[mine])]
        rank = np.arange(1, len(order) + 1)
        assert np.allclose(hh_b.depart_s[order] - hh_a.depart_s[order], 600.0 * rank,
                           rtol=0, atol=1e-6)
    assert b.per_grid()["clearance_s"].max() >= a.per_grid()["clearance_s"].max()
    assert a.per_grid()["helped_households"].sum() == needs.sum()
    assert np.nanmax(a.per_grid()["helper_busy_max_s"]) == pytest.approx(a.helpers.busy_s.max())


def test_same_seed_same_evacuation_and_another_seed_another(small) -> None:
    """Determinism: the same seed gives identical household times (exact); another seed
    different ones."""
    s, sc = small
    grids = sc.region.township_grids([2])
    a = evacuate(sc, grids, s.evacuation, Streams(4), start_s=1000.0, response=s.response)
    b = evacuate(sc, grids, s.evacuation, Streams(4), start_s=1000.0, response=s.response)
    c = evacuate(sc, grids, s.evacuation, Streams(5), start_s=1000.0, response=s.response)
    assert np.array_equal(a.households.sheltered_s, b.households.sheltered_s, equal_nan=True)
    assert a.summary() == b.summary()
    assert not np.array_equal(a.households.depart_s, c.households.depart_s)


# ----------------------------------------------------------------------------------------------
# inside gridsim run
# ----------------------------------------------------------------------------------------------
def test_a_road_closure_between_grids_without_a_road_is_a_config_error(small) -> None:
    """A scripted closure must name two grids with a road between them; it fails before the
    run starts, naming the key."""
    from gridsim.engine.simulation import simulate
    from gridsim.model.frozen import changed
    from gridsim.model.params import RoadClosureConfig
    from gridsim.model.validate import ConfigError

    s, sc = small
    s = settings_for("scenario=small", "hazard=flood_evacuation", "duration_h=1",
                     "output.progress=false", "output.events_log=false")
    far = int(np.argmax(np.hypot(sc.region.grids.x_m, sc.region.grids.y_m)))
    s = changed(s, {"hazard.road_closures": [RoadClosureConfig(grids=[0, far], at_h=0.5)]})
    with pytest.raises(ConfigError, match=r"hazard\.road_closures\[0\]\.grids"):
        simulate(s, scenario=sc)


def test_bad_evacuation_settings_are_rejected_naming_the_key() -> None:
    from gridsim.model.validate import ConfigError

    with pytest.raises(ConfigError, match=r"evacuation\.shelters\.assignment"):
        settings_for("scenario=small", "evacuation.shelters.assignment=farthest")
    with pytest.raises(ConfigError, match=r"evacuation\.road_walk_width_m\.urban"):
        settings_for("scenario=small", "evacuation.road_walk_width_m.urban=0.2")


@pytest.mark.slow
def test_gridsim_run_flood_evacuation_writes_the_evacuation_files(tmp_path: Path) -> None:
    """``gridsim run hazard=flood_evacuation scenario=small`` writes evacuation.csv (one row per
    warned grid), evacuation_curve.csv (rows add up to the population), the shelters and
    bottleneck tables, both figures, and the summary keys (documented in README)."""
    exe = console_script()
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["MPLBACKEND"] = "Agg"
    out = tmp_path / "out"
    proc = subprocess.run([exe, "run", "scenario=small", "hazard=flood_evacuation",
                           "duration_h=31", "output.progress=false", f"hydra.run.dir={out}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("evacuation.csv", "evacuation_curve.csv", "evacuation_shelters.csv",
                 "evacuation_bottlenecks.csv", "evacuation_curve.png",
                 "evacuation_bottlenecks.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with open(out / "evacuation.csv", encoding="utf-8") as f:
        grid_rows = list(csv.DictReader(f))
    with open(out / "evacuation_curve.csv", encoding="utf-8") as f:
        curve = list(csv.DictReader(f))
    pop = summary["evacuation_population"]
    assert len(grid_rows) == summary["evacuation_grids"] > 0
    assert sum(int(r["population"]) for r in grid_rows) == pop
    assert all(int(r["not_left"]) + int(r["on_the_way"]) + int(r["sheltered"]) == pop
               for r in curve)
    assert int(curve[-1]["sheltered"]) == summary["evacuated"]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for key in ("clearance_time_s", "evacuated", "not_sheltered_by_deadline",
                "evacuation_p90_s", "bottleneck_max_queue_persons", "helper_busy_max_s",
                "shelters_full", "road_closures"):
        assert key in summary, key
        assert f"`{key}`" in readme, key
    assert summary["road_closures"] == 1
