"""gridsim's Hydra sweeper (``hydra/sweeper=gridsim``): Hydra's basic sweeper, which checks one
job per variant before launching instead of every job.

Before launching a batch, Hydra's basic sweeper composes the config of *every* job in the main
process, to catch composition errors early; the launcher composes each again where it runs it.
In an experiment the jobs of one variant differ only in ``replication``, so that check repeats
one composition (about half a second for gridsim's config) per replication, serially, before
any run starts: for a 200-run sweep, minutes that no parallel launcher can win back. This
sweeper composes the first job of each variant (the jobs whose overrides agree once
``replication=...`` is left aside) and sweeps exactly like the basic sweeper otherwise.
``gridsim experiment`` uses it in place of the basic sweeper (it has checked each variant's
values itself by then).
"""

# No ``from __future__ import annotations``: Hydra's plugin scan runs this module before it is in
# sys.modules, where a dataclass with string annotations looks itself up.
from collections.abc import Sequence
from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore

__all__ = ["TARGET", "GridsimSweeper", "GridsimSweeperConf", "variant_key"]

TARGET = "hydra_plugins.gridsim_sweeper.GridsimSweeper"
#: The override that tells the replications of one variant apart.
REPLICATION_KEY = "replication"


def variant_key(overrides: Sequence[str]) -> tuple[str, ...]:
    """A job's overrides without its ``replication=...``."""
    return tuple(o for o in overrides
                 if o.lstrip("+~").split("=", 1)[0].strip() != REPLICATION_KEY)


class GridsimSweeper(BasicSweeper):
    """Hydra's basic sweeper, checking the config of one job per variant."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        firsts: dict[tuple[str, ...], Sequence[str]] = {}
        for overrides in batch:
            firsts.setdefault(variant_key(overrides), overrides)
        super().validate_batch_is_legal(list(firsts.values()))


@dataclass
class GridsimSweeperConf(BasicSweeperConf):
    _target_: str = TARGET


ConfigStore.instance().store(group="hydra/sweeper", name="gridsim", node=GridsimSweeperConf,
                             provider="gridsim")
