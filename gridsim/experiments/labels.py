"""Plain names of an experiment's variants (方案名称): config key + value -> English and Chinese.

A report names a variant the way a planner would ("4 drills a year 每年演练4次"), not by its
override (``evacuation.drills.per_year=4``); the raw overrides appear only in the report's
details table. The names come from, in this order:

1. the experiment file's own ``experiment.labels``: ``"<key>=<value>": "<label>"`` names one
   value of a swept key, ``"<key>": "<label>"`` the key itself (an axis title). A label is one
   string, English then Chinese ("4 drills a year 每年演练4次"): it is cut before its first CJK
   character; a label without Chinese serves both languages;
2. the registry :data:`KEYS` below (the keys the committed ``experiments/*.yaml`` sweep, and a
   few more);
3. otherwise the key's last two parts and the value (``per_year=4``), in both languages.

A value that is a path (``plan=experiments/plans/prepositioning/storm``) is looked up by its
last part (``storm``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["KEYS", "Key", "key_name", "split_label", "value_label", "value_tick",
           "variant_label"]

_CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                  r"\ufe30-\ufe4f\uff00-\uffef]")


def _num(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _g(x: float) -> str:
    return f"{x:g}"


def _minutes(value: str) -> str:
    """A number of seconds as minutes (``"120"`` -> ``"2"``); the value itself otherwise."""
    s = _num(value)
    return _g(s / 60.0) if s is not None else value


def _plural(n: str, one: str, many: str) -> str:
    return one if _num(n) == 1 else many


@dataclass(frozen=True)
class Key:
    """How to name a config key and its values: the key as an axis title (``en``, ``zh``),
    ``value(v) -> (en, zh)`` a variant's name for one value, ``tick(v)`` the value on an axis."""

    en: str
    zh: str
    value: Callable[[str], tuple[str, str]]
    tick: Callable[[str], str] = str


def _table(names: Mapping[str, tuple[str, str]], en: str, zh: str
           ) -> Callable[[str], tuple[str, str]]:
    """A value's name from a table (by the value or its last path part), else ``en value``."""
    def name(v: str) -> tuple[str, str]:
        hit = names.get(v) or names.get(v.rstrip("/").rsplit("/", 1)[-1])
        return hit if hit else (f"{en} {v}", f"{zh} {v}")
    return name


_LEVELS = {"blue": ("blue", "蓝色"), "yellow": ("yellow", "黄色"), "orange": ("orange", "橙色"),
           "red": ("red", "红色")}


def _level(v: str) -> tuple[str, str]:
    en, zh = _LEVELS.get(v.lower(), (v, v))
    return f"switch at {en} warnings", f"{zh}预警即转换"


#: The registry: config key -> how its values are named.
KEYS: dict[str, Key] = {
    "evacuation.drills.per_year": Key(
        "drills a year", "每年演练次数",
        lambda v: (f"{v} {_plural(v, 'drill', 'drills')} a year", f"每年演练{v}次")),
    "scenario.people.grid_workers_per_grid": Key(
        "grid workers per grid", "每网格网格员数",
        lambda v: (f"{v} {_plural(v, 'grid worker', 'grid workers')} per grid",
                   f"每网格{v}名网格员")),
    "response.switch.alert_delay.median_s": Key(
        "alert passed on, median (min)", "预警传达时间中位数（分钟）",
        lambda v: (f"alert passed on in {_minutes(v)} min", f"预警传达{_minutes(v)}分钟"),
        _minutes),
    "response.switch.assembly_mobilisation.median_s": Key(
        "assembly, median (min)", "集结用时中位数（分钟）",
        lambda v: (f"assembly in {_minutes(v)} min", f"集结{_minutes(v)}分钟"), _minutes),
    "hazard.weather.warnings.switch_level": Key(
        "warning level that switches grids", "触发转换的预警级别", _level),
    "hazard.weather.warnings.timing_error_sd_h": Key(
        "warning timing error, sd (h)", "预警时间误差（小时）",
        lambda v: (f"warning timing error sd {v} h", f"预警时间误差{v}小时")),
    "hazard.weather.warnings.depth_error_sigma": Key(
        "warning rainfall error, sigma", "预警雨量误差",
        lambda v: (f"warning rainfall error sigma {v}", f"预警雨量误差{v}")),
    "scenario": Key("scenario", "场景", _table({
        "pilot_before": ("pilot grids before the redesign", "试点网格改革前"),
        "pilot_after": ("pilot grids after the redesign", "试点网格改革后"),
        "small": ("small district", "小型区县"),
        "district": ("district", "区县"),
        "suining_city": ("Suining city", "遂宁市"),
    }, "scenario", "场景")),
    "hazard": Key("hazard setting", "灾害设置", _table({
        "rainstorm": ("rainstorm", "暴雨"),
        "city_rainstorm": ("city rainstorm", "全市暴雨"),
        "flood_evacuation": ("flood evacuation", "洪水转移避险"),
    }, "hazard", "灾害")),
    "plan": Key("plan", "预案", _table({
        "null": ("today's stations and stock", "现状"),
        "none": ("today's stations and stock", "现状"),
        "mclp_exact": ("MCLP supply points, exact", "物资储备点（精确）"),
        "mclp_heuristic": ("MCLP supply points, heuristic", "物资储备点（启发式）"),
        "storm": ("storm pre-positioning", "力量前置、物资前置"),
    }, "plan", "预案")),
}


def split_label(text: str) -> tuple[str, str]:
    """``"4 drills a year 每年演练4次"`` -> ``("4 drills a year", "每年演练4次")``: cut before
    the first CJK character, or before the digits written onto it (``"the 2025 campaign
    2025年整治行动"`` -> ``("the 2025 campaign", "2025年整治行动")``); a text without Chinese
    serves both languages."""
    m = _CJK.search(text)
    if m is None or m.start() == 0:
        return text.strip(), text.strip()
    cut = m.start()
    while cut > 0 and text[cut - 1].isdigit():  # a number written onto the Chinese is its own
        cut -= 1
    if cut == 0:
        return text.strip(), text.strip()
    return text[:cut].strip(), text[cut:].strip()


def _fallback_key(key: str) -> str:
    return ".".join(key.split(".")[-2:])


def key_name(key: str, own: Mapping[str, str] | None = None) -> tuple[str, str]:
    """A swept key as an axis title, ``(en, zh)``."""
    if own and key in own:
        return split_label(own[key])
    k = KEYS.get(key)
    return (k.en, k.zh) if k else (_fallback_key(key), _fallback_key(key))


def value_label(key: str, value: str, own: Mapping[str, str] | None = None) -> tuple[str, str]:
    """A variant's name for one value of one key, ``(en, zh)``."""
    if own and f"{key}={value}" in own:
        return split_label(own[f"{key}={value}"])
    k = KEYS.get(key)
    if k:
        return k.value(value)
    raw = f"{_fallback_key(key)}={value}"
    return raw, raw


def value_tick(key: str, value: str, own: Mapping[str, str] | None = None) -> str:
    """One value of a key on an axis (seconds as minutes where the key's title says min)."""
    if own and f"{key}={value}" in own:
        return split_label(own[f"{key}={value}"])[0]
    k = KEYS.get(key)
    if k is None:
        return value
    return k.tick(value) if k.tick is not str else (
        value if _num(value) is not None else k.value(value)[0])


def variant_label(values: Mapping[str, str], own: Mapping[str, str] | None = None
                  ) -> tuple[str, str]:
    """A variant (swept key -> value) named in plain words, ``(en, zh)``: one name per key,
    joined by ", " and "，"."""
    names = [value_label(k, v, own) for k, v in values.items()]
    if not names:
        return "all runs", "全部运行"
    en = ", ".join(n[0] for n in names)
    if all(n[0] == n[1] for n in names):  # no Chinese name: one text for both
        return en, en
    return en, "，".join(n[1] for n in names)
