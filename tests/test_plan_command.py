"""``gridsim plan`` in process (gridsim.app.cli.main) on the small scenario: every site model
writes the contract's files with the contract's columns and keys, the objective checks against
the instance it wrote, an instance folder solves to the same objective, the same config gives
the same bytes, and each bad input is one line, exit code 2 and no folder."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import settings_for

from gridsim.app import cli
from gridsim.app.plan_cmd import default_folder
from gridsim.engine import simulation
from gridsim.model.frozen import changed

SMALL = ["scenario=small", "planning.radius_s=60", "planning.p=3"]
SITE_MODELS = ("lscp", "mclp", "pmedian", "pcenter")
CONTRACT_FILES = ("plan.yaml", "plan_sites.csv", "plan_sites.geojson", "plan_summary.json",
                  "instance/demand.csv", "instance/candidates.csv", "instance/travel.csv")
SUMMARY_KEYS = ("model", "objective", "covered_share", "solver", "gap", "iterations", "p",
                "radius_s", "sites", "demand", "status", "bound", "n_demand", "n_candidates",
                "n_pairs")


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _plan(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["plan", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One plan folder per site model (the exact solver)."""
    root = tmp_path_factory.mktemp("plans")
    out = {}
    for model in SITE_MODELS:
        folder = root / model
        assert cli.main(["plan", *SMALL, f"planning.model={model}", "--out", str(folder)]) == 0
        out[model] = folder
    return out


def _open_sets(folder: Path) -> tuple[dict[str, float], dict[str, list[tuple[str, float]]]]:
    """The instance written in ``folder``: weights, and the pairs of each demand point."""
    _, demand = _csv(folder / "instance" / "demand.csv")
    _, travel = _csv(folder / "instance" / "travel.csv")
    weight = {r["id"]: float(r["weight"]) for r in demand}
    pairs: dict[str, list[tuple[str, float]]] = {k: [] for k in weight}
    for r in travel:
        pairs[r["demand_id"]].append((r["candidate_id"], float(r["travel_time_s"])))
    return weight, pairs


@pytest.mark.parametrize("model", SITE_MODELS)
def test_every_contract_file(plans: dict[str, Path], model: str) -> None:
    folder = plans[model]
    for name in CONTRACT_FILES:
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "plan_summary.json").read_text(encoding="utf-8"))
    for key in SUMMARY_KEYS:
        assert key in summary, key
    assert summary["model"] == model and summary["solver"] == "exact"
    assert summary["iterations"] == 1 and summary["status"] == "optimal" and summary["gap"] == 0
    assert summary["radius_s"] == 60
    cols, sites = _csv(folder / "plan_sites.csv")
    assert cols[:3] == ["candidate_id", "x_m", "y_m"]
    assert {"sandbag", "first_aid_kit", "extinguisher", "alarm", "grid"} <= set(cols)
    assert len(sites) == summary["n_open"] and all(r["sandbag"] == "200" for r in sites)
    if model != "lscp":
        assert len(sites) == 3
    assert [c for c in _csv(folder / "instance" / "demand.csv")[0]] == ["id", "weight", "x_m",
                                                                         "y_m"]
    assert _csv(folder / "instance" / "candidates.csv")[0] == ["id", "x_m", "y_m", "cost"]
    tcols, travel = _csv(folder / "instance" / "travel.csv")
    assert tcols == ["demand_id", "candidate_id", "travel_time_s"]
    assert len(travel) == summary["n_pairs"]
    # plan.yaml names the chosen grids, the GeoJSON has one point per site at its x, y
    yaml_text = (folder / "plan.yaml").read_text(encoding="utf-8")
    grids = ", ".join(r["grid"] for r in sites)
    assert f"grids: [{grids}]" in yaml_text and f"model: {model}" in yaml_text
    geo = json.loads((folder / "plan_sites.geojson").read_text(encoding="utf-8"))
    assert [f["geometry"]["coordinates"] for f in geo["features"]] == [
        [float(r["x_m"]), float(r["y_m"])] for r in sites]
    # the objective and covered share, recomputed from the instance files by hand
    weight, pairs = _open_sets(folder)
    chosen = {r["candidate_id"] for r in sites}
    best = {d: min((t for c, t in ps if c in chosen), default=math.inf)
            for d, ps in pairs.items()}
    total = sum(weight.values())
    covered = sum(w for d, w in weight.items() if best[d] <= 60)
    assert summary["covered_share"] == pytest.approx(covered / total, rel=1e-12)
    assert sum(float(r["demand_covered"]) for r in sites) == pytest.approx(covered, rel=1e-12)
    want = {"lscp": len(chosen), "mclp": covered,
            "pmedian": sum(w * best[d] for d, w in weight.items() if w > 0),
            "pcenter": max(best[d] for d, w in weight.items() if w > 0)}[model]
    assert summary["objective"] == pytest.approx(want, rel=1e-9)
    if model == "lscp":
        assert covered == total  # LSCP covers every demand point


def test_lscp_beats_no_smaller_cover(plans: dict[str, Path]) -> None:
    """No set of fewer sites covers everything: brute force over the candidates that
    cover... every single-site and (if the LSCP opened 3+) every pair of sites."""
    weight, pairs = _open_sets(plans["lscp"])
    n_open = json.loads((plans["lscp"] / "plan_summary.json").read_text())["n_open"]
    reach: dict[str, set[str]] = {}
    for d, ps in pairs.items():
        for c, t in ps:
            if t <= 60:
                reach.setdefault(c, set()).add(d)
    need = {d for d, w in weight.items() if w > 0}
    cands = sorted(reach)
    if n_open >= 2:
        assert not any(need <= reach[a] for a in cands)
    if n_open >= 3:
        assert not any(need <= reach[a] | reach[b] for i, a in enumerate(cands)
                       for b in cands[i + 1:])


def test_instance_folder_solves_to_the_same_objective(plans: dict[str, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    for model in ("mclp",):
        before = json.loads((plans[model] / "plan_summary.json").read_text(encoding="utf-8"))
        out = tmp_path / model
        code, _, err = _plan([f"planning.instance={plans[model] / 'instance'}",
                                   f"planning.model={model}", "planning.p=3",
                                   "planning.radius_s=60", "--out", str(out)], capsys)
        assert code == 0, err
        after = json.loads((out / "plan_summary.json").read_text(encoding="utf-8"))
        assert after["objective"] == before["objective"]
        assert after["demand"] == "instance" and after["n_pairs"] == before["n_pairs"]
        cols, sites = _csv(out / "plan_sites.csv")
        assert "grid" not in cols and len(sites) == 3
        assert "grids: []" in (out / "plan.yaml").read_text(encoding="utf-8")
        for name in ("demand.csv", "candidates.csv", "travel.csv"):  # the same instance
            assert ((out / "instance" / name).read_bytes()
                    == (plans[model] / "instance" / name).read_bytes())


@pytest.mark.slow  # a few seconds: whole-command runs (the fast lane stays under 3 min)
def test_same_config_same_bytes_and_a_plan_folder_replaced(
        plans: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    # hydra.run.dir is honoured; an earlier plan folder there is replaced whole
    code, stdout, err = _plan([*SMALL, "planning.model=mclp", "planning.solver=heuristic",
                               "hydra.run.dir=here/p"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "here/p/plan_summary.json").read_text())["solver"] == \
        "heuristic"
    code, stdout, err = _plan([*SMALL, "planning.model=mclp", "hydra.run.dir=here/p"], capsys)
    assert code == 0, err
    assert "results: here/p" in stdout and "covered share 覆盖率" in stdout
    for name in CONTRACT_FILES:
        assert (tmp_path / "here/p" / name).read_bytes() == (plans["mclp"] / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "here").iterdir()) == ["p"]  # no temporaries


def test_the_default_folder() -> None:
    s = changed(settings_for("scenario=small"), {"planning.model": "pcenter", "seed": 7})
    assert default_folder(s) == Path("outputs/plans/pcenter-supply_points-seed7")


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("gridsim:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(("args", "words"), [
    (["planning.candidates=4", "planning.p=5"], "planning.p: 5 sites asked of 4 candidates"),
    (["planning.model=lscp", "planning.candidates=3"],
     "infeasible LSCP: demand beyond every candidate's radius of 60 s"),
    (["planning.demand=empty"], "holds no run folders"),
], ids=["p above the candidates", "infeasible lscp", "no runs"])
def test_bad_input_one_line_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], args: list[str],
                                      words: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    code, _, err = _plan([*SMALL, *args, "--out", "out/plan"], capsys)
    assert code == 2
    assert words in _one_line(err), err
    assert not (tmp_path / "out").exists()


def test_candidates_off_the_road_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    real = simulation.build

    def cut(settings):  # type: ignore[no-untyped-def]
        sc = real(settings)
        roads = sc.roads
        gnode = roads.grid_node.copy()
        gnode[[3, 9]] = [roads.n_nodes, roads.n_nodes]  # a node without a link
        return dataclasses.replace(sc, memo={}, roads=dataclasses.replace(
            roads, x_m=np.r_[roads.x_m, 0.0], y_m=np.r_[roads.y_m, 0.0], grid_node=gnode))

    monkeypatch.setattr(simulation, "build", cut)
    monkeypatch.chdir(tmp_path)
    code, _, err = _plan([*SMALL, "--out", "out/plan"], capsys)
    assert code == 2
    assert "candidate sites off the road network (2): grids 3, 9" in _one_line(err)
    assert not (tmp_path / "out").exists()


def test_bad_instance_rows(plans: dict[str, Path], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    inst = tmp_path / "inst"
    inst.mkdir()
    for name in ("demand.csv", "candidates.csv", "travel.csv"):
        (inst / name).write_bytes((plans["mclp"] / "instance" / name).read_bytes())
    with open(inst / "travel.csv", "a", encoding="utf-8") as fh:
        fh.write("0,nowhere,12.5\n")
    n = len((inst / "travel.csv").read_text(encoding="utf-8").splitlines())
    code, _, err = _plan([f"planning.instance={inst}", "planning.p=3", "planning.radius_s=60",
                          "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert (f"travel.csv: line {n}, column candidate_id: 'nowhere' is not an id of "
            "candidates.csv") in _one_line(err)
    assert not (tmp_path / "out").exists()


def test_a_folder_of_other_files_is_not_replaced(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep", encoding="utf-8")
    code, _, err = _plan([*SMALL, "--out", str(tmp_path / "mine")], capsys)
    assert code == 2
    assert "holds files that are not a plan folder's (notes.txt)" in _one_line(err)
    assert "building scenario" not in err  # refused before any work
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


@pytest.mark.slow  # P4's and P5's models simulate storms: several seconds each
@pytest.mark.parametrize("model", ["stock", "storm"])
def test_stock_and_storm_models(model: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip(f"gridsim.planning.{model}")
    code, _, err = _plan(["scenario=small", f"planning.model={model}", "--out",
                               str(tmp_path / model)], capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / model / "plan_summary.json").read_text(encoding="utf-8"))
    assert summary["model"] == model and summary["iterations"] == 1
    for key in ("objective", "covered_share", "solver", "gap"):
        assert key in summary
    table = "plan_stock.csv" if model == "stock" else "plan_moves.csv"
    assert (tmp_path / model / "plan.yaml").is_file() and (tmp_path / model / table).is_file()
    assert not (tmp_path / model / "plan_sites.csv").exists()
