"""The compiled training engine: `model.fit` semantics, with each epoch run as jitted JAX scans.

Keras's own stateless `train_step`/`test_step` (stateless_call, the compiled loss and metrics,
`optimizer.stateless_apply`) run inside `jax.jit`-compiled `lax.scan`s over batches. The data
lives on the device once; each chunk of an epoch gathers its rows by index inside the compiled
code, in one gather. Chunks are dispatched back to back: their logs reach the callbacks as
device arrays, which Keras converts off the main thread, so Python never waits between chunks.
Between epochs the variables go back into the Keras model and the Keras callbacks run, as in
`fit`.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import jax
import keras
import numpy as np

from fashion_mlp.errors import ConfigError
from fashion_mlp.models import require_jax
from fashion_mlp.training.keras_internals import (
    build_for_training,
    compile_identity,
    stateless_step,
)
from fashion_mlp.training.seeding import epoch_order, seed_random_layers

TARGET_STEPS_PER_CHUNK = 256  # a small part of a second of the notebook's model: smooth progress
MAX_CHUNKS_PER_EPOCH = 20  # a chunk costs one dispatch and sync; a few per epoch cost no speed


@dataclass(frozen=True)
class _CompiledSteps:
    """The jitted scans of one model compilation; `compile_config` marks which one."""

    compile_config: object
    train_chunk: object
    test_chunk: object


# model -> its jitted scans, so repeated calls (epoch by epoch, resume) do not recompile
# (population programs have their own cache, by kind: training/population/programs.py)
_JITTED_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fit_compiled(
    model: keras.Model,
    x,
    y,
    *,
    epochs: int,
    batch_size: int,
    validation_data=None,
    seed: int = 0,
    callbacks=(),
    initial_epoch: int = 0,
    chunks_per_epoch: int | None = None,
    verbose: int = 0,
) -> keras.callbacks.History:
    """Train a compiled Keras model like `model.fit(x, y, shuffle=True, ...)`, much faster.

    Each epoch's shuffle and dropout masks depend only on `seed` and the epoch number, so
    resuming at `initial_epoch=k` (even from a saved model) trains exactly as an uninterrupted
    run. The last partial batch is trained. `chunks_per_epoch` (default: about one per 256
    steps, at most 20) sets how often callbacks get `on_train_batch_end` with running logs.
    `epochs`, `batch_size` and `seed` are trusted: `fit` takes them from a TrainingConfig.
    """
    _check_arguments(model, x, y, chunks_per_epoch)
    x_device, y_device = jax.device_put(x), jax.device_put(y)
    validation = None
    if validation_data is not None:
        x_val, y_val = validation_data
        validation = jax.device_put(x_val), jax.device_put(y_val)
    build_for_training(model, x_device[:1], y_device[:1])  # creates metrics, optimizer state
    steps = _compiled_steps(model)

    num_samples = len(x_device)
    steps_per_epoch = math.ceil(num_samples / batch_size)
    chunks = chunk_count(steps_per_epoch, chunks_per_epoch)
    callback_list = keras.callbacks.CallbackList(
        callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        model=model,
        epochs=epochs,
        steps=steps_per_epoch,
    )
    model.reset_metrics()
    fresh_metrics = [variable.value for variable in model.metrics_variables]
    model.stop_training = False
    logs = {}
    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        seed_random_layers(model, seed, epoch)
        # Read the state after on_epoch_begin: callbacks may have changed it (learning rate).
        state = (*_model_state(model), fresh_metrics)
        batches = chunked_batches(epoch_order(num_samples, seed, epoch), batch_size, chunks)
        state, logs = _train_epoch(
            model, steps, callback_list, state, (x_device, y_device), batches
        )
        logs = host_logs(logs)
        _write_state(model, state)
        if validation is not None:
            val_logs = evaluate_compiled(model, *validation, batch_size=batch_size)
            logs |= {f"val_{name}": value for name, value in val_logs.items()}
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    if epochs > initial_epoch:
        model.optimizer.finalize_variable_values(model.trainable_variables)
    callback_list.on_train_end(logs)
    return model.history


def _train_epoch(model, steps, callback_list, state, data, batches) -> tuple:
    """One epoch's chunks through the jitted scan, with the callbacks' batch hooks between
    them; stops early when a callback sets `model.stop_training`. Returns (state, logs)."""
    step, logs = 0, {}
    for batch_indices in batches:
        callback_list.on_train_batch_begin(step)
        state, logs = steps.train_chunk(state, *data, batch_indices)
        step += len(batch_indices)
        # Device arrays: converted in Keras's callback thread, unless a callback has a
        # batch-end hook (then at once, as fit does); this thread dispatches the next chunk.
        callback_list.on_train_batch_end(step - 1, logs)
        if model.stop_training:
            break
    return state, logs


def chunk_count(steps_per_epoch: int, chunks_per_epoch: int | None) -> int:
    """Scans per epoch: `chunks_per_epoch`, or by default one per TARGET_STEPS_PER_CHUNK steps
    (at least one, at most MAX_CHUNKS_PER_EPOCH)."""
    return chunks_per_epoch or min(
        MAX_CHUNKS_PER_EPOCH, max(1, steps_per_epoch // TARGET_STEPS_PER_CHUNK)
    )


def evaluate_compiled(model: keras.Model, x, y, *, batch_size: int) -> dict[str, float]:
    """The compiled metrics (loss, accuracy, ...) on (x, y), as `model.evaluate` reports them."""
    x, y = jax.device_put(x), jax.device_put(y)
    build_for_training(model, x[:1], y[:1])
    steps = _compiled_steps(model)
    model.reset_metrics()
    trainable, non_trainable, _ = _model_state(model)
    state = (trainable, non_trainable, [variable.value for variable in model.metrics_variables])
    logs = {}
    for batch_indices in chunked_batches(np.arange(len(x), dtype=np.int32), batch_size, 1):
        state, logs = steps.test_chunk(state, x, y, batch_indices)
    return host_logs(logs)


def host_logs(device_logs: dict) -> dict:
    """A chunk's logs on the host: floats, or arrays for non-scalar metrics."""
    logs = {name: np.asarray(value) for name, value in device_logs.items()}
    return {name: value.item() if value.size == 1 else value for name, value in logs.items()}


def scan_steps(step_function, state, x, y, batch_indices, *, gather_first: bool = True):
    """Run a stateless step over a chunk's batches in one `lax.scan`: (final state, last logs).

    `batch_indices` is (steps, batch). With `gather_first`, the chunk's rows are gathered at
    once before the loop, which pays for one model, whose chunk stays in the cache, but not for
    a population, whose chunk is one per member and leaves it (docs: performance); without it,
    each step gathers its own batch. Shared by the single-model engine
    and populations, which vmap it over their members.
    """

    def one_batch(state, batch):
        if not gather_first:
            batch = (x[batch], y[batch])
        logs, state = step_function(state, batch)
        return state, logs

    batches = (x[batch_indices], y[batch_indices]) if gather_first else batch_indices
    state, logs = jax.lax.scan(one_batch, state, batches)
    return state, jax.tree.map(lambda values: values[-1], logs)


def chunked_batches(order: np.ndarray, batch_size: int, chunks: int) -> list[np.ndarray]:
    """Cut `order` into batches grouped as about `chunks` (steps, batch) index arrays.

    Full chunks share one shape; any leftover steps and a last partial batch come as their own
    arrays, so an epoch compiles at most three scans, each once per model.
    """
    full_steps, partial = divmod(len(order), batch_size)
    batches = order[: full_steps * batch_size].reshape(full_steps, batch_size)
    steps_per_chunk = chunk_length(full_steps, chunks)
    grouped = [
        batches[start : start + steps_per_chunk] for start in range(0, full_steps, steps_per_chunk)
    ]
    if partial:
        grouped.append(order[full_steps * batch_size :][None])
    return grouped


def chunk_length(full_steps: int, chunks: int) -> int:
    """Steps per chunk: about full_steps / chunks, a divisor of it when one is near (one shape)."""
    target = max(1, math.ceil(full_steps / chunks))
    near = range(target, target // 2, -1)  # down to half the target: at most twice the updates
    return next((length for length in near if full_steps % length == 0), target)


def _compiled_steps(model: keras.Model) -> _CompiledSteps:
    """The model's jitted train/test scans, built once per `model.compile`."""
    cached = _JITTED_STEPS.get(model)
    if cached is not None and cached.compile_config is compile_identity(model):
        return cached
    model_ref = weakref.ref(model)  # the cache must not keep its key alive

    def scan(step_name):
        def run(state, x, y, batch_indices):
            step_function = stateless_step(model_ref(), step_name)
            return scan_steps(step_function, state, x, y, batch_indices)

        return jax.jit(run)

    steps = _CompiledSteps(compile_identity(model), scan("train_step"), scan("test_step"))
    _JITTED_STEPS[model] = steps
    return steps


def _model_state(model: keras.Model) -> tuple[list, list, list]:
    """Current values of the trainable, non-trainable and optimizer variables."""
    return (
        [variable.value for variable in model.trainable_variables],
        [variable.value for variable in model.non_trainable_variables],
        [variable.value for variable in model.optimizer.variables],
    )


def _write_state(model: keras.Model, state) -> None:
    """Assign a train-step state back into the Keras model's variables."""
    trainable, non_trainable, optimizer, metrics = state
    for variables, values in (
        (model.trainable_variables, trainable),
        (model.non_trainable_variables, non_trainable),
        (model.optimizer.variables, optimizer),
        (model.metrics_variables, metrics),
    ):
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)


def _check_arguments(model, x, y, chunks_per_epoch) -> None:
    """Raise ConfigError for a call the engine cannot run, saying what to do instead.

    Settings are not checked again: `fit` passes those of a validated TrainingConfig.
    """
    require_jax("the compiled engine", instead="use engine 'keras' (model.fit)")
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise ConfigError("the model is not compiled; call model.compile(...) before training it")
    if len(x) != len(y) or len(x) == 0:
        raise ConfigError(
            f"x has {len(x)} samples and y has {len(y)}; pass the same non-zero number of each"
        )
    if chunks_per_epoch is not None and (
        not isinstance(chunks_per_epoch, int) or chunks_per_epoch < 1
    ):
        raise ConfigError(
            "chunks_per_epoch must be a positive integer or None (automatic), "
            f"got {chunks_per_epoch!r}"
        )
