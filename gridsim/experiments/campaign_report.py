"""The e-bike campaign's section of an experiment report (电动自行车整治行动, issue 14).

Added by :func:`gridsim.experiments.report_output.write_report` to the report of any experiment
that sweeps ``campaign`` with a ``none`` variant (``experiments/ebike_campaign.yaml``), before
the generic findings. Per variant, from the runs' ``summary.json`` (the report's rows) and each
run's ``incidents.csv``:

* **e-bike fires** (``incidents_by_hazard.ebike_fire``): mean and the 90 % range over
  replications, the 5th to the 95th percentile (numpy's linear interpolation between order
  statistics), and the share of replications with 0-7 fires (the account's ~3 with the
  campaign: a Poisson count of mean 3 lies in 0-7 with probability 0.996);
* **fires averted** against ``none``, paired by replication (common random numbers):
  d_r = fires(none)_r − fires(variant)_r, mean ± t(0.975, n−1)·s/√n; beside it the runs' own
  ``incidents_averted.ebike_fire`` (the same run's arrivals with ``campaign=none``, no
  response): the two agree replication by replication when the response does not feed back
  into the arrivals, which the section checks and says;
* **cost per fire averted** (元/起): R = mean cost / mean averted, its 95 % interval by
  Fieller's theorem on the paired means (:func:`fieller_ratio`): the R with
  (c̄ − R·ā)² ≤ t²·(v_cc − 2R·v_ca + R²·v_aa), v the variances of the means. A campaign's
  cost does not vary by replication, so this is [c / (ā + t·s_a/√n), c / (ā − t·s_a/√n)]:
  the t interval of the mean averted, inverted; unbounded above when that interval reaches 0
  (the campaign may avert nothing);
* **P(no indoor e-bike fire January-June)**: the share of replications whose ``incidents.csv``
  has no ``ebike_fire`` with ``cause`` ``ebike_indoor`` and ``occurred_s`` < 181 days
  (1 January - 30 June: 31+28+31+30+31+30 days), with its Clopper-Pearson 95 % interval
  (:func:`clopper_pearson`: beta quantiles, exact);
* **e-bike hazards fixed** (整改电动车隐患): ``hazards_rectified_by_class.ebike_indoor`` of the
  summary, mean and 90 % range.

Then the **calibration** (模型率定) against the account's figures (:data:`TARGETS`: target,
band, simulated mean and 90 % range, met or not), with the factor that would put each fitted
quantity on its target (1 when it is there): the e-bike rate is refitted on its own as
rate × 23 / mean(none) (e-bike fires are a mixed Poisson count whose mean is proportional to
the catalogue's rate: the loop's multipliers average 1 without a campaign).
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["FIRES", "HALF_YEAR_S", "TARGETS", "CampaignRow", "Target", "applies",
           "campaign_rows", "clopper_pearson", "fieller_ratio", "indoor_fires_before",
           "range90", "section_html", "section_markdown", "target_rows", "write_campaign_csv"]

FIRES = "incidents_by_hazard.ebike_fire"
INDOOR = "ebike_fires_indoor"
AVERTED = "incidents_averted.ebike_fire"
COST = "campaign_cost_cny"
FIXED = "hazards_rectified_by_class.ebike_indoor"
NONE = "none"
CAMPAIGN = "ebike_2025"

#: 1 January - 30 June 2025, in seconds from the run's start (1 January 00:00).
HALF_YEAR_S = 181 * 86400.0


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval of a binomial share k/n: the ``(1-level)/2`` and
    ``(1+level)/2`` quantiles of Beta(k, n-k+1) and Beta(k+1, n-k) (0 when k = 0, 1 when
    k = n); ``(nan, nan)`` for n = 0."""
    if n <= 0:
        return math.nan, math.nan
    a = (1.0 - level) / 2.0
    lo = 0.0 if k <= 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k >= n else float(stats.beta.ppf(1.0 - a, k + 1, n - k))
    return lo, hi


def fieller_ratio(num: Sequence[float] | np.ndarray, den: Sequence[float] | np.ndarray,
                  level: float = 0.95) -> tuple[float, float, float]:
    """``(R, low, high)``: R = mean(num) / mean(den) over paired samples and its Fieller
    interval: the R with (n̄ − R·d̄)² ≤ t²·(v_nn − 2R·v_nd + R²·v_dd), t = t((1+level)/2,
    n−1), v the (co)variances of the two means (sample (co)variances / n). When d̄ is not
    clear of 0 (d̄² ≤ t²·v_dd) the set is unbounded: ``high`` is inf (and ``low`` too when
    the set is the whole line or two rays). NaN for fewer than two pairs or d̄ = 0."""
    x = np.asarray(num, dtype=float)
    y = np.asarray(den, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = len(x)
    if n < 2 or float(y.mean()) == 0.0:
        return math.nan, math.nan, math.nan
    xm, ym = float(x.mean()), float(y.mean())
    r = xm / ym
    cov = np.cov(x, y, ddof=1) / n
    vxx, vxy, vyy = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    t2 = float(stats.t.ppf((1.0 + level) / 2.0, n - 1)) ** 2
    a = ym * ym - t2 * vyy
    b = xm * ym - t2 * vxy
    c = xm * xm - t2 * vxx
    disc = b * b - a * c
    if a <= 0.0:
        # the denominator's interval reaches 0: unbounded (one ray towards the estimate's side,
        # or the whole line)
        if disc < 0.0 or a == 0.0:
            return r, -math.inf, math.inf
        r1, r2 = sorted(((b - math.sqrt(disc)) / a, (b + math.sqrt(disc)) / a))
        return (r, r2, math.inf) if r >= r2 else (r, -math.inf, r1)
    root = math.sqrt(max(disc, 0.0))
    return r, (b - root) / a, (b + root) / a


def range90(x: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """The 5th and 95th percentiles of ``x`` (numpy's linear interpolation); NaN when empty."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(v, [5.0, 95.0])
    return float(lo), float(hi)


def indoor_fires_before(path: Path, until_s: float = HALF_YEAR_S) -> int | None:
    """E-bike fires of a run's ``incidents.csv`` caused by an indoor-charging site
    (``cause`` ``ebike_indoor``) that occurred before ``until_s``; None when the file or its
    ``cause`` column is missing (a run of a version without causes)."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or not {"hazard", "cause", "occurred_s"} <= set(
                    reader.fieldnames):
                return None
            return sum(1 for r in reader if r["hazard"] == "ebike_fire"
                       and r["cause"] == "ebike_indoor" and float(r["occurred_s"]) < until_s)
    except OSError:
        return None


# ----------------------------------------------------------------------------------------------
# the section's rows
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CampaignRow:
    """One variant's campaign figures (NaN where the runs lack the key)."""

    campaign: str
    n: int
    cost_cny: float
    fires_mean: float
    fires_range: tuple[float, float]
    fires_0_7_share: float
    indoor_mean: float
    averted_n: int
    averted_mean: float
    averted_ci: tuple[float, float]
    averted_own_mean: float  # the runs' own incidents_averted.ebike_fire
    averted_agree: int  # replications where it equals the paired difference
    cost_per_averted: tuple[float, float, float]  # R, low, high (元/起)
    zero_half_year: int | None  # replications with no indoor fire January-June
    zero_half_year_ci: tuple[float, float]
    fixed_mean: float
    fixed_range: tuple[float, float]


def applies(rows: Sequence[dict[str, Any]], params: Sequence[str]) -> bool:
    """Whether a report gets the campaign section: it sweeps ``campaign`` and has ``none``."""
    return "param.campaign" in params and any(
        str(r.get("param.campaign")) == NONE for r in rows)


def _num(v: Any) -> float:
    try:
        return float(v) if v is not None and v != "" else math.nan
    except (TypeError, ValueError):
        return math.nan


def _by_rep(rows: Sequence[dict[str, Any]], campaign: str) -> dict[tuple[int, str], dict[str, Any]]:
    return {(int(r.get("replication") or 0), str(r.get("seed"))): r for r in rows
            if str(r.get("param.campaign")) == campaign and r.get("status") == "done"}


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else math.nan


def _t_interval(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return math.nan, math.nan
    h = float(stats.t.ppf(0.975, len(x) - 1)) * float(x.std(ddof=1)) / math.sqrt(len(x))
    m = float(x.mean())
    return m - h, m + h


def campaign_rows(rows: Sequence[dict[str, Any]], folder: Path,
                  order: Sequence[str] | None = None) -> list[CampaignRow]:
    """The section's rows, one per ``campaign`` value (in ``order`` when given), from the
    report's rows and each run's ``incidents.csv`` under ``folder``."""
    names = list(order) if order else sorted({str(r.get("param.campaign")) for r in rows})
    base = _by_rep(rows, NONE)
    out = []
    for name in names:
        runs = _by_rep(rows, name)
        keys = sorted(runs)
        fires = np.array([_num(runs[k].get(FIRES)) for k in keys])
        common = [k for k in keys if k in base]
        d = np.array([_num(base[k].get(FIRES)) - _num(runs[k].get(FIRES)) for k in common])
        own = np.array([_num(runs[k].get(AVERTED)) for k in common])
        cost = np.array([_num(runs[k].get(COST)) for k in common])
        zeros: int | None = 0
        for k in keys:
            count = indoor_fires_before(folder / str(runs[k]["run"]) / "incidents.csv")
            if count is None:
                zeros = None
                break
            zeros += count == 0  # type: ignore[operator]
        fixed = np.array([_num(runs[k].get(FIXED)) for k in keys])
        finite = fires[np.isfinite(fires)]
        ratio = (fieller_ratio(cost, d) if name != NONE and len(common) >= 2
                 else (math.nan, math.nan, math.nan))
        if name != NONE and len(common) >= 2 and not _mean(d) > 0:
            # nothing averted on average: no finite price; the least price the interval allows
            hi_d = _t_interval(d)[1]
            ratio = (math.inf, _mean(cost) / hi_d if hi_d > 0 else math.inf, math.inf)
        out.append(CampaignRow(
            campaign=name, n=len(keys),
            cost_cny=_mean(np.array([_num(runs[k].get(COST)) for k in keys])),
            fires_mean=_mean(fires), fires_range=range90(fires),
            fires_0_7_share=(float(((finite >= 0) & (finite <= 7)).mean()) if len(finite)
                             else math.nan),
            indoor_mean=_mean(np.array([_num(runs[k].get(INDOOR)) for k in keys])),
            averted_n=len(common), averted_mean=_mean(d), averted_ci=_t_interval(d),
            averted_own_mean=_mean(own),
            averted_agree=int(np.sum(np.isfinite(own) & (own == d))),
            cost_per_averted=ratio,
            zero_half_year=zeros,
            zero_half_year_ci=(clopper_pearson(zeros, len(keys)) if zeros is not None
                               else (math.nan, math.nan)),
            fixed_mean=_mean(fixed), fixed_range=range90(fixed)))
    return out


# ----------------------------------------------------------------------------------------------
# calibration targets (the account's figures, docs/domain.md)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A figure of the account to hold the simulation to: ``campaign``'s ``what`` (a
    :class:`CampaignRow` field) within [low, high]."""

    key: str
    en: str
    zh: str
    campaign: str
    what: str
    value: float
    low: float
    high: float
    source: str


#: The account's figures (docs/domain.md, "The account's outcomes"; the 2025 campaign).
TARGETS: tuple[Target, ...] = (
    # [DOMAIN] 23 e-bike fires 1 January - 18 July 2024, before the campaign; band ±15 %
    # [assumed]: the rate is refitted to it, 20 replications of a Poisson 23 give a mean
    # within ±1.1 (one standard error, 5 %), the rest is the loop's variation
    Target("fires_none", "e-bike fires without the campaign", "无整治行动时电动自行车火灾",
           NONE, "fires_mean", 23.0, 23.0 * 0.85, 23.0 * 1.15,
           "docs/domain.md: 23 in 1 Jan - 18 Jul 2024"),
    # [DOMAIN] 3 e-bike fires in the same months of 2025 with the campaign; band 1.5-4.5
    # [assumed] (a mean of 3 ± half)
    Target("fires_campaign", "e-bike fires with the 2025 campaign",
           "2025年整治行动下电动自行车火灾", CAMPAIGN, "fires_mean", 3.0, 1.5, 4.5,
           "docs/domain.md: 3 in 1 Jan - 18 Jul 2025"),
    # [DOMAIN: issue 14] 90 % of replications within 0-7 fires (a Poisson 3 is, 99.6 %)
    Target("fires_campaign_0_7", "replications with 0-7 e-bike fires (campaign)",
           "火灾0-7起的重复运行占比（整治行动）", CAMPAIGN, "fires_0_7_share", 0.9, 0.9, 1.0,
           "issue 14: about 3, 90 % of replications in 0-7"),
    # [DOMAIN] 今年累计整治隐患140余处: 140-odd e-bike hazards fixed this year; band 115-175
    # [assumed] (±20 % of 145)
    Target("fixed_campaign", "e-bike hazards fixed (campaign)", "整改电动自行车隐患（整治行动）",
           CAMPAIGN, "fixed_mean", 145.0, 116.0, 174.0,
           "docs/domain.md / the account: 今年累计整治隐患140余处"),
    # [DOMAIN] no indoor e-bike fire January-June 2025; met when the model does not make that
    # a rare event: P >= 0.2 [assumed]
    Target("zero_indoor", "P(no indoor e-bike fire Jan-Jun, campaign)",
           "1-6月无室内电动自行车火灾的概率（整治行动）", CAMPAIGN, "zero_share", 1.0, 0.2, 1.0,
           "the account: zero indoor e-bike fires January-June 2025"),
)


def _value(row: CampaignRow, what: str) -> tuple[float, tuple[float, float] | None]:
    """A row's simulated value of ``what`` and its 90 % range over replications (if any)."""
    if what == "zero_share":
        share = (row.zero_half_year / row.n if row.zero_half_year is not None and row.n
                 else math.nan)
        return share, None
    if what == "fires_mean":
        return row.fires_mean, row.fires_range
    if what == "fixed_mean":
        return row.fixed_mean, row.fixed_range
    return float(getattr(row, what)), None


def target_rows(rows: Sequence[CampaignRow], targets: Sequence[Target] = TARGETS
                ) -> list[dict[str, Any]]:
    """One dict per target whose variant the experiment has: the simulated value, its 90 %
    range, whether it lies in the band (None when the runs lack the figure), and the factor
    value / simulated (what a quantity proportional to the figure would be scaled by)."""
    by = {r.campaign: r for r in rows}
    out = []
    for t in targets:
        if t.campaign not in by:
            continue
        v, rng = _value(by[t.campaign], t.what)
        met = None if not math.isfinite(v) else bool(t.low <= v <= t.high)
        out.append({"target": t.key, "en": t.en, "zh": t.zh, "campaign": t.campaign,
                    "value": t.value, "low": t.low, "high": t.high, "simulated": v,
                    "range90_low": rng[0] if rng else math.nan,
                    "range90_high": rng[1] if rng else math.nan, "met": met,
                    "factor": t.value / v if math.isfinite(v) and v > 0 else math.nan,
                    "source": t.source})
    return out


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------
def _g(x: float, digits: int = 3) -> str:
    if not math.isfinite(x):
        return "∞" if x == math.inf else ("−∞" if x == -math.inf else "–")
    return f"{x:,.{digits}g}" if abs(x) < 10 ** digits else f"{x:,.0f}"


def _cny(x: float) -> str:
    if not math.isfinite(x):
        return "unbounded 无上界" if x == math.inf else "–"
    return f"{x:,.0f}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %" if math.isfinite(x) else "–"


def _name(names: dict[str, tuple[str, str]], campaign: str) -> str:
    en, zh = names.get(campaign, (campaign, campaign))
    return en if en == zh else f"{en} {zh}"


def _table(rows: Sequence[CampaignRow], names: dict[str, tuple[str, str]]
           ) -> tuple[list[str], list[list[str]]]:
    headers = ["variant 方案", "runs 次数", "cost 成本 (CNY 元)",
               "e-bike fires 电动自行车火灾: mean [90 % range] 均值 [90%区间]",
               "0-7 fires 0-7起占比", "indoor fires 室内火灾", "fires averted 避免火灾 [95 % CI]",
               "cost per fire averted 每避免一起成本 (元) [95 % CI]",
               "P(no indoor fire Jan-Jun) 1-6月无室内火灾概率 [95 % CI]",
               "e-bike hazards fixed 整改电动车隐患 [90 % range]"]
    out = []
    for r in rows:
        zero = ("–" if r.zero_half_year is None else
                f"{r.zero_half_year}/{r.n} = {_pct(r.zero_half_year / r.n if r.n else math.nan)}"
                f" [{_pct(r.zero_half_year_ci[0])}, {_pct(r.zero_half_year_ci[1])}]")
        none = r.campaign == NONE
        out.append([
            _name(names, r.campaign), str(r.n), _cny(r.cost_cny),
            f"{_g(r.fires_mean)} [{_g(r.fires_range[0])}, {_g(r.fires_range[1])}]",
            _pct(r.fires_0_7_share), _g(r.indoor_mean),
            "(baseline 基准)" if none else
            f"{_g(r.averted_mean)} [{_g(r.averted_ci[0])}, {_g(r.averted_ci[1])}]",
            "–" if none else (
                f"none averted on average 平均未避免 (≥ {_cny(r.cost_per_averted[1])})"
                if r.cost_per_averted[0] == math.inf else
                f"{_cny(r.cost_per_averted[0])} [{_cny(r.cost_per_averted[1])}, "
                f"{_cny(r.cost_per_averted[2])}]"),
            zero, f"{_g(r.fixed_mean)} [{_g(r.fixed_range[0])}, {_g(r.fixed_range[1])}]"])
    return headers, out


def _targets_table(targets: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    headers = ["target 目标", "account 报告值", "band 目标区间", "simulated mean 模拟均值",
               "90 % range 90%区间", "met 达成", "factor to target 距目标倍数", "source 来源"]
    out = []
    for t in targets:
        rng = (f"[{_g(t['range90_low'])}, {_g(t['range90_high'])}]"
               if math.isfinite(t["range90_low"]) else "–")
        met = {True: "yes 是", False: "no 否", None: "– (not in the runs 运行无此数据)"}[t["met"]]
        out.append([f"{t['en']} {t['zh']}", _g(t["value"]),
                    f"[{_g(t['low'])}, {_g(t['high'])}]", _g(t["simulated"]), rng, met,
                    _g(t["factor"]), t["source"]])
    return headers, out


def _findings(rows: Sequence[CampaignRow], names: dict[str, tuple[str, str]]
              ) -> list[tuple[str, str]]:
    """Sentences (en, zh), the 2025 campaign first, then each measure alone."""
    by = {r.campaign: r for r in rows}
    out = []
    base = by.get(NONE)
    for r in sorted(rows, key=lambda r: (r.campaign != CAMPAIGN, r.campaign)):
        if r.campaign == NONE or base is None:
            continue
        en, zh = names.get(r.campaign, (r.campaign, r.campaign))
        cpa = r.cost_per_averted
        per = (f"{_cny(cpa[0])} CNY per fire averted [{_cny(cpa[1])}, {_cny(cpa[2])}]"
               if math.isfinite(cpa[0]) else
               "no finite cost per fire averted (none averted on average)")
        per_zh = (f"每避免一起火灾成本{_cny(cpa[0])}元 [{_cny(cpa[1])}, {_cny(cpa[2])}]"
                  if math.isfinite(cpa[0]) else "每避免一起成本无有限值（平均未避免火灾）")
        out.append((
            f"{en}: {_g(r.fires_mean)} e-bike fires (90 % of replications in "
            f"{_g(r.fires_range[0])}-{_g(r.fires_range[1])}) against {_g(base.fires_mean)} "
            f"without; {_g(r.averted_mean)} averted [{_g(r.averted_ci[0])}, "
            f"{_g(r.averted_ci[1])}] at {_cny(r.cost_cny)} CNY: {per}",
            f"{zh}：电动自行车火灾{_g(r.fires_mean)}起（90%重复运行在{_g(r.fires_range[0])}-"
            f"{_g(r.fires_range[1])}起），无整治行动时{_g(base.fires_mean)}起；避免"
            f"{_g(r.averted_mean)}起 [{_g(r.averted_ci[0])}, {_g(r.averted_ci[1])}]，成本"
            f"{_cny(r.cost_cny)}元：{per_zh}"))
    return out


METHOD = ("90 % range: the 5th-95th percentile of the replications. Fires averted: the paired "
          "difference none − variant per replication (common random numbers), mean ± "
          "t(0.975, n−1)·s/√n. Cost per fire averted: mean cost / mean averted with Fieller's "
          "95 % interval (a campaign's cost does not vary by replication: the averted "
          "interval inverted; unbounded when it reaches 0). P(no indoor fire January-June): "
          "replications without an e-bike fire of cause ebike_indoor before day 181 "
          "(incidents.csv), Clopper-Pearson 95 % interval. Calibration: a target is met when "
          "the simulated mean lies in its band; the factor is target / simulated.")


def _check_line(rows: Sequence[CampaignRow]) -> tuple[str, str] | None:
    """How the runs' own averted count agrees with the paired difference."""
    pairs = [(r.averted_agree, r.averted_n) for r in rows
             if r.campaign != NONE and math.isfinite(r.averted_own_mean)]
    if not pairs:
        return None
    agree, n = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    return (f"Check: each run's own count of fires averted (its arrivals again with "
            f"campaign=none, no response) equals the paired difference against the none "
            f"variant in {agree} of {n} replications.",
            f"核对：各运行自身的避免火灾数（同一运行以无整治行动重算到达）与相对无整治行动方案的配对差"
            f"在{n}次中有{agree}次一致。")


def section_markdown(rows: Sequence[CampaignRow], targets: Sequence[dict[str, Any]],
                     names: dict[str, tuple[str, str]]) -> list[str]:
    """The section as Markdown lines (findings first)."""
    md = ["## The e-bike campaign 电动自行车整治行动", ""]
    md += [f"- {en}  \n  {zh}" for en, zh in _findings(rows, names)]
    check = _check_line(rows)
    if check:
        md += ["", f"{check[0]}  \n{check[1]}"]
    head, body = _table(rows, names)
    md += ["", "### By variant 各方案", "", _md(head, body), ""]
    if targets:
        th, tb = _targets_table(targets)
        met = sum(1 for t in targets if t["met"])
        md += ["### Calibration against the account 对照报告的率定", "",
               f"{met} of {len(targets)} targets met 目标达成 {met}/{len(targets)}.", "",
               _md(th, tb), ""]
    md += [f"Method 方法: {METHOD}", ""]
    return md


def section_html(rows: Sequence[CampaignRow], targets: Sequence[dict[str, Any]],
                 names: dict[str, tuple[str, str]]) -> str:
    """The section as HTML (findings first)."""
    items = "".join(f'<li><span lang="en">{html.escape(en)}</span><br>'
                    f'<span class="zh" lang="zh">{html.escape(zh)}</span></li>'
                    for en, zh in _findings(rows, names))
    parts = ['<section class="headlines"><h2>The e-bike campaign 电动自行车整治行动</h2>',
             f"<ul>{items}</ul>"]
    check = _check_line(rows)
    if check:
        parts.append(f'<p class="note">{html.escape(check[0])}<br>{html.escape(check[1])}</p>')
    head, body = _table(rows, names)
    parts.append("<h3>By variant 各方案</h3>" + _html(head, body))
    if targets:
        th, tb = _targets_table(targets)
        met = sum(1 for t in targets if t["met"])
        parts.append(f"<h3>Calibration against the account 对照报告的率定</h3><p>{met} of "
                     f"{len(targets)} targets met 目标达成 {met}/{len(targets)}.</p>"
                     + _html(th, tb))
    parts.append(f'<p class="note">Method 方法: {html.escape(METHOD)}</p></section>')
    return "".join(parts)


def _md(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])


def _html(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_campaign_csv(rows: Sequence[CampaignRow], targets: Sequence[dict[str, Any]]
                       ) -> tuple[str, str]:
    """The texts of ``campaign.csv`` (one row per variant) and ``campaign_targets.csv``."""
    cols = ["campaign", "n", "cost_cny", "fires_mean", "fires_p5", "fires_p95",
            "fires_0_7_share", "indoor_mean", "averted_n", "averted_mean", "averted_ci95_low",
            "averted_ci95_high", "averted_own_mean", "averted_agree", "cost_per_averted_cny",
            "cost_per_averted_ci95_low", "cost_per_averted_ci95_high", "zero_indoor_jan_jun",
            "zero_indoor_ci95_low", "zero_indoor_ci95_high", "fixed_mean", "fixed_p5",
            "fixed_p95"]
    body = []
    for r in rows:
        body.append([r.campaign, r.n, r.cost_cny, r.fires_mean, *r.fires_range,
                     r.fires_0_7_share, r.indoor_mean, r.averted_n, r.averted_mean,
                     *r.averted_ci, r.averted_own_mean, r.averted_agree, *r.cost_per_averted,
                     r.zero_half_year, *r.zero_half_year_ci, r.fixed_mean, *r.fixed_range])
    tcols = ["target", "campaign", "value", "low", "high", "simulated", "range90_low",
             "range90_high", "met", "factor", "source"]
    return _csv(cols, body), _csv(tcols, [[t[c] for c in tcols] for t in targets])


def _csv(columns: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([[_cell(v) for v in r] for r in rows])
    return buf.getvalue()


def _cell(v: Any) -> str:
    """A CSV cell: empty for None and NaN, ``true``/``false``, floats in full (repr)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return str(v)
