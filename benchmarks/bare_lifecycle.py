"""A bare-SimPy model of gridsim's incident lifecycle: the reference of the per-incident target.

Issue 2's target, restated in issue 10: per incident, ``gridsim.engine.simulation.simulate``
costs at most 3x this model of the same lifecycle. The model is written the plain way one would
write it with SimPy and numpy, and nothing more:

* **Poisson incidents over the same grids.** One arrival process. Given the number of incidents
  ``n`` over ``duration_s`` (the gridsim run's), the arrival times of a Poisson process are ``n``
  sorted uniforms on ``[0, duration_s)`` (the order statistics: a Poisson process conditioned on
  its count), so the rate is gridsim's and the count is exactly gridsim's. Each incident's grid
  is drawn in proportion to ``rate_weight`` (the grids' base rates).
* **The nearest available responder over the same travel times.** Each grid has
  ``responders[g]`` people (its roster). An incident in grid ``g`` takes one from the first grid
  of ``g``'s mutual-aid row that has a free person: the scenario's near-times CSR rows
  (``indptr``, ``indices``, ``time_s``), each sorted by road time with ``g`` itself first. When
  nobody in the row is free the incident waits until someone comes back, then looks again.
* **Travel, handling, return.** The responder drives the row's road time, handles the incident
  for an exponential time of mean ``handling_mean_s`` (gridsim's mean handling time in the run
  compared), drives back the same time and is free again.

Randomness: two streams spawned from one seed (arrivals, handling); no global RNG.

Events per incident: the arrival timeout, the incident process's start, travel, handling,
return (and a wake-up per wait). :func:`run` returns the counts, so a caller can check that the
model did the work it is timed for (every incident served when responders suffice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

__all__ = ["BareRun", "Lifecycle", "run"]


@dataclass(frozen=True)
class Lifecycle:
    """What the bare model is given: the place (as plain arrays) and the run's figures."""

    rate_weight: np.ndarray  # per grid: relative incident rate (>= 0, some > 0)
    responders: np.ndarray  # per grid: people who can respond
    near_indptr: np.ndarray  # CSR rows: grid -> grids within the mutual-aid radius
    near_indices: np.ndarray
    near_time_s: np.ndarray  # driving seconds, each row sorted, the origin first at 0
    n_incidents: int
    duration_s: float
    handling_mean_s: float


@dataclass(frozen=True)
class BareRun:
    incidents: int  # incidents that occurred
    served: int  # incidents whose responder came back before the end
    waited: int  # incidents that found nobody free in their row when they occurred
    travel_s: float  # one-way travel of every responder sent
    events: int  # SimPy events scheduled


def run(lc: Lifecycle, seed: int = 0) -> BareRun:
    """Simulate ``lc`` once, until ``lc.duration_s``."""
    arrivals_ss, handling_ss = np.random.SeedSequence(seed).spawn(2)
    arr_rng = np.random.default_rng(arrivals_ss)
    hand_rng = np.random.default_rng(handling_ss)
    env = simpy.Environment()
    free = lc.responders.astype(np.int64)  # a copy: free people per grid
    indptr, indices, time_s = lc.near_indptr, lc.near_indices, lc.near_time_s
    waiting: list[simpy.Event] = []  # incidents that found nobody, woken by the next return
    counts = {"served": 0, "waited": 0, "travel_s": 0.0}

    def incident(g: int):  # one incident's life
        a, b = indptr[g], indptr[g + 1]
        row, times = indices[a:b], time_s[a:b]
        waited = False
        while True:  # the nearest grid of the row with somebody free
            has = free[row] > 0
            j = int(has.argmax())
            if has[j]:
                break
            if not waited:
                waited = True
                counts["waited"] += 1
            wake = env.event()
            waiting.append(wake)
            yield wake
        src, travel = int(row[j]), float(times[j])
        free[src] -= 1
        counts["travel_s"] += travel
        yield env.timeout(travel)  # to the scene
        yield env.timeout(hand_rng.exponential(lc.handling_mean_s))  # handling
        yield env.timeout(travel)  # back to base
        free[src] += 1
        counts["served"] += 1
        if waiting:  # everyone waiting looks again, oldest first
            woken = waiting[:]
            waiting.clear()
            for ev in woken:
                ev.succeed()

    def arrivals():  # Poisson incidents: n sorted uniforms, grids by rate
        n = lc.n_incidents
        times = np.sort(arr_rng.random(n) * lc.duration_s).tolist()
        cum = np.cumsum(lc.rate_weight, dtype=float)
        grids = np.minimum(cum.searchsorted(arr_rng.random(n) * cum[-1], side="right"),
                           len(cum) - 1).tolist()
        for t, g in zip(times, grids, strict=True):
            yield env.timeout(t - env.now)
            env.process(incident(g))

    env.process(arrivals())
    env.run(until=lc.duration_s)
    return BareRun(incidents=lc.n_incidents, served=int(counts["served"]),
                   waited=int(counts["waited"]), travel_s=float(counts["travel_s"]),
                   events=int(next(env._eid)))  # type: ignore[attr-defined]
