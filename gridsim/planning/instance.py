"""A site-model instance: demand points, candidate sites and their travel times, as sparse pairs.

An :class:`Instance` holds, for every demand point, the candidate sites within ``radius_s`` of
road travel time, as CSR rows (``indptr``, ``cand``, ``time_s``), each row sorted by time (ties
by candidate index). There is never a dense demand × candidate table: memory and the solvers'
work grow with the number of pairs, which at a fixed radius grows linearly with the city.

:meth:`Instance.from_pairs` builds one from loose pairs (as read from ``instance/travel.csv`` or
built from a scenario): it checks every field and raises :class:`~gridsim.errors.UserError`
naming the field and the first bad entries.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridsim.errors import UserError

__all__ = ["Instance"]

#: How many bad entries an error message names.
SHOWN = 10


def _named(what: str, ids: Sequence[object], count: int | None = None) -> str:
    """``what`` followed by the first :data:`SHOWN` of ``ids`` and their count."""
    n = len(ids) if count is None else count
    shown = ", ".join(str(i) for i in list(ids)[:SHOWN])
    more = f" and {n - SHOWN} more" if n > SHOWN else ""
    return f"{what} ({n}): {shown}{more}"


def _float_array(name: str, value: object, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UserError(f"instance: {name} must be numbers", hint=str(exc)) from None
    if arr.shape != shape:
        raise UserError(f"instance: {name} has shape {arr.shape}, expected {shape}")
    ok = np.isfinite(arr).reshape(shape[0], -1).all(axis=1) if shape[0] else np.ones(0, bool)
    bad = np.flatnonzero(~ok)
    if len(bad):
        raise UserError(_named(f"instance: {name} is not finite at rows", list(bad)))
    return arr


def _int_array(name: str, value: object, n: int, upper: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != (n,):
        raise UserError(f"instance: {name} has shape {arr.shape}, expected ({n},)")
    if n and not np.issubdtype(arr.dtype, np.integer):
        raise UserError(f"instance: {name} must be integers, not {arr.dtype}")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < 0) | (arr >= upper))
    if len(bad):
        raise UserError(_named(f"instance: {name} outside 0..{upper - 1} at pairs", list(bad)))
    return arr


def _ids(name: str, value: Sequence[object]) -> tuple[str, ...]:
    ids = tuple(str(v) for v in value)
    if len(set(ids)) != len(ids):
        dup = sorted(i for i, k in Counter(ids).items() if k > 1)
        raise UserError(_named(f"instance: duplicate {name}", dup))
    empty = [k for k, i in enumerate(ids) if i.strip() == ""]
    if empty:
        raise UserError(_named(f"instance: empty {name} at rows", empty))
    return ids


@dataclass(frozen=True, eq=False)
class Instance:
    """Demand points, candidate sites and the travel time of every pair within ``radius_s``.

    ``indptr`` (``n_demand + 1``) delimits the row of each demand point in ``cand`` (candidate
    indices) and ``time_s`` (travel time from the candidate to the demand point, seconds); each
    row is sorted by time, ties by candidate index, with one entry per candidate. Every pair
    within ``radius_s`` is present, so a model with a radius up to ``radius_s`` sees all its
    coverage; ``radius_s`` may be ``inf`` (all pairs present)."""

    demand_ids: tuple[str, ...]
    weight: np.ndarray
    demand_xy: np.ndarray
    candidate_ids: tuple[str, ...]
    candidate_xy: np.ndarray
    cost: np.ndarray
    indptr: np.ndarray
    cand: np.ndarray
    time_s: np.ndarray
    radius_s: float

    def __post_init__(self) -> None:
        n, m = len(self.demand_ids), len(self.candidate_ids)
        ip = self.indptr
        if ip.shape != (n + 1,) or ip[0] != 0 or np.any(np.diff(ip) < 0):
            raise UserError("instance: indptr is not a CSR index of the demand rows")
        nnz = int(ip[-1])
        if self.cand.shape != (nnz,) or self.time_s.shape != (nnz,):
            raise UserError("instance: cand and time_s must have indptr[-1] entries")
        if nnz and (self.cand.min() < 0 or self.cand.max() >= m):
            raise UserError("instance: cand holds indices outside the candidates")
        for arr in (self.weight, self.demand_xy, self.candidate_xy, self.cost, self.indptr,
                    self.cand, self.time_s):
            arr.flags.writeable = False

    @property
    def n_demand(self) -> int:
        return len(self.demand_ids)

    @property
    def n_candidates(self) -> int:
        return len(self.candidate_ids)

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def rows(self) -> np.ndarray:
        """The demand index of each pair (``int64 [nnz]``)."""
        return np.repeat(np.arange(self.n_demand, dtype=np.int64), np.diff(self.indptr))

    @classmethod
    def from_pairs(cls, *, demand_ids: Sequence[object], weight: object, demand_xy: object,
                   candidate_ids: Sequence[object], candidate_xy: object, cost: object,
                   demand_index: object, candidate_index: object, time_s: object,
                   radius_s: float) -> Instance:
        """An instance from loose pairs ``(demand_index[k], candidate_index[k], time_s[k])``.

        Pairs beyond ``radius_s`` are dropped, of duplicate pairs the least time is kept, and
        each row is sorted by time (ties by candidate index). Raises :class:`UserError` naming
        the field for a bad shape, a value that is not finite or is negative, an index out of
        range, or duplicate ids."""
        d_ids = _ids("demand ids", demand_ids)
        c_ids = _ids("candidate ids", candidate_ids)
        n, m = len(d_ids), len(c_ids)
        w = _float_array("weight", weight, (n,))
        neg = np.flatnonzero(w < 0)
        if len(neg):
            raise UserError(_named("instance: negative weight of demand", [d_ids[i] for i in neg]))
        dxy = _float_array("demand_xy", demand_xy, (n, 2))
        cxy = _float_array("candidate_xy", candidate_xy, (m, 2))
        c = _float_array("cost", cost, (m,))
        neg = np.flatnonzero(c < 0)
        if len(neg):
            raise UserError(_named("instance: negative cost of candidate",
                                   [c_ids[j] for j in neg]))
        try:
            r = float(radius_s)
        except (TypeError, ValueError):
            raise UserError(f"instance: radius_s must be a number, not {radius_s!r}") from None
        if math.isnan(r) or r < 0:
            raise UserError(f"instance: radius_s must be >= 0, not {radius_s!r}")
        t = np.array(time_s, dtype=np.float64).reshape(-1)
        k = len(t)
        di = _int_array("demand_index", demand_index, k, n)
        ci = _int_array("candidate_index", candidate_index, k, m)
        bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
        if len(bad):
            raise UserError(_named("instance: time_s not finite and >= 0 at pairs "
                                   "(demand id, candidate id)",
                                   [(d_ids[di[b]], c_ids[ci[b]]) for b in bad[:SHOWN]],
                                   len(bad)))
        keep = t <= r
        di, ci, t = di[keep], ci[keep], t[keep]
        order = np.lexsort((t, ci, di))  # by demand, candidate, then time: the least first
        di, ci, t = di[order], ci[order], t[order]
        first = np.r_[True, (di[1:] != di[:-1]) | (ci[1:] != ci[:-1])] if len(t) else keep[:0]
        di, ci, t = di[first], ci[first], t[first]
        order = np.lexsort((ci, t, di))  # each row by time, ties by candidate
        di, ci, t = di[order], ci[order], t[order]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(di, minlength=n), out=indptr[1:])
        return cls(demand_ids=d_ids, weight=w, demand_xy=dxy, candidate_ids=c_ids,
                   candidate_xy=cxy, cost=c, indptr=indptr, cand=ci.astype(np.int64),
                   time_s=t.astype(np.float64), radius_s=r)
