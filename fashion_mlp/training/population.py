"""Populations: K models of one architecture trained at once, in one jitted program.

The compiled engine's state (trainable, non-trainable, optimizer and metric variables) gains a
leading member axis, and `jax.vmap` maps Keras's own stateless `train_step`/`test_step` over it
inside the same `lax.scan`s as compiled.py. The data is put on the device once and shared; each
member gathers its own batches by index. On a CPU with one JAX device per core, the member axis
is split over the cores, padded with never-kept copies of a member where it would not split
evenly (placement.py). Members may differ in their initial weights, their seed (shuffle order
and dropout masks), a constant learning rate (an optimizer variable) and the values of weight
decay, label smoothing and dropout rates (inputs of the program, traced into the optimizer, the
loss and the Dropout layers); everything else that is a Python constant in the compiled step
(architecture, momentum, a schedule, whether there is weight decay, label smoothing or dropout
after a layer) must match, so a sweep over those makes one population per value
(`population_key` in fashion_mlp/sweeps says which).

Semantics are `fit_compiled`'s, member by member: the validation split, per-epoch validation
metrics, the partial last batch, Keras's EarlyStopping rules per member (a stopped member is
frozen, its best weights restored as configured, while the others go on), and exact resume from
a checkpoint folder written after every epoch.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import keras
import numpy as np

from fashion_mlp.config import TrainingConfig
from fashion_mlp.datasets import Dataset
from fashion_mlp.errors import ConfigError
from fashion_mlp.files import atomic_path, write_json
from fashion_mlp.losses import SparseCategoricalCrossentropyWithSmoothing
from fashion_mlp.subsets import integer_labels, split_validation
from fashion_mlp.training.compiled import (
    MAX_CHUNKS_PER_EPOCH,
    TARGET_STEPS_PER_CHUNK,
    chunked_batches,
    scan_steps,
)
from fashion_mlp.training.keras_internals import (
    build_for_training,
    layer_constants,
    seed_state_variables,
    stateless_step,
    traced_dropout,
    traced_setting,
)
from fashion_mlp.training.placement import MemberPlacement, padded_size
from fashion_mlp.training.seeding import epoch_order

DEFAULTS = TrainingConfig()
MAX_MEMBERS_PER_PROGRAM = 128  # beyond this a population is split: compile time grows, no gain
CPU_MEMBERS_PER_DEVICE = 4  # per core. Notebook model, K = 32 on 2 cores (README): programs
# of 8 against 16 ran 2.8x vs 2.4x one member at a time, 2.7x vs 2.5x, and 2.1x vs 2.4x on
# three machines: two of three favour 8.
MEMORY_FRACTION = 0.5  # share of the free device memory one population plans to use
STATE_COPIES = 8  # per member: weights, 2 optimizer slots, gradients, new state, best, 2 spare
ACTIVATION_COPIES = 4  # per member and sample: activations, their gradients, gathered input
STEPS_CACHE_SIZE = 8  # kinds of population whose compiled programs are kept (a few MB each)
CHECKPOINT_STATE = "state.json"
CHECKPOINT_ARRAYS = "state.npz"


@dataclass
class MemberStop:
    """One member's early-stopping record, under Keras's EarlyStopping rules (min_delta 0)."""

    best: float | None = None
    best_epoch: int = 0
    wait: int = 0
    stopped_epoch: int | None = None  # 0-based epoch it stopped after; None = still training

    def update(self, epoch: int, value: float, patience: int) -> bool:
        """Record epoch's monitored value; True when the member's weights are the new best."""
        self.wait += 1
        if self.best is None or value < self.best:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            return True
        if self.wait >= patience and epoch > 0:
            self.stopped_epoch = epoch
        return False


@dataclass(frozen=True)
class _PopulationSteps:
    train_chunk: object
    test_chunk: object


# population kind (see _population_steps) -> its jitted scans, least recently used first
_STEPS_CACHE: OrderedDict[str, _PopulationSteps] = OrderedDict()


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
    on_epoch_end: Callable[[int, list[dict | None]], None] | None = None,
    chunks_per_epoch: int | None = None,
) -> list[dict[str, list[float]]]:
    """Train compiled models of one architecture together, each as `fit` would train it alone.

    Member i trains from models[i]'s weights and optimizer (its own learning rate) with
    seeds[i]'s shuffle order and dropout masks; the result (weights and optimizer state) is
    written back into models[i]. With `checkpoint_dir`, the population's state is saved after
    each epoch and a later call with the same folder, models and seeds continues from there
    exactly.

    Args:
        models: compiled Keras models, same architecture, loss and optimizer settings (a
            constant learning rate and the values of weight decay, label smoothing and
            Dropout rates may differ), e.g. built with different seeds; layers adapted to data
            (Normalization) must have been adapted on the same data.
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

    Returns:
        Each member's history (loss, accuracy, val_loss, val_accuracy, learning_rate, seconds:
        the population's epoch time shared among its active members).

    Example:
        >>> models = [build(seed) for seed in range(8)]
        >>> histories = train_population(models, data, seeds=range(8), epochs=10)
        >>> [history["val_accuracy"][-1] for history in histories]
    """
    models, seeds = list(models), [int(seed) for seed in seeds]
    _check_population(models, seeds, epochs, batch_size, early_stopping_patience)
    x_train, y_train, x_val, y_val = split_validation(
        data.x_train, integer_labels(data.y_train), validation_split
    )
    settings = _Settings(
        epochs, batch_size, early_stopping_patience, restore_best_weights, chunks_per_epoch
    )
    arrays = _DeviceData(x_train, y_train, x_val, y_val)
    limit = members_per_program or members_per_program_for(
        models[0], batch_size, data_bytes=arrays.host_bytes
    )
    groups = np.array_split(np.arange(len(models)), math.ceil(len(models) / limit))
    histories: list[dict[str, list[float]]] = []
    for number, group in enumerate(groups):
        folder = _part_folder(checkpoint_dir, number, len(groups))
        histories += _train_or_halve(
            [models[i] for i in group],
            [seeds[i] for i in group],
            arrays,
            settings,
            folder,
            _offset_callback(on_epoch_end, int(group[0]), len(models)),
            limit,
        )
    return histories


def members_per_program_for(
    model: keras.Model, batch_size: int, free_bytes=None, data_bytes: int = 0
) -> int:
    """How many members of `model`'s kind one program trains: MEMORY_FRACTION of the free
    device memory, less the data's copies (`data_bytes` on each CPU device: they share the
    host's memory), over one member's estimated need, at most MAX_MEMBERS_PER_PROGRAM, and on
    a CPU at most CPU_MEMBERS_PER_DEVICE per CPU device (core)."""
    devices = jax.devices()
    copies = len(devices) if devices[0].platform == "cpu" else 1
    free = available_memory_bytes() if free_bytes is None else free_bytes
    fitting = int((free - copies * data_bytes) * MEMORY_FRACTION // member_bytes(model, batch_size))
    most = MAX_MEMBERS_PER_PROGRAM
    if devices[0].platform == "cpu":
        most = min(most, CPU_MEMBERS_PER_DEVICE * len(devices))
    return max(1, min(most, fitting))


def member_bytes(model: keras.Model, batch_size: int) -> int:
    """One member's estimated device memory: its state copies and a batch's activations."""
    weights = sum(math.prod(weight.shape) for weight in model.weights)
    activations = sum(_output_size(layer) for layer in model.layers) + _input_size(model)
    return 4 * (STATE_COPIES * weights + ACTIVATION_COPIES * batch_size * activations)


def available_memory_bytes() -> int:
    """Free memory of the first JAX device: the accelerator's, or the host's available RAM."""
    stats = jax.devices()[0].memory_stats()
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class _Settings:
    epochs: int
    batch_size: int
    patience: int
    restore_best_weights: bool
    chunks_per_epoch: int | None


class _DeviceData:
    """The training and validation arrays, put on a population's devices once for every
    population that trains on the same ones."""

    def __init__(self, x_train, y_train, x_val, y_val):
        self.num_train = len(x_train)
        self.host = (x_train, y_train, x_val, y_val)
        self.placed: dict[tuple, tuple] = {}  # devices -> (x, y, validation or None)
        self.host_bytes = sum(array.nbytes for array in self.host if array is not None)

    def on(self, placement: MemberPlacement) -> tuple:
        """(x, y, validation or None) on `placement`'s devices, copied there the first time."""
        if placement.devices not in self.placed:
            x_train, y_train, x_val, y_val = self.host
            validation = None if x_val is None else placement.whole((x_val, y_val))
            self.placed[placement.devices] = (*placement.whole((x_train, y_train)), validation)
        return self.placed[placement.devices]


def _train_or_halve(models, seeds, arrays, settings, folder, on_epoch_end, most):
    """Train one population (at most `most` members with padding); if it exhausts device
    memory, train each half in turn instead."""
    try:
        return _Population(models, seeds, arrays, settings, folder, most).train(on_epoch_end)
    except Exception as error:  # XLA raises its runtime error; the host raises MemoryError
        if len(models) == 1 or not _is_out_of_memory(error):
            raise
    half = len(models) // 2
    warnings.warn(
        f"a population of {len(models)} members exhausted memory; training it as two of "
        f"{half} and {len(models) - half} (set members_per_program lower to avoid the retry)",
        RuntimeWarning,
        stacklevel=2,
    )
    first = _train_or_halve(
        models[:half], seeds[:half], arrays, settings, _sub(folder, "a"), on_epoch_end, half
    )
    return first + _train_or_halve(
        models[half:],
        seeds[half:],
        arrays,
        settings,
        _sub(folder, "b"),
        _offset_callback(on_epoch_end, half, None),
        half,
    )


class _Population:
    """One program's members: their stacked state, the epoch loop and the checkpoint.

    On CPU devices the member axis may be padded (placement.padded_size) with copies of the
    last member, inactive from the start: they compute, but their state, logs and checkpoint
    rows are never kept, so nothing outside this class sees them.
    """

    def __init__(self, models, seeds, arrays: _DeviceData, settings: _Settings, folder, most):
        self.models, self.seeds, self.arrays, self.settings = models, seeds, arrays, settings
        self.folder = None if folder is None else Path(folder)
        self.template = models[0]
        self.padding = padded_size(len(models), most, jax.devices()) - len(models)
        self.member_seeds = seeds + seeds[-1:] * self.padding  # padding copies the last member
        self.placement = MemberPlacement(len(models) + self.padding)
        self.x, self.y, self.validation = arrays.on(self.placement)
        for model in models:
            build_for_training(model, arrays.host[0][:1], arrays.host[1][:1])
        self.state = self._initial_state()  # [trainable, non-trainable, optimizer] stacked
        per_slot = [_member_settings(model) for model in self._slot_models()]
        self.settings_per_member = self.placement.split(
            {
                name: np.array([values[name] for values in per_slot], dtype=np.float32)
                for name in per_slot[0]
            }
        )
        self.template.reset_metrics()
        metrics = [variable.value for variable in self.template.metrics_variables]
        self.fresh_metrics = self.placement.split(
            [jnp.stack([value] * len(self.member_seeds)) for value in metrics]
        )
        seed_variables = {id(variable) for variable in seed_state_variables(self.template)}
        self.seed_slots = [
            index
            for index, variable in enumerate(self.template.non_trainable_variables)
            if id(variable) in seed_variables
        ]
        self.histories: list[dict[str, list[float]]] = [{} for _ in models]
        self.stops = [MemberStop() for _ in models]
        self.best = self._weights()  # each member's best weights so far (trainable, non-train.)
        self.start_epoch = 0
        self.steps = _population_steps(self.template)

    def _slot_models(self) -> list[keras.Model]:
        """The model of each member slot: the members, then the padding's copies."""
        return self.models + self.models[-1:] * self.padding

    def _initial_state(self) -> list[list]:
        return self.placement.split(
            [
                [jnp.stack(values) for values in zip(*per_model, strict=True)]
                for per_model in zip(
                    *(_model_state(model) for model in self._slot_models()), strict=True
                )
            ]
        )

    def _weights(self) -> list[list]:
        return [list(self.state[0]), list(self.state[1])]

    @property
    def active(self) -> np.ndarray:
        """Which member slots train this epoch (padding never does)."""
        training = [stop.stopped_epoch is None for stop in self.stops]
        return np.array(training + [False] * self.padding)

    def train(self, on_epoch_end) -> list[dict[str, list[float]]]:
        self._load_checkpoint()
        for epoch in range(self.start_epoch, self.settings.epochs):
            if not self.active.any():
                break
            logs = self._epoch(epoch)
            self._save_checkpoint(epoch + 1)
            if on_epoch_end:
                on_epoch_end(epoch, logs)
        if self.settings.restore_best_weights and self.settings.patience >= 0:
            self.state[0], self.state[1] = list(self.best[0]), list(self.best[1])
        self._write_back()
        return self.histories

    def _epoch(self, epoch: int) -> list[dict | None]:
        started = time.perf_counter()
        active = self.active
        self._seed_random_layers(epoch)
        chunks = self._chunks(epoch)
        state = (*self.state, self.fresh_metrics)
        placed_active = self.placement.split(active)
        for indices in chunks:
            state, chunk_logs = self.steps.train_chunk(
                state,
                placed_active,
                self.x,
                self.y,
                self.placement.split(indices),
                self.settings_per_member,
            )
        self.state = [list(part) for part in state[:3]]
        logs = _member_logs(chunk_logs)[: len(self.models)]
        if self.validation is not None:
            val_logs = self._validate()[: len(self.models)]
            for member_logs, member_val in zip(logs, val_logs, strict=True):
                member_logs |= {f"val_{name}": value for name, value in member_val.items()}
        seconds = (time.perf_counter() - started) / active.sum()
        shown: list[dict | None] = []
        for index, member_logs in enumerate(logs):  # the real members only
            if not active[index]:
                shown.append(None)
                continue
            member_logs |= {"learning_rate": self._learning_rate(index), "seconds": seconds}
            for name, value in member_logs.items():
                self.histories[index].setdefault(name, []).append(float(value))
            self._early_stopping(index, epoch, member_logs)
            shown.append(member_logs)
        return shown

    def _chunks(self, epoch: int) -> list[np.ndarray]:
        """Each chunk's batch indices for every member: (members, steps, batch)."""
        steps_per_epoch = math.ceil(self.arrays.num_train / self.settings.batch_size)
        chunks = self.settings.chunks_per_epoch or min(
            MAX_CHUNKS_PER_EPOCH, max(1, steps_per_epoch // TARGET_STEPS_PER_CHUNK)
        )
        per_member = [
            chunked_batches(
                epoch_order(self.arrays.num_train, seed, epoch), self.settings.batch_size, chunks
            )
            for seed in self.member_seeds
        ]
        return [np.stack(parts) for parts in zip(*per_member, strict=True)]

    def _validate(self) -> list[dict[str, float]]:
        x_val, y_val = self.validation
        order = np.arange(len(x_val), dtype=np.int32)
        state = (self.state[0], self.state[1], self.fresh_metrics)
        for indices in chunked_batches(order, self.settings.batch_size, 1):
            state, chunk_logs = self.steps.test_chunk(
                state, x_val, y_val, self.placement.whole(indices), self.settings_per_member
            )
        return _member_logs(chunk_logs)

    def _seed_random_layers(self, epoch: int) -> None:
        """Each member's dropout seeds from (its seed, epoch), as `seed_random_layers` does."""
        for position, slot in enumerate(self.seed_slots):
            dtype = self.state[1][slot].dtype
            seeds = [
                [np.random.default_rng([seed, epoch, position]).integers(2**31), 0]
                for seed in self.member_seeds
            ]
            self.state[1][slot] = self.placement.split(np.array(seeds, dtype=dtype))

    def _early_stopping(self, index: int, epoch: int, logs: dict) -> None:
        if self.settings.patience < 0:
            return
        monitor = "val_loss" if self.validation is not None else "loss"
        if self.stops[index].update(epoch, float(logs[monitor]), self.settings.patience):
            for part in (0, 1):
                self.best[part] = [
                    best.at[index].set(value[index])
                    for best, value in zip(self.best[part], self.state[part], strict=True)
                ]

    def _learning_rate(self, index: int) -> float:
        """The member's learning rate now (its variable, or the schedule at its iteration)."""
        optimizer = self.template.optimizer
        mapping = [
            (v, value[index]) for v, value in zip(optimizer.variables, self.state[2], strict=True)
        ]
        with keras.StatelessScope(state_mapping=mapping):
            return float(keras.ops.convert_to_numpy(optimizer.learning_rate))

    def _write_back(self) -> None:
        for index, model in enumerate(self.models):
            groups = _variable_groups(model)
            for variables, values in zip(groups, self.state, strict=True):
                for variable, value in zip(variables, values, strict=True):
                    variable.assign(np.asarray(value[index]))  # off the member's device
            model.optimizer.finalize_variable_values(model.trainable_variables)

    # checkpoint
    def _save_checkpoint(self, epochs_done: int) -> None:
        if self.folder is None:
            return
        arrays = {}
        for name, values in (
            ("trainable", self.state[0]),
            ("non_trainable", self.state[1]),
            ("optimizer", self.state[2]),
            ("best_trainable", self.best[0]),
            ("best_non_trainable", self.best[1]),
        ):
            for position, value in enumerate(values):  # without padding: any core count resumes
                arrays[f"{name}_{position}"] = np.asarray(value)[: len(self.models)]
        with atomic_path(self.folder / CHECKPOINT_ARRAYS) as temporary:
            np.savez(temporary, **arrays)  # the name ends in .npz, so savez adds nothing
        state = {
            "epochs_done": epochs_done,
            "seeds": self.seeds,
            "histories": self.histories,
            "stops": [asdict(stop) for stop in self.stops],
        }
        write_json(self.folder / CHECKPOINT_STATE, state)

    def _load_checkpoint(self) -> None:
        if self.folder is None or not (self.folder / CHECKPOINT_STATE).is_file():
            return
        state = json.loads((self.folder / CHECKPOINT_STATE).read_text(encoding="utf-8"))
        if state.get("seeds") != self.seeds:
            raise ConfigError(
                f"the population checkpoint in {self.folder} is for seeds {state.get('seeds')}, "
                f"not {self.seeds}; resume with the same members or remove that folder"
            )
        with np.load(self.folder / CHECKPOINT_ARRAYS, allow_pickle=False) as arrays:

            def read(name, count):
                return self.placement.split(
                    [
                        _pad_rows(arrays[f"{name}_{position}"][: len(self.models)], self.padding)
                        for position in range(count)
                    ]
                )

            self.state = [
                read(name, len(values))
                for name, values in zip(
                    ("trainable", "non_trainable", "optimizer"), self.state, strict=True
                )
            ]
            self.best = [
                read("best_trainable", len(self.state[0])),
                read("best_non_trainable", len(self.state[1])),
            ]
        self.histories = state["histories"]
        self.stops = [MemberStop(**stop) for stop in state["stops"]]
        self.start_epoch = int(state["epochs_done"])


def _population_steps(template: keras.Model) -> _PopulationSteps:
    """The template's train/test scans, vmapped over the member axis and jitted.

    Cached by what the traced step depends on (architecture, loss, metrics, optimizer
    settings, the layers' constants), not by model: the next population of the same kind
    reuses the compiled programs (the template is kept alive by its entry; the cache holds
    STEPS_CACHE_SIZE).
    """
    key = json.dumps(_shared_settings(template, 0), sort_keys=True, default=str)
    if key in _STEPS_CACHE:
        _STEPS_CACHE.move_to_end(key)
        return _STEPS_CACHE[key]

    def train(state, active, x, y, batch_indices, settings):
        step_function = stateless_step(template, "train_step")

        def member(state, member_active, indices, member_settings):
            with _traced_member_settings(template, member_settings):
                trained, logs = scan_steps(step_function, state, x, y, indices, gather_first=False)
            # A stopped member computes but keeps its state: one select per chunk, not per step.
            kept = jax.tree.map(lambda new, old: jnp.where(member_active, new, old), trained, state)
            return kept, logs

        return jax.vmap(member)(state, active, batch_indices, settings)

    def test(state, x, y, batch_indices, settings):
        step_function = stateless_step(template, "test_step")

        def member(state, member_settings):
            with _traced_member_settings(template, member_settings):
                return scan_steps(step_function, state, x, y, batch_indices, gather_first=False)

        return jax.vmap(member)(state, settings)

    steps = _PopulationSteps(jax.jit(train), jax.jit(test))
    _STEPS_CACHE[key] = steps
    if len(_STEPS_CACHE) > STEPS_CACHE_SIZE:
        _STEPS_CACHE.popitem(last=False)
    return steps


def _member_settings(model: keras.Model) -> dict:
    """The settings each member may have its own value of, outside its state: the weight
    decay and the label smoothing (0 where there is none), and each per-member Dropout layer's
    keep probability."""
    smoothing = 0.0
    if isinstance(model.loss, SparseCategoricalCrossentropyWithSmoothing):
        smoothing = model.loss.label_smoothing
    return {
        "weight_decay": model.optimizer.weight_decay or 0.0,
        "label_smoothing": smoothing,
        "dropout_keep": [1.0 - layer.rate for layer in _member_dropouts(model)],
    }


def _member_dropouts(model: keras.Model) -> list[keras.layers.Dropout]:
    """The model's Dropout layers whose rate may differ per member: those that drop something
    and not everything (rate 0 and 1 are special cases in Keras's code), and drop as Dropout
    does (SpatialDropout1D, a subclass, draws its mask otherwise: its rate must match)."""
    return [
        layer
        for layer in model.layers
        if type(layer).call is keras.layers.Dropout.call and 0 < layer.rate < 1
    ]


def _traced_member_settings(template: keras.Model, settings: dict) -> ExitStack:
    """Contexts that trace one member's `settings` into the template's optimizer, loss and
    Dropout layers, where it has them (whether it does is shared by every member:
    `_shared_settings`)."""
    stack = ExitStack()
    if template.optimizer.weight_decay is not None:  # None: no decay step at all
        stack.enter_context(
            traced_setting(template.optimizer, "weight_decay", settings["weight_decay"])
        )
    if isinstance(template.loss, SparseCategoricalCrossentropyWithSmoothing):
        stack.enter_context(
            traced_setting(template.loss, "label_smoothing", settings["label_smoothing"])
        )
    for index, layer in enumerate(_member_dropouts(template)):
        stack.enter_context(traced_dropout(layer, settings["dropout_keep"][index]))
    return stack


def _variable_groups(model: keras.Model) -> tuple[list, list, list]:
    return model.trainable_variables, model.non_trainable_variables, model.optimizer.variables


def _model_state(model: keras.Model) -> tuple[list, list, list]:
    return tuple([variable.value for variable in group] for group in _variable_groups(model))


def _member_logs(chunk_logs: dict) -> list[dict[str, float]]:
    """Per-member floats from a chunk's (members,) log arrays."""
    arrays = {name: np.asarray(values) for name, values in chunk_logs.items()}
    count = len(next(iter(arrays.values())))
    return [
        {name: float(values[index]) for name, values in arrays.items()} for index in range(count)
    ]


def _pad_rows(values: np.ndarray, padding: int) -> np.ndarray:
    """`values` with `padding` copies of its last row (member) appended."""
    return np.concatenate([values, np.repeat(values[-1:], padding, axis=0)])


def _is_out_of_memory(error: Exception) -> bool:
    return isinstance(error, MemoryError) or "RESOURCE_EXHAUSTED" in str(error)


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


def _output_size(layer) -> int:
    try:
        return math.prod(size for size in layer.output.shape[1:] if size)
    except (AttributeError, ValueError, TypeError):
        return 0


def _input_size(model: keras.Model) -> int:
    inputs = getattr(model, "inputs", None)
    if inputs:
        return math.prod(size for size in inputs[0].shape[1:] if size)
    return 0


def _check_population(models, seeds, epochs, batch_size, patience) -> None:
    """Raise ConfigError for a population the engine cannot train, saying what to change."""
    if keras.backend.backend() != "jax":
        raise ConfigError(
            f"populations need Keras's JAX backend, but KERAS_BACKEND is "
            f"{keras.backend.backend()!r}; unset it or set KERAS_BACKEND=jax"
        )
    if not models or len(models) != len(seeds):
        raise ConfigError(
            f"{len(models)} models and {len(seeds)} seeds: pass one seed per model, at least one"
        )
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if not isinstance(patience, int) or patience < -1:
        raise ConfigError(f"early_stopping_patience={patience!r}: expected >= 0, or -1 (off)")
    reference = _shared_settings(models[0], 0)
    for index, model in enumerate(models[1:], 1):
        settings = _shared_settings(model, index)
        for key in reference:
            if settings[key] != reference[key]:
                raise ConfigError(
                    f"member {index} differs from member 0 in its {key}: the members of one "
                    "population may differ only in weights, seed, a constant learning rate "
                    "and the values of weight decay, label smoothing and dropout rates; train "
                    "the others as another population"
                )


def _architecture(model: keras.Model) -> str:
    """The model's layers and their settings, without the names Keras numbers per instance and
    the dropout rates members may differ in."""
    per_member = {id(layer) for layer in _member_dropouts(model)}
    layers = []
    for layer in model.layers:
        config = {key: value for key, value in layer.get_config().items() if key != "name"}
        if id(layer) in per_member:
            config["rate"] = "per member"
        layers.append([type(layer).__name__, config])
    return json.dumps([type(model).__name__, layers], sort_keys=True, default=str)


def _shared_settings(model: keras.Model, index: int) -> dict:
    """What must be equal across members: architecture, loss, metrics, optimizer, but for the
    learning rate and the values of the weight decay, the label smoothing and the dropout
    rates (whether there is any, and where, must match), and the layers' constants (an
    adapted Normalization's mean and variance: the step reads the template's)."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise ConfigError(f"member {index} is not compiled; call model.compile(...) first")
    optimizer = dict(model.optimizer.get_config())
    rate = optimizer.pop("learning_rate")
    if isinstance(rate, dict):
        optimizer["learning_rate schedule"] = rate
    optimizer.pop("name", None)
    optimizer["weight_decay"] = optimizer.get("weight_decay") is not None  # its value may differ
    compile_config = model.get_compile_config() or {}
    loss = compile_config.get("loss")
    if isinstance(loss, dict) and "label_smoothing" in loss.get("config", {}):
        loss = loss | {"config": loss["config"] | {"label_smoothing": "per member"}}
    return {
        "architecture": _architecture(model),
        "weight shapes": [tuple(weight.shape) for weight in model.weights],
        "loss": json.dumps(loss, sort_keys=True, default=str),
        "metrics": json.dumps(compile_config.get("metrics"), sort_keys=True, default=str),
        "optimizer settings": json.dumps(optimizer, sort_keys=True, default=str),
        "layer constants (an adapted Normalization's mean and variance, ...)": _constants_digest(
            model
        ),
    }


def _constants_digest(model: keras.Model) -> str:
    """A digest of the arrays the model's layers hold outside their variables."""
    digest = hashlib.sha256()
    for name, value in layer_constants(model):
        array = np.asarray(value)
        digest.update(f"{name} {array.dtype} {array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
