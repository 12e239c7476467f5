"""The compiled engine trains like `model.fit`: same batches give the same weights; callbacks,
dropout, batch normalisation, seeds and resume behave as they do with fit."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from conftest import synthetic_dataset

import fashion_mlp  # noqa: F401  (selects the JAX backend before Keras is imported)
from fashion_mlp.errors import ConfigError
from fashion_mlp.training.compiled import chunked_batches, fit_compiled, scan_steps
from fashion_mlp.training.seeding import epoch_order

BATCH = 16
ENGINES = ("keras", "compiled")
DATA = synthetic_dataset(200, 72, seed=3)  # 200 = 12 full batches of 16 + a partial one of 8


def small_model(*, dropout=0.0, batch_norm=False, learning_rate=0.01, metrics=("accuracy",)):
    """A tiny MLP on raw uint8 pixels, with the same initial weights on every call."""
    keras.utils.set_random_seed(0)
    layers = [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Rescaling(1 / 255)]
    layers.append(keras.layers.Dense(16, activation="tanh"))
    if batch_norm:
        layers.append(keras.layers.BatchNormalization())
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=list(metrics),
    )
    return model


def train(model, epochs=1, **kwargs):
    kwargs.setdefault("validation_data", (DATA.x_test, DATA.y_test))
    return fit_compiled(
        model, DATA.x_train, DATA.y_train, epochs=epochs, batch_size=BATCH, **kwargs
    )


def assert_same_weights(model_a, model_b, atol=0.0):
    for a, b in zip(model_a.get_weights(), model_b.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


class SamplesSeen(keras.metrics.Metric):
    """Counts the training samples the metric is updated with."""

    def __init__(self, name="samples_seen", **kwargs):
        super().__init__(name=name, **kwargs)
        self.seen = self.add_variable(shape=(), initializer="zeros", name="seen")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.seen.assign_add(keras.ops.cast(keras.ops.shape(y_true)[0], "float32"))

    def result(self):
        return keras.ops.convert_to_tensor(self.seen)


def test_same_batches_as_fit_give_the_same_weights_and_logs():
    """fit on the data pre-shuffled in the engine's order (shuffle=False) is the reference."""
    order = epoch_order(len(DATA.x_train), seed=7, epoch=0)
    reference = small_model()
    expected = reference.fit(
        DATA.x_train[order],
        DATA.y_train[order],
        batch_size=BATCH,
        epochs=1,
        shuffle=False,
        validation_data=(DATA.x_test, DATA.y_test),
        verbose=0,
    ).history
    model = small_model()
    history = train(model, seed=7).history

    assert_same_weights(model, reference, atol=1e-5)
    assert set(history) == set(expected)
    for name in expected:
        assert history[name][0] == pytest.approx(expected[name][0], rel=1e-4), name


def test_close_to_fit_with_its_own_shuffling():
    reference = (
        small_model()
        .fit(DATA.x_train, DATA.y_train, batch_size=BATCH, epochs=2, verbose=0)
        .history["loss"]
    )
    losses = train(small_model(), epochs=2, validation_data=None).history["loss"]
    assert losses == pytest.approx(reference, rel=0.1)
    assert losses[1] < losses[0]


def test_partial_last_batch_is_trained_and_iterations_advance():
    model = small_model(metrics=[SamplesSeen()])
    history = train(model, epochs=2, validation_data=None).history

    assert history["samples_seen"] == [len(DATA.x_train)] * 2
    assert int(model.optimizer.iterations) == 2 * math.ceil(len(DATA.x_train) / BATCH)


def test_each_epoch_covers_every_sample_once_in_its_chunks():
    order = epoch_order(200, seed=1, epoch=4)
    chunks = chunked_batches(order, BATCH, chunks=5)
    np.testing.assert_array_equal(np.concatenate([chunk.ravel() for chunk in chunks]), order)
    assert {chunk.shape for chunk in chunks[:-1]} == {(3, BATCH)}  # 12 full steps in 4 chunks
    assert chunks[-1].shape == (1, 200 % BATCH)
    assert not np.array_equal(order, epoch_order(200, seed=1, epoch=5))


@pytest.mark.parametrize("gather_first", [True, False])
def test_a_chunk_scan_feeds_each_batch_in_order_and_returns_the_last_logs(gather_first):
    """Gathered at once (one model) or step by step (populations), each step sees its batch."""
    x = np.arange(12, dtype=np.float32) * 10
    y = np.arange(12, dtype=np.int32)
    x_device, y_device = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y)
    batch_indices = np.array([[3, 1], [0, 7], [11, 5]], dtype=np.int32)

    def step(state, batch):
        rows, labels = batch
        state = state + rows.sum()
        return {"rows": rows, "labels": labels, "total": state}, state

    state, logs = scan_steps(
        step, np.float32(1), x_device, y_device, batch_indices, gather_first=gather_first
    )

    assert float(state) == 1 + 10 * batch_indices.sum()
    np.testing.assert_array_equal(logs["rows"], x[[11, 5]])
    np.testing.assert_array_equal(logs["labels"], [11, 5])
    assert float(logs["total"]) == float(state)


def test_chunking_reports_progress_without_changing_results():
    class Steps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append((batch, dict(logs)))

    progress = Steps()
    chunked = small_model()
    train(chunked, chunks_per_epoch=4, callbacks=[progress])
    whole = small_model()
    train(whole, chunks_per_epoch=1)

    assert_same_weights(chunked, whole, atol=1e-6)
    steps = [step for step, _ in progress.ends]
    assert len(steps) == 5  # 4 chunks of full batches, then the partial batch
    assert steps == sorted(steps) and steps[-1] == math.ceil(len(DATA.x_train) / BATCH) - 1
    assert all("loss" in logs and "accuracy" in logs for _, logs in progress.ends)


def test_early_stopping_stops_and_restores_the_best_weights():
    class WeightsPerEpoch(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append(self.model.get_weights())

    recorder = WeightsPerEpoch()
    # The training loss falls every epoch, so "max" mode sees its best at epoch 0 and stops.
    stopper = keras.callbacks.EarlyStopping(
        monitor="loss", mode="max", patience=1, restore_best_weights=True
    )
    model = small_model()
    history = train(model, epochs=10, callbacks=[recorder, stopper])

    assert len(history.history["loss"]) == 2
    assert stopper.stopped_epoch == 1
    for restored, best in zip(model.get_weights(), recorder.weights[0], strict=True):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(recorder.weights[0][0], recorder.weights[1][0])


def test_a_user_callback_sees_the_weights_of_each_epoch_end():
    class EvaluateAtEpochEnd(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.results = []

        def on_epoch_end(self, epoch, logs=None):
            loss = self.model.evaluate(DATA.x_test, DATA.y_test, batch_size=BATCH, verbose=0)[0]
            self.results.append((loss, logs["val_loss"]))

    callback = EvaluateAtEpochEnd()
    train(small_model(), epochs=3, callbacks=[callback])

    for evaluated, logged in callback.results:
        assert evaluated == pytest.approx(logged, rel=1e-5)
    assert callback.results[0][0] != callback.results[-1][0]


def test_dropout_is_random_in_training_and_off_in_evaluation():
    # Learning rate 0: the weights stay put, so only dropout can change the losses.
    model = small_model(dropout=0.5, learning_rate=0.0)
    history = train(model, epochs=2, validation_data=(DATA.x_train, DATA.y_train)).history
    evaluated = model.evaluate(DATA.x_train, DATA.y_train, batch_size=BATCH, verbose=0)[0]

    assert history["val_loss"][0] == pytest.approx(evaluated, rel=1e-5)
    assert history["val_loss"][0] == history["val_loss"][1]
    assert history["loss"][0] != pytest.approx(evaluated, rel=1e-3)
    assert history["loss"][0] != history["loss"][1]  # new dropout masks each epoch


def test_batch_norm_moving_statistics_are_updated():
    model = small_model(batch_norm=True)
    norm = next(
        layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
    )
    before = np.asarray(norm.moving_mean).copy()
    history = train(model, epochs=1).history

    assert not np.allclose(np.asarray(norm.moving_mean), before)
    evaluated = model.evaluate(DATA.x_test, DATA.y_test, batch_size=BATCH, verbose=0)[0]
    assert history["val_loss"][0] == pytest.approx(evaluated, rel=1e-5)


@pytest.mark.slow  # three trainings
def test_same_seed_gives_identical_results_and_another_seed_does_not():
    first, second, other = (
        small_model(dropout=0.2),
        small_model(dropout=0.2),
        small_model(dropout=0.2),
    )
    history_first = train(first, epochs=2, seed=5).history
    history_second = train(second, epochs=2, seed=5).history
    train(other, epochs=2, seed=6)

    assert history_first == history_second
    assert_same_weights(first, second)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


@pytest.mark.slow  # three trainings
def test_resume_at_an_initial_epoch_equals_an_uninterrupted_run(tmp_path):
    uninterrupted = small_model(dropout=0.2)
    expected = train(uninterrupted, epochs=3, seed=2).history

    interrupted = small_model(dropout=0.2)
    train(interrupted, epochs=1, seed=2)
    interrupted.save(tmp_path / "checkpoint.keras")
    resumed = keras.saving.load_model(tmp_path / "checkpoint.keras")
    history = train(resumed, epochs=3, seed=2, initial_epoch=1).history

    assert_same_weights(resumed, uninterrupted, atol=1e-6)
    assert int(resumed.optimizer.iterations) == int(uninterrupted.optimizer.iterations)
    assert history["loss"] == pytest.approx(expected["loss"][1:], rel=1e-5)


def test_an_uncompiled_model_is_a_clear_error():
    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    with pytest.raises(ConfigError, match="not compiled"):
        fit_compiled(model, DATA.x_train, DATA.y_train, epochs=1, batch_size=BATCH)


def test_mismatched_data_is_a_clear_error():
    with pytest.raises(ConfigError, match="x has 200 samples and y has 10"):
        fit_compiled(small_model(), DATA.x_train, DATA.y_train[:10], epochs=1, batch_size=BATCH)


def real_test_accuracy(data, engine: str, seed: int, epochs: int) -> float:
    """The notebook's network trained on the real data with `engine`; its test accuracy."""
    from fashion_mlp import fit
    from fashion_mlp.config import MLPSpec
    from fashion_mlp.models import build_model
    from fashion_mlp.training.optimizers import compile_model

    keras.utils.set_random_seed(seed)
    model = build_model(MLPSpec(), style="functional", data=data)
    compile_model(model, learning_rate=0.01, momentum=0.9, nesterov=True)
    fit(model, data, epochs=epochs, batch_size=16, validation_split=0.1, seed=seed, engine=engine)
    return model.evaluate(data.x_test, data.y_test, batch_size=1024, verbose=0)[1]


@pytest.mark.realdata
def test_one_real_epoch_is_as_accurate_as_fit(real_data):
    accuracies = {engine: real_test_accuracy(real_data, engine, 0, 1) for engine in ENGINES}
    assert accuracies["compiled"] == pytest.approx(accuracies["keras"], abs=0.01), accuracies
