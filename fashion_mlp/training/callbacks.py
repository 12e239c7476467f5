"""The Keras callbacks a run trains with: per-epoch timing and learning rate, the run's
checkpoint after every epoch, and early stopping as configured."""

from __future__ import annotations

import time

import keras

from fashion_mlp.config import TrainingConfig
from fashion_mlp.runs import RunDir


class LogSecondsAndLearningRate(keras.callbacks.Callback):
    """Adds each epoch's wall-clock `seconds` and `learning_rate` to its logs (and history)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        logs["seconds"] = time.perf_counter() - self.started
        learning_rate = self.model.optimizer.learning_rate  # the schedule's value now
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(learning_rate))


class RunCheckpoint(keras.callbacks.Callback):
    """After each epoch: the model (with optimizer state) and the history so far, for --resume."""

    def __init__(self, run: RunDir, history_before: dict[str, list[float]]):
        super().__init__()
        self.run = run
        self.history = {key: list(values) for key, values in history_before.items()}

    def on_train_begin(self, logs=None):
        checkpoint = self.run.read_checkpoint()  # a resumed run replaces its last checkpoint
        self.previous = None if checkpoint is None else checkpoint.model_file

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.previous = self.run.write_checkpoint(
            self.model, epoch + 1, self.history, replaces=self.previous
        )


def early_stopping(config: TrainingConfig) -> list[keras.callbacks.Callback]:
    """Keras's EarlyStopping as configured (on val_loss, or loss without validation), or []."""
    if config.early_stopping_patience < 0:
        return []
    return [
        keras.callbacks.EarlyStopping(
            monitor="val_loss" if config.validation_split > 0 else "loss",
            patience=config.early_stopping_patience,
            restore_best_weights=config.restore_best_weights,
        )
    ]
