"""People and their roles: grid leaders, on-site commanders, grid workers, party members.

A person may hold several roles (多员合一) and serve several standby categories, but is in one
place at a time. The roster is a struct of arrays (about 300,000 people at city scale), with
roles and categories as bit masks. Where a person is depends on the hour: some work away from
their grid during working hours (``away_in_work_hours``) and are then not at hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridsim.model.vocab import CATEGORIES, ROLES

__all__ = ["ALL_CATEGORIES", "Roster", "category_bit", "role_bit"]


def role_bit(role: str) -> int:
    """The bit of ``role`` in :attr:`Roster.roles`."""
    return 1 << ROLES.index(role)


def category_bit(category: str) -> int:
    """The bit of ``category`` in :attr:`Roster.categories`."""
    return 1 << CATEGORIES.index(category)


#: A mask with every standby category: on-site commanders (明白人) lead any initial response.
ALL_CATEGORIES = (1 << len(CATEGORIES)) - 1


@dataclass(frozen=True)
class Roster:
    """Everybody who stands by, as arrays indexed by person id, grouped by home grid.

    ``by_grid_indptr`` gives each grid's people: ``people[by_grid_indptr[g]:by_grid_indptr[g+1]]``
    are the ids of grid ``g`` (ids are already sorted by grid, so that slice is the ids).
    """

    grid: np.ndarray  # home grid
    roles: np.ndarray  # bit mask over ROLES
    categories: np.ndarray  # bit mask over CATEGORIES
    x_m: np.ndarray  # home position
    y_m: np.ndarray
    away_in_work_hours: np.ndarray  # bool
    by_grid_indptr: np.ndarray

    def __post_init__(self) -> None:
        if len(self.grid) and np.any(np.diff(self.grid) < 0):
            raise ValueError("roster must be sorted by grid")
        for name, arr in self.__dict__.items():
            a = np.ascontiguousarray(arr)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def n(self) -> int:
        return len(self.grid)

    def of_grid(self, g: int) -> range:
        return range(int(self.by_grid_indptr[g]), int(self.by_grid_indptr[g + 1]))

    def has_role(self, role: str) -> np.ndarray:
        return (self.roles & role_bit(role)) != 0

    def count_by_grid(self, mask: np.ndarray | None = None) -> np.ndarray:
        n_grids = len(self.by_grid_indptr) - 1
        if mask is None:
            return np.diff(self.by_grid_indptr)
        return np.bincount(self.grid[mask], minlength=n_grids)

    def role_of(self, p: int) -> str:
        """The person's leading role (commander before grid worker before party member)."""
        r = int(self.roles[p])
        for role in ("commander", "grid_leader", "grid_worker", "party_member"):
            if r & role_bit(role):
                return role
        raise ValueError(f"person {p} has no role")
