"""Every setting of an experiment: its default (with the reason) and its valid values, checked
when made; names only Keras knows (`activation`) are checked where the model is built."""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fashion_mlp.config.validation import (
    Constraint,
    Either,
    Flag,
    Instance,
    Interval,
    Options,
    Settings,
    Sizes,
    Text,
    field_names,
    plain,
    unknown_keys,
)
from fashion_mlp.errors import ConfigError

STYLES = ("sequential", "functional", "subclassed")  # the notebook's three Keras styles
ENGINES = ("auto", "keras", "compiled")  # auto = compiled on JAX, else keras (model.fit)
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "nadam")
SCHEDULES = ("constant", "cosine", "one_cycle")
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")  # the Keras optimizers with a `momentum` argument
BETA_OPTIMIZERS = ("adam", "adamw", "nadam")  # the ones with beta_1 / beta_2
SGD_ONLY_DEFAULTS = {"momentum": 0.0, "nesterov": False}  # other optimizers' values of these
DATA_SHAPED_SPEC_FIELDS = ("num_classes", "input_shape")  # taken from the data set, not a file
MAX_SEED = 2**32 - 1  # NumPy's and JAX's seeds are unsigned 32-bit integers
MAX_SHIFT = 8  # pixels; a larger shift moves a 28x28 item mostly out of its frame
RATE = Interval(float, 0, 1, closed="left")  # dropout, momentum, betas, smoothing: [0, 1)


@dataclass(frozen=True)
class MLPSpec(Settings):
    """What the network is: hidden sizes, activation, regularisation, classes, input shape.

    Args:
        hidden: units of each hidden layer, input side first.
        activation: name of a Keras activation for the hidden layers (checked when built).
        dropout: one rate for every hidden layer, or one per layer, each in [0, 1).
        batch_norm: batch normalisation between each hidden Dense and its activation.
        kernel_initializer: name of a Keras initializer for every kernel (checked when built).
        l2: L2 penalty factor on every kernel; 0 disables it.
        input_dropout: fraction of standardised pixels dropped in training, in [0, 1).
        shift: training-time random shift of each image by up to this many pixels; 0 = none.
        flip: training-time random left-right mirror of half the images.
        num_classes: output units (the data set's classes).
        input_shape: shape of one raw image, e.g. (28, 28).

    Examples:
        >>> MLPSpec(hidden=(256, 128), activation="relu", dropout=0.2).dropout_rates
        (0.2, 0.2)
    """

    hidden: tuple[int, ...] = (64, 32)  # the notebook's 784-64-32-10 network (52,650 params)
    activation: str = "tanh"  # the notebook's activation; any Keras activation name works
    dropout: float | tuple[float, ...] = 0.0  # the notebook's Sequential has none; one or per layer
    batch_norm: bool = False  # not in the notebook; optional after each hidden Dense
    kernel_initializer: str = "glorot_uniform"  # Keras's Dense default, as the notebook used
    l2: float = 0.0  # no weight penalty in the notebook; > 0 adds L2 on every kernel
    input_dropout: float = 0.0  # none in the notebook; dropout on the standardised pixels
    shift: int = 0  # no augmentation in the notebook; 1-2 pixels regularise wide MLPs
    flip: bool = False  # no augmentation in the notebook; clothes are near mirror-symmetric
    num_classes: int = 10  # Fashion-MNIST's ten classes
    input_shape: tuple[int, ...] = (28, 28)  # raw images as stored; (784,) for flat vectors

    CONSTRAINTS: ClassVar[dict[str, Constraint]] = {
        "hidden": Sizes(Interval(int, 1), example="[64, 32]"),
        "activation": Text("the name of a Keras activation", nonempty=True),
        "dropout": Either(RATE, Sizes(RATE)),
        "batch_norm": Flag(),
        "kernel_initializer": Text("the name of a Keras initializer", nonempty=True),
        "l2": Interval(float, 0, note="0 disables the penalty"),
        "input_dropout": RATE,
        "shift": Interval(int, 0, MAX_SHIFT, note="whole pixels; 0 = none"),
        "flip": Flag(),
        "num_classes": Interval(int, 2),
        "input_shape": Sizes(Interval(int, 1), max_length=3, example="[28, 28] or [784]"),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.dropout_rates) != len(self.hidden):
            raise ConfigError(
                f"dropout = {list(self.dropout_rates)!r}: expected one rate, or one per hidden "
                f"layer ({len(self.hidden)} for hidden = {list(self.hidden)!r})"
            )

    @property
    def dropout_rates(self) -> tuple[float, ...]:
        """The dropout rate after each hidden layer."""
        if isinstance(self.dropout, tuple):
            return self.dropout
        return (self.dropout,) * len(self.hidden)

    @property
    def num_features(self) -> int:
        """Values per image once flattened (784 for 28x28)."""
        return math.prod(self.input_shape)

    @property
    def parameter_count(self) -> int:
        """Every weight of the built model (Keras's count_params), known without building it."""
        widths = (self.num_features, *self.hidden, self.num_classes)
        dense = sum((inputs + 1) * units for inputs, units in itertools.pairwise(widths))
        batch_norm = 4 * sum(self.hidden) if self.batch_norm else 0  # scale, shift, mean, variance
        return dense + batch_norm + 2 * self.num_features + 1  # + the input's mean and variance

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MLPSpec:
        """A spec from a mapping (a TOML table); unknown keys are an error."""
        if not isinstance(values, dict):
            raise ConfigError(f"model spec {values!r}: expected a table of MLPSpec fields")
        unknown_keys(values, field_names(cls), "the model spec")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain lists and scalars (TOML- and JSON-friendly)."""
        return {key: plain(value) for key, value in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class DataConfig(Settings):
    name: str = "fashion"  # Fashion-MNIST; or "mnist", or a folder holding four IDX files
    data_dir: str | None = None  # searched first; None = the usual sources (see datasets.py)
    train_limit: int = 0  # use only the first N training images; 0 = all (smoke runs use few)
    test_limit: int = 0  # use only the first N test images; 0 = all
    allow_modified: bool = False  # refuse a known data set whose checksums differ; true = load it
    # unverified (data changed on purpose)

    CONSTRAINTS: ClassVar[dict[str, Constraint]] = {
        "name": Text("a data set name or folder"),
        "data_dir": Text("a folder's path", optional=True),
        "train_limit": Interval(int, 0, note="0 = all"),
        "test_limit": Interval(int, 0, note="0 = all"),
        "allow_modified": Flag(),
    }


@dataclass(frozen=True)
class ModelConfig(Settings):
    spec: MLPSpec = field(default_factory=MLPSpec)  # the notebook's 784-64-32-10 tanh network
    style: str = "sequential"  # the notebook's first and main style
    user_model: str | None = None  # "file.py:function" returning a Keras model; replaces spec

    CONSTRAINTS: ClassVar[dict[str, Constraint]] = {
        "spec": Instance(MLPSpec),
        "style": Options(STYLES),
        "user_model": Text("a 'file.py:function' string", optional=True),
    }

    @property
    def short_name(self) -> str:
        """What the model is, for a run's name: 'mlp-256-128-relu', or the user's function."""
        if self.user_model:
            return self.user_model.rpartition(":")[2] or "model"
        return "-".join(["mlp", *map(str, self.spec.hidden), self.spec.activation])


@dataclass(frozen=True)
class OptimizerConfig(Settings):
    """How the model is compiled: optimizer, learning-rate schedule and loss settings."""

    optimizer: str = "sgd"  # the notebook's optimizer
    learning_rate: float = 0.01  # the notebook's SGD(learning_rate=0.01, ...)
    momentum: float = 0.9  # the notebook's momentum=0.9 (sgd; other optimizers: 0 = none)
    nesterov: bool = True  # the notebook's nesterov=True (sgd only; others: false)
    decay: float = 0.0  # Keras 2's legacy lr / (1 + decay * step); the notebook's 1e-6 is a no-op
    # (about 3 % of lr after 10 epochs) and Keras 3 dropped it: 0 = off
    weight_decay: float = 0.0  # decoupled weight decay (AdamW); none in the notebook
    beta_1: float = 0.9  # Keras's Adam default (adam, adamw, nadam)
    beta_2: float = 0.999  # Keras's Adam default (adam, adamw, nadam)
    schedule: str = "constant"  # constant, cosine or one_cycle; the notebook's is constant
    warmup_steps: int = 0  # linear warm-up steps for cosine / one_cycle; 0 = none (one_cycle: 30 %)
    label_smoothing: float = 0.0  # the notebook's plain cross-entropy
    ema: float = 0.0  # momentum of an average of the weights kept in training and saved as the
    # final weights (Keras's use_ema, e.g. 0.999); 0 = off, as in the notebook

    CONSTRAINTS: ClassVar[dict[str, Constraint]] = {
        "optimizer": Options(OPTIMIZERS),
        "learning_rate": Interval(float, 0, closed="neither"),
        "momentum": RATE,
        "nesterov": Flag(),
        "decay": Interval(float, 0, note="0 = no legacy decay"),
        "weight_decay": Interval(float, 0, note="0 = none"),
        "beta_1": RATE,
        "beta_2": RATE,
        "schedule": Options(SCHEDULES),
        "warmup_steps": Interval(int, 0, note="0 = none"),
        "label_smoothing": RATE,
        "ema": Interval(float, 0, 1, closed="left", note="0 = off"),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        check_optimizer_pairs(self)


@dataclass(frozen=True)
class TrainingConfig(Settings):
    epochs: int = 10  # the notebook's fit(epochs=10)
    batch_size: int = 16  # the notebook's fit(batch_size=16)
    validation_split: float = 0.1  # the notebook's; the LAST 10 % of training data, unshuffled
    seed: int = 0  # weights, shuffling and dropout all follow it
    engine: str = "auto"  # auto = compiled on JAX, else keras (model.fit)
    early_stopping_patience: int = -1  # epochs without val_loss improvement; -1 = disable
    restore_best_weights: bool = True  # on early stopping, keep the best epoch's weights

    CONSTRAINTS: ClassVar[dict[str, Constraint]] = {
        "epochs": Interval(int, 1),
        "batch_size": Interval(int, 1),
        "validation_split": Interval(float, 0, 1, closed="left", note="0 = none"),
        "seed": Interval(int, 0, MAX_SEED),
        "engine": Options(ENGINES),
        "early_stopping_patience": Interval(int, -1, note="-1 = off"),
        "restore_best_weights": Flag(),
    }


@dataclass(frozen=True)
class DistillConfig(Settings):
    """Knowledge distillation (Hinton, Vinyals and Dean, 2015): the model learns from a
    teacher run's probabilities, softened by `temperature`, mixed with the true labels.

    The loss is (1 - alpha) * cross-entropy(labels) + alpha * T^2 * KL(teacher_T || model_T),
    where p_T is softmax(log p / T) (see fashion_mlp.losses.DistillationLoss).
    """

    teacher: str | None = None  # a finished run's folder (an ensemble run, typically); None = off
    temperature: float = 2.0  # softens both distributions; 2, 4 and 8 tied on validation (docs)
    alpha: float = 0.5  # the teacher's weight (0 = labels alone, 1 = teacher alone): 0.5 beat
    # 0.9 on validation for `fast`'s ensemble, though no weight beat the labels alone (docs)

    CONSTRAINTS: ClassVar[dict[str, Constraint]] = {
        "teacher": Text("a run folder's path", optional=True),
        "temperature": Interval(float, 0, closed="neither"),
        "alpha": Interval(float, 0, 1),
    }


@dataclass(frozen=True)
class ExperimentConfig(Settings):
    """One experiment's every setting; `build_config` makes a validated one from layers.

    Examples:
        >>> config = build_config(preset("notebook"), {"training": {"epochs": 3}})
        >>> config.training.epochs, config.optimizer.momentum
        (3, 0.9)
    """

    name: str = "notebook"  # the preset it started from, used in the run folder's name
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)

    CONSTRAINTS: ClassVar[dict[str, Constraint]] = {
        "name": Text("the run's name, a string"),
        "data": Instance(DataConfig),
        "model": Instance(ModelConfig),
        "optimizer": Instance(OptimizerConfig),
        "training": Instance(TrainingConfig),
        "distill": Instance(DistillConfig),
    }

    def to_dict(self) -> dict[str, Any]:
        """Nested plain values, as written to config.toml (None values left out)."""
        spec = self.model.spec.to_dict()
        for key in DATA_SHAPED_SPEC_FIELDS:
            spec.pop(key)
        model = {**spec, "style": self.model.style, "user_model": self.model.user_model}
        sections = {
            "data": dataclasses.asdict(self.data),
            "model": model,
            "optimizer": dataclasses.asdict(self.optimizer),
            "training": dataclasses.asdict(self.training),
        }
        if self.distill.teacher is not None:  # else no [distill] table: the config of any run
            sections["distill"] = dataclasses.asdict(self.distill)  # not distilled reads as before
        return {"name": self.name} | {
            name: {key: plain(value) for key, value in values.items() if value is not None}
            for name, values in sections.items()
        }


def optimizer_config(values: dict[str, Any]) -> OptimizerConfig:
    """An OptimizerConfig from the keys given; the rest are the notebook's defaults.

    Momentum and Nesterov default to the notebook's 0.9 and on for sgd only; any other
    optimizer starts from none (0, off), so `{"optimizer": "adam"}` is plain Adam.
    """
    unknown_keys(values, field_names(OptimizerConfig), "the optimizer settings")
    values = dict(values)
    if values.get("optimizer", OptimizerConfig.optimizer) != OptimizerConfig.optimizer:
        for key, value in SGD_ONLY_DEFAULTS.items():
            values.setdefault(key, value)
    return OptimizerConfig(**values)


def check_optimizer_pairs(config: OptimizerConfig) -> None:
    """Raise ConfigError for a setting its optimizer or schedule does not take."""
    name = config.optimizer
    if config.momentum and name not in MOMENTUM_OPTIMIZERS:
        raise ConfigError(
            f"momentum = {config.momentum} with optimizer = {name!r}: only "
            f"{' and '.join(MOMENTUM_OPTIMIZERS)} take a momentum; remove it or change optimizer"
        )
    for key in ("beta_1", "beta_2"):
        if getattr(config, key) != getattr(OptimizerConfig, key) and name not in BETA_OPTIMIZERS:
            raise ConfigError(
                f"{key} = {getattr(config, key)} with optimizer = {name!r}: only "
                f"{', '.join(BETA_OPTIMIZERS)} take {key}; remove it or change optimizer"
            )
    if config.nesterov and name != "sgd":
        raise ConfigError(f"nesterov = true with optimizer = {name!r}: only sgd takes nesterov")
    if config.schedule == "constant" and config.warmup_steps:
        raise ConfigError(
            f"warmup_steps = {config.warmup_steps} with schedule = 'constant': warm-up needs "
            "schedule 'cosine' or 'one_cycle'"
        )
    if config.schedule != "constant" and config.decay:
        raise ConfigError(
            f"decay = {config.decay} with schedule = {config.schedule!r}: the legacy decay is its "
            "own schedule; use one or the other"
        )
