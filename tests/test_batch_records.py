"""The records of a batch's replications are made without serialising the same config again, and
say exactly what serialising it would say: the manifest's JSON (json.dumps is the reference) and
``.hydra/hydra.yaml`` (OmegaConf.to_yaml of HydraConfig's node is the reference); a batch job's
config is derived from the sweep's, as Hydra's own composition of it (the reference) gives it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf, open_dict, read_write

from gridsim.app.hydra_app import (
    _compose_multirun,
    _derived_job_config,
    _hydra,
    _MemberYaml,
    compose_config,
)
from gridsim.output.run_folder import _manifest_json


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def test_the_manifest_text_is_json_dumps_of_it_for_configs_that_share_values() -> None:
    shared = {"name": "district", "kinds": {"rural": {"weight": 1.0, "cv": [0.1, None]}},
              "empty": {}, "none": [], "text": "转移避险 \"quoted\"\nnext line"}
    configs = [{"seed": 1, "replication": r, "scenario": shared, "path": "/tmp/a b"}
               for r in range(3)]
    configs.append({"seed": 1, "replication": 0, "scenario": dict(shared, name="city")})
    configs.append({"replication": 0})  # another config: no value shared with the one before
    for config in configs:
        for status in ("running", "done"):
            manifest = {"status": status, "seed": 1, "files": [], "wall_s": None,
                        "overrides": ["replication=0"], "config": config}
            assert _manifest_json(manifest) == _dumps(manifest)
    # not the usual shape: json.dumps itself
    odds: list[dict[Any, Any]] = [{}, {"config": {}}, {"config": {1: "a"}}, {"config": "x"},
                                  {"a": {"b": {}}}]
    for odd in odds:
        assert _manifest_json(odd) == _dumps(odd)


@pytest.fixture(scope="module")
def hydra_root() -> Any:
    """HydraConfig's node of a composed run config (a root of one key, ``hydra``)."""
    before = HydraConfig.instance().cfg
    HydraConfig.instance().set_config(compose_config(["replication=0"]))
    root = HydraConfig.instance().cfg
    yield root
    HydraConfig.instance().cfg = before


def _set(root: Any, task: list[str], dirname: str, job_id: Any, num: int, out: str) -> None:
    h = root.hydra
    with read_write(h), open_dict(h):
        h.overrides.task = task
        h.job.override_dirname = dirname
        h.job.id = job_id
        h.job.num = num
        h.runtime.output_dir = out


@pytest.mark.parametrize("long", [False, True])
def test_a_replications_hydra_yaml_is_to_yaml_of_its_node(hydra_root: Any, long: bool,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    folder = "/tmp/sweep/" + ("a_very_long_folder_name_" * 6 if long else "s")
    members = [
        (["replication=0"], "replication=0", "0", 0, f"{folder}/replication=0"),
        (["replication=13"], "replication=13", "13", 13, f"{folder}/replication=13"),
        (["replication=7"], "replication=7", "job_7", 7, f"{folder}/网格/replication=7"),
        # values YAML quotes or folds: the whole node dumped
        (["replication=8"], "replication=8", "8", 8, f"{folder}/with a space " * 5),
        (["replication=9"], "a: b", "true", 9, f"{folder}/#9"),
        (["replication=10"], "", "10", 10, f"{folder}/'q'"),
        (["replication=11", "seed=2"], "replication=11,seed=2", "11", 11, folder),  # 2 overrides
        (["replication=12"], "replication=12", "012", 12, f'{folder}/"dq"'),
    ]
    yaml_of = _MemberYaml()
    to_yaml = OmegaConf.to_yaml
    for n, (task, dirname, job_id, num, out) in enumerate(members):
        _set(hydra_root, task, dirname, job_id, num, out)
        want = to_yaml(hydra_root)
        with monkeypatch.context() as mp:
            if n < 3:  # plain values: from the template, the node is not dumped again
                mp.setattr(OmegaConf, "to_yaml", lambda *a, **k: pytest.fail("dumped whole"))
            assert yaml_of.text(hydra_root) == want, (task, out)


_EXPERIMENT = """\
defaults:
  - config
  - _self_
hydra:
  searchpath:
    - pkg://gridsim.conf
  mode: MULTIRUN
  sweep:
    dir: multirun/records
    subdir: ${hydra.job.override_dirname}
  sweeper:
    params:
      replication: range(0,3)
output:
  figures: false
experiment:
  name: records
  metrics: [within_5min_share]
"""


@pytest.mark.slow
def test_a_job_that_only_sets_values_gets_the_config_hydra_composes_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """_derived_job_config against Hydra's own load_sweep_config (a composition of its own):
    the same YAML of the whole config (app and hydra nodes) and the same flags; a job that
    chooses another group option or adds a key is left to Hydra."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "records.yaml").write_text(_EXPERIMENT, encoding="utf-8")
    master = _compose_multirun([], tmp_path, "records")
    extra = ["hydra.sweep.dir=multirun/records", "++hydra.job.env_set.GRIDSIM_SWEEP_SESSION=s"]
    ConfigLoaderImpl._apply_overrides_to_config(
        OverridesParser.create().parse_overrides(extra), master)
    with read_write(master.hydra), open_dict(master.hydra):
        master.hydra.overrides.hydra.extend(extra)

    def flags(cfg: Any) -> list[Any]:
        return [(n._get_flag("struct"), n._get_flag("readonly")) for n in (cfg, cfg.hydra)]

    with _hydra(tmp_path) as hydra:
        loader = hydra.config_loader
        for job in (["replication=1", "++hydra.job.env_set.GRIDSIM_BATCH=e30",
                     "hydra.sweep.subdir=.gridsim-batch-1"],
                    ["replication=2", "seed=5", "scenario=district"]):
            derived = _derived_job_config(master, job)
            assert derived is not None, job
            composed = loader.load_sweep_config(master, list(job))
            assert OmegaConf.to_yaml(derived) == OmegaConf.to_yaml(composed), job
            assert flags(derived) == flags(composed)
            assert derived.replication == int(job[0].split("=")[1])
    for job in (["scenario=small", "replication=1"], ["+extra=1"], ["replication=1,2"]):
        assert _derived_job_config(master, job) is None, job
