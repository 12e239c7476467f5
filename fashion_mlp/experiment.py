"""One experiment end to end: data, model, training with checkpoints, evaluation, run folder.

`run_experiment(config)` starts a run; `resume_experiment(run_dir)` continues an interrupted
one from its last checkpoint; `evaluate_run(run_dir)` re-evaluates a finished one.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from fashion_mlp import runs
from fashion_mlp.config import ExperimentConfig, build_config, read_toml, write_toml
from fashion_mlp.datasets import Dataset, load_dataset
from fashion_mlp.errors import RunError
from fashion_mlp.evaluation import classification_metrics
from fashion_mlp.models import build_model, count_trainable_parameters, load_user_model
from fashion_mlp.optimizers import compile_model
from fashion_mlp.predictor import Predictor, load_run_model
from fashion_mlp.training import fit, resolve_engine, split_validation


@dataclass(frozen=True)
class RunResult:
    """A finished run: its folder, test metrics and per-epoch history."""

    run_dir: Path
    metrics: dict
    history: dict[str, list[float]]


def load_experiment_data(config: ExperimentConfig) -> Dataset:
    """The configured data set, cut to train_limit / test_limit images when they are set."""
    data = load_dataset(config.data.name, data_dir=config.data.data_dir)
    train, test = config.data.train_limit or None, config.data.test_limit or None
    return dataclasses.replace(
        data, x_train=data.x_train[:train], y_train=data.y_train[:train],
        x_test=data.x_test[:test], y_test=data.y_test[:test],
    )  # fmt: skip


def make_model(config: ExperimentConfig, data: Dataset) -> keras.Model:
    """The configured model (seeded), with its normalisation adapted on the training part only."""
    keras.utils.set_random_seed(config.training.seed)
    if config.model.user_model:
        return load_user_model(config.model.user_model, data.image_shape, data.num_classes)
    spec = dataclasses.replace(
        config.model.spec, num_classes=data.num_classes, input_shape=data.image_shape
    )
    x_fit, _, _, _ = split_validation(data.x_train, data.y_train, config.training.validation_split)
    return build_model(spec, config.model.style, x_train=x_fit)


def compile_for(model: keras.Model, config: ExperimentConfig, data: Dataset) -> None:
    """Compile with the configured optimizer; schedules learn the run's total number of steps."""
    train_size = math.floor(len(data.x_train) * (1 - config.training.validation_split))
    steps = config.training.epochs * math.ceil(train_size / config.training.batch_size)
    compile_model(model, **dataclasses.asdict(config.optimizer), total_steps=steps)


def model_summary(model: keras.Model) -> str:
    """Keras's model summary as plain text."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=90)
    return "\n".join(lines)


class RunCheckpoint(keras.callbacks.Callback):
    """After each epoch: the model (with optimizer state) and the history so far, for --resume.

    The model goes to checkpoints/epoch-NNN.keras first, then state.json names it; the older
    file is removed last, so a crash at any point leaves a consistent checkpoint.
    """

    def __init__(self, run_dir: Path, history_before: dict[str, list[float]]):
        super().__init__()
        self.run_dir = run_dir
        self.history = {key: list(values) for key, values in history_before.items()}

    def on_train_begin(self, logs=None):
        self.previous = None  # the checkpoint file this run last wrote; a resumed run has one
        if (self.run_dir / runs.CHECKPOINT_STATE).exists():
            state = runs.read_json(self.run_dir, runs.CHECKPOINT_STATE, "the last checkpoint")
            self.previous = state["model"]

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        name = f"checkpoints/epoch-{epoch + 1:03d}.keras"
        runs.save_model(self.model, self.run_dir / name)
        state = {"epoch": epoch + 1, "model": name, "history": self.history}
        runs.write_json(self.run_dir / runs.CHECKPOINT_STATE, state)
        if self.previous and self.previous != name:
            (self.run_dir / self.previous).unlink(missing_ok=True)
        self.previous = name


def training_callbacks(config: ExperimentConfig, run_dir: Path, history_before, extra) -> list:
    """The run's checkpointing, optional early stopping, then the caller's callbacks."""
    callbacks: list = [RunCheckpoint(run_dir, history_before)]
    if config.training.early_stopping_patience >= 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss" if config.training.validation_split > 0 else "loss",
                patience=config.training.early_stopping_patience,
                restore_best_weights=config.training.restore_best_weights,
            )
        )
    return [*callbacks, *extra]


def run_experiment(
    config: ExperimentConfig, runs_dir: Path = Path("runs"), callbacks=(), on_start=None
) -> RunResult:
    """Train and evaluate `config` in a new run folder under runs_dir.

    `on_start(run_dir, model, config)` is called once the folder and the model exist (the CLI
    prints the model summary and the engine there). Interrupted runs continue with
    `resume_experiment(run_dir)`.
    """
    data = load_experiment_data(config)
    model = make_model(config, data)
    compile_for(model, config, data)
    run_dir = runs.new_run_dir(runs_dir, config.name)
    runs.write_text(run_dir / "config.toml", write_toml(config))
    runs.write_text(run_dir / "summary.txt", model_summary(model) + "\n")
    if on_start:
        on_start(run_dir, model, config)
    return train_and_finish(model, data, config, run_dir, 0, {}, callbacks)


def resume_experiment(run_dir: Path, callbacks=(), on_start=None) -> RunResult:
    """Continue an interrupted run from its last checkpoint to the configured epochs."""
    run_dir = Path(run_dir)
    config = build_config(read_toml(runs.require_file(run_dir, "config.toml", "its config")))
    if (run_dir / "metrics.json").exists():
        raise RunError(f"run {run_dir} already finished; start a new one with `fashion-mlp train`")
    state = runs.read_json(run_dir, runs.CHECKPOINT_STATE, "the last checkpoint")
    model = load_run_model(run_dir / state["model"])
    data = load_experiment_data(config)
    if on_start:
        on_start(run_dir, model, config)
    return train_and_finish(
        model, data, config, run_dir, state["epoch"], state["history"], callbacks
    )


def train_and_finish(model, data, config, run_dir, initial_epoch, history_before, callbacks):
    """Train from initial_epoch, evaluate on the test set, write the run's files."""
    engine = resolve_engine(config.training.engine)
    history = fit(
        model, data, epochs=config.training.epochs, batch_size=config.training.batch_size,
        validation_split=config.training.validation_split, seed=config.training.seed,
        engine=engine, initial_epoch=initial_epoch,
        callbacks=training_callbacks(config, run_dir, history_before, callbacks),
    )  # fmt: skip
    full_history = {key: list(values) for key, values in history_before.items()}
    for key, values in history.history.items():
        full_history.setdefault(key, []).extend(float(value) for value in values)
    started = time.perf_counter()
    probabilities = Predictor(model, data.class_names).predict_proba(data.x_test)
    metrics = classification_metrics(data.y_test, probabilities, data.class_names)
    metrics |= {
        "timings": {
            "train_seconds": float(sum(full_history.get("seconds", []))),
            "seconds_per_epoch": full_history.get("seconds", []),
            "evaluate_seconds": time.perf_counter() - started,
        },
        "environment": environment(),
        "data": provenance_dict(data),
        "engine": engine,
        "epochs_run": len(full_history.get("loss", [])),
        "parameters": count_trainable_parameters(model),
        "seed": config.training.seed,
    }
    runs.save_model(model, run_dir / "model.keras")
    runs.write_text(run_dir / "history.csv", runs.history_csv(full_history))
    runs.write_json(run_dir / "metrics.json", metrics)
    write_figures_and_report(run_dir, data, full_history, metrics, probabilities)
    return RunResult(run_dir, metrics, full_history)


def write_figures_and_report(run_dir, data, history, metrics, probabilities) -> None:
    """The run's figures and its self-contained report.html."""
    from fashion_mlp.figures import write_run_figures
    from fashion_mlp.report import build_report

    write_run_figures(run_dir, data, history, metrics, probabilities)
    build_report(run_dir)


def evaluate(model: keras.Model, data: Dataset) -> dict:
    """Test accuracy, loss, confusion matrix and per-class scores of a model on data's test set."""
    probabilities = Predictor(model, data.class_names).predict_proba(data.x_test)
    return classification_metrics(data.y_test, probabilities, data.class_names)


def evaluate_run(run_dir: Path, data_name: str | None = None, data_dir=None) -> dict:
    """A finished run's model re-evaluated on its test set, or on another data set's."""
    run_dir = Path(run_dir)
    config = build_config(read_toml(runs.require_file(run_dir, "config.toml", "its config")))
    if data_name or data_dir:
        config = dataclasses.replace(
            config, data=dataclasses.replace(
                config.data, name=data_name or config.data.name, data_dir=data_dir, test_limit=0
            ),
        )  # fmt: skip
    predictor = Predictor.load(run_dir)
    data = load_experiment_data(config)
    if data.num_classes != len(predictor.class_names):
        raise RunError(
            f"the run's model has {len(predictor.class_names)} classes but data set "
            f"{data.name!r} has {data.num_classes}; evaluate on a data set with the same classes"
        )
    probabilities = predictor.predict_proba(data.x_test)
    metrics = classification_metrics(data.y_test, probabilities, predictor.class_names)
    return metrics | {"data": provenance_dict(data)}


def provenance_dict(data: Dataset) -> dict:
    """The data set's name and provenance, as plain JSON types."""
    return {"name": data.name, **data.provenance.as_dict()}


def environment() -> dict:
    """Versions, backend and device of this run, for reproducibility."""
    info = {
        "python": platform.python_version(), "keras": keras.__version__,
        "backend": keras.backend.backend(), "numpy": np.__version__,
        "platform": platform.platform(), "device": "cpu", "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }  # fmt: skip
    if keras.backend.backend() == "jax":
        import jax

        info |= {"jax": jax.__version__, "device": str(jax.devices()[0].platform)}
    return info
