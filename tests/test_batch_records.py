"""The records of a batch's replications are made without serialising the same config again, and
say exactly what serialising it would say: the manifest's JSON (json.dumps is the reference) and
``.hydra/hydra.yaml`` (OmegaConf.to_yaml of HydraConfig's node is the reference)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf, open_dict, read_write

from gridsim.app.hydra_app import _MemberYaml, compose_config
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
