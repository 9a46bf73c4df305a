"""The ``gridsim`` command end to end: run folders, files, help, version, sweeps, determinism.

Every test runs the installed console script in a subprocess from a temporary folder, as a
user would. Runs are small (70 grids, a day) and, where the files need some incidents to be
worth comparing, use ``hazard.rate_scale=20`` (about ten incidents a day instead of one).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import yaml
from console import explain, gridsim

from gridsim import __version__

FAST = ("scenario=small", "duration_h=24", "output.progress=false")
BUSY = "hazard.rate_scale=20"
DATA_FILES = ("summary.json", "incidents.csv", "events.csv", "grids.csv")
FIGURES = ("response_times.png", "modes_over_time.png", "map_within_5min.png")
SUMMARY_KEYS = (
    "incidents", "response_time_p50_s", "response_time_p90_s", "within_5min_share",
    "switch_latency_p50_s", "switch_latency_p90_s", "escalations", "report_on_time_share",
    "supply_shortages", "responder_utilization", "seed", "gridsim_version",
)




@pytest.fixture(scope="module")
def seeded_run(tmp_path_factory: pytest.TempPathFactory):
    """``gridsim run ... seed=3`` from a temporary folder, with figures."""
    cwd = tmp_path_factory.mktemp("run")
    out = cwd / "out"
    proc = gridsim("run", *FAST, BUSY, "seed=3", f"hydra.run.dir={out}", cwd=cwd)
    return proc, out, cwd


# ----------------------------------------------------------------------------------------------
# one run, end to end
# ----------------------------------------------------------------------------------------------
def test_run_exits_0_and_writes_every_file(seeded_run) -> None:
    proc, out, _ = seeded_run
    assert proc.returncode == 0, explain(proc)
    for name in (*DATA_FILES, *FIGURES):
        assert (out / name).is_file(), f"{name} missing from {sorted(os.listdir(out))}"
        assert (out / name).stat().st_size > 0, name
    assert (out / ".hydra" / "config.yaml").is_file()
    assert not list(out.glob("*.part")), "a temporary file was left behind"


def test_stdout_has_summary_table_and_run_folder(seeded_run) -> None:
    proc, out, _ = seeded_run
    assert proc.returncode == 0, explain(proc)
    for label in ("incidents", "response p50", "response p90", "within 5 min",
                  "switch latency p50", "escalations", "supply shortages",
                  "responder utilization", "storm utilization", "rescues by grid forces",
                  "people rescued", "deaths", "losses averted"):
        assert label in proc.stdout, f"{label!r} not in the summary table:\n{proc.stdout}"
    assert "seed 3" in proc.stdout
    assert str(out) in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_summary_json_has_the_metrics(seeded_run) -> None:
    proc, out, _ = seeded_run
    assert proc.returncode == 0, explain(proc)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    assert not missing, f"summary.json lacks {missing}"
    assert summary["seed"] == 3
    assert summary["gridsim_version"] == __version__
    with open(out / "incidents.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert summary["incidents"] == len(rows) > 0
    p50, p90 = summary["response_time_p50_s"], summary["response_time_p90_s"]
    assert p50 is not None and p90 is not None and 0 < p50 <= p90
    assert 0 <= summary["within_5min_share"] <= 1
    assert 0 <= summary["responder_utilization"] <= 1
    with open(out / "grids.csv", encoding="utf-8", newline="") as f:
        assert sum(1 for _ in csv.DictReader(f)) == 70  # the small scenario's grids


def test_resolved_config_is_saved_beside_the_results(seeded_run) -> None:
    proc, out, _ = seeded_run
    assert proc.returncode == 0, explain(proc)
    cfg = yaml.safe_load((out / ".hydra" / "config.yaml").read_text(encoding="utf-8"))
    assert cfg["seed"] == 3
    assert cfg["duration_h"] == 24
    assert cfg["scenario"]["name"] == "small"
    assert cfg["hazard"]["rate_scale"] == 20


def test_files_hold_no_absolute_paths(seeded_run) -> None:
    proc, out, cwd = seeded_run
    assert proc.returncode == 0, explain(proc)
    needles = {str(cwd), str(cwd.resolve()), str(out), os.path.realpath(out)}
    for name in DATA_FILES:
        text = (out / name).read_text(encoding="utf-8")
        for needle in needles:
            assert needle not in text, f"{name} holds the path {needle}"


@pytest.mark.slow
def test_default_run_folder_is_under_outputs_and_events_log_can_be_off(tmp_path: Path) -> None:
    proc = gridsim("run", *FAST, "output.figures=false", "output.events_log=false", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    summaries = list((tmp_path / "outputs").glob("**/summary.json"))
    assert len(summaries) == 1, sorted(str(p) for p in tmp_path.rglob("*"))
    folder = summaries[0].parent
    assert str(folder) in proc.stdout  # the run folder Hydra made is the one reported
    assert (folder / "incidents.csv").is_file()
    assert (folder / "grids.csv").is_file()
    assert not (folder / "events.csv").exists(), "output.events_log=false still wrote events.csv"
    assert not list(folder.glob("*.png")), "output.figures=false still drew figures"


# ----------------------------------------------------------------------------------------------
# help, version, unknown commands
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_run_help_lists_the_config_groups_and_their_options(tmp_path: Path) -> None:
    proc = gridsim("run", "--help", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    groups: dict[str, set[str]] = {}
    for line in proc.stdout.splitlines():
        name, sep, rest = line.partition(": ")
        if sep and name in ("scenario", "catalogue", "hazard", "response"):
            groups[name] = {o.strip() for o in rest.split(",")}
    assert set(groups) == {"scenario", "catalogue", "hazard", "response"}, proc.stdout
    assert {"district", "small"} <= groups["scenario"]
    assert "standard" in groups["catalogue"]
    assert {"rainstorm", "calm"} <= groups["hazard"]
    assert {"standard", "prepared"} <= groups["response"]
    assert not list(tmp_path.iterdir()), "--help must not create a run folder"


def test_help_lists_every_command_of_the_commands_table(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """``gridsim --help`` names each command of cli's COMMANDS table as a line of its own."""
    from gridsim.app import cli  # in-process: the usage text alone

    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.splitlines()
              if line.startswith("  ") and not line.startswith("   ") and line.strip()}
    assert set(cli.COMMANDS) <= listed, (sorted(cli.COMMANDS), sorted(listed))


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    proc = gridsim("--version", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.strip() == f"gridsim {__version__}"


def test_unknown_command_fails_with_a_message(tmp_path: Path) -> None:
    proc = gridsim("nonsense", cwd=tmp_path)
    assert proc.returncode != 0
    assert "nonsense" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


# ----------------------------------------------------------------------------------------------
# sweeps and determinism
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_multirun_writes_one_folder_per_seed(tmp_path: Path) -> None:
    sweep = tmp_path / "multi"
    proc = gridsim("run", "-m", "seed=1,2", "scenario=small", "duration_h=12",
                   "output.progress=false", f"hydra.sweep.dir={sweep}", "output.figures=false",
                   cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    summaries = sorted(sweep.glob("*/summary.json"))
    assert len(summaries) == 2, sorted(str(p) for p in sweep.rglob("*"))
    seeds = sorted(json.loads(p.read_text(encoding="utf-8"))["seed"] for p in summaries)
    assert seeds == [1, 2]
    assert not list(sweep.glob("*/*.png"))


@pytest.mark.slow
def test_same_seed_gives_identical_files_and_another_seed_does_not(seeded_run,
                                                                    tmp_path: Path) -> None:
    proc, first, _ = seeded_run
    assert proc.returncode == 0, explain(proc)
    again = tmp_path / "again"
    proc = gridsim("run", *FAST, BUSY, "seed=3", f"hydra.run.dir={again}", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    for name in DATA_FILES:
        assert (first / name).read_bytes() == (again / name).read_bytes(), f"{name} differs"
    other = tmp_path / "other"
    proc = gridsim("run", *FAST, BUSY, "seed=4", "output.figures=false",
                   f"hydra.run.dir={other}", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    assert (first / "incidents.csv").read_bytes() != (other / "incidents.csv").read_bytes()
