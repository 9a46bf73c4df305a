"""The 五预 levers (``five_pre``, :mod:`gridsim.model.five_pre`) mapped onto the model's keys.

:func:`apply_five_pre` is called once, at the Hydra boundary (:func:`gridsim.app.hydra_app.check`),
on the converted settings before their range check and freezing: what the engine, the place and
the outputs see are the model's own keys, already scaled. The settings keep the ``five_pre``
block itself only as a record (the summary's ``five_pre`` key); no code past the boundary reads
it. Neutral values leave every key as it is (the same object is returned), so a run with the
block at its defaults is the run without it, byte for byte.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from gridsim.model.five_pre import FivePreConfig, five_pre_errors
from gridsim.model.params import RunConfig
from gridsim.model.vocab import FIND_CHANNELS, LOOP_STAGES

__all__ = ["apply_five_pre"]


def _scaled_stock(grid_stock: dict[str, dict[str, int]], f: float) -> dict[str, dict[str, int]]:
    """Every item count × ``f``, rounded half up to whole units."""
    return {kind: {item: math.floor(v * f + 0.5) for item, v in items.items()}
            for kind, items in grid_stock.items()}


def _forecasting(s: RunConfig, fp: FivePreConfig) -> RunConfig:
    fc, wl = fp.forecasting, fp.warning
    if fc.lead_time_factor == 1.0 and fc.skill == 0.0 and wl.switch_level is None:
        return s
    hz = s.hazard
    fw = hz.weather.warnings
    f, keep = fc.lead_time_factor, 1.0 - fc.skill
    fw = dataclasses.replace(
        fw, lead_time_h=fw.lead_time_h * f,
        lead_time_by_level_h={lv: v * f for lv, v in fw.lead_time_by_level_h.items()},
        depth_error_sigma=fw.depth_error_sigma * keep,
        timing_error_sd_h=fw.timing_error_sd_h * keep,
        switch_level=fw.switch_level if wl.switch_level is None else wl.switch_level)
    return dataclasses.replace(s, hazard=dataclasses.replace(
        hz, weather=dataclasses.replace(hz.weather, warnings=fw)))


def _preparedness(s: RunConfig, fp: FivePreConfig, errors: list[str]) -> RunConfig:
    pp = fp.preparedness
    if pp.stock_factor != 1.0:
        sc = s.scenario
        if sc.generator == "files" and sc.path:
            # imported here: gridsim.place.folder pulls in numpy, scipy and pyproj (start-up)
            from gridsim.place.folder import generated_parts

            if "supply_points" not in generated_parts(Path(sc.path)):
                errors.append(
                    f"five_pre.preparedness.stock_factor: {pp.stock_factor:g} cannot scale the "
                    f"stock of scenario folder {sc.path}: its supply_points file gives the "
                    f"stock (scale that file, or apply a plan with five_pre.preparedness.plan)")
                return s
        s = dataclasses.replace(s, scenario=dataclasses.replace(
            sc, supplies=dataclasses.replace(
                sc.supplies, grid_stock=_scaled_stock(sc.supplies.grid_stock,
                                                      pp.stock_factor))))
    if pp.plan is not None:
        if s.plan is not None and str(s.plan) != str(pp.plan):
            errors.append(f"five_pre.preparedness.plan: {pp.plan!r} and plan={s.plan!r} both "
                          f"given: expected one of them")
            return s
        s = dataclasses.replace(s, plan=pp.plan)
    return s


def _drills(s: RunConfig, fp: FivePreConfig) -> RunConfig:
    if fp.drills.per_year is None:
        return s
    ev = s.evacuation
    return dataclasses.replace(s, evacuation=dataclasses.replace(
        ev, drills=dataclasses.replace(ev.drills, per_year=float(fp.drills.per_year))))


def _prevention(s: RunConfig, fp: FivePreConfig) -> RunConfig:
    """The standing levers of the peacetime loop against its reference
    (:mod:`gridsim.model.peace`): every ``peacetime.find_factor.<channel>`` × ``find_factor``
    (each channel's find rate, video AI's false positives with it) and every
    ``peacetime.capacity_factor.<stage>`` × ``capacity_factor`` (each 四单四办 stage's capacity).
    The reference keys (``peacetime.channels``, ``peacetime.loop``) stay as they are: they are
    the loop the incident rates are calibrated with, so the levers move the incident rates."""
    pv = fp.prevention
    if pv.find_factor == 1.0 and pv.capacity_factor == 1.0:
        return s
    pt = s.peacetime
    return dataclasses.replace(s, peacetime=dataclasses.replace(
        pt, find_factor=_times(pt.find_factor, FIND_CHANNELS, pv.find_factor),
        capacity_factor=_times(pt.capacity_factor, LOOP_STAGES, pv.capacity_factor)))


def _times(d: dict[str, float], keys: tuple[str, ...], f: float) -> dict[str, float]:
    """``d`` with every one of ``keys`` (1 where absent) × ``f``; other keys kept as they are
    (the range check names them)."""
    return {**d, **{k: d.get(k, 1.0) * f for k in keys}}


def apply_five_pre(settings: RunConfig) -> tuple[RunConfig, list[str]]:
    """``settings`` with its ``five_pre`` levers applied to the model's keys, and the
    problems of the block (``"five_pre.<key>: message"`` lines; with any, ``settings`` is
    returned as it is). Neutral levers return ``settings`` itself."""
    fp = settings.five_pre
    errors = five_pre_errors(fp)
    if errors:
        return settings, errors
    s = _forecasting(settings, fp)
    s = _prevention(s, fp)
    s = _preparedness(s, fp, errors)
    s = _drills(s, fp)
    return (settings, errors) if errors else (s, errors)
