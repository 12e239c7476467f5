"""A config built from a preset and named for what it trains: the name a person gave, else the
preset's while the model is the preset's, else the model's ('mlp-256-128-relu'), so a run is
never listed as a preset it is not. The CLI and the server both name runs by it. Keras-free."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from fashion_mlp.config import ExperimentConfig, ModelConfig, build_config
from fashion_mlp.presets import preset


@functools.cache
def preset_model(name: str) -> ModelConfig:
    """The model of preset `name`."""
    return build_config(preset(name)).model


def preset_config(preset_name: str, *layers: dict[str, Any]) -> ExperimentConfig:
    """The preset, then `layers` (a config file, flags, a request's overrides), validated; named
    by the last layer giving a top-level "name", else as the model says (see the module).

    Raises:
        ConfigError: for an unknown preset or a bad value in a layer.
    """
    config = build_config(preset(preset_name), *layers)
    if any("name" in layer for layer in layers) or config.model == preset_model(preset_name):
        return config
    return dataclasses.replace(config, name=config.model.short_name)
