"""Simulation time: seconds since 00:00 of the first day; hours of the day for availability."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

__all__ = ["ProcessGenerator", "hour_of_day", "in_hours", "next_hour_s"]

#: The type of a SimPy process function's generator.
ProcessGenerator = Generator[simpy.Event, Any, None]


def hour_of_day(t_s: float) -> float:
    """The hour of the day (0 <= h < 24) at simulation time ``t_s``."""
    return (t_s / 3600.0) % 24.0


def in_hours(t_s: float, window: list[int] | tuple[int, int]) -> bool:
    """Whether ``t_s`` falls in the daily window ``[start, end)`` (hours; may wrap midnight)."""
    start, end = window
    h = hour_of_day(t_s)
    if start <= end:
        return start <= h < end
    return h >= start or h < end


def next_hour_s(t_s: float, hour: int) -> float:
    """The first time ``>= t_s`` at which the clock shows ``hour``:00."""
    day = 86400.0
    base = (t_s // day) * day + hour * 3600.0
    return base if base >= t_s else base + day
