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

__all__ = ["Streams", "keyed_hash", "keyed_uniform", "keyed_uniforms", "stream_key"]


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: splitmix64's increment
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))
_GOLDEN_INT, _MASK = 0x9E3779B97F4A7C15, 0xFFFFFFFFFFFFFFFF
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def _mix(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (a bijection of uint64 with full avalanche); arrays wrap."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _mix_int(z: int) -> int:
    """:func:`_mix` of one Python integer (taken modulo 2**64)."""
    z &= _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _as_u64(a: np.ndarray | int) -> np.ndarray:
    """Integers as uint64 bit patterns, at least one dimension (negative ones wrap: -1 is
    2**64 - 1; arithmetic on such arrays wraps silently, where numpy scalars would warn)."""
    a = np.atleast_1d(np.asarray(a))
    if a.dtype.kind == "u":
        return a.astype(np.uint64)
    if a.dtype.kind not in "ib":
        raise TypeError(f"keyed ids must be integers, got {a.dtype}")
    return a.astype(np.int64).astype(np.uint64)


def keyed_hash(key: int, *ids: np.ndarray | int) -> np.ndarray:
    """A 64-bit hash of ``(key, ids...)``, element by element over the broadcast ``ids``.

    ``h = mix(key + golden)``, then for each id in turn ``h = mix(h + id * golden)``: for one
    id this is the splitmix64 generator's output at counter ``id`` from state ``h``, so
    neighbouring ids give unrelated hashes; the order of the ids matters. Pure: the same
    arguments give the same bits on every platform."""
    arrays = [_as_u64(a) for a in ids]
    shape = np.broadcast_shapes(*(np.shape(a) for a in ids))
    out = np.full((1,), _mix_int(key + _GOLDEN_INT), np.uint64)
    for a in arrays:
        out = _mix(out + a * _GOLDEN)
    return np.broadcast_to(out, shape or (1,)).reshape(shape)


def keyed_uniforms(key: int, *ids: np.ndarray | int) -> np.ndarray:
    """Uniforms in (0, 1), one for each element of the broadcast ``ids``, that depend only on
    ``key`` and the ids: not on how many draws came before or what else is drawn.

    ``key`` identifies the stream (take it once with :func:`stream_key`); the ids say what the
    draw is for, e.g. ``keyed_uniforms(k, incident, person, 0)``. The top 53 bits of
    :func:`keyed_hash`, centred in their interval: ``(m + 0.5) / 2**53``, never 0 or 1, so a
    distribution's quantile function is finite at every draw."""
    h = keyed_hash(key, *ids)
    return ((h >> _S11).astype(np.float64) + 0.5) * _TO_UNIT


def keyed_uniform(key: int, *ids: int) -> float:
    """:func:`keyed_uniforms` of scalar ids, in plain Python (a few microseconds: for one
    draw at a time, where array set-up would cost more than the arithmetic)."""
    h = _mix_int(key + _GOLDEN_INT)
    for a in ids:
        h = _mix_int(h + (a & _MASK) * _GOLDEN_INT)
    return ((h >> 11) + 0.5) * _TO_UNIT


def stream_key(rng: np.random.Generator) -> int:
    """The key of a stream for :func:`keyed_uniforms`: one 64-bit draw from ``rng``."""
    return int(rng.integers(0, 2**64, dtype=np.uint64))


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
