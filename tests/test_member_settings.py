"""What may differ per population member is declared once (member_settings.PER_MEMBER): a
setting added there alone is followed by the sweep's grouping, the population's check of its
members and the traced step."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import synthetic_dataset

import fashion_mlp  # noqa: F401  (selects the JAX backend before Keras is imported)
from fashion_mlp import member_settings
from fashion_mlp.config import build_config
from fashion_mlp.errors import ConfigError
from fashion_mlp.member_settings import InModel, PerMember
from fashion_mlp.sweeps.grouping import population_key
from fashion_mlp.training import fit
from fashion_mlp.training.population import train_population
from fashion_mlp.training.population.members import check_members

DATA = synthetic_dataset(120, 20, seed=4)
BETAS = (0.9, 0.3)  # Adam's beta_1: not per member today
BETA_PER_MEMBER = PerMember("optimizer.beta_1", "beta_1", in_model=InModel("optimizer", "beta_1"))


def adam_model(beta_1: float) -> keras.Model:
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01, beta_1=beta_1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def adam_configs():
    return [build_config({"optimizer": {"optimizer": "adam", "beta_1": beta}}) for beta in BETAS]


def test_the_declaration_is_described_in_words():
    text = member_settings.described()
    for setting in member_settings.PER_MEMBER:
        assert setting.words in text
    assert text.startswith("seed")


@pytest.mark.slow  # compiles a population and two twins
def test_a_setting_added_to_the_declaration_is_followed_everywhere(monkeypatch):
    configs, models = adam_configs(), [adam_model(beta) for beta in BETAS]
    assert population_key(configs[0]) != population_key(configs[1])
    with pytest.raises(ConfigError, match="optimizer settings"):
        check_members(models)

    monkeypatch.setattr(
        member_settings, "PER_MEMBER", (*member_settings.PER_MEMBER, BETA_PER_MEMBER)
    )
    assert population_key(configs[0]) == population_key(configs[1])
    check_members(models)
    assert "beta_1" in member_settings.described()
    histories = train_population(models, DATA, seeds=[1, 1], epochs=2, batch_size=16)
    for model, history, beta in zip(models, histories, BETAS, strict=True):
        reference = adam_model(beta)
        expected = fit(reference, DATA, epochs=2, batch_size=16, seed=1, engine="compiled")
        for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
            np.testing.assert_allclose(got, want, atol=2e-5)
        assert history["val_loss"] == pytest.approx(expected.history["val_loss"], rel=1e-4)
    first, second = (model.get_weights()[0] for model in models)
    assert np.abs(first - second).max() > 1e-3  # each member's beta_1 made a difference
