"""The ``gridsim`` command line. Hydra ends here: below this module there is no DictConfig.

``gridsim run [overrides]`` composes ``conf/`` (installed as the package ``gridsim.conf``),
checks it (schema, then value ranges), turns it into typed settings and simulates. A bad config
gets one line per problem naming the key and the file, and exit code 2, before anything runs.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

from gridsim import __version__

__all__ = ["main"]

CONFIG_MODULE = "gridsim.conf"
_GROUPS = ("scenario", "catalogue", "hazard", "response")

USAGE = """usage: gridsim <command> [args]

commands:
  run [overrides]   simulate a scenario (Hydra): gridsim run --help lists the config groups
  --version         print the version

Examples:
  gridsim run
  gridsim run seed=7 hazard=calm response=prepared
  gridsim run -m seed=1,2,3
"""


def _err(msg: str) -> None:
    sys.stderr.write(f"gridsim: {msg}\n")


def _one_line(exc: BaseException) -> str:
    """A one-line account of a Hydra/OmegaConf composition error, naming the key."""
    text = str(exc).strip()
    key = re.search(r"full_key:\s*(\S+)", text)
    first = text.splitlines()[0] if text else type(exc).__name__
    m = re.search(r"Could not find '([^']+)'", text)
    if m:
        opts = re.search(r"Available options in '([^']+)':\s*((?:\n\t.*)+)", text)
        avail = ""
        if opts:
            avail = "; available options: " + ", ".join(o.strip() for o in opts.group(2).split("\n") if o.strip())
        group = m.group(1).split("/")[0]
        return f"config error at {group}: unknown option {m.group(1)!r}{avail}"
    # 'Error merging ...' carries the real reason on the following lines
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    reason = next((ln for ln in lines if not ln.startswith(("Error merging", "full_key", "object_type",
                                                               "reference_type"))), first)
    if key:
        return f"config error at {key.group(1)}: {reason}"
    return f"config error: {reason}"


def _file_of(key: str, choices: dict[str, str]) -> str:
    top = key.split(".")[0].split("[")[0]
    if top in _GROUPS and top in choices:
        return f"conf/{top}/{choices[top]}.yaml or an override"
    return "conf/config.yaml or an override"


def compose_settings(overrides: list[str]) -> tuple[Any, dict[str, str]]:
    """Compose and check the run config without Hydra's app; ``(settings, group choices)``.

    Raises :class:`gridsim.validate.ConfigError` with one line per problem.
    """
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from gridsim.config import register_configs, to_settings
    from gridsim.validate import ConfigError, validate

    register_configs()
    try:
        with initialize_config_module(CONFIG_MODULE, version_base=None):
            cfg = compose("config", overrides=overrides, return_hydra_config=True)
        choices = {k: str(v) for k, v in cfg.hydra.runtime.choices.items()}
        with_hydra = OmegaConf.to_container(cfg, resolve=False)
        assert isinstance(with_hydra, dict)
        with_hydra.pop("hydra", None)
        settings = to_settings(OmegaConf.merge(OmegaConf.structured(_schema()), with_hydra))
    except ConfigError:
        raise
    except Exception as exc:  # Hydra and OmegaConf raise many kinds; all mean "bad config"
        raise ConfigError([_one_line(exc)]) from None
    errors = validate(settings)
    if errors:
        raise ConfigError([f"config error at {e} ({_file_of(e, choices)})" for e in errors])
    return settings, choices


def _schema() -> Any:
    from gridsim.config import RunConfig

    return RunConfig


def _run_task(cfg: Any) -> dict[str, Any]:
    """The Hydra task: one simulation written into Hydra's output folder."""
    from hydra.core.hydra_config import HydraConfig

    from gridsim.config import to_settings
    from gridsim.outputs import format_summary, write_outputs
    from gridsim.simulation import simulate, stderr_progress
    from gridsim.validate import validate

    hc = HydraConfig.get()
    choices = {k: str(v) for k, v in hc.runtime.choices.items()}
    try:
        settings = to_settings(cfg)
    except Exception as exc:
        _err(_one_line(exc))
        raise SystemExit(2) from None
    errors = validate(settings)
    if errors:
        for e in errors:
            _err(f"config error at {e} ({_file_of(e, choices)})")
        raise SystemExit(2)
    out = Path(hc.runtime.output_dir)
    t0 = time.perf_counter()
    progress = stderr_progress if settings.output.progress else None
    result = simulate(settings, progress=progress)
    summary = write_outputs(result, out, __version__)
    wall = time.perf_counter() - t0
    print(format_summary(summary))
    print(f"  ({summary['grids']} grids, {settings.duration_h:g} h simulated in {wall:.1f} s)")
    print(f"results: {out}")
    return summary


def run(args: list[str]) -> int:
    """``gridsim run``: hand the arguments to Hydra after checking a plain run's config."""
    import hydra

    from gridsim.config import register_configs
    from gridsim.validate import ConfigError

    register_configs()
    if not any(a.startswith("-") for a in args):
        try:
            compose_settings([a for a in args if not a.lstrip("+~").startswith("hydra")])
        except ConfigError as exc:
            for e in exc.errors:
                _err(e)
            return 2
    task = hydra.main(version_base=None, config_path=f"pkg://{CONFIG_MODULE}",
                      config_name="config")(_run_task)
    saved = sys.argv
    sys.argv = ["gridsim run", *args]
    try:
        task()
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gridsim`` console script."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if args[0] == "--version":
        print(f"gridsim {__version__}")
        return 0
    if args[0] == "run":
        return run(args[1:])
    _err(f"unknown command {args[0]!r}\n{USAGE}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
