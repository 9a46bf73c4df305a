"""Writing a drill: drill_script.md, msel.csv, evaluation_sheet.md, drill.json, the log template;
and the after-action files: after_action.md, after_action.png, after_action.json.

Markdown files hold a complete Chinese part and then a complete English part, so that either can
be printed alone. CSV cells carry both languages (``中文 / English``). Every file is written
atomically (:func:`gridsim.fsutil.write_atomic`) and holds no wall-clock time and no absolute
path: the same config and seed give byte-identical files.

This is where the typed records of :mod:`gridsim.drills.records` become text:
:func:`drill_json` and :func:`after_action_json` are the JSON forms of a script and of an
evaluation (read back by :func:`gridsim.drills.evaluate.load_drill`), the Markdown and CSV files
are made from the same records.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.drills.records import (
    AFTER_ACTION_FORMAT,
    DRILL_FORMAT,
    MSEL_COLUMNS,
    ActionResult,
    AfterAction,
    Contingency,
    DrillScript,
    Header,
    Inject,
    MselRow,
    Objective,
    ObjectiveResult,
    fmt_t,
)
from gridsim.drills.texts import RATINGS, Bi
from gridsim.errors import os_error
from gridsim.fsutil import PARTIAL_SUFFIX, write_atomic
from gridsim.output.run_folder import check_path_length

__all__ = ["AFTER_ACTION_FILES", "DRILL_FILES", "LOG_COLUMNS", "after_action_json",
           "check_folder", "drill_json", "write_after_action", "write_drill"]

#: Files of a drill folder (the log template comes on top).
DRILL_FILES: tuple[str, ...] = ("drill_script.md", "msel.csv", "evaluation_sheet.md",
                                "drill.json")

#: Columns of a drill's log (the times recorded on the day).
LOG_COLUMNS: tuple[str, ...] = ("seq", "action", "actual")

LOG_TEMPLATE = "log_template.csv"

#: Files of an after-action evaluation.
AFTER_ACTION_FILES: tuple[str, ...] = ("after_action.md", "after_action.png",
                                      "after_action.json")

# the longest name written into a drill folder, as its temporary file
_LONGEST = max((*DRILL_FILES, LOG_TEMPLATE, *AFTER_ACTION_FILES), key=len) + PARTIAL_SUFFIX


def check_folder(folder: Path, what: str = "the drill folder") -> None:
    """Refuse, before anything is simulated or written, a folder that cannot be written: a name
    too long for the file system (``PC_NAME_MAX`` a segment, usually 255 bytes), a file where a
    folder of the path should be, a place that is read-only or not ours. Raises a
    :class:`~gridsim.errors.UserError` with one line: what, which path, what to do."""
    check_path_length(folder, reserve=len(_LONGEST) + 1)
    existing = Path(os.path.abspath(folder))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    action = f"cannot write {what}"
    if existing.exists() and not existing.is_dir():
        code = errno.EEXIST if existing == Path(os.path.abspath(folder)) else errno.ENOTDIR
        raise os_error(OSError(code, os.strerror(code), str(existing)), action)
    if not os.access(existing, os.W_OK | os.X_OK):
        code = errno.EROFS if _read_only(existing) else errno.EACCES
        raise os_error(OSError(code, os.strerror(code), str(existing)), action)


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on this platform
        return False


def _t(b: Bi, lang: str) -> str:
    return b.zh if lang == "zh" else b.en


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(_cell(h) for h in header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _both(b: Bi) -> str:
    return b.both(" / ")


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


# ----------------------------------------------------------------------------------------------
# JSON forms (drill.json, after_action.json: their keys are a public contract)
# ----------------------------------------------------------------------------------------------
def _objective_json(o: Objective) -> dict[str, Any]:
    return {"id": o.id, "category": o.category, "category_name": o.category_name.as_dict(),
            "capability": o.capability, "capability_name": o.capability_name.as_dict(),
            "text": o.text.as_dict()}


def _header_json(h: Header) -> dict[str, Any]:
    return {
        "name": h.name,
        "title": h.title.as_dict(),
        "objectives": [_objective_json(o) for o in h.objectives],
        "scenario": [b.as_dict() for b in h.scenario],
        "participants": [{"unit": p.unit.as_dict(), "people": p.people.as_dict(),
                          "role": p.role.as_dict()} for p in h.participants],
        "resources": [{"unit": r.unit.as_dict(), "items": r.items.as_dict()}
                      for r in h.resources],
        "safety_rules": [b.as_dict() for b in h.safety_rules],
        "timing": h.timing.as_dict(),
    }


def _inject_json(i: Inject) -> dict[str, Any]:
    return {"key": i.key, "at_s": i.at_s, "time": i.time, "type": i.type.as_dict(),
            "delivery": i.delivery.as_dict(), "from": i.sender.as_dict(),
            "to": i.recipient.as_dict(), "text": i.text.as_dict(),
            "narration": i.narration.as_dict(), "dialogue": i.dialogue.as_dict()}


def _row_json(m: MselRow) -> dict[str, Any]:
    return {
        "seq": m.seq, "time_s": m.time_s, "time": m.time, "inject_key": m.inject_key,
        "inject_type": m.inject_type.as_dict(), "delivery_method": m.delivery_method.as_dict(),
        "from": m.sender.as_dict(), "to": m.recipient.as_dict(), "inject": m.inject.as_dict(),
        "action": str(m.action) if m.action is not None else "", "key": m.text_key,
        "grid": m.grid, "expected_action": m.expected_action.as_dict(),
        "responsible_role": m.responsible_role.as_dict(),
        "median_s": m.standard.median_s, "p10_s": m.standard.p10_s, "p90_s": m.standard.p90_s,
        "reached": m.standard.reached, "samples_s": list(m.samples_s), "after": m.after,
        "objective_id": m.objective_id, "objective": m.objective.as_dict(),
        "category": m.category, "capability": m.capability,
        "evaluation_criterion": m.evaluation_criterion.as_dict(),
    }


def _contingency_json(c: Contingency) -> dict[str, Any]:
    return {"id": c.id, "for_seq": c.for_seq, "time_s": c.time_s, "time": c.time,
            "condition": c.condition.as_dict(), "from": c.sender.as_dict(),
            "to": c.recipient.as_dict(), "inject": c.inject.as_dict()}


def drill_json(s: DrillScript) -> dict[str, Any]:
    """drill.json's content."""
    return {
        "format": DRILL_FORMAT,
        "gridsim_version": s.gridsim_version,
        "name": s.name,
        "seed": s.seed,
        "replications": s.replications,
        "start_h": s.start_h,
        "horizon_h": s.horizon_h,
        "scenario": s.scenario,
        "catalogue": s.catalogue,
        "hazard_setting": s.hazard_setting,
        "response": s.response,
        "choices": dict(s.choices),
        "variant": dict(s.variant),
        "hazards": list(s.hazards),
        "grade_names": dict(s.grade_names),
        "header": _header_json(s.header),
        "injects": [_inject_json(i) for i in s.injects],
        "msel_columns": list(s.msel_columns),
        "msel": [_row_json(m) for m in s.msel],
        "contingency": [_contingency_json(c) for c in s.contingency],
        "final_seq": s.final_seq,
        "end_s": s.end_s,
    }


def _action_result_json(a: ActionResult) -> dict[str, Any]:
    return {
        "seq": a.seq, "action": str(a.action), "key": a.text_key, "label": a.label.as_dict(),
        "role": a.role.as_dict(), "objective_id": a.objective_id, "capability": a.capability,
        "median_s": a.median_s, "p10_s": a.p10_s, "p90_s": a.p90_s, "actual_s": a.actual_s,
        "percentile": a.percentile, "late": a.late, "excess_s": a.excess_s, "after": a.after,
        "added_delay_s": a.added_delay_s, "corrective": a.corrective.as_dict(),
        "capability_name": a.capability_name.as_dict(),
    }


def _objective_result_json(o: ObjectiveResult) -> dict[str, Any]:
    return {**_objective_json(o.objective), "actions": o.actions, "late": o.late,
            "missing": o.missing, "rating": o.rating}


def after_action_json(ev: AfterAction) -> dict[str, Any]:
    """after_action.json's content."""
    return {
        "format": AFTER_ACTION_FORMAT,
        "name": ev.name, "title": ev.title.as_dict(), "seed": ev.seed,
        "scenario": ev.scenario, "replications": ev.replications,
        "observed": ev.observed, "late": ev.late, "missing": ev.missing,
        "late_seqs": list(ev.late_seqs), "final_seq": ev.final_seq,
        "chain": list(ev.chain), "most_delaying": list(ev.most_delaying),
        "objectives": [_objective_result_json(o) for o in ev.objectives],
        "actions": [_action_result_json(a) for a in ev.actions],
    }


# ----------------------------------------------------------------------------------------------
# drill script
# ----------------------------------------------------------------------------------------------
_L: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "演练脚本（导演脚本）", "sub": "种子 {seed} · 由 gridsim {version} 依据 {n} 次模"
                                      "拟生成",
        "s1": "一、演练名称与目标", "name": "演练名称", "objectives": "演练目标",
        "s2": "二、情景设定", "s3": "三、参演单位与角色", "s4": "四、资源保障",
        "s5": "五、安全规则",
        "s6": "六、演练时间", "s7": "七、主情景事件清单（MSEL）", "s8": "八、导演脚本",
        "s9": "九、应急备用注入", "s10": "十、模拟依据",
        "unit": "单位", "people": "人员", "role": "角色与任务", "items": "物资与力量",
        "msel": ["序号", "时间", "注入类型", "注入方式", "发出方", "接收方", "注入内容", "预期行动",
                 "责任角色", "时间标准（中位）", "时间标准（P90）", "目标/能力", "评估标准"],
        "scene": "场景{n}", "scene_cols": ["时间", "情景", "指令与对白", "解说词", "演练控制人"],
        "scene_actions": "本场景预期行动：",
        "cont_cols": ["编号", "触发条件", "时间", "发出方", "接收方",
                                                   "注入内容"],
        "cont_note": "控制人在时间标准（P90）到达时仍未观察到对应行动，即注入备用情景，推动演练继"
                     "续。",
        "basis": ("情景：{scenario}；灾种设置：{hazard}；响应设置：{response}；目录：{catalogue}。"
                  "时间标准为{n}次重复模拟中各行动时刻（自 T+00:00 起）的中位数和第90百分位数；"
                  "模拟样本保存在 drill.json 中，演练后用 `gridsim drill evaluate` 对照评估。"
                  "同一种子生成同一脚本，换一个种子即得到不同的注入（网格、灾种、时间、意外情况）。"),
        "variant": "本脚本的意外情况：{extra}。",
        "extras": {"commander_absent": "指挥官缺位", "road_blocked": "道路中断",
                   "supply_short": "物资短缺", "comms_congested": "公网通信拥塞",
                   "second_incident": "次生险情", "": "无"},
    },
    "en": {
        "title": "Drill script", "sub": "seed {seed} · generated by gridsim {version} from {n} "
                                        "simulations",
        "s1": "1. Name and objectives", "name": "Name", "objectives": "Objectives",
        "s2": "2. Hazard scenario", "s3": "3. Participants and roles", "s4": "4. Resources",
        "s5": "5. Safety rules", "s6": "6. Timing",
        "s7": "7. Master scenario events list (MSEL)", "s8": "8. Scenes (director's script)",
        "s9": "9. Contingency injects", "s10": "10. Simulation basis",
        "unit": "Unit", "people": "People", "role": "Role and task", "items": "Supplies and forces",
        "msel": ["Seq", "Time", "Inject type", "Delivery method", "From", "To", "Inject",
                 "Expected action", "Responsible role", "Time standard (median)",
                 "Time standard (p90)", "Objective / capability", "Evaluation criterion"],
        "scene": "Scene {n}", "scene_cols": ["Time", "Scenario", "Orders and dialogue",
                                             "Narration", "Controller"],
        "scene_actions": "Expected actions of this scene:",
        "cont_cols": ["Id", "Condition", "Time", "From", "To", "Inject"],
        "cont_note": "A controller delivers the contingency inject when the action has not been "
                     "observed by its time standard (p90), to keep the drill moving.",
        "basis": ("Scenario: {scenario}; hazard setting: {hazard}; response: {response}; "
                  "catalogue: {catalogue}. The time standards are the median and the 90th "
                  "percentile of each action's time (from T+00:00) over {n} simulated "
                  "replications; the samples are stored in drill.json, against which "
                  "`gridsim drill evaluate` compares the drill's recorded times. The same seed "
                  "gives the same script; another seed gives other injects (grid, hazard, "
                  "times, twist)."),
        "variant": "The twist of this script: {extra}.",
        "extras": {"commander_absent": "the commander is absent",
                   "road_blocked": "a road is blocked", "supply_short": "supplies are short",
                   "comms_congested": "the mobile network is congested",
                   "second_incident": "a second incident", "": "none"},
    },
}


def _script_part(s: DrillScript, lang: str) -> list[str]:
    L = _L[lang]
    h = s.header
    out = [f"# {_t(h.title, lang)}", "",
           f"> {L['title']} · " + L["sub"].format(seed=s.seed, version=s.gridsim_version,
                                                  n=s.replications), ""]
    colon = "：" if lang == "zh" else ": "
    out += [f"## {L['s1']}", "", f"**{L['name']}**{colon}{_t(h.title, lang)}", "",
            f"**{L['objectives']}**{colon.rstrip()}", ""]
    for o in h.objectives:
        cap = _t(o.capability_name, lang)
        out.append(f"- **{o.id} {_t(o.category_name, lang)}**"
                   + (f"（{cap}）：" if lang == "zh" else f" ({cap}): ") + _t(o.text, lang))
    out += ["", f"## {L['s2']}", ""]
    out += [f"- {_t(p, lang)}" for p in h.scenario]
    out += ["", L["variant"].format(extra=L["extras"][s.extra]), ""]
    out += [f"## {L['s3']}", ""]
    out += _table([L["unit"], L["people"], L["role"]],
                  [[_t(p.unit, lang), _t(p.people, lang), _t(p.role, lang)]
                   for p in h.participants])
    out += ["", f"## {L['s4']}", ""]
    out += _table([L["unit"], L["items"]],
                  [[_t(r.unit, lang), _t(r.items, lang)] for r in h.resources])
    out += ["", f"## {L['s5']}", ""]
    out += [f"{i}. {_t(r, lang)}" for i, r in enumerate(h.safety_rules, start=1)]
    out += ["", f"## {L['s6']}", "", _t(h.timing, lang), "", f"## {L['s7']}", ""]
    out += _table(L["msel"], [_msel_cells(m, lang) for m in s.msel])
    out += ["", f"## {L['s8']}", ""]
    for n, inj in enumerate(s.injects, start=1):
        out += [f"### {L['scene'].format(n=n)} · {inj.time}", ""]
        out += _table(L["scene_cols"], [[inj.time, _t(inj.text, lang),
                                         _t(inj.dialogue, lang), _t(inj.narration, lang),
                                         _t(inj.sender, lang)]])
        acts = [m for m in s.msel if m.inject_key == inj.key and m.action is not None]
        if acts:
            out += ["", L["scene_actions"], ""]
            out += [f"- #{m.seq} {_t(m.expected_action, lang)} — "
                    f"{fmt_t(m.median_s)} / {fmt_t(m.p90_s)}" for m in acts]
        out.append("")
    out += [f"## {L['s9']}", "", L["cont_note"], ""]
    out += _table(L["cont_cols"], [[c.id, _t(c.condition, lang), c.time,
                                    _t(c.sender, lang), _t(c.recipient, lang),
                                    _t(c.inject, lang)] for c in s.contingency])
    out += ["", f"## {L['s10']}", "",
            L["basis"].format(scenario=s.scenario, hazard=s.hazard_setting,
                              response=s.response, catalogue=s.catalogue,
                              n=s.replications), ""]
    return out


def _msel_cells(m: MselRow, lang: str | None) -> list[str]:
    """The MSEL columns of a row, in one language or (``None``) both."""
    def t(b: Bi) -> str:
        return _both(b) if lang is None else _t(b, lang)
    return [str(m.seq), m.time, t(m.inject_type), t(m.delivery_method), t(m.sender),
            t(m.recipient), t(m.inject), t(m.expected_action), t(m.responsible_role),
            fmt_t(m.median_s), fmt_t(m.p90_s), t(m.objective), t(m.evaluation_criterion)]


# ----------------------------------------------------------------------------------------------
# evaluation sheet
# ----------------------------------------------------------------------------------------------
_E: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "{name} 演练评估表", "s1": "一、评估说明", "s2": "二、评估记录（按目标）",
        "s3": "三、能力评级标准", "s4": "四、总体意见",
        "intro": ["每位评估人负责一个或多个目标，在演练现场观察并记录每项预期行动的实际完成时间。",
                  "时间一律按演练时钟记录：总导演宣布开始时为 T+00:00，"
                  "记为 T+分:秒（如 T+12:30）。",
                  "演练结束后将实际时间填入 `log_template.csv` 的 actual 列（未观察到的行动留空），"
                  "然后运行 `gridsim drill evaluate <演练目录> <记录文件>` 生成评估报告 after_acti"
                  "on.md。",
                  "超过时间标准（P90）即为超时；评估标准中的附加要求在“观察记录”中说明。"],
        "cols": ["序号", "预期行动", "责任角色", "时间标准 中位 / P90", "评估标准", "实际时间",
                 "达标", "观察记录"],
        "blank": "T+____:____", "met": "☐是 ☐否", "rating": "能力评级：☐P ☐S ☐M ☐U",
        "overall": ["主要优点：", "主要问题：", "改进建议：", "评估人签字：____________　日期：___"
                                               "_________"],
    },
    "en": {
        "title": "{name}: Exercise Evaluation Guide", "s1": "1. Instructions",
        "s2": "2. Observations by objective", "s3": "3. Rating scale", "s4": "4. Overall",
        "intro": ["Each evaluator covers one or more objectives and records, on site, when each "
                  "expected action is done.",
                  "Times are on the drill clock: T+00:00 when the director starts the drill, "
                  "written T+mm:ss (e.g. T+12:30).",
                  "After the drill, enter the times in the actual column of `log_template.csv` "
                  "(leave it empty for an action not observed) and run "
                  "`gridsim drill evaluate <drill folder> <log file>` for the after-action "
                  "report after_action.md.",
                  "An action after its time standard (p90) is late; note other requirements "
                  "of the criterion under observations."],
        "cols": ["Seq", "Expected action", "Responsible role", "Time standard median / p90",
                 "Criterion", "Actual time", "Met", "Observations"],
        "blank": "T+____:____", "met": "☐ yes ☐ no", "rating": "Rating: ☐P ☐S ☐M ☐U",
        "overall": ["Strengths:", "Areas for improvement:", "Recommendations:",
                    "Evaluator: ____________   Date: ____________"],
    },
}


def _sheet_part(s: DrillScript, lang: str) -> list[str]:
    E = _E[lang]
    out = [f"# {E['title'].format(name=_t(s.header.title, lang))}", "",
           f"## {E['s1']}", ""]
    out += [f"{i}. {x}" for i, x in enumerate(E["intro"], start=1)]
    out += ["", f"## {E['s2']}", ""]
    for o in s.header.objectives:
        rows = [m for m in s.msel if m.objective_id == o.id]
        out += [f"### {o.id} {_t(o.category_name, lang)} — {_t(o.capability_name, lang)}",
                "", _t(o.text, lang), ""]
        out += _table(E["cols"], [[m.seq, _t(m.expected_action, lang),
                                   _t(m.responsible_role, lang),
                                   f"{fmt_t(m.median_s)} / {fmt_t(m.p90_s)}",
                                   _t(m.evaluation_criterion, lang), E["blank"], E["met"], ""]
                                  for m in rows])
        out += ["", E["rating"], ""]
    out += [f"## {E['s3']}", ""]
    out += [f"- {_t(r, lang)}" for r in RATINGS.values()]
    out += ["", f"## {E['s4']}", ""]
    for x in E["overall"]:
        out += [x, ""]
    return out


def _clear(folder: Path, names: Sequence[str]) -> None:
    """Remove the files ``names`` (and their temporary files) from ``folder``, the first one
    first: the file whose presence says the others are complete."""
    for name in names:
        (folder / name).unlink(missing_ok=True)
        (folder / (name + PARTIAL_SUFFIX)).unlink(missing_ok=True)


def write_drill(script: DrillScript, folder: Path) -> list[Path]:
    """Write every file of a drill into ``folder`` (created if missing); returns the paths
    written. An earlier drill's files and its evaluation's are removed first, drill.json first,
    and drill.json is written last: its presence says that every file beside it is of this
    drill (files gridsim does not write, e.g. a day's log, are left alone). File-system errors
    propagate as :class:`OSError`."""
    md = [*_script_part(script, "zh"), "---", "", *_script_part(script, "en")]
    sheet = [*_sheet_part(script, "zh"), "---", "", *_sheet_part(script, "en")]
    msel = _csv(MSEL_COLUMNS, [_msel_cells(m, None) for m in script.msel]
                + [[c.id, c.time, "应急备用注入 / Contingency inject", "—",
                    _both(c.sender), _both(c.recipient),
                    f"{_both(c.condition)}: {_both(c.inject)}", "", "", "", "", "", ""]
                   for c in script.contingency])
    log = _csv(LOG_COLUMNS, [[m.seq, str(m.action), ""] for m in script.msel
                             if m.action is not None])
    files = {"drill_script.md": "\n".join(md).rstrip("\n") + "\n", "msel.csv": msel,
             "evaluation_sheet.md": "\n".join(sheet).rstrip("\n") + "\n", LOG_TEMPLATE: log,
             "drill.json": _json(drill_json(script))}
    folder.mkdir(parents=True, exist_ok=True)
    _clear(folder, ("drill.json", *files, "after_action.json", *AFTER_ACTION_FILES))
    paths = []
    for name, text in files.items():  # drill.json last: its presence says the drill is complete
        write_atomic(folder / name, text)
        paths.append(folder / name)
    return paths


# ----------------------------------------------------------------------------------------------
# after action
# ----------------------------------------------------------------------------------------------
def expected_vs_actual(ev: AfterAction, path: Path) -> None:
    """Each action's simulated p10–p90 range and median against the recorded time (PNG)."""
    # start-up time: matplotlib (and gridsim's figure helpers, which load it) only when an
    # after-action figure is drawn, not for `gridsim drill script` or `--help`
    from matplotlib.lines import Line2D

    from gridsim.output.cjk import bi  # start-up time: matplotlib only when the figure is drawn

    # start-up time: matplotlib only when the figure is drawn
    from gridsim.output.figures import _figure, _save

    rows = list(ev.actions)
    n = len(rows)
    fig, ax = _figure((9.0, max(3.0, 0.38 * n + 1.2)))
    y = np.arange(n)[::-1]
    for yi, r in zip(y, rows, strict=True):
        ax.plot([r.p10_s / 60.0, r.p90_s / 60.0], [yi, yi], color="#9ecae1", lw=6,
                solid_capstyle="butt", zorder=1)
        ax.plot([r.median_s / 60.0], [yi], marker="|", color="#08519c", ms=14, mew=2,
                zorder=2)
        if r.actual_s is not None:
            ax.plot([r.actual_s / 60.0], [yi], marker="o", ms=7, zorder=3,
                    color="#de2d26" if r.late else "#31a354")
        else:
            ax.text(r.median_s / 60.0, yi + 0.25, bi("not observed", "未记录"), fontsize=7,
                    ha="center", color="#636363")
    ax.set_yticks(y.tolist())
    ax.set_yticklabels([f"#{r.seq} {bi(str(r.action), r.label.zh)}" for r in rows],
                       fontsize=8)
    ax.set_xlabel(bi("minutes after T+00:00", "开始后分钟数"))
    ax.set_title(f"{ev.name}: "
                 f"{bi('expected (median, p10-p90) against actual', '预期与实际')}")
    handles = [
        Line2D([0], [0], color="#9ecae1", lw=6, label=bi("simulated p10-p90", "模拟10-90分位")),
        Line2D([0], [0], marker="|", ls="None", color="#08519c", ms=12, mew=2,
               label=bi("simulated median", "模拟中位数")),
        Line2D([0], [0], marker="o", ls="None", color="#31a354",
               label=bi("actual, on time", "实际 按时")),
        Line2D([0], [0], marker="o", ls="None", color="#de2d26",
               label=bi("actual, late (> p90)", "实际 超时")),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7,
              frameon=False)
    ax.grid(axis="x", color="#f0f0f0")
    _save(fig, path)


_A: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "{name} 演练评估报告（After-Action Report）", "s1": "一、演练概况",
        "s2": "二、能力目标与评级", "s3": "三、主要发现", "s4": "四、拖延清零的关键环节",
        "s5": "五、改进措施", "s6": "六、各项行动对照表",
        "overview": ("演练：{title}；种子 {seed}；情景 {scenario}；依据 {n} 次模拟的时间标准。"
                     "记录行动 {observed}/{total} 项，超时（超过P90）{late} 项，未观察到 {missing}"
                     " 项。"),
        "final": "最终行动（清零）：#{seq} {label}，实际 {actual}，中位 {median}，{delta}。",
        "final_none": "最终行动（清零）#{seq} 未记录。",
        "cap_cols": ["目标", "能力", "行动数", "超时", "未观察", "评级"],
        "strengths": "优点（快于75%的模拟）：", "improve": "待改进（超时）：", "none": "无。",
        "obs_late": "#{seq} {label}：实际 {actual}，时间标准 {p90}，超出中位 {excess}，处于模拟的"
                    "第{pct}百分位。",
        "obs_fast": "#{seq} {label}：实际 {actual}，处于模拟的第{pct}百分位。",
        "chain_note": ("沿最终行动的前序链，每项行动新增的延误 = 本项超出中位的时间 − 其前一项超出"
                       "中位的时间；"
                       "新增延误最大的环节最拖延清零。"),
        "chain_cols": ["序号", "行动", "超出中位", "新增延误"],
        "corr_cols": ["序号", "问题", "改进措施", "能力", "责任角色", "完成时限"],
        "table_cols": ["序号", "行动", "时间标准 中位 / P90", "实际", "百分位", "状态"],
        "late": "超时", "ok": "按时", "missing": "未观察到", "plus": "晚 {m}", "minus": "早 {m}",
    },
    "en": {
        "title": "{name}: After-Action Report", "s1": "1. Exercise overview",
        "s2": "2. Capability targets and ratings", "s3": "3. Observations",
        "s4": "4. What delayed clearance most", "s5": "5. Corrective actions (improvement plan)",
        "s6": "6. Every action, expected against actual",
        "overview": ("Drill: {title}; seed {seed}; scenario {scenario}; time standards from {n} "
                     "simulations. Actions recorded {observed}/{total}; late (after p90) {late}; "
                     "not observed {missing}."),
        "final": ("Final action (clearance): #{seq} {label}, actual {actual}, median {median}, "
                  "{delta}."),
        "final_none": "The final action (clearance) #{seq} was not recorded.",
        "cap_cols": ["Objective", "Capability", "Actions", "Late", "Not observed", "Rating"],
        "strengths": "Strengths (faster than 75 % of the simulations):",
        "improve": "Areas for improvement (late):", "none": "None.",
        "obs_late": ("#{seq} {label}: actual {actual}, time standard {p90}, {excess} over the "
                     "median, at the {pct}th percentile of the simulations."),
        "obs_fast": ("#{seq} {label}: actual {actual}, at the {pct}th percentile of the "
                     "simulations."),
        "chain_note": ("Along the chain of actions leading to the final action, the delay each "
                       "action added = its excess over its median − the excess of the action it "
                       "waits on; the largest added delays held up clearance most."),
        "chain_cols": ["Seq", "Action", "Excess over median", "Added delay"],
        "corr_cols": ["Seq", "Issue", "Corrective action", "Capability", "Responsible role",
                      "Due"],
        "table_cols": ["Seq", "Action", "Time standard median / p90", "Actual", "Percentile",
                       "Status"],
        "late": "late", "ok": "on time", "missing": "not observed", "plus": "{m} late",
        "minus": "{m} early",
    },
}


def _dur(s: float | None) -> str:
    """``+m:ss`` or ``-m:ss``; empty for no time."""
    if s is None:
        return ""
    if abs(s) < 0.5:
        return "0:00"
    sign = "-" if s < 0 else "+"
    m, sec = divmod(round(abs(s)), 60)
    return f"{sign}{m}:{sec:02d}"


def _aar_part(ev: AfterAction, lang: str) -> list[str]:
    A = _A[lang]
    acts = ev.actions
    by_seq = {a.seq: a for a in acts}
    out = [f"# {A['title'].format(name=_t(ev.title, lang))}", "", f"## {A['s1']}", "",
           A["overview"].format(title=_t(ev.title, lang), seed=ev.seed,
                                scenario=ev.scenario, n=ev.replications,
                                observed=ev.observed, total=len(acts), late=ev.late,
                                missing=ev.missing), ""]
    fin = by_seq.get(ev.final_seq) if ev.final_seq is not None else None
    if fin is not None and fin.actual_s is not None:
        d = fin.actual_s - fin.median_s
        delta = (A["plus"] if d > 0 else A["minus"]).format(m=_dur(abs(d))[1:])
        out += [A["final"].format(seq=fin.seq, label=_t(fin.label, lang),
                                  actual=fmt_t(fin.actual_s), median=fmt_t(fin.median_s),
                                  delta=delta), ""]
    elif fin is not None:
        out += [A["final_none"].format(seq=fin.seq), ""]
    out += [f"## {A['s2']}", ""]
    out += _table(A["cap_cols"], [[f"{o.objective.id} {_t(o.objective.category_name, lang)}",
                                   _t(o.objective.capability_name, lang), o.actions, o.late,
                                   o.missing, _t(RATINGS[o.rating], lang)]
                                  for o in ev.objectives])
    out += ["", f"## {A['s3']}", "", f"**{A['strengths']}**", ""]
    fast = [a for a in acts if a.percentile is not None and not a.late
            and a.percentile <= 25.0]
    out += ["- " + A["obs_fast"].format(seq=a.seq, label=_t(a.label, lang),
                                          actual=fmt_t(a.actual_s),
                                          pct=f"{a.percentile:.0f}") for a in fast] \
        or [A["none"]]
    out += ["", f"**{A['improve']}**", ""]
    late = [a for a in acts if a.late]
    out += ["- " + A["obs_late"].format(seq=a.seq, label=_t(a.label, lang),
                                          actual=fmt_t(a.actual_s), p90=fmt_t(a.p90_s),
                                          excess=_dur(a.excess_s),
                                          pct=f"{a.percentile:.0f}") for a in late] \
        or [A["none"]]
    out += ["", f"## {A['s4']}", "", A["chain_note"], ""]
    chain = [by_seq[s] for s in ev.chain]
    out += _table(A["chain_cols"], [[a.seq, _t(a.label, lang),
                                     _dur(a.excess_s), _dur(a.added_delay_s)] for a in chain])
    if ev.most_delaying:
        out += ["", "→ " + ", ".join(f"#{s} {_t(by_seq[s].label, lang)} "
                                     f"({_dur(by_seq[s].added_delay_s)})"
                                     for s in ev.most_delaying)]
    out += ["", f"## {A['s5']}", ""]
    out += _table(A["corr_cols"], [[a.seq, _t(a.label, lang), _t(a.corrective, lang),
                                    _t(a.capability_name, lang), _t(a.role, lang), ""]
                                   for a in late]) if late else [A["none"]]
    out += ["", f"## {A['s6']}", "", "![expected against actual](after_action.png)", ""]
    status = {True: A["late"], False: A["ok"]}
    out += _table(A["table_cols"], [[a.seq, _t(a.label, lang),
                                     f"{fmt_t(a.median_s)} / {fmt_t(a.p90_s)}",
                                     fmt_t(a.actual_s) if a.actual_s is not None else "",
                                     f"{a.percentile:.0f}" if a.percentile is not None
                                     else "",
                                     status[a.late] if a.actual_s is not None
                                     else A["missing"]] for a in acts])
    out.append("")
    return out


def write_after_action(ev: AfterAction, folder: Path) -> list[Path]:
    """Write after_action.md, after_action.png and after_action.json into ``folder`` (created if
    missing). An earlier evaluation's files are removed first, after_action.json first, and
    after_action.json is written last: its presence says that the other two are of the same
    evaluation. File-system errors propagate as :class:`OSError`."""
    md = [*_aar_part(ev, "zh"), "---", "", *_aar_part(ev, "en")]
    folder.mkdir(parents=True, exist_ok=True)
    _clear(folder, ("after_action.json", *AFTER_ACTION_FILES))
    png = folder / "after_action.png"
    expected_vs_actual(ev, png)
    write_atomic(folder / "after_action.md", "\n".join(md).rstrip("\n") + "\n")
    write_atomic(folder / "after_action.json", _json(after_action_json(ev)))
    return [folder / "after_action.md", png, folder / "after_action.json"]
