"""The known changes of conditions of a run, generated as they come (not a list for the run).

Peacetime steps fall every ``peacetime.step_h`` and each warning starts and ends once,
so a run of ``duration_h`` hours has ``duration_h / step_h`` steps: a list of them would grow
with the duration (a 1e12-hour run never gets to time 0). :class:`Schedule` yields them in
order, lazily, and answers the two questions the rate field asks at every arrival (the next
boundary after ``now``; whether ``t`` is one) by arithmetic on the step and a bisection over
the few warning times, in constant memory.

Weather steps (:mod:`gridsim.engine.weather`) come as the sorted times at which a rain-driven
rate changes: the weather's own series already holds one value per step of its storm, so they
add no more than it has (none for dry steps, none without weather), searched by bisection.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Iterator, Sequence

__all__ = ["Schedule"]

#: One change: ``(time_s, order, action, payload)``; at equal times peacetime steps (order 0)
#: come first, then weather steps (1), warning starts (2), warning ends (3), each by
#: ``str(payload)``: a warning that takes over from another at the same moment holds its grids
#: before the other releases them, so they stay at their post.
Item = tuple[float, int, str, object]


class Schedule:
    """Peacetime steps at ``k × step_s`` (``k ≥ 1``) and warning starts and ends, all before
    ``duration_s``. Iterating gives the items in time order (each iteration starts again);
    :meth:`next_boundary` and :meth:`is_boundary` are what
    :class:`~gridsim.engine.hazards.RateField` needs of the times. ``weather_s`` are the times
    of weather steps (sorted; item ``("weather_step", i)`` for the ``i``-th)."""

    def __init__(self, step_s: float, warnings_s: list[tuple[float, float]],
                 duration_s: float, weather_s: Sequence[float] = ()) -> None:
        if not step_s > 0:
            raise ValueError(f"step_s must be > 0, got {step_s}")
        self.step_s = float(step_s)
        self.duration_s = float(duration_s)
        items: list[Item] = []
        for i, (start, end) in enumerate(warnings_s):
            if start < duration_s:
                items.append((start, 2, "warning_start", i))
            if end < duration_s:
                items.append((end, 3, "warning_end", i))
        items.sort(key=_key)
        self._warning_items = items
        self._weather = [float(t) for t in weather_s if 0 <= t < duration_s]
        if any(b <= a for a, b in itertools.pairwise(self._weather)):
            raise ValueError("weather_s must be strictly increasing")
        self._warning_times = sorted({t for t, *_ in items} | set(self._weather))
        self._warning_set = set(self._warning_times)
        # next_boundary's answer for times in [_from, _next): time only moves forward
        self._from = math.inf
        self._next = math.inf

    def _steps(self) -> Iterator[Item]:
        k = 1
        while k * self.step_s < self.duration_s:
            yield (k * self.step_s, 0, "peace_step", self.step_s)
            k += 1

    def _weather_items(self) -> Iterator[Item]:
        for i, t in enumerate(self._weather):
            yield (t, 1, "weather_step", i)

    def __iter__(self) -> Iterator[Item]:
        return heapq.merge(self._steps(), self._weather_items(), self._warning_items, key=_key)

    def _next_step(self, now: float) -> float:
        """The first peacetime step after ``now`` (``inf`` if none before the end)."""
        k = max(math.floor(now / self.step_s), 0) + 1
        while (k - 1) >= 1 and (k - 1) * self.step_s > now:
            k -= 1
        while k * self.step_s <= now:
            k += 1
        t = k * self.step_s
        return t if t < self.duration_s else math.inf

    def next_boundary(self, now: float) -> float:
        """The first time of a change after ``now`` (``inf`` if none)."""
        if self._from <= now < self._next:
            return self._next
        i = bisect.bisect_right(self._warning_times, now)
        warning = self._warning_times[i] if i < len(self._warning_times) else math.inf
        nxt = min(self._next_step(now), warning)
        self._from, self._next = now, nxt
        return nxt

    def is_boundary(self, t: float) -> bool:
        """Whether a change happens at ``t``."""
        if t in self._warning_set:
            return True
        if not 0 < t < self.duration_s:
            return False
        k = round(t / self.step_s)
        return k >= 1 and k * self.step_s == t


def _key(item: Item) -> tuple[float, int, str]:
    return item[0], item[1], str(item[3])
