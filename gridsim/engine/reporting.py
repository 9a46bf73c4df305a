"""Information reporting (信息上报) up the chain grid → village → township → county.

The initial report (初报) passes three hops, each with its own delay (shorter when the grid is in
forward command: its information officer reports at once). It is on time if it reaches the
county within the limit for the incident's grade, counted from the moment the grid learned of
the incident. Limits are config with their source named (Henan 2021 by default, docs/domain.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.model.params import ReportingConfig
from gridsim.model.vocab import GRADES, HOPS

__all__ = ["Report", "initial_report"]


@dataclass(frozen=True)
class Report:
    """When the initial report reached each level, and whether it met its limit."""

    hop_arrival_s: tuple[float, ...]  # village, township, county
    limit_s: float
    on_time: bool

    @property
    def county_s(self) -> float:
        return self.hop_arrival_s[-1]


def initial_report(notified_s: float, grade: int, forward: bool, uniforms: np.ndarray,
                   cfg: ReportingConfig) -> Report:
    """The initial report of an incident of ``grade`` (index into GRADES) that the grid learned
    of at ``notified_s``; ``uniforms`` holds one uniform per hop."""
    factor = cfg.forward_factor if forward else 1.0
    t = notified_s
    arrivals = []
    for hop, u in zip(HOPS, uniforms, strict=True):
        t += cfg.hop_delay_peace[hop].ppf(float(u)) * factor
        arrivals.append(t)
    limit = float(cfg.limits_s[GRADES[grade]])
    return Report(hop_arrival_s=tuple(arrivals), limit_s=limit,
                  on_time=(t - notified_s) <= limit)
