"""The peacetime loop inside a run (issue 14): the summary's loop keys against peacetime.csv,
the incidents' causes, the paired pass under ``campaign=none`` (incidents averted) and
reproducible files. Micro runs: the small scenario, a few days."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from gridsim.engine.hazards import RateField, catalogue_from_config
from gridsim.engine.simulation import (
    RunResult,
    _arrival_counts,
    _cause,
    _schedule,
    baseline_key,
    build,
    campaign_on,
    peace_model,
    simulate,
)
from gridsim.engine.weather import build_weather
from gridsim.model.campaign import campaign_phases
from gridsim.model.streams import Streams
from gridsim.model.vocab import FIND_CHANNELS, HAZARD_CLASSES, LOOP_STAGES
from gridsim.output.files import write_outputs
from gridsim.output.metrics import summarize
from gridsim.output.peacetime import PEACETIME_FIELDS, peacetime_rows
from tests.conftest import settings_for

# a busy week: enough incidents of the stock-driven types to have causes
QUICK = ("scenario=small", "duration_h=168", "hazard.rate_scale=6", "output.progress=false",
         "output.figures=false", "output.gis=false", "output.events_log=false",
         "output.counterfactual=false")


@pytest.fixture(scope="module")
def none_run() -> RunResult:
    return simulate(settings_for(*QUICK))


@pytest.fixture(scope="module")
def ports_run() -> RunResult:
    """Charging ports alone: they cut only the new e-bike indoor sites."""
    return simulate(settings_for(*QUICK, "campaign=ebike_ports"))


def _raised(result: RunResult) -> set[str]:
    """The incident types some hazard class raises (from the config, not the model)."""
    return {h for c in result.settings.peacetime.classes.values()
            for h, share in c.raises.items() if share > 0}


def test_the_summary_agrees_with_peacetime_csv(none_run: RunResult) -> None:
    sm = summarize(none_run, "test")
    rows = [dict(zip(PEACETIME_FIELDS, r, strict=True)) for r in peacetime_rows(none_run)]
    assert len(rows) == len(LOOP_STAGES) * (len(HAZARD_CLASSES) + 1)
    assert [r["stage"] for r in rows[:: len(HAZARD_CLASSES) + 1]] == list(LOOP_STAGES)
    every = {(r["stage"], r["hazard_class"]): r for r in rows}
    # the first stage takes every hazard found during the run; the rate stage's on-time share
    # is the summary's (rectified within the deadline, of those rectified in the run)
    assert sm["hazards_found"] == every[(LOOP_STAGES[0], "all")]["arrivals"] > 0
    rate = every[("rate", "all")]
    assert sm["hazards_rectified"] > 0
    assert sm["rectified_on_time_share"] == pytest.approx(rate["on_time_share"], abs=1e-6)
    for c in HAZARD_CLASSES:  # by class too, the share's numerator is an integer count
        row = every[("rate", c)]
        n = int(none_run.peace.rectified_by_class[HAZARD_CLASSES.index(c)])
        if n:
            assert round(row["on_time_share"] * n, 4) == pytest.approx(
                round(row["on_time_share"] * n), abs=1e-3)
        else:
            assert row["on_time_share"] == ""
    for stage in LOOP_STAGES:  # the "all" row sums the classes
        for col in ("arrivals", "completed", "rework", "supervised"):
            assert every[(stage, "all")][col] == sum(every[(stage, c)][col]
                                                     for c in HAZARD_CLASSES)
    assert sum(sm["hazards_found_by_channel"].values()) == sm["hazards_found"]
    assert set(FIND_CHANNELS) <= set(sm["hazards_found_by_channel"])
    assert sm["hazard_stock_end"] == sum(sm["hazard_stock_end_by_class"].values()) > 0
    assert sm["open_hazards_end"] == sm["hazard_stock_end"]
    assert list(sm["hazard_stock_end_by_class"]) == list(HAZARD_CLASSES)


def test_the_run_conserves_hazards(none_run: RunResult) -> None:
    """open at the end = open at the start + new − rectified, by class (nothing else leaves:
    no campaign removal in this run)."""
    p = none_run.peace
    start = p.unfound_start + p.loop_start
    end = p.stock_end().sum(axis=1)
    assert np.array_equal(end, start + p.new_by_class - p.rectified_by_class)
    assert p.new_total > 0 and p.rectified_total > 0
    # and the grid table's column is the same stock, by grid
    assert int(none_run.peace.stock_end().sum()) == summarize(none_run, "t")["hazard_stock_end"]


def test_causes_are_classes_that_raise_the_type(none_run: RunResult) -> None:
    sm = summarize(none_run, "test")
    raises = {c: dict(cfg.raises) for c, cfg in none_run.settings.peacetime.classes.items()}
    caused = [i for i in none_run.incidents if i.cause]
    assert caused, "no incident with a cause: the test would be vacuous"
    for i in caused:
        assert raises[i.cause].get(i.hazard, 0.0) > 0, (i.hazard, i.cause)
    ebike = [i for i in none_run.incidents if i.hazard == "ebike_fire"]
    indoor = sum(1 for i in ebike if i.cause == "ebike_indoor")
    assert sm["ebike_fires_indoor"] == indoor <= len(ebike)
    assert sm["incidents_by_cause"] == {c: sum(1 for i in caused if i.cause == c)
                                        for c in HAZARD_CLASSES}


def test_a_cause_is_drawn_by_the_shares() -> None:
    """Hand-worked: shares (0.2, 0, 0.3, 0, 0, 0): u below 0.2 → the first class, in
    [0.2, 0.5) → the third, from 0.5 on → none."""
    share = np.array([0.2, 0.0, 0.3, 0.0, 0.0, 0.0])
    assert _cause(share, 0.0) == HAZARD_CLASSES[0]
    assert _cause(share, 0.1999) == HAZARD_CLASSES[0]
    assert _cause(share, 0.2) == HAZARD_CLASSES[2]
    assert _cause(share, 0.4999) == HAZARD_CLASSES[2]
    assert _cause(share, 0.5) == ""
    assert _cause(np.zeros(len(HAZARD_CLASSES)), 0.0) == ""


def test_campaign_none_averts_nothing_and_costs_nothing(none_run: RunResult) -> None:
    sm = summarize(none_run, "test")
    assert sm["campaign"] == "none" and sm["campaign_cost_cny"] == 0
    assert not campaign_on(none_run.settings) and none_run.campaign_baseline is None
    assert sm["incidents_averted"] == dict.fromkeys(sm["incidents_by_hazard"], 0)


def test_the_paired_pass_counts_a_runs_own_incidents(none_run: RunResult) -> None:
    """The arrivals-only pass under the run's own levers sees exactly the run's incidents:
    the same streams, conditions and rates, with no response."""
    s, sc = none_run.settings, none_run.scenario
    catalogue = catalogue_from_config(s.catalogue)
    model = peace_model(s, sc, catalogue)
    # the run's weather (its settings already hold the forecast warnings it added)
    weather = build_weather(s, sc, catalogue, Streams(s.seed, s.replication))
    assert weather is not None
    counts = _arrival_counts(s, sc, catalogue, weather, model,
                             campaign_phases(s.campaign, sc.region.grids, sc.roster))
    assert counts == summarize(none_run, "t")["incidents_by_hazard"]
    assert sum(counts.values()) > 20


def test_an_enabled_campaign_without_effect_averts_exactly_nothing() -> None:
    """Charging ports nobody uses (uptake 0): the paired pass runs and finds the same
    incidents, type by type."""
    # a seed of its own: no run without a campaign has left its counts for the pass to reuse
    s = settings_for(*QUICK, "seed=11", "campaign=ebike_ports", "campaign.charging_ports.uptake=0")
    key = baseline_key(s)
    assert key is not None
    assert key not in build(s).memo  # (the run's scenario: built once per process)
    run = simulate(s)
    assert key in run.scenario.memo  # the pass ran, and left its counts
    assert run.campaign_baseline is not None
    sm = summarize(run, "test")
    assert sm["incidents_averted"] == dict.fromkeys(sm["incidents_by_hazard"], 0)
    assert sum(run.campaign_baseline.values()) == len(run.incidents) > 20


def test_ports_leave_the_types_no_class_raises_exactly_unchanged(
        none_run: RunResult, ports_run: RunResult) -> None:
    free = {h.name for h in none_run.ctx.catalogue.hazards} - _raised(none_run)
    assert free, "every type is raised by some class: nothing to compare"

    def timeline(r: RunResult, h: str) -> list[tuple[float, int]]:
        return [(i.occurred_s, i.grid) for i in r.incidents if i.hazard == h]

    assert sum(len(timeline(none_run, h)) for h in free) > 10
    for h in free:
        assert timeline(ports_run, h) == timeline(none_run, h), h
    sm = summarize(ports_run, "test")
    assert all(sm["incidents_averted"][h] == 0 for h in free)
    # the paired pass is the campaign=none run's arrivals
    assert ports_run.campaign_baseline == summarize(none_run, "t")["incidents_by_hazard"]
    # and the ports reached the loop: fewer new indoor e-bike sites a day in the port grids
    k = HAZARD_CLASSES.index("ebike_indoor")
    model = ports_run.peace.model
    phases = campaign_phases(ports_run.settings.campaign, ports_run.scenario.region.grids,
                             ports_run.scenario.roster)
    lam = model.new_rates(ports_run.peace._levers)[k]
    cut = phases[0].levers.new_factor[k] < 1
    assert cut.any() and np.all(lam[cut] < model.lam[k][cut])
    assert np.array_equal(np.delete(model.new_rates(ports_run.peace._levers), k, axis=0),
                          np.delete(model.lam, k, axis=0))
    assert sm["campaign"] == "ebike_ports" and sm["campaign_cost_cny"] > 0


def test_the_paired_pass_can_be_switched_off() -> None:
    s = settings_for(*QUICK, "duration_h=24", "campaign=ebike_ports",
                     "output.campaign_baseline=false")
    run = simulate(s)
    assert run.campaign_baseline is None
    assert summarize(run, "test")["incidents_averted"] is None


def test_the_rate_field_takes_a_multiplier_per_type(none_run: RunResult) -> None:
    s, sc = none_run.settings, none_run.scenario
    catalogue = catalogue_from_config(s.catalogue)
    field = RateField(catalogue, sc.region.grids, s.hazard, _schedule(s, 3600.0))
    m = np.ones((len(catalogue.hazards), sc.n_grids))
    m[1, 5] = 3.0
    field.stock = m
    field.touch(0.0)
    assert field.rates(1)[5] == pytest.approx(3.0 * field.base[1, 5] * field.warning[1, 5])
    assert np.array_equal(field.rates(0), field.base[0] * field.warning[0])
    with pytest.raises(ValueError, match="expected shape"):
        field.stock = np.ones(sc.n_grids)


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    s = settings_for(*QUICK, "duration_h=48", "campaign=ebike_2025", "output.figures=true")
    folders = []
    for k in range(2):
        run = simulate(s)
        folder = tmp_path / f"run{k}"
        write_outputs(run, folder, "test")
        folders.append(folder)
    names = sorted(p.name for p in folders[0].iterdir())
    assert {"peacetime.csv", "peacetime.png", "incidents.csv"} <= set(names)
    for name in names:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name
    text = (folders[0] / "peacetime.csv").read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(text)))
    assert tuple(header) == PEACETIME_FIELDS
    incidents = list(csv.DictReader(io.StringIO(
        (folders[0] / "incidents.csv").read_text(encoding="utf-8"))))
    assert all(r["cause"] in ("", *HAZARD_CLASSES) for r in incidents)
    summary = json.loads((folders[0] / "summary.json").read_text(encoding="utf-8"))
    assert summary["ebike_fires_indoor"] == sum(
        1 for r in incidents if r["hazard"] == "ebike_fire" and r["cause"] == "ebike_indoor")
    assert isinstance(summary["incidents_averted"], dict)



def test_keeping_the_unchanged_weights_changes_no_arrival(
        none_run: RunResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate field drops at a peacetime or weather step only the weights of the rows that
    step changes; recomputing every row at every step gives the very same incidents."""
    touch = RateField.touch
    monkeypatch.setattr(RateField, "touch",
                        lambda self, now, everything=True: touch(self, now, True))
    again = simulate(settings_for(*QUICK))
    assert len(again.incidents) == len(none_run.incidents) > 20
    assert [(i.hazard, i.occurred_s, i.grid, i.cause) for i in again.incidents] == \
        [(i.hazard, i.occurred_s, i.grid, i.cause) for i in none_run.incidents]


AMPLE = tuple(f"peacetime.capacity_factor.{s}=1000" for s in LOOP_STAGES)
EBIKE_ONLY = ("campaign=ebike_knocking", "campaign.door_knocking.find_prob.electrical=0",
              "campaign.door_knocking.find_prob.fire_load=0",
              "campaign.door_knocking.find_prob.gas=0")


@pytest.mark.slow
def test_a_campaign_on_ebike_sites_leaves_the_types_other_classes_drive_unchanged() -> None:
    """Common random numbers per hazard class (gridsim.engine.peacetime): door-knocking that
    finds only e-bike sites, with ample loop capacity (no pool where e-bike cases queue beside
    the others), leaves every other class's new, found and rectified hazards, and so the
    incidents of every type that e-bike sites do not raise (gas leaks, building fires,
    landslides, driven by other classes), exactly as without it. (At the reference capacity
    the new and found draws of the other classes are still the same; their cases' times in
    the loop may move where they queue behind e-bike cases: in the city's seed-1 199 days
    under charging ports every other class's new, found and rectified counts are the same,
    and 405 of the 508 building fires (508 both ways) at the same time and grid.)"""
    none = simulate(settings_for(*QUICK, *AMPLE))
    camp = simulate(settings_for(*QUICK, *AMPLE, *EBIKE_ONLY))
    k = HAZARD_CLASSES.index("ebike_indoor")
    p0, p1 = none.peace, camp.peace
    assert p1.found_by[:, k].sum() != p0.found_by[:, k].sum() or \
        p1.unfound_start[k] != p0.unfound_start[k]  # the campaign reached the e-bike sites
    others = np.arange(len(HAZARD_CLASSES)) != k
    for a in ("new_by_class", "rectified_by_class", "unfound_start", "loop_start"):
        assert np.array_equal(getattr(p1, a)[others], getattr(p0, a)[others]), a
    assert np.array_equal(p1.found_by[:, others], p0.found_by[:, others])
    assert np.array_equal(p1.stock_end()[others], p0.stock_end()[others])
    driven = _raised(none) - set(none.settings.peacetime.classes["ebike_indoor"].raises)
    assert {"gas_leak", "building_fire"} <= driven

    def timeline(r: RunResult, h: str) -> list[tuple[float, int]]:
        return [(i.occurred_s, i.grid) for i in r.incidents if i.hazard == h]

    assert sum(len(timeline(none, h)) for h in driven) > 10
    for h in driven:
        assert timeline(camp, h) == timeline(none, h), h


def test_peacetime_csv_counts_the_run_s_events(none_run: RunResult) -> None:
    """Every count of peacetime.csv is of events during the run (stage_rows): the flow
    identities hold exactly by stage and class, and the rate stage's completed less its
    rework is the summary's hazards_rectified (no phase removes cases in this run)."""
    sm = summarize(none_run, "test")
    rows = [dict(zip(PEACETIME_FIELDS, r, strict=True)) for r in peacetime_rows(none_run)]
    every = {(r["stage"], r["hazard_class"]): r for r in rows}
    p = none_run.peace
    assert p.loop_start.sum() > 0 and p.removed_total == 0  # cases in the loop at t = 0
    work, rate = LOOP_STAGES.index("work"), LOOP_STAGES.index("rate")
    for ci, c in enumerate([*HAZARD_CLASSES, "all"]):
        row = [every[(st, c)] for st in LOOP_STAGES]
        found = sm["hazards_found"] if c == "all" else int(p.found_by[:, ci].sum())
        assert row[0]["arrivals"] == found
        for s in range(1, len(LOOP_STAGES)):
            back = row[rate]["rework"] if s == work else 0
            assert row[s]["arrivals"] == row[s - 1]["completed"] + back, (c, s)
        fixed = sm["hazards_rectified"] if c == "all" else int(p.rectified_by_class[ci])
        assert row[rate]["completed"] - row[rate]["rework"] == fixed
        sel = slice(None) if c == "all" else ci
        for s, st in enumerate(LOOP_STAGES):  # in the stage: start + arrivals − completed
            now = int(np.sum((p.rows.stage == s) & ((p.rows.cls == ci) if c != "all" else True)))
            assert now == int(np.sum(p.stage_start[s][sel])) + row[s]["arrivals"] \
                - row[s]["completed"], (c, st)
    assert sm["hazards_rectified"] > 0 and every[("rate", "all")]["rework"] > 0
