"""Which trials train together: one population per set of settings the compiled step holds as
constants. Keras-free.

Members of a population may differ only in the settings `fashion_mlp.member_settings` declares
per member; any other setting that differs (architecture, optimizer, momentum, batch size,
epochs, a learning-rate schedule, the data) splits the trials into separate populations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from fashion_mlp import member_settings
from fashion_mlp.config import ExperimentConfig
from fashion_mlp.sweeps.spec import Trial


def population_key(config: ExperimentConfig) -> str:
    """The settings a population shares: the whole config but its name and what
    `member_settings.PER_MEMBER` lets members have their own of."""
    return json.dumps(member_settings.shared_table(config), sort_keys=True)


def group_trials(trials: Sequence[Trial], members_per_population: int = 0) -> list[list[Trial]]:
    """Trials grouped into populations, in order of first appearance; each population holds
    at most members_per_population trials (0 = no limit here: memory decides when training)."""
    groups: dict[str, list[Trial]] = {}
    for trial in trials:
        groups.setdefault(population_key(trial.config), []).append(trial)
    size = members_per_population or max(len(group) for group in groups.values())
    return [
        group[start : start + size]
        for group in groups.values()
        for start in range(0, len(group), size)
    ]
