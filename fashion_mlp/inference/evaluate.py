"""Evaluate a model on a test set: a model in memory, or a finished run's saved model on its
own test set or another data set's, with its calibration measured raw and calibrated."""

from __future__ import annotations

import dataclasses
import os

import keras

from fashion_mlp.datasets import Dataset
from fashion_mlp.errors import RunError
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.metrics import calibration_scores, classification_metrics
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import load_run_data


def evaluate(model: keras.Model, data: Dataset) -> dict:
    """Test accuracy, loss, confusion matrix and per-class scores of a model on data's test set.

    Args:
        model: a trained Keras model taking raw images.
        data: the Dataset whose x_test / y_test it is scored on.

    Returns:
        metrics.json's test fields: test_accuracy, test_loss, num_test, class_names,
        confusion_matrix (rows = true class), per_class and macro_avg scores.

    Examples:
        >>> evaluate(model, data)["test_accuracy"]
        0.8635
    """
    probabilities = Predictor(model, data.class_names).predict_proba(data.x_test)
    return classification_metrics(data.y_test, probabilities, data.class_names)


def evaluate_run(
    run_dir: str | os.PathLike,
    data_name: str | None = None,
    data_dir=None,
    *,
    allow_modified: bool | None = None,
) -> dict:
    """A finished run's model re-evaluated on its test set, or on another data set's.

    Args:
        run_dir: the run folder.
        data_name: another data set ("mnist", a folder); None = the run's own.
        data_dir: folder searched first for the data set's files.
        allow_modified: load a known data set whose checksums differ (None = as the run did).

    Returns:
        The test metrics of the model's own probabilities (as `evaluate`: the loss is the
        model's), the data set's provenance under "data", and under "calibration" the run's
        temperature with ECE (15 bins) and NLL, raw and calibrated.
    """
    run = RunDir(run_dir)
    config = run.read_config().data
    if data_name or data_dir:
        config = dataclasses.replace(
            config, name=data_name or config.name, data_dir=data_dir, test_limit=0
        )
    if allow_modified is not None:
        config = dataclasses.replace(config, allow_modified=allow_modified)
    predictor = Predictor.load(run)
    data = load_run_data(config)
    if data.num_classes != len(predictor.class_names):
        raise RunError(
            f"the run's model has {len(predictor.class_names)} classes but data set "
            f"{data.name!r} has {data.num_classes}; evaluate on a data set with the same classes"
        )
    probabilities = predictor.predict_proba(data.x_test, raw=True)
    metrics = classification_metrics(data.y_test, probabilities, predictor.class_names)
    calibration = {
        "status": "calibrated" if predictor.calibrated else "uncalibrated",
        "temperature": predictor.temperature,
        "raw": calibration_scores(data.y_test, probabilities),
        "calibrated": calibration_scores(data.y_test, predictor.calibrate(probabilities)),
    }
    return metrics | {"data": provenance_dict(data), "calibration": calibration}


def provenance_dict(data: Dataset) -> dict:
    """The data set's name and provenance, as plain JSON types."""
    return {"name": data.name, **data.provenance.as_dict()}
