"""The typed records of a drill: action ids, injects, MSEL rows, the script, the log and the
after-action evaluation.

Drill code passes these small frozen dataclasses from the simulated samples
(:mod:`~gridsim.drills.timings`) through the script (:mod:`~gridsim.drills.script`) to the
evaluation (:mod:`~gridsim.drills.evaluate`); they become JSON, Markdown and CSV only at the end
(:mod:`~gridsim.drills.render`), and drill.json is read back into them once
(:func:`gridsim.drills.evaluate.load_drill`). Field names follow drill.json's keys except where a
key is not a Python name (``from``/``to`` are ``sender``/``recipient``, an MSEL row's ``key`` is
``text_key``) or groups of keys are one object (a row's ``median_s``, ``p10_s``, ``p90_s`` and
``reached`` are its :class:`TimeStandard`).

An :class:`ActionId` names an action and where it happens; its text form, as drill.json and the
log write it, is ``g12.post_ready`` (the switch of grid 12), ``inc1.first_on_scene`` (the drill
incident) or ``inc2.first_on_scene`` (the second incident). :meth:`ActionId.parse` is the one
parser of that form.

This module imports only the standard library and :mod:`gridsim.drills.texts`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from gridsim.drills.texts import Bi

__all__ = [
    "AFTER_ACTION_FORMAT",
    "DRILL_FORMAT",
    "EVACUATION_ACTIONS",
    "INCIDENT_ACTIONS",
    "MSEL_COLUMNS",
    "SECOND_ACTIONS",
    "SWITCH_ACTIONS",
    "Action",
    "ActionId",
    "ActionResult",
    "AfterAction",
    "Contingency",
    "DrillScript",
    "Header",
    "Inject",
    "LogEntry",
    "MselRow",
    "Objective",
    "ObjectiveResult",
    "Participant",
    "Resource",
    "TimeStandard",
    "fmt_t",
]

#: The ``format`` of drill.json and of after_action.json.
DRILL_FORMAT = "gridsim-drill/1"
AFTER_ACTION_FORMAT = "gridsim-after-action/1"

#: Columns of msel.csv, in order (HSEEP MSEL plus the time standard).
MSEL_COLUMNS: tuple[str, ...] = (
    "seq", "time", "inject_type", "delivery_method", "from", "to", "inject", "expected_action",
    "responsible_role", "time_standard_median", "time_standard_p90", "objective",
    "evaluation_criterion",
)


class Action(StrEnum):
    """The expected actions a drill times (the keys of :data:`gridsim.drills.texts.ACTIONS`,
    but for the text variant ``commander_at_post_absent``)."""

    # a grid's switch
    COMMANDER_AT_POST = "commander_at_post"
    QUORUM_ASSEMBLED = "quorum_assembled"
    POST_READY = "post_ready"
    # an incident
    INCIDENT_REPORTED = "incident_reported"
    REPORT_VILLAGE = "report_village"
    REPORT_TOWNSHIP = "report_township"
    REPORT_COUNTY = "report_county"
    DISPATCHED = "dispatched"
    FIRST_ON_SCENE = "first_on_scene"
    CREW_COMPLETE = "crew_complete"
    HANDLING_STARTED = "handling_started"
    WHISTLE = "whistle"
    DEPARTMENT_ARRIVED = "department_arrived"
    RESOLVED = "resolved"
    # a grid's evacuation
    FIRST_DEPARTED = "first_departed"
    WARNED_ALL = "warned_all"
    VULNERABLE_HELPED = "vulnerable_helped"
    LAST_DEPARTED = "last_departed"
    FIRST_SHELTERED = "first_sheltered"
    CLEARANCE = "clearance"


A = Action
#: Actions of a grid's switch, in order.
SWITCH_ACTIONS: tuple[Action, ...] = (A.COMMANDER_AT_POST, A.QUORUM_ASSEMBLED, A.POST_READY)
#: Actions of the drill incident, in order.
INCIDENT_ACTIONS: tuple[Action, ...] = (
    A.INCIDENT_REPORTED, A.REPORT_VILLAGE, A.REPORT_TOWNSHIP, A.REPORT_COUNTY, A.DISPATCHED,
    A.FIRST_ON_SCENE, A.CREW_COMPLETE, A.HANDLING_STARTED, A.WHISTLE, A.DEPARTMENT_ARRIVED,
    A.RESOLVED,
)
#: Actions of the evacuation of each drill grid (:mod:`gridsim.evacuation`), in order.
EVACUATION_ACTIONS: tuple[Action, ...] = (A.FIRST_DEPARTED, A.WARNED_ALL, A.VULNERABLE_HELPED,
                                          A.LAST_DEPARTED, A.FIRST_SHELTERED, A.CLEARANCE)
#: Actions of the second incident (extra inject ``second_incident``).
SECOND_ACTIONS: tuple[Action, ...] = (A.INCIDENT_REPORTED, A.DISPATCHED, A.FIRST_ON_SCENE,
                                      A.RESOLVED)
del A

_GRID_ACTIONS = frozenset(SWITCH_ACTIONS + EVACUATION_ACTIONS)
_INCIDENTS = (1, 2)


def fmt_t(t_s: float | None) -> str:
    """Drill-clock time ``T+mm:ss`` (minutes may exceed 59); empty for no time."""
    if t_s is None or not math.isfinite(t_s):
        return ""
    s = round(t_s)
    sign = "-" if s < 0 else "+"
    m, sec = divmod(abs(s), 60)
    return f"T{sign}{m:02d}:{sec:02d}"


@dataclass(frozen=True)
class ActionId:
    """An action and where it happens: a grid's (``grid``) or an incident's (``incident`` 1 for
    the drill incident, 2 for the second one). ``str()`` gives the text form."""

    key: Action
    grid: int | None = None
    incident: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, Action):
            raise TypeError(f"ActionId.key must be an Action, got {self.key!r}")
        if (self.grid is None) == (self.incident is None):
            raise ValueError("an action happens in a grid or in an incident: give one of "
                             f"grid and incident ({self.key}, grid={self.grid}, "
                             f"incident={self.incident})")
        if self.grid is not None:
            if self.grid < 0:
                raise ValueError(f"grid id {self.grid} of action {self.key} is negative")
            if self.key not in _GRID_ACTIONS:
                raise ValueError(f"{self.key} is an incident's action, not a grid's")
        else:
            if self.incident not in _INCIDENTS:
                raise ValueError(f"incident {self.incident} of action {self.key}: expected 1 "
                                 "(the drill incident) or 2 (the second incident)")
            if self.key in _GRID_ACTIONS:
                raise ValueError(f"{self.key} is a grid's action, not an incident's")

    @classmethod
    def of_grid(cls, grid: int, key: Action) -> ActionId:
        return cls(key, grid=int(grid))

    @classmethod
    def of_incident(cls, incident: int, key: Action) -> ActionId:
        return cls(key, incident=incident)

    @classmethod
    def parse(cls, text: str) -> ActionId:
        """The action id of ``g12.post_ready``, ``inc1.resolved`` or ``inc2.dispatched``;
        ValueError saying what was expected otherwise."""
        place, dot, key = text.partition(".")
        expected = ("expected an action id like g12.post_ready, inc1.first_on_scene or "
                    "inc2.resolved")
        try:
            action = Action(key)
        except ValueError:
            raise ValueError(f"{text!r}: unknown action {key!r} ({expected})") from None
        if not dot:
            raise ValueError(f"{text!r}: {expected}")
        if place in ("inc1", "inc2"):
            return cls(action, incident=int(place[3]))
        digits = place[1:]
        if place.startswith("g") and digits.isascii() and digits.isdigit() \
                and digits == str(int(digits)):
            return cls(action, grid=int(digits))
        raise ValueError(f"{text!r}: unknown place {place!r} ({expected})")

    @property
    def place(self) -> str:
        """``g<grid>``, ``inc1`` or ``inc2``."""
        return f"g{self.grid}" if self.grid is not None else f"inc{self.incident}"

    @property
    def second(self) -> bool:
        """An action of the second incident."""
        return self.incident == 2

    def sibling(self, key: Action) -> ActionId:
        """Action ``key`` at the same place."""
        return ActionId(key, grid=self.grid, incident=self.incident)

    def __str__(self) -> str:
        return f"{self.place}.{self.key.value}"


@dataclass(frozen=True)
class TimeStandard:
    """An action's time standard: the median, 10th and 90th percentile of its simulated T+
    times over the replications that reached it (``reached``); None when none did."""

    median_s: float | None
    p10_s: float | None
    p90_s: float | None
    reached: int

    @classmethod
    def none(cls) -> TimeStandard:
        return cls(None, None, None, 0)


@dataclass(frozen=True)
class Inject:
    """A scenario inject a controller delivers at ``at_s`` (T+ seconds)."""

    key: str  # "warning", "incident", "evacuation" or an extra inject
    at_s: float
    type: Bi
    delivery: Bi
    sender: Bi
    recipient: Bi
    text: Bi
    narration: Bi
    dialogue: Bi

    @property
    def time(self) -> str:
        return fmt_t(self.at_s)


@dataclass(frozen=True)
class Objective:
    """A drill objective: an AQ/T 9007 drill content (``category``) with its HSEEP capability."""

    id: str  # O1, O2, ...
    category: str
    category_name: Bi
    capability: str
    capability_name: Bi
    text: Bi


@dataclass(frozen=True)
class MselRow:
    """One row of the master scenario events list: an inject (or the note that a row follows
    one) and the action it expects, with its time standard and simulated samples. A row whose
    inject prompted no action that made it into the script has ``action`` None."""

    seq: int
    time_s: float
    inject_key: str
    inject_type: Bi
    delivery_method: Bi
    sender: Bi
    recipient: Bi
    inject: Bi
    action: ActionId | None
    text_key: str  # the key of its text in gridsim.drills.texts.ACTIONS ("" without action)
    grid: int | None
    expected_action: Bi
    responsible_role: Bi
    standard: TimeStandard
    samples_s: tuple[float | None, ...]  # None: not reached in that replication
    after: int | None  # the seq of the row it waits on
    objective_id: str
    objective: Bi
    category: str
    capability: str
    evaluation_criterion: Bi

    @property
    def time(self) -> str:
        return fmt_t(self.time_s)

    @property
    def median_s(self) -> float | None:
        return self.standard.median_s

    @property
    def p10_s(self) -> float | None:
        return self.standard.p10_s

    @property
    def p90_s(self) -> float | None:
        return self.standard.p90_s


@dataclass(frozen=True)
class Contingency:
    """The inject a controller delivers when row ``for_seq``'s action is not observed by its
    90th percentile (``time_s``)."""

    id: str  # C<for_seq>
    for_seq: int
    time_s: float
    condition: Bi
    sender: Bi
    recipient: Bi
    inject: Bi

    @property
    def time(self) -> str:
        return fmt_t(self.time_s)


@dataclass(frozen=True)
class Participant:
    unit: Bi
    people: Bi
    role: Bi


@dataclass(frozen=True)
class Resource:
    unit: Bi
    items: Bi


@dataclass(frozen=True)
class Header:
    """Name, objectives, hazard scenario, participants, resources, safety rules, timing."""

    name: str
    title: Bi
    objectives: tuple[Objective, ...]
    scenario: tuple[Bi, ...]
    participants: tuple[Participant, ...]
    resources: tuple[Resource, ...]
    safety_rules: tuple[Bi, ...]
    timing: Bi


@dataclass(frozen=True)
class DrillScript:
    """A whole drill script (drill.json). ``variant`` is the seed's variant as drill.json
    records it (:meth:`gridsim.drills.variants.Variant.as_dict`), carried for tools."""

    gridsim_version: str
    name: str
    seed: int
    replications: int
    start_h: float
    horizon_h: float
    scenario: str
    catalogue: str
    hazard_setting: str
    response: str
    choices: Mapping[str, str]
    variant: Mapping[str, object]
    hazards: tuple[str, ...]
    grade_names: Mapping[str, str]
    header: Header
    injects: tuple[Inject, ...]
    msel_columns: tuple[str, ...]
    msel: tuple[MselRow, ...]
    contingency: tuple[Contingency, ...]
    final_seq: int | None
    end_s: float

    @property
    def extra(self) -> str:
        """The variant's extra inject ("" for none)."""
        return str(self.variant.get("extra", ""))

    def row(self, seq: int) -> MselRow:
        return self.msel[seq - 1]


# ----------------------------------------------------------------------------------------------
# the log and the evaluation
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogEntry:
    """One recorded action of a drill's log: its MSEL row and when it was done."""

    seq: int
    actual_s: float | None  # None: not observed
    row: int  # row of the log file (header = 1)


@dataclass(frozen=True)
class ActionResult:
    """One timed action of the script against its recorded time."""

    seq: int
    action: ActionId
    text_key: str
    label: Bi
    role: Bi
    objective_id: str
    capability: str
    median_s: float
    p10_s: float
    p90_s: float
    actual_s: float | None
    percentile: float | None  # share of replications done by actual_s, x 100
    late: bool  # after p90_s
    excess_s: float | None  # actual_s - median_s
    after: int | None
    added_delay_s: float | None  # its excess minus that of the action it waits on
    corrective: Bi
    capability_name: Bi


@dataclass(frozen=True)
class ObjectiveResult:
    """An objective's actions, how many were late or missing, and its HSEEP rating."""

    objective: Objective
    actions: int
    late: int
    missing: int
    rating: str  # P, S, M or U


@dataclass(frozen=True)
class AfterAction:
    """The after-action evaluation (after_action.json)."""

    name: str
    title: Bi
    seed: int
    scenario: str
    replications: int
    observed: int
    late: int
    missing: int
    late_seqs: tuple[int, ...]
    final_seq: int | None
    chain: tuple[int, ...]  # the rows leading to the final action, first to last
    most_delaying: tuple[int, ...]
    objectives: tuple[ObjectiveResult, ...]
    actions: tuple[ActionResult, ...]

    def action(self, seq: int) -> ActionResult:
        return next(a for a in self.actions if a.seq == seq)
