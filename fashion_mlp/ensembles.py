"""Ensembles: trained runs averaged into one Keras model, saved as an ordinary run.

The members (each run's own model.keras) sit inside one functional model whose output is the
mean of their class probabilities, so the ensemble loads with `safe_mode` and `evaluate`,
`predict`, `Predictor` and `report` treat it as any run. Its metrics.json names its members
with their own validation and test accuracies. With `mirror`, each member also sees the image
mirrored left-right and the mean runs over both views (for members trained with mirrors). It
is calibrated on the members' validation split (temperature scaling of the averaged
probabilities), as a trained run is.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence

import keras
import numpy as np

from fashion_mlp.augmentation import MirrorImages
from fashion_mlp.errors import RunError
from fashion_mlp.experiment import RunResult, calibration_entry, environment, model_summary
from fashion_mlp.files import resume_hint
from fashion_mlp.inference.evaluate import provenance_dict
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.inside_run import write_inside_figures
from fashion_mlp.metrics import classification_metrics
from fashion_mlp.models import (
    count_trainable_parameters,
    load_saved_model,
    model_input_shape,
    output_kind,
)
from fashion_mlp.reports.run_page import write_run_page
from fashion_mlp.runs import RunDir, ensemble_facts
from fashion_mlp.subsets import integer_labels, load_run_data, split_validation


def ensemble_model(
    members: Sequence[keras.Model], name: str = "ensemble", mirror: bool = False
) -> keras.Model:
    """One functional model averaging the members' class probabilities.

    Each member is wrapped as `member_<i>` (so members with the same name can sit side by
    side); a member with logit outputs gets a softmax first. With `mirror`, the average also
    takes each member's probabilities for the left-right mirrored image. Built from Keras and
    registered layers only, so it saves and loads with safe_mode.
    """
    if len(members) < 2:
        raise RunError(f"an ensemble needs at least 2 members, got {len(members)}")
    shape = model_input_shape(members[0])
    if mirror and len(shape) < 2:
        raise RunError(
            f"mirroring needs members that take images (rows, columns), not inputs of shape "
            f"{shape}; build the ensemble without --mirror"
        )
    inputs = keras.Input(shape=shape, name="pixels")
    views = [inputs, MirrorImages(name="mirrored")(inputs)] if mirror else [inputs]
    outputs = []
    for index, member in enumerate(members):
        if model_input_shape(member) != shape:
            raise RunError(
                f"member {index} takes images of shape {model_input_shape(member)}, member 0 "
                f"{shape}: ensemble members must take the same input"
            )
        member_inputs = keras.Input(shape=shape, name=f"pixels_{index}")
        probabilities = member(member_inputs)
        if output_kind(member, probabilities.shape[-1]) == "logits":
            probabilities = keras.layers.Softmax()(probabilities)
        wrapped = keras.Model(member_inputs, probabilities, name=f"member_{index}")
        outputs += [wrapped(view) for view in views]
    return keras.Model(inputs, keras.layers.Average(name="mean_probability")(outputs), name=name)


def build_ensemble(
    run_dirs: Sequence[str | os.PathLike],
    runs_dir: str | os.PathLike = "runs",
    name=None,
    mirror: bool = False,
) -> RunResult:
    """An ensemble run of finished runs: one model.keras averaging them (and, with `mirror`,
    their predictions of the mirrored images), evaluated on the members' test set and
    validation split, in a new run folder under runs_dir.

    The members must be distinct finished runs sharing a data set and validation split (their
    configs' [data] and validation_split), so the ensemble is scored where they were. The folder
    appears with ensemble.json naming them: one cut short is finished by `resume_ensemble`.
    """
    runs = [RunDir(path) for path in run_dirs]
    configs = check_members(runs)
    model, metrics, finish_in = evaluate_ensemble(runs, configs, mirror)
    name = name or f"ensemble-{len(runs)}"
    with RunDir.creating(runs_dir, name) as run:
        run.write_ensemble([str(member.path.resolve()) for member in runs], mirror)
        run.write_config(dataclasses.replace(configs[0], name=name))
        run.mark_unfinished()
    return write_ensemble_run(run, model, metrics, finish_in)


def resume_ensemble(run_dir: str | os.PathLike) -> RunResult:
    """Finish an ensemble run whose build was cut short (a full disk, a kill) from the members
    its ensemble.json names: what `fashion-mlp train --resume` does with such a folder."""
    run = RunDir(run_dir)
    if run.is_finished:
        raise RunError(f"run {run.path} already finished; build a new ensemble with `ensemble`")
    members, mirror = run.read_ensemble()
    runs = [RunDir(path) for path in members]
    return write_ensemble_run(run, *evaluate_ensemble(runs, check_members(runs), mirror))


def write_ensemble_run(run: RunDir, model: keras.Model, metrics: dict, finish_in) -> RunResult:
    """Write the ensemble's summary, model, inside figures, calibration, metrics and report, then
    mark the run finished."""
    with resume_hint(f"fashion-mlp train --resume {run.path}"), run.lock():
        run.remove_leftovers()
        run.write_summary(model_summary(model))
        run.save_model(model)
        run.write_history({})
        run.write_metrics(metrics | {"calibration": finish_in(run)})
        write_run_page(run)
        run.mark_finished()
    return RunResult(run.path, metrics, {})


def check_members(runs: list[RunDir]) -> list:
    """The members' configs, once they are known to be at least 2 distinct finished runs of
    the same data and validation split."""
    if len(runs) < 2:
        raise RunError(f"an ensemble needs at least 2 runs, got {len(runs)}")
    seen = set()
    for run in runs:
        if run.path.resolve() in seen:
            raise RunError(f"run {run.path} is given twice; an ensemble's members must differ")
        seen.add(run.path.resolve())
        if not run.is_finished:
            raise RunError(
                f"run {run.path} is not finished: finish it first (fashion-mlp train --resume "
                f"{run.path}) or leave it out"
            )
    configs = [run.read_config() for run in runs]
    for run, config in zip(runs[1:], configs[1:], strict=True):
        same = (config.data, config.training.validation_split) == (
            configs[0].data,
            configs[0].training.validation_split,
        )
        if not same:
            raise RunError(
                f"run {run.path} was trained on other data or another validation split than "
                f"{runs[0].path}; ensemble runs of the same data set and split"
            )
    return configs


def evaluate_ensemble(runs: list[RunDir], configs: list, mirror: bool) -> tuple:
    """The ensemble model of the runs, its metrics (members' scores included) and a function
    that draws its inside figures and calibrates it in a run folder, returning metrics.json's
    calibration entry."""
    started = time.perf_counter()
    class_names = runs[0].class_names()
    members = [load_saved_model(run.model_path) for run in runs]
    data = load_run_data(configs[0].data)
    _, _, x_val, y_val = split_validation(
        data.x_train, integer_labels(data.y_train), configs[0].training.validation_split
    )
    member_rows = [
        _member_row(run, Predictor(model, class_names), data, x_val, y_val)
        for run, model in zip(runs, members, strict=True)
    ]
    model = ensemble_model(members, mirror=mirror)
    predictor = Predictor(model, class_names)
    test_probabilities = predictor.predict_proba(data.x_test)
    metrics = classification_metrics(data.y_test, test_probabilities, class_names)
    ensemble = {
        "members": member_rows,
        "mirror": mirror,
        "mean_member_test_accuracy": float(np.mean([r["test_accuracy"] for r in member_rows])),
        "mean_member_val_accuracy": _mean([r["val_accuracy"] for r in member_rows]),
    }
    trained = ensemble_facts(ensemble)  # the members' training is the ensemble's
    metrics |= {
        "validation": _scores(predictor, x_val, y_val),
        "ensemble": ensemble,
        "timings": {
            "train_seconds": trained["train_seconds"],
            "seconds_per_epoch": [],
            "evaluate_seconds": time.perf_counter() - started,
        },
        "environment": environment(),
        "data": provenance_dict(data),
        "engine": "ensemble",
        "epochs_run": trained["epochs"],
        "parameters": count_trainable_parameters(model),
        "seed": None,
    }

    def finish_in(run: RunDir) -> dict:  # calibrated on the members' validation split
        write_inside_figures(run, model, data, test_probabilities)  # what applies: attributions
        return calibration_entry(run, predictor, data, configs[0], test_probabilities)

    return model, metrics, finish_in


def _member_row(run: RunDir, predictor: Predictor, data, x_val, y_val) -> dict:
    """A member's scores here, with its architecture, epochs and training seconds."""
    test = classification_metrics(
        data.y_test, predictor.predict_proba(data.x_test), predictor.class_names
    )
    listed = run.row() or {}  # an ensemble member's are its own members'
    return {
        "run": run.name,
        "path": str(run.path),
        **{key: listed.get(key) for key in ("architecture", "epochs", "train_seconds")},
        "test_accuracy": test["test_accuracy"],
        "val_accuracy": _scores(predictor, x_val, y_val).get("accuracy"),
    }


def _scores(predictor: Predictor, x, y) -> dict:
    """Accuracy and loss on (x, y), or {} when there is no validation split."""
    if x is None:
        return {}
    probabilities = predictor.predict_proba(x)
    picked = np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1.0)
    return {
        "accuracy": float(np.mean(probabilities.argmax(axis=1) == y)),
        "loss": float(-np.mean(np.log(picked))),
    }


def _mean(values) -> float | None:
    values = [value for value in values if value is not None]
    return float(np.mean(values)) if values else None
