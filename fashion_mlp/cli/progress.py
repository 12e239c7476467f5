"""A Keras callback that shows training progress with rich: a bar per epoch (on a terminal
only), then one line per epoch."""

from __future__ import annotations

import time

import keras
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

REFRESH_SECONDS = 0.1  # at most ten bar updates a second, so fit's per-step calls stay cheap
SHOWN_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


class RichProgress(keras.callbacks.Callback):
    """Per epoch: a transient bar with running loss and accuracy, then a summary line.

    The bar is drawn only on a terminal: piped into a file, the output is the epoch lines alone.
    """

    def __init__(self, console: Console | None = None):
        super().__init__()
        self.console = console or Console()
        self.progress: Progress | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self.last_update = 0.0
        if not self.console.is_terminal:
            return
        self.progress = Progress(
            TextColumn(f"epoch {epoch + 1}/{self.params.get('epochs', '?')}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[metrics]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.task = self.progress.add_task("train", total=self.params.get("steps"), metrics="")
        self.progress.start()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.progress is None or now - self.last_update < REFRESH_SECONDS:
            return
        self.last_update = now
        self.progress.update(self.task, completed=batch + 1, metrics=format_metrics(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        logs = logs or {}
        seconds = f"  {logs['seconds']:.2f}s" if "seconds" in logs else ""
        total = self.params.get("epochs", "?")
        self.console.print(
            f"epoch {epoch + 1:>3}/{total}  {format_metrics(logs)}{seconds}", soft_wrap=True
        )

    def on_train_end(self, logs=None):
        if self.progress is not None:
            self.progress.stop()


def format_metrics(logs: dict) -> str:
    """'loss 0.3412  accuracy 0.8765 ...' for the metrics present in logs."""
    return "  ".join(f"{name} {logs[name]:.4f}" for name in SHOWN_METRICS if name in logs)
