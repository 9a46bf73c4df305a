"""Run records: an append-only event log and time-weighted levels.

Records are appended during the run and turned into tables only at the end. Levels (open
incidents, busy responders) are integrated over time, so their averages are time-weighted.

The event log's rows are ``(time_s, event, grid, incident, detail)``: ``detail`` is the text a
person reads. ``events.csv`` also carries ``data``, a JSON object per row with the row's
typed fields (``{"person": 12, "role": "grid_worker", "from_post": false, "eta_s": 95.2}``),
for a program to read (:meth:`EventLog.table_rows`): the fields a caller gave
(``log(..., data={...})``), else those read from its ``detail`` by the event's pattern
(:data:`DETAIL_FIELDS`, one per event the engine logs), ``{}`` for a row without any. The
logging calls of the engine's hot paths stay as cheap as they were: the fields are worked out
when the table is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DETAIL_FIELDS", "EVENT_COLUMNS", "EventLog", "TimeWeighted", "detail_fields"]

#: The columns of ``events.csv``: the log's rows and their ``data``.
EVENT_COLUMNS = ("time_s", "event", "grid", "incident", "detail", "data")


@dataclass
class TimeWeighted:
    """A level integrated over time: ``area`` is the integral of the level since ``start_s``."""

    level: float = 0.0
    area: float = 0.0
    last_s: float = 0.0
    start_s: float = 0.0
    peak: float = 0.0

    def change(self, now: float, delta: float) -> None:
        self.area += self.level * (now - self.last_s)
        self.last_s = now
        self.level += delta
        self.peak = max(self.peak, self.level)

    def mean(self, now: float) -> float:
        """Time-average of the level over ``[start_s, now]``."""
        span = now - self.start_s
        if span <= 0:
            return 0.0
        return (self.area + self.level * (now - self.last_s)) / span


# ----------------------------------------------------------------------------------------------
# the typed fields of each event's detail
# ----------------------------------------------------------------------------------------------
_NUM = r"-?\d+(?:\.\d+)?"
_W = r"[^\s,;:()]+"  # a name: a role, an item, a department, a task, a mode
#: ``(event or event prefix, pattern)``: the detail's fields as the pattern's named groups
#: (a group named ``..._i`` is an int, ``..._f`` a float, ``..._b`` true when it matched).
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("occurred", rf"(?P<hazard>{_W}) grade (?P<grade>{_W})"),
    ("notified", rf"by (?P<by>{_W}); grid (?P<mode>{_W})"),
    ("reported_", r"(?P<report>initial) report"),
    ("resolved", rf"by (?P<by>{_W})"),
    ("escalated", rf"whistle to (?P<department>{_W})"),
    ("department_called", rf"residents call (?P<department>{_W})"),
    ("department_arrived", rf"(?P<department>{_W}) station (?P<station_i>\d+)"),
    ("dispatched", rf"person (?P<person_i>\d+) \((?P<role>{_W})(?P<from_post_b>, from post)?\) "
                   rf"eta (?P<eta_s_f>{_NUM})"),
    ("command_transfer", rf"person (?P<person_i>\d+) from grid (?P<from_grid_i>\d+) by the "
                         rf"(?P<level>{_W}), (?P<trip_s_f>{_NUM}) s"),
    ("premove_depart", rf"力量前置 team of (?P<team_i>\d+) from grid (?P<from_grid_i>\d+), "
                       rf"(?P<trip_s_f>{_NUM}) s(?: \((?P<short_i>\d+) of (?P<planned_i>\d+) "
                       r"not free\))?"),
    ("premove_depart", rf"物资前置 (?P<count_i>\d+) (?P<item>{_W}) from grid (?P<from_grid_i>\d+), "
                       rf"(?P<trip_s_f>{_NUM}) s(?: \((?P<short_i>\d+) of (?P<planned_i>\d+) "
                       r"not in stock\))?"),
    ("premove_arrive", r"力量前置 team of (?P<team_i>\d+) from grid (?P<from_grid_i>\d+) arrived"),
    ("premove_arrive", rf"物资前置 (?P<count_i>\d+) (?P<item>{_W}) from grid (?P<from_grid_i>\d+) "
                       r"arrived"),
    ("peace_step", r"open hazards (?P<open_hazards_i>\d+)"),
    ("warning_start", rf"(?P<warning>\S+) \((?P<level>{_W})\) over (?P<grids_i>\d+) grids"),
    ("warning_end", r"(?P<warning>\S+)"),
    ("storm_task_done", rf"(?P<task>{_W})"),
    ("storm_supply_fetched", rf"(?P<task>{_W}): (?P<count_i>\d+) (?P<item>{_W}) from the "
                             r"township depot"),
    ("storm_supply_short", rf"(?P<task>{_W}): (?P<short_i>\d+) units without stock"),
    ("storm_preempted", rf"person (?P<person_i>\d+) off (?P<task>{_W})"),
    ("supply_borrowed", rf"(?P<count_i>\d+) (?P<item>{_W}) from grid (?P<from_grid_i>\d+)"),
    ("supply_fetched", rf"(?P<count_i>\d+) (?P<item>{_W}) from the township depot"),
    ("supply_unmet", rf"(?P<short_i>\d+) (?P<item>{_W}) not available"),
    ("supply_delivered", rf"(?P<count_i>\d+) (?P<item>{_W})"),
    ("depot_delivered", rf"township (?P<township_i>\d+): (?P<count_i>\d+) (?P<item>{_W})"),
    ("mode_", rf"(?P<from_mode>{_W})->(?P<to_mode>{_W}); (?P<reason>.*)"),
)
#: The patterns by event (prefix), compiled: :func:`detail_fields` reads a detail with them.
DETAIL_FIELDS: dict[str, list[re.Pattern[str]]] = {}
for _event, _pattern in _PATTERNS:
    DETAIL_FIELDS.setdefault(_event, []).append(re.compile(_pattern))
_PREFIXES = tuple(e for e in DETAIL_FIELDS if e.endswith("_"))


def _converter(name: str) -> tuple[str, Callable[[str | None], Any]]:
    if name.endswith("_i"):
        return name[:-2], lambda v: None if v is None else int(v)
    if name.endswith("_f"):
        return name[:-2], lambda v: None if v is None else float(v)
    if name.endswith("_b"):
        return name[:-2], lambda v: v is not None
    return name, lambda v: v


_FIELDS: dict[re.Pattern[str], list[tuple[str, str, Callable[[str | None], Any]]]] = {
    p: [(g, *_converter(g)) for g in p.groupindex]
    for patterns in DETAIL_FIELDS.values() for p in patterns}


def _patterns(event: str) -> list[re.Pattern[str]]:
    found = DETAIL_FIELDS.get(event)
    if found is not None:
        return found
    return next((DETAIL_FIELDS[p] for p in _PREFIXES if event.startswith(p)), [])


def detail_fields(event: str, detail: str) -> dict[str, Any] | None:
    """The typed fields of an event's ``detail`` (``{}`` for an empty detail); None when no
    pattern of the event reads it (an event this module does not know, or a new wording)."""
    if not detail:
        return {}
    for pattern in _patterns(event):
        m = pattern.fullmatch(detail)
        if m is not None:
            return {key: convert(m.group(group)) for group, key, convert in _FIELDS[pattern]
                    if not (convert(None) is None and m.group(group) is None)}
    return None


# ----------------------------------------------------------------------------------------------
# the log
# ----------------------------------------------------------------------------------------------
@dataclass
class EventLog:
    """The event log: ``(time_s, event, grid, incident, detail)`` rows, or nothing if off;
    ``data`` holds the typed fields a caller gave for a row (by its index)."""

    enabled: bool = True
    rows: list[tuple[float, str, int, int, str]] = field(default_factory=list)
    data: dict[int, Mapping[str, Any]] = field(default_factory=dict)

    def log(self, t: float, event: str, grid: int = -1, incident: int = -1,
            detail: str = "", data: Mapping[str, Any] | None = None) -> None:
        """Append a row; ``data``: its typed fields (a JSON object's), when the caller has them
        at hand (else they are read from ``detail`` when the table is written)."""
        if self.enabled:
            if data is not None:
                self.data[len(self.rows)] = data
            self.rows.append((t, event, grid, incident, detail))

    def sorted_rows(self) -> list[tuple[float, str, int, int, str]]:
        """Rows in time order (stable: same-time rows keep the order they were logged in)."""
        return sorted(self.rows, key=lambda r: r[0])

    def table_rows(self) -> list[tuple[float, str, int, int, str, str]]:
        """The rows of ``events.csv`` (:data:`EVENT_COLUMNS`), in time order: each row and its
        ``data``, a JSON object (``{}`` when it has no field). A detail no pattern reads gets
        ``{"text": detail}``."""
        order = sorted(range(len(self.rows)), key=lambda i: self.rows[i][0])
        given = self.data
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        cache: dict[tuple[str, str], str] = {}
        out: list[tuple[float, str, int, int, str, str]] = []
        append = out.append
        rows = self.rows
        for i in order:
            t, event, grid, incident, detail = rows[i]
            if i in given:
                text = dumps(dict(given[i]))
            else:
                key = (event, detail)
                text = cache.get(key)  # type: ignore[assignment]
                if text is None:
                    fields = detail_fields(event, detail)
                    text = dumps(fields if fields is not None else {"text": detail})
                    if len(cache) < 100_000:
                        cache[key] = text
            append((t, event, grid, incident, detail, text))
        return out
