"""TensorBoard scalars (loss, accuracy, learning rate... per epoch) written by tensorboardX,
which needs no TensorFlow: one event folder per run."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from fashion_mlp.errors import missing_extra
from fashion_mlp.tracking.run_values import history_steps

DEFAULT_DIR = Path("tensorboard")  # `tensorboard --logdir tensorboard` shows every run in it


class ScalarWriter:
    """One run's event folder; each epoch's values as scalars at their step."""

    def __init__(self, folder: str | os.PathLike):
        require_tensorboard()
        from tensorboardX import SummaryWriter

        self.folder = Path(folder)
        self._writer = SummaryWriter(logdir=str(self.folder))

    def log_epoch(self, step: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self._writer.add_scalar(key, value, global_step=step)
        self._writer.flush()

    def log_history(self, history: dict[str, list[float]]) -> None:
        for step, values in history_steps(history):
            self.log_epoch(step, values)

    def close(self) -> None:
        self._writer.close()


def require_tensorboard() -> None:
    """Raise ConfigError naming the pip install line unless tensorboardX is installed."""
    if importlib.util.find_spec("tensorboardX") is None:
        raise missing_extra("--tensorboard", "tensorboardX", "tensorboard")
