"""Storm 前置 (力量前置、物资前置): the engine's moves (gridsim.engine.moves) and the planner
(gridsim.planning.storm).

The engine's micro case: two grids of 1 km² (a single road between their centres), fixed switch
delays, walking inside a grid instant. A red warning over grid 0 alone at 1800 s; grid 0's post
is ready at 1980 s (alert 60 s + assembly 120 s; supply point 100 s). Grid 0's relocation is 4
units × 60 person-min (14,400 person-s) for up to 4 people; grid 1 (members 3, 4, 5) has no
task. The road time T is the road's length over its speed, read from the scenario's network.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from params import add_warning, checked, one_grid
from scipy.sparse import csgraph

from gridsim.app.hydra_app import compose_settings
from gridsim.engine.hazards import catalogue_from_config
from gridsim.engine.moves import road_times
from gridsim.engine.simulation import RunResult, build, simulate
from gridsim.engine.weather import build_weather
from gridsim.errors import UserError
from gridsim.model.dists import Dist
from gridsim.model.frozen import changed
from gridsim.model.params import (
    CommandConfig,
    DetectionChannelConfig,
    KindConfig,
    RunConfig,
    StormTaskConfig,
    StormWorkConfig,
)
from gridsim.model.plan import Move
from gridsim.model.streams import Streams
from gridsim.model.vocab import GRID_KINDS, SUPPLY_ITEMS
from gridsim.output.metrics import summarize
from gridsim.planning.storm import grid_risk, plan_storm, transport

OFF = StormTaskConfig(enabled=False)
READY_S = 1980.0
WARN_S = 1800.0
END_S = WARN_S + 2 * 3600.0
RECOVERY_S = 900.0  # grid 0 is back in peacetime this long after its stand-down
LAG = StormTaskConfig(priority=80, people=4, minutes_per_unit=60.0,
                      exposure={"residents": 0.002})
SANDBAG = SUPPLY_ITEMS.index("sandbag")


def _two_grids(command: CommandConfig) -> RunConfig:
    s = one_grid(2, duration_h=3)
    s = changed(s, {"output.events_log": True,
                    "response.switch.alert_delay": Dist.fixed(60.0),
                    "response.switch.assembly_mobilisation": Dist.fixed(120.0),
                    "response.switch.supply_open_delay": Dist.fixed(100.0),
                    "response.switch.recovery_h": RECOVERY_S / 3600.0})
    s = add_warning(s, start_h=0.5, duration_h=2.0)
    s = changed(s, {"hazard.warnings": [changed(s.hazard.warnings[0], {"grids": [0]})]})
    work = StormWorkConfig(enabled=True, incident_priority=100, patrol_channel="patrol",
                           patrol_coverage=0.0, staff_post=OFF, relocate=LAG, warn=OFF,
                           sandbag=OFF, patrol=OFF)
    patrol = DetectionChannelConfig(delay=Dist.fixed(900.0),
                                    coverage=dict.fromkeys(GRID_KINDS, 0.0))
    kinds = {"urban_community": KindConfig(zone="urban", weight=1.0, area_km2=1.0, area_cv=0.0,
                                           population=2000.0, population_cv=0.0),
             "rural": KindConfig(zone="rural", weight=1.0, area_km2=1.0, area_cv=0.0,
                                 population=100.0, population_cv=0.0)}
    return checked(changed(s, {
        "response.storm_work": work, "catalogue.detection.patrol": patrol,
        "response.command": command, "scenario.kinds": kinds, "scenario.rural_grids": 1,
        "response.dispatch.local_speed_mps": dict.fromkeys(GRID_KINDS, 1e9)}))


def _road_s(r: RunResult) -> float:
    roads = r.ctx.scenario.roads
    assert len(roads.edge_u) == 1
    return float(roads.length_m[0] / roads.speed_mps[0])


def _rows(r: RunResult, *events: str) -> list[tuple[float, str, int, str]]:
    return [(t, e, g, d) for t, e, g, _, d in r.ctx.log.sorted_rows() if e in events]


def _run(command: CommandConfig, moves: list[Move]) -> tuple[RunResult, dict, list]:
    """The micro case with ``moves``; returns the run, the ledger seen half-way along the
    stock's trip, and (time, person) of every vacate of a person of grid 1."""
    seen: dict = {}
    freed: list = []

    def observe(ctx) -> None:
        vacate = ctx.dispatcher.vacate

        def _vacate(p: int, offer: bool = True) -> None:
            if p >= 3:
                freed.append((ctx.env.now, p))
            vacate(p, offer)

        ctx.dispatcher.vacate = _vacate
        led = ctx.supply.ledger

        def look():
            yield ctx.env.timeout(WARN_S + 50.0)  # the road is longer than 50 s
            seen.update(in_transit=led.in_transit, balance=led.balance(),
                        stock=led.stock[:, SANDBAG].tolist())

        ctx.env.process(look())

    r = simulate(_two_grids(command), observe=observe, moves=moves)
    return r, seen, freed


@pytest.mark.parametrize("transfers", [False, True])
def test_a_move_timeline_is_exact(transfers: bool) -> None:
    """Team: members 3 and 4 leave grid 1 at the warning (1800 s), arrive at 1800 + T (T < 180
    s: before the post), stand by until the post is ready at 1980 s; then the relocation takes
    them with members 0 and 2 (member 1 reaches the post a microsecond later, the walk being
    1e9 m/s, and finds the four places taken): the four finish 14,400 person-s at 1980 + 3600
    s.
    Both stay through the stand-down at 9000 s and grid 0's recovery (900 s), and are home at
    9900 + T. Stock: 3 sandbags
    leave grid 0 at 1800 s, are in transit (counted: the ledger balances), reach grid 1 at
    1800 + T."""
    cmd = CommandConfig(township_transfer=transfers, county_transfer=transfers)
    moves = [Move("team", 1, 0, people=2), Move("stock", 0, 1, item="sandbag", units=3)]
    r, seen, freed = _run(cmd, moves)
    t = _road_s(r)
    assert t < READY_S - WARN_S
    rows = _rows(r, "premove_depart", "premove_arrive")
    assert [(e, g) for _, e, g, _ in rows] == [("premove_depart", 0), ("premove_depart", 1),
                                              ("premove_arrive", 0), ("premove_arrive", 1)]
    assert [x[0] for x in rows] == pytest.approx([WARN_S, WARN_S, WARN_S + t, WARN_S + t],
                                                 abs=1e-4)
    assert "力量前置 team of 2 from grid 1" in rows[0][3]
    assert "物资前置 3 sandbag from grid 0" in rows[1][3]
    done = [x for x, e, _, _ in _rows(r, "storm_task_done")]
    assert done == pytest.approx([READY_S + 14400.0 / 4], abs=1e-4)
    # 3 and 4: off the stand-by onto the task at 1980, off the task at 5580 (they stand by
    # again), off the stand-by when grid 0 is back in peacetime, home after the road
    back_s = END_S + RECOVERY_S
    for p in (3, 4):
        assert [x for x, q in freed if q == p] == pytest.approx(
            [READY_S, READY_S + 3600.0, back_s, back_s + t], abs=1e-4)
    assert not any(p == 5 for _, p in freed)  # the third member stayed home, untouched
    # stock conserved, in transit on the road
    assert seen == {"in_transit": 3, "balance": 0, "stock": [57, 0]}
    led = r.ctx.supply.ledger
    assert led.stock[:, SANDBAG].tolist() == [57, 3] and led.in_transit == 0
    assert led.balance() == 0
    # everybody back, nobody held or lent
    d, c = r.ctx.dispatcher, r.ctx.command
    assert c is not None
    assert not d.busy.any() and d.n_held == 0 and c.n_lent == 0 and not c.staying
    summary = summarize(r, "test")
    assert (summary["premoved_people"], summary["premoved_units"]) == (2, 3)
    lent_h = summary["command_transfers"]["lent_person_hours"]
    assert lent_h == round(2 * (back_s - WARN_S - t) / 3600.0, 3)


def test_short_moves_take_what_there_is() -> None:
    """Five asked of grid 1's three members, 80 sandbags of grid 0's 60: all three go, all 60
    go, both logged short; a team sent where no post stands turns straight back."""
    moves = [Move("team", 1, 0, people=5), Move("stock", 0, 1, item="sandbag", units=80)]
    r, _, _ = _run(CommandConfig(), moves)
    rows = _rows(r, "premove_depart")
    assert "(2 of 5 not free)" in rows[0][3] and "(20 of 80 not in stock)" in rows[1][3]
    s = summarize(r, "test")
    assert (s["premoved_people"], s["premoved_units"]) == (3, 60)
    assert r.ctx.supply.ledger.balance() == 0
    # grid 1 is never warned: a team sent there arrives and drives home at once
    r2, _, freed = _run(CommandConfig(), [Move("team", 0, 1, people=1)])
    t = _road_s(r2)
    assert r2.ctx.command is not None
    assert not r2.ctx.dispatcher.busy.any() and r2.ctx.command.n_lent == 0
    assert not freed  # (member 0 of grid 0 went: only grid 1's are watched)
    assert [x for x, e, _, _ in _rows(r2, "premove_arrive")] == pytest.approx([WARN_S + t],
                                                                               abs=1e-4)


def test_no_moves_leave_the_run_as_it_was() -> None:
    """Without moves (none given, or an empty plan's) the run is the same, event for event."""
    s = _two_grids(CommandConfig(township_transfer=True))
    a, b = simulate(s), simulate(s, moves=())
    assert a.ctx.log.sorted_rows() == b.ctx.log.sorted_rows()
    assert summarize(a, "t") == summarize(b, "t")
    assert a.moves is None and summarize(a, "t")["premoved_people"] == 0


def test_a_move_naming_a_missing_grid_or_warning_is_a_user_error() -> None:
    s = _two_grids(CommandConfig())
    with pytest.raises(UserError, match="grid 7"):
        simulate(s, moves=[Move("team", 7, 0, people=1)])
    with pytest.raises(UserError, match="warning 3"):
        simulate(s, moves=[Move("team", 1, 0, people=1, warning=3)])


# -- the planner -------------------------------------------------------------------------------
def _brute(src, dst, res, gain, supply, demand, max_arcs=0) -> float:
    best = -math.inf
    ranges = [range(min(supply[k, i], demand[k, j]) + 1)
              for i, j, k in zip(src, dst, res, strict=True)]
    for combo in itertools.product(*ranges):
        x = np.array(combo)
        if max_arcs and np.count_nonzero(x) > max_arcs:
            continue
        ok = True
        for k, i in itertools.product(range(supply.shape[0]), range(supply.shape[1])):
            ok &= x[(res == k) & (src == i)].sum() <= supply[k, i]
            ok &= x[(res == k) & (dst == i)].sum() <= demand[k, i]
        if ok:
            best = max(best, float(np.dot(x, gain)))
    return best


@pytest.mark.parametrize("max_arcs", [0, 1, 2, 3])
def test_the_transport_problem_is_optimal(max_arcs: int) -> None:
    """A tiny two-resource instance against brute-force enumeration of every integer flow."""
    src = np.array([0, 0, 1, 1, 0, 1])
    dst = np.array([2, 3, 2, 3, 3, 2])
    res = np.array([0, 0, 0, 0, 1, 1])
    gain = np.array([0.9, 0.4, 0.7, 0.65, 0.3, 0.5])
    supply = np.array([[2, 2, 0, 0], [1, 2, 0, 0]])
    demand = np.array([[0, 0, 3, 2], [0, 0, 1, 2]])
    sol = transport(src, dst, res, gain, supply, demand, max_arcs=max_arcs)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(_brute(src, dst, res, gain, supply, demand,
                                                 max_arcs), abs=1e-9)
    if max_arcs:
        assert np.count_nonzero(sol.flow) <= max_arcs


def test_risk_is_the_rate_times_the_warning_times_its_window() -> None:
    """One grid, 4 incidents a day, a warning of 2 h multiplying the rate by 3 (calm weather):
    4 / 86400 × 3 × 7200 s = 1 incident expected; outside the warned grids the multiplier is 1."""
    s = add_warning(one_grid(2, duration_h=3, rate_per_day=4.0), start_h=0.5, duration_h=2.0)
    w = changed(s.hazard.warnings[0], {"rate_multipliers": {"test": 3.0}})
    s = checked(changed(s, {"hazard.warnings": [w]}))
    sc = build(s)
    assert grid_risk(s, sc, w, np.array([0]), None)[0, 0] == pytest.approx(1.0)
    assert grid_risk(s, sc, w, np.array([], dtype=np.int64), None)[0, 0] == pytest.approx(1 / 3)


@pytest.fixture(scope="module")
def small_storm():
    s, _ = compose_settings(["scenario=small", "hazard=rainstorm", "planning.model=storm"])
    return s, build(s)


@pytest.mark.parametrize("overrides", [[], ["planning.storm_lead_s=240"],
                                       ["planning.storm_sources_per_sink=2",
                                        "planning.storm_radius_s=1800"],
                                       ["planning.storm_max_moves=5",
                                        "planning.storm_keep_share=0.8",
                                        "planning.storm_stock_cover=40"]])
def test_the_plan_moves_up_the_risk_within_the_lead_keeping_the_keeps(small_storm, overrides
                                                                      ) -> None:
    _, sc = small_storm
    s, _ = compose_settings(["scenario=small", "hazard=rainstorm", "planning.model=storm",
                             *overrides])
    plan, summary = plan_storm(s, sc)
    cfg = s.planning
    assert plan.model == "storm" and len(plan.moves) == summary["moves"]
    assert plan.moves, "the small rainstorm has warned grids and spare members nearby"
    if cfg.storm_max_moves:
        assert len(plan.moves) <= cfg.storm_max_moves
    # the run's warnings (scripted then forecast), as the engine lists them
    r = simulate(s, sc, moves=plan.moves)
    warnings = r.settings.hazard.warnings
    graph = sc.roads.time_graph()
    node = np.asarray(sc.roads.grid_node)
    limit = min(cfg.storm_lead_s, cfg.storm_radius_s)
    weather = _weather(s, sc)
    members = np.diff(sc.roster.by_grid_indptr)
    out_people = np.zeros(sc.n_grids, dtype=np.int64)
    out_units = np.zeros((sc.n_grids, len(SUPPLY_ITEMS)), dtype=np.int64)
    for m in plan.moves:
        w = warnings[m.warning]
        wg = sc.region.township_grids(w.townships) if not w.grids else np.array(w.grids)
        assert m.to_grid in wg and m.from_grid != m.to_grid
        risk = grid_risk(s, sc, w, wg, weather).sum(axis=0)
        assert risk[m.from_grid] < risk[m.to_grid]
        t = csgraph.dijkstra(graph, indices=node[m.from_grid])[node[m.to_grid]]
        assert t <= limit + 1e-3
        if m.what == "team":
            out_people[m.from_grid] += m.people
        else:
            out_units[m.from_grid, SUPPLY_ITEMS.index(m.item)] += m.units
    if cfg.storm_sources_per_sink:
        for j in {m.to_grid for m in plan.moves}:
            senders = {m.from_grid for m in plan.moves if m.to_grid == j}
            assert len(senders) <= cfg.storm_sources_per_sink
    keep = np.maximum(cfg.storm_keep_people, np.ceil(cfg.storm_keep_share * members))
    assert (members - out_people >= keep)[out_people > 0].all()
    stock = sc.supplies.grid_stock
    assert (stock - out_units >= np.ceil(cfg.storm_keep_share * stock))[out_units > 0].all()
    out = summarize(r, "t")
    assert out["premoved_people"] <= summary["people"]
    assert r.ctx.supply.ledger.balance() == 0
    if overrides and "planning.storm_stock_cover=40" in overrides:
        assert summary["units"]["sandbag"] + summary["people"] > 0


def _weather(s, sc):
    """The run's weather (the same settings and seed give the same rain)."""
    return build_weather(s, sc, catalogue_from_config(s.catalogue),
                         Streams(s.seed, s.replication))


def test_bad_storm_settings_are_named(small_storm) -> None:
    _, sc = small_storm
    s, _ = compose_settings(["scenario=small", "planning.storm_keep_share=1.5"])
    with pytest.raises(UserError, match=r"planning\.storm_keep_share"):
        plan_storm(s, sc)


def test_road_times_beyond_the_first_search_limit_are_searched_in_full() -> None:
    """The two grids' road time T, with a first search limit below it and above it alike,
    both ways, and × the slowing of the grid driven into."""
    s = _two_grids(CommandConfig())
    sc = build(s)
    roads = sc.roads
    t = float(roads.length_m[0] / roads.speed_mps[0])
    for limit in (1.0, 1e6):
        got = road_times(sc, [(1, 0)], np.array([2.0, 1.0]), limit)
        assert got == pytest.approx({(1, 0): 2.0 * t, (0, 1): t}, abs=1e-4)
