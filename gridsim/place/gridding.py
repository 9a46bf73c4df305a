"""Grid design (网格划分): how a district's residential compounds (小区) become grids.

A grid design for the urban-community grids is three numbers: how many grids, the share of them
that hold a single compound (城市小区单建网格比例), and the mean number of compounds a grid
manages (管理小区数). :func:`design_grids` realises a design exactly (up to rounding) on a given
set of compounds:

* the largest compounds become single-compound grids (单建网格); when there are more single
  grids than such compounds, the largest compounds are split into several grids of their own,
  in proportion to their people (a large estate cut into two or three grids);
* the other compounds are packed, in Z-order so that packs stay compact, into the remaining
  shared grids, as evenly as possible.

With ``n`` compounds, ``G`` grids, ``n1`` single grids and ``I = round(G × compounds per grid)``
grid–compound memberships, the number of compounds with grids of their own is
``n1 + n - I``; a design is feasible when that lies in ``1..n1`` (or is 0 with ``n1 = 0``) and
every shared grid gets at least two compounds.

The account's pair of figures (55.8 % single-compound grids, 1.96 compounds per grid) fixes how
the share must be read: as a share of *grids*. Read as a share of compounds, 1.96 compounds per
grid would need fewer grids than compounds with a grid of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Compounds", "GridDesign", "UrbanGrids", "design_grids", "morton_order"]


@dataclass(frozen=True)
class Compounds:
    """Residential compounds: centre (m), people and land (km²)."""

    x_m: np.ndarray
    y_m: np.ndarray
    people: np.ndarray
    area_km2: np.ndarray

    @property
    def n(self) -> int:
        return len(self.people)


@dataclass(frozen=True)
class GridDesign:
    """A design for the urban-community grids."""

    grids: int
    single_compound_share: float
    compounds_per_grid: float


@dataclass(frozen=True)
class UrbanGrids:
    """Grids made from compounds: centre, people, land, number of compounds managed, and the
    compounds of each grid in CSR form (a split compound appears in each of its grids)."""

    x_m: np.ndarray
    y_m: np.ndarray
    people: np.ndarray
    area_km2: np.ndarray
    compounds: np.ndarray
    members_indptr: np.ndarray
    members: np.ndarray

    @property
    def n(self) -> int:
        return len(self.people)


def morton_order(x: np.ndarray, y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Indices that sort points along a Z-order (Morton) curve."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    xi = ((x - x.min()) / span * (2**bits - 1)).astype(np.uint64)
    yi = ((y - y.min()) / span * (2**bits - 1)).astype(np.uint64)
    code = np.zeros(len(x), dtype=np.uint64)
    for b in range(bits):
        code |= ((xi >> np.uint64(b)) & np.uint64(1)) << np.uint64(2 * b)
        code |= ((yi >> np.uint64(b)) & np.uint64(1)) << np.uint64(2 * b + 1)
    return np.argsort(code, kind="stable")


def design_counts(n_compounds: int, design: GridDesign) -> tuple[int, int, int]:
    """``(single grids, memberships, compounds with grids of their own)`` of a design, or
    ValueError naming what is infeasible."""
    g = design.grids
    n1 = round(design.single_compound_share * g)
    members = round(design.compounds_per_grid * g)
    own = n1 + n_compounds - members
    if g < 1:
        raise ValueError("a grid design needs at least one grid")
    if n1 > 0 and not 1 <= own <= n1:
        raise ValueError(
            f"{n_compounds} compounds cannot make {g} grids with {n1} single-compound grids and "
            f"{design.compounds_per_grid} compounds per grid ({own} compounds would own grids)")
    if n1 == 0 and own != 0:
        raise ValueError(f"{n_compounds} compounds cannot make {g} shared grids with "
                         f"{design.compounds_per_grid} compounds per grid")
    shared_grids = g - n1
    shared_compounds = n_compounds - own
    if shared_grids > 0 and shared_compounds < 2 * shared_grids:
        raise ValueError(f"{shared_compounds} compounds are too few for {shared_grids} shared "
                         "grids of at least two compounds")
    if shared_grids == 0 and shared_compounds > 0:
        raise ValueError("every grid is single-compound but some compounds have no grid")
    return n1, members, own


def design_grids(c: Compounds, design: GridDesign) -> UrbanGrids:
    """Realise ``design`` on the compounds ``c`` (deterministic)."""
    n1, _, own = design_counts(c.n, design)
    by_size = np.argsort(-c.people, kind="stable")
    owners = by_size[:own]
    rest = np.sort(by_size[own:])
    # single grids: share n1 among the owners in proportion to people (largest remainder, >= 1)
    pieces = np.ones(own, dtype=np.int64)
    if own:
        extra = n1 - own
        w = c.people[owners].astype(float)
        quota = w / w.sum() * extra
        base = np.floor(quota).astype(np.int64)
        left = extra - int(base.sum())
        order = np.argsort(-(quota - base), kind="stable")
        base[order[:left]] += 1
        pieces += base
    gx: list[float] = []
    gy: list[float] = []
    gp: list[float] = []
    ga: list[float] = []
    members: list[list[int]] = []
    for i, k in zip(owners.tolist(), pieces.tolist(), strict=True):
        r = np.sqrt(c.area_km2[i] / np.pi) * 1000.0 * (0.5 if k > 1 else 0.0)
        for j in range(k):
            ang = 2 * np.pi * j / k
            gx.append(float(c.x_m[i] + r * np.cos(ang)))
            gy.append(float(c.y_m[i] + r * np.sin(ang)))
            gp.append(float(c.people[i]) / k)
            ga.append(float(c.area_km2[i]) / k)
            members.append([i])
    shared = design.grids - n1
    if shared:
        ordered = rest[morton_order(c.x_m[rest], c.y_m[rest])]
        for chunk in np.array_split(ordered, shared):
            w = c.people[chunk].astype(float)
            gx.append(float(np.average(c.x_m[chunk], weights=w)))
            gy.append(float(np.average(c.y_m[chunk], weights=w)))
            gp.append(float(w.sum()))
            ga.append(float(c.area_km2[chunk].sum()))
            members.append(chunk.tolist())
    counts = np.array([len(m) for m in members], dtype=np.int64)
    return UrbanGrids(
        x_m=np.array(gx), y_m=np.array(gy), people=np.array(gp), area_km2=np.array(ga),
        compounds=counts, members_indptr=np.concatenate([[0], np.cumsum(counts)]),
        members=np.array([i for m in members for i in m], dtype=np.int64),
    )
