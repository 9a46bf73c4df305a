"""Frozen settings (gridsim.model.frozen): what the Hydra boundary and the test builders hand on.

Micro tests on hand-built parameters (tests/params.py), plus one composition of the shipped
config (``scenario=small``) to show that what ``gridsim run`` hands the engine is frozen.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from dataclasses import dataclass, field

import numpy as np
import pytest
from params import changed, one_grid

from gridsim.engine.incident import RunContext
from gridsim.engine.simulation import simulate
from gridsim.model.dists import Dist
from gridsim.model.frozen import FrozenDict, FrozenList, freeze, frozen_class, is_frozen, thaw
from gridsim.model.params import RunConfig, WarningConfig
from gridsim.place.scenario import scenario_key


@pytest.fixture(scope="module")
def frozen() -> RunConfig:
    return one_grid(2, duration_h=24.0, rate_per_day=4.0)


# ----------------------------------------------------------------------------------------------
# nothing can be changed in place
# ----------------------------------------------------------------------------------------------
def test_assigning_or_deleting_an_attribute_raises_naming_the_field(frozen: RunConfig) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"RunConfig\.duration_h.*replace"):
        frozen.duration_h = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"SwitchConfig\.trigger_grade"):
        frozen.response.switch.trigger_grade = "II"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"Dist\.value_s"):
        frozen.response.switch.alert_delay.value_s = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del frozen.seed  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        frozen.not_a_field = 1  # type: ignore[attr-defined]
    assert frozen.duration_h == 24.0 and frozen.response.switch.trigger_grade == "I"


def test_nested_dicts_and_lists_refuse_every_change(frozen: RunConfig) -> None:
    speeds = frozen.response.dispatch.local_speed_mps
    roles = frozen.response.dispatch.peace_roles
    assert type(speeds) is FrozenDict and type(roles) is FrozenList
    before = (dict(speeds), list(roles))
    dict_changes = [lambda: speeds.__setitem__("rural", 9.0), lambda: speeds.pop("rural"),
                    lambda: speeds.update(rural=9.0), lambda: speeds.setdefault("x", 1.0),
                    lambda: speeds.popitem(), lambda: speeds.clear(),
                    lambda: speeds.__delitem__("rural"), lambda: speeds.__ior__({"x": 1.0})]
    list_changes = [lambda: roles.append("x"), lambda: roles.extend(["x"]),
                    lambda: roles.insert(0, "x"), lambda: roles.pop(), lambda: roles.sort(),
                    lambda: roles.reverse(), lambda: roles.remove(roles[0]),
                    lambda: roles.clear(), lambda: roles.__setitem__(0, "x"),
                    lambda: roles.__delitem__(0), lambda: roles.__iadd__(["x"]),
                    lambda: roles.__imul__(2)]
    for change in dict_changes:
        with pytest.raises(TypeError, match="frozen settings"):
            change()
    for change in list_changes:
        with pytest.raises(TypeError, match="frozen settings"):
            change()
    # a dict inside a dict (kind -> item -> count), a list of dataclasses
    stock = frozen.scenario.supplies.grid_stock["urban_community"]
    with pytest.raises(TypeError):
        stock["sandbag"] = 0
    with pytest.raises(TypeError):
        frozen.hazard.warnings.append(WarningConfig(name="w", start_h=0.0, duration_h=1.0))
    assert (dict(speeds), list(roles)) == before
    # copies are plain and may be changed
    mine = speeds.copy()
    mine["rural"] = 9.0
    assert type(mine) is dict and speeds["rural"] != 9.0
    assert type(roles + ["x"]) is list and type(roles[:]) is list  # noqa: RUF005 (+ itself)


def test_frozen_containers_are_what_they_were_to_readers(frozen: RunConfig) -> None:
    speeds = frozen.response.dispatch.local_speed_mps
    assert isinstance(speeds, dict) and isinstance(frozen.response.dispatch.peace_roles, list)
    assert speeds == dict(speeds) and frozen.response.dispatch.peace_roles == list(
        frozen.response.dispatch.peace_roles)
    assert np.asarray(frozen.response.dispatch.night_hours).tolist() == [22, 6]
    assert json.dumps(speeds) == json.dumps(dict(speeds))


# ----------------------------------------------------------------------------------------------
# changing a setting: dataclasses.replace (or changed), which stays frozen
# ----------------------------------------------------------------------------------------------
def test_replace_gives_a_frozen_copy_and_freezes_the_new_values(frozen: RunConfig) -> None:
    new_dispatch = dataclasses.replace(frozen.response.dispatch,
                                       local_speed_mps={"rural": 2.0}, peace_roles=["commander"])
    s = dataclasses.replace(frozen, duration_h=6.0,
                            response=dataclasses.replace(frozen.response, dispatch=new_dispatch))
    assert is_frozen(s) and s.duration_h == 6.0
    assert type(s.response.dispatch.local_speed_mps) is FrozenDict
    assert type(s.response.dispatch.peace_roles) is FrozenList
    assert s.response.dispatch.local_speed_mps == {"rural": 2.0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.duration_h = 1.0  # type: ignore[misc]
    assert frozen.duration_h == 24.0  # the original is unchanged
    assert frozen.response.dispatch.local_speed_mps["rural"] == 1.6
    # the parts not replaced are shared, not copied (a replacement per replication is cheap)
    assert s.scenario is frozen.scenario and s.catalogue is frozen.catalogue


def test_changed_replaces_at_dotted_paths_through_fields_and_dict_keys(frozen) -> None:
    s = changed(frozen, {"response.switch.trigger_grade": "II",
                         "response.dispatch.local_speed_mps.rural": 2.5,
                         "catalogue.hazards.test.handling": Dist.fixed(5.0)})
    assert is_frozen(s)
    assert s.response.switch.trigger_grade == "II"
    assert s.response.dispatch.local_speed_mps["rural"] == 2.5
    assert s.response.dispatch.local_speed_mps["commercial"] == 1.6  # the others kept
    assert s.catalogue.hazards["test"].handling == Dist.fixed(5.0)
    assert frozen.response.switch.trigger_grade == "I"
    with pytest.raises(KeyError, match=r"response\.swtich\.trigger_grade: ResponseConfig has no "
                                       r"field 'swtich'"):
        changed(frozen, {"response.swtich.trigger_grade": "II"})
    with pytest.raises(KeyError, match=r"no key 'nope'"):
        changed(frozen, {"catalogue.hazards.nope.handling": Dist.fixed(1.0)})


# ----------------------------------------------------------------------------------------------
# the same settings, whatever their frozenness: equality, asdict, json, keys, results
# ----------------------------------------------------------------------------------------------
def test_asdict_json_and_equality_match_the_unfrozen_settings(frozen: RunConfig) -> None:
    plain = thaw(frozen)
    assert type(plain) is RunConfig and not is_frozen(plain)
    assert type(plain.response.dispatch.local_speed_mps) is dict
    assert frozen == plain and plain == frozen
    assert dataclasses.asdict(frozen) == dataclasses.asdict(plain)
    text = json.dumps(dataclasses.asdict(frozen), sort_keys=True)
    assert text == json.dumps(dataclasses.asdict(plain), sort_keys=True)
    assert json.loads(text) == json.loads(json.dumps(dataclasses.asdict(plain)))
    assert repr(frozen) == repr(plain)
    assert type(frozen).__name__ == "RunConfig" and isinstance(frozen, RunConfig)
    assert freeze(plain) == frozen and is_frozen(freeze(plain))
    assert scenario_key(frozen.scenario) == scenario_key(plain.scenario)
    plain.duration_h = 1.0  # thawed settings are plain dataclasses again
    assert frozen != plain


def test_a_frozen_run_gives_the_same_incidents_as_the_unfrozen_one() -> None:
    busy = one_grid(2, duration_h=240.0, rate_per_day=10.0)  # 100 incidents in expectation

    def timeline(s: RunConfig) -> list[tuple[str, int, float, float | None]]:
        return [(i.hazard, i.grid, i.occurred_s, i.resolved_s) for i in simulate(s).incidents]

    ours = timeline(busy)
    assert len(ours) > 50  # Poisson(100): 5 standard deviations below its mean
    assert ours == timeline(thaw(busy))


# ----------------------------------------------------------------------------------------------
# hashing, pickling, copying
# ----------------------------------------------------------------------------------------------
def test_frozen_settings_hash_pickle_and_copy_as_themselves(frozen: RunConfig) -> None:
    again = freeze(thaw(frozen))
    assert again is not frozen and hash(again) == hash(frozen)
    assert len({frozen, again, dataclasses.replace(frozen, seed=2)}) == 2
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(frozen, protocol=protocol))
        assert back == frozen and is_frozen(back) and type(back) is type(frozen)
        assert hash(back) == hash(frozen)
    assert copy.copy(frozen) is frozen and copy.deepcopy(frozen) is frozen
    assert copy.deepcopy({"s": frozen})["s"] is frozen


# ----------------------------------------------------------------------------------------------
# any dataclass: no code per class
# ----------------------------------------------------------------------------------------------
@dataclass
class _Part:
    weights: dict[str, list[float]] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)


@dataclass
class _Whole:
    name: str = "x"
    parts: list[_Part] = field(default_factory=list)
    pair: tuple[int, list[int]] = (0, [])
    table: np.ndarray = field(default_factory=lambda: np.zeros(3))


def test_any_dataclass_freezes_without_code_of_its_own() -> None:
    table = np.arange(3.0)
    plain = _Whole(parts=[_Part(weights={"a": [1.0, 2.0]}, tags={"t"})], pair=(1, [2]),
                   table=table)
    f = freeze(plain)
    assert is_frozen(f) and type(f) is frozen_class(_Whole) and isinstance(f, _Whole)
    with pytest.raises(TypeError):
        f.parts[0].weights["a"].append(3.0)
    with pytest.raises(TypeError):
        f.pair[1].append(3)
    assert f.parts[0].tags == frozenset({"t"})
    with pytest.raises(ValueError):  # numpy: assignment destination is read-only
        f.table[0] = 9.0
    table[0] = 7.0  # the array given stays the caller's own, writable
    assert f.table[0] == 0.0
    assert pickle.loads(pickle.dumps(f)).parts == f.parts
    assert freeze(f) is f  # freezing again costs nothing
    # replace on a class frozen for the first time here: the constructor freezes what it gets
    g = dataclasses.replace(f, parts=[_Part(weights={"b": [3.0]})])
    assert is_frozen(g) and type(g.parts[0].weights["b"]) is FrozenList


# ----------------------------------------------------------------------------------------------
# what reaches the engine
# ----------------------------------------------------------------------------------------------
def test_the_settings_simulate_runs_on_are_frozen(frozen: RunConfig) -> None:
    seen: list[RunContext] = []
    simulate(dataclasses.replace(frozen, duration_h=1.0), observe=seen.append)
    assert is_frozen(seen[0].settings)


def test_a_composed_gridsim_run_config_is_frozen_at_the_boundary() -> None:
    """``gridsim run``'s settings come from the boundary's check (compose_settings calls it):
    frozen all the way down, and so are what simulate's engine objects hold."""
    from gridsim.app.hydra_app import compose_settings

    s, _ = compose_settings(["scenario=small", "duration_h=1", "output.figures=false",
                             "output.progress=false"])
    assert is_frozen(s)
    assert type(s.response.switch).__name__ == "SwitchConfig"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.response.switch.trigger_grade = "I"  # type: ignore[misc]
    seen: list[RunContext] = []
    simulate(s, observe=seen.append)
    assert seen[0].settings is s
    # the engine's parts hold the same frozen settings
    assert seen[0].switch.cfg is s.response.switch and is_frozen(seen[0].dispatcher.cfg)
