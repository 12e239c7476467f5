"""Experiment configuration: typed sections, presets, TOML files, and clear errors for bad values.

Defaults live here, each with its reason. A config is built from a preset, then a TOML file,
then flag overrides, each layer replacing only the keys it names.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from fashion_mlp.errors import ConfigError
from fashion_mlp.models import MLPSpec
from fashion_mlp.training import ENGINES

DATA_SHAPED_SPEC_FIELDS = ("num_classes", "input_shape")  # taken from the data set, not the file


@dataclass(frozen=True)
class DataConfig:
    name: str = "fashion"  # Fashion-MNIST; or "mnist", or a folder holding four IDX files
    data_dir: str | None = None  # searched first; None = the usual sources (see datasets.py)
    train_limit: int = 0  # use only the first N training images; 0 = all (smoke runs use few)
    test_limit: int = 0  # use only the first N test images; 0 = all


@dataclass(frozen=True)
class ModelConfig:
    spec: MLPSpec = field(default_factory=MLPSpec)  # the notebook's 784-64-32-10 tanh network
    style: str = "sequential"  # the notebook's first and main style
    user_model: str | None = None  # "file.py:function" returning a Keras model; replaces spec


@dataclass(frozen=True)
class OptimizerConfig:
    optimizer: str = "sgd"  # the notebook's optimizer
    learning_rate: float = 0.01  # the notebook's SGD(learning_rate=0.01, ...)
    momentum: float = 0.9  # the notebook's momentum=0.9 (for sgd; other optimizers: 0)
    nesterov: bool = True  # the notebook's nesterov=True (for sgd; other optimizers: false)
    decay: float = 0.0  # Keras 2's legacy lr / (1 + decay * step); the notebook's 1e-6 is a no-op
    # (about 3 % of lr after 10 epochs) and Keras 3 dropped it: 0 = off
    weight_decay: float = 0.0  # decoupled weight decay (AdamW); none in the notebook
    beta_1: float = 0.9  # Keras's Adam default
    beta_2: float = 0.999  # Keras's Adam default
    schedule: str = "constant"  # constant, cosine or one_cycle; the notebook's is constant
    warmup_steps: int = 0  # linear warm-up steps for cosine / one_cycle; 0 = none
    label_smoothing: float = 0.0  # the notebook's plain cross-entropy


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
    name: str = "seed"  # the preset it started from, used in the run directory's name
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def to_dict(self) -> dict[str, Any]:
        """Nested plain values, as written to config.toml (None values left out)."""
        spec = {k: v for k, v in self.model.spec.to_dict().items()}
        for key in DATA_SHAPED_SPEC_FIELDS:
            spec.pop(key, None)
        model = {**spec, "style": self.model.style, "user_model": self.model.user_model}
        sections = {
            "data": dataclasses.asdict(self.data),
            "model": model,
            "optimizer": dataclasses.asdict(self.optimizer),
            "training": dataclasses.asdict(self.training),
        }
        return {"name": self.name} | {
            name: {k: plain(v) for k, v in values.items() if v is not None}
            for name, values in sections.items()
        }


def plain(value: Any) -> Any:
    """TOML-writable form: tuples become lists."""
    return list(value) if isinstance(value, tuple) else value


PRESETS: dict[str, dict[str, Any]] = {
    "seed": {},  # the notebook's experiment: every default above
    "smoke": {  # the whole pipeline in seconds, for tests and CI
        "data": {"train_limit": 2000, "test_limit": 500},
        "model": {"hidden": [32]},
        "training": {"epochs": 2, "batch_size": 64},
    },
}


def preset(name: str) -> dict[str, Any]:
    """A preset's overrides of the defaults, by name."""
    if name not in PRESETS:
        raise ConfigError(f"preset {name!r} is unknown; expected one of {', '.join(PRESETS)}")
    return {"name": name} | PRESETS[name]


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML config file's contents, with errors that name the file and the problem."""
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


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
    """An ExperimentConfig from layered dicts (preset, file, flags), validated."""
    values: dict[str, Any] = {}
    for layer in layers:
        values = merge(values, layer)
    known = {"name", "data", "model", "optimizer", "training"}
    unknown_keys(values, known, "the top level")
    model_values = dict(values.get("model", {}))
    style = model_values.pop("style", ModelConfig.style)
    user_model = model_values.pop("user_model", None)
    try:
        spec = MLPSpec.from_dict(model_values)
    except ConfigError as error:
        raise ConfigError(f"[model] {error}") from None
    model = ModelConfig(spec, check_type("model", "style", style, str), user_model)
    optimizer_values = dict(values.get("optimizer", {}))
    if optimizer_values.get("optimizer", OptimizerConfig.optimizer) != "sgd":
        optimizer_values.setdefault("momentum", 0.0)  # the momentum defaults are sgd's
        optimizer_values.setdefault("nesterov", False)
    config = ExperimentConfig(
        name=check_type("", "name", values.get("name", "seed"), str),
        data=section(DataConfig, "data", values.get("data", {})),
        model=model,
        optimizer=section(OptimizerConfig, "optimizer", optimizer_values),
        training=section(TrainingConfig, "training", values.get("training", {})),
    )
    check_ranges(config)
    return config


def unknown_keys(values: dict[str, Any], known: set[str], where: str) -> None:
    extra = sorted(set(values) - known)
    if extra:
        raise ConfigError(
            f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))} in {where}; "
            f"expected some of: {', '.join(sorted(known))}"
        )


def section(cls, name: str, values: dict[str, Any]):
    """One flat config section, with each value's type checked against the field's default."""
    if not isinstance(values, dict):
        raise ConfigError(f"[{name}] must be a table of keys, got {values!r}")
    unknown_keys(values, {f.name for f in fields(cls)}, f"[{name}]")
    checked = {}
    for f in fields(cls):
        if f.name in values:
            expected = type(f.default) if f.default is not None else str
            checked[f.name] = check_type(name, f.name, values[f.name], expected)
    return cls(**checked)


def check_type(section_name: str, key: str, value: Any, expected: type) -> Any:
    """value, if it is of the expected type (an int is accepted for a float); else ConfigError."""
    where = f"[{section_name}] {key}" if section_name else key
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{where} = {value!r}: expected a {expected.__name__}")


def check_ranges(config: ExperimentConfig) -> None:
    """Value ranges that the types alone do not catch."""
    training, optimizer, data = config.training, config.optimizer, config.data
    problems = []
    if training.epochs < 1:
        problems.append(f"[training] epochs = {training.epochs}: expected >= 1")
    if training.batch_size < 1:
        problems.append(f"[training] batch_size = {training.batch_size}: expected >= 1")
    if not 0 <= training.validation_split < 1:
        problems.append(
            f"[training] validation_split = {training.validation_split}: expected 0 <= x < 1"
        )
    if training.engine not in ENGINES:
        problems.append(f"[training] engine = {training.engine!r}: expected one of {ENGINES}")
    if training.early_stopping_patience < -1:
        problems.append("[training] early_stopping_patience: expected >= 0, or -1 to disable")
    if optimizer.learning_rate <= 0:
        problems.append(f"[optimizer] learning_rate = {optimizer.learning_rate}: expected > 0")
    if data.train_limit < 0 or data.test_limit < 0:
        problems.append("[data] train_limit and test_limit: expected >= 0 (0 = all)")
    if problems:
        raise ConfigError("; ".join(problems))
