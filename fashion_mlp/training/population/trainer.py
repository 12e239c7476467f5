"""One compiled program's members trained together: their stacked state, the epoch loop,
early stopping per member, the checkpoint after each epoch and the write-back into the models."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import keras
import numpy as np

from fashion_mlp.config import TrainingConfig
from fashion_mlp.training.compiled import chunk_count, chunked_batches
from fashion_mlp.training.keras_internals import build_for_training, seed_state_variables
from fashion_mlp.training.population.checkpoint import load_checkpoint, save_checkpoint
from fashion_mlp.training.population.early_stopping import MemberStop
from fashion_mlp.training.population.members import member_inputs
from fashion_mlp.training.population.placement import DeviceData, MemberPlacement, padded_size
from fashion_mlp.training.population.programs import population_programs
from fashion_mlp.training.seeding import epoch_order

STATE_PARTS = ("trainable", "non_trainable", "optimizer")  # a member's variables, in that order


@dataclass(frozen=True)
class EpochPlan:
    """How every program of one population trains: its validated training settings and how
    many scans an epoch takes (None: as `fit_compiled`)."""

    training: TrainingConfig
    chunks_per_epoch: int | None


class PopulationTrainer:
    """One program's members: their stacked state, the epoch loop and the checkpoint.

    On CPU devices the member axis may be padded (placement.padded_size) with copies of the
    last member, inactive from the start: they compute, but their state, logs and checkpoint
    rows are never kept, so nothing outside this class sees them.
    """

    def __init__(self, models, seeds, arrays: DeviceData, plan: EpochPlan, folder, most: int):
        self.models, self.seeds, self.arrays, self.plan = models, seeds, arrays, plan
        self.training = plan.training
        self.folder = None if folder is None else Path(folder)
        self.template = models[0]
        self.padding = padded_size(len(models), most, jax.devices()) - len(models)
        self.member_seeds = seeds + seeds[-1:] * self.padding  # padding copies the last member
        self.placement = MemberPlacement(len(models) + self.padding)
        self.x, self.y, self.validation = arrays.on(self.placement)
        for model in models:
            build_for_training(model, arrays.host[0][:1], arrays.host[1][:1])
        self.state = self._initial_state()  # [trainable, non-trainable, optimizer] stacked
        per_slot = [member_inputs(model) for model in self._slot_models()]
        self.inputs = self.placement.split(
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
        self.programs = population_programs(self.template)

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
        for epoch in range(self.start_epoch, self.training.epochs):
            if not self.active.any():
                break
            logs = self._epoch(epoch)
            self._save_checkpoint(epoch + 1)
            if on_epoch_end:
                on_epoch_end(epoch, logs)
        if self.training.restore_best_weights and self.training.early_stopping_patience >= 0:
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
            state, chunk_logs = self.programs.train_chunk(
                state,
                placed_active,
                self.x,
                self.y,
                self.placement.split(indices),
                self.inputs,
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
        steps_per_epoch = math.ceil(self.arrays.num_train / self.training.batch_size)
        chunks = chunk_count(steps_per_epoch, self.plan.chunks_per_epoch)
        per_member = [
            chunked_batches(
                epoch_order(self.arrays.num_train, seed, epoch), self.training.batch_size, chunks
            )
            for seed in self.member_seeds
        ]
        return [np.stack(parts) for parts in zip(*per_member, strict=True)]

    def _validate(self) -> list[dict[str, float]]:
        x_val, y_val = self.validation
        order = np.arange(len(x_val), dtype=np.int32)
        state = (self.state[0], self.state[1], self.fresh_metrics)
        for indices in chunked_batches(order, self.training.batch_size, 1):
            state, chunk_logs = self.programs.test_chunk(
                state, x_val, y_val, self.placement.whole(indices), self.inputs
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
        if self.training.early_stopping_patience < 0:
            return
        monitor = "val_loss" if self.validation is not None else "loss"
        if self.stops[index].update(
            epoch, float(logs[monitor]), self.training.early_stopping_patience
        ):
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

    def _save_checkpoint(self, epochs_done: int) -> None:
        if self.folder is None:
            return
        parts = dict(zip(STATE_PARTS, self.state, strict=True))
        parts |= {"best_trainable": self.best[0], "best_non_trainable": self.best[1]}
        record = {
            "epochs_done": epochs_done,
            "seeds": self.seeds,
            "histories": self.histories,
            "stops": [asdict(stop) for stop in self.stops],
        }
        save_checkpoint(self.folder, parts, len(self.models), record)

    def _load_checkpoint(self) -> None:
        if self.folder is None:
            return
        counts = {name: len(values) for name, values in zip(STATE_PARTS, self.state, strict=True)}
        counts |= {"best_trainable": len(self.state[0]), "best_non_trainable": len(self.state[1])}
        saved = load_checkpoint(self.folder, self.seeds, counts)
        if saved is None:
            return
        parts, record = saved
        placed = {
            name: self.placement.split([_pad_rows(values, self.padding) for values in arrays])
            for name, arrays in parts.items()
        }
        self.state = [placed[name] for name in STATE_PARTS]
        self.best = [placed["best_trainable"], placed["best_non_trainable"]]
        self.histories = record["histories"]
        self.stops = [MemberStop(**stop) for stop in record["stops"]]
        self.start_epoch = int(record["epochs_done"])


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
