"""What makes training a function of the seed and the epoch only: shuffle orders and the
random layers' states, both derived from (seed, epoch), so a resumed run matches."""

from __future__ import annotations

import keras
import numpy as np

from fashion_mlp.training.keras_internals import seed_state_variables


def epoch_order(num_samples: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled sample order of one epoch: a function of the seed and the epoch only."""
    return np.random.default_rng([seed, epoch]).permutation(num_samples).astype(np.int32)


def seed_random_layers(model: keras.Model, seed: int, epoch: int) -> None:
    """Reseed every random layer (Dropout, ...) from the run's seed and the epoch.

    `model.keras` does not store SeedGenerator states, so this is what makes a run resumed from
    a saved model draw the same dropout masks as an uninterrupted one.
    """
    for index, state in enumerate(seed_state_variables(model)):
        layer_seed = np.random.default_rng([seed, epoch, index]).integers(2**31)
        state.assign(np.array([layer_seed, 0], dtype=state.dtype))


class ReseedEachEpoch(keras.callbacks.Callback):
    """For `model.fit`: seeds NumPy's global generator (which fit shuffles with) and the random
    layers from (seed, epoch), so a resumed run sees the same batches and dropout masks."""

    def __init__(self, seed: int):
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        np.random.seed((self.seed * 1_000_003 + epoch) % 2**32)
        seed_random_layers(self.model, self.seed, epoch)
