"""Populations train each member as the single-model engine trains it alone: same weights and
metrics per member (seeds, learning rates, dropout, validation, partial batch, early stopping),
split programs give the same result, and a killed population resumes exactly."""

from __future__ import annotations

from types import SimpleNamespace

import jax
import keras
import numpy as np
import pytest
from conftest import synthetic_dataset

import fashion_mlp  # noqa: F401  (selects the JAX backend before Keras is imported)
from fashion_mlp.config import MLPSpec, OptimizerConfig
from fashion_mlp.errors import ConfigError
from fashion_mlp.losses import (
    DistillationLoss,
    LabelAccuracy,
    SparseCategoricalCrossentropyWithSmoothing,
)
from fashion_mlp.models import build_model
from fashion_mlp.training import compile_model, fit
from fashion_mlp.training.population import train_population
from fashion_mlp.training.population.early_stopping import MemberStop
from fashion_mlp.training.population.placement import (
    MemberPlacement,
    member_device_count,
    padded_size,
)
from fashion_mlp.training.population.planning import (
    CPU_MEMBERS_PER_DEVICE,
    member_bytes,
    members_per_program_for,
)

DATA = synthetic_dataset(220, 40, seed=5)  # 198 train = 12 batches of 16 + 6; 22 validation
BATCH = 16
SPLIT = 0.1
COMPARED = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")


def small_model(seed: int, learning_rate: float = 0.01, dropout: float = 0.2) -> keras.Model:
    """A tiny MLP with dropout; its initial weights follow `seed`."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def alone(seed, learning_rate, epochs, patience=-1):
    """The member trained by itself on the single-model compiled engine."""
    model = small_model(seed, learning_rate)
    stop = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    history = fit(
        model,
        DATA,
        epochs=epochs,
        batch_size=BATCH,
        validation_split=SPLIT,
        seed=seed,
        engine="compiled",
        callbacks=[stop] if patience >= 0 else [],
    )
    return model, history.history


def assert_same(model, history, expected_model, expected_history, rtol=0.0, atol=2e-5):
    for a, b in zip(model.get_weights(), expected_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for name in COMPARED:
        relative = max(rtol, 1e-4)
        assert history[name] == pytest.approx(expected_history[name], rel=relative, abs=1e-6), name


@pytest.mark.slow
def test_two_members_match_each_trained_alone_early_stopping_included():
    members = [(1, 0.01), (2, 2.0)]  # lr 2.0 diverges: its val_loss rises and it stops early
    models = [small_model(seed, rate) for seed, rate in members]
    histories = train_population(
        models,
        DATA,
        seeds=[1, 2],
        epochs=5,
        batch_size=BATCH,
        validation_split=SPLIT,
        early_stopping_patience=1,
    )
    for model, history, (seed, rate) in zip(models, histories, members, strict=True):
        # On several CPU devices each member's share of the program is compiled apart, so its
        # sums may round differently (~1e-7); the diverging member magnifies that to ~2e-4
        # (an epoch too many or too few at its rate would move its weights by far more).
        rtol, atol = (1e-3, 5e-4) if rate > 1 else (0.0, 2e-5)
        expected = alone(seed, rate, epochs=5, patience=1)
        assert_same(model, history, *expected, rtol=rtol, atol=atol)
    assert len(histories[1]["loss"]) < len(histories[0]["loss"]) == 5  # one stopped, one went on
    assert histories[0]["learning_rate"] == pytest.approx([0.01] * 5)
    assert histories[1]["learning_rate"][0] == pytest.approx(2.0)


@pytest.mark.slow  # four population programs
def test_a_killed_population_resumes_exactly_and_split_programs_agree(tmp_path):
    """The reference trains the members one per program; the resumed run trains them together."""
    settings = {"seeds": [5, 6], "epochs": 3, "batch_size": BATCH, "early_stopping_patience": 2}
    expected = [small_model(seed) for seed in (5, 6)]
    expected_histories = train_population(expected, DATA, members_per_program=1, **settings)

    def kill_after_first_epoch(epoch, logs):
        if epoch == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_population(
            [small_model(seed) for seed in (5, 6)],
            DATA,
            checkpoint_dir=tmp_path,
            on_epoch_end=kill_after_first_epoch,
            **settings,
        )
    seen = []
    resumed = [small_model(seed) for seed in (5, 6)]  # fresh weights: the checkpoint decides
    histories = train_population(
        resumed,
        DATA,
        checkpoint_dir=tmp_path,
        on_epoch_end=lambda epoch, logs: seen.append(epoch),
        **settings,
    )
    assert seen == [1, 2]
    for model, history, reference, reference_history in zip(
        resumed, histories, expected, expected_histories, strict=True
    ):
        for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, atol=2e-5)
        assert history["loss"] == pytest.approx(reference_history["loss"], rel=1e-5)
    assert int(resumed[0].optimizer.iterations) == int(expected[0].optimizer.iterations)


@pytest.mark.slow
def test_a_padded_population_matches_its_members_alone_and_resumes(tmp_path):
    """Three members on two or more CPU devices train in four slots (one a padding copy, never
    kept); its checkpoint holds the three real members only."""
    if jax.devices()[0].platform == "cpu" and len(jax.devices()) >= 2:
        assert padded_size(3, 8, jax.devices()) == 4  # so padding is what this test runs
    seeds = [1, 2, 3]

    def kill_after_first_epoch(epoch, logs):
        assert len(logs) == 3  # the callback never sees the padding
        if epoch == 0:
            raise KeyboardInterrupt

    settings = {
        "seeds": seeds,
        "epochs": 2,
        "batch_size": BATCH,
        "validation_split": SPLIT,
        "members_per_program": 8,
        "checkpoint_dir": tmp_path,
    }
    with pytest.raises(KeyboardInterrupt):
        train_population(
            [small_model(seed) for seed in seeds],
            DATA,
            on_epoch_end=kill_after_first_epoch,
            **settings,
        )
    with np.load(tmp_path / "state.npz") as arrays:
        assert all(len(arrays[name]) == 3 for name in arrays.files if name != "record")
    models = [small_model(seed) for seed in seeds]
    histories = train_population(models, DATA, **settings)
    assert len(histories) == 3
    for model, history, seed in zip(models, histories, seeds, strict=True):
        assert_same(model, history, *alone(seed, 0.01, epochs=2))


@pytest.mark.slow
@pytest.mark.parametrize(
    "setting, values",
    [("weight_decay", [0.0, 0.5]), ("label_smoothing", [0.05, 0.4])],  # far apart in 2 epochs
)
def test_members_with_their_own_decay_or_smoothing_match_each_trained_alone(setting, values):
    def member(value):
        model = small_model(3)
        decay = value if setting == "weight_decay" else 0.01
        smoothing = value if setting == "label_smoothing" else 0.1
        model.compile(
            optimizer=keras.optimizers.AdamW(0.01, weight_decay=decay),
            loss=SparseCategoricalCrossentropyWithSmoothing(smoothing),
            metrics=["accuracy"],
        )
        return model

    models = [member(value) for value in values]
    histories = train_population(
        models, DATA, seeds=[3, 3], epochs=2, batch_size=BATCH, validation_split=SPLIT
    )
    for model, history, value in zip(models, histories, values, strict=True):
        reference = member(value)
        expected = fit(
            reference,
            DATA,
            epochs=2,
            batch_size=BATCH,
            validation_split=SPLIT,
            seed=3,
            engine="compiled",
        )
        assert_same(model, history, reference, expected.history)  # val_loss: its own smoothing
    first, second = (model.get_weights()[0] for model in models)
    assert np.abs(first - second).max() > 1e-3  # the values made a difference


@pytest.mark.slow
def test_students_with_their_own_temperature_and_alpha_match_each_trained_alone():
    teacher = np.random.default_rng(1).dirichlet(np.ones(10) * 0.5, size=len(DATA.y_train))
    targets = np.concatenate([np.eye(10)[DATA.y_train], teacher], axis=1).astype(np.float32)
    settings = [(1.0, 0.2), (8.0, 0.9)]  # far apart in 2 epochs

    def student(temperature, alpha):
        model = small_model(3)
        model.compile(
            optimizer=keras.optimizers.Adam(0.01),
            loss=DistillationLoss(temperature, alpha, label_smoothing=0.1),
            metrics=[LabelAccuracy()],
        )
        return model

    models = [student(*values) for values in settings]
    histories = train_population(
        models,
        DATA,
        seeds=[3, 3],
        epochs=2,
        batch_size=BATCH,
        validation_split=SPLIT,
        targets=targets,
    )
    for model, history, values in zip(models, histories, settings, strict=True):
        reference = student(*values)
        expected = fit(
            reference,
            DATA,
            epochs=2,
            batch_size=BATCH,
            validation_split=SPLIT,
            seed=3,
            engine="compiled",
            targets=targets,
        )
        assert_same(model, history, reference, expected.history)
    first, second = (model.get_weights()[0] for model in models)
    assert np.abs(first - second).max() > 1e-3  # the values made a difference


@pytest.mark.slow
def test_members_with_their_own_dropout_rate_match_each_trained_alone():
    rates = [0.05, 0.7]
    models = [small_model(3, dropout=rate) for rate in rates]
    histories = train_population(
        models, DATA, seeds=[3, 3], epochs=2, batch_size=BATCH, validation_split=SPLIT
    )
    for model, history, rate in zip(models, histories, rates, strict=True):
        reference = small_model(3, dropout=rate)
        expected = fit(
            reference,
            DATA,
            epochs=2,
            batch_size=BATCH,
            validation_split=SPLIT,
            seed=3,
            engine="compiled",
        )
        assert_same(model, history, reference, expected.history)  # the same units dropped
    first, second = (model.get_weights()[0] for model in models)
    assert np.abs(first - second).max() > 1e-3  # the rates made a difference
    assert "call" not in vars(models[0].layers[3])  # the template's Dropout is itself again


def normalised_model(seed: int, x_fit: np.ndarray) -> keras.Model:
    """The project's MLP: its Normalization layer adapted on `x_fit` holds constants."""
    keras.utils.set_random_seed(seed)
    model = build_model(MLPSpec(hidden=(16,)), "sequential", x_train=x_fit)
    compile_model(model, OptimizerConfig())
    return model


@pytest.mark.slow
def test_a_population_on_other_data_does_not_reuse_the_last_ones_constants():
    other = synthetic_dataset(220, 40, seed=9)
    other.x_train[:] = other.x_train // 3  # darker: another Normalization mean and variance
    train_population([normalised_model(0, DATA.x_train)], DATA, seeds=[0], epochs=1)
    model = normalised_model(0, other.x_train)
    history = train_population(
        [model], other, seeds=[0], epochs=2, batch_size=BATCH, validation_split=SPLIT
    )[0]
    reference = normalised_model(0, other.x_train)
    expected = fit(
        reference,
        other,
        epochs=2,
        batch_size=BATCH,
        validation_split=SPLIT,
        seed=0,
        engine="compiled",
    )
    assert_same(model, history, reference, expected.history)
    with pytest.raises(ConfigError, match="member 1 differs from member 0 in its layer constants"):
        train_population([model, normalised_model(0, DATA.x_train)], other, seeds=[0, 1], epochs=1)


def test_members_that_differ_beyond_seed_and_learning_rate_are_refused():
    with pytest.raises(ConfigError, match="member 1 differs from member 0 in its architecture"):
        train_population(  # dropout in one member only: a different step
            [small_model(0), small_model(1, dropout=0.0)], DATA, seeds=[0, 1], epochs=1
        )
    spatial = [
        keras.Sequential(
            [
                keras.Input((28, 28)),
                keras.layers.SpatialDropout1D(rate),
                keras.layers.Flatten(),
                keras.layers.Dense(10),
            ]
        )
        for rate in (0.1, 0.2)
    ]
    for model in spatial:
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ConfigError, match="in its architecture"):  # its own mask: rate shared
        train_population(spatial, DATA, seeds=[0, 1], epochs=1)
    with pytest.raises(ConfigError, match="one seed per model"):
        train_population([small_model(0)], DATA, seeds=[0, 1], epochs=1)


def test_members_per_program_follows_memory():
    model = small_model(0)
    one = member_bytes(model, BATCH)
    assert members_per_program_for(model, BATCH, free_bytes=10 * one) == 5  # half the memory
    assert members_per_program_for(model, BATCH, free_bytes=one // 10) == 1
    copies = len(jax.devices()) if jax.devices()[0].platform == "cpu" else 1
    data = 7 * one  # each CPU device holds a copy of the data
    free = 10 * one + copies * data
    assert members_per_program_for(model, BATCH, free_bytes=free, data_bytes=data) == 5
    devices = jax.devices()
    most = CPU_MEMBERS_PER_DEVICE * len(devices) if devices[0].platform == "cpu" else 128
    assert members_per_program_for(model, BATCH, free_bytes=10**15) == most  # cache, not memory


def test_members_are_split_evenly_over_cpu_devices_only():
    cpu, gpu = SimpleNamespace(platform="cpu"), SimpleNamespace(platform="gpu")
    assert member_device_count(8, [cpu] * 2) == 2
    assert member_device_count(6, [cpu] * 4) == 3  # the most devices that split 6 evenly
    assert member_device_count(5, [cpu] * 2) == 1
    assert member_device_count(8, [gpu] * 2) == 1  # an accelerator runs them all at once
    assert padded_size(5, 8, [cpu] * 2) == 6  # 3 per core, not 5 on one core
    assert padded_size(7, 16, [cpu] * 4) == 8
    assert padded_size(6, 16, [cpu] * 4) == 6  # 2 per device on 3 devices: no gain from 8
    assert padded_size(3, 32, [cpu] * 8) == 3  # one per device on 3 devices already
    assert padded_size(1, 8, [cpu] * 2) == 1
    assert padded_size(3, 3, [cpu] * 2) == 3  # 4 would exceed the 3 asked for
    assert padded_size(5, 8, [gpu] * 2) == 5


@pytest.mark.skipif(len(jax.devices()) < 2, reason="needs two JAX devices (two CPU cores)")
def test_a_placement_on_two_devices_puts_half_the_members_on_each():
    placement = MemberPlacement(4)
    split = placement.split(np.arange(12.0).reshape(4, 3))
    assert [shard.data.shape for shard in split.addressable_shards] == [(2, 3), (2, 3)]
    assert len({shard.device for shard in split.addressable_shards}) == 2
    whole = placement.whole(np.arange(5))
    assert [shard.data.shape for shard in whole.addressable_shards] == [(5,), (5,)]
    np.testing.assert_array_equal(np.asarray(split), np.arange(12.0).reshape(4, 3))


def test_member_stop_follows_keras_early_stopping_rules():
    stop = MemberStop()
    assert stop.update(0, 1.0, patience=2)
    assert not stop.update(1, 1.0, patience=2) and stop.stopped_epoch is None  # not better
    assert not stop.update(2, 1.5, patience=2) and stop.stopped_epoch == 2
