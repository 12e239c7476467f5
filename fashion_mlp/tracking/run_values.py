"""What a run folder gives a tracker: flat params, tags, final metrics, per-epoch values and
artifacts. Pure Python: no tracking library."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from fashion_mlp.runs import RunDir

RUN_TAG = "fashion_mlp.run"  # the run folder's name: the key that keeps exports from duplicating
FINAL_KEYS = ("test_accuracy", "test_loss", "epochs_run", "parameters")  # metrics.json numbers
ARTIFACTS = ("report.html", "config.toml", "metrics.json", "history.csv", "summary.txt")


def flat_params(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A nested config table as {"model.hidden": "64,32", ...}: MLflow params are flat strings."""
    params: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            params |= flat_params(value, f"{name}.")
        elif isinstance(value, list | tuple):
            params[name] = ",".join(map(str, value))
        else:
            params[name] = str(value)
    return params


def data_checksum(metrics: dict[str, Any]) -> str | None:
    """One SHA-256 over the data set's files' SHA-256s (metrics.json's provenance), or None."""
    files = (metrics.get("data") or {}).get("files") or []
    hashes = [f"{item.get('role')}:{item.get('sha256')}" for item in files]
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest() if hashes else None


def run_tags(run: RunDir) -> dict[str, str]:
    """Preset (the config's name: the preset, or --name), run folder, data set and its
    checksum."""
    metrics = run.read_metrics()
    tags = {
        RUN_TAG: run.name,
        "fashion_mlp.run_folder": str(run.path.resolve()),
        "preset": run.read_config().name,
        "data.name": str((metrics.get("data") or {}).get("name", "")),
    }
    checksum = data_checksum(metrics)
    return tags | ({"data.sha256": checksum} if checksum else {})


def final_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The finished run's numbers: test scores, macro averages, validation, training time."""
    values = {key: metrics.get(key) for key in FINAL_KEYS}
    for key, value in (metrics.get("macro_avg") or {}).items():
        values[f"test_macro_{key}"] = value
    for key, value in (metrics.get("validation") or {}).items():
        values[f"final_val_{key}"] = value
    values["train_seconds"] = (metrics.get("timings") or {}).get("train_seconds")
    return {key: float(value) for key, value in values.items() if is_finite(value)}


def epoch_values(logs: dict[str, Any]) -> dict[str, float]:
    """An epoch's finite numbers (loss, accuracy, val_*, learning_rate, seconds)."""
    return {key: float(value) for key, value in logs.items() if is_finite(value)}


def is_finite(value: Any) -> bool:
    try:
        return not isinstance(value, bool) and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def artifact_paths(run: RunDir, model: bool = False) -> list:
    """The run's files worth keeping beside its metrics: report, config, figures (and model)."""
    paths = [run.path / name for name in ARTIFACTS] + list(run.figure_paths().values())
    if model:
        paths.append(run.model_path)
    return [path for path in paths if path.is_file()]


def history_steps(history: dict[str, list[float]]) -> list[tuple[int, dict[str, float]]]:
    """(epoch number from 1, that epoch's values) for every epoch of history.csv."""
    epochs = max((len(values) for values in history.values()), default=0)
    return [
        (
            index + 1,
            epoch_values(
                {key: values[index] for key, values in history.items() if index < len(values)}
            ),
        )
        for index in range(epochs)
    ]
