"""`train_population`: K compiled models of one kind trained at once, each as `fit` trains it
alone; a population larger than one program is trained in parts, one that exhausts device
memory is halved and retried."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np

from fashion_mlp.config import TrainingConfig
from fashion_mlp.datasets import Dataset
from fashion_mlp.errors import ConfigError
from fashion_mlp.models import require_jax
from fashion_mlp.subsets import integer_labels, split_validation
from fashion_mlp.training.population.members import check_members
from fashion_mlp.training.population.placement import DeviceData
from fashion_mlp.training.population.planning import is_out_of_memory, members_per_program_for
from fashion_mlp.training.population.trainer import EpochPlan, PopulationTrainer

DEFAULTS = TrainingConfig()
EpochHook = Callable[[int, list[dict | None]], None]  # on_epoch_end(epoch, one log per member)


def train_population(
    models: Sequence[keras.Model],
    data: Dataset,
    *,
    seeds: Sequence[int],
    epochs: int = DEFAULTS.epochs,
    batch_size: int = DEFAULTS.batch_size,
    validation_split: float = DEFAULTS.validation_split,
    early_stopping_patience: int = DEFAULTS.early_stopping_patience,
    restore_best_weights: bool = DEFAULTS.restore_best_weights,
    members_per_program: int | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    on_epoch_end: EpochHook | None = None,
    chunks_per_epoch: int | None = None,
    targets=None,
) -> list[dict[str, list[float]]]:
    """Train compiled models of one architecture together, each as `fit` would train it alone.

    Member i trains from models[i]'s weights and optimizer (its own learning rate) with
    seeds[i]'s shuffle order and dropout masks; the result (weights and optimizer state) is
    written back into models[i]. With `checkpoint_dir`, the population's state is saved after
    each epoch and a later call with the same folder, models and seeds continues from there
    exactly.

    Args:
        models: compiled Keras models of one kind: they may differ only in their weights and
            the settings `fashion_mlp.member_settings.PER_MEMBER` declares per member (a
            constant learning rate, the values of weight decay, label smoothing and Dropout
            rates, ...); layers adapted to data (Normalization) must have been adapted on the
            same data.
        data: the Dataset; the validation set is the LAST `validation_split` of x_train.
        seeds: one seed per member: shuffle order and dropout masks per epoch.
        epochs, batch_size, validation_split: as `fit`.
        early_stopping_patience: Keras's EarlyStopping on val_loss (loss without validation)
            per member; -1 = off.
        restore_best_weights: a member ends with its best epoch's weights (with early stopping).
        members_per_program: most members trained in one program; None = as many as memory
            allows, on a CPU at most 4 per core (`members_per_program_for`). A larger
            population is split and trained in turn; one that exhausts device memory is
            halved and retried.
        checkpoint_dir: folder for the after-epoch checkpoint (None = no checkpoint).
        on_epoch_end: called as on_epoch_end(epoch, logs) with one dict per member (None for a
            member that had already stopped).
        chunks_per_epoch: scans per epoch (default: as `fit_compiled`), for progress.
        targets: what the loss trains on in place of the labels, as `fit`'s.

    Returns:
        Each member's history (loss, accuracy, val_loss, val_accuracy, learning_rate, seconds:
        the population's epoch time shared among its active members).

    Examples:
        >>> models = [build(seed) for seed in range(8)]
        >>> histories = train_population(models, data, seeds=range(8), epochs=10)
        >>> [history["val_accuracy"][-1] for history in histories]
    """
    require_jax("populations")
    models, seeds = list(models), [int(seed) for seed in seeds]
    if not models or len(models) != len(seeds):
        raise ConfigError(
            f"{len(models)} models and {len(seeds)} seeds: pass one seed per model, at least one"
        )
    training = TrainingConfig(
        epochs=epochs,
        batch_size=batch_size,
        validation_split=validation_split,
        early_stopping_patience=early_stopping_patience,
        restore_best_weights=restore_best_weights,
    )
    check_members(models)
    labels = integer_labels(data.y_train) if targets is None else targets
    arrays = DeviceData(*split_validation(data.x_train, labels, validation_split))
    limit = members_per_program or members_per_program_for(
        models[0], batch_size, data_bytes=arrays.host_bytes
    )
    plan = EpochPlan(training, chunks_per_epoch)
    groups = np.array_split(np.arange(len(models)), math.ceil(len(models) / limit))
    histories: list[dict[str, list[float]]] = []
    for number, group in enumerate(groups):
        histories += _train_or_halve(
            [models[i] for i in group],
            [seeds[i] for i in group],
            arrays,
            plan,
            _part_folder(checkpoint_dir, number, len(groups)),
            _offset_callback(on_epoch_end, int(group[0]), len(models)),
            limit,
        )
    return histories


def _train_or_halve(models, seeds, arrays, plan, folder, on_epoch_end, most):
    """Train one program's members (at most `most` with padding); if they exhaust device
    memory, train each half in turn instead."""
    try:
        return PopulationTrainer(models, seeds, arrays, plan, folder, most).train(on_epoch_end)
    except Exception as error:  # XLA raises its runtime error; the host raises MemoryError
        if len(models) == 1 or not is_out_of_memory(error):
            raise
    half = len(models) // 2
    warnings.warn(
        f"a population of {len(models)} members exhausted memory; training it as two of "
        f"{half} and {len(models) - half} (set members_per_program lower to avoid the retry)",
        RuntimeWarning,
        stacklevel=2,
    )
    first = _train_or_halve(
        models[:half], seeds[:half], arrays, plan, _sub(folder, "a"), on_epoch_end, half
    )
    second_callback = _offset_callback(on_epoch_end, half, None)
    return first + _train_or_halve(
        models[half:], seeds[half:], arrays, plan, _sub(folder, "b"), second_callback, half
    )


def _part_folder(folder, number: int, parts: int):
    if folder is None or parts == 1:
        return folder
    return Path(folder) / f"part-{number}"


def _sub(folder, name: str):
    return None if folder is None else Path(folder) / name


def _offset_callback(on_epoch_end, offset: int, total: int | None):
    """on_epoch_end for a part of the population: its logs placed at the members' positions."""
    if on_epoch_end is None or (offset == 0 and total is None):
        return on_epoch_end

    def shifted(epoch, logs):
        on_epoch_end(epoch, [None] * offset + list(logs))

    return shifted
