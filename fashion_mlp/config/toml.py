"""Config files: TOML read and written, and `build_config`, which layers preset, file and flags."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tomli_w

from fashion_mlp.config.settings import (
    DATA_SHAPED_SPEC_FIELDS,
    DataConfig,
    DistillConfig,
    ExperimentConfig,
    MLPSpec,
    ModelConfig,
    TrainingConfig,
    optimizer_config,
)
from fashion_mlp.config.validation import field_names, unknown_keys
from fashion_mlp.errors import ConfigError

SECTIONS = ("data", "model", "optimizer", "training", "distill")  # the tables of config.toml


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
        ConfigError: naming the table, the key, the value and what was expected.

    Examples:
        >>> build_config(preset("smoke"), {"optimizer": {"optimizer": "adam"}}).optimizer.momentum
        0.0
    """
    values: dict[str, Any] = {}
    for layer in layers:
        for name in SECTIONS:
            table(layer, name)  # a layer's non-table section would reset the layers below
        values = merge(values, layer)
    unknown_keys(values, {"name", *SECTIONS}, "the top level")
    data = section(DataConfig, "data", table(values, "data"))
    model = model_config(table(values, "model"))
    with in_section("optimizer"):
        optimizer = optimizer_config(table(values, "optimizer"))
    training = section(TrainingConfig, "training", table(values, "training"))
    distill = section(DistillConfig, "distill", table(values, "distill"))
    return ExperimentConfig(
        values.get("name", ExperimentConfig.name), data, model, optimizer, training, distill
    )


def table(values: dict[str, Any], name: str) -> dict[str, Any]:
    """The [name] table of a config, or a ConfigError when it is not a table."""
    section_values = values.get(name, {})
    if not isinstance(section_values, dict):
        raise ConfigError(f"[{name}] must be a table of keys, got {section_values!r}")
    return section_values


@contextmanager
def in_section(name: str) -> Iterator[None]:
    """Prefix the ConfigErrors raised inside with the table's name, as "[name] ..."."""
    try:
        yield
    except ConfigError as error:
        message = str(error)
        raise ConfigError(message if message.startswith("[") else f"[{name}] {message}") from None


def section(cls, name: str, values: dict[str, Any]):
    """The [name] table as a validated `cls`; errors name the table."""
    unknown_keys(values, field_names(cls), f"[{name}]")
    with in_section(name):
        return cls(**values)


def model_config(values: dict[str, Any]) -> ModelConfig:
    """The [model] table: MLPSpec fields plus style and user_model."""
    for key in DATA_SHAPED_SPEC_FIELDS:
        if key in values:
            raise ConfigError(
                f"[model] {key} = {values[key]!r}: {key} is taken from the data set, not set in "
                "a config; remove it (use [data] name to choose the data set)"
            )
    unknown_keys(values, field_names(MLPSpec) | {"style", "user_model"}, "[model]")
    spec_values = {key: values[key] for key in field_names(MLPSpec) if key in values}
    with in_section("model"):
        spec = MLPSpec(**spec_values)
        return ModelConfig(spec, values.get("style", ModelConfig.style), values.get("user_model"))
