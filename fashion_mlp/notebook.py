"""The Python API's one-line helpers for notebooks: figures that show themselves inline, and
predictions from a model or a run without building a `Predictor`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import keras
import numpy as np
from matplotlib.figure import Figure

from fashion_mlp.datasets import Dataset
from fashion_mlp.inference import Predictor, evaluate
from fashion_mlp.inference.predictor import top_classes
from fashion_mlp.models import load_saved_model
from fashion_mlp.reports.figures import confusion_heatmap, figure_png, learning_curves
from fashion_mlp.runs import RunDir

RunLike = str | os.PathLike | RunDir  # a run folder, or anything with .run_dir (a RunResult)


def plot_history(history) -> Figure:
    """Learning curves of a Keras History, a history dict, a RunResult or a run folder."""
    if isinstance(history, RunLike) or hasattr(history, "run_dir"):
        history = _run(history).read_history()
    columns = getattr(history, "history", history)
    if not isinstance(columns, Mapping):
        raise TypeError(f"plot_history({history!r}): expected a History, a dict or a run folder")
    return _inline(learning_curves(columns))


def plot_confusion(model, data: Dataset | None = None, normalize: bool = True) -> Figure:
    """Confusion matrix of a model (or a run's, or a RunResult's) on data's test set; a run
    without `data` shows the one in its metrics.json. Rows are normalised unless `normalize`
    is False (counts)."""
    if not isinstance(model, keras.Model):
        run = _run(model)
        if data is None:
            metrics = run.read_metrics()
            return _inline(_heatmap(metrics, normalize))
        model = load_saved_model(run.model_path)
    if data is None:
        raise TypeError("plot_confusion(model, data): a model needs the data to score it on")
    return _inline(_heatmap(evaluate(model, data), normalize))


def predict(model, images, class_names: Sequence[str] | Dataset | None = None, k: int = 3):
    """Class probabilities (n, classes) of raw images (n, 28, 28) or of one; with class names
    (a list, a Dataset's, or a run's own) the k most probable (name, probability) per image."""
    predictor, named = _predictor(model, class_names)
    probabilities = predictor.predict_proba(images)
    one = np.ndim(images) == len(predictor.input_shape)
    if not named:
        return probabilities[0] if one else probabilities
    tops = [top_classes(row, predictor.class_names, k) for row in probabilities]
    return tops[0] if one else tops


def _predictor(model, class_names) -> tuple[Predictor, bool]:
    """The model's Predictor (a run's loads its model and names), and whether names are known."""
    names = class_names.class_names if isinstance(class_names, Dataset) else class_names
    if isinstance(model, keras.Model):
        numbered = [str(index) for index in range(model.output_shape[-1])]
        return Predictor(model, names or numbered), names is not None
    predictor = Predictor.load(_run(model))
    return (Predictor(predictor.model, names) if names else predictor), True


def _run(run) -> RunDir:
    """A run folder from a path, a RunDir or a RunResult."""
    return RunDir(getattr(run, "run_dir", run)) if not isinstance(run, RunDir) else run


def _heatmap(metrics: Mapping, normalize: bool) -> Figure:
    matrix = np.asarray(metrics["confusion_matrix"])
    return confusion_heatmap(matrix, metrics["class_names"], normalize=normalize)


def _inline(fig: Figure) -> Figure:
    """`fig`, able to show itself in a notebook as PNG (these figures are made without pyplot,
    so IPython's inline backend does not know them)."""
    fig._repr_png_ = lambda: figure_png(fig)
    return fig
