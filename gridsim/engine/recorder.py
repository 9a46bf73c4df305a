"""Run records: an append-only event log and time-weighted levels.

Records are appended during the run and turned into tables only at the end. Levels (open
incidents, busy responders) are integrated over time, so their averages are time-weighted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EventLog", "TimeWeighted"]


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


@dataclass
class EventLog:
    """The event log: ``(time_s, event, grid, incident, detail)`` rows, or nothing if off."""

    enabled: bool = True
    rows: list[tuple[float, str, int, int, str]] = field(default_factory=list)

    def log(self, t: float, event: str, grid: int = -1, incident: int = -1,
            detail: str = "") -> None:
        if self.enabled:
            self.rows.append((t, event, grid, incident, detail))

    def sorted_rows(self) -> list[tuple[float, str, int, int, str]]:
        """Rows in time order (stable: same-time rows keep the order they were logged in)."""
        return sorted(self.rows, key=lambda r: r[0])
