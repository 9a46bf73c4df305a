"""The wheel carries the Hydra config (``conf/`` as the package ``gridsim.conf``), the presets
and the CJK font, and runs from a virtual environment of its own.

The wheel is built once per module from a copy of the checkout, so that the build leaves no
``build/`` folder in it, and so that a stale ``build/`` from an earlier build cannot slip old
files into the wheel. The build uses the running interpreter's setuptools when it is recent
enough (no download), else pip's isolated build (setuptools from the package index).

The venv that installs it sees the dependencies (numpy, simpy, Hydra ...) of the interpreter
running the tests through a ``.pth`` file naming that interpreter's site-packages, so it works
whether the tests run in a virtualenv (the README's quick start) or on a bare interpreter, and
needs no network: the wheel is installed with ``--no-deps --no-index``. Plain paths in a
``.pth`` file add those folders without running the ``.pth`` files inside them, so the
checkout's editable install (an import hook in the outer site-packages) stays out.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a wheel build: about a minute on a busy 2-core machine

REPO = Path(__file__).resolve().parents[1]
JUNK = (".git", "build", "dist", "*.egg-info", "__pycache__", "outputs", "multirun",
        ".pytest_cache", ".ruff_cache", ".mypy_cache", ".benchmarks", "*.pyc")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "HYDRA_FULL_ERROR", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, (f"{' '.join(cmd)}: exit {proc.returncode}\n"
                                  f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


def _local_backend() -> bool:
    """Whether the running interpreter can build the wheel itself (no isolated build env):
    setuptools >= 70.1 (``bdist_wheel`` built in), or >= 68 with the ``wheel`` package."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    from importlib.metadata import version

    major, minor = (int(x) for x in version("setuptools").split(".")[:2])
    has_wheel = importlib.util.find_spec("wheel") is not None
    return (major, minor) >= (70, 1) or (major >= 68 and has_wheel)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built with ``pip wheel`` from (a copy of) the repository."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(*JUNK))
    dist = tmp / "dist"
    local = ["--no-build-isolation"] if _local_backend() else []
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", *local, "-w", str(dist)],
         cwd=tmp)
    wheels = list(dist.glob("gridsim-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _outer_site_dirs() -> list[str]:
    """The folders the running interpreter finds its installed packages in."""
    dirs = [*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    out: list[str] = []
    for d in dirs:
        if d and d not in out and Path(d).is_dir():
            out.append(d)
    return out


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
        assert font in names, "no bundled CJK font"
        assert "gridsim/output/cjk_font/NOTICE.txt" in names, "no licence notice of the font"
        assert zf.read(font) == (REPO / font).read_bytes()
        assert not any(n.startswith(("conf/", "scenarios/", "tests/")) for n in names), \
            "the config or the tests landed at the top level of the wheel"
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "gridsim = gridsim.app.cli:main" in zf.read(entry_points).decode()


def test_wheel_installs_into_a_venv_and_runs(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        cwd=tmp_path).stdout.strip())
    assert purelib.resolve().is_relative_to(venv.resolve()), purelib
    outer = [d for d in _outer_site_dirs() if not Path(d).resolve().is_relative_to(venv.resolve())]
    assert outer, "the running interpreter has no site-packages"
    # the venv sees the running interpreter's packages after its own (no download)
    (purelib / "_gridsim_test_outer.pth").write_text("\n".join(outer) + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
          str(wheel)], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    # the installed package, not the editable checkout, is what runs; Hydra comes from outside
    where = _run([str(py), "-c", "import gridsim, gridsim.conf, hydra_plugins.gridsim_sweeper, "
                  "hydra; print(gridsim.__file__); print(gridsim.conf.__file__); "
                  "print(hydra_plugins.gridsim_sweeper.__file__); print(hydra.__file__)"],
                 cwd=work)
    *ours, hydra_file = where.stdout.split()
    assert len(ours) == 3, where.stdout
    for line in ours:
        assert Path(line).resolve().is_relative_to(venv.resolve()), where.stdout
    assert not Path(hydra_file).resolve().is_relative_to(venv.resolve()), where.stdout
    out = tmp_path / "w"
    proc = _run([str(venv / "bin" / "gridsim"), "run", "scenario=small", "duration_h=6",
                 "output.progress=false", f"hydra.run.dir={out}"], cwd=work)
    assert (out / "summary.json").is_file(), proc.stdout
    assert str(out) in proc.stdout
    # figures with Chinese labels, drawn with the font the wheel carries
    assert (out / "modes_over_time.png").stat().st_size > 0
    assert "missing from font" not in proc.stderr, proc.stderr


def test_every_package_of_gridsim_is_in_the_wheel() -> None:
    """Each folder of gridsim/ with an ``__init__.py`` is listed in pyproject.toml's packages:
    a package left out works in the editable checkout and is missing from the wheel."""
    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts)
             for p in (root / "gridsim").rglob("__init__.py")}
    assert found - listed == set()
