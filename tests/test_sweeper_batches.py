"""gridsim's sweeper with a launcher that says how many workers it has (joblib's ``n_jobs``):
the fewest batches that keep the workers as evenly loaded as any batch size does."""

from __future__ import annotations

import itertools

import pytest

from hydra_plugins.gridsim_sweeper import (
    MAX_PER_JOB,
    MIN_JOBS,
    _workers,
    balanced_per_job,
    plan_batches,
)


def _jobs(variants: int, replications: int) -> list[list[str]]:
    return [[f"a={a}", f"replication={r}"] for a in range(variants) for r in range(replications)]


def _busiest(sizes: list[int], workers: int) -> int:
    """The runs of the busiest worker, batches in launch order each to the least loaded one
    (written out here apart from the sweeper's own)."""
    load = [0] * workers
    for n in sizes:
        load[load.index(min(load))] += n
    return max(load)


def _brute(variants: int, replications: int, workers: int) -> tuple[int, int]:
    """(busiest worker's runs, batches) of the best batch size, by trying every size."""
    best = None
    for p in range(1, variants * replications + 1):
        sizes = [min(p, replications - i) for _ in range(variants)
                 for i in range(0, replications, p)]
        key = (_busiest(sizes, workers), len(sizes))
        best = key if best is None or key < best else best
    assert best is not None
    return best


def test_one_variant_on_two_workers_is_one_batch_each() -> None:
    batches = plan_batches(_jobs(1, 40), None, workers=2)
    assert [len(b) for b in batches] == [20, 20]
    assert [n for b in batches for n, _ in b] == list(range(40))  # in the jobs' order
    assert len(plan_batches(_jobs(1, 40), None)) == 40 // MAX_PER_JOB  # launcher unknown
    assert len(plan_batches(_jobs(1, 8), None)) == MIN_JOBS


@pytest.mark.parametrize(("variants", "replications", "workers"),
                         list(itertools.product((1, 2, 3, 5), (1, 4, 7, 20), (2, 3, 4))))
def test_batches_are_as_even_as_any_size_and_as_few(variants: int, replications: int,
                                                    workers: int) -> None:
    jobs = _jobs(variants, replications)
    batches = plan_batches(jobs, None, workers=workers)
    assert all(len({tuple(ov[:-1]) for _, ov in b}) == 1 for b in batches)  # one variant each
    assert sorted(n for b in batches for n, _ in b) == list(range(len(jobs)))
    got = (_busiest([len(b) for b in batches], workers), len(batches))
    assert got == _brute(variants, replications, workers)
    # never worse spread than the rule for an unknown launcher
    plain = [len(b) for b in plan_batches(jobs, None)]
    assert got[0] <= _busiest(plain, workers)


def test_an_explicit_batch_size_wins_and_one_worker_keeps_the_plain_rule() -> None:
    assert [len(b) for b in plan_batches(_jobs(1, 40), 5, workers=2)] == [5] * 8
    assert plan_batches(_jobs(2, 25), None, workers=1) == plan_batches(_jobs(2, 25), None)
    assert balanced_per_job([], 2) == 1


def test_workers_from_joblibs_n_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    class JoblibLauncher:  # the name is what the sweeper looks at
        def __init__(self, n_jobs: object) -> None:
            self.joblib = {"n_jobs": n_jobs}

    class BasicLauncher:
        pass

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert _workers(JoblibLauncher(2)) == 2
    assert _workers(JoblibLauncher(-1)) == 8  # joblib: every CPU
    assert _workers(JoblibLauncher(-2)) == 7  # ... but one
    assert _workers(JoblibLauncher(None)) is None
    assert _workers(BasicLauncher()) is None
