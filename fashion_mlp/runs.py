"""Run directories: one folder per experiment, every file written atomically (temp + rename).

Layout: config.toml, model.keras, history.csv, metrics.json, summary.txt, checkpoints/
(last.keras + state.json, for --resume), figures (*.png) and report.html.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fashion_mlp.errors import RunError

HISTORY_COLUMNS = (
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "seconds",
)
CHECKPOINT_MODEL = "checkpoints/last.keras"
CHECKPOINT_STATE = "checkpoints/state.json"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces it only when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix
    )
    os.close(descriptor)
    os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp's 0600 would hide runs from others
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> Path:
    """Write text atomically; returns path."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: Path, value: Any) -> Path:
    return write_text(path, json.dumps(value, indent=2) + "\n")


def save_model(model, path: Path) -> Path:
    """Save a Keras model to a .keras file atomically."""
    with atomic_path(path) as temporary:
        model.save(temporary)
    return Path(path)


def history_csv(history: dict[str, list[float]]) -> str:
    """The per-epoch history as CSV text with HISTORY_COLUMNS (epoch counts from 1)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    epochs = len(history.get("loss", []))
    for index in range(epochs):
        row = [index + 1]
        for column in HISTORY_COLUMNS[1:]:
            values = history.get(column, [])
            row.append(f"{values[index]:.6g}" if index < len(values) else "")
        writer.writerow(row)
    return buffer.getvalue()


def read_history(path: Path) -> dict[str, list[float]]:
    """history.csv back into lists per column (empty cells dropped)."""
    history: dict[str, list[float]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            for column, value in row.items():
                if column != "epoch" and value:
                    history.setdefault(column, []).append(float(value))
    return history


def new_run_dir(runs_dir: Path, name: str) -> Path:
    """A fresh `runs_dir/<YYYYmmdd-HHMMSS>-<name>` folder (suffixed -2, -3... if taken)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
    stem = f"{datetime.now():%Y%m%d-%H%M%S}-{slug}"
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        candidate = runs_dir / (stem if attempt == 1 else f"{stem}-{attempt}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RunError(f"could not create a new run folder under {runs_dir}")


def require_file(run_dir: Path, name: str, what: str) -> Path:
    """run_dir/name, or a RunError saying the run is missing or incomplete."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"run {run_dir} does not exist; `fashion-mlp runs` lists the runs")
    path = run_dir / name
    if not path.is_file():
        raise RunError(f"run {run_dir} has no {name} ({what}); it is incomplete or not a run")
    return path


def read_json(run_dir: Path, name: str, what: str) -> dict[str, Any]:
    """A JSON file of a run, with a RunError when it is missing or corrupt."""
    path = require_file(run_dir, name, what)
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise RunError(f"{path} is corrupt ({error}); the run is damaged") from None


RUN_COLUMNS = ("name", "date", "architecture", "epochs", "test_accuracy", "train_seconds")


def run_row(run_dir: Path) -> dict[str, Any] | None:
    """One run's line in `fashion-mlp runs`, or None when the folder is not a run."""
    import tomllib

    try:
        config = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model = config.get("model", {})
    architecture = (
        model.get("user_model")
        or "-".join(["in", *map(str, model.get("hidden", [])), "out"])
        + f" {model.get('activation', '')}"
    )
    row = {
        "name": run_dir.name,
        "date": datetime.fromtimestamp((run_dir / "config.toml").stat().st_mtime).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "architecture": architecture.strip(),
        "epochs": None, "test_accuracy": None, "train_seconds": None, "status": "finished",
    }  # fmt: skip
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text())
        row |= {
            "epochs": metrics.get("epochs_run"),
            "test_accuracy": metrics.get("test_accuracy"),
            "train_seconds": metrics.get("timings", {}).get("train_seconds"),
        }
    except (OSError, ValueError):
        state_path = run_dir / CHECKPOINT_STATE
        done = json.loads(state_path.read_text())["epoch"] if state_path.is_file() else 0
        row |= {"epochs": done, "status": "unfinished"}
    return row


def list_runs(runs_dir: Path, sort_by: str = "date", descending: bool = False) -> list[dict]:
    """Every run under runs_dir as a row of RUN_COLUMNS (+ status), sorted by one column."""
    if sort_by not in RUN_COLUMNS:
        raise RunError(f"cannot sort by {sort_by!r}; expected one of {', '.join(RUN_COLUMNS)}")
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    rows = [
        row for child in sorted(runs_dir.iterdir()) if child.is_dir() and (row := run_row(child))
    ]
    present = [row for row in rows if row[sort_by] is not None]
    missing = [row for row in rows if row[sort_by] is None]
    return sorted(present, key=lambda row: row[sort_by], reverse=descending) + missing
