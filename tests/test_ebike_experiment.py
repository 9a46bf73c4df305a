"""The e-bike campaign experiment (experiments/ebike_campaign.yaml) and its report section
(gridsim/experiments/campaign_report.py): the formulas on hand-made tables, against closed forms
worked by hand, not against numbers the code produced."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from gridsim.experiments import campaign_report as cr

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# Clopper-Pearson
# ---------------------------------------------------------------------------------------------
def test_clopper_pearson_at_the_edges_has_closed_forms() -> None:
    # k = 0: the upper limit solves (1 - p)^n = 0.025; k = n: the lower limit solves p^n = 0.025
    for n in (1, 5, 20):
        lo, hi = cr.clopper_pearson(0, n)
        assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-9)
        lo, hi = cr.clopper_pearson(n, n)
        assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / n), rel=1e-9)
    assert cr.clopper_pearson(0, 1) == (0.0, pytest.approx(0.975))


def test_clopper_pearson_limits_are_where_the_binomial_tail_is_two_and_a_half_percent() -> None:
    # the definition: P(X >= k | p_lo) = 0.025 and P(X <= k | p_hi) = 0.025, summed by hand
    k, n = 7, 20

    def tail_ge(p: float) -> float:
        return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k, n + 1))

    def tail_le(p: float) -> float:
        return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(0, k + 1))

    lo, hi = cr.clopper_pearson(k, n)
    assert tail_ge(lo) == pytest.approx(0.025, abs=1e-9)
    assert tail_le(hi) == pytest.approx(0.025, abs=1e-9)
    # symmetry: k of n successes is n - k failures
    lo2, hi2 = cr.clopper_pearson(n - k, n)
    assert (lo2, hi2) == (pytest.approx(1 - hi), pytest.approx(1 - lo))
    assert all(math.isnan(v) for v in cr.clopper_pearson(0, 0))


# ---------------------------------------------------------------------------------------------
# cost per fire averted: Fieller
# ---------------------------------------------------------------------------------------------
def test_cost_per_fire_averted_with_a_fixed_cost_is_the_averted_interval_inverted() -> None:
    averted = np.array([18.0, 20.0, 19.0, 23.0, 15.0])  # mean 19, sd sqrt(8.5)
    cost = np.full(5, 1.9e6)
    r, lo, hi = cr.fieller_ratio(cost, averted)
    h = stats.t.ppf(0.975, 4) * math.sqrt(8.5) / math.sqrt(5)  # the t half-width by hand
    assert r == pytest.approx(1.9e6 / 19)
    assert lo == pytest.approx(1.9e6 / (19 + h)) and hi == pytest.approx(1.9e6 / (19 - h))


def test_cost_per_fire_averted_is_unbounded_when_the_campaign_may_avert_nothing() -> None:
    averted = np.array([3.0, -2.0, 1.0, 0.0, -1.0, 2.0])  # mean 0.5, interval spans 0
    r, lo, hi = cr.fieller_ratio(np.full(6, 1e6), averted)
    assert r == pytest.approx(2e6) and hi == math.inf
    h = stats.t.ppf(0.975, 5) * np.std(averted, ddof=1) / math.sqrt(6)
    assert lo == pytest.approx(1e6 / (0.5 + h))  # the ray starts where the mean's limit is


def test_fieller_limits_solve_the_defining_equation_for_a_varying_numerator() -> None:
    x = np.array([10.0, 12.0, 9.0, 14.0, 11.0, 13.0])
    y = np.array([4.0, 5.0, 4.5, 6.0, 4.0, 5.5])
    r, lo, hi = cr.fieller_ratio(x, y)
    n = len(x)
    vxx, vyy = np.var(x, ddof=1) / n, np.var(y, ddof=1) / n
    vxy = float(np.sum((x - x.mean()) * (y - y.mean())) / (n - 1) / n)
    t2 = stats.t.ppf(0.975, n - 1) ** 2
    for bound in (lo, hi):  # at each limit the pivot is exactly t: the definition, by hand
        lhs = (x.mean() - bound * y.mean()) ** 2
        assert lhs == pytest.approx(t2 * (vxx - 2 * bound * vxy + bound ** 2 * vyy), rel=1e-9)
    assert r == pytest.approx(x.mean() / y.mean()) and lo < r < hi


def test_range90_is_the_fifth_to_ninety_fifth_percentile() -> None:
    assert cr.range90(np.arange(21.0)) == (1.0, 19.0)  # 21 equally spaced values: by hand
    assert all(math.isnan(v) for v in cr.range90([]))


# ---------------------------------------------------------------------------------------------
# the section on a hand-made results table
# ---------------------------------------------------------------------------------------------
def _incidents(path: Path, rows: list[tuple[str, str, float]]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    lines = ["id,hazard,grid,occurred_s,cause"]
    lines += [f"{i},{h},0,{t},{c}" for i, (h, c, t) in enumerate(rows)]
    (path / "incidents.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_indoor_fires_count_only_ebike_fires_of_indoor_cause_before_day_181(
        tmp_path: Path) -> None:
    day = 86400.0
    _incidents(tmp_path, [("ebike_fire", "ebike_indoor", 10 * day),
                          ("ebike_fire", "", 20 * day),              # outdoors
                          ("building_fire", "ebike_indoor", 30 * day),  # not an e-bike fire
                          ("ebike_fire", "ebike_indoor", 181 * day),  # 1 July: too late
                          ("ebike_fire", "ebike_indoor", 180.9 * day)])
    assert cr.indoor_fires_before(tmp_path / "incidents.csv") == 2
    (tmp_path / "old.csv").write_text("id,hazard,occurred_s\n0,ebike_fire,1\n", encoding="utf-8")
    assert cr.indoor_fires_before(tmp_path / "old.csv") is None  # no cause column: unknown
    assert cr.indoor_fires_before(tmp_path / "missing.csv") is None


def test_campaign_rows_pair_by_replication_and_price_each_fire_averted(tmp_path: Path) -> None:
    none_fires, camp_fires = [20, 24, 22, 26], [2, 4, 3, 1]
    indoor_early = [[0, 1, 0, 0], [3, 2, 4, 5]]  # campaign reps 0, 2, 3 have none Jan-Jun
    rows = []
    for name, fires, early, cost in (("ebike_2025", camp_fires, indoor_early[0], 2.1e6),
                                     ("none", none_fires, indoor_early[1], 0.0)):
        for rep, (f, k) in enumerate(zip(fires, early, strict=True)):
            run = f"campaign={name},replication={rep}"
            _incidents(tmp_path / run, [("ebike_fire", "ebike_indoor", 86400.0)] * k)
            rows.append({"run": run, "status": "done", "param.campaign": name, "seed": 2025,
                         "replication": rep, cr.FIRES: f, cr.INDOOR: k, cr.COST: cost,
                         cr.AVERTED: (none_fires[rep] - f) if name != "none" else 0,
                         cr.FIXED: 140 + rep})
    assert cr.applies(rows, ["param.campaign"])
    assert not cr.applies([r for r in rows if r["param.campaign"] != "none"],
                          ["param.campaign"])
    out = {r.campaign: r for r in cr.campaign_rows(rows, tmp_path)}
    c = out["ebike_2025"]
    averted = np.array([18.0, 20.0, 19.0, 25.0])  # none - campaign, replication by replication
    assert c.averted_mean == pytest.approx(20.5) and c.averted_agree == 4
    h = stats.t.ppf(0.975, 3) * np.std(averted, ddof=1) / 2
    assert c.averted_ci == (pytest.approx(20.5 - h), pytest.approx(20.5 + h))
    assert c.cost_per_averted[0] == pytest.approx(2.1e6 / 20.5)
    assert c.cost_per_averted[2] == pytest.approx(2.1e6 / (20.5 - h))
    assert c.zero_half_year == 3
    assert c.zero_half_year_ci == cr.clopper_pearson(3, 4)
    assert c.fires_mean == 2.5 and c.fires_0_7_share == 1.0 and c.fixed_mean == 141.5
    assert out["none"].zero_half_year == 0 and out["none"].fires_mean == 23.0
    targets = {t["target"]: t for t in cr.target_rows(list(out.values()))}
    assert targets["fires_none"]["met"] and targets["fires_none"]["factor"] == 1.0
    assert targets["fires_campaign"]["met"]  # 2.5 in [1.5, 4.5]
    assert targets["fixed_campaign"]["met"]  # 141.5 in [116, 174]
    assert targets["zero_indoor"]["simulated"] == 0.75
    table, _ = cr.write_campaign_csv(list(out.values()), list(targets.values()))
    assert table.splitlines()[0].startswith("campaign,n,cost_cny,fires_mean")
    md = "\n".join(cr.section_markdown(list(out.values()), list(targets.values()), {}))
    assert "电动自行车整治行动" in md and "102,439" in md  # 2.1 M / 20.5, rounded to the yuan


# ---------------------------------------------------------------------------------------------
# the experiment file
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_experiment_file_passes_its_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every variant composed and checked (metric keys, pairs, labels), nothing run."""
    from gridsim.app import hydra_app
    from gridsim.experiments import sweep

    plans: list[sweep.SweepPlan] = []

    def record(plan: sweep.SweepPlan, launch: object) -> int:
        plans.append(plan)
        return 0

    monkeypatch.setattr(sweep, "run_sweep", record)
    path = ROOT / "experiments" / "ebike_campaign.yaml"
    assert hydra_app.experiment_command(path, []) == 0
    assert [p.name for p in plans] == ["ebike_campaign"] and plans[0].total == 80


# ---------------------------------------------------------------------------------------------
# the committed report (reports/ebike_campaign, regenerated by the experiment)
# ---------------------------------------------------------------------------------------------
def _committed(name: str) -> list[dict[str, str]]:
    import csv

    with (ROOT / "reports" / "ebike_campaign" / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_committed_report_holds_the_accounts_fire_counts() -> None:
    """The calibration's check by simulation: 23 fires without the campaign and about 3 with
    it (the account's figures, docs/domain.md), within their bands."""
    met = {t["target"]: t["met"] for t in _committed("campaign_targets.csv")}
    assert met["fires_none"] == "true" and met["fires_campaign"] == "true", met


def test_the_committed_report_prices_each_fire_averted_as_cost_over_mean_averted() -> None:
    """Each campaign's cost per fire averted is its cost over the mean paired difference, and
    the interval's bounds are the cost over the averted interval's (a fixed cost: Fieller's
    interval is the inverted t interval)."""
    for r in _committed("campaign.csv"):
        if r["campaign"] == "none":
            continue
        cost, mean = float(r["cost_cny"]), float(r["averted_mean"])
        lo, hi = float(r["averted_ci95_low"]), float(r["averted_ci95_high"])
        if mean <= 0:  # nothing averted on average: no finite price
            assert r["cost_per_averted_cny"] == "inf"
            continue
        assert float(r["cost_per_averted_cny"]) == pytest.approx(cost / mean, rel=1e-9)
        assert float(r["cost_per_averted_ci95_low"]) == pytest.approx(cost / hi, rel=1e-6)
        if lo > 0:
            assert float(r["cost_per_averted_ci95_high"]) == pytest.approx(cost / lo, rel=1e-6)
        else:
            assert r["cost_per_averted_ci95_high"] == "inf"
