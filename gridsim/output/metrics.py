"""Metrics of a run: the summary (summary.json) and per-grid figures (grids.csv).

Every key is documented in README.md ("Metrics"). Times are seconds of simulated time. An
incident counts toward response-time metrics once its first responder is on scene within the
run; incidents still waiting at the end are censored (counted in ``open_at_end``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gridsim.engine.command import summary_of as command_summary
from gridsim.engine.incident import Incident
from gridsim.engine.moves import summary_of as moves_summary
from gridsim.engine.simulation import RunResult, campaign_on
from gridsim.model.campaign import campaign_cost_cny
from gridsim.model.five_pre import RECORD_FIELDS, five_pre_record
from gridsim.model.peace import CHANNEL_LABELS
from gridsim.model.vocab import GRID_KINDS, HAZARD_CLASSES, MODES, SUPPLY_ITEMS
from gridsim.output.geo import crs_fields

__all__ = ["FIVE_MINUTES_S", "grid_columns", "grid_rows", "summarize"]

#: The "应急五分钟" standard: responders on scene within 5 minutes of the grid's notice.
FIVE_MINUTES_S = 300.0


def _q(a: np.ndarray, q: float) -> float:
    return float(np.quantile(a, q)) if len(a) else math.nan


def _mean(a: np.ndarray) -> float:
    return float(np.mean(a)) if len(a) else math.nan


def _r(x: float, nd: int = 3) -> float | None:
    """Round for the JSON file; NaN becomes null."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


def _answered(result: RunResult) -> list[Incident]:
    """Incidents whose first responder was on scene within the run (the others are censored)."""
    end = result.duration_s
    return [i for i in result.incidents
            if math.isfinite(i.first_on_scene_s) and i.first_on_scene_s <= end]


def response_arrays(result: RunResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grid, response_s, response_from_occurrence_s)`` of incidents answered within the run."""
    rows = [(i.grid, i.response_s, i.response_from_occurrence_s) for i in _answered(result)]
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    a = np.array(rows, dtype=float)
    return a[:, 0].astype(np.int64), a[:, 1], a[:, 2]


def _by_mode_at_notice(result: RunResult) -> dict[str, dict[str, Any]]:
    """Response metrics of the incidents noticed while their grid was in each mode: what the
    switch buys shows here (people at a ready post go without call-up delay), where a run-wide
    figure hides the few incidents of an assembly window."""
    answered = _answered(result)
    out = {}
    for mode in MODES:
        r = np.array([i.response_s for i in answered if i.mode_at_notice == mode])
        out[mode] = {
            "responded": len(r),
            "response_time_p50_s": _r(_q(r, 0.5)),
            "within_5min_share": _r(float(np.mean(r <= FIVE_MINUTES_S)) if len(r) else math.nan,
                                    6),
        }
    return out


def _losses(incidents: list[Incident] | None) -> float:
    """The direct losses of ``incidents`` in CNY (NaN without them: no counterfactual run)."""
    return math.nan if incidents is None else float(sum(i.loss_cny for i in incidents))


def _task(rows: dict[str, dict[str, float | int]], name: str) -> dict[str, float | int]:
    """A post task's common figures (zeros for a task that did not run or is switched off)."""
    row = rows.get(name, {})
    return {"count": row.get("count", 0), "person_hours": row.get("person_hours", 0.0),
            "units_done": row.get("units_done", 0), "preempted": row.get("preempted", 0)}


def _storm_tasks(rows: dict[str, dict[str, float | int]]) -> dict[str, dict[str, float | int]]:
    """``storm_tasks``: every post task of :data:`gridsim.engine.storm.TASKS`, always with the
    same keys (a run without storm work has zeros), so that results tables keep their columns
    and experiment files can name e.g. ``storm_tasks.relocate.people_moved``."""
    return {
        "staff_post": _task(rows, "staff_post"),
        "relocate": {**_task(rows, "relocate"),
                     "people_moved": rows.get("relocate", {}).get("people_moved", 0)},
        "warn": _task(rows, "warn"),
        "sandbag": {**_task(rows, "sandbag"),
                    "units_short": rows.get("sandbag", {}).get("units_short", 0)},
        "patrol": {**_task(rows, "patrol"), "rounds": rows.get("patrol", {}).get("rounds", 0)},
    }


def _supply_delays(result: RunResult) -> dict[str, Any]:
    """``supply_delay_mean_s``: the mean supply delay (``supply_delay_s``: from the store
    opened until the last borrowed or fetched unit is on scene, 0 with the kit at hand) over
    the incidents of hazards with supplies that got them on scene within the run (null if
    none); ``supply_delayed_incidents``: those of them whose delay was positive."""
    kits = {h.name for h in result.ctx.catalogue.hazards if h.supplies}
    end = result.duration_s
    d = np.array([i.supply_delay_s for i in result.incidents
                  if i.hazard in kits and i.handling_start_s <= end])
    return {"supply_delay_mean_s": _r(_mean(d)), "supply_delayed_incidents": int((d > 0).sum())}


#: The incident type of e-bike fires, whose indoor ones (cause ``ebike_indoor``, 人车同屋 and
#: indoor charging) the summary counts apart: ``ebike_fires_indoor``.
EBIKE_FIRE = "ebike_fire"


def _peacetime(result: RunResult) -> dict[str, Any]:
    """The peacetime loop's keys (README "Metrics"; :mod:`gridsim.engine.peacetime`): hazards
    found and rectified during the run, the share of those rectified within their class's
    deadline, the open stock at the end (in all and by class), the finds by channel; the
    incidents' causes; the campaign, its cost and the incidents it averted against the paired
    pass under ``campaign=none`` (zero for each type without an enabled measure: the run is its
    own baseline; null with ``output.campaign_baseline`` false)."""
    s = result.settings
    peace = result.peace
    stock = peace.stock_end()
    incs = result.incidents
    by_type = {h.name: 0 for h in result.ctx.catalogue.hazards}
    by_cause = dict.fromkeys(HAZARD_CLASSES, 0)
    indoor = 0
    for i in incs:
        by_type[i.hazard] += 1
        if i.cause:
            by_cause[i.cause] += 1
            indoor += i.hazard == EBIKE_FIRE and i.cause == "ebike_indoor"
    base = result.campaign_baseline
    if base is not None:
        averted: dict[str, int] | None = {k: base[k] - n for k, n in by_type.items()}
    elif campaign_on(s):
        averted = None  # output.campaign_baseline: false
    else:
        averted = dict.fromkeys(by_type, 0)
    found = peace.found_by_channel()
    vid = s.peacetime.channels.video_ai  # the region's feeds, as the loop places them
    feeds = float(vid.feeds * result.scenario.region.grids.exposure("residents").sum()
                  / max(vid.feeds_for_residents, 1e-300))
    return {
        "hazards_found": int(peace.found_total),
        # by channel of gridsim.model.vocab.FIND_CHANNELS, and "campaign" (a campaign's extra
        # find rate: door-knocking, an inspection drive)
        "hazards_found_by_channel": {k: found[k] for k in CHANNEL_LABELS},
        "hazards_rectified": int(peace.rectified_total),
        "hazards_rectified_by_class": {c: int(peace.rectified_by_class[k])
                                       for k, c in enumerate(HAZARD_CLASSES)},
        "rectified_on_time_share": _r(math.nan if peace.rectified_on_time_share is None
                                      else peace.rectified_on_time_share, 6),
        "hazard_stock_end": int(stock.sum()),
        "hazard_stock_end_by_class": {c: int(stock[k].sum())
                                      for k, c in enumerate(HAZARD_CLASSES)},
        "open_hazards_end": int(stock.sum()),  # (the key's older name: the same number)
        "ebike_fires_indoor": int(indoor),
        "incidents_by_cause": {c: by_cause[c] for c in HAZARD_CLASSES},
        "campaign": s.campaign.name,
        "campaign_cost_cny": _r(campaign_cost_cny(
            s.campaign, result.scenario.region.grids, result.scenario.peacetime_roster,
            result.duration_s / 86400.0, feeds), 0),
        "incidents_averted": None if averted is None else {
            h.name: averted[h.name] for h in result.ctx.catalogue.hazards},
    }


def summarize(result: RunResult, version: str) -> dict[str, Any]:
    """The run summary (summary.json): plain numbers only, no wall-clock times or paths."""
    s = result.settings
    ctx = result.ctx
    incs = result.incidents
    end = result.duration_s
    _, resp, resp_occ = response_arrays(result)
    _, lat = ctx.switch.latencies()
    resolved = [i for i in incs if math.isfinite(i.resolved_s)]
    notified = [i for i in incs if math.isfinite(i.notified_s)]
    sojourn = np.array([min(i.resolved_s if math.isfinite(i.resolved_s) else end, end)
                        - i.occurred_s for i in incs])
    ledger = ctx.supply.ledger
    five_pre = five_pre_record(s.five_pre)
    roster_n = result.scenario.roster.n
    busy = ctx.dispatcher.busy_person_s_until(end)
    episodes = len(ctx.switch.ep_grid)
    grades = {g: sum(1 for i in incs if i.grade == g) for g in ("I", "II", "III", "IV")}
    cf = result.counterfactual  # the same incidents with no grid response, if run
    return {
        "incidents": len(incs),
        "resolved": len(resolved),
        "open_at_end": len(incs) - len(resolved),
        "responded": len(resp),
        "response_time_p50_s": _r(_q(resp, 0.5)),
        "response_time_p90_s": _r(_q(resp, 0.9)),
        "response_time_mean_s": _r(_mean(resp)),
        "within_5min_share": _r(float(np.mean(resp <= FIVE_MINUTES_S))
                                if len(resp) else math.nan, 6),
        "response_from_occurrence_p50_s": _r(_q(resp_occ, 0.5)),
        "response_from_occurrence_p90_s": _r(_q(resp_occ, 0.9)),
        "switch_latency_p50_s": _r(_q(lat, 0.5)),
        "switch_latency_p90_s": _r(_q(lat, 0.9)),
        "response_by_mode_at_notice": _by_mode_at_notice(result),
        "switch_episodes": episodes,
        "switch_completed": len(lat),
        "grids_switched": len(set(ctx.switch.ep_grid)),
        "escalations": sum(1 for i in incs if i.escalated),
        "resolved_by_department": sum(1 for i in resolved if i.resolved_by == "department"),
        "report_on_time_share": _r(float(np.mean([i.report_on_time for i in notified]))
                                   if notified else math.nan, 6),
        "supply_shortages": ledger.shortages,
        "supply_borrowed_units": ledger.borrowed,
        "supply_depot_units": ledger.fetched_from_depot,
        "supply_unmet_units": ctx.supply.unmet_units,
        "supply_consumed_units": ledger.consumed,
        # the supply delay (borrowing, the depot) of the incidents whose supplies were on scene
        # within the run: its mean, and how many waited for their kit after the crew
        **_supply_delays(result),
        "responder_utilization": _r(busy / (roster_n * end) if roster_n else math.nan, 9),
        # storm work (gridsim.engine.storm): busy share of warned grids' people while warned
        # (incidents and post tasks), and per post task its grids, person-hours, units done
        "storm_utilization": _r(ctx.storm.utilization(end) if ctx.storm else math.nan, 6),
        "storm_tasks": _storm_tasks(ctx.storm.task_summary() if ctx.storm else {}),
        # the command structure (gridsim.engine.command, docs/command.md): members sent by the
        # township and the county (三级包保), evacuation helpers held while they help
        **command_summary(ctx.command),
        **moves_summary(result.moves),  # storm 前置: members and units moved ahead
        "arrival_rate_per_h": _r(len(incs) / (end / 3600.0), 6),
        "mean_open_incidents": _r(ctx.open_incidents.mean(end), 6),
        "mean_time_in_system_s": _r(_mean(sojourn)),
        "incidents_by_grade": grades,
        "incidents_by_hazard": {h.name: sum(1 for i in incs if i.hazard == h.name)
                                for h in ctx.catalogue.hazards},
        # consequences (gridsim.model.consequences; README "Metrics")
        "people_trapped": sum(i.people_trapped for i in incs),
        # ... and who would have been, but the post's relocation had moved them out (转移避险)
        "people_spared_by_relocation": sum(i.people_spared for i in incs),
        "people_rescued": sum(i.people_rescued for i in incs),
        "people_still_trapped": sum(i.people_trapped - i.people_rescued - i.deaths
                                    for i in incs),
        "deaths": sum(i.deaths for i in incs),
        "injuries": sum(i.injuries for i in incs),
        "losses_cny": _r(sum(i.loss_cny for i in incs), 0),
        "losses_without_grid_cny": _r(_losses(cf), 0),
        "losses_averted_cny": _r(_losses(cf) - sum(i.loss_cny for i in incs), 0),
        "deaths_without_grid": sum(i.deaths for i in cf) if cf is not None else None,
        "rescues": sum(1 for i in incs if i.rescued_by == "grid"),
        **_peacetime(result),  # the peacetime loop (四单四办), the campaign
        "grids": result.scenario.n_grids,
        "population": int(result.scenario.region.grids.population.sum()),
        "responders_on_roster": roster_n,
        "duration_h": s.duration_h,
        "scenario": s.scenario.name,
        # a scenario folder's absolute path (generator files), else null
        "scenario_path": s.scenario.path or None,
        # the scenario's coordinate system (of x_m, y_m) and its centre in lon/lat (WGS 84)
        **crs_fields(result.scenario.region),
        "catalogue": s.catalogue.name,
        "hazard": s.hazard.name,
        "response": s.response.name,
        "seed": s.seed,
        "replication": s.replication,
        # the 五预 levers (gridsim.model.five_pre), as set
        "five_pre": {g: {f: five_pre[g][f] for f in RECORD_FIELDS[g]} for g in RECORD_FIELDS},
        "gridsim_version": version,
        # an evacuating warning adds its keys (README "Metrics", gridsim.evacuation.results)
        **(result.evacuations[0].summary() if result.evacuations else {}),
    }


GRID_FIELDS: tuple[str, ...] = (
    "grid", "county", "township", "village", "kind", "area_km2", "population", "households",
    "vulnerable_share", "x_m", "y_m", "responders", "incidents", "responded",
    "within_5min_share", "response_time_p50_s", "switch_episodes", "switch_latency_mean_s",
    "mode_at_end", "open_hazards_end", *(f"stock_{it}_end" for it in SUPPLY_ITEMS),
)


def _ints(a: np.ndarray) -> list[int]:
    return np.asarray(a).astype(np.int64).tolist()


def grid_rows(result: RunResult) -> list[tuple]:
    """One row per grid, columns :data:`GRID_FIELDS`."""
    return list(zip(*grid_columns(result), strict=True))


def grid_columns(result: RunResult) -> list[list[Any] | range]:
    """The columns :data:`GRID_FIELDS` of the per-grid table, one value per grid in each."""
    sc = result.scenario
    g = sc.region.grids
    h = sc.region.hierarchy
    n = g.n
    incs = np.bincount([i.grid for i in result.incidents], minlength=n) if result.incidents \
        else np.zeros(n, np.int64)
    rg, resp, _ = response_arrays(result)
    responded = np.bincount(rg, minlength=n)
    within = np.bincount(rg, weights=(resp <= FIVE_MINUTES_S), minlength=n)
    p50 = np.full(n, math.nan)
    if len(rg):
        # median per grid: the mean of the middle two (or the middle one) of its sorted times
        order = np.lexsort((resp, rg))
        resp_s = resp[order]
        start = np.concatenate([[0], np.cumsum(responded)[:-1]])
        k = np.flatnonzero(responded)
        lo = start[k] + (responded[k] - 1) // 2
        hi = start[k] + responded[k] // 2
        p50[k] = (resp_s[lo] + resp_s[hi]) / 2
    sw = result.ctx.switch
    eg, lat = sw.latencies()
    episodes = np.bincount(np.array(sw.ep_grid, dtype=np.int64), minlength=n)
    lat_sum = np.bincount(eg, weights=lat, minlength=n)
    lat_n = np.bincount(eg, minlength=n)
    open_h = result.peace.stock_end().sum(axis=0)
    stock = result.ctx.supply.ledger.stock
    responders = sc.roster.count_by_grid()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(responded > 0, within / responded, math.nan)
        lat_mean = np.where(lat_n > 0, lat_sum / lat_n, math.nan)
    # columns as plain Python values (no per-grid Python indexing)
    return [
        range(n),
        [h.county_names[c] for c in g.county.tolist()],
        [h.township_names[t] for t in g.township.tolist()],
        [h.village_names[v] for v in g.village.tolist()],
        [GRID_KINDS[k] for k in g.kind.tolist()],
        g.area_km2.tolist(), _ints(g.population), _ints(g.households),
        g.vulnerable_share.tolist(), g.x_m.tolist(), g.y_m.tolist(),
        _ints(responders), _ints(incs), _ints(responded), share.tolist(), p50.tolist(),
        _ints(episodes), lat_mean.tolist(), [MODES[m] for m in sw.mode.tolist()],
        _ints(open_h), *(_ints(col) for col in np.asarray(stock).T),
    ]
