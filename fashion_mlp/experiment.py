"""One experiment end to end: start a run folder, train it, finish it; or resume one.

`run_experiment(config)` = `start_run` + `train_run` + `finish_run`. The steps are separate
calls so that a caller training many models (a sweep) can finish each one without figures
and draw them later only for the runs a user asks for (`draw_figures`). Finishing a run with a
validation split calibrates it (`calibrate_run` does it again, or later, for any run).
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

from fashion_mlp.config import ExperimentConfig
from fashion_mlp.datasets import Dataset
from fashion_mlp.distillation import checked_teacher, distillation_targets, teacher_facts
from fashion_mlp.errors import CalibrationError, RunError
from fashion_mlp.files import resume_hint
from fashion_mlp.history import time_to_accuracy
from fashion_mlp.inference.evaluate import provenance_dict
from fashion_mlp.inference.mirror import mirror_check
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.inside_run import write_inside_figures
from fashion_mlp.inspection.calibration import (
    calibration_record,
    held_out,
    metrics_entry,
    uncalibrated_entry,
)
from fashion_mlp.metrics import classification_metrics
from fashion_mlp.models import (
    build_model,
    check_trusted_code,
    count_trainable_parameters,
    load_saved_model,
    load_user_model,
)
from fashion_mlp.reports.figures import write_run_figures
from fashion_mlp.reports.run_page import write_run_page
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import integer_labels, load_run_data, split_validation, training_size
from fashion_mlp.training import compile_model, fit, resolve_engine
from fashion_mlp.training.callbacks import RunCheckpoint, early_stopping


@dataclass(frozen=True)
class RunResult:
    """A finished run: its folder, test metrics and per-epoch history."""

    run_dir: Path
    metrics: dict
    history: dict[str, list[float]]


def build_configured_model(config: ExperimentConfig, data: Dataset) -> keras.Model:
    """The configured model (seeded), its normalisation adapted on the training part only."""
    keras.utils.set_random_seed(config.training.seed)
    if config.model.user_model:
        return load_user_model(config.model.user_model, data.image_shape, data.num_classes)
    spec = dataclasses.replace(
        config.model.spec, num_classes=data.num_classes, input_shape=data.image_shape
    )
    x_fit, _, _, _ = split_validation(data.x_train, data.y_train, config.training.validation_split)
    return build_model(spec, config.model.style, x_train=x_fit)


def compile_configured_model(model: keras.Model, config: ExperimentConfig, data: Dataset) -> None:
    """Compile with the configured optimizer; schedules learn the run's total number of steps."""
    training = config.training
    train_size = training_size(len(data.x_train), training.validation_split)
    steps = training.epochs * math.ceil(train_size / training.batch_size)
    compile_model(model, config.optimizer, total_steps=steps, distill=config.distill)


def model_summary(model: keras.Model) -> str:
    """Keras's model summary as plain text, as wide as Keras's console (wider is cut)."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)


def start_run(
    config: ExperimentConfig, runs_dir: str | os.PathLike = "runs"
) -> tuple[RunDir, keras.Model, Dataset]:
    """Load the data, build and compile the model, then create the run folder with its config.

    Everything that can fail on a bad config fails before the folder exists, and the folder
    appears with its config and summary or not at all (a full disk leaves no empty folder).
    """
    data = load_run_data(config.data)
    checked_teacher(config, data)
    model = build_configured_model(config, data)
    compile_configured_model(model, config, data)
    with RunDir.creating(runs_dir, config.name) as run:
        run.write_config(config)
        run.write_summary(model_summary(model))
    return run, model, data


def train_run(
    run: RunDir,
    model: keras.Model,
    data: Dataset,
    config: ExperimentConfig,
    *,
    initial_epoch: int = 0,
    history_before: dict[str, list[float]] | None = None,
    callbacks=(),
) -> dict[str, list[float]]:
    """Train from `initial_epoch`, checkpointing each epoch; returns the whole run's history."""
    history_before = history_before or {}
    training = config.training
    with run.lock():
        history = fit(
            model,
            data,
            epochs=training.epochs,
            batch_size=training.batch_size,
            validation_split=training.validation_split,
            seed=training.seed,
            engine=training.engine,
            initial_epoch=initial_epoch,
            callbacks=[RunCheckpoint(run, history_before), *early_stopping(training), *callbacks],
            targets=distillation_targets(config, data),
        )
    full_history = {key: list(values) for key, values in history_before.items()}
    for key, values in history.history.items():
        full_history.setdefault(key, []).extend(float(value) for value in values)
    return full_history


def finish_run(
    run: RunDir,
    model: keras.Model,
    data: Dataset,
    config: ExperimentConfig,
    history: dict[str, list[float]],
    *,
    figures: bool = True,
    saved: bool = False,
    extra_metrics: dict | None = None,
) -> dict:
    """Evaluate on the test set; write the model, history, metrics, figures and report; remove
    leftovers of interrupted writes. An `unfinished` marker is written first and removed last,
    so a run cut short while being finished is not taken for a finished one.

    saved: `save_trained` already wrote the model and history (a population's members are all
    saved before the first is finished).
    extra_metrics: more entries for metrics.json (a population member's), written with the rest
    before the run counts as finished.

    Returns:
        The metrics written to metrics.json.
    """
    with run.lock():
        if not saved:
            save_trained(run, model, history)
        metrics = write_results(
            run, model, data, config, history, figures=figures, extra_metrics=extra_metrics or {}
        )
        run.remove_leftovers()
        run.mark_finished()
    return metrics


def _validation(data: Dataset, config: ExperimentConfig) -> tuple:
    """The run's validation images and integer labels (None, None without a split)."""
    _, _, x_val, y_val = split_validation(
        data.x_train, integer_labels(data.y_train), config.training.validation_split
    )
    return x_val, y_val


def save_trained(run: RunDir, model: keras.Model, history: dict[str, list[float]]) -> None:
    """What training leaves, before anything is evaluated: the `unfinished` marker, the history,
    then model.keras. Once model.keras exists training is over: a resume only finishes the run
    (`resume_point`; a sweep's `train_runs`)."""
    run.mark_unfinished()
    run.write_history(history)
    run.save_model(model)


def write_results(
    run: RunDir,
    model: keras.Model,
    data: Dataset,
    config: ExperimentConfig,
    history: dict[str, list[float]],
    *,
    figures: bool,
    extra_metrics: dict,
) -> dict:
    """Evaluate the model on the test set; calibrate it; write metrics (with `extra_metrics`),
    figures and the report (the history is written with the model: `save_trained`)."""
    started = time.perf_counter()
    predictor = Predictor(model, data.class_names)
    probabilities = predictor.predict_proba(data.x_test)
    metrics = classification_metrics(data.y_test, probabilities, data.class_names)
    metrics["calibration"] = calibration_entry(run, predictor, data, config, probabilities)
    metrics |= {
        "timings": {
            "train_seconds": float(sum(history.get("seconds", []))),
            "seconds_per_epoch": history.get("seconds", []),
            "evaluate_seconds": time.perf_counter() - started,
        },
        "environment": environment(),
        "data": provenance_dict(data),
        "engine": resolve_engine(config.training.engine),
        "epochs_run": len(history.get("loss", [])),
        "parameters": count_trainable_parameters(model),
        "seed": config.training.seed,
        "mirror": mirror_check(Predictor(model, data.class_names), *_validation(data, config)),
    } | extra_metrics
    if config.distill.teacher is not None:
        metrics["distilled_from"] = teacher_facts(config.distill)
    if reached := time_to_accuracy(history):  # absent without a validation split
        metrics["time_to_accuracy"] = reached
    run.write_metrics(metrics)
    if figures:
        write_run_figures(run.path, data, history, metrics, probabilities)
        write_inside_figures(run, model, data, probabilities)
    write_run_page(run)
    return metrics


def calibration_entry(
    run: RunDir, predictor: Predictor, data: Dataset, config: ExperimentConfig, test_probabilities
) -> dict:
    """Calibrate on the validation split (calibration.json) and return metrics.json's entry;
    a run without one stays uncalibrated, its entry saying how to calibrate it."""
    try:
        return metrics_entry(calibrate(run, predictor, data, config, test_probabilities))
    except CalibrationError as error:
        return uncalibrated_entry(str(error))


def calibrate(
    run: RunDir,
    predictor: Predictor,
    data: Dataset,
    config: ExperimentConfig,
    test_probabilities,
    split: float = 0.0,
) -> dict:
    """Fit the temperature on the validation split (or the last `split` of the training images)
    from the raw `predictor`, and write calibration.json; returns its record."""
    fitted_on = held_out(data, config.training.validation_split, split)
    held_out_probabilities = predictor.predict_proba(fitted_on.images, raw=True)
    record = calibration_record(fitted_on, held_out_probabilities, data.y_test, test_probabilities)
    run.write_calibration(record)
    return record


def calibrate_run(run_dir: str | os.PathLike, split: float = 0.0) -> dict:
    """Calibrate a finished run (older runs too): write calibration.json, metrics.json's entry
    and the report. The test set only measures; the fit uses the validation split, or with
    `split` the last part of the training images of a run that has none (optimistic).

    Returns:
        calibration.json's record: temperature, what it was fitted on, ECE and NLL raw and
        calibrated on those images and on the test set, the test reliability diagram.
    """
    run = RunDir(run_dir)
    config = run.read_config()
    class_names = run.class_names()
    predictor = Predictor(load_saved_model(run.model_path), class_names)  # its own probabilities
    data = load_run_data(config.data)
    test_probabilities = predictor.predict_proba(data.x_test, raw=True)
    with run.lock():
        try:
            record = calibrate(run, predictor, data, config, test_probabilities, split)
        except CalibrationError as error:
            raise CalibrationError(f"run {run.path}: {error}") from None
        run.write_metrics(run.read_metrics() | {"calibration": metrics_entry(record)})
        write_run_page(run)
    return record


def run_experiment(
    config: ExperimentConfig,
    runs_dir: str | os.PathLike = "runs",
    callbacks=(),
    on_start=None,
    *,
    figures: bool = True,
) -> RunResult:
    """Train and evaluate `config` in a new run folder under runs_dir: what `train` does.

    Args:
        config: the experiment (see `build_config` and `preset`).
        runs_dir: folder that holds the run folders.
        callbacks: extra Keras callbacks (progress display, ...).
        on_start: called as `on_start(run_dir, model, config)` once the folder and the model
            exist (the CLI prints the model summary and the engine there).
        figures: draw the figures (False: metrics and a report without figures).

    Returns:
        RunResult with the run folder, its test metrics and its history.

    Examples:
        >>> result = run_experiment(build_config(preset("notebook")))
        >>> result.metrics["test_accuracy"]
        0.8635
    """
    run, model, data = start_run(config, runs_dir)
    with resume_hint(f"fashion-mlp train --resume {run.path}"), run.lock():
        if on_start:
            on_start(run.path, model, config)
        history = train_run(run, model, data, config, callbacks=callbacks)
        metrics = finish_run(run, model, data, config, history, figures=figures)
    return RunResult(run.path, metrics, history)


def resume_experiment(
    run_dir: str | os.PathLike,
    callbacks=(),
    on_start=None,
    *,
    figures: bool = True,
    user_model: str | None = None,
    trust_code: bool = False,
) -> RunResult:
    """Continue an interrupted run from its last checkpoint to the configured epochs.

    A run stopped before its first checkpoint starts again from epoch 0 in the same folder
    (the model is rebuilt from the same seed, so the result is the same); one stopped while
    being finished is finished from its saved model, without training. Leftovers of
    interrupted writes are removed first. The run is locked meanwhile.

    Args:
        run_dir: the interrupted run's folder; its own config.toml is used.
        callbacks, on_start, figures: as for `run_experiment`.
        user_model, trust_code: a run whose config names code (model.user_model) is resumed
            only when `user_model` names the same FILE.py:FUNCTION or `trust_code` is true.

    Returns:
        RunResult, with the same metrics as an uninterrupted run of the same config.

    Examples:
        >>> resume_experiment("runs/20261129-203000-notebook").metrics["epochs_run"]
        10
    """
    run = RunDir(run_dir)
    if run.is_ensemble:
        raise RunError(
            f"run {run.path} is an ensemble: finish it with fashion_mlp.ensembles.resume_ensemble "
            "(as `fashion-mlp train --resume` does), not by training"
        )
    config = run.read_config()
    if config.model.user_model:
        check_trusted_code(config.model.user_model, run.path, user_model, trust_code)
    with resume_hint(f"fashion-mlp train --resume {run.path}"), run.lock():
        if run.is_finished:
            raise RunError(
                f"run {run.path} already finished; start a new one with `fashion-mlp train`"
            )
        run.remove_leftovers()
        data = load_run_data(config.data)
        trained = run.model_path.is_file()  # finish_run writes it first: training is over
        model, initial_epoch, history = resume_point(run, config, data)
        if on_start:
            on_start(run.path, model, config)
        if not trained:
            history = train_run(
                run,
                model,
                data,
                config,
                initial_epoch=initial_epoch,
                history_before=history,
                callbacks=callbacks,
            )
        metrics = finish_run(run, model, data, config, history, figures=figures)
    return RunResult(run.path, metrics, history)


def resume_point(
    run: RunDir, config: ExperimentConfig, data: Dataset
) -> tuple[keras.Model, int, dict[str, list[float]]]:
    """The model to go on from, its epoch and the history so far: the trained model.keras when
    only finishing was cut short, else the last checkpoint's model, else a new one at epoch 0."""
    checkpoint = run.read_checkpoint()
    if run.model_path.is_file():
        history = checkpoint.history if checkpoint else run.read_history()
        return load_saved_model(run.model_path), len(history.get("loss", [])), history
    if checkpoint is None:  # stopped before its first epoch ended: start over in its folder
        model = build_configured_model(config, data)
        compile_configured_model(model, config, data)
        return model, 0, {}
    return load_saved_model(run.checkpoint_model(checkpoint)), checkpoint.epoch, checkpoint.history


def draw_figures(run_dir: str | os.PathLike) -> list[Path]:
    """Draw a finished run's figures from its saved model and data, then rewrite its report."""
    run = RunDir(run_dir)
    predictor = Predictor.load(run)
    data = load_run_data(run.read_config().data)
    probabilities = predictor.predict_proba(data.x_test, raw=True)  # as finish_run drew them
    history, metrics = run.read_history(), run.read_metrics()
    with run.lock():
        paths = write_run_figures(run.path, data, history, metrics, probabilities)
        paths += write_inside_figures(run, predictor.model, data, probabilities, compute_map=True)
        write_run_page(run)
    return paths


def environment() -> dict:
    """Versions, backend and device of this run, for reproducibility."""
    info = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "device": "cpu",
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
    if keras.backend.backend() == "jax":
        import jax

        devices = jax.devices()  # populations split their members over several CPU devices
        info |= {
            "jax": jax.__version__,
            "device": str(devices[0].platform),
            "jax_devices": len(devices),
        }
    return info
