"""Plans in runs (gridsim.planning.plan_io, gridsim.planning.apply, ``gridsim run plan=DIR``).

A plan applied to a run changes exactly what it names: each test compares the applied
scenario's arrays with the original's, changed where the plan says (stock levels to the
values it gives, supply-point hubs by the units they add) and equal everywhere else, and
checks that a run starts from them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from gridsim.app import cli
from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import build, simulate
from gridsim.errors import UserError
from gridsim.model.params import RunConfig
from gridsim.model.people import ALL_CATEGORIES, role_bit
from gridsim.model.plan import Move, Plan, Sites, StockLevel
from gridsim.model.validate import validate
from gridsim.model.vocab import DEPARTMENTS, SUPPLY_ITEMS
from gridsim.output.run_folder import input_files, inputs_digest
from gridsim.planning.apply import apply_plan, planned_scenario
from gridsim.planning.plan_io import check_plan, plan_files, read_plan, write_plan
from tests.conftest import settings_for

FAST = ("scenario=small", "duration_h=2", "output.progress=false", "output.figures=false")
SANDBAG, ALARM = SUPPLY_ITEMS.index("sandbag"), SUPPLY_ITEMS.index("alarm")


def _settings(plan: Path | None = None) -> RunConfig:
    s = settings_for(*FAST)
    return s if plan is None else dataclasses.replace(s, plan=str(plan))


def _full_plan() -> Plan:
    return Plan(model="mclp", name="hubs 枢纽",
                sites=Sites(kind="supply_points", grids=(3, 17, 40),
                            holds=(("sandbag", 200), ("first_aid_kit", 0))),
                stock=(StockLevel("grid", 5, "alarm", 7), StockLevel("depot", 1, "sandbag", 999),
                       StockLevel("grid", 17, "sandbag", 55)),
                moves=(Move("team", 1, 2, people=3, warning=0),
                       Move("stock", 4, 6, item="sandbag", units=20, warning=1)))


# ----------------------------------------------------------------------------------------------
# plan.yaml
# ----------------------------------------------------------------------------------------------
def test_round_trip_and_bytes(tmp_path: Path) -> None:
    plan = _full_plan()
    written = write_plan(plan, tmp_path / "a")
    assert sorted(p.name for p in written) == ["plan.yaml", "plan_moves.csv", "plan_stock.csv"]
    assert read_plan(tmp_path / "a") == plan
    assert read_plan(tmp_path / "a" / "plan.yaml") == plan  # the file itself
    write_plan(plan, tmp_path / "b")
    for p in written:  # the same plan, the same bytes
        assert (tmp_path / "b" / p.name).read_bytes() == p.read_bytes()
    assert plan_files(tmp_path / "a") == [tmp_path / "a" / n for n in
                                          ("plan.yaml", "plan_stock.csv", "plan_moves.csv")]
    for posts in (Plan("mclp", sites=Sites("posts", (0, 9), holds=(("people", 4),))),
                  Plan("lscp", sites=Sites("stations", (), department="medical",
                                           holds=(("units", 2),))),
                  Plan("storm")):
        write_plan(posts, tmp_path / posts.model)
        assert read_plan(tmp_path / posts.model) == posts
        assert plan_files(tmp_path / posts.model) == [tmp_path / posts.model / "plan.yaml"]


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "named"), [
    ("gridsim_plan: 1\nmodel: mclp\ncolour: red\n", "colour: unknown key"),
    ("gridsim_plan: 1\nmodel: mclp\nsites: {kind: hubs, grids: [1]}\n", "sites.kind"),
    ("gridsim_plan: 1\nmodel: mclp\nsites: {kind: supply_points, grids: [1], size: 3}\n",
     "sites.size: unknown key"),
    ("gridsim_plan: 1\nmodel: mclp\nsites: {kind: supply_points, grids: [1],"
     " holds: {gold: 3}}\n", "sites.holds.gold"),
    ("gridsim_plan: 1\nmodel: mclp\nsites: {kind: supply_points, grids: [1, -2]}\n",
     "sites.grids"),
    ("gridsim_plan: 1\nmodel: mclp\nsites: {kind: supply_points, grids: [4, 4]}\n",
     "more than once: [4]"),
    ("gridsim_plan: 1\nmodel: mclp\nsites: {kind: supply_points, grids: [1],"
     " holds: {sandbag: -5}}\n", "sites.holds.sandbag: must be an integer >= 0"),
    ("gridsim_plan: 1\nmodel: mclp\nsites: {kind: stations, grids: [1],"
     " holds: {units: 2}}\n", "sites.department"),
    ("gridsim_plan: 1\nmodel: mclp\nsites: {kind: posts, grids: [1]}\n", "how many people"),
    ("gridsim_plan: 2\nmodel: mclp\n", "gridsim_plan"),
    ("gridsim_plan: 1\nmodel: kmeans\n", "model: must be one of"),
    ("gridsim_plan: 1\nmodel: stock\nstock: levels.csv\n", "stock: names 'levels.csv'"),
    ("[1, 2]\n", "expected a mapping"),
])
def test_bad_plan_yaml_is_named(tmp_path: Path, text: str, named: str) -> None:
    path = _yaml(tmp_path, text)
    with pytest.raises(UserError) as err:
        read_plan(tmp_path)
    message = "\n".join(err.value.lines)
    assert named in message
    assert str(path) in message  # the file is named


@pytest.mark.parametrize(("table", "named"), [
    ("site,id,item,units\ngrid,3,gold,5\n", "line 2: item: expected one of"),
    ("site,id,item,units\ngrid,3,alarm,5\ngrid,3,alarm,6\n", "line 3: grid 3 alarm is set "
     "twice (also line 2)"),
    ("site,id,item,units\nshop,3,alarm,5\n", "line 2: site"),
    ("site,id,item,units\ngrid,3,alarm,-1\n", "line 2: units: expected an integer >= 0"),
    ("site,id,item,units\ngrid,x,alarm,1\n", "line 2: id"),
    ("site,id,item\ngrid,3,alarm\n", "line 1: the header must be site,id,item,units"),
    ("site,id,item,units\ngrid,3,alarm\n", "line 2: expected 4 cells"),
])
def test_bad_stock_table_is_named(tmp_path: Path, table: str, named: str) -> None:
    _yaml(tmp_path, "gridsim_plan: 1\nmodel: stock\nstock: plan_stock.csv\n")
    (tmp_path / "plan_stock.csv").write_text(table, encoding="utf-8")
    with pytest.raises(UserError) as err:
        read_plan(tmp_path)
    message = "\n".join(err.value.lines)
    assert f"{tmp_path / 'plan_stock.csv'}: {named}" in message


def test_bad_moves_table_is_named(tmp_path: Path) -> None:
    _yaml(tmp_path, "gridsim_plan: 1\nmodel: storm\nmoves: plan_moves.csv\n")
    (tmp_path / "plan_moves.csv").write_text(
        "what,from_grid,to_grid,people,item,units,warning\nstock,1,2,0,,5,0\n"
        "bus,1,2,3,,0,0\nteam,1,2,3,,0,-1\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        read_plan(tmp_path)
    assert [line.split(": ", 1)[1] for line in err.value.lines] == [
        "line 2: item: a stock move needs one of alarm, extinguisher, first_aid_kit, "
        "sandbag, got ''",
        "line 3: what: expected one of team, stock, got 'bus'",
        "line 4: warning: expected an integer >= 0, got -1"]


def test_missing_plan_and_missing_table(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such plan folder"):
        read_plan(tmp_path / "nowhere")
    with pytest.raises(UserError, match=r"holds no plan\.yaml"):
        read_plan(tmp_path)
    # in validation, before a run starts: under the key plan, naming the path
    errors = validate(_settings(tmp_path / "nowhere"))
    assert errors == [f"plan: no such plan folder or plan.yaml: {tmp_path / 'nowhere'} "
                      "(give a folder written by gridsim plan, or its plan.yaml)"]
    write_plan(_full_plan(), tmp_path / "p")
    (tmp_path / "p" / "plan_moves.csv").unlink()
    with pytest.raises(UserError) as err:
        read_plan(tmp_path / "p")
    assert err.value.lines == [f"{tmp_path / 'p' / 'plan.yaml'}: moves: names "
                               f"'plan_moves.csv', but there is no such file: "
                               f"{tmp_path / 'p' / 'plan_moves.csv'}"]
    assert any(e.startswith("plan: ") and "plan_moves.csv" in e
               for e in validate(_settings(tmp_path / "p")))


def test_unknown_grids_townships_items(tmp_path: Path) -> None:
    scenario = build(_settings())
    n, n_town = scenario.n_grids, scenario.region.hierarchy.n_townships
    plan = Plan("mclp", sites=Sites("supply_points", (1, n, n + 5), holds=(("sandbag", 2),)),
                stock=(StockLevel("depot", n_town, "alarm", 3), StockLevel("grid", 2, "gold", 1)),
                moves=(Move("team", n + 1, 0, people=1),))
    problems = check_plan(plan, scenario)
    assert problems == [
        f"plan sites.grids: grids {n}, {n + 5} are not grids of the scenario (0..{n - 1})",
        "plan stock: items 'gold' are not supply items; expected alarm, extinguisher, "
        "first_aid_kit, sandbag",
        f"plan stock: townships {n_town} are not townships of the scenario (0..{n_town - 1})",
        f"plan moves: grids {n + 1} are not grids of the scenario (0..{n - 1})"]
    with pytest.raises(UserError) as err:
        apply_plan(plan, scenario)
    assert err.value.lines[1:] == problems
    # through a run: refused before time 0, and in validation for a synthetic scenario
    write_plan(dataclasses.replace(plan, stock=plan.stock[:1]), tmp_path)
    with pytest.raises(UserError) as err:
        simulate(_settings(tmp_path))
    assert f"grids {n}, {n + 5} are not grids" in "\n".join(err.value.lines)
    assert validate(_settings(tmp_path)) == [
        f"plan: {tmp_path} names grids {n}, {n + 1}, {n + 5} that scenario 'small' lacks "
        f"(grid ids 0..{n - 1})"]
    assert check_plan(_full_plan(), scenario) == []


# ----------------------------------------------------------------------------------------------
# applying
# ----------------------------------------------------------------------------------------------
def _initial_stock(settings: RunConfig) -> tuple[np.ndarray, np.ndarray, RunContext]:
    seen: list[tuple[np.ndarray, np.ndarray, RunContext]] = []

    def observe(ctx: RunContext) -> None:
        led = ctx.supply.ledger
        seen.append((led.stock.copy(), led.depot.copy(), ctx))

    simulate(settings, observe=observe)
    return seen[0]


def test_supply_points_and_stock_set_exactly_what_is_named(tmp_path: Path) -> None:
    base = build(_settings())
    plan = _full_plan()
    applied = apply_plan(plan, base)
    want_g = np.array(base.supplies.grid_stock, dtype=np.int64)
    want_d = np.array(base.supplies.depot_stock, dtype=np.int64)
    for g in (3, 17, 40):  # the hubs: their holds added to the grid's own stock (200 sandbags
        want_g[g, SANDBAG] += 200  # more, no first-aid kit more), the rest as before
    want_g[5, ALARM] = 7  # then the stock levels, the last word: exactly what they say
    want_g[17, SANDBAG] = 55
    want_d[1, SANDBAG] = 999
    assert np.array_equal(applied.supplies.grid_stock, want_g)
    assert np.array_equal(applied.supplies.depot_stock, want_d)
    changed = np.argwhere(applied.supplies.grid_stock != base.supplies.grid_stock)
    assert {int(g) for g, _ in changed} <= {3, 5, 17, 40}
    # the rest of the place is the scenario's own, and the scenario is not touched
    for part in ("region", "roads", "roster", "stations", "station_times", "depot_time_s"):
        assert getattr(applied, part) is getattr(base, part)
    assert not applied.supplies.grid_stock.flags.writeable
    # a run of plan=DIR starts from those levels (the ledger's initial stock and targets)
    write_plan(dataclasses.replace(plan, moves=()), tmp_path)  # (moves: gridsim.engine.moves)
    stock, depot, ctx = _initial_stock(_settings(tmp_path))
    assert np.array_equal(stock, want_g)
    assert np.array_equal(depot, want_d)
    assert np.array_equal(ctx.supply.ledger.target_level, want_g)
    assert ctx.scenario is planned_scenario(tmp_path, base)[0]  # applied once, reused
    assert planned_scenario(tmp_path, ctx.scenario)[0] is ctx.scenario  # not applied twice


def test_a_hub_adds_to_a_grid_and_never_lowers_its_stock() -> None:
    """A supply-point site is a new supply point beside the grid's own: a hub holding fewer
    units than the grid already has (1 sandbag, 0 alarms) leaves it with its stock plus those
    units, never the hub's alone; a grid without any stock of an item gets exactly the hub's."""
    base = build(_settings())
    own = np.asarray(base.supplies.grid_stock)
    stocked = int(np.flatnonzero(own[:, SANDBAG] > 1)[0])
    plan = Plan("mclp", sites=Sites("supply_points", (stocked,),
                                    holds=(("sandbag", 1), ("alarm", 0))))
    got = np.asarray(apply_plan(plan, base).supplies.grid_stock)
    assert got[stocked, SANDBAG] == own[stocked, SANDBAG] + 1 > 1
    assert got[stocked, ALARM] == own[stocked, ALARM]
    bare = dataclasses.replace(base, supplies=dataclasses.replace(
        base.supplies, grid_stock=np.zeros_like(own)))
    got = np.asarray(apply_plan(plan, bare).supplies.grid_stock)
    assert got[stocked, SANDBAG] == 1 and got.sum() == 1


def test_stations_are_added_with_their_times() -> None:
    base = build(_settings())
    d = DEPARTMENTS.index("medical")
    have = set(base.stations.grid[base.stations.department == d].tolist())
    grids = tuple(g for g in (0, 11, 33, 52) if g not in have)[:2]
    applied = apply_plan(Plan("mclp", sites=Sites("stations", grids, department="medical",
                                                  holds=(("units", 3),))), base)
    st, n0 = applied.stations, base.stations.n
    assert st.n == n0 + len(grids)
    for name in ("department", "grid", "units"):
        assert np.array_equal(getattr(st, name)[:n0], getattr(base.stations, name))
    assert st.department[n0:].tolist() == [d] * len(grids)
    assert st.grid[n0:].tolist() == list(grids)
    assert st.units[n0:].tolist() == [3] * len(grids)
    times = applied.station_times
    for i, g in enumerate(grids):  # the new station is the nearest to its own grid, at 0 s
        assert int(times.station[d, g, 0]) == n0 + i
        assert float(times.time_s[d, g, 0]) == 0.0
    # every grid's nearest medical station is no farther than before; other departments equal
    assert np.all(times.time_s[d, :, 0] <= base.station_times.time_s[d, :, 0])
    for other in range(len(DEPARTMENTS)):
        if other != d:
            assert np.array_equal(times.station[other], base.station_times.station[other])
            assert np.array_equal(times.time_s[other], base.station_times.time_s[other])
    assert applied.roster is base.roster and applied.supplies is base.supplies


def test_duty_posts_add_members_to_their_grids() -> None:
    base = build(_settings())
    grids, per = (4, 20), 5
    applied = apply_plan(Plan("mclp", sites=Sites("posts", grids, holds=(("people", per),))),
                         base)
    r0, r = base.roster, applied.roster
    added = np.zeros(base.n_grids, dtype=np.int64)
    added[list(grids)] = per
    assert np.array_equal(r.count_by_grid(), r0.count_by_grid() + added)
    assert np.array_equal(r.by_grid_indptr, np.concatenate([[0], np.cumsum(r.count_by_grid())]))
    new = np.zeros(r.n, dtype=bool)
    gx, gy = base.region.grids.x_m, base.region.grids.y_m
    for g in grids:  # the duty members come after the grid's own people
        members = np.arange(r.by_grid_indptr[g + 1] - per, r.by_grid_indptr[g + 1])
        new[members] = True
        assert r.grid[members].tolist() == [g] * per
        assert r.roles[members].tolist() == [role_bit("grid_worker")] * per
        assert r.categories[members].tolist() == [ALL_CATEGORIES] * per
        assert r.x_m[members].tolist() == [gx[g]] * per and r.y_m[members].tolist() == [gy[g]] * per
        assert not r.away_in_work_hours[members].any()
    for name in ("grid", "roles", "categories", "x_m", "y_m", "away_in_work_hours"):
        assert np.array_equal(getattr(r, name)[~new], getattr(r0, name)), name
    assert applied.stations is base.stations and applied.supplies is base.supplies


def test_runs_dispatch_from_planned_stations_and_posts(tmp_path: Path) -> None:
    base = build(_settings())
    plan = Plan("mclp", sites=Sites("stations", (8, 9), department="fire",
                                    holds=(("units", 4),)))
    write_plan(plan, tmp_path / "st")
    *_, ctx = _initial_stock(_settings(tmp_path / "st"))
    assert [r.capacity for r in ctx.units.resources] == [*base.stations.units.tolist(), 4, 4]
    assert ctx.units._ids["fire"][-2:] == [base.stations.n, base.stations.n + 1]
    assert ctx.travel is not None
    assert ctx.travel.stations is ctx.scenario.station_times  # the rebuilt times
    write_plan(Plan("mclp", sites=Sites("posts", (8,), holds=(("people", 6),))), tmp_path / "p")
    *_, ctx = _initial_stock(_settings(tmp_path / "p"))
    assert len(ctx.dispatcher.busy) == base.roster.n + 6 == ctx.scenario.roster.n


def test_empty_plan_changes_nothing(tmp_path: Path) -> None:
    base = build(_settings())
    for plan in (Plan("mclp"), Plan("mclp", sites=Sites("supply_points", ())),
                 Plan("storm", moves=(Move("team", 1, 2, people=1),))):
        assert apply_plan(plan, base) is base


# ----------------------------------------------------------------------------------------------
# gridsim run plan=DIR
# ----------------------------------------------------------------------------------------------
OUTPUTS = ("summary.json", "incidents.csv", "events.csv", "grids.csv")


def _run(folder: Path, *args: str, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.chdir(folder)
    capsys.readouterr()
    code = cli.main(["run", *FAST, *args])
    return code, capsys.readouterr().err


@pytest.mark.slow  # a few seconds: whole-command runs (the fast lane stays under 3 min)
def test_run_with_plan_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    write_plan(Plan("mclp"), tmp_path / "empty")
    write_plan(dataclasses.replace(_full_plan(), moves=()), tmp_path / "full")  # (moves: P5)
    runs = {}
    for name, extra in (("none", ()), ("empty", ("plan=empty",)),
                        ("full", ("plan=full",))):
        code, err = _run(tmp_path, *extra, f"hydra.run.dir=out_{name}",
                         monkeypatch=monkeypatch, capsys=capsys)
        assert code == 0, err
        runs[name] = {f: (tmp_path / f"out_{name}" / f).read_bytes() for f in OUTPUTS}
    assert runs["empty"] == runs["none"]  # an empty plan: byte-identical results
    # the plan's files are the run's inputs: a changed plan reruns
    s = _settings(tmp_path / "full")
    files = input_files(s)
    assert files == [tmp_path / "full" / "plan.yaml", tmp_path / "full" / "plan_stock.csv"]
    before = inputs_digest(files)
    (tmp_path / "full" / "plan_stock.csv").write_text("site,id,item,units\ngrid,5,alarm,8\n",
                                                     encoding="utf-8")
    assert inputs_digest(input_files(s)) != before
    # a missing plan: refused before the run, naming plan and the path, no run folder
    code, err = _run(tmp_path, "plan=nowhere", "hydra.run.dir=out_missing",
                     monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    assert "plan: no such plan folder or plan.yaml: nowhere" in err
    assert not (tmp_path / "out_missing").exists()
