"""Static checks: ruff on the code, mypy on the package (both come with the test extras, so
neither is skipped: a missing one fails, naming the command that installs it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _tool(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.fail(f"{module} is missing: it comes with the test extras "
                    '(pip install -e ".[test]")')


def test_ruff_is_clean() -> None:
    _tool("ruff")
    r = _run(sys.executable, "-m", "ruff", "check", "gridsim", "tests", "benchmarks", "scripts")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow  # about 10 s of CPU
def test_mypy_is_clean() -> None:
    _tool("mypy")
    r = _run(sys.executable, "-m", "mypy", "gridsim")
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_import_has_no_side_effects() -> None:
    code = ("import sys, gridsim; "
            "assert 'hydra' not in sys.modules and 'matplotlib' not in sys.modules, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('hydra', 'matplotlib'))")
    r = _run(sys.executable, "-c", code)
    assert r.returncode == 0, r.stderr
