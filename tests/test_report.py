"""``gridsim report``: the tidy table, statistics against an independent computation, paired
differences, replications needed, figures, Markdown and self-contained HTML.

The experiment folders are made by hand (manifests, summaries and per-grid tables with known
numbers, written as runs write them), so that every figure of the report can be checked against
numbers computed here, and no simulation runs.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gridsim.app import cli
from gridsim.experiments.report import build_report, metric_range, required_replications

GRID_XY = [(0.0, 0.0), (800.0, 0.0), (0.0, 800.0), (800.0, 800.0), (1600.0, 400.0)]
# within_5min_share of variant (grid workers per grid) and replication
SHARE = {
    "1": [0.61, 0.66, 0.58, 0.70],
    "2": [0.72, 0.75, 0.69, 0.80],
    "4": [0.83, 0.86, 0.81, None],  # replication 3 failed
}
RESPONSE_P50 = {"1": [240.0, 228.0, 251.0, 233.0], "2": [201.0, 195.0, 210.0, 190.0],
                "4": [170.0, 166.0, 181.0, None]}
PARAM = "scenario.people.grid_workers_per_grid"


def write_run(folder: Path, name: str, overrides: list[str], replication: int,
              summary: dict | None, experiment: dict, error: str = "") -> None:
    run = folder / name
    run.mkdir(parents=True)
    manifest = {"status": "done" if summary is not None else "failed",
                "config_hash": "0" * 64, "seed": 7, "replication": replication,
                "gridsim_version": "0.1.0", "overrides": overrides,
                "started_unix": 1.0, "finished_unix": 2.0, "wall_s": 1.0,
                "error": error or None, "config": {"seed": 7, "experiment": experiment}}
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if summary is None:
        return
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with open(run / "grids.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["grid", "x_m", "y_m", "area_km2", "responded", "within_5min_share"])
        for g, (x, y) in enumerate(GRID_XY):
            share = summary["within_5min_share"]
            w.writerow([g, x, y, 0.1, 2 if g < 4 else 0, share if g < 4 else ""])


def summary_of(variant: str, rep: int) -> dict | None:
    share = SHARE[variant][rep]
    if share is None:
        return None
    return {"incidents": 20 + rep, "responded": 20, "within_5min_share": share,
            "response_time_p50_s": RESPONSE_P50[variant][rep], "switch_latency_p50_s": None,
            "incidents_by_grade": {"I": 0, "II": 1, "III": 5 + rep, "IV": 14},
            "seed": 7, "scenario": "district", "gridsim_version": "0.1.0"}


def make_sweep(folder: Path) -> Path:
    """An experiment folder: 3 variants of grid workers per grid × 4 replications, one of them
    failed."""
    experiment = {"name": "team", "title": "Standby team size 网格力量规模",
                  "metrics": ["within_5min_share", "response_time_p50_s"],
                  "half_width": {"within_5min_share": 0.01}, "relative_half_width": 0.05}
    for variant in SHARE:
        for rep in range(4):
            # folder names sort "replication=10"-style, not in replication order: the report
            # must match runs by replication, not by position
            name = f"replication={3 - rep},{PARAM}={variant}"
            s = summary_of(variant, rep)
            write_run(folder, name, [f"{PARAM}={variant}", f"replication={rep}", "scenario=x"],
                      rep, s, experiment,
                      error="" if s else "ValueError: bad scenario data in grid 4")
    return folder


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweep"))


@pytest.fixture(scope="module")
def report(sweep: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    assert cli.main(["report", str(sweep), "--out", str(out)]) == 0
    return out


def test_results_table_has_one_row_per_run_with_params_seed_replication_and_metrics(
        report: Path) -> None:
    with open(report / "results.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12
    cols = set(rows[0])
    assert {"run", "variant", f"param.{PARAM}", "seed", "replication", "status", "error",
            "wall_s"} <= cols
    summary = summary_of("1", 0)
    assert summary is not None
    for key in summary:  # every summary metric, nested ones flattened
        if isinstance(summary[key], dict):
            assert {f"{key}.{k}" for k in summary[key]} <= cols, key
        else:
            assert key in cols, key
    by = {(r[f"param.{PARAM}"], int(r["replication"])): r for r in rows}
    assert float(by[("2", 1)]["within_5min_share"]) == SHARE["2"][1]
    assert by[("2", 1)]["incidents_by_grade.III"] == "6"
    assert by[("2", 1)]["seed"] == "7"
    assert by[("4", 3)]["status"] == "failed"
    assert by[("4", 3)]["error"] == "ValueError: bad scenario data in grid 4"
    assert by[("4", 3)]["within_5min_share"] == ""
    # the variant: the parameters that differ between runs (scenario=x is the same in all)
    assert {r["variant"] for r in rows} == {f"{PARAM}={v}" for v in SHARE}


def test_parquet_holds_the_same_table_as_the_csv(report: Path) -> None:
    pq = pd.read_parquet(report / "results.parquet")
    cs = pd.read_csv(report / "results.csv", keep_default_na=False, dtype=str)
    assert list(pq.columns) == list(cs.columns)
    assert len(pq) == len(cs) == 12

    def text(v: object) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    for c in pq.columns:
        got = [text(v) for v in pq[c]]
        want = [text(float(v)) if re.fullmatch(r"-?\d+\.\d+", v) else v for v in cs[c]]
        assert got == want, c


def t_interval(x: list[float]) -> tuple[float, float, float, float]:
    a = np.array(x)
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))
    return float(a.mean()), float(a.std(ddof=1)), float(lo), float(hi)


def test_statistics_match_an_independent_student_t_computation(report: Path) -> None:
    with open(report / "statistics.csv", encoding="utf-8", newline="") as f:
        rows = {(r["variant"], r["metric"]): r for r in csv.DictReader(f)}
    for variant, shares in SHARE.items():
        for metric, values in (("within_5min_share", shares),
                               ("response_time_p50_s", RESPONSE_P50[variant])):
            x = [v for v in values if v is not None]
            mean, sd, lo, hi = t_interval(x)
            r = rows[(f"{PARAM}={variant}", metric)]
            assert int(r["n"]) == len(x)
            assert float(r["mean"]) == pytest.approx(mean, rel=1e-12)
            assert float(r["sd"]) == pytest.approx(sd, rel=1e-12)
            assert float(r["ci95_low"]) == pytest.approx(lo, rel=1e-12)
            assert float(r["ci95_high"]) == pytest.approx(hi, rel=1e-12)
            # replications needed for the wanted half-width (0.01 given for the share, else
            # 5 % of the mean)
            h = 0.01 if metric == "within_5min_share" else 0.05 * mean
            assert float(r["wanted_half_width"]) == pytest.approx(h)
            n = int(r["replications_needed"])
            assert stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) <= h
            assert n == 2 or stats.t.ppf(0.975, n - 2) * sd / math.sqrt(n - 1) > h


def test_paired_differences_match_runs_by_replication(report: Path) -> None:
    with open(report / "paired_differences.csv", encoding="utf-8", newline="") as f:
        rows = {(r["variant"], r["baseline"], r["metric"]): r for r in csv.DictReader(f)}
    base = f"{PARAM}=1"
    for variant in ("2", "4"):
        a, b = SHARE[variant], SHARE["1"]
        d = [x - y for x, y in zip(a, b, strict=True) if x is not None]  # common replications
        mean, _, lo, hi = t_interval(d)
        r = rows[(f"{PARAM}={variant}", base, "within_5min_share")]
        assert int(r["n"]) == len(d)
        assert float(r["mean_difference"]) == pytest.approx(mean, rel=1e-12)
        assert float(r["ci95_low"]) == pytest.approx(lo, rel=1e-12)
        assert float(r["ci95_high"]) == pytest.approx(hi, rel=1e-12)
        assert r["significant"] == str(lo > 0 or hi < 0)
    # pairing removes the replication-to-replication noise the variants share: the paired
    # interval is narrower than the difference of two independent ones would be
    r = rows[(f"{PARAM}=2", base, "within_5min_share")]
    assert float(r["sd"]) < np.std(SHARE["2"], ddof=1)


def test_replications_needed_on_a_hand_example() -> None:
    """sd = 10, wanted half-width 5: the normal approximation (1.96·10/5)² = 15.4 says 16, but
    t(0.975, 15)·10/√16 = 2.131·2.5 = 5.33 > 5 and t(0.975, 16)·10/√17 = 5.14 > 5, while
    t(0.975, 17)·10/√18 = 2.110·2.357 = 4.97 ≤ 5: 18 replications."""
    assert required_replications(10.0, 5.0) == 18
    assert required_replications(0.0, 5.0) == 2
    assert math.isnan(required_replications(float("nan"), 5.0))


def test_report_pages_and_figures_carry_chinese_and_english_labels(report: Path) -> None:
    for name in ("metrics.png", "distributions.png", "grid_maps.png"):
        data = (report / "figures" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, name
    md = (report / "report.md").read_text(encoding="utf-8")
    page = (report / "report.html").read_text(encoding="utf-8")
    for text in (md, page):
        for en, zh in (("within 5 minutes", "五分钟到场率"), ("variant", "方案"),
                       ("Paired differences", "配对差异"),
                       ("Replications needed", "所需重复次数"), ("Failed runs", "失败运行")):
            assert en in text and zh in text, (en, zh)
        assert "Student t" in text  # the method is named
        assert "Standby team size 网格力量规模" in text
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (report / link).is_file(), link
    # self-contained: every image inline, nothing fetched from anywhere
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == 3
    # ... but the interactive map, a page of its own beside the report (an iframe and a link)
    local = re.findall(r'(?:src|href)="(?!data:)([^"]*)"', page)
    assert local == ["map.html", "map.html"] and (report / "map.html").is_file(), local


def test_two_parameter_sweep_labels_each_combination(tmp_path: Path) -> None:
    experiment = {"name": "two", "metrics": ["within_5min_share"]}
    for a in ("60", "120"):
        for b in ("180", "300"):
            for rep in range(3):
                s = summary_of("2", rep)
                assert s is not None
                s["within_5min_share"] = 0.5 + int(a) / 1000 + int(b) / 10000 + rep / 100
                write_run(tmp_path / "sweep", f"a={a},b={b},replication={rep}",
                          [f"alert={a}", f"assembly={b}", f"replication={rep}"], rep, s,
                          experiment)
    rep_ = build_report(tmp_path / "sweep")
    # one variant per combination, in numeric order (60 before 120)
    assert rep_.variants == ["alert=60, assembly=180", "alert=60, assembly=300",
                             "alert=120, assembly=180", "alert=120, assembly=300"]
    assert cli.main(["report", str(tmp_path / "sweep"), "--out", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    # keys the label registry does not know and the experiment does not label: each
    # combination named by its keys and values (gridsim.experiments.labels, rule 3)
    assert "| variant 方案 | runs 次数 |" in md
    for a, b in (("60", "180"), ("60", "300"), ("120", "180"), ("120", "300")):
        assert f"| alert={a}, assembly={b} | 3 |" in md
    assert "4 variants 方案: alert ∈ {60, 120} × assembly ∈ {180, 300}" in md


def test_intervals_are_cut_to_the_metric_range_but_paired_differences_are_not(
        tmp_path: Path) -> None:
    """A share near 1 and a count near 0 over four replications: their t intervals cross 1 and
    0, which no mean can; the report cuts them there (the half-width stays the t one)."""
    experiment = {"name": "cut", "metrics": ["within_5min_share", "escalations"]}
    shares = {"a": [1.0, 0.97, 1.0, 1.0], "b": [0.9, 0.85, 0.95, 0.9]}
    counts = {"a": [0, 0, 1, 0], "b": [3, 4, 2, 5]}
    for v in shares:
        for rep in range(4):
            write_run(tmp_path, f"v={v},replication={rep}", [f"v={v}", f"replication={rep}"],
                      rep, {"within_5min_share": shares[v][rep],
                            "escalations": counts[v][rep]}, experiment)
    rep = build_report(tmp_path)
    st = {(s["variant"].removeprefix("v="), s["metric"]): s for s in rep.statistics}
    for metric, values, bound in (("within_5min_share", shares["a"], "ci95_high"),
                                  ("escalations", counts["a"], "ci95_low")):
        _, _, lo, hi = t_interval(values)
        s = st[("a", metric)]
        assert (hi > 1.0) if bound == "ci95_high" else (lo < 0.0)  # the t interval crosses
        assert s[bound] == (1.0 if bound == "ci95_high" else 0.0)
        other = "ci95_low" if bound == "ci95_high" else "ci95_high"
        assert s[other] == pytest.approx(lo if other == "ci95_low" else hi, rel=1e-12)
        assert s["half_width"] == pytest.approx((hi - lo) / 2, rel=1e-12)
        # variant b is inside the range: its interval is the plain t one
        _, _, lo_b, hi_b = t_interval(shares["b"] if metric == "within_5min_share"
                                      else counts["b"])
        assert st[("b", metric)]["ci95_low"] == pytest.approx(lo_b, rel=1e-12)
        assert st[("b", metric)]["ci95_high"] == pytest.approx(hi_b, rel=1e-12)
    # differences may be negative: not cut
    d = next(p for p in rep.paired if p["metric"] == "escalations")
    diffs = [a - b for a, b in zip(counts[d["variant"].removeprefix("v=")],
                                   counts[d["baseline"].removeprefix("v=")], strict=True)]
    assert d["ci95_low"] == pytest.approx(t_interval(diffs)[2], rel=1e-12)
    # a metric of one's own with a negative value has no range to cut to
    assert metric_range("my_metric", np.array([-1.0, 2.0])) == (-math.inf, math.inf)
    assert metric_range("my_share", np.array([0.2, 1.5])) == (-math.inf, math.inf)
    assert metric_range("responder_utilization", np.array([0.01])) == (0.0, 1.0)
