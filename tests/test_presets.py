"""Presets: notebook is the notebook's experiment and the defaults; an unknown or renamed
preset is a clear error naming the known ones."""

from __future__ import annotations

import pytest

from fashion_mlp.config import ExperimentConfig, build_config
from fashion_mlp.errors import ConfigError
from fashion_mlp.presets import preset


def test_notebook_preset_is_the_notebook_experiment():
    config = build_config(preset("notebook"))
    assert config.model.spec.hidden == (64, 32)
    assert config.model.spec.activation == "tanh"
    assert config.model.style == "sequential"
    optimizer = config.optimizer
    assert (optimizer.optimizer, optimizer.learning_rate, optimizer.momentum) == ("sgd", 0.01, 0.9)
    assert optimizer.nesterov
    training = config.training
    assert (training.epochs, training.batch_size, training.validation_split) == (10, 16, 0.1)
    assert training.seed == 0


def test_defaults_equal_the_notebook_preset():
    assert build_config(preset("notebook")) == ExperimentConfig()


def test_unknown_preset():
    with pytest.raises(ConfigError, match="preset .fastest. is unknown; expected one of notebook"):
        preset("fastest")


def test_the_old_preset_name_says_the_new_one():
    with pytest.raises(ConfigError, match="preset 'seed' is now called 'notebook'"):
        preset("seed")
