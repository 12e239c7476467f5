"""Predictions of a run's model for the inputs a user names: test images by index and image
files of their own. Each input gets its own result; one that fails (unreadable file, index out
of range) carries its error and the others are still classified."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fashion_mlp.errors import FashionMLPError
from fashion_mlp.images import prepare_images
from fashion_mlp.inference.mirror import averages_photos, photo_probabilities
from fashion_mlp.inference.predictor import Predictor, top_classes
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import load_run_data


@dataclass(frozen=True)
class InputPrediction:
    """One input's outcome: its pixels as the model saw them and its probabilities, or an error."""

    source: str  # "test[42]" or the file's path
    pixels: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    true_label: int | None = None
    error: str | None = None

    def top(self, class_names, k: int = 3) -> list[tuple[str, float]]:
        return top_classes(self.probabilities, class_names, k)


def test_inputs(run: RunDir, indices: list[int]) -> list[InputPrediction]:
    """The run's test images at `indices` (not yet classified), with their true labels.

    Negative indices count from the end, as in Python (-1 is the last test image).
    """
    data = load_run_data(run.read_config().data)
    count = len(data.x_test)
    inputs = []
    for index in indices:
        if not -count <= index < count:
            error = f"test index {index} is out of range: the test set has {count} images"
            inputs.append(InputPrediction(f"test[{index}]", error=error))
        else:
            pixels, label = data.x_test[index], int(data.y_test[index])
            inputs.append(InputPrediction(f"test[{index}]", pixels, None, label))
    return inputs


def file_inputs(paths: list[Path]) -> list[InputPrediction]:
    """The image files turned into model inputs, or their errors."""
    return [
        InputPrediction(item.path, item.pixels)
        if item.ok
        else InputPrediction(item.path, error=str(item.error))
        for item in prepare_images(paths)
    ]


def predict_inputs(
    run_dir: str | os.PathLike, test_indices=(), files=(), *, raw: bool = False
) -> tuple[Predictor, list[InputPrediction]]:
    """The run's Predictor and one result per input, test indices first, then files; the
    probabilities calibrated by the run's temperature, or the model's own with `raw`.

    Raises:
        FashionMLPError: when no input is given at all.
    """
    if not test_indices and not files:
        raise FashionMLPError("nothing to classify: pass image files and/or --test-index N ...")
    run = RunDir(run_dir)
    predictor = Predictor.load(run)
    inputs = (test_inputs(run, list(test_indices)) if test_indices else []) + file_inputs(
        list(files)
    )
    ready = [item for item in inputs if item.error is None]
    if not ready:
        return predictor, inputs
    photos = [item.true_label is None for item in ready]  # the user's files, not test images
    pixels = np.stack([item.pixels for item in ready])
    average = averages_photos(run)
    probabilities = iter(photo_probabilities(predictor, pixels, photos, average, raw=raw))
    results = [
        item
        if item.error
        else InputPrediction(item.source, item.pixels, next(probabilities), item.true_label)
        for item in inputs
    ]
    return predictor, results
