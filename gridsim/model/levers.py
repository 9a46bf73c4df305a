"""What a peacetime campaign changes in the hazard loop: the levers, per hazard class and grid.

A campaign (``campaign=...``, :mod:`gridsim.model.campaign`) acts on the peacetime loop
(:mod:`gridsim.engine.peacetime`) only through these numbers, each the mechanism of a measure:

* ``new_factor[c, g]``: a factor on the rate at which new hazards of class ``c`` appear in grid
  ``g`` (charging ports give e-bikes a lawful place to charge; blocking systems at lift doors
  keep them out of the buildings);
* ``find_extra_per_day[c, g]``: an extra find rate of each unfound hazard of class ``c`` in grid
  ``g``, per day (a door-knocking campaign, a targeted inspection drive);
* ``channel_factor[k]``: a factor on the find rate of channel ``k`` of
  :data:`gridsim.model.vocab.FIND_CHANNELS` (more video feeds: both their finds and their false
  positives);
* ``remove_share[c, g]``: the share of the open hazards of class ``c`` in grid ``g`` that the
  phase removes when it starts (a blocking system bars the bikes already parked upstairs);
* ``server_factor[s]``: a factor on the capacity of stage ``s`` of
  :data:`gridsim.model.vocab.LOOP_STAGES` in every pool (more committee members filing, more
  party members taking cases): :meth:`gridsim.model.peace.PeaceModel.stage_servers` turns the
  pool's ``c`` servers into ``c × f`` rounded toward ``c`` (at least 1), each working at the
  speed that makes the pool's capacity exactly ``c × f``.

The neutral levers (:meth:`Levers.neutral`) change nothing: ``campaign=none``. A campaign is a
list of :class:`LeverPhase`: the levers in force from a day of the run on (``None``: already in
place when the run starts, so the run starts from the loop's steady state under them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridsim.model.vocab import FIND_CHANNELS, HAZARD_CLASSES, LOOP_STAGES

__all__ = ["LeverPhase", "Levers"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Levers:
    """The loop's levers over ``len(HAZARD_CLASSES)`` classes × ``n`` grids."""

    new_factor: np.ndarray  # (C, G), >= 0
    find_extra_per_day: np.ndarray  # (C, G), >= 0
    remove_share: np.ndarray  # (C, G), in [0, 1]
    channel_factor: dict[str, float] = field(default_factory=dict)  # FIND_CHANNELS -> >= 0
    server_factor: dict[str, float] = field(default_factory=dict)  # LOOP_STAGES -> > 0

    def __post_init__(self) -> None:
        shape = self.new_factor.shape
        for name in ("new_factor", "find_extra_per_day", "remove_share"):
            a = _readonly(getattr(self, name))
            if a.shape != shape or a.ndim != 2 or a.shape[0] != len(HAZARD_CLASSES):
                raise ValueError(f"Levers.{name}: expected shape ({len(HAZARD_CLASSES)}, n), "
                                 f"got {a.shape}")
            object.__setattr__(self, name, a)
        unknown = set(self.channel_factor) - set(FIND_CHANNELS)
        if unknown:
            raise ValueError(f"Levers.channel_factor: unknown channels {sorted(unknown)}; "
                             f"expected {', '.join(FIND_CHANNELS)}")
        object.__setattr__(self, "channel_factor",
                           {k: float(self.channel_factor.get(k, 1.0)) for k in FIND_CHANNELS})
        unknown = set(self.server_factor) - set(LOOP_STAGES)
        if unknown:
            raise ValueError(f"Levers.server_factor: unknown stages {sorted(unknown)}; "
                             f"expected {', '.join(LOOP_STAGES)}")
        bad = {k: v for k, v in self.server_factor.items() if not float(v) > 0}
        if bad:
            raise ValueError(f"Levers.server_factor: must be > 0, got {bad}")
        object.__setattr__(self, "server_factor",
                           {k: float(self.server_factor.get(k, 1.0)) for k in LOOP_STAGES})

    @staticmethod
    def neutral(n_grids: int) -> Levers:
        """Levers that change nothing (``campaign=none``)."""
        c = len(HAZARD_CLASSES)
        return Levers(new_factor=np.ones((c, n_grids)),
                      find_extra_per_day=np.zeros((c, n_grids)),
                      remove_share=np.zeros((c, n_grids)))

    @property
    def n_grids(self) -> int:
        return int(self.new_factor.shape[1])

    def is_neutral(self) -> bool:
        return (bool(np.all(self.new_factor == 1.0)) and not self.find_extra_per_day.any()
                and not self.remove_share.any()
                and all(v == 1.0 for v in self.channel_factor.values())
                and all(v == 1.0 for v in self.server_factor.values()))

    def combined(self, other: Levers) -> Levers:
        """Both sets of measures at once: factors multiply, extra find rates add, removals
        compound (what the first leaves, the second removes its share of)."""
        return Levers(
            new_factor=self.new_factor * other.new_factor,
            find_extra_per_day=self.find_extra_per_day + other.find_extra_per_day,
            remove_share=1.0 - (1.0 - self.remove_share) * (1.0 - other.remove_share),
            channel_factor={k: self.channel_factor[k] * other.channel_factor[k]
                            for k in FIND_CHANNELS},
            server_factor={k: self.server_factor[k] * other.server_factor[k]
                           for k in LOOP_STAGES})


@dataclass(frozen=True)
class LeverPhase:
    """The levers in force from ``from_day`` (days after the run's start) on; ``None``: in
    place before the run starts (the run starts from the steady state under them)."""

    from_day: float | None
    levers: Levers
