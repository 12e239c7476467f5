"""Every use of a private or backend-specific Keras name, in one place.

Keras is pinned below its next minor version (pyproject.toml) because of these. On an upgrade,
run the engine tests (tests/training/test_compiled_engine.py): what would break is listed per
function.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import jax
import jax.numpy as jnp
import keras
import numpy as np

SEED_STATE_NAME = "seed_generator_state"  # the variable name Keras's SeedGenerator keeps state in


def build_for_training(model: keras.Model, x_batch, y_batch) -> None:
    """Build the model's optimizer and compiled metrics as `fit` would, from one batch.

    Uses `Trainer._symbolic_build` (private): if it is renamed or changes arguments, the
    compiled engine cannot create the optimizer's and metrics' variables before its first step.
    """
    model._symbolic_build(data_batch=(x_batch, y_batch))


def compile_identity(model: keras.Model) -> object:
    """An object that changes whenever `model.compile` is called again.

    Uses `Trainer._compile_config` (private): if it disappears, the engine's cache of jitted
    steps cannot tell a recompiled model from the old one (it would train with stale steps).
    """
    return model._compile_config


def stateless_step(model: keras.Model, name: str):
    """The JAX trainer's stateless `train_step` or `test_step`: (state, batch) -> (logs, state).

    On the JAX backend these methods take and return the whole variable state (trainable,
    non-trainable, optimizer, metrics); the signature is JAX-trainer specific, not public API.
    """
    return getattr(model, name)


def seed_state_variables(model: keras.Model) -> list:
    """The state variables of the model's random layers' SeedGenerators (Dropout, ...).

    Found by the variable name Keras gives them (SEED_STATE_NAME): if Keras renames it, no
    variable is found and dropout masks stop depending on (seed, epoch) only, so a resumed run
    no longer matches an uninterrupted one (tests/training/test_compiled_engine.py catches it).
    """
    return [v for v in model.non_trainable_variables if v.name == SEED_STATE_NAME]


def layer_constants(model: keras.Model) -> Iterator[tuple[str, jax.Array | np.ndarray]]:
    """The arrays the model's layers hold outside their variables, which a traced step reads as
    constants: an adapted Normalization's `mean` and `variance`, a user layer's arrays.

    Walks `Layer._flatten_layers` (private), which finds nested layers and those kept in
    attributes: if it disappears, compiled population programs cannot tell two models' constants
    apart (tests/training/test_population.py trains a second population on other data).
    """
    for index, layer in enumerate(model._flatten_layers(include_self=False)):
        for name, value in vars(layer).items():
            if isinstance(value, jax.Array | np.ndarray):
                yield f"{index}.{name}", value


@contextmanager
def traced_setting(owner, name: str, value) -> Iterator[None]:
    """Trace with `owner.name` set to `value` (one member's traced array), so that the members
    of a population can each have their own; restored after.

    Used for the optimizer and loss settings `fashion_mlp.member_settings` declares per member,
    each read only where an array works as a float does:
    - `optimizer.weight_decay`: Keras reads it in `_apply_weight_decay` only, as
      `variable * weight_decay * learning_rate`. If an upgrade tests it in Python (`if
      weight_decay > 0`), tracing fails;
    - `label_smoothing` of fashion_mlp's smoothed loss (the model's `loss`, the object Keras's
      compiled loss calls).
    tests/training/test_population.py trains members that differ in each.
    """
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


@contextmanager
def traced_dropout(layer: keras.layers.Dropout, keep_probability) -> Iterator[None]:
    """Trace `layer` dropping with `keep_probability` (one member's traced 1 - rate) instead of
    its Python `rate`, which Keras's Dropout and its JAX dropout test in Python (`rate > 0`).

    The mask is drawn as Keras's JAX backend draws it (the next seed of the layer's
    `seed_generator`, a Bernoulli mask of its `noise_shape`, kept inputs scaled by 1 / keep),
    so a member drops the same units as the same model trained alone. If an upgrade draws it
    otherwise, the dropout case of tests/training/test_population.py's parity test fails.
    """

    def call(inputs, training=False):
        if not training:
            return inputs
        wanted = layer.noise_shape or (None,) * len(inputs.shape)  # None: the input's size
        pairs = zip(inputs.shape, wanted, strict=True)
        shape = [size if want is None else want for size, want in pairs]
        mask = jax.random.bernoulli(layer.seed_generator.next(), p=keep_probability, shape=shape)
        kept = inputs / keep_probability
        return jax.lax.select(jnp.broadcast_to(mask, inputs.shape), kept, jnp.zeros_like(kept))

    layer.call = call  # an instance attribute: Layer.__call__ calls self.call
    try:
        yield
    finally:
        del layer.call  # the class's call again
