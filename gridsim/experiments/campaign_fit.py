"""The e-bike campaign's calibration by the loop's steady state (docs/peacetime_calibration.md).

Without weather or warnings acting on them, e-bike fires of grid ``g`` arrive as a Poisson
process of rate ``r_g × m_g(t)``: ``r_g`` the catalogue's base rate (rate per e-bike × e-bikes ×
``hazard.rate_scale``) and ``m_g = 1 − s + s × open_g / open⁰_g`` the loop's multiplier, ``s``
the share of e-bike fires raised by indoor-charging sites (``peacetime.classes.ebike_indoor.
raises.ebike_fire``), ``open`` the open stock of class ``ebike_indoor`` and ``open⁰`` its
steady mean without a campaign (:meth:`gridsim.model.peace.PeaceModel.steady_open`). The loop
starts at its steady state under the campaign's first phase (``from_day`` null), so the
expected count over ``D`` days is exact from the steady means (the multiplier is linear in the
stock):

* without a campaign: ``F⁰ = D × Σ r_g`` (the multipliers average 1);
* with it: ``F = D × Σ r_g (1 − s + s ρ_g)``, ``ρ_g = open_g / open⁰_g`` under its levers; the
  indoor part ``I = D × s × Σ r_g ρ_g`` (those with ``cause`` ebike_indoor);
* e-bike hazards fixed: in the steady state the loop's outflow is its inflow, ``X = D × Σ λ'_g``
  with ``λ'`` the new indoor-charging sites a day under the levers (a little less: the cases
  still in the loop at the end, ``λ' × T_loop``, stand against those in it at the start).

:func:`ebike_steady` gives these for a composed run config; :func:`fit` inverts them for the
account's figures (:mod:`gridsim.experiments.campaign_report`'s targets): the e-bike rate by
``23 / F⁰``, the indoor share ``s`` from the split of the 3 fires with the campaign into outdoor
ones (``(1 − s) × 23``) and indoor ones (``I*``, from the zero indoor fire of January-June taken
as the median outcome: ``P(0 before day 181) = exp(−I* × 181 / D) = 1/2``), and the
door-knocking visit rate by bisection on a factor of its ``households_per_person_day`` (the
checks by building, 人车同屋排查 楼栋, cover more households a day than a door-to-door visit;
the campaign's cost, in person-days, is unchanged) until ``Σ r ρ / Σ r`` is what ``I*`` needs
(``I* / (23 s)``). The fit is then checked by simulation: the experiment's report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from gridsim.engine.hazards import catalogue_from_config
from gridsim.engine.simulation import build, peace_model
from gridsim.model.campaign import campaign_phases
from gridsim.model.params import RunConfig
from gridsim.model.rates import base_rates_per_day
from gridsim.model.vocab import HAZARD_CLASSES
from gridsim.place.scenario import Scenario

__all__ = ["EbikeSteady", "Fit", "ebike_steady", "fit", "indoor_target"]

_E = HAZARD_CLASSES.index("ebike_indoor")
HALF_YEAR_DAYS = 181.0  # 1 January - 30 June


@dataclass(frozen=True)
class EbikeSteady:
    """Expected e-bike figures over a run at the loop's steady state (module docstring)."""

    days: float
    share: float  # s: share of e-bike fires raised by indoor-charging sites
    fires_none: float  # F⁰
    fires: float  # F, under the run's campaign
    indoor: float  # I
    ratio: float  # Σ r ρ / Σ r: the open indoor stock under the campaign, fire-weighted
    fixed: float  # X: ebike_indoor hazards rectified over the run
    new_per_day: float  # Σ λ': new indoor-charging sites a day under the campaign
    open_none: float  # Σ open⁰: the stock without a campaign
    open_campaign: float  # Σ open under the campaign

    @property
    def indoor_half_year(self) -> float:
        return self.indoor * min(HALF_YEAR_DAYS, self.days) / self.days

    @property
    def p_zero_half_year(self) -> float:
        """P(no indoor fire before day 181) for a Poisson count (the loop's fluctuations make
        the count over-dispersed, so the simulated share is a little higher)."""
        return math.exp(-self.indoor_half_year)


def ebike_steady(settings: RunConfig, scenario: Scenario | None = None) -> EbikeSteady:
    """The steady-state expectations of ``settings`` (its campaign's first phase)."""
    scenario = scenario if scenario is not None else build(settings)
    catalogue = catalogue_from_config(settings.catalogue)
    model = peace_model(settings, scenario, catalogue)
    grids = scenario.region.grids
    h = catalogue.by_name("ebike_fire")
    r = base_rates_per_day(h.rate_per_unit_day, h.exposure, grids) * settings.hazard.rate_scale
    s = float(model.raises[h.index, _E])
    levers = campaign_phases(settings.campaign, grids, scenario.peacetime_roster)[0].levers
    base = model.baseline_open[_E]
    now = model.steady_open(levers)[_E]
    rho = np.divide(now, base, out=np.ones_like(now), where=base > 0)
    days = settings.duration_h / 24.0
    total = float(r.sum())
    ratio = float((r * rho).sum() / total) if total > 0 else math.nan
    new = float(model.new_rates(levers)[_E].sum())
    return EbikeSteady(days=days, share=s, fires_none=days * total,
                       fires=days * total * (1.0 - s + s * ratio),
                       indoor=days * total * s * ratio, ratio=ratio, fixed=days * new,
                       new_per_day=new, open_none=float(base.sum()),
                       open_campaign=float(now.sum()))


def indoor_target(days: float, p_zero: float = 0.5) -> float:
    """Indoor fires over ``days`` whose Poisson count before day 181 is 0 with ``p_zero``."""
    return -math.log(p_zero) * days / min(HALF_YEAR_DAYS, days)


@dataclass(frozen=True)
class Fit:
    """The fitted values and the steady state before and after (module docstring)."""

    rate_factor: float  # on the catalogue's e-bike fire rate: 23 / F⁰
    share: float  # s fitted
    visit_factor: float  # on door_knocking.households_per_person_day
    indoor_target: float  # I*
    ratio_target: float  # I* / (23 s)
    before: EbikeSteady
    after: EbikeSteady


def _with(settings: RunConfig, rate_factor: float, share: float, visit_factor: float
          ) -> RunConfig:
    """``settings`` with the three fitted values applied (frozen settings: replaced)."""
    cat = settings.catalogue
    ebike = cat.hazards["ebike_fire"]
    rates = {k: v * rate_factor for k, v in ebike.rate_per_unit_day.items()}
    hazards = {**cat.hazards, "ebike_fire": replace(ebike, rate_per_unit_day=rates)}
    pc = settings.peacetime
    cls = pc.classes["ebike_indoor"]
    classes = {**pc.classes, "ebike_indoor": replace(cls, raises={**cls.raises,
                                                                  "ebike_fire": share})}
    dk = settings.campaign.door_knocking
    return replace(settings, catalogue=replace(cat, hazards=hazards),
                   peacetime=replace(pc, classes=classes),
                   campaign=replace(settings.campaign, door_knocking=replace(
                       dk, households_per_person_day=dk.households_per_person_day * visit_factor)))


def fit(settings: RunConfig, fires_none: float = 23.0, fires: float = 3.0,
        p_zero: float = 0.5, max_households_per_person_day: float = 120.0) -> Fit:
    """Fit the e-bike rate, the indoor share and the door-knocking visits of ``settings`` (the
    2025 campaign's run config) to ``fires_none`` without and ``fires`` with the campaign, the
    indoor ones such that none comes before day 181 with probability ``p_zero``. The visits
    are bounded: at most ``max_households_per_person_day`` households checked a person-day
    ([assumed]: three buildings' stairwells of 40 households); at the bound the share alone is
    fitted to
    ``fires``, ``s = (1 − fires / fires_none) / (1 − ρ(k))`` (ρ does not depend on s or on
    the rate), and ``p_zero`` is what it comes to."""
    scenario = build(settings)
    max_visit_factor = (max_households_per_person_day
                        / settings.campaign.door_knocking.households_per_person_day)
    before = ebike_steady(settings, scenario)
    rate_factor = fires_none / before.fires_none
    target_in = indoor_target(before.days, p_zero)
    share = 1.0 - (fires - target_in) / fires_none
    ratio = target_in / (fires_none * share)

    def ratio_at(k: float) -> float:
        return ebike_steady(_with(settings, rate_factor, share, k), scenario).ratio

    lo, hi = 1.0, 1.0  # a bracket [lo, hi] with ratio(lo) > target >= ratio(hi)
    while ratio_at(hi) > ratio and hi < max_visit_factor:
        hi = min(hi * 2.0, max_visit_factor)
    while ratio_at(lo) <= ratio and lo > 1e-4:
        lo /= 2.0
    if ratio_at(hi) > ratio:  # not reached within the bound: the share alone at the bound
        k = max_visit_factor
        share = (1.0 - fires / fires_none) / (1.0 - ratio_at(k))
    else:
        for _ in range(40):  # bisection on log k: the ratio falls as the visits rise
            mid = math.sqrt(lo * hi)
            if ratio_at(mid) > ratio:
                lo = mid
            else:
                hi = mid
        k = math.sqrt(lo * hi)
    after = ebike_steady(_with(settings, rate_factor, share, k), scenario)
    return Fit(rate_factor=rate_factor, share=share, visit_factor=k, indoor_target=target_in,
               ratio_target=ratio, before=before, after=after)


def main() -> None:
    """``python -m gridsim.experiments.campaign_fit``: the fit of the committed config."""
    # imported here: the composition is the app layer's (Hydra), needed by this script alone
    from gridsim.app.hydra_app import compose_settings

    settings, _ = compose_settings(["scenario=suining_city", "hazard=suining_2025",
                                    "campaign=ebike_2025"])
    f = fit(settings)
    print(f"e-bike fire rate x {f.rate_factor:.4f}; indoor share {f.share:.4f}; door-knocking "
          f"households a person-day x {f.visit_factor:.3g}; I* {f.indoor_target:.3f}, "
          f"ratio wanted {f.ratio_target:.4f}")
    for name, e in (("before", f.before), ("after", f.after)):
        print(f"{name}: share {e.share:.4f}, fires without {e.fires_none:.2f}, with "
              f"{e.fires:.2f} (indoor {e.indoor:.2f}, P(none Jan-Jun) {e.p_zero_half_year:.3f}),"
              f" open ratio {e.ratio:.4f}, fixed {e.fixed:.1f}, stock {e.open_none:.1f} -> "
              f"{e.open_campaign:.1f}")


if __name__ == "__main__":
    main()
