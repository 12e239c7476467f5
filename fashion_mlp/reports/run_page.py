"""A run's self-contained `report.html`: headline, test metrics, figures, calibration, inside
the network, history, config, model summary, data provenance and environment, all from the
files already in the run."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from fashion_mlp.history import HISTORY_COLUMNS
from fashion_mlp.reports.calibration import calibration_section
from fashion_mlp.reports.html import (
    flatten,
    format_value,
    html_cell,
    html_figure,
    html_page,
    html_table,
    note,
)
from fashion_mlp.reports.inside_section import CAPTIONS as INSIDE_CAPTIONS
from fashion_mlp.reports.inside_section import inside_section
from fashion_mlp.runs import RunDir

FIGURE_CAPTIONS = {  # known figures first, in reading order; any other *.png follows by name
    "curves.png": "Learning curves",
    "confusion_normalized.png": "Confusion matrix, normalised per true class (recall)",
    "confusion_counts.png": "Confusion matrix (counts)",
    "per_class.png": "Per-class precision, recall and F1",
    "mistakes.png": "Most confident mistakes",
    "prediction.png": "Predictions on the first test images",
    "samples.png": "Training samples by class",
}


def _metrics_section(metrics: Mapping) -> str:
    parts = ["<h2>Test metrics</h2>"]
    macro = metrics.get("macro_avg", {})
    parts.append(
        html_table(
            [
                "test accuracy",
                "test loss",
                "test images",
                "macro precision",
                "macro recall",
                "macro F1",
            ],
            [
                [
                    metrics.get("test_accuracy"),
                    metrics.get("test_loss"),
                    metrics.get("num_test"),
                    macro.get("precision"),
                    macro.get("recall"),
                    macro.get("f1"),
                ]
            ],
        )
    )
    per_class = metrics.get("per_class")
    if per_class:
        parts.append("<h3>Per class</h3>")
        parts.append(
            html_table(
                ["class", "precision", "recall", "F1", "support"],
                [
                    [entry.get(key) for key in ("class", "precision", "recall", "f1", "support")]
                    for entry in per_class
                ],
            )
        )
    else:
        parts.append(note("metrics.json has no per-class scores: skipped."))
    parts.append(_confusion_table(metrics))
    return "".join(parts)


def _confusion_table(metrics: Mapping) -> str:
    matrix = metrics.get("confusion_matrix")
    if not matrix:
        return note("metrics.json has no confusion matrix: skipped.")
    names = metrics.get("class_names") or [str(label) for label in range(len(matrix))]
    head = '<th class="text">true \\ predicted</th>' + "".join(
        f'<th class="text">{escape(str(name))}</th>' for name in names
    )
    rows = []
    for name, counts in zip(names, matrix, strict=False):
        total = sum(counts) or 1
        cells = "".join(  # shade each cell by its share of the true class (recall colours)
            html_cell(count, style=f"background: rgba(31, 119, 180, {count / total:.2f})")
            for count in counts
        )
        rows.append(f"<tr>{html_cell(str(name), 'th')}{cells}</tr>")
    return (
        "<h3>Confusion matrix (rows = true class, columns = predicted)</h3>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _figures_section(run: RunDir) -> str:
    found = {name: path for name, path in run.figure_paths().items() if name not in INSIDE_CAPTIONS}
    if not found:
        return "<h2>Figures</h2>" + note("no figures (*.png) in the run directory: skipped.")
    known = [name for name in FIGURE_CAPTIONS if name in found]
    others = sorted(set(found) - set(known))
    figures = [
        html_figure(found[name].read_bytes(), FIGURE_CAPTIONS.get(name, Path(name).stem))
        for name in known + others
    ]
    return "<h2>Figures</h2>" + "".join(figures)


def _history_section(run: RunDir, metrics: Mapping) -> str:
    history = run.read_history()
    if isinstance(metrics.get("ensemble"), Mapping):
        return _members_section(run, metrics["ensemble"])
    heading = "<h2>Training history</h2>" + _teacher_line(run, metrics)
    heading += _time_to_accuracy_line(metrics)
    if not history:
        return heading + note(f"{run.HISTORY} not found or empty: skipped.")
    headers = [name for name in HISTORY_COLUMNS if name in history]
    headers += [name for name in history if name not in headers]
    epochs = max(len(values) for values in history.values())
    rows = [
        [epoch + 1, *(_value_at(history[name], epoch) for name in headers)]
        for epoch in range(epochs)
    ]
    return heading + html_table(["epoch", *headers], rows)


def _teacher_line(run: RunDir, metrics: Mapping) -> str:
    """A distilled run's teacher, linked to its report, with what it taught with."""
    teacher = metrics.get("distilled_from")
    if not isinstance(teacher, Mapping):
        return ""
    report = Path(str(teacher.get("path", ""))) / RunDir.REPORT
    link = escape(Path(os.path.relpath(report, run.path)).as_posix())
    accuracy = teacher.get("test_accuracy")
    scored = f", test accuracy {accuracy:.2%}" if isinstance(accuracy, float) else ""
    members = f", {teacher['members']} members" if teacher.get("members") else ""
    return (
        f'<p>Distilled from <a href="{link}">{escape(str(teacher.get("run", "")))}</a>'
        f"{escape(members + scored)}: temperature {escape(str(teacher.get('temperature')))}, "
        f"alpha {escape(str(teacher.get('alpha')))}; accuracy is against the true labels.</p>"
    )


def _time_to_accuracy_line(metrics: Mapping) -> str:
    """metrics.json's time_to_accuracy as one sentence (nothing without a validation split)."""
    reached = metrics.get("time_to_accuracy") or []
    if not reached:
        return ""
    parts = [_reached_text(entry) for entry in reached]
    return f"<p>Validation accuracy reached: {escape(', '.join(parts))}.</p>"


def _reached_text(entry: Mapping) -> str:
    """One time_to_accuracy entry: "85 % at 4.1 s (epoch 2)", or "91 %: not reached"."""
    threshold = f"{entry.get('val_accuracy', 0) * 100:g} %"
    epoch, seconds = entry.get("epoch"), entry.get("seconds")
    if epoch is None:
        return f"{threshold}: not reached"
    if seconds is None:
        return f"{threshold} at epoch {epoch}"
    return f"{threshold} at {seconds:.1f} s (epoch {epoch})"


def _members_section(run: RunDir, ensemble: Mapping) -> str:
    """An ensemble trains nothing itself: its members, each linked to its own report."""
    columns = ("architecture", "epochs", "train_seconds", "val_accuracy", "test_accuracy")
    rows = []
    for member in ensemble.get("members", []):
        report = Path(str(member.get("path", ""))) / RunDir.REPORT
        link = escape(Path(os.path.relpath(report, run.path)).as_posix())
        name = f'<a href="{link}">{escape(str(member.get("run", "")))}</a>'
        rows.append(f'<tr><td class="text">{name}</td>{_cells(member, columns)}</tr>')
    headers = "".join(
        f'<th class="text">{header}</th>'
        for header in ("member run", "architecture", "epochs", "train s", "val acc", "test acc")
    )
    mirrored = " and of its mirror image" if ensemble.get("mirror") else ""
    return (
        f"<h2>Members</h2><p>The ensemble averages its members' class probabilities{mirrored}; "
        "it trains nothing itself (its epochs and seconds are its members').</p>"
        f"<table><thead><tr>{headers}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _cells(entry: Mapping, keys: Sequence[str]) -> str:
    return "".join(html_cell(entry.get(key)) for key in keys)


def _value_at(values: Sequence[float], index: int) -> float | None:
    return values[index] if index < len(values) else None


def _config_section(run: RunDir, config: Mapping) -> str:
    parts = ["<h2>Configuration</h2>"]
    top_level = {key: value for key, value in config.items() if not isinstance(value, Mapping)}
    if top_level:
        parts.append(html_table(["setting", "value"], top_level.items()))
    for section, values in config.items():
        if isinstance(values, Mapping):
            parts.append(f"<h3>[{escape(section)}]</h3>")
            parts.append(html_table(["setting", "value"], flatten(values).items()))
    raw = (run.path / run.CONFIG).read_text(encoding="utf-8")
    parts.append(f"<details><summary>{run.CONFIG}</summary><pre>{escape(raw)}</pre></details>")
    return "".join(parts)


def _summary_section(run: RunDir) -> str:
    summary = run.read_summary()
    if summary is None:
        return "<h2>Model</h2>" + note(f"{run.SUMMARY} not found: skipped.")
    return f"<h2>Model</h2><pre>{escape(summary)}</pre>"


def _data_section(metrics: Mapping) -> str:
    data = metrics.get("data")
    if not data:
        return "<h2>Data</h2>" + note("metrics.json has no data provenance: skipped.")
    parts = [
        "<h2>Data</h2>",
        html_table(
            ["data set", "source", "location"],
            [[data.get("name"), data.get("source"), data.get("location")]],
        ),
    ]
    files = data.get("files") or []
    if files:
        parts.append(
            html_table(
                ["role", "path", "SHA-256", "verified"],
                [
                    [entry.get(key) for key in ("role", "path", "sha256", "verified")]
                    for entry in files
                ],
            )
        )
    else:
        parts.append(note("no per-file checksums recorded (data given as arrays)."))
    return "".join(parts)


def _environment_section(metrics: Mapping) -> str:
    environment = metrics.get("environment")
    timings = metrics.get("timings", {})
    per_epoch = timings.get("seconds_per_epoch") or []
    run_facts = {
        "engine": metrics.get("engine"),
        "parameters": metrics.get("parameters"),
        "epochs run": metrics.get("epochs_run"),
        "train seconds": timings.get("train_seconds"),
        "mean seconds per epoch": sum(per_epoch) / len(per_epoch) if per_epoch else None,
        "evaluate seconds": timings.get("evaluate_seconds"),
    }
    parts = ["<h2>Environment and timings</h2>"]
    if environment:
        parts.append(html_table(["component", "version / value"], environment.items()))
    else:
        parts.append(note("metrics.json has no environment record: skipped."))
    facts = [(key, value) for key, value in run_facts.items() if value is not None]
    parts.append(html_table(["fact", "value"], facts))
    return "".join(parts)


def report_html(run: RunDir) -> str:
    """The report of a run as one self-contained HTML document."""
    config = run.read_config_table()
    metrics = run.read_metrics()
    title = f"fashion-mlp run {run.name}"
    headline = (
        f'<p class="headline">config <b>{escape(str(config.get("name", "")))}</b> · '
        f"test accuracy <b>{escape(format_value(metrics.get('test_accuracy')))}</b> · "
        f"test loss <b>{escape(format_value(metrics.get('test_loss')))}</b></p>"
    )
    body = "".join(
        [
            f"<h1>{escape(title)}</h1>",
            headline,
            _metrics_section(metrics),
            _figures_section(run),
            calibration_section(run, metrics),
            inside_section(run, metrics),
            _history_section(run, metrics),
            _config_section(run, config),
            _summary_section(run),
            _data_section(metrics),
            _environment_section(metrics),
        ]
    )
    return html_page(title, body)


def write_run_page(run_dir: str | os.PathLike | RunDir) -> Path:
    """Write the run's report.html (atomically) from the files already in it; returns its path."""
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    return run.write_report(report_html(run))
