"""Figures that explain a run: samples, curves, confusion matrices, scores, mistakes, predictions.

Every function returns a `matplotlib.figure.Figure` built without pyplot (no global state, no
GUI backend, safe in servers); `save_figure` writes one as PNG atomically.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fashion_mlp.datasets import Dataset
from fashion_mlp.errors import ConfigError, RunError
from fashion_mlp.files import atomic_path

DPI = 110  # sharp enough to read 10 class names on a laptop screen, small enough to embed in HTML
BAR_COLOR = "#8da0cb"  # muted blue for ordinary bars
HIGHLIGHT_COLOR = "#fc8d62"  # orange for the predicted class
TRAIN_COLOR = "#1f77b4"
VALIDATION_COLOR = "#d62728"
SCORE_COLORS = {"precision": "#66c2a5", "recall": "#fc8d62", "f1": "#8da0cb"}
HEATMAP_CMAP = "Blues"
MAX_ANNOTATED_CLASSES = 20  # beyond this, cell numbers are too small to read: colour alone
GALLERY_COLUMNS = 8  # mistakes per row: 16 mistakes fit in two readable rows
PREDICTION_EXAMPLES = 4  # test images shown in a run's prediction.png: a glance, not a gallery


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write `fig` to `path` as PNG atomically (temp file in the same folder, then rename)."""
    with atomic_path(Path(path)) as temporary:
        fig.savefig(temporary, format="png", dpi=DPI)
    fig.clear()  # release the artists: a Figure made without pyplot has nothing else to close
    return Path(path)


def figure_png(fig: Figure) -> bytes:
    """`fig` rendered as PNG bytes (for embedding in HTML or an HTTP response)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def new_figure(width: float, height: float) -> Figure:
    """An empty figure in the module's style (size in inches, constrained layout)."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _show_image(ax, image: np.ndarray) -> None:
    """Draw one grey image as stored (uint8 on 0-255; other dtypes on their own range)."""
    image = np.asarray(image)
    limits = {"vmin": 0, "vmax": 255} if image.dtype == np.uint8 else {}
    ax.imshow(image, cmap="gray", interpolation="nearest", **limits)
    ax.set_xticks([])
    ax.set_yticks([])


def _check_images(images: np.ndarray, count: int, what: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or len(images) != count:
        raise ConfigError(
            f"{what}: images have shape {images.shape}; expected (n, height, width) with "
            f"n = {count} to match the labels/probabilities passed alongside"
        )
    return images


def _check_probabilities(probabilities: np.ndarray, class_names: Sequence[str]) -> np.ndarray:
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(class_names):
        raise ConfigError(
            f"probabilities have shape {probabilities.shape}; expected (n, {len(class_names)}), "
            "one row of class probabilities per image, as the model outputs"
        )
    return probabilities


def sample_grid(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    per_class: int = 4,  # four examples show a class's variety without a huge figure
    seed: int = 0,  # fixed so the same data gives the same picture
) -> Figure:
    """A grid of random images, `per_class` per class (rows), one class per column, titled."""
    labels = np.asarray(labels)
    images = _check_images(images, len(labels), "sample_grid")
    if per_class < 1:
        raise ConfigError(f"per_class is {per_class}; expected at least 1 image per class")
    rng = np.random.default_rng(seed)
    columns = len(class_names)
    fig = new_figure(1.25 * columns, 1.35 * per_class + 0.4)
    axes = fig.subplots(per_class, columns, squeeze=False)
    for label, name in enumerate(class_names):
        members = np.flatnonzero(labels == label)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for row in range(per_class):
            ax = axes[row, label]
            ax.set_axis_off()
            if row < len(chosen):
                _show_image(ax, images[chosen[row]])
                ax.set_title(name, fontsize=8)
    fig.suptitle("Training samples by class")
    return fig


def _epochs(history: Mapping[str, Sequence[float]]) -> np.ndarray:
    """Epoch numbers from 1 (or the history's own "epoch" column), as many as the longest series."""
    longest = max((len(values) for values in history.values()), default=0)
    if longest == 0:
        raise RunError("the training history is empty; expected at least one epoch of metrics")
    if "epoch" in history:
        return np.asarray(history["epoch"], dtype=float)
    return np.arange(1, longest + 1)


def _has_values(history: Mapping[str, Sequence[float]], key: str) -> bool:
    values = np.asarray(history.get(key, []), dtype=float)
    return values.size > 0 and not np.all(np.isnan(values))


def learning_curves(history: Mapping[str, Sequence[float]]) -> Figure:
    """Loss and accuracy per epoch, training and (when present) validation, in two panels."""
    epochs = _epochs(history)
    fig = new_figure(10, 4)
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        for key, label, color in (
            (metric, "training", TRAIN_COLOR),
            (f"val_{metric}", "validation", VALIDATION_COLOR),
        ):
            if _has_values(history, key):
                values = history[key]
                ax.plot(
                    epochs[: len(values)],
                    values,
                    marker="o",
                    markersize=3,
                    label=label,
                    color=color,
                )
        ax.set_title(metric.capitalize())
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
        else:
            ax.text(0.5, 0.5, f"no {metric} recorded", ha="center", transform=ax.transAxes)
    return fig


def confusion_data(matrix: np.ndarray, normalize: bool) -> np.ndarray:
    """The matrix the heat map draws: counts, or each row divided by its true-class total."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise RunError(
            f"confusion matrix has shape {matrix.shape}; expected a square (k, k) matrix"
        )
    if not normalize:
        return matrix
    totals = matrix.sum(axis=1, keepdims=True)
    # A class absent from the test set has an all-zero row: draw zeros rather than NaN.
    return np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)


def confusion_heatmap(matrix: np.ndarray, class_names: Sequence[str], normalize: bool) -> Figure:
    """Heat map of the confusion matrix: rows = true class, columns = predicted, label order."""
    data = confusion_data(matrix, normalize)
    if len(class_names) != len(data):
        raise RunError(
            f"{len(class_names)} class names for a {data.shape} confusion matrix; expected one "
            "name per row"
        )
    size = max(5.0, 0.6 * len(class_names) + 2)
    fig = new_figure(size + 1, size)
    ax = fig.subplots()
    image = ax.imshow(data, cmap=HEATMAP_CMAP, vmin=0, vmax=1 if normalize else max(data.max(), 1))
    fig.colorbar(image, ax=ax, shrink=0.8)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, labels=class_names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(ticks, labels=class_names)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.set_title(
        "Confusion matrix, normalised per true class (recall)"
        if normalize
        else "Confusion matrix (counts)"
    )
    if len(class_names) <= MAX_ANNOTATED_CLASSES:
        threshold = image.norm.vmax / 2
        for (row, column), value in np.ndenumerate(data):
            ax.text(
                column,
                row,
                f"{value:.2f}" if normalize else f"{value:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > threshold else "black",
            )
    return fig


def per_class_scores(per_class: Sequence[Mapping]) -> Figure:
    """Precision, recall and F1 of each class as grouped bars."""
    if not per_class:
        raise RunError("per-class scores are empty; expected one entry per class in metrics.json")
    names = [str(entry["class"]) for entry in per_class]
    positions = np.arange(len(names))
    width = 0.27
    fig = new_figure(max(8.0, 0.8 * len(names) + 2), 4.5)
    ax = fig.subplots()
    for offset, score in zip((-width, 0, width), SCORE_COLORS, strict=True):
        values = [float(entry[score]) for entry in per_class]
        ax.bar(positions + offset, values, width, label=score, color=SCORE_COLORS[score])
    ax.set_xticks(positions, labels=names, rotation=30, ha="right", rotation_mode="anchor")
    ax.set_ylim(0, 1.15)  # headroom for the legend above the bars
    ax.set_ylabel("score")
    ax.set_title("Per-class scores on the test set")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", ncols=3)
    return fig


def confident_mistakes(
    images: np.ndarray,
    y_true: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    n: int = 16,  # two rows of eight: enough to see a pattern
) -> Figure:
    """Gallery of the `n` wrong predictions made with the highest probability."""
    y_true = np.asarray(y_true)
    images = _check_images(images, len(y_true), "confident_mistakes")
    probabilities = _check_probabilities(probabilities, class_names)
    if len(probabilities) != len(y_true):
        raise ConfigError(
            f"{len(probabilities)} probability rows for {len(y_true)} labels; "
            "expected one row per image"
        )
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(predicted)), predicted]
    wrong = np.flatnonzero(predicted != y_true)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:n]
    if len(worst) == 0:
        fig = new_figure(6, 2)
        fig.text(0.5, 0.5, f"No mistakes on the {len(y_true)} images", ha="center", va="center")
        return fig
    columns = min(GALLERY_COLUMNS, len(worst))
    rows = math.ceil(len(worst) / columns)
    fig = new_figure(1.6 * columns, 1.9 * rows + 0.4)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, index in zip(axes, worst, strict=False):
        _show_image(ax, images[index])
        ax.set_title(
            f"true: {class_names[y_true[index]]}\n"
            f"pred: {class_names[predicted[index]]} ({confidence[index]:.2f})",
            fontsize=7,
        )
    fig.suptitle("Most confident mistakes")
    return fig


def prediction_figure(
    images: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    true_labels: Sequence[int | None] | None = None,
    titles: Sequence[str] | None = None,
) -> Figure:
    """Per input: the image as the model saw it, beside its class probabilities (top down).

    The predicted class's bar is highlighted; the true class, where known (None: an image of
    the user's), is named in the title and marked in bold.
    Accepts one image (h, w) with probabilities (k,), or a batch (n, h, w) with (n, k).
    """
    images = np.asarray(images)
    probabilities = np.asarray(probabilities, dtype=float)
    if images.ndim == 2:
        images = images[np.newaxis]
    if probabilities.ndim == 1:
        probabilities = probabilities[np.newaxis]
    probabilities = _check_probabilities(probabilities, class_names)
    images = _check_images(images, len(probabilities), "prediction_figure")
    for name, values in (("true_labels", true_labels), ("titles", titles)):
        if values is not None and len(values) != len(images):
            raise ConfigError(f"{len(values)} {name} for {len(images)} images; expected one each")
    positions = np.arange(len(class_names))
    fig = new_figure(8, max(2.8, 0.25 * len(class_names)) * len(images))
    axes = fig.subplots(len(images), 2, squeeze=False, width_ratios=[1, 1.6])
    for row, (image_ax, bar_ax) in enumerate(axes):
        predicted = int(probabilities[row].argmax())
        true = None if true_labels is None or true_labels[row] is None else int(true_labels[row])
        _show_image(image_ax, images[row])
        title = titles[row] if titles is not None else f"input {row + 1}"
        title += f"\npredicted: {class_names[predicted]}"
        title += "" if true is None else f"\ntrue: {class_names[true]}"
        image_ax.set_title(title, fontsize=9)
        colors = [BAR_COLOR] * len(class_names)
        colors[predicted] = HIGHLIGHT_COLOR
        bar_ax.barh(positions, probabilities[row], color=colors)
        top = probabilities[row, predicted]
        bar_ax.text(min(top, 0.88) + 0.01, predicted, f"{top:.2f}", va="center", fontsize=8)
        labels = list(class_names)
        if true is not None:
            labels[true] = f"{labels[true]} (true)"
        bar_ax.set_yticks(positions, labels=labels, fontsize=8)
        if true is not None:
            bar_ax.get_yticklabels()[true].set_fontweight("bold")
        bar_ax.invert_yaxis()  # label 0 at the top, as the classes are listed
        bar_ax.set_xlim(0, 1)
        bar_ax.set_xlabel("probability")
        bar_ax.set_title("Network outputs", fontsize=9)
        bar_ax.grid(axis="x", alpha=0.3)
    return fig


def write_run_figures(
    run_dir: str | os.PathLike,
    data: Dataset,
    history: Mapping[str, Sequence[float]],
    metrics: Mapping,
    test_probabilities: np.ndarray,
) -> list[Path]:
    """Write every figure of a run into `run_dir`; returns the paths written.

    `data` is the run's data set, `metrics` the metrics.json dict and
    `test_probabilities` the model's (n_test, num_classes) outputs on `data.x_test`.
    """
    run_dir = Path(run_dir)
    class_names = list(metrics.get("class_names", data.class_names))
    matrix = metrics["confusion_matrix"]
    shown = slice(0, PREDICTION_EXAMPLES)
    figures = {
        "samples.png": lambda: sample_grid(data.x_train, data.y_train, class_names),
        "curves.png": lambda: learning_curves(history),
        "confusion_counts.png": lambda: confusion_heatmap(matrix, class_names, normalize=False),
        "confusion_normalized.png": lambda: confusion_heatmap(matrix, class_names, normalize=True),
        "per_class.png": lambda: per_class_scores(metrics["per_class"]),
        "mistakes.png": lambda: confident_mistakes(
            data.x_test, data.y_test, test_probabilities, class_names
        ),
        "prediction.png": lambda: prediction_figure(
            data.x_test[shown],
            np.asarray(test_probabilities)[shown],
            class_names,
            true_labels=data.y_test[shown],
            titles=[f"test image {i}" for i in range(len(data.x_test[shown]))],
        ),
    }
    if not any(len(values) for values in history.values()):
        del figures["curves.png"]  # a run that trained no epoch (an ensemble) has no curves
    return [save_figure(make(), run_dir / name) for name, make in figures.items()]
