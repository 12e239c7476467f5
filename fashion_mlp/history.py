"""history.csv: a run's per-epoch training history (loss, accuracy, learning rate...) as CSV
text, and that text back as lists per column; the time a history took to reach given
validation accuracies."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

HISTORY_COLUMNS = (
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "cross_entropy",  # the plain cross-entropy, when the loss has label smoothing
    "val_cross_entropy",
    "learning_rate",
    "seconds",
)
OPTIONAL_HISTORY_COLUMNS = ("cross_entropy", "val_cross_entropy")
# validation accuracies timed (time_to_accuracy): from what a plain MLP reaches in its first
# epochs up to what only the `best` recipe reaches, so every recipe reaches some but not all
ACCURACY_THRESHOLDS = (0.85, 0.88, 0.90, 0.91)


def history_csv(history: dict[str, list[float]]) -> str:
    """The per-epoch history as CSV text with HISTORY_COLUMNS (epoch counts from 1); the
    optional columns only when the history has them."""
    columns = [
        column
        for column in HISTORY_COLUMNS
        if column not in OPTIONAL_HISTORY_COLUMNS or column in history
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    epochs = len(history.get("loss", []))
    for index in range(epochs):
        row = [index + 1]
        for column in columns[1:]:
            values = history.get(column, [])
            row.append(f"{values[index]:.6g}" if index < len(values) else "")
        writer.writerow(row)
    return buffer.getvalue()


def parse_history_csv(text: str) -> dict[str, list[float]]:
    """history.csv text back into lists per column (empty cells dropped)."""
    history: dict[str, list[float]] = {}
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or reader.fieldnames[0] != HISTORY_COLUMNS[0]:
        expected = ", ".join(HISTORY_COLUMNS)
        raise ValueError(f"its header is {reader.fieldnames}, expected {expected}")
    for row in reader:
        if None in row:
            raise ValueError(f"line {reader.line_num} has more cells than the header")
        for column, value in row.items():
            if column != "epoch" and value:
                history.setdefault(column, []).append(float(value))
    return history


def time_to_accuracy(
    history: dict[str, list[float]], thresholds: Sequence[float] = ACCURACY_THRESHOLDS
) -> list[dict[str, float | int | None]]:
    """How long training took to reach each of the thresholds (default ACCURACY_THRESHOLDS) in
    validation accuracy, so recipes compare by time, not epochs. One entry per threshold:
    `val_accuracy` (the threshold), `epoch`, the 1-based epoch at whose end validation accuracy
    first reached it, and `seconds`, the training seconds (`history["seconds"]`) summed over the
    epochs up to and including that one; both None for a threshold never reached (`seconds`
    also where the history lacks some of those epochs' seconds). Accuracy is measured only at
    epoch ends, so the seconds are those of the end of the first epoch at or above the
    threshold, not of the moment within it that the model got there.

    A run without a validation split (no `val_accuracy`, or only NaN) gives an empty list: its
    training accuracy is measured on the images it learns from, and its test accuracy once, at
    the end, so neither says when the model became that good."""
    accuracies = history.get("val_accuracy") or []
    if all(math.isnan(value) for value in accuracies):  # also when there are none
        return []
    seconds = history.get("seconds") or []
    reached = []
    for threshold in thresholds:
        epoch = next((i + 1 for i, value in enumerate(accuracies) if value >= threshold), None)
        known = epoch is not None and epoch <= len(seconds)  # seconds of every epoch up to it
        reached.append(
            {
                "val_accuracy": threshold,
                "epoch": epoch,
                "seconds": float(sum(seconds[:epoch])) if known else None,
            }
        )
    return reached
