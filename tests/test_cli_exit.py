"""A plain ``gridsim run`` ends its process itself once it has returned (gridsim.app.cli:
``_exit_now``, no interpreter teardown): what Python's own exit does that a user can see still
happens. The exit code is the command's, stdout is flushed to a file, the ``atexit`` functions
run (a marker file written by one), and the run's files are all there. Called with ``argv``
(tests, other code), ``main`` returns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gridsim.app import cli

_SCRIPT = """
import atexit, sys
from pathlib import Path
mark = Path(sys.argv[1])
atexit.register(lambda: mark.write_text("ran"))
from gridsim.app.cli import main
sys.argv = ["gridsim", *sys.argv[2:]]
sys.exit(main())
"""


def _gridsim(tmp: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    mark = tmp / "atexit-ran"
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(mark), *args], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc, mark


def test_a_plain_run_exits_with_its_code_output_and_atexit(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc, mark = _gridsim(tmp_path, "run", "scenario=small", "duration_h=1",
                          "output.figures=false", "output.gis=false", "output.progress=false",
                          f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    assert f"results: {out}" in proc.stdout  # the last line printed, flushed
    assert mark.read_text() == "ran"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "small"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "done"


def test_a_run_with_a_config_error_keeps_its_exit_code(tmp_path: Path) -> None:
    proc, mark = _gridsim(tmp_path, "run", "no_such_key=1", f"hydra.run.dir={tmp_path / 'r'}")
    assert proc.returncode == 2
    assert "no_such_key" in proc.stderr
    assert mark.read_text() == "ran"


def test_main_with_argv_returns(tmp_path: Path) -> None:
    assert cli.main(["run", "no_such_key=1", f"hydra.run.dir={tmp_path / 'r'}"]) == 2
    assert cli.main(["--version"]) == 0
