"""Site-model instances from a scenario (gridsim.planning.build) and the instance/ folder
(gridsim.planning.instance_io): pairs against a brute-force Dijkstra, weights against their
sources, incident counts against a count by hand, and every row of a read instance checked."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import settings_for

from gridsim.app import cli
from gridsim.engine.simulation import build
from gridsim.errors import UserError
from gridsim.model.frozen import changed
from gridsim.model.vocab import GRID_KINDS
from gridsim.planning.build import (
    candidate_grids,
    demand_weights,
    from_scenario,
    incident_counts,
    off_network,
    search_radius,
)
from gridsim.planning.checks import planning_errors
from gridsim.planning.instance import Instance
from gridsim.planning.instance_io import read_instance, write_instance

SMALL = ("scenario=small", "output.figures=false", "output.progress=false")


def _settings(*extra: str):  # type: ignore[no-untyped-def]
    return settings_for(*SMALL, *extra)


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return build(_settings())


def _brute_pairs(scenario, cands: np.ndarray, radius: float) -> dict[tuple[int, int], float]:  # type: ignore[no-untyped-def]
    """(demand grid, candidate grid) -> time, by networkx's Dijkstra from each candidate on the
    whole road graph, cut off at the radius."""
    roads = scenario.roads
    g = nx.Graph()
    g.add_nodes_from(range(roads.n_nodes))
    for u, v, length, speed in zip(roads.edge_u.tolist(), roads.edge_v.tolist(),
                                   roads.length_m.tolist(), roads.speed_mps.tolist(),
                                   strict=True):
        t = length / speed
        if g.has_edge(u, v):
            t = min(t, g[u][v]["t"])
        g.add_edge(u, v, t=t)
    grids_at: dict[int, list[int]] = {}
    for grid, node in enumerate(roads.grid_node.tolist()):
        grids_at.setdefault(node, []).append(grid)
    out = {}
    for c in cands.tolist():
        dist = nx.single_source_dijkstra_path_length(g, int(roads.grid_node[c]), cutoff=radius,
                                                     weight="t")
        for node, t in dist.items():
            for d in grids_at.get(node, []):
                out[d, c] = t
    return out


@pytest.mark.parametrize("extra", [{"radius_s": 90.0},
                                   {"radius_s": 60.0, "candidates": 12}],
                         ids=["every grid a candidate", "12 candidates"])
def test_pairs_equal_a_brute_force_dijkstra(scenario, extra: dict[str, float]) -> None:  # type: ignore[no-untyped-def]
    s = changed(_settings(), {f"planning.{k}": v for k, v in extra.items()})
    inst = from_scenario(s, scenario)
    radius = s.planning.radius_s
    assert inst.radius_s == radius
    cands = np.array([int(c) for c in inst.candidate_ids])
    want = _brute_pairs(scenario, cands, radius)
    rows = inst.rows()
    got = {(int(inst.demand_ids[r]), int(inst.candidate_ids[c])): t
           for r, c, t in zip(rows.tolist(), inst.cand.tolist(), inst.time_s.tolist(),
                              strict=True)}
    assert set(got) == set(want)
    for k, t in want.items():
        assert got[k] == pytest.approx(t, rel=1e-6, abs=1e-3), k  # stored as float32
    assert 0 < inst.nnz < inst.n_demand * inst.n_candidates  # sparse: not every pair
    # each row sorted by time
    for i in range(inst.n_demand):
        row = inst.time_s[inst.indptr[i]:inst.indptr[i + 1]]
        assert np.all(np.diff(row) >= 0)


def test_the_two_searches_agree(scenario) -> None:  # type: ignore[no-untyped-def]
    """Every grid a candidate (near_travel_times from every grid) and a subset (the search
    from the candidates only): the same pairs with the same times, bit for bit."""
    s = changed(_settings(), {"planning.radius_s": 120.0})
    every = from_scenario(s, scenario)
    some = from_scenario(changed(s, {"planning.candidates": 20}), scenario)
    keep = set(some.candidate_ids)

    def pairs(inst: Instance, only: set[str] | None = None) -> dict[tuple[str, str], float]:
        return {(inst.demand_ids[r], inst.candidate_ids[c]): t
                for r, c, t in zip(inst.rows().tolist(), inst.cand.tolist(),
                                   inst.time_s.tolist(), strict=True)
                if only is None or inst.candidate_ids[c] in only}

    assert pairs(every, keep) == pairs(some)
    assert len(pairs(some)) > 20


def test_search_radius_of_the_assignment_models() -> None:
    s = changed(_settings(), {"planning.radius_s": 200.0})
    assert search_radius(changed(s, {"planning.model": "mclp"})) == 200
    assert search_radius(changed(s, {"planning.model": "lscp"})) == 200
    assert search_radius(changed(s, {"planning.model": "pmedian"})) == 800
    assert search_radius(changed(s, {"planning.model": "pcenter",
                                     "planning.search_radius_s": 500.0})) == 500


def test_residents_and_exposures_weights(scenario) -> None:  # type: ignore[no-untyped-def]
    grids = scenario.region.grids
    s = _settings()
    assert s.planning.demand == "residents"
    w = demand_weights(s, scenario)
    assert w.tolist() == [float(p) for p in grids.population.tolist()]
    s = changed(s, {"planning.demand": "exposures", "hazard.rate_scale": 2.5})
    w = demand_weights(s, scenario)
    # by hand: each hazard's rate per unit of its exposure, for the grid's kind, times the
    # grid's exposure, summed over the catalogue, times the rate scale
    want = np.zeros(grids.n)
    for hc in s.catalogue.hazards.values():
        per_unit = hc.rate_per_unit_day or hc.rate_per_grid_day
        units = grids.exposure(hc.exposure)
        for g in range(grids.n):
            want[g] += per_unit.get(GRID_KINDS[int(grids.kind[g])], 0.0) * units[g]
    np.testing.assert_allclose(w, want * 2.5, rtol=1e-12)
    assert w.sum() > 0


def test_candidates_by_weight_ties_by_index() -> None:
    w = np.array([5.0, 9.0, 5.0, 1.0, 9.0, 5.0])
    assert candidate_grids(w, 3).tolist() == [0, 1, 4]  # 9, 9, then the first 5
    assert candidate_grids(w, 0).tolist() == list(range(6))
    assert candidate_grids(w, 10).tolist() == list(range(6))


def test_candidates_off_the_road_network(scenario) -> None:  # type: ignore[no-untyped-def]
    roads = scenario.roads
    n = roads.n_nodes
    gnode = roads.grid_node.copy()
    gnode[[5, 17]] = [n, n + 1]  # two new nodes without a link
    cut = dataclasses.replace(roads, x_m=np.r_[roads.x_m, 0.0, 1.0],
                              y_m=np.r_[roads.y_m, 0.0, 1.0], grid_node=gnode)
    off = dataclasses.replace(scenario, roads=cut, memo={})
    assert off_network(off, np.arange(scenario.n_grids)) == [5, 17]
    with pytest.raises(UserError, match=r"off the road network \(2\): grids 5, 17"):
        from_scenario(_settings(), off)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small rainstorm run with a few late incidents."""
    folder = tmp_path_factory.mktemp("runs") / "run"
    code = cli.main(["run", *SMALL, "hazard=rainstorm", "duration_h=24", "hazard.rate_scale=100",
                     f"hydra.run.dir={folder}"])
    assert code == 0
    return folder


def _by_hand(path: Path, end_s: float, n: int) -> tuple[list[int], list[int]]:
    late, unmet = [0] * n, [0] * n
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            g = int(row["grid"])
            on = row["first_on_scene_s"]
            if on == "" or float(on) > end_s:
                unmet[g] += 1
            elif float(on) - float(row["notified_s"]) > 300:
                late[g] += 1
    return late, unmet


def test_late_and_unmet_of_a_run_and_a_sweep(run_folder: Path, tmp_path: Path,
                                             scenario) -> None:  # type: ignore[no-untyped-def]
    n = scenario.n_grids
    counts = incident_counts(run_folder, n)
    late, unmet = _by_hand(run_folder / "incidents.csv", 24 * 3600.0, n)
    assert counts.late.tolist() == late and counts.unmet.tolist() == unmet
    # and against the run's own metrics: responded = incidents - unmet, late = the responded
    # share not within five minutes
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["incidents"] - counts.unmet.sum() == summary["responded"]
    assert counts.late.sum() == round(summary["responded"] * (1 - summary["within_5min_share"]))
    assert counts.late.sum() > 0
    # a sweep: the run as it is, and a copy with two incidents unmet (one never reached, one
    # reached after the end of the run); a folder without a done manifest is not a run
    sweep = tmp_path / "sweep"
    shutil.copytree(run_folder, sweep / "a")
    shutil.copytree(run_folder, sweep / "b")
    (sweep / "c").mkdir()
    (sweep / "c" / "manifest.json").write_text('{"status": "running"}', encoding="utf-8")
    inc = sweep / "b" / "incidents.csv"
    rows = list(csv.reader(inc.open(encoding="utf-8", newline="")))
    col = rows[0].index("first_on_scene_s")
    rows[1][col] = ""
    rows[2][col] = repr(24 * 3600.0 + 1)
    with inc.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    both = incident_counts(sweep, n)
    lb, ub = _by_hand(inc, 24 * 3600.0, n)
    assert both.late.tolist() == [a + b for a, b in zip(late, lb, strict=True)]
    assert both.unmet.tolist() == [a + b for a, b in zip(unmet, ub, strict=True)]
    assert sum(ub) == sum(unmet) + 2
    assert [p.name for p in both.runs] == ["a", "b"]
    w = demand_weights(changed(_settings(), {"planning.demand": str(sweep)}), scenario)
    assert w.tolist() == [float(a + b) for a, b in zip(both.late, both.unmet, strict=True)]


def test_demand_folders_refused(run_folder: Path, tmp_path: Path, scenario) -> None:  # type: ignore[no-untyped-def]
    n = scenario.n_grids
    with pytest.raises(UserError, match="holds no run folders"):
        incident_counts(tmp_path, n)
    with pytest.raises(UserError, match="neither residents, exposures nor a folder"):
        incident_counts(tmp_path / "absent", n)
    other = tmp_path / "other"
    shutil.copytree(run_folder, other)
    lines = (other / "grids.csv").read_text(encoding="utf-8").splitlines()
    (other / "grids.csv").write_text("\n".join(lines[:11]) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=f"has 10 grids, the scenario {n}"):
        incident_counts(other, n)
    (other / "grids.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    inc = other / "incidents.csv"
    text = inc.read_text(encoding="utf-8").splitlines()
    head = text[0].split(",")
    cells = text[1].split(",")
    cells[head.index("notified_s")] = "soon"
    inc.write_text("\n".join([text[0], ",".join(cells)]) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"incidents.csv: line 2, column notified_s: expected a "
                                        r"number, got 'soon'"):
        incident_counts(other, n)


# ----------------------------------------------------------------------------------------------
# the instance folder
# ----------------------------------------------------------------------------------------------
def _tiny() -> Instance:
    return Instance.from_pairs(
        demand_ids=["a", "b", "c"], weight=[1.0, 2.5, 0.0],
        demand_xy=[[0.0, 0.0], [10.0, 0.1], [20.0, 1 / 3]],
        candidate_ids=["x", "y"], candidate_xy=[[0.0, 1.0], [20.0, 2.0]], cost=[1.0, 2.0],
        demand_index=[0, 1, 1, 2], candidate_index=[0, 0, 1, 1],
        time_s=[5.0, 7.25, 9.0, 0.1 + 0.2], radius_s=30.0)


def test_instance_round_trip(tmp_path: Path) -> None:
    inst = _tiny()
    files = write_instance(inst, tmp_path / "i")
    assert [f.name for f in files] == ["demand.csv", "candidates.csv", "travel.csv",
                                       "instance.json"]
    assert (tmp_path / "i" / "travel.csv").read_text(encoding="utf-8").splitlines() == [
        "demand_id,candidate_id,travel_time_s", "a,x,5.0", "b,x,7.25", "b,y,9.0",
        f"c,y,{0.1 + 0.2!r}"]
    back = read_instance(tmp_path / "i")
    for f in ("demand_ids", "candidate_ids", "radius_s"):
        assert getattr(back, f) == getattr(inst, f)
    for f in ("weight", "demand_xy", "candidate_xy", "cost", "indptr", "cand", "time_s"):
        assert np.array_equal(getattr(back, f), getattr(inst, f)), f
    # a third party's instance without instance.json: the radius is the largest time
    (tmp_path / "i" / "instance.json").unlink()
    assert read_instance(tmp_path / "i").radius_s == 9.0


@pytest.mark.parametrize(("file", "edit", "words"), [
    ("travel.csv", lambda t: t + "q,x,3\n",
     "travel.csv: line 6, column demand_id: 'q' is not an id of demand.csv"),
    ("travel.csv", lambda t: t + "a,z,3\n",
     "travel.csv: line 6, column candidate_id: 'z' is not an id of candidates.csv"),
    ("travel.csv", lambda t: t + "a,x,4\n",
     "travel.csv: line 6: the pair (a, x) is listed twice (first on line 2)"),
    ("travel.csv", lambda t: t.replace("7.25", "-1"),
     "travel.csv: line 3, column travel_time_s: expected a number >= 0, got '-1'"),
    ("travel.csv", lambda t: t.replace("7.25", "fast"),
     "travel.csv: line 3, column travel_time_s: expected a finite number, got 'fast'"),
    ("demand.csv", lambda t: t.replace("b,2.5", "a,2.5"),
     "demand.csv: line 3, column id: duplicate id 'a' (first on line 2)"),
    ("demand.csv", lambda t: t.replace("2.5", "-2.5"),
     "demand.csv: line 3, column weight: expected a number >= 0, got '-2.5'"),
    ("candidates.csv", lambda t: t.replace("id,x_m,y_m,cost", "id,x_m,y,cost"),
     "candidates.csv: line 1: missing column(s) y_m"),
    ("candidates.csv", lambda t: t.replace(",2.0\n", ",nan\n"),
     "candidates.csv: line 3, column cost: expected a finite number, got 'nan'"),
    ("instance.json", lambda t: t.replace("30.0", "8.0"),
     "radius_s 8 is below the largest travel time 9 of travel.csv"),
], ids=["unknown demand id", "unknown candidate id", "duplicate pair", "negative time",
        "not a number", "duplicate id", "negative weight", "missing column", "nan cost",
        "radius below the pairs"])
def test_bad_instance_rows(tmp_path: Path, file: str, edit, words: str) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "i"
    write_instance(_tiny(), folder)
    path = folder / file
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(UserError) as info:
        read_instance(folder)
    assert len(info.value.lines) == 1
    assert words in info.value.lines[0], info.value.lines[0]


def test_missing_instance_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is not a folder"):
        read_instance(tmp_path / "none")
    write_instance(_tiny(), tmp_path / "i")
    (tmp_path / "i" / "travel.csv").unlink()
    with pytest.raises(UserError, match=r"cannot read .*travel.csv \(it is missing\)"):
        read_instance(tmp_path / "i")


def test_planning_range_checks() -> None:
    s = _settings()
    assert planning_errors(s) == []
    bad = changed(s, {"planning": dataclasses.replace(
        s.planning, model="tsp", solver="guess", sites="towers", department="army", p=0,
        radius_s=-1.0, time_limit_s=0.0, candidates=-2, search_radius_s=math.inf,
        holds={"posts": {"cars": 1}, "stations": {"units": -1}, "towers": {}})})
    errors = planning_errors(bad)
    for key in ("planning.model", "planning.solver", "planning.sites", "planning.department",
                "planning.p", "planning.radius_s", "planning.time_limit_s",
                "planning.candidates", "planning.search_radius_s", "planning.holds.posts.cars",
                "planning.holds.stations.units", "planning.holds.towers"):
        assert sum(e.startswith(key + ":") for e in errors) == 1, (key, errors)
    short = changed(s, {"planning.search_radius_s": 100.0})
    assert planning_errors(short) == [
        "planning.search_radius_s: must be 0 (derived) or at least planning.radius_s (300), "
        "got 100"]
