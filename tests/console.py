"""Running the ``gridsim`` console script from tests, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def console_script(name: str = "gridsim") -> str:
    """The console script ``name`` of the interpreter running the tests (its own ``bin/``, so a
    virtualenv's, activated or not), else the one on the PATH."""
    own = Path(sys.executable).with_name(name)
    return str(own) if own.is_file() else (shutil.which(name) or name)


def gridsim(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the ``gridsim`` console script in ``cwd``."""
    exe = console_script()
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    # every figure a command draws must have its glyphs (gridsim.output.cjk): no empty boxes
    assert "missing from font" not in proc.stderr, explain(proc)
    return proc


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    """Exit code and both streams, for an assertion message."""
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
