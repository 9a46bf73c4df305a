"""``gridsim experiment``: the orchestration of an experiment, Hydra-free.

An experiment file is checked before anything runs (:mod:`gridsim.experiments.checks`), its
jobs (variants × replications) are worked out from its sweeper's ``params`` with command-line
overrides winning, each variant is composed and checked once (its replications differ only in
their seed streams), and the sweep is handed to :func:`gridsim.experiments.sweep.run_sweep`,
which shows the progress, lists the failed runs and writes the report.

What needs Hydra (composing, checking a composed config, parsing overrides, Hydra's multirun)
is asked of a :class:`Boundary`, which :mod:`gridsim.app.hydra_app` (the one module of
``gridsim/`` importing Hydra and OmegaConf) provides; this module only sees plain values
(:class:`Composed`) and the frozen settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from gridsim.errors import UserError
from gridsim.experiments import checks, sweep
from gridsim.model.params import RunConfig
from gridsim.model.validate import ConfigError

__all__ = ["DASK_HINT", "DASK_UNSUPPORTED", "SWEEPER_TARGET", "Boundary", "Composed",
           "experiment_jobs", "launch_overrides", "launcher_problem", "override_key", "quote",
           "run_experiment", "session_overrides"]

#: gridsim's sweeper (``hydra/sweeper=gridsim``, :mod:`hydra_plugins.gridsim_sweeper`).
SWEEPER_TARGET = "hydra_plugins.gridsim_sweeper.GridsimSweeper"


def override_key(arg: str) -> str:
    """The key an override sets: ``+scenario.foo=1`` -> ``scenario.foo``."""
    return arg.lstrip("+~").split("=", 1)[0].split("@", 1)[0].strip()


class Composed(Protocol):
    """What the orchestration reads of an experiment's composed config (its ``hydra`` node),
    each value read when it is first asked for (as the config's interpolations resolve)."""

    #: ``hydra.sweeper.params`` as strings (key -> Hydra's override value)
    @property
    def sweeper_params(self) -> dict[str, str]: ...

    #: ``hydra.sweep.dir``, resolved
    @property
    def sweep_dir(self) -> str: ...

    #: ``hydra.sweeper._target_`` ("" when unset)
    @property
    def sweeper_target(self) -> str: ...

    #: ``hydra.launcher._target_`` ("" when unset)
    @property
    def launcher_target(self) -> str: ...

    #: Hydra's Ray launcher: whether ``ray.init`` has an ``address`` and whether it has an
    #: ``object_store_memory``
    @property
    def ray_address(self) -> bool: ...

    @property
    def ray_object_store(self) -> bool: ...

    #: ``hydra.launcher.backend`` (joblib's; None when unset or absent)
    @property
    def launcher_backend(self) -> str | None: ...


class Boundary(Protocol):
    """The Hydra side of an experiment (:mod:`gridsim.app.hydra_app`)."""

    def compose_sweep(self, overrides: Sequence[str], config_dir: Path, config_name: str
                      ) -> Composed:
        """The experiment's config as Hydra's multirun composes it (sweeps left to the
        sweeper); the one composition of the experiment itself."""
        ...

    def check(self, composed: Composed, overrides: Sequence[str], primary: str
              ) -> RunConfig: ...

    def variant_settings(self, base: Composed, overrides: Sequence[str], config_dir: Path,
                         config_name: str) -> RunConfig:
        """The checked settings of the job ``overrides`` of the experiment ``base``."""
        ...

    def is_sweep(self, arg: str) -> bool: ...

    def sweep_jobs(self, args: Sequence[str]) -> list[list[str]] | None: ...

    def multirun(self, composed: Composed, config_dir: Path, config_name: str,
                 extra: list[str]) -> None:
        """Hydra's multirun of ``composed`` (no composition again), ``extra`` (Hydra
        overrides) set into it as the composition would have set them."""
        ...


def experiment_jobs(base: Composed, overrides: Sequence[str],
                    sweep_jobs: Callable[[Sequence[str]], list[list[str]] | None]
                    ) -> list[list[str]] | None:
    """Every job of an experiment: its sweeper params, with command-line overrides winning."""
    sweep_params = dict(base.sweeper_params)
    for arg in overrides:
        key = override_key(arg)
        if "=" in arg and not key.startswith("hydra"):
            sweep_params[key] = arg.split("=", 1)[1]
    plain = [a for a in overrides if override_key(a).startswith("hydra")]
    return sweep_jobs([f"{k}={v}" for k, v in sweep_params.items()] + plain)


def quote(value: str) -> str:
    """A string as a quoted value of Hydra's override grammar."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def session_overrides(session: str) -> list[str]:
    """Hydra settings of every job of an experiment, known before its composition:
    ``GRIDSIM_SWEEP_WATCHED`` and the session id set in every job (``hydra.job.env_set``
    reaches the workers of any launcher): this process shows the progress, the runs print none,
    and the manifests say which runs this command started."""
    return ["hydra.mode=MULTIRUN",
            f"++hydra.job.env_set.{sweep.SWEEP_WATCHED_ENV}=1",
            f"++hydra.job.env_set.{sweep.SWEEP_SESSION_ENV}={session}"]


#: What :func:`launcher_problem` says of Dask (README "Experiments", docs/experiments.md).
DASK_UNSUPPORTED = (
    "hydra.launcher.backend={backend}: Hydra's joblib launcher always runs joblib's loky "
    "backend (it overrides the setting), so the runs would not go to {backend}; gridsim does "
    "not support Dask")
DASK_HINT = ("on one machine leave the backend unset (hydra/launcher=joblib); for a cluster "
             "use Hydra's Ray launcher (hydra/launcher=ray) or SLURM "
             "(hydra/launcher=submitit_slurm): docs/experiments.md")


def launcher_problem(launcher_target: str, backend: str | None) -> str | None:
    """Why a launch would not do what its config says (None: it would): a joblib backend
    other than loky, which Hydra's joblib launcher silently replaces by loky (``dask``,
    ``ray``, ``threading``, ...)."""
    if "joblib" not in launcher_target.lower():
        return None
    if backend is None or str(backend) in ("", "None", "null", "loky"):
        return None
    return DASK_UNSUPPORTED.format(backend=backend)


def launch_overrides(base: Composed) -> list[str]:
    """Hydra settings ``gridsim experiment`` adds to its composed config before the launch.

    * the sweep folder as an absolute path, so that workers started elsewhere (SLURM jobs, Ray
      workers, whose working folder is not ours) write where this process watches;
    * gridsim's sweeper (``hydra_plugins.gridsim_sweeper``, the experiments' sweeper unless
      a file picks another) need not compose any job to check it: each variant was checked
      here;
    * Hydra's Ray launcher asks ``ray.init`` for an object store size, which Ray refuses when it
      connects to a running cluster (``ValueError: When connecting to an existing cluster,
      object_store_memory must not be provided``): with an address, it asks for none.
    """
    sweep_dir = Path(base.sweep_dir).resolve()
    extra = [f"hydra.sweep.dir={quote(str(sweep_dir))}"]
    if base.sweeper_target == SWEEPER_TARGET:
        extra.append("hydra.sweeper.validate=false")
    if "ray_launcher" in base.launcher_target and base.ray_address and not base.ray_object_store:
        extra.append("++hydra.launcher.ray.init.object_store_memory=null")
    return extra


def run_experiment(path: Path, overrides: list[str], hydra: Boundary) -> int:
    """``gridsim experiment <file.yaml> [overrides]``: check the experiment file and each of its
    variants, then sweep every variant × replication with Hydra's launcher of choice; the rest
    (progress, the failed runs, the report) is :func:`gridsim.experiments.sweep.run_sweep`."""
    data = checks.check_file(path)
    # gridsim's sweeper (batches of replications, lost workers) unless the experiment picks one
    if not checks.chooses_sweeper(data) and not any(
            override_key(a) == "hydra/sweeper" for a in overrides):
        overrides = ["hydra/sweeper=gridsim", *overrides]
    fixed = [a for a in overrides if not hydra.is_sweep(a)]
    session = uuid.uuid4().hex
    try:  # composed once, as Hydra's multirun would: the sweep runs on this config
        base = hydra.compose_sweep([*overrides, *session_overrides(session)], path.parent,
                                   path.stem)
    except ConfigError as exc:
        raise ConfigError([f"{path}: {e}" for e in exc.errors]) from None
    problem = launcher_problem(base.launcher_target, base.launcher_backend)
    if problem:
        raise UserError(problem, path, DASK_HINT)
    jobs = experiment_jobs(base, overrides, hydra.sweep_jobs)
    primary = str(path)
    base_settings: RunConfig | None = None

    def checked_base() -> RunConfig:
        nonlocal base_settings
        if base_settings is None:
            try:
                base_settings = hydra.check(base, fixed, primary)
            except ConfigError as exc:
                raise ConfigError([f"{path}: {e}" for e in exc.errors]) from None
        return base_settings

    # each variant is composed and checked once (its replications differ only in their seed
    # streams); a variant that sets nothing the experiment does not set already (a sweep of
    # replications alone) is the experiment's own config
    variants: dict[tuple[str, ...], RunConfig | None] = {}
    problems: list[str] = []
    for job in jobs or []:
        key = tuple(a for a in job if override_key(a) != "replication")
        if key in variants:
            continue
        if set(key) <= set(fixed):
            variants[key] = checked_base()
            continue
        try:
            variants[key] = hydra.variant_settings(base, job, path.parent, path.stem)
        except ConfigError as exc:
            variants[key] = None
            problems += [f"{path}: variant ({' '.join(key)}): {e}" for e in exc.errors]
    if problems:
        raise ConfigError(problems)
    checked = [v for v in variants.values() if v is not None]
    settings = checked[0] if checked else checked_base()
    checks.check_experiment(path, settings, jobs, checked)
    sweep_dir = Path(base.sweep_dir).resolve()
    extra = launch_overrides(base)
    plan = sweep.SweepPlan(name=settings.experiment.name or path.stem, sweep_dir=sweep_dir,
                           total=len(jobs) if jobs else None, session=session,
                           report_dir=settings.experiment.report_dir or "")
    return sweep.run_sweep(plan, lambda: hydra.multirun(base, path.parent, path.stem, extra))
