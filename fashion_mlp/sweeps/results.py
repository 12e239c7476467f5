"""A sweep's outputs: results.csv (one row per trial), a figure per axis (validation accuracy
against the setting, the other axes and seeds as spread) and a self-contained report.html
ranking the trials by VALIDATION accuracy. The test set is reported, never used to choose."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from fashion_mlp.experiment import draw_figures
from fashion_mlp.files import write_text
from fashion_mlp.reports.figures import figure_png, save_figure
from fashion_mlp.reports.html import html_cell, html_figure, html_page, html_table, write_page
from fashion_mlp.runs import RunDir
from fashion_mlp.sweeps.axis_figures import axis_figure, shown_setting
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
SEED_KEY = "training.seed"  # with seeds as an axis, the report averages each setting over them
SEED_SCORES = ("val_accuracy", "test_accuracy")


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: its folder and one row per trial, best validation accuracy first."""

    sweep_dir: Path
    rows: list[dict]


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
    """One line per trial, numbers in full; layer sizes as 256-128."""
    buffer = io.StringIO()
    columns = ["rank", "trial", *(axis.key for axis in axes), "run", *METRIC_COLUMNS]
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_value(value) for key, value in row.items()})
    return buffer.getvalue()


def _csv_value(value):
    return shown_setting(value) if isinstance(value, list | tuple) else value


def sweep_report(
    spec: SweepSpec,
    rows: list[dict],
    figures: dict[str, bytes],
    ensembles: list[dict],
    sweep_dir: Path,
) -> str:
    """The sweep's self-contained report: the ranking (each trial linked to its run's report),
    each setting over seeds, the axis figures, the sweep file."""
    title = f"fashion-mlp sweep {spec.name}"
    parts = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{len(rows)} trials, ranked by <b>validation</b> accuracy (the last "
        "validation_split of the training set). The test accuracy is reported, never used to "
        "choose.</p>",
        "<h2>Trials</h2>",
        _trials_table([axis.key for axis in spec.axes], rows, sweep_dir),
    ]
    if SEED_KEY in (keys := [axis.key for axis in spec.axes]):
        parts += [f"<h2>Each setting over seeds</h2>{_over_seeds_table(keys, rows)}"]
    if ensembles:
        parts += ["<h2>Ensembles</h2>", _ensembles_table(ensembles)]
    parts.append("<h2>Each axis</h2>")
    parts += [
        html_figure(png, f"validation accuracy against {key}") for key, png in figures.items()
    ]
    parts.append(f"<h2>Sweep file</h2><pre>{escape(spec.to_toml())}</pre>")
    return html_page(title, "".join(parts))


def _trials_table(keys: list[str], rows: list[dict], sweep_dir: Path) -> str:
    """The ranked trials, each linked to its run's report: each axis's value and the run's
    scores (and whether a scheduler stopped it early, when one stopped any)."""
    stopped = any(row["stopped_early"] for row in rows)
    scores = ["val_accuracy", "val_loss", "test_accuracy", "epochs", "train_seconds"]
    headers = ["rank", "run", *keys, "val acc", "val loss", "test acc", "epochs", "train s"]
    headers += ["stopped early"] if stopped else []
    lines = []
    for row in rows:
        cells = [html_cell(row["rank"]), _run_link(row, sweep_dir)]
        cells += [html_cell(shown_setting(row[key])) for key in keys]
        cells += [html_cell(row[key]) for key in scores]
        cells += [html_cell("yes" if row["stopped_early"] else "")] if stopped else []
        lines.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f'<th class="text">{escape(header)}</th>' for header in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _run_link(row: dict, sweep_dir: Path) -> str:
    """The trial's run name as a link to its report, relative to the sweep folder."""
    report = Path(os.path.relpath(Path(row["run_dir"]) / RunDir.REPORT, sweep_dir))
    return f'<td class="text"><a href="{escape(report.as_posix())}">{escape(row["run"])}</a></td>'


def _over_seeds_table(keys: list[str], rows: list[dict]) -> str:
    """Each setting of the other axes: validation and test accuracy, mean ± standard deviation
    over its seeds, best mean validation accuracy first."""
    others = [key for key in keys if key != SEED_KEY]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(shown_setting(row[key]) for key in others), []).append(row)
    ranked = sorted(groups.items(), key=lambda item: -_mean(item[1], "val_accuracy"))
    lines = [
        [*setting, len(group), *(_mean_spread(group, score) for score in SEED_SCORES)]
        for setting, group in ranked
    ]
    headers = [*others, "seeds", "val acc (mean ± sd)", "test acc (mean ± sd)"]
    return html_table(headers, lines)


def _mean(rows: list[dict], key: str) -> float:
    """The mean of a score over rows (0 when none has it)."""
    values = [row[key] for row in rows if row[key] is not None]
    return float(np.mean(values)) if values else 0.0


def _mean_spread(rows: list[dict], key: str) -> str:
    """'83.05% ± 0.42' over rows (the standard deviation in percentage points)."""
    values = [row[key] for row in rows if row[key] is not None]
    if not values:
        return ""
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return f"{float(np.mean(values)):.2%} ± {spread * 100:.2f}"


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
    page = sweep_report(spec, rows, figures, ensembles, folder.path)
    write_page(folder.path / folder.REPORT, page)
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
