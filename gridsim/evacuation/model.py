"""Who moves, when and where: households, the warning, pre-movement, helpers, shelters, drills.

**Who.** Each evacuated grid's residents in households (``population`` people in ``households``
households of at least one person, the rest spread at random). ``round(population ×
vulnerable_share)`` residents, drawn at random, are vulnerable (elderly, disabled): a household
with no able member (``helped_households: alone``; ``any``: with one at all) cannot leave alone and
waits for its helper, the grid member who covers it (党员包网联户;
the roles in ``helper_roles``, not the commanders and the grid leader, who run the post). The
grid's vulnerable households are split among its helpers at hand in sectors around the grid
centre; each helper leaves the post when the evacuation is ordered and at the post, visits its
households nearest first, gets each one ready (``help_time``) and escorts it to the grid's exit
(at the vulnerable walking speed), then goes on to the next from there. The on-site commander
(明白人) knows where the vulnerable live; in a grid with no commander at hand, each visit first
needs ``search_time``. A grid with no helper at hand gets ``fallback_helpers`` responders after
``fallback_delay``.

**When.** The warning reaches a household through each channel that reaches it (``reach``)
after the channel's start (the warning's start, or the grid's forward command post being ready)
plus the channel's ``delay``; the first one counts. The household leaves home a pre-movement
time later, drawn from ``premovement_day`` or ``premovement_night`` (by the hour the warning is
heard) and multiplied by the drill curve. It then walks (or drives) from its home, uniform in a
square of the grid's area, to the grid's exit (Manhattan distance × ``access_detour``).

**Drills.** A grid that drills ``d`` times a year has its pre-movement times and its switch
delays multiplied by ``m(d) = floor + (1 − floor)·exp(−d / scale_per_year)`` (a separate
``floor`` for each); ``m(0) = 1``, so the configured delays are those of a grid that never
drills, and the gain of more drills levels off towards ``floor``. With the defaults
(``scale_per_year = 2``) pre-movement is × 0.80 at 1 drill a year and × 0.57 at 4.

**Where.** To the assigned shelter (``nearest`` by walking time from the grid's exit, or
``planned``: nearest with planned room left, grids nearest to a shelter first); a full shelter
sends newcomers on to the next (:mod:`gridsim.evacuation.flow`). Synthetic scenarios get
shelters placed per township: ``ceil(capacity_share × township residents /
persons_per_shelter)`` sites at population-weighted k-means centres (a seeded stream of the
scenario's own seed, so they do not move between runs), each with room for ``capacity_share``
× the residents of its cluster.

**How.** Along the road graph: :mod:`gridsim.evacuation.network` and
:mod:`gridsim.evacuation.flow`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridsim.evacuation.flow import Closure, Groups, ShelterSites, move
from gridsim.evacuation.network import DRIVE, WALK, EvacNetwork, scenario_network
from gridsim.evacuation.results import EvacuationResult, HelperTable, HouseholdTable
from gridsim.model.params import EvacuationConfig, ResponseConfig, ShelterConfig
from gridsim.model.people import role_bit
from gridsim.model.streams import Streams
from gridsim.model.vocab import GRID_KINDS, ROLES
from gridsim.place.scenario import Scenario
from gridsim.place.shelters import Shelters
from gridsim.place.synthetic import kmeans_sites

__all__ = [
    "Shelters",
    "SwitchTimes",
    "assign_shelters",
    "drill_multiplier",
    "evacuate",
    "leading_roles",
    "place_shelters",
    "road_closures",
    "simulate_switch",
]


def drill_multiplier(drills_per_year: float | np.ndarray, floor: float, scale_per_year: float
                     ) -> np.ndarray:
    """The drill curve ``m(d) = floor + (1 - floor) * exp(-d / scale_per_year)``: the factor on
    the delays of a grid that drills ``d`` times a year (1 at ``d = 0``, towards ``floor``)."""
    d = np.asarray(drills_per_year, dtype=float)
    return floor + (1.0 - floor) * np.exp(-d / scale_per_year)


# ----------------------------------------------------------------------------------------------
# shelters
# ----------------------------------------------------------------------------------------------
def place_shelters(scenario: Scenario, grids: np.ndarray, cfg: ShelterConfig,
                   scenario_seed: int) -> Shelters:
    """Shelters for the townships of ``grids`` (see the module docstring), deterministic for
    the scenario: a stream ``shelters/<township>`` of the scenario's own seed."""

    g = scenario.region.grids
    towns = np.unique(g.township[np.asarray(grids, dtype=np.int64)])
    streams = Streams(scenario_seed)
    node, grid, cap, name = [], [], [], []
    names = scenario.region.hierarchy.township_names
    for t in towns.tolist():
        ids = np.flatnonzero(g.township == t)
        pop = g.population[ids].astype(float)
        total = float(pop.sum())
        if total <= 0:
            continue
        k = max(1, math.ceil(cfg.capacity_share * total / cfg.persons_per_shelter))
        labels = kmeans_sites(g.x_m[ids], g.y_m[ids], pop, k, streams.get(f"shelters/{t}"),
                              iters=8)
        for lab in range(int(labels.max()) + 1):
            members = ids[labels == lab]
            w = g.population[members].astype(float)
            if w.sum() <= 0:
                continue
            cx, cy = np.average(g.x_m[members], weights=w), np.average(g.y_m[members], weights=w)
            site = int(members[np.argmin(np.hypot(g.x_m[members] - cx, g.y_m[members] - cy))])
            grid.append(site)
            node.append(int(scenario.roads.grid_node[site]))
            cap.append(math.ceil(cfg.capacity_share * float(w.sum())))
            name.append(f"{names[t]}-S{lab + 1}")
    grid_a = np.array(grid, np.int64)
    return Shelters(name=tuple(name), capacity=np.array(cap, np.int64), grid=grid_a,
                    node=np.array(node, np.int64), x_m=g.x_m[grid_a], y_m=g.y_m[grid_a])


def assign_shelters(times_s: np.ndarray, population: np.ndarray, capacity: np.ndarray,
                    rule: str) -> np.ndarray:
    """The shelter assigned to each origin: ``times_s[s, i]`` is the travel time from origin
    ``i`` to shelter ``s``. ``nearest``: the nearest shelter; ``planned``: origins nearest to
    any shelter first, each to the nearest shelter with planned room for its ``population``
    (the nearest one if none has)."""
    if times_s.shape[0] == 0:
        raise ValueError("no shelters to assign")
    nearest = np.argmin(times_s, axis=0)
    if rule == "nearest":
        return nearest
    if rule != "planned":
        raise ValueError(f"unknown shelter assignment {rule!r}; expected 'nearest' or 'planned'")
    left = np.asarray(capacity, dtype=float).copy()
    out = nearest.copy()
    for i in np.argsort(times_s.min(axis=0), kind="stable").tolist():
        order = np.argsort(times_s[:, i], kind="stable")
        fits = order[left[order] >= population[i]]
        if len(fits) and np.isfinite(times_s[fits[0], i]):
            out[i] = fits[0]
        left[out[i]] -= population[i]
    return out


def road_closures(network: EvacNetwork, scenario: Scenario,
                  items: Sequence[tuple[float, int, int, str]]) -> list[Closure]:
    """Closures of the roads between pairs of grids: ``(time_s, grid_a, grid_b, reason)``.
    Raises ``ValueError`` when two grids have no road between them."""
    out = []
    for t, a, b, reason in items:
        na, nb = int(scenario.roads.grid_node[a]), int(scenario.roads.grid_node[b])
        links = network.links_between(na, nb)
        links = links[network.kind[links] == 0]
        if len(links) == 0:
            raise ValueError(f"no road between grid {a} and grid {b}")
        out.append(Closure(time_s=float(t), links=tuple(int(x) for x in links), reason=reason))
    return out


# ----------------------------------------------------------------------------------------------
# the switch: when each grid's post is ready and its members are there
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SwitchTimes:
    """When each evacuated grid's forward command post was ready (NaN: never), and when each
    person of the roster reached the post (inf: not coming), as a run's switch recorded them."""

    grid_ready_s: np.ndarray  # per evacuated grid, in the order of ``grids``
    member_ready_s: np.ndarray  # per roster person

    @staticmethod
    def at(start_s: float, n_grids: int, n_people: int) -> SwitchTimes:
        """Everybody at the post at ``start_s`` (the grids already in forward command)."""
        return SwitchTimes(np.full(n_grids, start_s), np.full(n_people, start_s))


def simulate_switch(scenario: Scenario, grids: np.ndarray, response: ResponseConfig,
                    rng: np.random.Generator, start_s: float,
                    delay_factor: np.ndarray | None = None) -> SwitchTimes:
    """Switch ``grids`` to forward command at ``start_s`` with the run's own switch
    (:class:`gridsim.engine.switch.ModeSwitch`, nobody busy) and record its times (standalone
    use)."""
    import simpy  # standalone use only: a run passes its own environment

    # standalone use only (engine objects for an evacuation on its own)
    from gridsim.engine.recorder import EventLog

    # standalone use only (engine objects for an evacuation on its own)
    from gridsim.engine.switch import ModeSwitch

    env = simpy.Environment(initial_time=start_s)
    busy = np.zeros(scenario.roster.n, dtype=bool)
    sw = ModeSwitch(env, scenario.region, scenario.roster, response.switch, response.dispatch,
                    rng, EventLog(enabled=False), busy)
    if delay_factor is not None:
        sw.delay_factor = np.asarray(delay_factor, dtype=float)
    grids = np.asarray(grids, dtype=np.int64)
    sw.hold(grids, "evacuation")
    episodes = sw.episode[grids].copy()
    members = sw.assembled_at.copy()
    env.run()
    ready = np.array(sw.ep_ready_s, dtype=float)[episodes]
    return SwitchTimes(grid_ready_s=ready, member_ready_s=members)


def leading_roles(roles: np.ndarray) -> np.ndarray:
    """Each person's leading role as an index into :data:`gridsim.model.vocab.ROLES` (commander,
    then grid leader, then grid worker, then party member)."""
    out = np.full(len(roles), -1, dtype=np.int64)
    for role in ("party_member", "grid_worker", "grid_leader", "commander"):
        out[(roles & role_bit(role)) != 0] = ROLES.index(role)
    return out


# ----------------------------------------------------------------------------------------------
# the evacuation
# ----------------------------------------------------------------------------------------------
def _households(scenario: Scenario, grids: np.ndarray, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grid_pos, persons, vulnerable)`` per household of ``grids`` (grid_pos indexes
    ``grids``), households of a grid contiguous."""
    g = scenario.region.grids
    pop = g.population[grids].astype(np.int64)
    hh = np.minimum(np.maximum(g.households[grids].astype(np.int64), (pop > 0).astype(np.int64)),
                    pop)
    n_hh = int(hh.sum())
    offset = np.concatenate([[0], np.cumsum(hh)[:-1]])
    extra = pop - hh
    grid_of_extra = np.repeat(np.arange(len(grids)), extra)
    pick = offset[grid_of_extra] + np.floor(rng.random(len(grid_of_extra))
                                            * hh[grid_of_extra]).astype(np.int64)
    persons = 1 + np.bincount(pick, minlength=n_hh)
    grid_pos = np.repeat(np.arange(len(grids)), hh)
    # vulnerable residents: round(pop × share) people of the grid at random
    n_vul = np.rint(pop * g.vulnerable_share[grids]).astype(np.int64)
    person_hh = np.repeat(np.arange(n_hh), persons)
    person_grid = grid_pos[person_hh]
    key = rng.random(len(person_hh))
    order = np.lexsort((key, person_grid))
    start = np.concatenate([[0], np.cumsum(pop)[:-1]])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(start, pop)
    vul_person = rank < n_vul[person_grid]
    vulnerable = np.bincount(person_hh[vul_person], minlength=n_hh)
    return grid_pos, persons, vulnerable


def evacuate(scenario: Scenario, grids: np.ndarray | Sequence[int], settings: EvacuationConfig,
             streams: Streams, *, start_s: float = 0.0, switch: SwitchTimes | None = None,
             response: ResponseConfig | None = None, shelters: Shelters | None = None,
             network: EvacNetwork | None = None, closures: Sequence[Closure] = (),
             drills_per_year: float | np.ndarray | None = None, scenario_seed: int = 0,
             stream_prefix: str = "evacuation", trace: bool = False) -> EvacuationResult:
    """Evacuate ``grids`` of ``scenario`` after a warning at ``start_s`` (see the module
    docstring); returns every household's times, shelters, helpers, links and the curve.

    The switch: ``switch`` (times a run recorded), else ``response`` (simulated here with the
    run's switch, its delays × the drill curve), else every grid already in forward command
    with its members at the post at ``start_s``. ``shelters`` default to synthetic placement
    (:func:`place_shelters`, seeded by ``scenario_seed``); ``network`` to
    :func:`~gridsim.evacuation.network.scenario_network`; ``drills_per_year`` (a number or
    one per grid of ``grids``) to ``settings.drills.per_year``. Random numbers come from the
    streams ``<stream_prefix>/…`` of ``streams``.
    """
    grids = np.unique(np.asarray(grids, dtype=np.int64))
    k = len(grids)
    g = scenario.region.grids
    roster = scenario.roster
    rng_hh = streams.get(f"{stream_prefix}/households")
    rng_warn = streams.get(f"{stream_prefix}/warning")
    rng_help = streams.get(f"{stream_prefix}/helpers")
    dc = settings.drills
    drills = np.broadcast_to(np.asarray(dc.per_year if drills_per_year is None
                                        else drills_per_year, dtype=float), (k,)).copy()
    m_pre = drill_multiplier(drills, dc.premovement_floor, dc.scale_per_year)
    m_sw = drill_multiplier(drills, dc.switch_floor, dc.scale_per_year)
    if switch is None:
        if response is not None:
            factor = np.ones(g.n)
            factor[grids] = m_sw
            switch = simulate_switch(scenario, grids, response,
                                     streams.get(f"{stream_prefix}/switch"), start_s, factor)
        else:
            switch = SwitchTimes.at(start_s, k, roster.n)
    if len(switch.grid_ready_s) != k:
        raise ValueError(f"switch.grid_ready_s has {len(switch.grid_ready_s)} entries, "
                         f"expected one per evacuated grid ({k})")
    if network is None:
        network = scenario_network(scenario.roads, g, grids, settings)
    home_of = {int(gr): int(nd) for gr, nd in zip(network.home_grid, network.home_node,
                                                  strict=True)}
    missing = [int(x) for x in grids if int(x) not in home_of]
    if missing:
        raise ValueError(f"the network has no home node for grids {missing[:5]}")
    home = np.array([home_of[int(x)] for x in grids], dtype=np.int64)
    if shelters is None:
        shelters = place_shelters(scenario, grids, settings.shelters, scenario_seed)
    if shelters.n == 0:
        raise ValueError("no shelters for the evacuation")

    # who: households, vulnerable members, where they live, how they travel
    grid_pos, persons, vulnerable = _households(scenario, grids, rng_hh)
    n_hh = len(persons)
    gid = grids[grid_pos]
    side = g.side_m()[gid]
    u = rng_hh.random((n_hh, 3))
    hx = g.x_m[gid] + (u[:, 0] - 0.5) * side
    hy = g.y_m[gid] + (u[:, 1] - 0.5) * side
    access_m = (np.abs(hx - g.x_m[gid]) + np.abs(hy - g.y_m[gid])) * settings.access_detour
    share = np.array([settings.drive_share.get(name, 0.0) for name in GRID_KINDS])
    mode = np.where(u[:, 2] < share[g.kind[gid]], DRIVE, WALK).astype(np.int64)
    vul = vulnerable > 0
    speed_factor = np.where(vul & (mode == WALK), settings.vulnerable_speed_factor, 1.0)
    needs_help = vulnerable >= persons if settings.helped_households == "alone" else vul

    # when: the warning through its channels, then pre-movement
    ready_grid = np.asarray(switch.grid_ready_s, dtype=float)
    channels = sorted(settings.channels)
    warned = np.full(n_hh, np.inf)
    warned_by = np.full(n_hh, -1, dtype=np.int64)
    for ci, name in enumerate(channels):
        ch = settings.channels[name]
        uc = rng_warn.random((n_hh, 2))
        base = (np.full(n_hh, start_s) if ch.starts_at == "warning"  # the post no earlier
                else np.where(np.isfinite(ready_grid), np.maximum(ready_grid, start_s),
                              np.inf)[grid_pos])
        t = np.where(uc[:, 0] < ch.reach, base + ch.delay.ppf_array(uc[:, 1]), np.inf)
        better = t < warned
        warned[better] = t[better]
        warned_by[better] = ci
    u_pre = rng_warn.random(n_hh)
    h0, h1 = settings.night_hours
    hour = (np.where(np.isfinite(warned), warned, 0.0) / 3600.0) % 24.0
    night = (hour >= h0) | (hour < h1) if h0 > h1 else (hour >= h0) & (hour < h1)
    pre = np.where(night, settings.premovement_night.ppf_array(u_pre),
                   settings.premovement_day.ppf_array(u_pre)) * m_pre[grid_pos]
    depart = warned + pre
    helper_of = np.full(n_hh, -1, dtype=np.int64)

    # vulnerable households wait for their helper
    helpers = _help(scenario, grids, grid_pos, needs_help, hx, hy, mode, access_m, switch, settings,
                    rng_help, start_s, depart, helper_of)

    walk_v = settings.walk_speed_mps * speed_factor
    access_s = np.where(mode == WALK, access_m / walk_v, access_m / settings.drive_access_speed_mps)
    ready = depart + access_s

    # where: shelters
    t_walk = network.times_to(shelters.node, WALK)[:, home]
    pop_g = g.population[grids].astype(float)
    assigned_grid = assign_shelters(t_walk, pop_g, shelters.capacity, settings.shelters.assignment)
    assigned = assigned_grid[grid_pos]

    groups = Groups(persons=persons, mode=mode, origin=home[grid_pos], depart_s=depart,
                    ready_s=ready, speed_factor=speed_factor, shelter=assigned)
    horizon_s = start_s + settings.horizon_h * 3600.0
    record = move(network, groups, ShelterSites(node=shelters.node, capacity=shelters.capacity),
                  closures, horizon_s=horizon_s, trace=trace)
    table = HouseholdTable(grid=gid, persons=persons, vulnerable=vulnerable, mode=mode,
                           warned_s=warned, warned_by=warned_by, depart_s=depart, ready_s=ready,
                           sheltered_s=record.sheltered_s, assigned_shelter=assigned,
                           shelter=record.shelter, redirected=record.redirected,
                           stranded=record.stranded, wait_s=record.wait_s, helper=helper_of)
    return EvacuationResult(
        start_s=float(start_s), deadline_s=float(start_s + settings.deadline_h * 3600.0),
        horizon_s=horizon_s, grids=grids, grid_ready_s=ready_grid, drills_per_year=drills,
        channels=tuple(channels), households=table, helpers=helpers, shelters=shelters,
        network=network, flow=record, closures=tuple(closures))


def _help(scenario: Scenario, grids: np.ndarray, grid_pos: np.ndarray, vul: np.ndarray,
          hx: np.ndarray, hy: np.ndarray, mode: np.ndarray, access_m: np.ndarray,
          switch: SwitchTimes, cfg: EvacuationConfig, rng: np.random.Generator, start_s: float,
          depart: np.ndarray, helper_of: np.ndarray) -> HelperTable:
    """Schedule the helpers of the vulnerable households: sets their ``depart`` (when the
    helper has them ready) and ``helper_of``; returns every helper's workload."""
    g = scenario.region.grids
    roster = scenario.roster
    lead = leading_roles(roster.roles)
    helper_role = np.isin(lead, [ROLES.index(r) for r in cfg.helper_roles])
    is_cmd = lead == ROLES.index("commander")
    at_hand = np.isfinite(switch.member_ready_s)
    vul_ids = np.flatnonzero(vul)
    n_v = len(vul_ids)
    u_help = cfg.help_time.ppf_array(rng.random(n_v))
    u_search = cfg.search_time.ppf_array(rng.random(n_v))
    u_fallback = rng.random(len(grids))
    draw = dict(zip(vul_ids.tolist(), range(n_v), strict=True))
    h_person: list[int] = []
    h_grid: list[int] = []
    h_count: list[int] = []
    h_start: list[float] = []
    h_end: list[float] = []
    by_grid = np.split(vul_ids, np.searchsorted(grid_pos[vul_ids], np.arange(1, len(grids))))
    for pos, ids in enumerate(by_grid):
        if len(ids) == 0:
            continue
        gr = int(grids[pos])
        cx, cy = float(g.x_m[gr]), float(g.y_m[gr])
        ready = switch.grid_ready_s[pos]
        order_s = max(float(ready), start_s) if np.isfinite(ready) else start_s
        people = np.arange(roster.by_grid_indptr[gr], roster.by_grid_indptr[gr + 1])
        knows = bool(np.any(is_cmd[people] & at_hand[people]))
        mine = people[helper_role[people] & at_hand[people]]
        if len(mine):
            starts = np.maximum(switch.member_ready_s[mine], order_s)
            who = mine
        else:  # responders from outside
            n_fb = max(1, cfg.fallback_helpers)
            starts = np.full(n_fb, start_s + cfg.fallback_delay.ppf(float(u_fallback[pos])))
            who = np.full(n_fb, -1, dtype=np.int64)
        # sectors around the centre, split among the helpers
        ang = np.arctan2(hy[ids] - cy, hx[ids] - cx)
        chunks = np.array_split(ids[np.argsort(ang, kind="stable")], len(who))
        for j, chunk in enumerate(chunks):
            if len(chunk) == 0:
                continue
            t = float(starts[j])
            px, py = cx, cy
            near = chunk[np.argsort(np.abs(hx[chunk] - cx) + np.abs(hy[chunk] - cy),
                                    kind="stable")]
            for h in near.tolist():
                d = (abs(hx[h] - px) + abs(hy[h] - py)) * cfg.access_detour
                t += d / cfg.helper_speed_mps
                i = draw[h]
                if not knows:
                    t += float(u_search[i])
                t += float(u_help[i])
                depart[h] = t
                helper_of[h] = len(h_person)
                speed = (cfg.walk_speed_mps * cfg.vulnerable_speed_factor if mode[h] == WALK
                         else cfg.drive_access_speed_mps)
                t += float(access_m[h]) / speed  # escorted to the grid's exit
                px, py = cx, cy
            h_person.append(int(who[j]))
            h_grid.append(gr)
            h_count.append(len(chunk))
            h_start.append(float(starts[j]))
            h_end.append(t)
    return HelperTable(person=np.array(h_person, np.int64), grid=np.array(h_grid, np.int64),
                       households=np.array(h_count, np.int64),
                       start_s=np.array(h_start, float), end_s=np.array(h_end, float))
