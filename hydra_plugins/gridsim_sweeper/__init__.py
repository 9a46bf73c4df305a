"""gridsim's Hydra sweeper (``hydra/sweeper=gridsim``): Hydra's basic sweeper, with three
changes for experiments, whose jobs are variants × replications.

* **Batches of replications.** The replications of one variant (the jobs whose overrides agree
  once ``replication=...`` is left aside) are launched as one Hydra job per batch of at most
  ``replications_per_job`` of them. That job runs each replication of its batch in-process, on
  one built scenario, into exactly the folder (manifest, ``.hydra/``) it would have had as a
  job of its own (:func:`gridsim.app.hydra_app.run_task`): a worker composes the config once per
  batch instead of once per run, and builds the scenario once. The batch travels in the job's
  ``hydra.job.env_set`` (key ``GRIDSIM_BATCH``), which every launcher hands to its workers; the
  job itself runs in a scratch sub-folder of the sweep (``.gridsim-batch-<n>``), removed when
  the batch is done. ``replications_per_job: null`` (the default) picks batches of at most 10
  such that the sweep has at least 4 jobs when it has that many runs (2 parallel workers then
  get 2 jobs each), and with Hydra's basic launcher (one process runs every job, one after the
  other) one batch per variant; with joblib's launcher, whose ``n_jobs`` says how many
  workers there are, the fewest batches that load the workers as evenly as any size does
  (:func:`balanced_per_job`: 40 replications of one variant on 2 workers, 2 batches of 20;
  each batch costs its worker a composition and a scenario build); ``1`` launches every run
  as its own job, as Hydra's basic sweeper does.
* **No composition to check.** Hydra's basic sweeper composes the config of *every* job in the
  launching process before launching any (a serial part no parallel launcher wins back). This
  one composes the first job of each variant (``validate: true``) or none (``validate: false``,
  what ``gridsim experiment`` sets: it has checked each variant itself).
* **A lost worker.** When the launcher fails because a worker died (joblib's
  ``TerminatedWorkerError``, a lost Ray node, a killed SLURM job), the runs it left saying
  ``running`` are marked ``failed`` ("worker killed") and the jobs that never started are
  launched again; the sweep goes on and ``gridsim experiment`` lists the failed runs.
"""

# No ``from __future__ import annotations``: Hydra's plugin scan runs this module before it is in
# sys.modules, where a dataclass with string annotations looks itself up.
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

__all__ = ["TARGET", "GridsimSweeper", "GridsimSweeperConf", "numbered_subdir", "plan_batches",
           "variant_key"]

TARGET = "hydra_plugins.gridsim_sweeper.GridsimSweeper"
#: The override that tells the replications of one variant apart.
REPLICATION_KEY = "replication"
#: The most replications one job runs when ``replications_per_job`` is not set.
MAX_PER_JOB = 10
#: ... and the fewest jobs a sweep of that many runs is cut into (2 per worker on 2 workers).
MIN_JOBS = 4
#: Scratch folders of batch jobs, under the sweep folder.
SCRATCH_PREFIX = ".gridsim-batch-"
#: How often in a row the jobs are launched again when workers die before any run starts.
MAX_RELAUNCHES = 3

log = logging.getLogger(__name__)


def variant_key(overrides: Sequence[str]) -> tuple:
    """A job's overrides without its ``replication=...``."""
    return tuple(o for o in overrides
                 if o.lstrip("+~").split("=", 1)[0].strip() != REPLICATION_KEY)


def _replication(overrides: Sequence[str]) -> str | None:
    """A job's ``replication=...`` override (None if it has none)."""
    return next((o for o in overrides
                 if o.lstrip("+~").split("=", 1)[0].strip() == REPLICATION_KEY), None)


def plan_batches(jobs: Sequence[Sequence[str]], per_job: int | None,
                 workers: int | None = None) -> list[list[tuple]]:
    """The batches of ``jobs``: lists of ``(job number, overrides)``, each of replications of one
    variant, in the order of the jobs. ``per_job``: the most per batch (``None``: with
    ``workers``, the launcher's number of parallel workers, see :func:`balanced_per_job`; else
    at most :data:`MAX_PER_JOB`, and small enough for :data:`MIN_JOBS` batches)."""
    by_variant: dict[tuple, list[tuple]] = {}
    for num, overrides in enumerate(jobs):
        by_variant.setdefault(variant_key(overrides), []).append((num, list(overrides)))
    if per_job is None and workers is not None and workers > 1:
        per_job = balanced_per_job([[n for n, _ in m] for m in by_variant.values()], workers)
    if per_job is None:
        per_job = max(1, min(MAX_PER_JOB, math.ceil(len(jobs) / MIN_JOBS)))
    if per_job < 1:
        raise ValueError(f"hydra.sweeper.replications_per_job must be at least 1, got {per_job}")
    batches: list[list[tuple]] = []
    for members in by_variant.values():
        for i in range(0, len(members), per_job):
            batches.append(members[i:i + per_job])
    batches.sort(key=lambda b: b[0][0])
    return batches


def _makespan(sizes: Sequence[int], workers: int) -> int:
    """The most runs a worker gets when batches of ``sizes``, in this order, each go to the
    worker with the fewest runs so far (a pool of ``workers`` taking the next job when one is
    free, jobs costing the same per run)."""
    load = [0] * workers
    for n in sizes:
        i = load.index(min(load))
        load[i] += n
    return max(load)


def _cut(variants: Sequence[Sequence[int]], p: int) -> list[list[int]]:
    """The job numbers of each variant cut into batches of at most ``p``, in the order of
    their first job (the order they are launched in)."""
    batches = [list(v[i:i + p]) for v in variants for i in range(0, len(v), p)]
    batches.sort(key=lambda b: b[0])
    return batches


def balanced_per_job(variants: Sequence[Sequence[int]], workers: int) -> int:
    """The batch size for ``workers`` parallel workers, given each variant's job numbers: the
    fewest batches (each costs its worker a composition of the config and the scenario's
    build, about a second, whatever its size) among the sizes that spread the runs as evenly
    over the workers as any size does (the fewest runs on the busiest worker); ties to the
    larger size. One variant of 40 replications on 2 workers: 2 batches of 20 (without
    workers known: 4 of 10); 5 variants of 20: 10 batches of 10."""
    total = sum(len(v) for v in variants)
    if total == 0:
        return 1
    best: tuple[int, int, int] | None = None
    for p in range(1, math.ceil(total / workers) + 1):
        sizes = [len(b) for b in _cut(variants, p)]
        key = (_makespan(sizes, workers), len(sizes), -p)
        if best is None or key < best:
            best = key
    assert best is not None
    return -best[2]


def _workers(launcher: Any) -> int | None:
    """How many jobs the launcher runs at once, when its config says: joblib's ``n_jobs``
    (negative: the CPUs but ``-n_jobs - 1``, joblib's rule); None for the others (Hydra's basic
    launcher runs one at a time, Ray and SLURM decide elsewhere)."""
    if type(launcher).__name__ != "JoblibLauncher":
        return None
    n = (getattr(launcher, "joblib", None) or {}).get("n_jobs")
    if not isinstance(n, int) or n == 0:
        return None
    if n < 0:
        n = max(1, (os.cpu_count() or 1) + 1 + n)
    return n


def _lost_worker(exc: BaseException) -> bool:
    """Whether a launcher's exception says that a worker died (rather than a bug or a bad
    config): loky's TerminatedWorkerError or BrokenProcessPool, Ray's lost actors and nodes,
    submitit's failed jobs."""
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & {"TerminatedWorkerError", "BrokenProcessPool", "BrokenExecutor",
                         "WorkerCrashedError", "NodeDiedError", "ActorDiedError",
                         "RayActorError", "UncheckedJobFailure", "FailedJobError"})


class GridsimSweeper(BasicSweeper):
    """Hydra's basic sweeper, launching the replications of a variant in batches, checking one
    job per variant (or none) and going on when a worker dies."""

    def __init__(self, max_batch_size: int | None, params: dict[str, str] | None = None,
                 replications_per_job: int | None = None, validate: bool = True) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.replications_per_job = replications_per_job
        self.validate = validate

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        firsts: dict[tuple, Sequence[str]] = {}
        for overrides in batch:
            firsts.setdefault(variant_key(overrides), overrides)
        super().validate_batch_is_legal(list(firsts.values()))

    @staticmethod
    def _carrier(batch: list[tuple], subdir: str, launched_idx: int,
                 own_subdir: bool = False) -> list[str]:
        """The overrides of the Hydra job that runs ``batch`` as job number ``launched_idx``: the
        job's own when it is one job that keeps its number (with ``own_subdir``, the sweep's
        ``subdir`` set for it: see :func:`numbered_subdir`), else a batch job."""
        # imported here: Hydra loads this plugin in every process that composes a config,
        # gridsim's boundary is only needed when a batch is launched (start-up time)
        from gridsim.app.hydra_app import BATCH_ENV, encode_batch

        first_num, first = batch[0]
        if len(batch) == 1 and first_num == launched_idx:
            if own_subdir:
                quoted = subdir.replace("\\", "\\\\").replace("'", "\\'")
                return [*first, f"hydra.sweep.subdir='{quoted}'"]
            return list(first)
        spec = {"subdir": subdir, "members": [[num, _replication(ov)] for num, ov in batch]}
        return [*first, f"++hydra.job.env_set.{BATCH_ENV}={encode_batch(spec)}",
                f"hydra.sweep.subdir={SCRATCH_PREFIX}{first_num}"]

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None
        assert self.launcher is not None
        assert self.hydra_context is not None
        # imported here: see _carrier (start-up time)
        from gridsim.errors import UserError
        from gridsim.experiments.orchestrate import DASK_HINT, launcher_problem
        from gridsim.experiments.sweep import SWEEP_SESSION_ENV, recover_lost_workers

        launcher_cfg = self.config.hydra.launcher
        problem = launcher_problem(str(launcher_cfg.get("_target_", "")),
                                   launcher_cfg.get("backend"))
        if problem:  # before any job: joblib's launcher would run loky instead, silently
            raise UserError(problem, hint=DASK_HINT)

        params_conf = self._parse_config()
        params_conf.extend(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(params_conf)
        jobs = self.split_arguments(overrides, None)[0]
        self.overrides = [jobs]
        self.batch_index = 1

        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        raw: Any = OmegaConf.to_container(self.config.hydra.sweep, resolve=False)
        subdir = str(raw["subdir"])  # unresolved: each job resolves it for itself
        oc: Any = OmegaConf.to_container(self.config.hydra.job.config.override_dirname,
                                         resolve=True)
        own_subdir = numbered_subdir(subdir, jobs, list(oc.get("exclude_keys") or []),
                                     str(oc.get("item_sep", ",")), str(oc.get("kv_sep", "=")))
        if own_subdir is not None:
            log.info(f"a key left out of override_dirname is swept: run folders {own_subdir}")
            subdir = own_subdir
        session = os.environ.get(SWEEP_SESSION_ENV, "")

        if self.validate and jobs:
            self.validate_batch_is_legal(jobs)
        per_job = self.replications_per_job
        if per_job is None and type(self.launcher).__name__ == "BasicLauncher":
            per_job = max(1, len(jobs))  # one process runs them all: one batch per variant
        workers = _workers(self.launcher)
        batches = plan_batches(jobs, per_job, workers)
        if self.max_batch_size:  # Hydra's max_batch_size: launches of at most that many jobs
            waves = [batches[i:i + self.max_batch_size]
                     for i in range(0, len(batches), self.max_batch_size)]
        else:
            waves = [batches] if batches else []
        returns: list[Any] = []
        initial_job_idx = 0
        relaunches = 0
        while waves:
            wave = waves.pop(0)
            launch = [self._carrier(b, subdir, initial_job_idx + i, own_subdir is not None)
                      for i, b in enumerate(wave)]
            try:
                results = self.launcher.launch(launch, initial_job_idx=initial_job_idx)
            except Exception as exc:
                if not (_lost_worker(exc) and session):
                    raise
                members = [m for b in wave for m in b]
                lines = str(exc).strip().splitlines()
                reason = f"{type(exc).__name__}" + (f": {lines[0]}" if lines else "")
                killed, never = recover_lost_workers(sweep_dir, session,
                                                     [ov for _, ov in members], reason)
                for folder in killed:
                    log.warning(f"worker killed: run marked failed: {folder}")
                again = {tuple(ov) for ov in never}
                retry = [m for m in members if tuple(m[1]) in again]
                stalled = not killed and len(retry) == len(members)
                relaunches = relaunches + 1 if stalled else 0
                if relaunches >= MAX_RELAUNCHES:  # workers die before any run starts
                    from gridsim.errors import UserError  # only for this message

                    raise UserError(f"the launcher's workers died {relaunches} times before "
                                    f"a run started ({reason})", sweep_dir,
                                    "see the launcher's log; the runs done are kept, the "
                                    "same command runs the rest", code=1) from exc
                if retry:
                    log.warning(f"launching again the {len(retry)} runs that never started")
                    waves.insert(0, plan_batches_of(retry, per_job, workers))
                initial_job_idx += len(launch)
                continue
            for r in results:
                # access the result to trigger an exception in case the job failed.
                _ = r.return_value
            initial_job_idx += len(launch)
            returns.append(results)
        _remove_scratch(sweep_dir)
        return returns


def _key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0].split("@", 1)[0].strip()


def numbered_subdir(subdir: str, jobs: Sequence[Sequence[str]], exclude_keys: Sequence[str],
                    item_sep: str = ",", kv_sep: str = "=") -> str | None:
    """The sweep's ``subdir`` with the job number in it, when the jobs' folder names would
    otherwise collide: ``subdir`` names the folders by ``${hydra.job.override_dirname}`` and
    a key that ``hydra.job.config.override_dirname.exclude_keys`` leaves out of it (a path:
    conf/config.yaml) takes more than one value in the sweep. ``replication=0,job=3``
    (``job=3`` when every swept key is left out); None: ``subdir`` as it is."""
    if "hydra.job.override_dirname" not in subdir:
        return None
    excluded = set(exclude_keys)
    values: dict[str, set[str]] = {}
    kept = False
    for job in jobs:
        for o in job:
            key = _key(o)
            if key in excluded:
                values.setdefault(key, set()).add(o)
            elif not key.startswith("hydra"):
                kept = True
    if not any(len(v) > 1 for v in values.values()):
        return None
    number = f"job{kv_sep}${{hydra.job.num}}"
    if kept:
        return subdir.replace("${hydra.job.override_dirname}",
                              f"${{hydra.job.override_dirname}}{item_sep}{number}")
    return subdir.replace("${hydra.job.override_dirname}", number)


def _remove_scratch(sweep_dir: Path) -> None:
    """Remove the scratch folders of batch jobs (a killed one leaves its own) that hold only
    what Hydra wrote there."""
    import shutil  # only at the end of a sweep

    for folder in sweep_dir.glob(f"{SCRATCH_PREFIX}*"):
        try:
            names = {p.name for p in folder.iterdir()}
        except OSError:
            continue
        if names <= {".hydra", "gridsim.log"}:
            shutil.rmtree(folder, ignore_errors=True)


def plan_batches_of(members: list[tuple], per_job: int | None, workers: int | None = None
                    ) -> list[list[tuple]]:
    """:func:`plan_batches` over jobs that keep their job numbers."""
    renumbered = plan_batches([ov for _, ov in members], per_job, workers)
    return [[(members[i][0], ov) for i, ov in batch] for batch in renumbered]


@dataclass
class GridsimSweeperConf(BasicSweeperConf):
    _target_: str = TARGET
    replications_per_job: int | None = None
    validate: bool = True


ConfigStore.instance().store(group="hydra/sweeper", name="gridsim", node=GridsimSweeperConf,
                             provider="gridsim")
