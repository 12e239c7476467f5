"""Compare runs: the settings that differ, their metrics side by side, their validation curves."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fashion_mlp.errors import ConfigError
from fashion_mlp.history import ACCURACY_THRESHOLDS
from fashion_mlp.reports.figures import figure_png, new_figure
from fashion_mlp.reports.html import flatten, html_figure, html_page, html_table, note, write_page
from fashion_mlp.runs import RunDir

SECONDS_TO_COLUMNS = {  # metrics.json's time_to_accuracy: column -> validation accuracy
    f"seconds_to_val_{threshold * 100:g}%": threshold for threshold in ACCURACY_THRESHOLDS
}
METRIC_COLUMNS = ("test_accuracy", "test_loss", "epochs", "train_seconds", *SECONDS_TO_COLUMNS)


@dataclass(frozen=True)
class ComparedRun:
    """What comparing needs from one run: its config, metrics and history (columns per epoch)."""

    run_dir: Path
    config: dict
    metrics: dict
    history: dict[str, list[float]]

    @property
    def name(self) -> str:
        return self.run_dir.name


def load_compared_run(run_dir: str | os.PathLike) -> ComparedRun:
    """Read a run's config, metrics and (when present) history."""
    run = RunDir(run_dir)
    return ComparedRun(run.path, run.read_config_table(), run.read_metrics(), run.read_history())


def _check_runs(runs: Sequence[ComparedRun]) -> None:
    if len(runs) < 2:
        raise ConfigError(f"got {len(runs)} run(s) to compare; expected at least two run folders")


def differing_settings(runs: Sequence[ComparedRun]) -> dict[str, list]:
    """Dotted config keys whose value differs between runs -> value per run (None: unset)."""
    _check_runs(runs)
    flat = [flatten(run.config) for run in runs]
    keys = sorted(set().union(*flat))
    values = {key: [settings.get(key) for settings in flat] for key in keys}
    return {key: row for key, row in values.items() if any(v != row[0] for v in row[1:])}


def run_metrics(run: ComparedRun) -> dict[str, object]:
    """Test accuracy, test loss, epochs run, training seconds and the training seconds to each
    validation accuracy of one run (None when unknown: "not reached" tells the two apart)."""
    epochs = run.metrics.get("epochs_run")
    if epochs is None and run.history:
        epochs = len(next(iter(run.history.values())))
    reached = {
        entry.get("val_accuracy"): entry for entry in run.metrics.get("time_to_accuracy", [])
    }
    return {
        "test_accuracy": run.metrics.get("test_accuracy"),
        "test_loss": run.metrics.get("test_loss"),
        "epochs": epochs,
        "train_seconds": run.metrics.get("timings", {}).get("train_seconds"),
        **{
            column: _seconds_to(reached.get(threshold))
            for column, threshold in SECONDS_TO_COLUMNS.items()
        },
    }


def _seconds_to(entry: dict | None) -> float | str | None:
    if entry is None:  # no validation split, or a run older than time_to_accuracy
        return None
    return "not reached" if entry.get("epoch") is None else entry.get("seconds")


def comparison_table(runs: Sequence[ComparedRun]) -> list[dict[str, object]]:
    """One row per run: its name, each differing setting, then the metrics in METRIC_COLUMNS."""
    settings = differing_settings(runs)
    return [
        {
            "run": run.name,
            **{key: values[i] for key, values in settings.items()},
            **run_metrics(run),
        }
        for i, run in enumerate(runs)
    ]


def _validation_series(run: ComparedRun, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    values = np.asarray(run.history.get(f"val_{metric}", []), dtype=float)
    if values.size == 0 or np.all(np.isnan(values)):
        return None
    return np.arange(1, values.size + 1), values


def runs_without_validation(runs: Sequence[ComparedRun]) -> list[str]:
    """Names of the runs whose history has no validation accuracy (nothing to overlay)."""
    return [run.name for run in runs if _validation_series(run, "accuracy") is None]


def validation_curves_figure(runs: Sequence[ComparedRun]) -> Figure:
    """Validation accuracy and loss per epoch, one line per run, in two panels."""
    _check_runs(runs)
    fig = new_figure(11, 4.5)
    for ax, metric in zip(fig.subplots(1, 2), ("accuracy", "loss"), strict=True):
        for run in runs:
            series = _validation_series(run, metric)
            if series is not None:
                ax.plot(*series, marker="o", markersize=3, label=run.name)
        ax.set_title(f"Validation {metric}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no run has validation data", ha="center", transform=ax.transAxes)
    missing = runs_without_validation(runs)
    if missing:
        fig.suptitle("no validation data: " + ", ".join(missing), fontsize=9)
    return fig


def comparison_html(runs: Sequence[ComparedRun], path: str | os.PathLike) -> Path:
    """Write a self-contained HTML page comparing the runs (settings, metrics, curves)."""
    settings = differing_settings(runs)
    names = [run.name for run in runs]
    settings_part = (
        html_table(["setting", *names], [[key, *values] for key, values in settings.items()])
        if settings
        else note("every setting is the same in all runs.")
    )
    metrics = [run_metrics(run) for run in runs]
    metrics_part = html_table(
        ["metric", *names], [[column, *(m[column] for m in metrics)] for column in METRIC_COLUMNS]
    )
    figure = html_figure(
        figure_png(validation_curves_figure(runs)), "Validation accuracy and loss per epoch"
    )
    title = f"fashion-mlp comparison of {len(runs)} runs"
    body = (
        f"<h1>{title}</h1><h2>Settings that differ</h2>{settings_part}"
        f"<h2>Metrics</h2>{metrics_part}<h2>Validation curves</h2>{figure}"
    )
    return write_page(path, html_page(title, body))
