"""Every use of a private or backend-specific Keras name, in one place.

Keras is pinned below its next minor version (pyproject.toml) because of these. On an upgrade,
run the engine tests (tests/test_compiled_engine.py): what would break is listed per function.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras

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
    no longer matches an uninterrupted one (tests/test_compiled_engine.py catches it).
    """
    return [v for v in model.non_trainable_variables if v.name == SEED_STATE_NAME]


@contextmanager
def weight_decay_as(optimizer: keras.optimizers.Optimizer, value) -> Iterator[None]:
    """Trace the optimizer's update with `value` (e.g. one member's traced array) as its
    weight decay, so that the members of a population can each have their own.

    Keras reads `optimizer.weight_decay` in `_apply_weight_decay` only, as
    `variable - variable * weight_decay * learning_rate`, where an array works as a float
    does. If an upgrade reads it elsewhere as a Python number, tracing fails
    (tests/test_population.py trains members with different weight decays).
    """
    saved = optimizer.weight_decay
    optimizer.weight_decay = value
    try:
        yield
    finally:
        optimizer.weight_decay = saved
