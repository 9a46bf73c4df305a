"""The simulation-optimisation loop of ``gridsim plan`` (``planning.iterations=N``,
gridsim.planning.loop) on the small scenario, a short heavy rainstorm and 3 replications: one
history record and one ``iterations/<k>/`` folder per iteration; iteration k's weights are the
documented rule applied to iteration k−1's weights and to its runs, recounted here from the
same runs (incidents read one by one, the supply ledger); the outcome and the baseline are
recounted too; iteration 1 is exactly a plain ``gridsim plan``; the loop stops when a plan
repeats; the same config gives the same bytes; bad loop keys are one line, exit 2."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from conftest import settings_for
from scipy import stats

from gridsim.app import cli
from gridsim.engine.simulation import build, simulate
from gridsim.model.params import RunConfig
from gridsim.model.vocab import SUPPLY_ITEMS
from gridsim.planning.apply import apply_plan
from gridsim.planning.loop import ci95, reweight
from gridsim.planning.plan_io import read_plan

R = 3
HOLD = 2  # held-out replications R..R+HOLD-1
BASE = ["scenario=small", "hazard=rainstorm", "hazard.rate_scale=30", "duration_h=36",
        f"planning.replications={R}"]
#: supply points by p-median: the weights move the plan (reweighted by shortages, auto)
SUPPLY = [*BASE, "planning.model=pmedian", "planning.p=3", "planning.sites=supply_points"]
#: duty posts (reweighted by late and unmet incidents, auto)
POSTS = [*BASE, "planning.model=pmedian", "planning.p=3", "planning.sites=posts"]
#: MCLP with a 300 s radius: 5 sites cover the small city whatever the weights
REPEATS = [*BASE, "planning.model=mclp", "planning.p=5", "planning.radius_s=300"]


def _plan(args: list[str], folder: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["plan", *args, "--out", str(folder)])
    return code, out.getvalue(), err.getvalue()


def _summary(folder: Path) -> dict:
    return json.loads((folder / "plan_summary.json").read_text(encoding="utf-8"))


def _weights(folder: Path, k: int) -> dict[str, np.ndarray]:
    with open(folder / "iterations" / str(k) / "weights.csv", encoding="utf-8",
              newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [str(g) for g in range(len(rows))]
    return {c: np.array([float(r[c]) for r in rows]) for c in
            ("weight", "late", "unmet", "short_cny")}


@dataclasses.dataclass
class Recount:
    late: np.ndarray  # per grid, summed over the runs
    unmet: np.ndarray
    short_cny: np.ndarray
    late_per_run: np.ndarray
    within_5min: np.ndarray
    rescued: np.ndarray


def _recount(settings: RunConfig, plan_folder: Path | None, first: int = 0, n_runs: int = R
             ) -> Recount:
    """The runs of the loop (replications ``first..first+n_runs-1``), again, counted from the
    incidents and the ledger by hand."""
    scenario = build(settings)
    if plan_folder is not None:
        scenario = apply_plan(read_plan(plan_folder), scenario)
    base = dataclasses.replace(settings, plan=None, output=dataclasses.replace(
        settings.output, events_log=False, counterfactual=False))
    n = scenario.n_grids
    late, unmet, short = np.zeros(n), np.zeros(n), np.zeros((n, len(SUPPLY_ITEMS)))
    per_run, within, rescued = [], [], []
    for r in range(first, first + n_runs):
        res = simulate(dataclasses.replace(base, replication=r), scenario)
        k = 0
        times = []
        for inc in res.incidents:
            on = inc.first_on_scene_s
            if not on <= res.duration_s:  # NaN or inf or after the end: nobody came
                unmet[inc.grid] += 1
                continue
            times.append(on - inc.notified_s)
            if on - inc.notified_s > 300.0:
                late[inc.grid] += 1
                k += 1
        per_run.append(k)
        within.append(np.mean(np.array(times) <= 300.0))
        rescued.append(sum(i.people_rescued for i in res.incidents))
        short += res.ctx.supply.ledger.own_short
    cost = np.array([settings.planning.unit_cost_cny[it] for it in SUPPLY_ITEMS], dtype=float)
    return Recount(late, unmet, short @ cost, np.array(per_run, float), np.array(within),
                   np.array(rescued, float))


def _rule(w: np.ndarray, c: np.ndarray, lam: float, total: float) -> np.ndarray:
    if c.sum() == 0:
        return w
    return total * (w / w.sum() + lam * c / c.sum()) / (1 + lam)


@pytest.fixture(scope="module")
def supply_loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("loop") / "supply"
    code, _, err = _plan([*SUPPLY, "planning.iterations=3", f"planning.holdout={HOLD}"], folder)
    assert code == 0, err
    return folder, err


def test_one_record_and_one_folder_per_iteration(supply_loop: tuple[Path, str]) -> None:
    folder, err = supply_loop
    s = _summary(folder)
    n = s["iterations"]
    assert 2 <= n <= 3 and len(s["history"]) == n
    assert [h["iteration"] for h in s["history"]] == list(range(1, n + 1))
    assert sorted(p.name for p in (folder / "iterations").iterdir()) == [str(k) for k in
                                                                         range(1, n + 1)]
    for k in range(1, n + 1):
        for name in ("plan.yaml", "plan_sites.csv", "weights.csv"):
            assert (folder / "iterations" / str(k) / name).is_file()
    # the final plan is the last iteration's; its grids are the record's
    last = folder / "iterations" / str(n)
    assert (folder / "plan.yaml").read_bytes() == (last / "plan.yaml").read_bytes()
    assert (folder / "plan_sites.csv").read_bytes() == (last / "plan_sites.csv").read_bytes()
    sites = read_plan(folder).sites
    assert sites is not None and list(sites.grids) == s["history"][-1]["grids"]
    assert s["loop"]["reweight_by"] == "shortages"  # auto, for supply points
    assert "left" in err  # progress with the time left


def test_weights_follow_the_rule_from_recounted_runs(supply_loop: tuple[Path, str]) -> None:
    folder, _ = supply_loop
    s = _summary(folder)
    settings = settings_for(*SUPPLY)
    population = build(settings).region.grids.population.astype(float)
    w1 = _weights(folder, 1)
    assert np.array_equal(w1["weight"], population)  # iteration 1: planning.demand=residents
    total = population.sum()
    # the baseline: runs with no plan on the same replications
    base = _recount(settings, None)
    bo = s["baseline"]["outcome"]
    assert bo["late_incidents"]["mean"] == pytest.approx(base.late_per_run.mean(), abs=1e-12)
    assert bo["within_5min_share"]["mean"] == pytest.approx(base.within_5min.mean(), abs=1e-6)
    for k in range(2, s["iterations"] + 1):
        prev = _weights(folder, k - 1)
        runs = _recount(settings, folder / "iterations" / str(k - 1))
        assert np.array_equal(prev["late"], runs.late)
        assert np.array_equal(prev["unmet"], runs.unmet)
        np.testing.assert_allclose(prev["short_cny"], runs.short_cny, rtol=0, atol=1e-9)
        assert runs.short_cny.sum() > 0
        expected = _rule(prev["weight"], runs.short_cny, 1.0, total)
        np.testing.assert_allclose(_weights(folder, k)["weight"], expected, rtol=1e-12, atol=0)
        assert _weights(folder, k)["weight"].sum() == pytest.approx(total, rel=1e-12)
        # the record of iteration k-1: its outcome and its pairing with the baseline
        rec = s["history"][k - 2]
        assert rec["outcome"]["people_rescued"]["mean"] == pytest.approx(runs.rescued.mean())
        assert rec["outcome"]["within_5min_share"]["mean"] == pytest.approx(
            runs.within_5min.mean(), abs=1e-6)
        d = runs.late_per_run - base.late_per_run
        paired = rec["paired_with_baseline"]["late_incidents"]
        assert paired["mean"] == pytest.approx(d.mean(), abs=1e-12)
        if d.std(ddof=1) > 0:
            h = stats.t.ppf(0.975, R - 1) * d.std(ddof=1) / math.sqrt(R)
            assert paired["ci95_high"] == pytest.approx(d.mean() + h, rel=1e-9)


def test_iteration_one_is_a_plain_plan(supply_loop: tuple[Path, str],
                                       tmp_path: Path) -> None:
    folder, _ = supply_loop
    code, _, err = _plan(SUPPLY, tmp_path / "plain")
    assert code == 0, err
    plain = _summary(tmp_path / "plain")
    assert plain["iterations"] == 1 and "history" not in plain
    first = folder / "iterations" / "1"
    for name in ("plan.yaml", "plan_sites.csv"):
        assert (tmp_path / "plain" / name).read_bytes() == (first / name).read_bytes()
    assert _summary(folder)["history"][0]["objective"] == plain["objective"]


def test_held_out_replications_are_recorded_not_reweighted_by(
        supply_loop: tuple[Path, str]) -> None:
    folder, _ = supply_loop
    s = _summary(folder)
    assert s["loop"]["holdout"] == HOLD
    settings = settings_for(*SUPPLY)
    base = _recount(settings, None, first=R, n_runs=HOLD)
    held = s["baseline"]["holdout"]["outcome"]
    assert held["late_incidents"]["n"] == HOLD
    assert held["people_rescued"]["mean"] == pytest.approx(base.rescued.mean())
    last = s["history"][-1]
    runs = _recount(settings, folder / "iterations" / str(last["iteration"]), R, HOLD)
    ho = last["holdout"]
    assert ho["outcome"]["within_5min_share"]["mean"] == pytest.approx(
        runs.within_5min.mean(), abs=1e-6)
    assert ho["paired_with_baseline"]["people_rescued"]["mean"] == pytest.approx(
        (runs.rescued - base.rescued).mean())
    # (the weights test recounts replications 0..R-1 only: the held-out runs feed no weight)


@pytest.mark.slow  # a second loop: about 8 s
def test_same_config_same_bytes(supply_loop: tuple[Path, str], tmp_path: Path) -> None:
    folder, _ = supply_loop
    code, _, err = _plan([*SUPPLY, "planning.iterations=3", f"planning.holdout={HOLD}"],
                         tmp_path / "again")
    assert code == 0, err
    names = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(tmp_path / "again")
                           for p in (tmp_path / "again").rglob("*") if p.is_file())
    for name in names:
        assert (folder / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


@pytest.mark.slow  # a loop of posts and its recount: about 10 s
def test_posts_reweighted_by_late_and_unmet_incidents(tmp_path: Path) -> None:
    folder = tmp_path / "posts"
    code, _, err = _plan([*POSTS, "planning.iterations=2", "planning.reweight=0.5"], folder)
    assert code == 0, err
    s = _summary(folder)
    assert s["loop"]["reweight_by"] == "incidents" and s["loop"]["reweight"] == 0.5
    settings = settings_for(*POSTS)
    w1 = _weights(folder, 1)
    runs = _recount(settings, folder / "iterations" / "1")
    c = runs.late + runs.unmet
    assert c.sum() > 0
    np.testing.assert_allclose(_weights(folder, 2)["weight"],
                               _rule(w1["weight"], c, 0.5, w1["weight"].sum()),
                               rtol=1e-12, atol=0)


def test_stops_when_the_plan_repeats(tmp_path: Path) -> None:
    folder = tmp_path / "repeats"
    code, _, err = _plan([*REPEATS, "planning.iterations=4"], folder)
    assert code == 0, err
    s = _summary(folder)
    assert s["iterations"] == 2 and s["loop"]["stopped"] == "repeated"
    first, second = s["history"]
    assert second["repeats"] == 1 and first["repeats"] is None
    assert second["grids"] == first["grids"]
    assert second["outcome"] == first["outcome"]  # the same runs: not simulated again
    assert sorted(p.name for p in (folder / "iterations").iterdir()) == ["1", "2"]


def test_reweight_by_hand() -> None:
    w = np.array([1.0, 3.0])
    np.testing.assert_array_equal(reweight(w, np.array([1.0, 0.0]), 1.0, 4.0), [2.5, 1.5])
    np.testing.assert_array_equal(reweight(w, np.array([0.0, 2.0]), 3.0, 8.0),
                                  [8 * 0.25 / 4, 8 * (0.75 + 3.0) / 4])
    np.testing.assert_array_equal(reweight(w, np.zeros(2), 1.0, 4.0), w)  # nothing late


def test_ci95_by_hand() -> None:
    got = ci95(np.array([1.0, 2.0, 3.0, math.nan]))
    t = 0.95 / math.sqrt(2 * 0.975 * 0.025)  # t(0.975) of 2 degrees: (2p-1)/sqrt(2p(1-p))
    h = t / math.sqrt(3)  # x sd 1 / sqrt(3)
    assert got["n"] == 3 and got["mean"] == 2.0
    assert got["ci95_low"] == pytest.approx(2 - h, rel=1e-9)
    assert got["ci95_high"] == pytest.approx(2 + h, rel=1e-9)
    assert math.isnan(ci95(np.array([5.0]))["ci95_low"])


@pytest.mark.parametrize(("args", "words"), [
    (["planning.iterations=0"], "planning.iterations"),
    (["planning.iterations=2", "planning.model=stock"], "site models"),
    (["planning.iterations=2", "planning.instance=/nonexistent"], "planning.instance"),
    (["planning.reweight=-1"], "planning.reweight"),
    (["planning.reweight_by=deaths"], "planning.reweight_by"),
    (["planning.holdout=-1"], "planning.holdout"),
])
def test_bad_loop_keys(args: list[str], words: str, tmp_path: Path) -> None:
    code, _, err = _plan(["scenario=small", *args], tmp_path / "bad")
    assert code == 2
    assert words in err and not (tmp_path / "bad").exists()
