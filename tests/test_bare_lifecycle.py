"""The bare-SimPy reference model of the benchmarks (benchmarks/bare_lifecycle.py) against
queueing theory: it is the yardstick of the per-incident target, so it must be a correct model."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bare_lifecycle


def _one_grid(responders: int, n: int, duration_s: float, handling_mean_s: float
              ) -> bare_lifecycle.Lifecycle:
    """One grid whose mutual-aid row is itself at 0 s: travel takes no time."""
    return bare_lifecycle.Lifecycle(
        rate_weight=np.array([1.0]), responders=np.array([responders]),
        near_indptr=np.array([0, 1]), near_indices=np.array([0], dtype=np.int32),
        near_time_s=np.array([0.0], dtype=np.float32), n_incidents=n,
        duration_s=duration_s, handling_mean_s=handling_mean_s)


def _erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a`` (Erlang C)."""
    top = a ** c / math.factorial(c) * c / (c - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)


def test_waiting_share_is_erlang_c() -> None:
    # zero travel: Poisson arrivals, exponential handling, c responders, FIFO: M/M/c
    n, duration = 10_000, 1_000_000.0
    lam = n / duration
    run = bare_lifecycle.run(_one_grid(2, n, duration, handling_mean_s=100.0), seed=3)
    expected = _erlang_c(2, lam * 100.0)  # a = 1: 1/3; over seeds the share's sd is ~0.008
    assert abs(run.waited / run.incidents - expected) < 0.03
    assert run.incidents - run.served < 20  # only those in progress at the end


def test_nobody_to_send_serves_nothing() -> None:
    run = bare_lifecycle.run(_one_grid(0, 50, 3600.0, handling_mean_s=60.0), seed=1)
    assert (run.incidents, run.served, run.waited) == (50, 0, 50)


def test_nearest_grid_with_someone_free_is_sent() -> None:
    # grid 0 has nobody; its row reaches grid 2 at 50 s and grid 1 at 100 s, one person each.
    # Three incidents in grid 0, far apart, handling ~0: grid 2's person takes each (50 s)
    lc = bare_lifecycle.Lifecycle(
        rate_weight=np.array([1.0, 0.0, 0.0]), responders=np.array([0, 1, 1]),
        near_indptr=np.array([0, 3, 4, 5]), near_indices=np.array([0, 2, 1, 1, 2], np.int32),
        near_time_s=np.array([0.0, 50.0, 100.0, 0.0, 0.0], np.float32), n_incidents=3,
        duration_s=1e9, handling_mean_s=1e-9)
    run = bare_lifecycle.run(lc, seed=0)
    assert (run.served, run.waited, run.travel_s) == (3, 0, 150.0)
    # without grid 2's person, grid 1's comes (100 s)
    run = bare_lifecycle.run(dataclasses.replace(lc, responders=np.array([0, 1, 0])), seed=0)
    assert (run.served, run.waited, run.travel_s) == (3, 0, 300.0)
    # with nobody in the row, every incident waits and nobody travels
    run = bare_lifecycle.run(dataclasses.replace(lc, responders=np.array([0, 0, 0])), seed=0)
    assert (run.served, run.waited, run.travel_s) == (0, 3, 0.0)


def test_incidents_land_on_grids_by_rate() -> None:
    # rates 3:1; grid 1 has nobody and its row reaches grid 0 at 10 s, grid 0 has plenty: the
    # travel sum counts grid 1's incidents (10 s each) against grid 0's own (0 s)
    lc = bare_lifecycle.Lifecycle(
        rate_weight=np.array([3.0, 1.0]), responders=np.array([10_000, 0]),
        near_indptr=np.array([0, 1, 3]), near_indices=np.array([0, 1, 0], np.int32),
        near_time_s=np.array([0.0, 0.0, 10.0], np.float32), n_incidents=5_000,
        duration_s=1e7, handling_mean_s=1.0)
    run = bare_lifecycle.run(lc, seed=2)
    share = run.travel_s / 10.0 / run.incidents
    assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / run.incidents)
