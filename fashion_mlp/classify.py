"""Classify test items (by index) and the user's image files with a run's model.

Each input gets its own result; an input that fails (unreadable file, index out of range)
carries its error and the others are still classified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fashion_mlp import runs
from fashion_mlp.config import build_config, read_toml
from fashion_mlp.errors import FashionMLPError
from fashion_mlp.images import prepare_images
from fashion_mlp.predictor import Predictor, top_classes


@dataclass(frozen=True)
class Classified:
    """One input's outcome: its pixels as the model saw them and its probabilities, or an error."""

    source: str  # "test[42]" or the file's path
    pixels: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    true_label: int | None = None
    error: str | None = None

    def top(self, class_names, k: int = 3) -> list[tuple[str, float]]:
        return top_classes(self.probabilities, class_names, k)


def test_items(run_dir: Path, indices: list[int]) -> list[Classified]:
    """The run's test images at `indices` (unclassified yet), with their true labels."""
    from fashion_mlp.experiment import load_experiment_data

    config = build_config(read_toml(runs.require_file(run_dir, "config.toml", "its config")))
    data = load_experiment_data(config)
    items = []
    for index in indices:
        if not -len(data.x_test) <= index < len(data.x_test):
            error = (
                f"test index {index} is out of range: the test set has {len(data.x_test)} images"
            )
            items.append(Classified(f"test[{index}]", error=error))
        else:
            items.append(
                Classified(f"test[{index}]", data.x_test[index], None, int(data.y_test[index]))
            )
    return items


def file_items(paths: list[Path]) -> list[Classified]:
    """The image files turned into model inputs, or their errors."""
    return [
        Classified(item.path, item.pixels)
        if item.ok
        else Classified(item.path, error=str(item.error))
        for item in prepare_images(paths)
    ]


def classify(run_dir: Path, test_indices=(), files=()) -> tuple[Predictor, list[Classified]]:
    """The run's Predictor and one result per input, test indices first, then files."""
    run_dir = Path(run_dir)
    predictor = Predictor.load(run_dir)
    items = (test_items(run_dir, list(test_indices)) if test_indices else []) + file_items(
        list(files)
    )
    ready = [item for item in items if item.error is None]
    if not ready:
        return predictor, items
    probabilities = iter(predictor.predict_proba(np.stack([item.pixels for item in ready])))
    results = [
        item
        if item.error
        else Classified(item.source, item.pixels, next(probabilities), item.true_label)
        for item in items
    ]
    return predictor, results


def require_inputs(test_indices, files) -> None:
    if not test_indices and not files:
        raise FashionMLPError("nothing to classify: pass image files and/or --test-index N ...")
