"""Shell completion of ``gridsim``: the script Hydra installs, sourced in bash and driven as
bash drives it (``COMP_LINE``, ``COMP_POINT``, ``COMP_WORDS``, ``COMP_CWORD``), completes
``gridsim run``'s config groups and their options, and the command names.

Hydra's zsh completion is its bash completion (``-sc install=zsh`` prints the same script,
run through zsh's ``bashcompinit``); fish's query reads the same ``COMP_LINE``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from console import console_script, explain, gridsim

from gridsim.app.cli import COMMANDS
from gridsim.model.params import scenario_presets

DRIVER = r"""
source ./completion.sh
complete_at() {
    COMP_LINE="$1"; COMP_POINT=${#1}
    read -ra COMP_WORDS <<< "$1"
    if [[ "$1" == *" " ]]; then COMP_WORDS+=(""); fi
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    hydra_bash_completion
    echo "${COMPREPLY[*]}"
}
complete_at "gridsim run scen"
complete_at "gridsim run scenario="
complete_at "gridsim ex"
complete -p gridsim
"""


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment with the test interpreter's ``gridsim`` first on the PATH (the script
    calls the program by its name, as a user's shell does)."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PATH"] = f"{Path(console_script()).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.mark.slow
def test_the_installed_bash_script_completes_run_groups_options_and_commands(
        tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    proc = gridsim("run", "--shell-completion", "install=bash", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    script = proc.stdout
    # the script registers the program itself, and calls it as ``gridsim -sc query=bash``
    assert script.rstrip().endswith("-F hydra_bash_completion gridsim"), script[-200:]
    (tmp_path / "completion.sh").write_text(script, encoding="utf-8")
    (tmp_path / "driver.sh").write_text(DRIVER, encoding="utf-8")
    run = subprocess.run([bash, "driver.sh"], cwd=tmp_path, env=_env(tmp_path),
                         capture_output=True, text=True, timeout=120, check=False)
    lines = run.stdout.splitlines()
    assert run.returncode == 0 and len(lines) == 4, explain(run)
    assert "scenario=" in lines[0].split(), explain(run)
    offered = set(lines[1].split())
    assert offered == {f"scenario={name}" for name in scenario_presets()}, explain(run)
    assert lines[2].split() == [n for n in COMMANDS if n.startswith("ex")], explain(run)
    assert lines[3].endswith(" gridsim"), explain(run)  # registered for gridsim, not "run"


def test_the_fish_query_answers_one_candidate_a_line(tmp_path: Path) -> None:
    """fish's script asks ``gridsim -sc query=fish`` with the line in ``COMP_LINE``."""
    env = {**_env(tmp_path), "COMP_LINE": "gridsim run scenario=sm"}
    fish = subprocess.run([console_script(), "-sc", "query=fish"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert fish.returncode == 0, explain(fish)
    assert fish.stdout.split("\n")[0] == "scenario=small", explain(fish)
