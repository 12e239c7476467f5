"""What may differ between the members of one population, declared once (PER_MEMBER).

A sweep's grouping of trials (`sweeps.grouping`) and a population's check that its models fit
together (`training.population.members`) are both derived from this table, and so are the
words that describe it in errors and help. Keras-free: a setting's place in a compiled model is
named here (`InModel`) and looked up there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fashion_mlp.config import ExperimentConfig


@dataclass(frozen=True)
class InModel:
    """Where a compiled Keras model holds a per-member setting."""

    owner: str  # "optimizer" (model.optimizer), "loss" (fashion-mlp's own loss, which computes
    # with its settings as arrays) or "dropout" (each layer that drops as keras.layers.Dropout)
    attribute: str  # the owner's attribute holding the value, e.g. "weight_decay", "rate"
    traced: bool = True  # an input of the population's program, traced into the owner; False:
    # each member's state already holds it (the learning rate is an optimizer variable)

    @property
    def name(self) -> str:
        return f"{self.owner}.{self.attribute}"


def nothing(value: Any) -> None:
    """Members share nothing of the value."""
    return None


def whether_any(value: Any) -> Any:
    """Members share whether there is any (value > 0), per element of a list of values: the
    compiled step has a decay step, a smoothed loss or a dropout layer, or has none."""
    if isinstance(value, list | tuple):
        return [whether_any(element) for element in value]
    return value is not None and value > 0


def always(config: ExperimentConfig) -> bool:
    return True


def constant_learning_rate(config: ExperimentConfig) -> bool:
    """A constant schedule without legacy decay: the learning rate is an optimizer variable."""
    return config.optimizer.schedule == "constant" and config.optimizer.decay == 0


def distilled(config: ExperimentConfig) -> bool:
    """A run with a teacher: its loss is the distillation loss, which traces its settings."""
    return config.distill.teacher is not None


@dataclass(frozen=True)
class PerMember:
    """One setting whose value may differ between the members of one population."""

    key: str  # "section.name" in an ExperimentConfig's table (`to_dict`)
    words: str  # what may differ, for errors and help
    shared: Callable[[Any], Any] = nothing  # what of its value every member must share
    in_model: InModel | None = None  # None: it is passed beside the models (the seed)
    applies: Callable[[ExperimentConfig], bool] = always  # when it may differ at all
    read: Callable[[ExperimentConfig], Any] | None = None  # its value; None: the table's

    def value(self, config: ExperimentConfig, table: dict) -> Any:
        """The setting's value in `config` (whose table is `table`)."""
        if self.read is not None:
            return self.read(config)
        section, name = self.key.split(".")
        return table[section].get(name)


def dropout_rates(config: ExperimentConfig) -> tuple[float, ...]:
    return config.model.spec.dropout_rates  # one rate per hidden layer, however it was written


PER_MEMBER: tuple[PerMember, ...] = (
    PerMember("training.seed", "seed (initial weights, shuffle order, dropout masks)"),
    PerMember(
        "optimizer.learning_rate",
        "a constant learning rate",
        in_model=InModel("optimizer", "learning_rate", traced=False),
        applies=constant_learning_rate,
    ),
    PerMember(
        "optimizer.weight_decay",
        "weight decay",
        shared=whether_any,
        in_model=InModel("optimizer", "weight_decay"),
    ),
    PerMember(
        "optimizer.label_smoothing",
        "label smoothing",
        shared=whether_any,
        in_model=InModel("loss", "label_smoothing"),
    ),
    PerMember(
        "distill.temperature",
        "distillation temperature",
        in_model=InModel("loss", "temperature"),
        applies=distilled,
    ),
    PerMember(
        "distill.alpha",
        "distillation weight (alpha)",
        in_model=InModel("loss", "alpha"),
        applies=distilled,
    ),
    PerMember(
        "model.dropout",
        "dropout rates",
        shared=whether_any,
        in_model=InModel("dropout", "rate"),
        read=dropout_rates,
    ),
    PerMember(
        "model.input_dropout",
        "input dropout",
        shared=whether_any,
        in_model=InModel("dropout", "rate"),
    ),
)


def described() -> str:
    """The per-member settings in words, e.g. for an error saying what may differ."""
    plain = [setting.words for setting in PER_MEMBER if setting.shared is nothing]
    valued = [setting.words for setting in PER_MEMBER if setting.shared is not nothing]
    text = ", ".join(plain)
    if valued:
        text += f" and the values of {', '.join(valued[:-1])} and {valued[-1]}"
        text += " (whether there is any must match)" if len(valued) > 1 else ""
    return text


def shared_table(config: ExperimentConfig) -> dict:
    """`config`'s table with each per-member setting replaced by what members share of it:
    two configs whose shared tables are equal may train as one population."""
    table = config.to_dict()
    table.pop("name")
    values = {}
    for setting in PER_MEMBER:
        if setting.applies(config):
            values[setting.key] = setting.shared(setting.value(config, table))
    for key, value in values.items():
        section, name = key.split(".")
        table[section][name] = value
    return table
