"""Every setting of an experiment, its default and its valid values: the one place they live.

Keras-free, so the CLI's parser, the run listing and a sweep driver start instantly. A config
is built from a preset, then a TOML file, then flag overrides, each layer replacing only the
keys it names. Checks that need Keras (is `activation` a Keras activation?) happen where the
model is built (`models.build_model`), as scikit-learn checks parameters in `fit`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

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


@dataclass(frozen=True)
class MLPSpec:
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

    Example:
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

    def __post_init__(self) -> None:
        for name in ("hidden", "input_shape", "dropout"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        self._check_hidden()
        for name in ("activation", "kernel_initializer"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{name}={value!r}: expected the name of a Keras {name}")
        self._check_dropout()
        for name in ("batch_norm", "flip"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name}={getattr(self, name)!r}: expected true or false")
        if not is_number(self.input_dropout) or not 0 <= self.input_dropout < 1:
            raise ConfigError(f"input_dropout={self.input_dropout!r}: expected a number in [0, 1)")
        if not is_int(self.shift) or not 0 <= self.shift <= MAX_SHIFT:
            raise ConfigError(
                f"shift={self.shift!r}: expected whole pixels from 0 (none) to {MAX_SHIFT}"
            )
        if not is_number(self.l2) or not 0 <= self.l2 < math.inf:
            raise ConfigError(f"l2={self.l2!r}: expected a number >= 0 (0 disables the penalty)")
        if not is_int(self.num_classes) or self.num_classes < 2:
            raise ConfigError(f"num_classes={self.num_classes!r}: expected an integer >= 2")
        self._check_input_shape()

    def _check_hidden(self) -> None:
        if not isinstance(self.hidden, tuple) or not self.hidden:
            raise ConfigError(
                f"hidden={self.hidden!r}: expected a non-empty list of layer sizes, e.g. [64, 32]"
            )
        for units in self.hidden:
            if not is_int(units) or units < 1:
                raise ConfigError(
                    f"hidden={list(self.hidden)!r}: layer size {units!r} is not an integer >= 1"
                )

    def _check_dropout(self) -> None:
        rates = self.dropout_rates
        if len(rates) != len(self.hidden):
            raise ConfigError(
                f"dropout={list(rates)!r}: expected one rate, or one per hidden layer "
                f"({len(self.hidden)} for hidden={list(self.hidden)!r})"
            )
        for rate in rates:
            if not is_number(rate) or not 0 <= rate < 1:
                raise ConfigError(
                    f"dropout={self.dropout!r}: rate {rate!r} is not a number in [0, 1)"
                )

    def _check_input_shape(self) -> None:
        shape = self.input_shape
        valid = isinstance(shape, tuple) and 1 <= len(shape) <= 3
        if not valid or not all(is_int(size) and size >= 1 for size in shape):
            raise ConfigError(
                f"input_shape={shape!r}: expected 1 to 3 positive sizes, e.g. [28, 28] or [784]"
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

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MLPSpec:
        """A spec from a mapping (a TOML table); unknown keys are an error."""
        if not isinstance(values, dict):
            raise ConfigError(f"model spec {values!r}: expected a table of MLPSpec fields")
        known = [spec_field.name for spec_field in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"unknown model spec key(s) {unknown}: expected some of {known}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain lists and scalars (TOML- and JSON-friendly)."""
        return {key: plain(value) for key, value in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class DataConfig:
    name: str = "fashion"  # Fashion-MNIST; or "mnist", or a folder holding four IDX files
    data_dir: str | None = None  # searched first; None = the usual sources (see datasets.py)
    train_limit: int = 0  # use only the first N training images; 0 = all (smoke runs use few)
    test_limit: int = 0  # use only the first N test images; 0 = all
    allow_modified: bool = False  # refuse a known data set whose checksums differ; true = load it
    # unverified (data changed on purpose)


@dataclass(frozen=True)
class ModelConfig:
    spec: MLPSpec = field(default_factory=MLPSpec)  # the notebook's 784-64-32-10 tanh network
    style: str = "sequential"  # the notebook's first and main style
    user_model: str | None = None  # "file.py:function" returning a Keras model; replaces spec


@dataclass(frozen=True)
class OptimizerConfig:
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


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 10  # the notebook's fit(epochs=10)
    batch_size: int = 16  # the notebook's fit(batch_size=16)
    validation_split: float = 0.1  # the notebook's; the LAST 10 % of training data, unshuffled
    seed: int = 0  # weights, shuffling and dropout all follow it
    engine: str = "auto"  # auto = compiled on JAX, else keras (model.fit)
    early_stopping_patience: int = -1  # epochs without val_loss improvement; -1 = disable
    restore_best_weights: bool = True  # on early stopping, keep the best epoch's weights


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment's every setting; `build_config` makes a validated one from layers.

    Example:
        >>> config = build_config(preset("notebook"), {"training": {"epochs": 3}})
        >>> config.training.epochs, config.optimizer.momentum
        (3, 0.9)
    """

    name: str = "notebook"  # the preset it started from, used in the run folder's name
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

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
        return {"name": self.name} | {
            name: {key: plain(value) for key, value in values.items() if value is not None}
            for name, values in sections.items()
        }


SECTIONS = {"data": DataConfig, "optimizer": OptimizerConfig, "training": TrainingConfig}

WIDE_MLP = {"hidden": [1024, 1024], "activation": "relu", "dropout": 0.3}  # 1.9 M parameters
WIDE_MLP_OPTIMIZER = {  # AdamW, one-cycle, label smoothing: kept by every search run
    "optimizer": "adamw",
    "learning_rate": 2e-3,
    "weight_decay": 1e-4,
    "schedule": "one_cycle",
    "label_smoothing": 0.1,
}
BEST_EPOCHS = 40  # validation accuracy rose from 15 to 40 epochs, not from 40 to 80 (README)
ALL_TRAINING_DATA = 0.0  # validation_split of a final model: its recipe was chosen on validation

PRESETS: dict[str, dict[str, Any]] = {
    "notebook": {},  # the notebook's experiment: every default above
    "smoke": {  # the whole pipeline in seconds, for tests and CI
        "data": {"train_limit": 2000, "test_limit": 500},
        "model": {"hidden": [32]},
        "training": {"epochs": 2, "batch_size": 64},
    },
    "fast": {  # 90 % test in under a minute of training on 2 CPU cores (README: the search)
        "model": {**WIDE_MLP, "hidden": [512, 512]},  # a third of the wide MLP's arithmetic
        "optimizer": WIDE_MLP_OPTIMIZER,
        "training": {"epochs": 20, "batch_size": 128, "validation_split": ALL_TRAINING_DATA},
    },
    "best": {  # the best 3-seed test accuracy in 5 minutes on 2 CPU cores, chosen on validation
        # less dropout, mirrored images, batch norm: each won on validation (README: the search)
        "model": {**WIDE_MLP, "dropout": 0.2, "flip": True, "batch_norm": True},
        "optimizer": WIDE_MLP_OPTIMIZER,
        "training": {
            "epochs": BEST_EPOCHS,
            "batch_size": 128,
            "validation_split": ALL_TRAINING_DATA,
        },
    },
}
RENAMED_PRESETS = {"seed": "notebook"}  # old name -> new name, for a helpful error


def plain(value: Any) -> Any:
    """TOML-writable form: tuples become lists."""
    return list(value) if isinstance(value, tuple) else value


def is_int(value: object) -> bool:
    """True for an integer (NumPy's too), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """True for a real number (int, float or a NumPy scalar), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def preset(name: str) -> dict[str, Any]:
    """A preset's overrides of the defaults, by name (`notebook` or `smoke`)."""
    if name in RENAMED_PRESETS:
        raise ConfigError(f"preset {name!r} is now called {RENAMED_PRESETS[name]!r}")
    if name not in PRESETS:
        raise ConfigError(f"preset {name!r} is unknown; expected one of {', '.join(PRESETS)}")
    return {"name": name} | PRESETS[name]


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML config file's contents, with errors that name the file and the problem."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"config file {path} is not UTF-8 text ({error.reason} at byte {error.start}); "
            "save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from None


def write_toml(config: ExperimentConfig) -> str:
    """The config as TOML text, complete enough to re-run with --config."""
    return tomli_w.dumps(config.to_dict())


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """base with override's keys replaced, section by section."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def build_config(*layers: dict[str, Any]) -> ExperimentConfig:
    """A validated ExperimentConfig from layered dicts: a preset, then a file, then flags.

    Args:
        *layers: nested dicts like a TOML file's tables; later layers replace earlier keys.

    Returns:
        The ExperimentConfig, every value type- and range-checked.

    Raises:
        ConfigError: naming the key, the value and what was expected.

    Example:
        >>> build_config(preset("smoke"), {"optimizer": {"optimizer": "adam"}}).optimizer.momentum
        0.0
    """
    values: dict[str, Any] = {}
    for layer in layers:
        values = merge(values, layer)
    unknown_keys(values, {"name", "model", *SECTIONS}, "the top level")
    return ExperimentConfig(
        name=check_type("", "name", values.get("name", ExperimentConfig.name), str),
        data=data_config(table(values, "data")),
        model=model_config(table(values, "model")),
        optimizer=in_section("optimizer", optimizer_config, table(values, "optimizer")),
        training=training_config(table(values, "training")),
    )


def table(values: dict[str, Any], name: str) -> dict[str, Any]:
    """The [name] table of a config, or a ConfigError when it is not a table."""
    section_values = values.get(name, {})
    if not isinstance(section_values, dict):
        raise ConfigError(f"[{name}] must be a table of keys, got {section_values!r}")
    return section_values


def in_section(name: str, make, values: dict[str, Any]):
    """make(values), with errors prefixed by the section's name."""
    try:
        return make(values)
    except ConfigError as error:
        message = str(error)
        raise ConfigError(message if message.startswith("[") else f"[{name}] {message}") from None


def model_config(values: dict[str, Any]) -> ModelConfig:
    """The [model] table: MLPSpec fields plus style and user_model."""
    values = dict(values)
    style = values.pop("style", ModelConfig.style)
    user_model = values.pop("user_model", None)
    for key in DATA_SHAPED_SPEC_FIELDS:
        if key in values:
            raise ConfigError(
                f"[model] {key} = {values[key]!r}: {key} is taken from the data set, not set in "
                "a config; remove it (use [data] name to choose the data set)"
            )
    spec = in_section("model", MLPSpec.from_dict, values)
    if check_type("model", "style", style, str) not in STYLES:
        raise ConfigError(f"[model] style = {style!r}: expected one of {', '.join(STYLES)}")
    if user_model is not None:
        check_type("model", "user_model", user_model, str)
    return ModelConfig(spec, style, user_model)


def data_config(values: dict[str, Any]) -> DataConfig:
    """The [data] table, checked."""
    config = flat_section(DataConfig, "data", values)
    if config.train_limit < 0 or config.test_limit < 0:
        raise ConfigError("[data] train_limit and test_limit: expected >= 0 (0 = all)")
    return config


def training_config(values: dict[str, Any]) -> TrainingConfig:
    """The [training] table, checked."""
    config = flat_section(TrainingConfig, "training", values)
    problems = []
    for key in ("epochs", "batch_size"):
        if getattr(config, key) < 1:
            problems.append(f"[training] {key} = {getattr(config, key)}: expected >= 1")
    if not 0 <= config.validation_split < 1:
        problems.append(
            f"[training] validation_split = {config.validation_split}: expected 0 <= x < 1"
        )
    if not 0 <= config.seed <= MAX_SEED:
        problems.append(f"[training] seed = {config.seed}: expected 0 <= seed <= {MAX_SEED}")
    if config.engine not in ENGINES:
        problems.append(f"[training] engine = {config.engine!r}: expected one of {ENGINES}")
    if config.early_stopping_patience < -1:
        problems.append("[training] early_stopping_patience: expected >= 0, or -1 to disable")
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def optimizer_config(values: dict[str, Any]) -> OptimizerConfig:
    """An OptimizerConfig from the keys given; the rest are the notebook's defaults.

    Momentum and Nesterov default to the notebook's 0.9 and on for sgd only; any other
    optimizer starts from none (0, off), so `{"optimizer": "adam"}` is plain Adam.
    """
    values = dict(values)
    if values.get("optimizer", OptimizerConfig.optimizer) != OptimizerConfig.optimizer:
        for key, value in SGD_ONLY_DEFAULTS.items():
            values.setdefault(key, value)
    config = flat_section(OptimizerConfig, "", values)
    check_optimizer(config)
    return config


def check_optimizer(config: OptimizerConfig) -> None:
    """Raise ConfigError for an optimizer setting out of range or foreign to the optimizer."""
    name = config.optimizer
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer = {name!r}: expected one of {', '.join(OPTIMIZERS)}")
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"schedule = {config.schedule!r}: expected one of {', '.join(SCHEDULES)}")
    if not 0 < config.learning_rate < math.inf:
        raise ConfigError(f"learning_rate = {config.learning_rate}: expected > 0 and finite")
    ranges = {
        "momentum": (0, 1, "[0, 1)"),
        "beta_1": (0, 1, "[0, 1)"),
        "beta_2": (0, 1, "[0, 1)"),
        "label_smoothing": (0, 1, "[0, 1)"),
        "ema": (0, 1, "[0, 1) (0 = off)"),
        "weight_decay": (0, math.inf, ">= 0 (0 = none)"),
        "decay": (0, math.inf, ">= 0 (0 = no legacy decay)"),
        "warmup_steps": (0, math.inf, ">= 0 (0 = none)"),
    }
    for key, (low, high, expected) in ranges.items():
        value = getattr(config, key)
        if not low <= value < high:
            raise ConfigError(f"{key} = {value!r}: expected a number in {expected}")
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


def unknown_keys(values: dict[str, Any], known: set[str], where: str) -> None:
    """Raise ConfigError naming any key of `values` not in `known`."""
    extra = sorted(set(values) - known)
    if extra:
        raise ConfigError(
            f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))} in {where}; "
            f"expected some of: {', '.join(sorted(known))}"
        )


def flat_section(cls, name: str, values: dict[str, Any]):
    """One flat config section, with each value's type checked against the field's default."""
    where = f"[{name}]" if name else "the optimizer settings"
    unknown_keys(values, {config_field.name for config_field in fields(cls)}, where)
    checked = {}
    for config_field in fields(cls):
        if config_field.name in values:
            default = config_field.default
            expected = type(default) if default is not None else str
            checked[config_field.name] = check_type(
                name, config_field.name, values[config_field.name], expected
            )
    return cls(**checked)


def check_type(section_name: str, key: str, value: Any, expected: type) -> Any:
    """value, if it is of the expected type (an int is accepted for a float); else ConfigError.

    Floats must be finite: an infinite or NaN setting is always a mistake.
    """
    where = f"[{section_name}] {key}" if section_name else key
    if expected is float and is_number(value):
        if not math.isfinite(value):
            raise ConfigError(f"{where} = {value!r}: expected a finite number")
        return float(value)
    if expected is int and is_int(value):
        return int(value)
    if expected not in (int, float) and isinstance(value, expected):
        return value
    raise ConfigError(f"{where} = {value!r}: expected a {expected.__name__}")


@dataclass(frozen=True)
class SweepConfig:
    """How a sweep runs its trials: the [sweep] table of a sweep file, or `sweep`'s flags."""

    samples: int = 0  # random trials drawn from the axes; 0 = every combination (the grid)
    sample_seed: int = 0  # seed of that draw, so the same sweep file draws the same trials
    members_per_population: int = 0  # members per compiled program; 0 = as many as memory allows
    ensemble: int = 0  # also ensemble the top K trials by validation accuracy; 0 = none
    figures_top: int = 0  # draw run figures of the top N by validation; 0 = none (report later)


def sweep_config(values: dict[str, Any]) -> SweepConfig:
    """The [sweep] table, checked: every count is an integer >= 0."""
    config = flat_section(SweepConfig, "sweep", values)
    for key, value in dataclasses.asdict(config).items():
        if value < 0:
            raise ConfigError(f"[sweep] {key} = {value}: expected an integer >= 0")
    return config
