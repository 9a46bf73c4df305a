"""Named random streams spawned from one root seed (and a replication number).

Every stochastic process in gridsim draws from its own :class:`numpy.random.Generator`, obtained
by name. A stream's seed depends only on the root seed and the stream's *name* (never on the
order in which streams are created), so two scenario variants that differ only in a response
setting draw the same incidents from the same streams: comparisons are paired (common random
numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams"]


def _name_key(name: str) -> tuple[int, ...]:
    """A stable spawn key for a stream name (CRC-32 of each '/'-separated part)."""
    return tuple(zlib.crc32(part.encode("utf-8")) for part in name.split("/"))


class Streams:
    """A factory of independent, reproducible random generators keyed by name.

    ``Streams(7).get("hazard/building_fire")`` always returns a generator in the same state for
    the same seed and name. Asking twice for one name returns the same generator object, so a
    process keeps drawing where it left off.
    """

    def __init__(self, root_seed: int, replication: int = 0) -> None:
        if root_seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {root_seed}")
        if replication < 0:
            raise ValueError(f"replication must be a non-negative integer, got {replication}")
        self.root_seed = int(root_seed)
        self.replication = int(replication)
        self._generators: dict[str, np.random.Generator] = {}

    @property
    def entropy(self) -> int | tuple[int, int]:
        """The entropy of every stream: the root seed, and the replication if it is not 0
        (replication 0 of an experiment is the plain run with the root seed)."""
        return self.root_seed if self.replication == 0 else (self.root_seed, self.replication)

    def seed_sequence(self, name: str) -> np.random.SeedSequence:
        """The seed sequence of stream ``name``."""
        return np.random.SeedSequence(entropy=self.entropy, spawn_key=_name_key(name))

    def get(self, name: str) -> np.random.Generator:
        """The generator of stream ``name`` (created on first use)."""
        gen = self._generators.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(self.seed_sequence(name)))
            self._generators[name] = gen
        return gen

    def fresh(self, name: str) -> np.random.Generator:
        """A new generator for ``name`` in its initial state (not shared with :meth:`get`)."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(name)))
