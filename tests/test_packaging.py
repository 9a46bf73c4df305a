"""The wheel carries the Hydra config (``conf/`` as the package ``gridsim.conf``) and runs.

The wheel is built from a copy of the checkout, so that the build leaves no ``build/`` folder
in it, and so that a stale ``build/`` from an earlier build cannot slip old files into the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
JUNK = (".git", "build", "dist", "*.egg-info", "__pycache__", "outputs", "multirun",
        ".pytest_cache", ".ruff_cache", ".mypy_cache", ".benchmarks", "*.pyc")


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR")}
    env["MPLBACKEND"] = "Agg"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, (f"{' '.join(cmd)}: exit {proc.returncode}\n"
                                  f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built with ``pip wheel`` from (a copy of) the repository."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(*JUNK))
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(dist)], cwd=tmp)
    wheels = list(dist.glob("gridsim-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _conf_files() -> dict[str, bytes]:
    """The config files of the checkout, under the names they take in the wheel."""
    conf = REPO / "conf"
    files = {f"gridsim/conf/{p.relative_to(conf).as_posix()}": p.read_bytes()
             for p in sorted(conf.rglob("*.yaml"))}
    assert "gridsim/conf/config.yaml" in files
    assert any(name.count("/") == 3 for name in files), "no group files found under conf/"
    return files


def _scenario_files() -> dict[str, bytes]:
    """The shipped scenarios (presets and scenario folders), as named in the wheel."""
    root = REPO / "scenarios"
    files = {f"gridsim/scenarios/{p.relative_to(root).as_posix()}": p.read_bytes()
             for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}
    assert "gridsim/scenarios/district.yaml" in files
    return files


def test_wheel_carries_the_config_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "gridsim/conf/__init__.py" in names
        assert "gridsim/conf/config.yaml" in names
        expected = _conf_files()
        missing = sorted(set(expected) - names)
        assert not missing, f"the wheel lacks {missing}"
        for name, data in expected.items():
            assert zf.read(name) == data, f"{name} in the wheel differs from the checkout"
        shipped = {n for n in names if n.startswith("gridsim/conf/") and n.endswith(".yaml")}
        assert shipped == set(expected), f"unexpected config files: {shipped - set(expected)}"
        scenarios = _scenario_files()
        missing = sorted(set(scenarios) - names)
        assert not missing, f"the wheel lacks the scenarios {missing}"
        for name, data in scenarios.items():
            assert zf.read(name) == data, f"{name} in the wheel differs from the checkout"
        font = "gridsim/output/cjk_font/wqy-microhei-gridsim.ttf"  # the figures' Chinese glyphs
        assert font in names and "gridsim/output/cjk_font/NOTICE.txt" in names, "no bundled CJK font"
        assert zf.read(font) == (REPO / font).read_bytes()
        assert not any(n.startswith(("conf/", "scenarios/", "tests/")) for n in names), \
            "the config or the tests landed at the top level of the wheel"
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "gridsim = gridsim.app.cli:main" in zf.read(entry_points).decode()


@pytest.mark.slow
def test_wheel_installs_into_a_venv_and_runs(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # system site packages give the dependencies (numpy, simpy, hydra ...) without a download
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    # the installed package, not the editable checkout, is what runs
    where = _run([str(py), "-c", "import gridsim, gridsim.conf; "
                  "print(gridsim.__file__); print(gridsim.conf.__file__)"], cwd=work)
    for line in where.stdout.split():
        assert Path(line).resolve().is_relative_to(venv.resolve()), where.stdout
    out = tmp_path / "w"
    proc = _run([str(venv / "bin" / "gridsim"), "run", "scenario=small", "duration_h=6",
                 "output.progress=false", f"hydra.run.dir={out}"], cwd=work)
    assert (out / "summary.json").is_file(), proc.stdout
    assert str(out) in proc.stdout
    # figures with Chinese labels, drawn with the font the wheel carries
    assert (out / "modes_over_time.png").stat().st_size > 0
    assert "missing from font" not in proc.stderr, proc.stderr
