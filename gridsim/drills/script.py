"""A drill script (演练脚本) from a variant and its simulated action times.

The script is a plain, JSON-ready dict (written as ``drill.json``; the Markdown and CSV files
and the after-action evaluation are made from it alone):

* ``header``: name, objectives, hazard scenario, participants and roles, resources, safety
  rules, timing, in Chinese and English;
* ``msel``: the master scenario events list, one row per expected action, ordered by time. The
  first action an inject prompts shares the inject's row (its time is the inject's delivery
  time); the actions that follow it are rows of their own ("expected action", timed at their
  simulated median). Every row has the HSEEP MSEL columns and the action's time standard: the
  median and 90th percentile (numpy's linear quantiles) of its simulated T+ times over the
  replications, which are stored with it (``samples_s``, ``null`` where the replication did not
  reach the action within the horizon);
* ``contingency``: for every row, the inject a controller delivers when the action has not
  been observed by its 90th percentile;
* ``chain``: for every row, the row it waits on (``after``), so that an evaluation can tell
  which late action delayed the drill's final action (its clearance).

An action is in the script when at least half of the replications reach it; an action that
happens at the same moment as another in every replication (e.g. dispatch and arrival when the
responders wait at the post next to the scene) is merged into it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gridsim import __version__
from gridsim.drills.texts import (
    ACTIONS,
    CAPABILITIES,
    CATEGORIES,
    DEPARTMENT_NAMES,
    EXTRA,
    GENERIC_SCENE,
    HAZARD_CAPABILITY,
    HAZARD_SCENES,
    LEVELS,
    OBJECTIVES,
    ROLES,
    SAFETY_RULES,
    WARNING_KINDS,
    Bi,
)
from gridsim.drills.timings import EVACUATION_ACTIONS, INCIDENT_ACTIONS, SWITCH_ACTIONS
from gridsim.drills.variants import Variant
from gridsim.model.params import RunConfig
from gridsim.model.vocab import CATEGORIES as STANDBY
from gridsim.model.vocab import GRADES, SUPPLY_ITEMS, ZH
from gridsim.model.vocab import ROLES as PERSON_ROLES
from gridsim.place.scenario import Scenario

__all__ = ["MSEL_COLUMNS", "build_script", "fmt_t", "quantiles"]

#: Columns of msel.csv, in order (HSEEP MSEL plus the time standard).
MSEL_COLUMNS: tuple[str, ...] = (
    "seq", "time", "inject_type", "delivery_method", "from", "to", "inject", "expected_action",
    "responsible_role", "time_standard_median", "time_standard_p90", "objective",
    "evaluation_criterion",
)

#: Share of replications that must reach an action for it to be in the script.
MIN_REACHED = 0.5

#: Samples are stored (and quantiles computed) to this many decimals of a second.
SAMPLE_DECIMALS = 1

_EN_HAZARD = {"building_fire": "building fire", "ebike_fire": "e-bike fire",
              "gas_leak": "gas leak", "waterlogging": "urban waterlogging",
              "flash_flood": "flash flood", "landslide": "landslide",
              "forest_fire": "forest fire"}

# the rows an action waits on (None: the inject itself); resolved at build time when absent
_AFTER: dict[str, str | None] = {
    "commander_at_post": None, "quorum_assembled": None, "post_ready": "quorum_assembled",
    "incident_reported": None, "report_village": "incident_reported",
    "report_township": "report_village", "report_county": "report_township",
    "dispatched": "incident_reported", "first_on_scene": "dispatched",
    "crew_complete": "first_on_scene", "handling_started": "crew_complete",
    "whistle": "handling_started", "department_arrived": "whistle",
    "resolved": "handling_started",
    "first_departed": None, "warned_all": None, "vulnerable_helped": None,
    "last_departed": "warned_all", "first_sheltered": "first_departed",
    "clearance": "last_departed",
}

# the order of actions that happen at the same moment
_ORDER = {k: i for i, k in enumerate((*SWITCH_ACTIONS, *INCIDENT_ACTIONS,
                                      *EVACUATION_ACTIONS))}

# (dropped, kept): drop the first when it equals the second in every replication
_MERGE = (("dispatched", "first_on_scene"), ("crew_complete", "first_on_scene"),
          ("crew_complete", "handling_started"))


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def fmt_t(t_s: float | None) -> str:
    """Drill-clock time ``T+mm:ss`` (minutes may exceed 59); empty for no time."""
    if t_s is None or not math.isfinite(t_s):
        return ""
    s = round(t_s)
    sign = "-" if s < 0 else "+"
    m, sec = divmod(abs(s), 60)
    return f"T{sign}{m:02d}:{sec:02d}"


def quantiles(samples: list[float | None]) -> dict[str, float | int | None]:
    """``median_s``, ``p10_s``, ``p90_s`` and ``reached`` of stored samples (``None``: not
    reached). Quantiles are numpy's linear ones over the reached samples."""
    x = np.array([s for s in samples if s is not None], dtype=float)
    if len(x) == 0:
        return {"median_s": None, "p10_s": None, "p90_s": None, "reached": 0}
    q = np.quantile(x, [0.5, 0.1, 0.9])
    return {"median_s": float(q[0]), "p10_s": float(q[1]), "p90_s": float(q[2]),
            "reached": len(x)}


def hazard_name(h: str) -> Bi:
    return Bi(ZH.get(h, h), _EN_HAZARD.get(h, h.replace("_", " ")))


def warning_name(name: str) -> Bi:
    """What a warning is about, from its config name (``rainstorm_red`` -> 暴雨 / rainstorm)."""
    for word, text in WARNING_KINDS.items():
        if word in name.lower():
            return text
    return Bi(name, name)


def grid_name(g: int) -> Bi:
    return Bi(f"G{g}网格", f"Grid G{g}")


def _grids_name(grids: tuple[int, ...] | list[int]) -> Bi:
    return Bi("、".join(f"G{g}" for g in grids) + "网格",
              ("Grid " if len(grids) == 1 else "Grids ") + ", ".join(f"G{g}" for g in grids))


def _minutes(s: float) -> Bi:
    if s >= 3600 and s % 3600 == 0:
        return Bi(f"{s / 3600:g}小时", f"{s / 3600:g} h")
    return Bi(f"{s / 60:g}分钟", f"{s / 60:g} min")


def _counted(d: dict[str, int], unit_zh: str = "") -> Bi:
    zh = "、".join(f"{ZH.get(k, k)}{v}{unit_zh}" for k, v in d.items() if v)
    en = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in d.items() if v)
    return Bi(zh or "无", en or "none")


def _and(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " and " + words[-1]


def _clock(h: float) -> str:
    m = round(h * 60) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def _rounded(x: float) -> float | None:
    return round(float(x), SAMPLE_DECIMALS) if math.isfinite(x) else None


# ----------------------------------------------------------------------------------------------
# the script
# ----------------------------------------------------------------------------------------------
def _kept_actions(samples: dict[str, list[float]]) -> dict[str, list[float | None]]:
    """Actions reached often enough, samples rounded, merged where identical."""
    n = max((len(v) for v in samples.values()), default=0)
    kept: dict[str, list[float | None]] = {}
    for aid, xs in samples.items():
        r = [_rounded(x) for x in xs]
        if sum(v is not None for v in r) >= MIN_REACHED * n and n > 0:
            kept[aid] = r
    for drop, keep in _MERGE:
        for aid in list(kept):
            prefix, _, key = aid.partition(".")
            other = f"{prefix}.{keep}"
            if key == drop and other in kept and kept[aid] == kept[other]:
                del kept[aid]
    return kept


def _after(aid: str, kept: dict[str, Any]) -> str | None:
    """The kept action ``aid`` waits on (its chain predecessor), or None."""
    prefix, _, key = aid.partition(".")
    med = {a: quantiles(kept[a])["median_s"] for a in kept}
    if key == "whistle":  # at once (at the report) or after handling began
        rep = f"{prefix}.incident_reported"
        if rep in kept and (med[aid] or 0.0) <= (med[rep] or 0.0) + 1.0:
            return rep
    if key == "clearance":  # the later of the last to leave and the last helped out
        helped = f"{prefix}.vulnerable_helped"
        if helped in kept and (med[helped] or 0.0) > (med.get(f"{prefix}.last_departed") or 0.0):
            return helped
    if key == "resolved":
        dep = f"{prefix}.department_arrived"
        if dep in kept and (med[dep] or 0.0) <= (med[aid] or 0.0):
            return dep
    nxt = _AFTER.get(key)
    seen = set()
    while nxt is not None and nxt not in seen:
        seen.add(nxt)
        cand = f"{prefix}.{nxt}"
        if cand in kept:
            return cand
        nxt = _AFTER.get(nxt)
    return None


def _text_key(aid: str, v: Variant) -> str:
    prefix, _, key = aid.partition(".")
    if key == "commander_at_post" and v.extra == "commander_absent" \
            and prefix == f"g{v.extra_grid}":
        return "commander_at_post_absent"
    return key


def _action_fields(aid: str, v: Variant, settings: RunConfig, q: dict[str, Any]) -> dict[str, Bi]:
    """Fields to format an action's texts."""
    prefix, _, _key = aid.partition(".")
    if prefix.startswith("g"):
        grid = int(prefix[1:])
        hazard = v.hazard
    elif prefix == "inc2":
        grid, hazard = v.extra_grid, v.second_hazard
    else:
        grid, hazard = v.incident_grid, v.hazard
    grade = "IV" if prefix == "inc2" else v.grade
    hz = settings.catalogue.hazards[hazard]
    rp = settings.response.reporting
    needs = _counted({k: n for k, n in hz.needs.items()}, "人")
    return {
        "grid": grid_name(grid), "hazard": hazard_name(hazard),
        "dept": DEPARTMENT_NAMES.get(hz.department, Bi(hz.department, hz.department)),
        "needs": needs, "supplies": _counted(dict(hz.supplies)),
        "limit": _minutes(float(rp.limits_s.get(grade, math.nan))),
        "source": Bi(rp.limits_source, rp.limits_source), "grade": Bi(grade, grade),
        "esc": Bi(hz.escalate_grade, hz.escalate_grade),
        "median": Bi(fmt_t(q["median_s"])[2:], fmt_t(q["median_s"])[2:]),
        "p90": Bi(fmt_t(q["p90_s"])[2:], fmt_t(q["p90_s"])[2:]),
    }


def _injects(v: Variant, settings: RunConfig) -> list[dict[str, Any]]:
    """The scenario injects with their texts (before the actions are assigned)."""
    d = settings.drill
    out: list[dict[str, Any]] = []

    def scene(h: str, k: int) -> Bi:
        scenes = HAZARD_SCENES.get(h, (GENERIC_SCENE,))
        return scenes[k % len(scenes)]

    def add(key: str, at_s: float, **fields: Bi | str) -> None:
        t = EXTRA[key]
        out.append({"key": key, "at_s": at_s, "type": t.type, "delivery": t.delivery,
                    "from": ROLES[t.sender], "to": ROLES[t.recipient],
                    "text": t.text.format(**fields), "narration": t.narration.format(**fields),
                    "dialogue": t.dialogue.format(**fields)})

    common = {"grids": _grids_name(v.grids), "clock": Bi(_clock(d.start_h), _clock(d.start_h))}
    if v.warning is not None:
        add("warning", 0.0, level=LEVELS.get(v.warning.level, Bi(v.warning.level,
                                                                   v.warning.level)),
            warning=warning_name(v.warning.name), **common)
    add("incident", v.incident_at_s, grid=grid_name(v.incident_grid),
        hazard=hazard_name(v.hazard), grade=Bi(f"{v.grade}级", v.grade),
        scene=scene(v.hazard, v.scene), **common)
    if v.evacuation_at_s >= 0:
        add("evacuation", v.evacuation_at_s, **common)
    if v.extra:
        hz = settings.catalogue.hazards[v.hazard]
        items = Bi("、".join(ZH.get(i, i) for i in hz.supplies),
                   _and([i.replace("_", " ") + "s" for i in hz.supplies]))
        factor = {"road_blocked": d.road_blocked_factor,
                  "comms_congested": d.comms_delay_factor}.get(v.extra, 1.0)
        add(v.extra, v.extra_at_s, grid=grid_name(v.extra_grid if v.extra_grid >= 0
                                                  else v.incident_grid),
            hazard=hazard_name(v.second_hazard or v.hazard), grade=Bi("IV级", "IV"),
            scene=scene(v.second_hazard, v.second_scene) if v.second_hazard else GENERIC_SCENE,
            items=items, factor=Bi(f"{factor:g}", f"{factor:g}"), **common)
    out.sort(key=lambda i: i["at_s"])  # scenes in time order (stable: warning first)
    return out


_CLAIMS: dict[str, tuple[str, ...]] = {
    "road_blocked": ("inc1.crew_complete", "inc1.first_on_scene", "inc1.department_arrived",
                     "inc1.handling_started"),
    "supply_short": ("inc1.handling_started",),
    "comms_congested": ("inc1.report_county", "inc1.report_township", "inc1.report_village"),
}


def _assign(injects: list[dict[str, Any]], kept: dict[str, Any], v: Variant) -> dict[str, int]:
    """Which inject prompts each action: ``action id -> index into injects``."""
    idx = {inj["key"]: i for i, inj in enumerate(injects)}
    owner: dict[str, int] = {}
    for aid in kept:
        prefix = aid.partition(".")[0]
        if prefix == "inc2":
            owner[aid] = idx["second_incident"]
        elif aid.partition(".")[2] in EVACUATION_ACTIONS and "evacuation" in idx:
            owner[aid] = idx["evacuation"]
        elif prefix.startswith("g") and "warning" in idx:
            owner[aid] = idx["warning"]
        else:
            owner[aid] = idx["incident"]
    if v.extra == "commander_absent":
        aid = f"g{v.extra_grid}.commander_at_post"
        if aid in kept:
            owner[aid] = idx[v.extra]
    for extra, claims in _CLAIMS.items():
        if v.extra == extra:
            hit = next((a for a in claims if a in kept), None)
            if hit is not None:
                owner[hit] = idx[extra]
    return owner


def _objectives(cats: list[str], hazard: str) -> list[dict[str, Any]]:
    out = []
    for i, cat in enumerate(cats, start=1):
        text, cap = OBJECTIVES[cat]
        cap = HAZARD_CAPABILITY.get(hazard, "search_rescue") if cap == "hazard" else cap
        out.append({"id": f"O{i}", "category": cat, "category_name": CATEGORIES[cat].as_dict(),
                    "capability": cap, "capability_name": CAPABILITIES[cap].as_dict(),
                    "text": text.as_dict()})
    return out


def _header(settings: RunConfig, scenario: Scenario, v: Variant, injects: list[dict[str, Any]],
            objectives: list[dict[str, Any]], end_s: float) -> dict[str, Any]:
    d = settings.drill
    region = scenario.region
    grids = region.grids
    h = region.hierarchy
    roster = scenario.roster
    hz = settings.catalogue.hazards[v.hazard]

    def place(g: int) -> Bi:
        vil = h.village_names[int(grids.village[g])]
        town = h.township_names[int(grids.township[g])]
        county = h.county_names[int(grids.county[g])]
        kind = grids.kind_name(g)
        return Bi(f"{vil}（{town}，{county}），{ZH[kind]}",
                  f"{vil}, {town}, {county} ({kind.replace('_', ' ')})")

    scenario_text = []
    for g in v.grids:
        scenario_text.append((grid_name(g) + Bi("：", ": ") + place(g) + Bi(
            f"；常住人口{int(grids.population[g]):,}人，{int(grids.households[g]):,}户，"
            f"行动不便等脆弱人群约占{grids.vulnerable_share[g]:.0%}。",
            f"; {int(grids.population[g]):,} residents in {int(grids.households[g]):,} "
            f"households, about {grids.vulnerable_share[g]:.0%} of them vulnerable."
        )).as_dict())
    for inj in injects:
        scenario_text.append((Bi(f"{fmt_t(inj['at_s'])}：", f"{fmt_t(inj['at_s'])}: ")
                              + inj["narration"]).as_dict())

    participants = []
    for g in v.grids:
        sl = slice(int(roster.by_grid_indptr[g]), int(roster.by_grid_indptr[g + 1]))
        roles = roster.roles[sl]
        counts = {r: int(np.count_nonzero(roles & (1 << PERSON_ROLES.index(r))))
                  for r in ("grid_leader", "commander", "grid_worker", "party_member")}
        counts["party_member"] -= counts["grid_leader"] + counts["commander"]  # leaders too
        cats = roster.categories[sl]
        by_cat = {c: int(np.count_nonzero(cats & (1 << i))) for i, c in enumerate(STANDBY)}
        absent = v.extra == "commander_absent" and g == v.extra_grid
        participants.append({
            "unit": grid_name(g).as_dict(),
            "people": Bi(f"网格长{counts['grid_leader']}人、现场指挥官{counts['commander']}人"
                         f"{'（演练中缺位）' if absent else ''}、网格员{counts['grid_worker']}人、"
                         f"党员{counts['party_member']}人",
                         f"{counts['grid_leader']} grid leader, {counts['commander']} on-site "
                         f"commander(s){' (absent in the drill)' if absent else ''}, "
                         f"{counts['grid_worker']} grid workers, {counts['party_member']} "
                         "party members").as_dict(),
            "role": Bi("参演：平急转换、初期处置、信息上报；七类储备力量：" + "、".join(
                f"{ZH[c]}{n}" for c, n in by_cat.items() if n),
                "Players: switch, initial response, reporting; standby categories: " + ", ".join(
                f"{c} {n}" for c, n in by_cat.items() if n)).as_dict(),
        })
    g0 = v.incident_grid
    staff = [
        (Bi(h.village_names[int(grids.village[g0])], h.village_names[int(grids.village[g0])]),
         ROLES["village_duty"]),
        (Bi(h.township_names[int(grids.township[g0])], h.township_names[int(grids.township[g0])]),
         ROLES["township_duty"]),
        (Bi(h.county_names[int(grids.county[g0])], h.county_names[int(grids.county[g0])]),
         ROLES["county_duty"]),
        (DEPARTMENT_NAMES.get(hz.department, Bi(hz.department, hz.department)),
         ROLES["department"]),
    ]
    for unit, role in staff:
        participants.append({"unit": unit.as_dict(), "people": Bi("值班人员", "on duty").as_dict(),
                             "role": (Bi("参演：", "Players: ") + role).as_dict()})
    for key, task in (("director", Bi("总体指挥演练进程，宣布开始、暂停、结束",
                                      "runs the drill; starts, pauses and ends it")),
                      ("controller", Bi("按主情景事件清单注入情景，必要时注入应急备用情景",
                                        "deliver the injects of the MSEL and, when needed, "
                                        "the contingency injects")),
                      ("evaluator", Bi("按评估表记录各项行动的实际时间和表现",
                                       "record the actual time and performance of every "
                                       "action on the evaluation sheet")),
                      ("safety", Bi("监督安全规则，可随时叫停", "enforces the safety rules; may "
                                                           "halt the drill")),
                      ("role_player", Bi("扮演报警群众和脆弱人员", "play callers and vulnerable "
                                                             "residents"))):
        participants.append({"unit": Bi("演练组织", "Exercise staff").as_dict(),
                             "people": ROLES[key].as_dict(), "role": task.as_dict()})

    resources = []
    for g in v.grids:
        stock = {SUPPLY_ITEMS[i]: int(n) for i, n in enumerate(scenario.supplies.grid_stock[g])}
        short = v.extra == "supply_short" and g == v.incident_grid
        resources.append({"unit": (grid_name(g) + Bi("物资储备点", " supply point")).as_dict(),
                          "items": (_counted(stock) + (Bi("（演练中缺少" + "、".join(
                              ZH.get(i, i) for i in hz.supplies) + "）", " (short of " + _and(
                              [i.replace("_", " ") for i in hz.supplies]) + " in the drill)")
                              if short else Bi("", "")
                          )).as_dict()})
    town = int(grids.township[g0])
    depot = {SUPPLY_ITEMS[i]: int(n) for i, n in enumerate(scenario.supplies.depot_stock[town])}
    resources.append({"unit": Bi(f"{h.township_names[town]}乡镇物资库",
                                 f"{h.township_names[town]} township depot").as_dict(),
                      "items": _counted(depot).as_dict()})
    st = scenario.stations.of(hz.department)
    if len(st):
        t = scenario.stations.time_to_grid_s[st, g0]
        s = int(st[int(np.argmin(t))])
        drive_min = max(1, round(float(t.min()) / 60.0))
        resources.append({"unit": DEPARTMENT_NAMES.get(hz.department, Bi(hz.department,
                                                                         hz.department)).as_dict(),
                          "items": Bi(f"最近站点位于G{int(scenario.stations.grid[s])}网格，"
                                      f"{int(scenario.stations.units[s])}个作业单元，"
                                      f"至G{g0}网格车程约{drive_min}分钟",
                                      f"nearest station in grid G{int(scenario.stations.grid[s])}, "
                                      f"{int(scenario.stations.units[s])} units, about "
                                      f"{drive_min} min drive to G{g0}").as_dict()})
    if v.evacuation_at_s >= 0:
        from gridsim.evacuation.run import run_shelters

        sh = run_shelters(settings, scenario, np.asarray(v.grids, dtype=np.int64))
        cx, cy = float(np.mean(grids.x_m[list(v.grids)])), float(np.mean(grids.y_m[list(v.grids)]))
        near = np.argsort(np.hypot(grids.x_m[sh.grid] - cx, grids.y_m[sh.grid] - cy),
                          kind="stable")[:3]
        sites_zh = "、".join(f"{sh.name[i]}（G{int(sh.grid[i])}网格，{int(sh.capacity[i]):,}人）"
                            for i in near.tolist())
        sites_en = ", ".join(f"{sh.name[i]} (grid G{int(sh.grid[i])}, {int(sh.capacity[i]):,} "
                             "places)" for i in near.tolist())
        resources.append({"unit": Bi("应急避难场所", "Shelters").as_dict(),
                          "items": Bi(f"{sh.n}处，最近：{sites_zh}",
                                      f"{sh.n} sites; nearest: {sites_en}").as_dict()})
    title = Bi(f"{d.name}：{ZH.get(v.hazard, v.hazard)}网格应急演练",
               f"{d.name}: grid emergency drill ({hazard_name(v.hazard).en})")
    return {
        "name": d.name,
        "title": title.as_dict(),
        "objectives": objectives,
        "scenario": scenario_text,
        "participants": participants,
        "resources": resources,
        "safety_rules": [r.as_dict() for r in SAFETY_RULES],
        "timing": Bi(f"演练开始（T+00:00）：模拟日 {_clock(d.start_h)}；预计结束：{fmt_t(end_s)}"
                     f"（最后一项行动的时间标准）。",
                     f"Start (T+00:00): {_clock(d.start_h)} on the simulated day; expected end "
                     f"{fmt_t(end_s)} (the time standard of the last action).").as_dict(),
    }


def build_script(settings: RunConfig, scenario: Scenario, v: Variant,
                 samples: dict[str, list[float]], choices: dict[str, str]) -> dict[str, Any]:
    """The whole drill script as a JSON-ready dict (see the module docstring)."""
    kept = _kept_actions(samples)
    stats = {aid: quantiles(xs) for aid, xs in kept.items()}
    injects = _injects(v, settings)
    owner = _assign(injects, kept, v)

    # rows: per inject its actions by median; the first shares the inject's time
    rows: list[dict[str, Any]] = []
    for i, inj in enumerate(injects):
        mine = sorted((a for a in kept if owner[a] == i),
                      key=lambda a: (stats[a]["median_s"], _ORDER.get(a.partition(".")[2], 0), a))
        for j, aid in enumerate(mine):
            rows.append({"aid": aid, "inject": i, "first": j == 0,
                         "time_s": inj["at_s"] if j == 0 else stats[aid]["median_s"]})
        if not mine:  # an inject whose action did not make it: it still goes in
            rows.append({"aid": None, "inject": i, "first": True, "time_s": inj["at_s"]})
    rows.sort(key=lambda r: (r["time_s"], r["inject"], not r["first"],
                             stats[r["aid"]]["median_s"] if r["aid"] else 0.0,
                             _ORDER.get((r["aid"] or ".").partition(".")[2], 0), r["aid"] or ""))
    seq_of = {r["aid"]: n for n, r in enumerate(rows, start=1) if r["aid"]}

    hazards = [v.hazard] + ([v.second_hazard] if v.second_hazard else [])
    cats_used = []
    for r in rows:
        if r["aid"]:
            cat = ACTIONS[_text_key(r["aid"], v)].category
            if cat not in cats_used:
                cats_used.append(cat)
    if v.extra == "comms_congested":
        cats_used.append("communications")
    order = list(OBJECTIVES)
    cats_used.sort(key=order.index)
    objectives = _objectives(cats_used, v.hazard)
    obj_of = {o["category"]: o for o in objectives}

    msel: list[dict[str, Any]] = []
    contingency: list[dict[str, Any]] = []
    expected = Bi("预期行动", "Expected action")
    observed = Bi("评估人观察记录", "Observed by the evaluator")
    first_seq: dict[int, int] = {}
    for n, r in enumerate(rows, start=1):
        inj = injects[r["inject"]]
        aid = r["aid"]
        if r["first"]:
            first_seq[r["inject"]] = n
        row: dict[str, Any] = {"seq": n, "time_s": r["time_s"], "time": fmt_t(r["time_s"]),
                               "inject_key": inj["key"]}
        if r["first"]:
            row.update({"inject_type": inj["type"].as_dict(),
                        "delivery_method": inj["delivery"].as_dict(),
                        "from": inj["from"].as_dict(), "to": inj["to"].as_dict(),
                        "inject": inj["text"].as_dict()})
        else:
            first = first_seq[r["inject"]]
            row.update({"inject_type": expected.as_dict(), "delivery_method": observed.as_dict(),
                        "from": Bi("—", "—").as_dict(),
                        "to": Bi("—", "—").as_dict(),
                        "inject": Bi(f"（接续第{first}条注入）", f"(follows inject #{first})"
                                     ).as_dict()})
        if aid is None:
            row.update({"action": "", "key": "", "grid": None, "expected_action": Bi(
                "接收并落实注入要求", "Acknowledge and act on the inject").as_dict(),
                "responsible_role": inj["to"].as_dict(), "median_s": None, "p10_s": None,
                "p90_s": None, "reached": 0, "samples_s": [], "after": None,
                "objective_id": "", "objective": Bi("", "").as_dict(),
                "category": "", "capability": "",
                "evaluation_criterion": Bi("—", "—").as_dict()})
            msel.append(row)
            continue
        key = _text_key(aid, v)
        at = ACTIONS[key]
        q = stats[aid]
        f = _action_fields(aid, v, settings, q)
        obj = obj_of[at.category]
        after = _after(aid, kept)
        prefix = aid.partition(".")[0]
        row.update({
            "action": aid, "key": key,
            "grid": int(prefix[1:]) if prefix.startswith("g") else (
                v.extra_grid if prefix == "inc2" else v.incident_grid),
            "expected_action": at.label.format(**f).as_dict(),
            "responsible_role": ROLES[at.role].as_dict() if at.role != "department"
            else f["dept"].as_dict(),
            "median_s": q["median_s"], "p10_s": q["p10_s"], "p90_s": q["p90_s"],
            "reached": q["reached"], "samples_s": kept[aid],
            "after": seq_of[after] if after else None,
            "objective_id": obj["id"],
            "objective": (Bi(f"{obj['id']} ", f"{obj['id']} ")
                          + CATEGORIES[at.category] + Bi("—", " — ")
                          + Bi(obj["capability_name"]["zh"], obj["capability_name"]["en"])
                          ).as_dict(),
            "category": at.category, "capability": obj["capability"],
            "evaluation_criterion": at.criterion.format(**f).as_dict(),
        })
        msel.append(row)
        contingency.append({
            "id": f"C{n}", "for_seq": n, "time_s": q["p90_s"], "time": fmt_t(q["p90_s"]),
            "condition": Bi(f"若第{n}条行动在 {fmt_t(q['p90_s'])} 前仍未完成",
                            f"If #{n} is not done by {fmt_t(q['p90_s'])}").as_dict(),
            "from": (ROLES[at.contingency_from] if at.contingency_from != "department"
                     else f["dept"]).as_dict(),
            "to": (ROLES[at.role] if at.role != "department" else f["dept"]).as_dict(),
            "inject": at.contingency.format(**f).as_dict(),
        })
    contingency.sort(key=lambda c: (c["time_s"], c["for_seq"]))

    timed = [m for m in msel if m["p90_s"] is not None]
    final = _final(timed)
    end_s = max((m["p90_s"] for m in timed), default=0.0)
    header = _header(settings, scenario, v, injects, objectives, end_s)
    return {
        "format": "gridsim-drill/1",
        "gridsim_version": __version__,
        "name": settings.drill.name,
        "seed": settings.seed,
        "replications": settings.drill.replications,
        "start_h": settings.drill.start_h,
        "horizon_h": settings.drill.horizon_h,
        "scenario": settings.scenario.name,
        "catalogue": settings.catalogue.name,
        "hazard_setting": settings.hazard.name,
        "response": settings.response.name,
        "choices": dict(sorted(choices.items())),
        "variant": v.as_dict(),
        "hazards": hazards,
        "grade_names": {g: ZH[g] for g in GRADES},
        "header": header,
        "injects": [{"key": i["key"], "at_s": i["at_s"], "time": fmt_t(i["at_s"]),
                     "type": i["type"].as_dict(), "delivery": i["delivery"].as_dict(),
                     "from": i["from"].as_dict(), "to": i["to"].as_dict(),
                     "text": i["text"].as_dict(), "narration": i["narration"].as_dict(),
                     "dialogue": i["dialogue"].as_dict()} for i in injects],
        "msel_columns": list(MSEL_COLUMNS),
        "msel": msel,
        "contingency": contingency,
        "final_seq": final,
        "end_s": end_s,
    }


def _final(timed: list[dict[str, Any]]) -> int | None:
    """The drill's final action (its clearance): the evacuation's clearance, else the drill
    incident's resolution, else the action with the latest median."""
    for key in ("clearance", "resolved"):
        cands = [m for m in timed if m["key"] == key and not m["action"].startswith("inc2")]
        if cands:
            return int(max(cands, key=lambda m: m["median_s"])["seq"])
    if not timed:
        return None
    return int(max(timed, key=lambda m: m["median_s"])["seq"])
