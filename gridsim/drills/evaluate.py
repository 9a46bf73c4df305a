"""After-action evaluation: a drill's recorded times against the script's simulated ones.

The log is a CSV filled in on the day, with the header ``seq,action,actual`` (other columns
are ignored; ``log_template.csv`` of the drill folder has every row ready):

* ``seq``: the row number of the MSEL;
* ``action``: the action of that row, as its id (``g3.post_ready``) or its label in Chinese or
  English (as the script writes it);
* ``actual``: when it was done, on the drill clock: ``T+mm:ss`` (minutes may exceed 59),
  ``T+h:mm:ss``, ``mm:ss`` or seconds (``754`` or ``754.5``); empty when it was not observed.

Every row is checked and every problem reported at once, each naming the file, the row (the
header is row 1) and the column: an unknown sequence number, an action that is not the script's
action for that number, an unreadable or negative time, a sequence number given twice.

For each action with a recorded time: its **percentile** within the simulated samples (the
share of replications that did it at or before that time, × 100); **late** when after the
time standard (the samples' 90th percentile); its **excess** over the median. Along the chain of
actions that leads to the drill's final action (its clearance), each action's **added delay** is
its excess minus the excess of the action it waits on (0 for one not recorded): the largest
added delays are the actions that most delayed clearance. Each objective gets a HSEEP rating:
P (none late or missing), S (at most a third late or missing), M (more), U (none observed).

:func:`load_drill` reads drill.json back into a :class:`~gridsim.drills.records.DrillScript`
(the inverse of :func:`gridsim.drills.render.drill_json`), checking every field it reads: a
file that is missing, unreadable, not JSON or not a drill script stops with one line naming the
file (and the field) and what to do.
"""

from __future__ import annotations

import csv
import errno
import json
import math
import re
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from gridsim.drills.records import (
    DRILL_FORMAT,
    ActionId,
    ActionResult,
    AfterAction,
    Contingency,
    DrillScript,
    Header,
    Inject,
    LogEntry,
    MselRow,
    Objective,
    ObjectiveResult,
    Participant,
    Resource,
    TimeStandard,
)
from gridsim.drills.texts import ACTIONS, Bi
from gridsim.errors import UserError

__all__ = [
    "LogEntry",
    "LogError",
    "evaluate",
    "load_drill",
    "parse_time",
    "read_log",
    "script_from_json",
]


class LogError(UserError):
    """A drill or log that cannot be evaluated; ``errors`` (the same as ``lines``) has one line
    per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if errors else "cannot evaluate the drill")
        self.lines = list(errors)
        self.errors = self.lines
        self.args = ("; ".join(self.lines),)


_CLOCK = re.compile(r"^(?:T\s*)?([+-])?\s*(\d+):(\d{1,2})(?::(\d{1,2}))?$", re.IGNORECASE)
_TIME_HELP = "expected T+mm:ss, T+h:mm:ss, mm:ss or seconds"


def parse_time(text: str) -> float | None:
    """Seconds on the drill clock from ``T+mm:ss``, ``T+h:mm:ss``, ``mm:ss`` or seconds;
    ``None`` for an empty cell. Raises ValueError for anything else (negative times parse)."""
    s = text.strip()
    if not s:
        return None
    m = _CLOCK.match(s)
    if m:
        sign, a, b, c = m.groups()
        if c is None:  # mm:ss
            if int(b) >= 60:
                raise ValueError(f"seconds must be below 60 in {s!r}")
            secs = int(a) * 60 + int(b)
        else:  # h:mm:ss
            if int(b) >= 60 or int(c) >= 60:
                raise ValueError(f"minutes and seconds must be below 60 in {s!r}")
            secs = int(a) * 3600 + int(b) * 60 + int(c)
        return float(-secs if sign == "-" else secs)
    try:
        t = float(s)
    except ValueError:
        raise ValueError(f"cannot read {s!r} as a time ({_TIME_HELP})") from None
    if not math.isfinite(t):
        raise ValueError(f"cannot read {s!r} as a time ({_TIME_HELP})")
    return t


# ----------------------------------------------------------------------------------------------
# reading files
# ----------------------------------------------------------------------------------------------
_SCRIPT_HINT = "write the drill again with `gridsim drill script`"


def _cannot_read(what: str, path: Path, exc: OSError | UnicodeDecodeError, hint: str
                 ) -> LogError:
    """One line for a file that cannot be read: what, which path, what to do."""
    if isinstance(exc, UnicodeDecodeError):
        return LogError([f"cannot read {what}: not UTF-8 text (byte {exc.start}): {path} "
                         "(save it as UTF-8)"])
    why, todo = {
        errno.ENOENT: ("no such file", "check the path"),
        errno.EISDIR: ("a folder, not a file", "give the file's path"),
        errno.ENOTDIR: ("a part of the path is a file, not a folder", "check the path"),
        errno.EACCES: ("permission denied", "make it readable, e.g. chmod u+r, or copy it"),
        errno.EPERM: ("permission denied", "make it readable, e.g. chmod u+r, or copy it"),
        errno.ENAMETOOLONG: ("a file name is too long for the file system", "check the path"),
    }.get(exc.errno or -1, (exc.strerror or type(exc).__name__, hint))
    return LogError([f"cannot read {what}: {why}: {path} ({todo})"])


def _read_text(what: str, path: Path, hint: str, encoding: str = "utf-8") -> str:
    try:
        return path.read_text(encoding=encoding)
    except (OSError, UnicodeDecodeError) as exc:
        raise _cannot_read(what, path, exc, hint) from None


class _Field:
    """A value of drill.json at ``path`` (``msel[3].median_s``), read with checks that name the
    file and the path."""

    def __init__(self, file: Path, path: str, value: Any) -> None:
        self.file, self.path, self.value = file, path, value

    def fail(self, expected: str) -> NoReturn:
        got = json.dumps(self.value, ensure_ascii=False)
        got = got if len(got) <= 40 else got[:40] + "…"
        raise LogError([f"{self.file}: field {self.path}: expected {expected}, got {got} "
                        f"(not a drill.json as gridsim writes it; {_SCRIPT_HINT})"])

    def __getitem__(self, key: str) -> _Field:
        if not isinstance(self.value, dict):
            self.fail("an object")
        path = f"{self.path}.{key}" if self.path else key
        if key not in self.value:
            raise LogError([f"{self.file}: field {path}: missing (not a drill.json as gridsim "
                            f"writes it; {_SCRIPT_HINT})"])
        return _Field(self.file, path, self.value[key])

    def items(self) -> list[_Field]:
        if not isinstance(self.value, list):
            self.fail("a list")
        return [_Field(self.file, f"{self.path}[{i}]", v) for i, v in enumerate(self.value)]

    def mapping(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            self.fail("an object")
        return dict(self.value)

    def text(self) -> str:
        if not isinstance(self.value, str):
            self.fail("a text")
        return self.value

    def integer(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            self.fail("an integer")
        return self.value

    def integer_or_none(self) -> int | None:
        return None if self.value is None else self.integer()

    def number(self) -> float:
        """A finite number (an int stays an int, so that it is written back as it was)."""
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            self.fail("a number")
        return v

    def number_or_none(self) -> float | None:
        return None if self.value is None else self.number()

    def bi(self) -> Bi:
        zh, en = self["zh"].text(), self["en"].text()
        return Bi(zh, en)

    def action(self) -> ActionId | None:
        text = self.text()
        if text == "":
            return None
        try:
            return ActionId.parse(text)
        except ValueError as exc:
            raise LogError([f"{self.file}: field {self.path}: {exc} ({_SCRIPT_HINT})"]) from None


def _objective(f: _Field) -> Objective:
    return Objective(id=f["id"].text(), category=f["category"].text(),
                     category_name=f["category_name"].bi(), capability=f["capability"].text(),
                     capability_name=f["capability_name"].bi(), text=f["text"].bi())


def _header(f: _Field) -> Header:
    return Header(
        name=f["name"].text(), title=f["title"].bi(),
        objectives=tuple(_objective(o) for o in f["objectives"].items()),
        scenario=tuple(b.bi() for b in f["scenario"].items()),
        participants=tuple(Participant(unit=p["unit"].bi(), people=p["people"].bi(),
                                       role=p["role"].bi()) for p in f["participants"].items()),
        resources=tuple(Resource(unit=r["unit"].bi(), items=r["items"].bi())
                        for r in f["resources"].items()),
        safety_rules=tuple(b.bi() for b in f["safety_rules"].items()),
        timing=f["timing"].bi())


def _inject(f: _Field) -> Inject:
    return Inject(key=f["key"].text(), at_s=f["at_s"].number(), type=f["type"].bi(),
                  delivery=f["delivery"].bi(), sender=f["from"].bi(), recipient=f["to"].bi(),
                  text=f["text"].bi(), narration=f["narration"].bi(),
                  dialogue=f["dialogue"].bi())


def _row(f: _Field) -> MselRow:
    action = f["action"].action()
    text_key = f["key"].text()
    if (action is None) != (text_key == "") or (text_key and text_key not in ACTIONS):
        f["key"].fail("the key of the row's action text" if action is not None
                      else "an empty key (the row has no action)")
    samples = tuple(s.number_or_none() for s in f["samples_s"].items())
    std = TimeStandard(median_s=f["median_s"].number_or_none(), p10_s=f["p10_s"].number_or_none(),
                       p90_s=f["p90_s"].number_or_none(), reached=f["reached"].integer())
    if action is not None and (std.median_s is None or std.p10_s is None or std.p90_s is None
                               or all(s is None for s in samples)):
        f["samples_s"].fail("the simulated samples and time standard of the row's action")
    return MselRow(
        seq=f["seq"].integer(), time_s=f["time_s"].number(), inject_key=f["inject_key"].text(),
        inject_type=f["inject_type"].bi(), delivery_method=f["delivery_method"].bi(),
        sender=f["from"].bi(), recipient=f["to"].bi(), inject=f["inject"].bi(),
        action=action, text_key=text_key, grid=f["grid"].integer_or_none(),
        expected_action=f["expected_action"].bi(), responsible_role=f["responsible_role"].bi(),
        standard=std, samples_s=samples, after=f["after"].integer_or_none(),
        objective_id=f["objective_id"].text(), objective=f["objective"].bi(),
        category=f["category"].text(), capability=f["capability"].text(),
        evaluation_criterion=f["evaluation_criterion"].bi())


def _contingency(f: _Field) -> Contingency:
    return Contingency(id=f["id"].text(), for_seq=f["for_seq"].integer(),
                       time_s=f["time_s"].number(), condition=f["condition"].bi(),
                       sender=f["from"].bi(), recipient=f["to"].bi(), inject=f["inject"].bi())


def script_from_json(data: Any, file: Path) -> DrillScript:
    """The :class:`DrillScript` of drill.json's content ``data`` (read from ``file``, which the
    error lines name); LogError for a field that is missing or not what gridsim writes."""
    f = _Field(file, "", data)
    if not isinstance(data, dict) or data.get("format") != DRILL_FORMAT:
        raise LogError([f"not a gridsim drill script (no 'format: {DRILL_FORMAT}'): {file} "
                        "(give the drill.json that `gridsim drill script` wrote)"])
    msel = tuple(_row(m) for m in f["msel"].items())
    seqs = [m.seq for m in msel]
    if seqs != list(range(1, len(msel) + 1)):
        f["msel"].fail("rows numbered 1, 2, 3, ... in order")
    for i, m in enumerate(msel):
        if m.after is not None and not 1 <= m.after <= len(msel):
            f["msel"].items()[i]["after"].fail(f"a row number 1..{len(msel)} or null")
    final = f["final_seq"].integer_or_none()
    if final is not None and not 1 <= final <= len(msel):
        f["final_seq"].fail(f"a row number 1..{len(msel)} or null")
    return DrillScript(
        gridsim_version=f["gridsim_version"].text(),
        name=f["name"].text(),
        seed=f["seed"].integer(),
        replications=f["replications"].integer(),
        start_h=f["start_h"].number(),
        horizon_h=f["horizon_h"].number(),
        scenario=f["scenario"].text(),
        catalogue=f["catalogue"].text(),
        hazard_setting=f["hazard_setting"].text(),
        response=f["response"].text(),
        choices=f["choices"].mapping(),
        variant=f["variant"].mapping(),
        hazards=tuple(h.text() for h in f["hazards"].items()),
        grade_names=f["grade_names"].mapping(),
        header=_header(f["header"]),
        injects=tuple(_inject(i) for i in f["injects"].items()),
        msel_columns=tuple(c.text() for c in f["msel_columns"].items()),
        msel=msel,
        contingency=tuple(_contingency(c) for c in f["contingency"].items()),
        final_seq=final,
        end_s=f["end_s"].number(),
    )


def load_drill(path: Path) -> tuple[DrillScript, Path]:
    """The script of a drill folder (its drill.json) or of a drill.json file, and its folder."""
    file = path / "drill.json" if path.is_dir() else path
    if not file.exists():
        where = "no drill.json in this folder" if path.is_dir() else "no such file or folder"
        raise LogError([f"cannot read the drill script: {where}: {path} (give a drill folder "
                        "written by `gridsim drill script`, or its drill.json)"])
    text = _read_text("the drill script", file, _SCRIPT_HINT)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LogError([f"cannot read the drill script: not valid JSON (line {exc.lineno}, "
                        f"column {exc.colno}: {exc.msg}): {file} ({_SCRIPT_HINT})"]) from None
    return script_from_json(data, file), file.parent


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


def read_log(path: Path, script: DrillScript) -> list[LogEntry]:
    """The rows of a drill's log, checked against its script; LogError lists every problem."""
    msel = {m.seq: m for m in script.msel}
    text = _read_text("the drill log", path, "give the log CSV (log_template.csv of the drill "
                      "folder, with the actual column filled in)", encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(c.strip() for c in rows[0]):
        raise LogError([f"{path}: row 1 (header): empty; expected the columns "
                        "seq,action,actual"])
    header = [c.strip().casefold() for c in rows[0]]
    missing = [c for c in ("seq", "action", "actual") if c not in header]
    if missing:
        raise LogError([f"{path}: row 1 (header), column {c!r}: missing (the header is "
                        f"{','.join(rows[0])}; expected seq,action,actual)" for c in missing])
    if not msel:
        raise LogError([f"the drill script has no MSEL rows to evaluate: {path} "
                        f"({_SCRIPT_HINT})"])
    col = {c: header.index(c) for c in ("seq", "action", "actual")}
    errors: list[str] = []
    out: list[LogEntry] = []
    seen: dict[int, int] = {}
    lo, hi = min(msel), max(msel)
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            i = col[name]
            return cells[i].strip() if i < len(cells) else ""

        def bad(name: str, msg: str, n: int = n) -> None:
            errors.append(f"{path}: row {n}, column {name!r}: {msg}")

        raw = cell("seq")
        try:
            seq = int(raw)
        except ValueError:
            bad("seq", f"{raw!r} is not a sequence number (an integer {lo}..{hi})")
            continue
        if seq not in msel:
            bad("seq", f"no row #{seq} in the script (its rows are #{lo}..#{hi})")
            continue
        if seq in seen:
            bad("seq", f"#{seq} is given twice (first in row {seen[seq]})")
            continue
        seen[seq] = n
        m = msel[seq]
        action = cell("action")
        aid = str(m.action) if m.action is not None else ""
        names = {aid, m.text_key, m.expected_action.zh, m.expected_action.en}
        if _norm(action) not in {_norm(x) for x in names if x}:
            bad("action", f"{action!r} is not the action of row #{seq}: expected "
                f"{aid or '(none)'!r} ({m.expected_action.en})")
        try:
            t = parse_time(cell("actual"))
        except ValueError as exc:
            bad("actual", str(exc))
            continue
        if t is not None and t < 0:
            bad("actual", f"{cell('actual')!r} is before the drill began (T+00:00)")
            continue
        out.append(LogEntry(seq=seq, actual_s=t, row=n))
    if errors:
        raise LogError(errors)
    return out


# ----------------------------------------------------------------------------------------------
# the evaluation
# ----------------------------------------------------------------------------------------------
def _rating(total: int, late: int, missing: int) -> str:
    if total == 0 or missing == total:
        return "U"
    bad = late + missing
    if bad == 0:
        return "P"
    return "S" if bad <= total / 3 else "M"


def _standard(m: MselRow) -> tuple[ActionId, float, float, float]:
    """A timed row's action, median, 10th and 90th percentile."""
    med, p10, p90 = m.standard.median_s, m.standard.p10_s, m.standard.p90_s
    if m.action is None or med is None or p10 is None or p90 is None:
        raise ValueError(f"MSEL row #{m.seq} has no timed action")
    return m.action, med, p10, p90


def evaluate(script: DrillScript, log: list[LogEntry]) -> AfterAction:
    """The after-action evaluation (see the module docstring)."""
    actual = {r.seq: r.actual_s for r in log}
    cap_name = {o.id: o.capability_name for o in script.header.objectives}
    timed = [m for m in script.msel if m.action is not None and m.median_s is not None]
    excess: dict[int, float | None] = {}
    for m in timed:
        t = actual.get(m.seq)
        excess[m.seq] = None if t is None else t - _standard(m)[1]
    acts: list[ActionResult] = []
    for m in timed:
        action, med, p10, p90 = _standard(m)
        x = np.array([s for s in m.samples_s if s is not None], dtype=float)
        t = actual.get(m.seq)
        pct = None if t is None else float(100.0 * np.count_nonzero(x <= t) / len(x))
        own = excess[m.seq]
        added = None
        if own is not None:  # along the chain: its excess minus that of the row it waits on
            base = excess.get(m.after) if m.after is not None else None
            added = own - (base if base is not None else 0.0)
        acts.append(ActionResult(
            seq=m.seq, action=action, text_key=m.text_key, label=m.expected_action,
            role=m.responsible_role, objective_id=m.objective_id, capability=m.capability,
            median_s=med, p10_s=p10, p90_s=p90, actual_s=t, percentile=pct,
            late=bool(t is not None and t > p90), excess_s=own, after=m.after,
            added_delay_s=added, corrective=ACTIONS[m.text_key].corrective,
            capability_name=cap_name.get(m.objective_id, Bi("", ""))))
    by_seq = {a.seq: a for a in acts}
    objectives = []
    for o in script.header.objectives:
        mine = [a for a in acts if a.objective_id == o.id]
        late = sum(a.late for a in mine)
        missing = sum(a.actual_s is None for a in mine)
        objectives.append(ObjectiveResult(objective=o, actions=len(mine), late=late,
                                          missing=missing,
                                          rating=_rating(len(mine), late, missing)))

    # the chain that leads to the final action, and the largest added delays along it
    chain: list[int] = []
    seq = script.final_seq
    while seq is not None and seq in by_seq and seq not in chain:
        chain.append(seq)
        seq = by_seq[seq].after
    chain.reverse()
    delaying = sorted((s for s in chain if (by_seq[s].added_delay_s or 0.0) >= 1.0),
                      key=lambda s: (-(by_seq[s].added_delay_s or 0.0), s))[:3]
    return AfterAction(
        name=script.name, title=script.header.title, seed=script.seed,
        scenario=script.scenario, replications=script.replications,
        observed=sum(a.actual_s is not None for a in acts),
        late=sum(a.late for a in acts),
        missing=sum(a.actual_s is None for a in acts),
        late_seqs=tuple(a.seq for a in acts if a.late),
        final_seq=script.final_seq, chain=tuple(chain), most_delaying=tuple(delaying),
        objectives=tuple(objectives), actions=tuple(acts))
