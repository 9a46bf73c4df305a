"""The report's plain-language findings (gridsim.experiments.headlines) and its figures'
readability: points with intervals for discrete levels, no "best"/"worst" without a significant
paired difference, and legends that hide no data (evacuation figures and report figures).

The headline numbers are checked against hand-worked conversions (seconds / 60, shares × 100)
of paired differences given here; the sweeps are hand-made (tests/test_report.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from scipy import stats

from gridsim.experiments import report_output
from gridsim.experiments.headlines import amount, headline
from gridsim.experiments.report import best_and_worst, build_report, findings

FOUR, ONE = ("4 drills a year", "每年演练4次"), ("1 drill a year", "每年演练1次")


def pair(mean: float, lo: float, hi: float, n: int = 20) -> dict:
    return {"mean_difference": mean, "ci95_low": lo, "ci95_high": hi, "n": n}


def test_a_faster_clearance_reads_in_minutes_with_the_interval_in_the_word_s_direction() -> None:
    # clearance 720 s shorter, interval [-960, -480] s: "12 min faster [8, 16]"
    h = headline("clearance_time_s", FOUR, ONE, pair(-720.0, -960.0, -480.0))
    assert h.en == "4 drills a year instead of 1 drill a year: clearance 12 min faster [8, 16]"
    assert h.zh == "每年演练4次相比每年演练1次：清空时间快12分钟 [8, 16]"
    assert h.verdict == "better"


def test_counts_shares_and_money_take_their_own_words() -> None:
    assert headline("deaths", FOUR, ONE, pair(-3.0, -5.0, -1.0)).en.endswith(
        "3.0 fewer deaths [1.0, 5.0]")
    rescued = headline("people_rescued", FOUR, ONE, pair(12.0, 8.0, 16.0))
    assert rescued.en.endswith("12 more people rescued [8, 16]") and rescued.verdict == "better"
    share = headline("within_5min_share", FOUR, ONE, pair(-0.021, -0.03, -0.012))
    assert share.en.endswith("share reached within 5 minutes 2.1 points lower [1.2, 3.0]")
    assert share.zh.endswith("五分钟到场率下降2.1个百分点 [1.2, 3.0]") and share.verdict == "worse"
    money = headline("losses_cny", FOUR, ONE, pair(-250_000.0, -300_000.0, -200_000.0))
    assert money.en.endswith("direct losses 250,000 CNY lower [200,000, 300,000]")
    # no better direction: a significant difference is "different", neither better nor worse
    assert headline("incidents", FOUR, ONE, pair(2.0, 1.0, 3.0)).verdict == "different"


def test_an_interval_spanning_zero_is_no_clear_difference() -> None:
    h = headline("clearance_time_s", FOUR, ONE, pair(-30.0, -90.0, 30.0))
    assert h.verdict == "unclear"
    assert h.en.endswith("no clear difference in clearance (−0.5 min [−1.5, 0.5])")
    assert "清空时间无明显差异" in h.zh
    same = headline("deaths", FOUR, ONE, pair(0.0, 0.0, 0.0))
    assert same.verdict == "unclear" and "the same in every paired replication" in same.en
    few = headline("deaths", FOUR, ONE, pair(1.0, float("nan"), float("nan"), n=1))
    assert few.verdict == "unknown" and "n = 1" in few.en


def test_amounts_share_their_decimals() -> None:
    assert amount([-720.0, -960.0, -480.0], "s") == ["−12", "−16", "−8"]
    assert amount([0.004, 0.002, 0.006], "share") == ["0.40", "0.20", "0.60"]
    assert amount([0.3, 0.1, 0.5], "count") == ["0.30", "0.10", "0.50"]


def test_the_report_opens_with_one_finding_per_metric_for_the_extreme_pair(tmp_path) -> None:
    from test_report import PARAM, RESPONSE_P50, SHARE, make_sweep

    rep = build_report(make_sweep(tmp_path / "sweep"))
    heads = findings(rep)
    assert [h.metric for h in heads] == rep.metrics
    # 4 grid workers per grid against 1, paired over replications 0-2 (3 failed in "4")
    d = np.array(RESPONSE_P50["4"][:3]) - np.array(RESPONSE_P50["1"][:3])
    assert heads[1].en.startswith("4 grid workers per grid instead of 1 grid worker per grid: ")
    h = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    lo, hi = (-d.mean() - h) / 60, (-d.mean() + h) / 60
    assert f"{-d.mean() / 60:.1f} min faster [{lo:.1f}, {hi:.1f}]" in heads[1].en
    d = np.array(SHARE["4"][:3]) - np.array(SHARE["1"][:3])
    assert f"{100 * d.mean():.0f} points higher" in heads[0].en
    assert PARAM not in heads[0].en  # plain names, no config key


def test_best_and_worst_only_with_a_significant_paired_difference(tmp_path) -> None:
    from test_report import make_sweep

    rep = build_report(make_sweep(tmp_path / "sweep"))
    got = best_and_worst(rep, "within_5min_share")
    assert got is not None and got[2]["significant"]
    assert got[0].endswith("=4") and got[1].endswith("=1")
    # the same variants with noise far above the difference: nobody is best or worst
    for r in rep.rows:
        if r.get("status") == "done":
            r["within_5min_share"] += 0.5 * (-1) ** int(r["replication"]) * (
                1 if r["variant"].endswith("=4") else -1)
    rep.statistics = [dict(s) for s in rep.statistics]
    assert best_and_worst(rep, "within_5min_share") is None
    panels, verdict = report_output.grid_map_panels(rep)
    assert [t for _, t in panels] == ["variant", "baseline"]
    assert verdict.startswith("no significant difference between variants")


def _overlaps(fig, legend) -> list[str]:
    r = fig.canvas.get_renderer()
    box = legend.get_window_extent(r)
    return [ax.get_title() for ax in fig.axes
            if ax.get_label() != "<colorbar>" and box.overlaps(ax.get_window_extent(r))]


def test_report_figures_draw_points_with_intervals_and_keep_legends_off_the_data(
        tmp_path, monkeypatch) -> None:
    from test_report import make_sweep

    figs = []
    # the figures themselves, with their fonts (as _save gives them), instead of PNGs
    monkeypatch.setattr(report_output, "_save",
                        lambda fig, path: (report_output.apply_fonts(fig), figs.append(fig)))
    rep = build_report(make_sweep(tmp_path / "sweep"))
    report_output.fig_metrics(rep, tmp_path / "m.png")
    assert report_output.fig_grid_maps(tmp_path / "sweep", rep, tmp_path / "g.png")
    metrics, maps = figs
    for ax in metrics.axes:
        # no line joins two levels, no band: markers only
        joined = [ln for ln in ax.get_lines() if ln.get_linestyle() not in ("None", "none", "")
                  and len(ln.get_xdata()) > 2]
        assert not joined, [ln.get_xdata() for ln in joined]
        assert not [c for c in ax.collections if isinstance(c, PolyCollection)
                    and type(c).__name__ == "FillBetweenPolyCollection"]
        assert any(isinstance(ln, Line2D) and ln.get_marker() == "o" for ln in ax.get_lines())
    for fig in (metrics, maps):
        fig.canvas.draw()
        assert fig.legends and not _overlaps(fig, fig.legends[0])


@pytest.fixture(scope="module")
def evacuation():
    from handmade import settings_for

    from gridsim.evacuation import evacuate
    from gridsim.model.streams import Streams
    from gridsim.place.scenario import build_scenario

    s = settings_for("scenario=small", "output.progress=false")
    sc = build_scenario(s.scenario)
    res = evacuate(sc, sc.region.township_grids([2]), s.evacuation, Streams(11),
                   start_s=3600.0 * 30)
    return res, sc


def test_evacuation_legends_hide_no_data(evacuation, tmp_path: Path) -> None:
    from gridsim.evacuation.figures import bottleneck_map, evacuation_curve

    res, sc = evacuation
    for fig in (evacuation_curve(res, tmp_path / "c.png", 60.0, title="t"),
                bottleneck_map(res, sc, tmp_path / "b.png", 10, title="t")):
        fig.canvas.draw()
        legend = fig.axes[0].get_legend()
        labels = [t.get_text() for t in legend.get_texts()]
        assert not _overlaps(fig, legend), labels
    curve = evacuation_curve(res, tmp_path / "c.png", 60.0)
    assert "sheltered 已安置" in [t.get_text() for t in curve.axes[0].get_legend().get_texts()]
