"""Training: `fit` with the notebook's semantics behind one call, on either engine.

`engine="keras"` runs `model.fit`; `engine="compiled"` runs the JAX-compiled engine;
`engine="auto"` picks compiled on the JAX backend and keras elsewhere.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from fashion_mlp.errors import ConfigError

ENGINES = ("auto", "keras", "compiled")
SEED_STATE_NAME = "seed_generator_state"  # the variable Keras's SeedGenerator keeps its state in


def resolve_engine(engine: str) -> str:
    """The engine `engine` stands for on this backend ("auto" -> compiled on JAX, else keras)."""
    if engine not in ENGINES:
        raise ConfigError(f"engine={engine!r}: expected one of {', '.join(ENGINES)}")
    if engine == "auto":
        return "compiled" if keras.backend.backend() == "jax" else "keras"
    if engine == "compiled" and keras.backend.backend() != "jax":
        raise ConfigError(
            f"engine='compiled' needs the JAX backend, but Keras runs on "
            f"{keras.backend.backend()!r}; use --engine keras or unset KERAS_BACKEND"
        )
    return engine


def integer_labels(labels: np.ndarray) -> np.ndarray:
    """Integer class labels; one-hot rows (the notebook's to_categorical) become their argmax."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        return labels.argmax(axis=1).astype(np.int32)
    return labels.astype(np.int32)


def split_validation(x: np.ndarray, y: np.ndarray, validation_split: float):
    """(x_train, y_train, x_val, y_val): the LAST fraction held out, unshuffled, as Keras does."""
    if not 0 <= validation_split < 1:
        raise ConfigError(f"validation_split={validation_split}: expected 0 <= x < 1")
    split_at = math.floor(len(x) * (1.0 - validation_split))
    if validation_split == 0:
        return x, y, None, None
    if split_at == 0 or split_at == len(x):
        raise ConfigError(
            f"validation_split={validation_split} of {len(x)} samples leaves an empty "
            f"{'training' if split_at == 0 else 'validation'} set; choose another fraction"
        )
    return x[:split_at], y[:split_at], x[split_at:], y[split_at:]


class EpochStats(keras.callbacks.Callback):
    """Adds each epoch's wall-clock seconds and learning rate to its logs (and so the history)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        logs["seconds"] = time.perf_counter() - self.started
        learning_rate = self.model.optimizer.learning_rate  # the schedule's value now
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(learning_rate))


def seed_random_layers(model: keras.Model, seed: int, epoch: int) -> None:
    """Reseed every random layer (Dropout, ...) from the run's seed and the epoch.

    `model.keras` does not store SeedGenerator states, so this is what makes a run resumed from
    a saved model draw the same dropout masks as an uninterrupted one.
    """
    states = [v for v in model.non_trainable_variables if v.name == SEED_STATE_NAME]
    for index, state in enumerate(states):
        layer_seed = np.random.default_rng([seed, epoch, index]).integers(2**31)
        state.assign(np.array([layer_seed, 0], dtype=state.dtype))


class EpochSeeds(keras.callbacks.Callback):
    """For `model.fit`: seeds NumPy's global generator (which fit shuffles with) and the random
    layers from (seed, epoch), so a resumed run sees the same batches and dropout masks."""

    def __init__(self, seed: int):
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        np.random.seed((self.seed * 1_000_003 + epoch) % 2**32)
        seed_random_layers(self.model, self.seed, epoch)


def fit(
    model: keras.Model,
    data,
    *,
    epochs: int = 10,
    batch_size: int = 16,
    validation_split: float = 0.1,
    seed: int = 0,
    engine: str = "auto",
    callbacks=(),
    initial_epoch: int = 0,
) -> keras.callbacks.History:
    """Train a compiled model on `data.x_train` like the notebook's `fit` call.

    The validation set is the LAST `validation_split` of the training data, unshuffled (as
    Keras's `validation_split`); training batches are shuffled each epoch from `seed`. Labels
    may be integers or one-hot. The history gains `seconds` and `learning_rate` per epoch.
    """
    x_train, y_train, x_val, y_val = split_validation(
        data.x_train, integer_labels(data.y_train), validation_split
    )
    validation_data = None if x_val is None else (x_val, y_val)
    callbacks = [EpochStats(), *callbacks]
    if resolve_engine(engine) == "compiled":
        from fashion_mlp.compiled_engine import fit_compiled

        return fit_compiled(
            model, x_train, y_train, epochs=epochs, batch_size=batch_size,
            validation_data=validation_data, seed=seed, callbacks=callbacks,
            initial_epoch=initial_epoch,
        )  # fmt: skip
    return model.fit(
        x_train, y_train, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
        shuffle=True, callbacks=[EpochSeeds(seed), *callbacks], initial_epoch=initial_epoch,
        verbose=0,
    )  # fmt: skip
