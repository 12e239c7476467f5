"""Which trials train together: one population per set of settings the compiled step holds as
constants. Keras-free.

Members of a population may differ only in their seed (initial weights, shuffle order, dropout
masks), a constant learning rate (an optimizer variable) and the values of weight decay, label
smoothing and dropout rates (inputs of the population's program; whether there is any, and
after which layer, must match). Any other setting that differs (architecture, optimizer,
momentum, batch size, epochs, a learning-rate schedule, the data) splits the trials into
separate populations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from fashion_mlp.config import ExperimentConfig
from fashion_mlp.sweeps.spec import Trial


def learning_rate_per_member(config: ExperimentConfig) -> bool:
    """True when the learning rate is an optimizer variable: a constant schedule, no decay."""
    return config.optimizer.schedule == "constant" and config.optimizer.decay == 0


def population_key(config: ExperimentConfig) -> str:
    """The settings a population shares: the whole config but its name, seed, (when
    constant) learning rate, and the values of weight decay, label smoothing and dropout rates
    (whether there is any counts)."""
    table = config.to_dict()
    table.pop("name")
    table["training"].pop("seed")
    for per_member in ("weight_decay", "label_smoothing"):
        table["optimizer"][per_member] = getattr(config.optimizer, per_member) > 0
    table["model"]["dropout"] = [rate > 0 for rate in config.model.spec.dropout_rates]
    table["model"]["input_dropout"] = config.model.spec.input_dropout > 0
    if learning_rate_per_member(config):
        table["optimizer"].pop("learning_rate")
    return json.dumps(table, sort_keys=True)


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
