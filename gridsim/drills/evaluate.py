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
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gridsim.drills.texts import ACTIONS, Bi

__all__ = ["LogError", "LogRow", "evaluate", "load_drill", "parse_time", "read_log"]


class LogError(ValueError):
    """A drill or log that cannot be evaluated; ``errors`` has one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class LogRow:
    """One recorded action: its MSEL row and when it was done (None: not observed)."""

    seq: int
    actual_s: float | None
    row: int  # row of the log file (header = 1)


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


def load_drill(path: Path) -> tuple[dict[str, Any], Path]:
    """The script of a drill folder (its drill.json) or of a drill.json file, and its folder."""
    file = path / "drill.json" if path.is_dir() else path
    if not file.is_file():
        raise LogError([f"{path}: no drill.json here (expected a drill folder written by "
                        "`gridsim drill script`, or its drill.json)"])
    try:
        script = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LogError([f"{file}: not a readable drill.json ({exc})"]) from None
    if not isinstance(script, dict) or script.get("format") != "gridsim-drill/1":
        raise LogError([f"{file}: not a gridsim drill script (no 'format: gridsim-drill/1')"])
    return script, file.parent


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


def read_log(path: Path, script: dict[str, Any]) -> list[LogRow]:
    """The rows of a drill's log, checked against its script; LogError lists every problem."""
    msel = {int(m["seq"]): m for m in script["msel"]}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LogError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LogError([f"{path}: cannot read it as UTF-8 text ({exc})"]) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(c.strip() for c in rows[0]):
        raise LogError([f"{path}: row 1 (header): empty; expected the columns "
                        "seq,action,actual"])
    header = [c.strip().casefold() for c in rows[0]]
    missing = [c for c in ("seq", "action", "actual") if c not in header]
    if missing:
        raise LogError([f"{path}: row 1 (header), column {c!r}: missing (the header is "
                        f"{','.join(rows[0])}; expected seq,action,actual)" for c in missing])
    col = {c: header.index(c) for c in ("seq", "action", "actual")}
    errors: list[str] = []
    out: list[LogRow] = []
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
        names = {m["action"], m["key"], m["expected_action"]["zh"], m["expected_action"]["en"]}
        if _norm(action) not in {_norm(x) for x in names if x}:
            bad("action", f"{action!r} is not the action of row #{seq}: expected "
                f"{m['action'] or '(none)'!r} ({m['expected_action']['en']})")
        try:
            t = parse_time(cell("actual"))
        except ValueError as exc:
            bad("actual", str(exc))
            continue
        if t is not None and t < 0:
            bad("actual", f"{cell('actual')!r} is before the drill began (T+00:00)")
            continue
        out.append(LogRow(seq=seq, actual_s=t, row=n))
    if errors:
        raise LogError(errors)
    return out


def _rating(total: int, late: int, missing: int) -> str:
    if total == 0 or missing == total:
        return "U"
    bad = late + missing
    if bad == 0:
        return "P"
    return "S" if bad <= total / 3 else "M"


def evaluate(script: dict[str, Any], log: list[LogRow]) -> dict[str, Any]:
    """The after-action evaluation (a JSON-ready dict; see the module docstring)."""
    actual = {r.seq: r.actual_s for r in log}
    acts: list[dict[str, Any]] = []
    for m in script["msel"]:
        if not m["action"] or m["median_s"] is None:
            continue
        x = np.array([s for s in m["samples_s"] if s is not None], dtype=float)
        t = actual.get(int(m["seq"]))
        pct = None if t is None else float(100.0 * np.count_nonzero(x <= t) / len(x))
        key = m["key"]
        text = ACTIONS[key]
        role = m["responsible_role"]
        acts.append({
            "seq": int(m["seq"]), "action": m["action"], "key": key,
            "label": m["expected_action"], "role": role,
            "objective_id": m["objective_id"], "capability": m["capability"],
            "median_s": m["median_s"], "p10_s": m["p10_s"], "p90_s": m["p90_s"],
            "actual_s": t, "percentile": pct,
            "late": bool(t is not None and t > m["p90_s"]),
            "excess_s": None if t is None else t - m["median_s"],
            "after": m["after"], "added_delay_s": None,
            "corrective": text.corrective.as_dict(),
        })
    by_seq = {a["seq"]: a for a in acts}
    objectives = []
    for o in script["header"]["objectives"]:
        mine = [a for a in acts if a["objective_id"] == o["id"]]
        late = sum(a["late"] for a in mine)
        missing = sum(a["actual_s"] is None for a in mine)
        objectives.append({**o, "actions": len(mine), "late": late, "missing": missing,
                           "rating": _rating(len(mine), late, missing)})
    cap_name = {o["id"]: o["capability_name"] for o in script["header"]["objectives"]}
    for a in acts:
        a["capability_name"] = cap_name.get(a["objective_id"], Bi("", "").as_dict())

    # added delays along the chain that leads to the final action
    for a in acts:
        if a["excess_s"] is None:
            continue
        prev = by_seq.get(a["after"]) if a["after"] is not None else None
        base = prev["excess_s"] if prev is not None and prev["excess_s"] is not None else 0.0
        a["added_delay_s"] = a["excess_s"] - base
    chain: list[int] = []
    seq = script.get("final_seq")
    while seq is not None and seq in by_seq and seq not in chain:
        chain.append(seq)
        seq = by_seq[seq]["after"]
    chain.reverse()
    delaying = sorted((s for s in chain if (by_seq[s]["added_delay_s"] or 0.0) >= 1.0),
                      key=lambda s: (-by_seq[s]["added_delay_s"], s))[:3]
    return {
        "format": "gridsim-after-action/1",
        "name": script["name"], "title": script["header"]["title"], "seed": script["seed"],
        "scenario": script["scenario"], "replications": script["replications"],
        "observed": sum(a["actual_s"] is not None for a in acts),
        "late": sum(a["late"] for a in acts),
        "missing": sum(a["actual_s"] is None for a in acts),
        "late_seqs": [a["seq"] for a in acts if a["late"]],
        "final_seq": script.get("final_seq"),
        "chain": chain, "most_delaying": delaying,
        "objectives": objectives, "actions": acts,
    }
