"""A drill script (演练脚本) from a variant and its simulated action times.

The script is a :class:`~gridsim.drills.records.DrillScript` (written as ``drill.json``; the
Markdown and CSV files and the after-action evaluation are made from it alone):

* ``header``: name, objectives, hazard scenario, participants and roles, resources, safety
  rules, timing, in Chinese and English;
* ``msel``: the master scenario events list, one :class:`~gridsim.drills.records.MselRow` per
  expected action, ordered by time. The first action an inject prompts shares the inject's row
  (its time is the inject's delivery time); the actions that follow it are rows of their own
  ("expected action", timed at their simulated median). Every row has the HSEEP MSEL columns
  and the action's time standard: the median and 90th percentile (numpy's linear quantiles) of
  its simulated T+ times over the replications, which are stored with it (``samples_s``,
  ``None`` where the replication did not reach the action within the horizon);
* ``contingency``: for every row, the inject a controller delivers when the action has not
  been observed by its 90th percentile;
* the chain: for every row, the row it waits on (``after``), so that an evaluation can tell
  which late action delayed the drill's final action (its clearance).

An action is in the script when at least half of the replications reach it; an action that
happens at the same moment as another in every replication (e.g. dispatch and arrival when the
responders wait at the post next to the scene) is merged into it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridsim import __version__
from gridsim.drills.records import (
    EVACUATION_ACTIONS,
    INCIDENT_ACTIONS,
    MSEL_COLUMNS,
    SWITCH_ACTIONS,
    Action,
    ActionId,
    Contingency,
    DrillScript,
    Header,
    Inject,
    MselRow,
    Objective,
    Participant,
    Resource,
    TimeStandard,
    fmt_t,
)
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
from gridsim.drills.timings import Samples
from gridsim.drills.variants import Variant
from gridsim.engine.travel import travel_for
from gridsim.evacuation.run import run_shelters
from gridsim.model.params import RunConfig
from gridsim.model.vocab import CATEGORIES as STANDBY
from gridsim.model.vocab import DEPARTMENTS, GRADES, SUPPLY_ITEMS, ZH
from gridsim.model.vocab import ROLES as PERSON_ROLES
from gridsim.place.scenario import Scenario

__all__ = ["MSEL_COLUMNS", "build_script", "fmt_t", "quantiles"]

#: Share of replications that must reach an action for it to be in the script.
MIN_REACHED = 0.5

#: Samples are stored (and quantiles computed) to this many decimals of a second.
SAMPLE_DECIMALS = 1

_EN_HAZARD = {"building_fire": "building fire", "ebike_fire": "e-bike fire",
              "gas_leak": "gas leak", "waterlogging": "urban waterlogging",
              "flash_flood": "flash flood", "landslide": "landslide",
              "forest_fire": "forest fire"}

A = Action
# the action an action waits on at the same place (None: the inject itself); special cases and
# actions left out of the script are resolved at build time
_AFTER: dict[Action, Action | None] = {
    A.COMMANDER_AT_POST: None, A.QUORUM_ASSEMBLED: None, A.POST_READY: A.QUORUM_ASSEMBLED,
    A.INCIDENT_REPORTED: None, A.REPORT_VILLAGE: A.INCIDENT_REPORTED,
    A.REPORT_TOWNSHIP: A.REPORT_VILLAGE, A.REPORT_COUNTY: A.REPORT_TOWNSHIP,
    A.DISPATCHED: A.INCIDENT_REPORTED, A.FIRST_ON_SCENE: A.DISPATCHED,
    A.CREW_COMPLETE: A.FIRST_ON_SCENE, A.HANDLING_STARTED: A.CREW_COMPLETE,
    A.WHISTLE: A.HANDLING_STARTED, A.DEPARTMENT_ARRIVED: A.WHISTLE,
    A.RESOLVED: A.HANDLING_STARTED,
    A.FIRST_DEPARTED: None, A.WARNED_ALL: None, A.VULNERABLE_HELPED: None,
    A.LAST_DEPARTED: A.WARNED_ALL, A.FIRST_SHELTERED: A.FIRST_DEPARTED,
    A.CLEARANCE: A.LAST_DEPARTED,
}

# the order of actions that happen at the same moment
_ORDER = {k: i for i, k in enumerate((*SWITCH_ACTIONS, *INCIDENT_ACTIONS,
                                      *EVACUATION_ACTIONS))}

# (dropped, kept): drop the first when it equals the second in every replication
_MERGE = ((A.DISPATCHED, A.FIRST_ON_SCENE), (A.CREW_COMPLETE, A.FIRST_ON_SCENE),
          (A.CREW_COMPLETE, A.HANDLING_STARTED))

# the action of the drill incident an extra inject prompts: the first of these in the script
_CLAIMS: dict[str, tuple[ActionId, ...]] = {
    extra: tuple(ActionId.of_incident(1, k) for k in keys) for extra, keys in (
        ("road_blocked", (A.CREW_COMPLETE, A.FIRST_ON_SCENE, A.DEPARTMENT_ARRIVED,
                          A.HANDLING_STARTED)),
        ("supply_short", (A.HANDLING_STARTED,)),
        ("comms_congested", (A.REPORT_COUNTY, A.REPORT_TOWNSHIP, A.REPORT_VILLAGE)),
    )
}
del A

#: An action's samples as the script stores them (rounded; None: not reached).
Kept = dict[ActionId, tuple[float | None, ...]]


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def quantiles(samples: Sequence[float | None]) -> TimeStandard:
    """The median, 10th and 90th percentile and the count of the reached samples (``None``:
    not reached). Quantiles are numpy's linear ones over the reached samples."""
    x = np.array([s for s in samples if s is not None], dtype=float)
    if len(x) == 0:
        return TimeStandard.none()
    q = np.quantile(x, [0.5, 0.1, 0.9])
    return TimeStandard(median_s=float(q[0]), p10_s=float(q[1]), p90_s=float(q[2]),
                        reached=len(x))


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
def _kept_actions(samples: Samples) -> Kept:
    """Actions reached often enough, samples rounded, merged where identical."""
    n = max((len(v) for v in samples.values()), default=0)
    kept: Kept = {}
    for aid, xs in samples.items():
        r = tuple(_rounded(x) for x in xs)
        if sum(v is not None for v in r) >= MIN_REACHED * n and n > 0:
            kept[aid] = r
    for drop, keep in _MERGE:
        for aid in list(kept):
            if aid.key != drop:
                continue
            other = aid.sibling(keep)
            if other in kept and kept[aid] == kept[other]:
                del kept[aid]
    return kept


def _after(aid: ActionId, stats: dict[ActionId, TimeStandard]) -> ActionId | None:
    """The kept action ``aid`` waits on (its chain predecessor), or None."""
    med = {a: s.median_s for a, s in stats.items()}
    if aid.key == Action.WHISTLE:  # at once (at the report) or after handling began
        rep = aid.sibling(Action.INCIDENT_REPORTED)
        if rep in med and (med[aid] or 0.0) <= (med[rep] or 0.0) + 1.0:
            return rep
    if aid.key == Action.CLEARANCE:  # the later of the last to leave and the last helped out
        helped = aid.sibling(Action.VULNERABLE_HELPED)
        if helped in med and (med[helped] or 0.0) > (
                med.get(aid.sibling(Action.LAST_DEPARTED)) or 0.0):
            return helped
    if aid.key == Action.RESOLVED:
        dep = aid.sibling(Action.DEPARTMENT_ARRIVED)
        if dep in med and (med[dep] or 0.0) <= (med[aid] or 0.0):
            return dep
    nxt = _AFTER.get(aid.key)
    seen = set()
    while nxt is not None and nxt not in seen:
        seen.add(nxt)
        cand = aid.sibling(nxt)
        if cand in med:
            return cand
        nxt = _AFTER.get(nxt)
    return None


def _text_key(aid: ActionId, v: Variant) -> str:
    """The key of the action's texts in :data:`gridsim.drills.texts.ACTIONS`."""
    if aid.key == Action.COMMANDER_AT_POST and v.extra == "commander_absent" \
            and aid.grid == v.extra_grid:
        return "commander_at_post_absent"
    return aid.key.value


def _action_fields(aid: ActionId, v: Variant, settings: RunConfig, q: TimeStandard
                   ) -> dict[str, Bi]:
    """Fields to format an action's texts."""
    if aid.grid is not None:
        grid = aid.grid
        hazard = v.hazard
    elif aid.second:
        grid, hazard = v.extra_grid, v.second_hazard
    else:
        grid, hazard = v.incident_grid, v.hazard
    grade = "IV" if aid.second else v.grade
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
        "median": Bi(fmt_t(q.median_s)[2:], fmt_t(q.median_s)[2:]),
        "p90": Bi(fmt_t(q.p90_s)[2:], fmt_t(q.p90_s)[2:]),
    }


def _injects(v: Variant, settings: RunConfig) -> list[Inject]:
    """The scenario injects with their texts, in time order."""
    d = settings.drill
    out: list[Inject] = []

    def scene(h: str, k: int) -> Bi:
        scenes = HAZARD_SCENES.get(h, (GENERIC_SCENE,))
        return scenes[k % len(scenes)]

    def add(key: str, at_s: float, **fields: Bi | str) -> None:
        t = EXTRA[key]
        out.append(Inject(key=key, at_s=at_s, type=t.type, delivery=t.delivery,
                          sender=ROLES[t.sender], recipient=ROLES[t.recipient],
                          text=t.text.format(**fields), narration=t.narration.format(**fields),
                          dialogue=t.dialogue.format(**fields)))

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
    out.sort(key=lambda i: i.at_s)  # scenes in time order (stable: warning first)
    return out


def _assign(injects: list[Inject], kept: Kept, v: Variant) -> dict[ActionId, int]:
    """Which inject prompts each action: ``action id -> index into injects``."""
    idx = {inj.key: i for i, inj in enumerate(injects)}
    owner: dict[ActionId, int] = {}
    for aid in kept:
        if aid.second:
            owner[aid] = idx["second_incident"]
        elif aid.key in EVACUATION_ACTIONS and "evacuation" in idx:
            owner[aid] = idx["evacuation"]
        elif aid.grid is not None and "warning" in idx:
            owner[aid] = idx["warning"]
        else:
            owner[aid] = idx["incident"]
    if v.extra == "commander_absent":
        absent = ActionId.of_grid(v.extra_grid, Action.COMMANDER_AT_POST)
        if absent in kept:
            owner[absent] = idx[v.extra]
    for extra, claims in _CLAIMS.items():
        if v.extra == extra:
            hit = next((a for a in claims if a in kept), None)
            if hit is not None:
                owner[hit] = idx[extra]
    return owner


def _objectives(cats: list[str], hazard: str) -> list[Objective]:
    out = []
    for i, cat in enumerate(cats, start=1):
        text, cap = OBJECTIVES[cat]
        cap = HAZARD_CAPABILITY.get(hazard, "search_rescue") if cap == "hazard" else cap
        out.append(Objective(id=f"O{i}", category=cat, category_name=CATEGORIES[cat],
                             capability=cap, capability_name=CAPABILITIES[cap], text=text))
    return out


def _header(settings: RunConfig, scenario: Scenario, v: Variant, injects: list[Inject],
            objectives: list[Objective], end_s: float) -> Header:
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

    scenario_text: list[Bi] = []
    for g in v.grids:
        scenario_text.append(grid_name(g) + Bi("：", ": ") + place(g) + Bi(
            f"；常住人口{int(grids.population[g]):,}人，{int(grids.households[g]):,}户，"
            f"行动不便等脆弱人群约占{grids.vulnerable_share[g]:.0%}。",
            f"; {int(grids.population[g]):,} residents in {int(grids.households[g]):,} "
            f"households, about {grids.vulnerable_share[g]:.0%} of them vulnerable."
        ))
    for inj in injects:
        scenario_text.append(Bi(f"{inj.time}：", f"{inj.time}: ") + inj.narration)

    participants: list[Participant] = []
    for g in v.grids:
        sl = slice(int(roster.by_grid_indptr[g]), int(roster.by_grid_indptr[g + 1]))
        roles = roster.roles[sl]
        counts = {r: int(np.count_nonzero(roles & (1 << PERSON_ROLES.index(r))))
                  for r in ("grid_leader", "commander", "grid_worker", "party_member")}
        counts["party_member"] -= counts["grid_leader"] + counts["commander"]  # leaders too
        cats = roster.categories[sl]
        by_cat = {c: int(np.count_nonzero(cats & (1 << i))) for i, c in enumerate(STANDBY)}
        absent = v.extra == "commander_absent" and g == v.extra_grid
        participants.append(Participant(
            unit=grid_name(g),
            people=Bi(f"网格长{counts['grid_leader']}人、现场指挥官{counts['commander']}人"
                      f"{'（演练中缺位）' if absent else ''}、网格员{counts['grid_worker']}人、"
                      f"党员{counts['party_member']}人",
                      f"{counts['grid_leader']} grid leader, {counts['commander']} on-site "
                      f"commander(s){' (absent in the drill)' if absent else ''}, "
                      f"{counts['grid_worker']} grid workers, {counts['party_member']} "
                      "party members"),
            role=Bi("参演：平急转换、初期处置、信息上报；七类储备力量：" + "、".join(
                f"{ZH[c]}{n}" for c, n in by_cat.items() if n),
                "Players: switch, initial response, reporting; standby categories: " + ", ".join(
                f"{c} {n}" for c, n in by_cat.items() if n)),
        ))
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
        participants.append(Participant(unit=unit, people=Bi("值班人员", "on duty"),
                                        role=Bi("参演：", "Players: ") + role))
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
        participants.append(Participant(unit=Bi("演练组织", "Exercise staff"),
                                        people=ROLES[key], role=task))

    resources: list[Resource] = []
    for g in v.grids:
        stock = {SUPPLY_ITEMS[i]: int(n) for i, n in enumerate(scenario.supplies.grid_stock[g])}
        short = v.extra == "supply_short" and g == v.incident_grid
        resources.append(Resource(unit=grid_name(g) + Bi("物资储备点", " supply point"),
                                  items=_counted(stock) + (Bi("（演练中缺少" + "、".join(
                                      ZH.get(i, i) for i in hz.supplies) + "）", " (short of "
                                      + _and([i.replace("_", " ") for i in hz.supplies])
                                      + " in the drill)") if short else Bi("", ""))))
    town = int(grids.township[g0])
    depot = {SUPPLY_ITEMS[i]: int(n) for i, n in enumerate(scenario.supplies.depot_stock[town])}
    resources.append(Resource(unit=Bi(f"{h.township_names[town]}乡镇物资库",
                                      f"{h.township_names[town]} township depot"),
                              items=_counted(depot)))
    st = scenario.stations.of(hz.department)
    if len(st):
        near_ids, near_t = travel_for(scenario, settings.response).nearest_stations(
            DEPARTMENTS.index(hz.department), g0)
        s = int(near_ids[0])
        drive_min = max(1, round(float(near_t[0]) / 60.0))
        resources.append(Resource(unit=DEPARTMENT_NAMES.get(hz.department, Bi(hz.department,
                                                                             hz.department)),
                                  items=Bi(f"最近站点位于G{int(scenario.stations.grid[s])}网格，"
                                           f"{int(scenario.stations.units[s])}个作业单元，"
                                           f"至G{g0}网格车程约{drive_min}分钟",
                                           "nearest station in grid "
                                           f"G{int(scenario.stations.grid[s])}, "
                                           f"{int(scenario.stations.units[s])} units, about "
                                           f"{drive_min} min drive to G{g0}")))
    if v.evacuation_at_s >= 0:
        sh = run_shelters(settings, scenario, np.asarray(v.grids, dtype=np.int64))
        cx, cy = float(np.mean(grids.x_m[list(v.grids)])), float(np.mean(grids.y_m[list(v.grids)]))
        near = np.argsort(np.hypot(grids.x_m[sh.grid] - cx, grids.y_m[sh.grid] - cy),
                          kind="stable")[:3]
        sites_zh = "、".join(f"{sh.name[i]}（G{int(sh.grid[i])}网格，{int(sh.capacity[i]):,}人）"
                            for i in near.tolist())
        sites_en = ", ".join(f"{sh.name[i]} (grid G{int(sh.grid[i])}, {int(sh.capacity[i]):,} "
                             "places)" for i in near.tolist())
        resources.append(Resource(unit=Bi("应急避难场所", "Shelters"),
                                  items=Bi(f"{sh.n}处，最近：{sites_zh}",
                                           f"{sh.n} sites; nearest: {sites_en}")))
    title = Bi(f"{d.name}：{ZH.get(v.hazard, v.hazard)}网格应急演练",
               f"{d.name}: grid emergency drill ({hazard_name(v.hazard).en})")
    return Header(
        name=d.name,
        title=title,
        objectives=tuple(objectives),
        scenario=tuple(scenario_text),
        participants=tuple(participants),
        resources=tuple(resources),
        safety_rules=tuple(SAFETY_RULES),
        timing=Bi(f"演练开始（T+00:00）：模拟日 {_clock(d.start_h)}；预计结束：{fmt_t(end_s)}"
                  f"（最后一项行动的时间标准）。",
                  f"Start (T+00:00): {_clock(d.start_h)} on the simulated day; expected end "
                  f"{fmt_t(end_s)} (the time standard of the last action)."),
    )



@dataclass(frozen=True)
class _Slot:
    """A row of the MSEL before it is numbered: the action (None: the inject alone), the
    inject that prompts it, whether it shares the inject's row, and its time."""

    action: ActionId | None
    inject: int
    first: bool
    time_s: float


def build_script(settings: RunConfig, scenario: Scenario, v: Variant, samples: Samples,
                 choices: dict[str, str]) -> DrillScript:
    """The whole drill script (see the module docstring)."""
    kept = _kept_actions(samples)
    stats = {aid: quantiles(xs) for aid, xs in kept.items()}
    injects = _injects(v, settings)
    owner = _assign(injects, kept, v)

    def median(aid: ActionId) -> float:
        m = stats[aid].median_s
        assert m is not None  # a kept action was reached at least once
        return m

    # rows: per inject its actions by median; the first shares the inject's time
    slots: list[_Slot] = []
    for i, inj in enumerate(injects):
        mine = sorted((a for a in kept if owner[a] == i),
                      key=lambda a: (median(a), _ORDER.get(a.key, 0), str(a)))
        for j, act in enumerate(mine):
            slots.append(_Slot(act, i, j == 0, inj.at_s if j == 0 else median(act)))
        if not mine:  # an inject whose action did not make it: it still goes in
            slots.append(_Slot(None, i, True, inj.at_s))
    slots.sort(key=lambda r: (r.time_s, r.inject, not r.first,
                              median(r.action) if r.action is not None else 0.0,
                              _ORDER.get(r.action.key, 0) if r.action is not None else 0,
                              str(r.action) if r.action is not None else ""))
    seq_of = {r.action: n for n, r in enumerate(slots, start=1) if r.action is not None}

    hazards = [v.hazard] + ([v.second_hazard] if v.second_hazard else [])
    cats_used: list[str] = []
    for r in slots:
        if r.action is not None:
            cat = ACTIONS[_text_key(r.action, v)].category
            if cat not in cats_used:
                cats_used.append(cat)
    if v.extra == "comms_congested":
        cats_used.append("communications")
    order = list(OBJECTIVES)
    cats_used.sort(key=order.index)
    objectives = _objectives(cats_used, v.hazard)
    obj_of = {o.category: o for o in objectives}

    msel: list[MselRow] = []
    contingency: list[Contingency] = []
    expected = Bi("预期行动", "Expected action")
    observed = Bi("评估人观察记录", "Observed by the evaluator")
    dash = Bi("—", "—")
    first_seq: dict[int, int] = {}
    for n, r in enumerate(slots, start=1):
        inj = injects[r.inject]
        aid = r.action
        if r.first:
            first_seq[r.inject] = n
            inject_type, delivery, sender, recipient, text = (
                inj.type, inj.delivery, inj.sender, inj.recipient, inj.text)
        else:
            first = first_seq[r.inject]
            inject_type, delivery, sender, recipient, text = (
                expected, observed, dash, dash,
                Bi(f"（接续第{first}条注入）", f"(follows inject #{first})"))
        if aid is None:
            msel.append(MselRow(
                seq=n, time_s=r.time_s, inject_key=inj.key, inject_type=inject_type,
                delivery_method=delivery, sender=sender, recipient=recipient, inject=text,
                action=None, text_key="", grid=None,
                expected_action=Bi("接收并落实注入要求", "Acknowledge and act on the inject"),
                responsible_role=inj.recipient, standard=TimeStandard.none(), samples_s=(),
                after=None, objective_id="", objective=Bi("", ""), category="", capability="",
                evaluation_criterion=dash))
            continue
        key = _text_key(aid, v)
        at = ACTIONS[key]
        q = stats[aid]
        f = _action_fields(aid, v, settings, q)
        obj = obj_of[at.category]
        after = _after(aid, stats)
        role = ROLES[at.role] if at.role != "department" else f["dept"]
        msel.append(MselRow(
            seq=n, time_s=r.time_s, inject_key=inj.key, inject_type=inject_type,
            delivery_method=delivery, sender=sender, recipient=recipient, inject=text,
            action=aid, text_key=key,
            grid=aid.grid if aid.grid is not None else (
                v.extra_grid if aid.second else v.incident_grid),
            expected_action=at.label.format(**f), responsible_role=role, standard=q,
            samples_s=kept[aid], after=seq_of[after] if after is not None else None,
            objective_id=obj.id,
            objective=(Bi(f"{obj.id} ", f"{obj.id} ") + CATEGORIES[at.category]
                       + Bi("—", " — ") + obj.capability_name),
            category=at.category, capability=obj.capability,
            evaluation_criterion=at.criterion.format(**f)))
        p90 = q.p90_s
        assert p90 is not None  # a kept action was reached at least once
        contingency.append(Contingency(
            id=f"C{n}", for_seq=n, time_s=p90,
            condition=Bi(f"若第{n}条行动在 {fmt_t(p90)} 前仍未完成",
                         f"If #{n} is not done by {fmt_t(p90)}"),
            sender=(ROLES[at.contingency_from] if at.contingency_from != "department"
                    else f["dept"]),
            recipient=role, inject=at.contingency.format(**f)))
    contingency.sort(key=lambda c: (c.time_s, c.for_seq))

    timed = [m for m in msel if m.p90_s is not None]
    final = _final(timed)
    end_s = max((m.p90_s for m in timed if m.p90_s is not None), default=0.0)
    header = _header(settings, scenario, v, injects, objectives, end_s)
    return DrillScript(
        gridsim_version=__version__,
        name=settings.drill.name,
        seed=settings.seed,
        replications=settings.drill.replications,
        start_h=settings.drill.start_h,
        horizon_h=settings.drill.horizon_h,
        scenario=settings.scenario.name,
        catalogue=settings.catalogue.name,
        hazard_setting=settings.hazard.name,
        response=settings.response.name,
        choices=dict(sorted(choices.items())),
        variant=v.as_dict(),
        hazards=tuple(hazards),
        grade_names={g: ZH[g] for g in GRADES},
        header=header,
        injects=tuple(injects),
        msel_columns=MSEL_COLUMNS,
        msel=tuple(msel),
        contingency=tuple(contingency),
        final_seq=final,
        end_s=end_s,
    )


def _final(timed: list[MselRow]) -> int | None:
    """The drill's final action (its clearance): the evacuation's clearance, else the drill
    incident's resolution, else the action with the latest median."""
    def median(m: MselRow) -> float:
        return m.median_s if m.median_s is not None else -math.inf

    for key in ("clearance", "resolved"):
        cands = [m for m in timed if m.text_key == key
                 and not (m.action is not None and m.action.second)]
        if cands:
            return int(max(cands, key=median).seq)
    if not timed:
        return None
    return int(max(timed, key=median).seq)
