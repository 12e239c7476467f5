"""A run's self-contained `report.html`, the readers of the run files it shows, and HTML helpers.

The report is one file that opens offline: figures embedded as base64 data URIs, inline CSS,
no scripts and no external links. Every text taken from the run is escaped.
"""

from __future__ import annotations

import base64
import math
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path

from fashion_mlp import runs
from fashion_mlp.errors import RunError

CONFIG_FILE = "config.toml"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
SUMMARY_FILE = "summary.txt"
REPORT_FILE = "report.html"
FIGURE_CAPTIONS = {  # known figures first, in reading order; any other *.png follows by name
    "curves.png": "Learning curves",
    "confusion_normalized.png": "Confusion matrix, normalised per true class (recall)",
    "confusion_counts.png": "Confusion matrix (counts)",
    "per_class.png": "Per-class precision, recall and F1",
    "mistakes.png": "Most confident mistakes",
    "prediction.png": "Predictions on the first test images",
    "samples.png": "Training samples by class",
}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
code { font-size: 0.85em; } .note { color: #8a6d3b; font-style: italic; }
.headline { font-size: 1.2em; } figure { margin: 1em 0; } img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
"""


def read_config(run_dir: str | os.PathLike) -> dict:
    """The run's config.toml as a dict."""
    path = runs.require_file(Path(run_dir), CONFIG_FILE, "its config")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RunError(
            f"{path} is not valid TOML ({error}); expected the config train wrote"
        ) from error


def read_metrics(run_dir: str | os.PathLike) -> dict:
    """The run's metrics.json as a dict."""
    metrics = runs.read_json(Path(run_dir), METRICS_FILE, "its test metrics")
    if not isinstance(metrics, dict):
        raise RunError(f"{run_dir}/{METRICS_FILE} is not a JSON object; the run is damaged")
    return metrics


def read_history(run_dir: str | os.PathLike) -> dict[str, list[float]]:
    """The run's history.csv as columns per epoch ({} when the run has none)."""
    path = Path(run_dir) / HISTORY_FILE
    return runs.read_history(path) if path.is_file() else {}


def flatten(mapping: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested tables as dotted keys: {"optimizer": {"name": "sgd"}} -> {"optimizer.name": "sgd"}."""
    flat: dict[str, object] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def format_value(value: object) -> str:
    """A short, readable text for a config or metric value (floats to 4 significant digits)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as TOML writes it
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)


def _cell(value: object, tag: str = "td", style: str = "") -> str:
    kind = "" if isinstance(value, int | float) and not isinstance(value, bool) else ' class="text"'
    style_attribute = f' style="{escape(style)}"' if style else ""
    return f"<{tag}{kind}{style_attribute}>{escape(format_value(value))}</{tag}>"


def html_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """An HTML table of escaped, formatted values."""
    head = "".join(f'<th class="text">{escape(str(header))}</th>' for header in headers)
    body = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def png_data_uri(png: bytes) -> str:
    """PNG bytes as a `data:` URI for an <img src>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def html_figure(png: bytes, caption: str) -> str:
    """An embedded image with its caption."""
    return (
        f'<figure><img src="{png_data_uri(png)}" alt="{escape(caption)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def html_page(title: str, body: str) -> str:
    """A complete, self-contained HTML document."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def note(text: str) -> str:
    """A visible remark, e.g. that an optional file was missing."""
    return f'<p class="note">{escape(text)}</p>'


def write_page(path: str | os.PathLike, page: str) -> Path:
    """Write an HTML page atomically, as UTF-8 (model summaries hold box-drawing characters)."""
    with runs.atomic_path(Path(path)) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return Path(path)


def _metrics_section(metrics: Mapping) -> str:
    parts = ["<h2>Test metrics</h2>"]
    macro = metrics.get("macro_avg", {})
    parts.append(
        html_table(
            ["test accuracy", "test loss", "test images", "macro precision", "macro recall",
             "macro F1"],
            [[metrics.get("test_accuracy"), metrics.get("test_loss"), metrics.get("num_test"),
              macro.get("precision"), macro.get("recall"), macro.get("f1")]],
        )
    )  # fmt: skip
    per_class = metrics.get("per_class")
    if per_class:
        parts.append("<h3>Per class</h3>")
        parts.append(
            html_table(
                ["class", "precision", "recall", "F1", "support"],
                [[entry.get(key) for key in ("class", "precision", "recall", "f1", "support")]
                 for entry in per_class],
            )
        )  # fmt: skip
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
            _cell(count, style=f"background: rgba(31, 119, 180, {count / total:.2f})")
            for count in counts
        )
        rows.append(f"<tr>{_cell(str(name), 'th')}{cells}</tr>")
    return (
        "<h3>Confusion matrix (rows = true class, columns = predicted)</h3>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _figures_section(run_dir: Path) -> str:
    found = {path.name: path for path in run_dir.glob("*.png") if path.is_file()}
    if not found:
        return "<h2>Figures</h2>" + note("no figures (*.png) in the run directory: skipped.")
    known = [name for name in FIGURE_CAPTIONS if name in found]
    others = sorted(set(found) - set(known))
    figures = [
        html_figure(found[name].read_bytes(), FIGURE_CAPTIONS.get(name, Path(name).stem))
        for name in known + others
    ]
    return "<h2>Figures</h2>" + "".join(figures)


def _history_section(run_dir: Path) -> str:
    history = read_history(run_dir)
    if not history:
        return "<h2>Training history</h2>" + note(f"{HISTORY_FILE} not found or empty: skipped.")
    headers = [name for name in runs.HISTORY_COLUMNS if name in history]
    headers += [name for name in history if name not in headers]
    epochs = max(len(values) for values in history.values())
    rows = [
        [epoch + 1, *(_value_at(history[name], epoch) for name in headers)]
        for epoch in range(epochs)
    ]
    return "<h2>Training history</h2>" + html_table(["epoch", *headers], rows)


def _value_at(values: Sequence[float], index: int) -> float | None:
    return values[index] if index < len(values) else None


def _config_section(run_dir: Path, config: Mapping) -> str:
    parts = ["<h2>Configuration</h2>"]
    top_level = {key: value for key, value in config.items() if not isinstance(value, Mapping)}
    if top_level:
        parts.append(html_table(["setting", "value"], top_level.items()))
    for section, values in config.items():
        if isinstance(values, Mapping):
            parts.append(f"<h3>[{escape(section)}]</h3>")
            parts.append(html_table(["setting", "value"], flatten(values).items()))
    raw = (run_dir / CONFIG_FILE).read_text(encoding="utf-8")
    parts.append(f"<details><summary>{CONFIG_FILE}</summary><pre>{escape(raw)}</pre></details>")
    return "".join(parts)


def _summary_section(run_dir: Path) -> str:
    path = run_dir / SUMMARY_FILE
    if not path.is_file():
        return "<h2>Model</h2>" + note(f"{SUMMARY_FILE} not found: skipped.")
    summary = path.read_text(encoding="utf-8", errors="replace")
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
                [[entry.get(key) for key in ("role", "path", "sha256", "verified")]
                 for entry in files],
            )
        )  # fmt: skip
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


def report_html(run_dir: str | os.PathLike) -> str:
    """The report of a run as one self-contained HTML document."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    metrics = read_metrics(run_dir)
    title = f"fashion-mlp run {run_dir.name}"
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
            _figures_section(run_dir),
            _history_section(run_dir),
            _config_section(run_dir, config),
            _summary_section(run_dir),
            _data_section(metrics),
            _environment_section(metrics),
        ]
    )
    return html_page(title, body)


def build_report(run_dir: str | os.PathLike) -> Path:
    """Write the run's report.html (atomically) from the files already in it; returns its path."""
    page = report_html(run_dir)
    return write_page(Path(run_dir) / REPORT_FILE, page)
