"""A sweep's outputs: results.csv (one row per trial), a figure per axis (validation accuracy
against the setting, the other axes and seeds as spread) and a self-contained report.html
ranking the trials by VALIDATION accuracy. The test set is reported, never used to choose."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from fashion_mlp.experiment import draw_figures
from fashion_mlp.files import write_text
from fashion_mlp.reports.figures import figure_png, new_figure, save_figure
from fashion_mlp.reports.html import html_figure, html_page, html_table, write_page
from fashion_mlp.runs import RunDir
from fashion_mlp.sweeps.spec import Axis, SweepSpec, Trial

METRIC_COLUMNS = (
    "val_accuracy",
    "val_loss",
    "test_accuracy",
    "test_loss",
    "epochs",
    "train_seconds",
    "stopped_early",
)


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: its folder and one row per trial, best validation accuracy first."""

    sweep_dir: Path
    rows: list[dict]


POINT_COLOR = "#8da0cb"
MEAN_COLOR = "#d62728"


def result_rows(trials: Sequence[Trial], state: dict) -> list[dict]:
    """One row per finished trial: settings, run, validation and test metrics, time; best
    validation accuracy first (ties: lower validation loss, then trial order)."""
    rows = []
    for trial, entry in zip(trials, state["trials"], strict=True):
        if entry["run"] is None or not RunDir(entry["run"]).is_finished:
            continue
        metrics = RunDir(entry["run"]).read_metrics()
        validation = metrics.get("validation", {})
        rows.append(
            {
                "trial": trial.index,
                **trial.settings,
                "run": Path(entry["run"]).name,
                "val_accuracy": validation.get("accuracy"),
                "val_loss": validation.get("loss"),
                "test_accuracy": metrics.get("test_accuracy"),
                "test_loss": metrics.get("test_loss"),
                "epochs": metrics.get("epochs_run"),
                "train_seconds": metrics.get("timings", {}).get("train_seconds"),
                "stopped_early": "stopped_early" in metrics,  # by a scheduler (ASHA), not Keras
                "run_dir": entry["run"],
            }
        )
    rows.sort(key=lambda row: (-(row["val_accuracy"] or 0), row["val_loss"] or 0, row["trial"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def results_csv(rows: list[dict], axes: Sequence[Axis]) -> str:
    buffer = io.StringIO()
    columns = ["rank", "trial", *(axis.key for axis in axes), "run", *METRIC_COLUMNS]
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def axis_figure(rows: list[dict], axis: Axis):
    """Validation accuracy of every trial against one axis; the mean per value as a line and
    the spread (min to max over seeds and the other axes) as a band."""
    fig = new_figure(5.5, 3.6)
    ax = fig.add_subplot()
    values = [row[axis.key] for row in rows]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    levels = (
        sorted(set(values), key=lambda v: (str(type(v)), v))
        if numeric
        else list(dict.fromkeys(map(str, values)))
    )
    position = {level: (level if numeric else index) for index, level in enumerate(levels)}
    xs = [position[v if numeric else str(v)] for v in values]
    ys = [row["val_accuracy"] for row in rows]
    ax.scatter(xs, ys, color=POINT_COLOR, alpha=0.8, label="trials", zorder=3)
    grouped = [[y for x, y in zip(xs, ys, strict=True) if x == position[level]] for level in levels]
    centres = [position[level] for level in levels]
    ax.fill_between(
        centres,
        [min(g) for g in grouped],
        [max(g) for g in grouped],
        color=MEAN_COLOR,
        alpha=0.12,
        label="spread",
    )
    ax.plot(
        centres, [float(np.mean(g)) for g in grouped], color=MEAN_COLOR, marker="o", label="mean"
    )
    if numeric and (axis.is_log or (min(levels) > 0 and max(levels) / min(levels) >= 20)):
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(centres, labels=levels)
    ax.set_xlabel(axis.key)
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"Validation accuracy against {axis.key}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def sweep_report(
    spec: SweepSpec, rows: list[dict], figures: dict[str, bytes], ensembles: list[dict]
) -> str:
    """The sweep's self-contained report: the ranking, the axis figures, the sweep file."""
    title = f"fashion-mlp sweep {spec.name}"
    parts = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{len(rows)} trials, ranked by <b>validation</b> accuracy (the last "
        "validation_split of the training set). The test accuracy is reported, never used to "
        "choose.</p>",
        "<h2>Trials</h2>",
        _trials_table([axis.key for axis in spec.axes], rows),
    ]
    if ensembles:
        parts += ["<h2>Ensembles</h2>", _ensembles_table(ensembles)]
    parts.append("<h2>Each axis</h2>")
    parts += [
        html_figure(png, f"validation accuracy against {key}") for key, png in figures.items()
    ]
    parts.append(f"<h2>Sweep file</h2><pre>{escape(spec.to_toml())}</pre>")
    return html_page(title, "".join(parts))


def _trials_table(keys: list[str], rows: list[dict]) -> str:
    """The ranked trials: each axis's value and the run's scores (and whether a scheduler
    stopped it early, when one stopped any)."""
    stopped = any(row["stopped_early"] for row in rows)
    scores = ["val_accuracy", "val_loss", "test_accuracy", "epochs", "train_seconds"]
    headers = ["rank", "run", *keys, "val acc", "val loss", "test acc", "epochs", "train s"]
    cells = [[row["rank"], row["run"], *(row[key] for key in keys + scores)] for row in rows]
    if stopped:
        headers.append("stopped early")
        for row, line in zip(rows, cells, strict=True):
            line.append("yes" if row["stopped_early"] else "")
    return html_table(headers, cells)


def _ensembles_table(ensembles: list[dict]) -> str:
    columns = ["run", "members", "val_accuracy", "test_accuracy", "mean_member_test_accuracy"]
    headers = ["run", "members", "val acc", "test acc", "members' mean test acc"]
    return html_table(headers, [[entry[key] for key in columns] for entry in ensembles])


def write_sweep_outputs(folder, spec: SweepSpec, trials, state, emit):
    """Write results.csv, the axis figures and report.html; ensembles and figures as asked.
    Called once every trial is finished: an empty populations/ folder is removed."""
    folder.remove_empty_populations()
    rows = result_rows(trials, state)
    write_text(folder.path / folder.RESULTS, results_csv(rows, spec.axes))
    ensembles = []
    if spec.sweep.ensemble and len(rows) >= 2:
        from fashion_mlp.ensembles import build_ensemble

        top = [row["run_dir"] for row in rows[: spec.sweep.ensemble]]
        result = build_ensemble(top, state["runs_dir"], name=f"{spec.name}-ensemble")
        ensembles.append(ensemble_row(result.run_dir, result.metrics))
        emit("ensemble", run=result.run_dir, metrics=result.metrics)
    for row in rows[: spec.sweep.figures_top]:
        draw_figures(row["run_dir"])
    figures = {}
    for axis in spec.axes:
        if len(rows) and len({str(row[axis.key]) for row in rows}) > 1:
            png = figure_png(axis_figure(rows, axis))
            figures[axis.key] = png
            save_figure(axis_figure(rows, axis), folder.path / f"axis-{axis.key}.png")
    write_page(folder.path / folder.REPORT, sweep_report(spec, rows, figures, ensembles))
    return SweepResult(folder.path, rows)


def ensemble_row(run_dir, metrics: dict) -> dict:
    ensemble = metrics["ensemble"]
    return {
        "run": Path(run_dir).name,
        "members": len(ensemble["members"]),
        "val_accuracy": metrics.get("validation", {}).get("accuracy"),
        "test_accuracy": metrics["test_accuracy"],
        "mean_member_test_accuracy": ensemble["mean_member_test_accuracy"],
    }
