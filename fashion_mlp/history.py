"""history.csv: a run's per-epoch training history (loss, accuracy, learning rate...) as CSV
text, and that text back as lists per column."""

from __future__ import annotations

import csv
import io

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
