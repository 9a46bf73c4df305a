"""The headline findings of an experiment report (主要发现): one sentence per metric, in English
and Chinese, from a paired difference and its 95 % interval.

"4 drills a year instead of 1: clearance 12 min faster [8, 16]" /
"每年演练4次相比每年演练1次：清空时间快12分钟 [8, 16]".

:data:`METRICS` says, per summary metric, its noun, its unit (seconds are shown as minutes,
shares as percentage points, money in CNY) and which direction is better (or none, where more
is neither good nor bad, e.g. incidents). The words follow the sign of the difference
("faster" / "slower", "fewer" / "more", "higher" / "lower"), and the amount and interval are
given in the direction of the word (so both are positive). When the interval spans 0 the
sentence says "no clear difference" and gives the signed difference instead. A metric not in
the registry takes its unit from its name (``_s`` seconds, ``_share`` a share, else a count)
and no better direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["METRICS", "Headline", "MetricSense", "amount", "headline", "sense"]


@dataclass(frozen=True)
class MetricSense:
    """A metric's words: noun (en, zh), unit (``s``, ``share``, ``count``, ``cny``), the better
    direction (``lower``, ``higher`` or None) and the words for a rise and for a fall
    (en_up, en_down, zh_up, zh_down; None: the unit's own)."""

    en: str
    zh: str
    unit: str
    better: str | None
    words: tuple[str, str, str, str] | None = None


_S, _SHARE, _COUNT, _CNY = "s", "share", "count", "cny"
_LONGER = ("longer", "shorter", "长", "短")

#: The registry: summary metric -> its sense.
METRICS: dict[str, MetricSense] = {
    "incidents": MetricSense("incidents", "事件数", _COUNT, None),
    "response_time_p50_s": MetricSense("median response time", "响应时间中位数", _S, "lower"),
    "response_time_p90_s": MetricSense("90th-percentile response time", "响应时间90分位", _S,
                                       "lower"),
    "response_time_mean_s": MetricSense("mean response time", "平均响应时间", _S, "lower"),
    "response_from_occurrence_p50_s": MetricSense(
        "median first response from occurrence", "发生至首达中位数", _S, "lower"),
    "response_from_occurrence_p90_s": MetricSense(
        "90th-percentile first response from occurrence", "发生至首达90分位", _S, "lower"),
    "within_5min_share": MetricSense("share reached within 5 minutes", "五分钟到场率", _SHARE,
                                     "higher"),
    "switch_latency_p50_s": MetricSense("median switch latency", "平急转换时延中位数", _S,
                                        "lower"),
    "switch_latency_p90_s": MetricSense("90th-percentile switch latency", "平急转换时延90分位",
                                        _S, "lower"),
    "escalations": MetricSense("escalations", "网格吹哨次数", _COUNT, None),
    "report_on_time_share": MetricSense("share of reports on time", "信息按时上报率", _SHARE,
                                        "higher"),
    "supply_shortages": MetricSense("supply shortages", "物资短缺次数", _COUNT, "lower"),
    "supply_delay_mean_s": MetricSense("mean supply delay", "物资到场平均延误", _S, "lower",
                                       _LONGER),
    "supply_delayed_incidents": MetricSense("incidents waiting for supplies", "等待物资事件数",
                                            _COUNT, "lower"),
    "premoved_people": MetricSense("people moved ahead of the storm", "前置人员", _COUNT, None),
    "premoved_units": MetricSense("stock units moved ahead of the storm", "前置物资", _COUNT,
                                  None),
    "responder_utilization": MetricSense("responder utilization", "力量利用率", _SHARE, None),
    "mean_time_in_system_s": MetricSense("time to resolution", "事件处置时长", _S, "lower"),
    "switch_episodes": MetricSense("switch episodes", "平急转换次数", _COUNT, None),
    "storm_utilization": MetricSense("busy share of warned grids' people", "预警期间人员占用率",
                                     _SHARE, None),
    "rescues": MetricSense("rescues by grid forces", "网格救援次数", _COUNT, None),
    "people_trapped": MetricSense("people trapped", "被困人数", _COUNT, "lower"),
    "people_spared_by_relocation": MetricSense("people spared by relocation",
                                               "转移避险避免被困人数", _COUNT, "higher"),
    "people_rescued": MetricSense("people rescued", "救出人数", _COUNT, "higher"),
    "deaths": MetricSense("deaths", "遇难人数", _COUNT, "lower"),
    "injuries": MetricSense("people seriously injured", "重伤人数", _COUNT, "lower"),
    "losses_cny": MetricSense("direct losses", "直接经济损失", _CNY, "lower"),
    "losses_averted_cny": MetricSense("losses averted", "挽回经济损失", _CNY, "higher"),
    "evacuation_p50_s": MetricSense("time to half sheltered", "半数安置用时", _S, "lower"),
    "evacuation_p90_s": MetricSense("time to 90 % sheltered", "九成安置用时", _S, "lower"),
    "clearance_time_s": MetricSense("clearance", "清空时间", _S, "lower"),
    "not_sheltered_by_deadline": MetricSense("people not sheltered by the deadline",
                                             "时限内未安置人数", _COUNT, "lower"),
    "grid_clearance_p50_s": MetricSense("median grid clearance", "网格清空时间中位数", _S,
                                        "lower"),
    "grid_clearance_max_s": MetricSense("slowest grid clearance", "网格清空时间最大值", _S,
                                        "lower"),
    "evacuated": MetricSense("people sheltered", "已安置人数", _COUNT, "higher"),
    "incidents_by_hazard.ebike_fire": MetricSense("e-bike fires", "电动自行车火灾", _COUNT,
                                                  "lower"),
    "ebike_fires_indoor": MetricSense("indoor e-bike fires", "室内电动自行车火灾", _COUNT,
                                      "lower"),
    "incidents_averted.ebike_fire": MetricSense("e-bike fires averted", "避免电动自行车火灾",
                                                _COUNT, "higher"),
    "campaign_cost_cny": MetricSense("campaign cost", "整治行动成本", _CNY, None),
    "hazards_found": MetricSense("hazards found", "发现隐患数", _COUNT, None),
    "hazards_rectified": MetricSense("hazards rectified", "整改隐患数", _COUNT, "higher"),
    "hazards_rectified_by_class.ebike_indoor": MetricSense(
        "e-bike hazards fixed", "整改电动车隐患", _COUNT, None),
    "incidents_by_hazard.building_fire": MetricSense("building fires", "建筑火灾", _COUNT,
                                                     "lower"),
}

#: The unit's own words (en_up, en_down, zh_up, zh_down).
_WORDS = {_S: ("slower", "faster", "慢", "快"), _SHARE: ("higher", "lower", "提高", "下降"),
          _COUNT: ("more", "fewer", "多", "少"), _CNY: ("higher", "lower", "多", "少")}


def sense(metric: str, labels: dict[str, tuple[str, str]] | None = None) -> MetricSense:
    """The registry's sense of ``metric``, or one made from its name and its label."""
    if metric in METRICS:
        return METRICS[metric]
    en, zh = (labels or {}).get(metric, (metric, metric))
    en = en.removesuffix(" (s)")
    unit = (_S if metric.endswith("_s") else
            _SHARE if metric.endswith(("_share", "utilization")) else _COUNT)
    return MetricSense(en, zh or en, unit, None)


def _scale(unit: str) -> tuple[float, str, str]:
    """(factor to the shown unit, English unit, Chinese unit)."""
    return {_S: (1 / 60.0, " min", "分钟"), _SHARE: (100.0, " points", "个百分点"),
            _CNY: (1.0, " CNY", "元")}.get(unit, (1.0, "", ""))


def amount(values: list[float], unit: str) -> list[str]:
    """Numbers in the shown unit, all with the decimals the largest needs (0 from 10 up, 1 from
    1 up, else two significant digits of the largest), thousands separated."""
    factor = _scale(unit)[0]
    shown = [v * factor for v in values]
    top = max((abs(v) for v in shown if math.isfinite(v)), default=0.0)
    decimals = (0 if top >= 10 else 1 if top >= 1 else
                2 if top == 0 else min(6, max(2, 1 - math.floor(math.log10(top)))))
    return [f"{v:,.{decimals}f}".replace("-", "−") if math.isfinite(v) else "?" for v in shown]


@dataclass(frozen=True)
class Headline:
    """One finding: the sentences, and the verdict: ``better``/``worse`` (a significant
    difference in a metric with a better direction), ``different`` (significant, no better
    direction), ``unclear`` (the interval spans 0) or ``unknown`` (fewer than 2 pairs)."""

    metric: str
    en: str
    zh: str
    verdict: str


def headline(metric: str, variant: tuple[str, str], baseline: tuple[str, str],
             pair: dict[str, Any], labels: dict[str, tuple[str, str]] | None = None
             ) -> Headline:
    """The finding of one paired difference (a row of ``Report.paired``: ``mean_difference``,
    ``ci95_low``, ``ci95_high``, ``n``) of ``metric`` between the named ``variant`` and
    ``baseline`` (each ``(en, zh)``)."""
    s = sense(metric, labels)
    en_lead = f"{variant[0]} instead of {baseline[0]}: "
    zh_lead = f"{variant[1]}相比{baseline[1]}："
    mean, lo, hi = (float(pair[k]) for k in ("mean_difference", "ci95_low", "ci95_high"))
    _, en_unit, zh_unit = _scale(s.unit)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        n = int(pair.get("n") or 0)
        return Headline(metric, f"{en_lead}too few paired replications to compare {s.en} "
                                f"(n = {n})",
                        f"{zh_lead}{s.zh}配对重复次数不足（n = {n}）", "unknown")
    if lo == hi == mean == 0:
        return Headline(metric, f"{en_lead}no difference in {s.en} (the same in every paired "
                                "replication)",
                        f"{zh_lead}{s.zh}无差异（每次配对重复相同）", "unclear")
    if lo <= 0 <= hi:
        m, a, b = amount([mean, lo, hi], s.unit)
        return Headline(metric, f"{en_lead}no clear difference in {s.en} "
                                f"({m}{en_unit} [{a}, {b}])",
                        f"{zh_lead}{s.zh}无明显差异（{m}{zh_unit} [{a}, {b}]）", "unclear")
    up = mean > 0
    en_up, en_down, zh_up, zh_down = s.words or _WORDS[s.unit]
    m, a, b = amount([mean, lo, hi] if up else [-mean, -hi, -lo], s.unit)
    word_en, word_zh = (en_up, zh_up) if up else (en_down, zh_down)
    if s.unit == _COUNT:
        en = f"{m} {word_en} {s.en} [{a}, {b}]"
    else:
        en = f"{s.en} {m}{en_unit} {word_en} [{a}, {b}]"
    zh = f"{s.zh}{word_zh}{m}{zh_unit} [{a}, {b}]"
    verdict = ("different" if s.better is None else
               "better" if (s.better == "higher") == up else "worse")
    return Headline(metric, en_lead + en, zh_lead + zh, verdict)
