"""How a sweep runs its trials: the [sweep] table of a sweep file, or `sweep`'s flags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from fashion_mlp.config.toml import section
from fashion_mlp.config.validation import Constraint, Interval, Settings


@dataclass(frozen=True)
class SweepConfig(Settings):
    """How a sweep runs its trials: the [sweep] table of a sweep file, or `sweep`'s flags."""

    samples: int = 0  # random trials drawn from the axes; 0 = every combination (the grid)
    sample_seed: int = 0  # seed of that draw, so the same sweep file draws the same trials
    members_per_population: int = 0  # members per compiled program; 0 = as many as memory allows
    ensemble: int = 0  # also ensemble the top K trials by validation accuracy; 0 = none
    figures_top: int = 0  # draw run figures of the top N by validation; 0 = none (report later)
    max_trials: int = 100_000  # more trials are refused: a typo must not build a billion configs

    CONSTRAINTS: ClassVar[dict[str, Constraint]] = {
        "samples": Interval(int, 0, note="0 = every combination"),
        "sample_seed": Interval(int, 0),
        "members_per_population": Interval(int, 0, note="0 = as many as memory allows"),
        "ensemble": Interval(int, 0, note="0 = none"),
        "figures_top": Interval(int, 0, note="0 = none"),
        "max_trials": Interval(int, 1),
    }


def sweep_config(values: dict[str, Any]) -> SweepConfig:
    """The [sweep] table, checked."""
    return section(SweepConfig, "sweep", values)
