"""report.html: self-contained, complete, escaped; clear errors for incomplete runs.

Also home of `make_fake_run`, which writes a run directory in the format train produces (from
synthetic data and synthetic model outputs) for the figures, report and compare tests.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_dataset
from PIL import Image
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from fashion_mlp.cli import main
from fashion_mlp.errors import RunError
from fashion_mlp.reports.figures import write_run_figures
from fashion_mlp.reports.run_page import write_run_page

CONFIG_TEMPLATE = """\
name = "{name}"

[data]
name = "fashion"
data_dir = ""

[model]
hidden = {hidden}
activation = "{activation}"
dropout = 0.0
batch_norm = false

[optimizer]
name = "sgd"
learning_rate = {learning_rate}
momentum = 0.9
nesterov = true

[training]
epochs = {epochs}
batch_size = 16
validation_split = {validation_split}
seed = 0
"""
DEFAULT_SETTINGS = {
    "name": "notebook",
    "hidden": "[64, 32]",
    "activation": "tanh",
    "learning_rate": 0.01,
    "epochs": 3,
    "validation_split": 0.1,
}


def fake_probabilities(labels: np.ndarray, num_classes: int, seed: int) -> np.ndarray:
    """Softmax-like outputs that are right most of the time, and confidently wrong sometimes."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(labels), num_classes))
    logits[np.arange(len(labels)), labels] += 2.0
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def fake_metrics(data, probabilities: np.ndarray, epochs: int) -> dict:
    """metrics.json as train writes it, computed from the given outputs."""
    labels = list(range(data.num_classes))
    predicted = probabilities.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        data.y_test, predicted, labels=labels, zero_division=0
    )
    return {
        "test_accuracy": float((predicted == data.y_test).mean()),
        "test_loss": float(-np.log(probabilities[np.arange(len(predicted)), data.y_test]).mean()),
        "num_test": len(data.y_test),
        "class_names": list(data.class_names),
        "confusion_matrix": confusion_matrix(data.y_test, predicted, labels=labels).tolist(),
        "per_class": [
            {"class": name, "precision": p, "recall": r, "f1": f, "support": int(s)}
            for name, p, r, f, s in zip(
                data.class_names, precision, recall, f1, support, strict=True
            )
        ],
        "macro_avg": {"precision": precision.mean(), "recall": recall.mean(), "f1": f1.mean()},
        "timings": {"train_seconds": 1.5 * epochs, "seconds_per_epoch": [1.5] * epochs},
        "environment": {"python": "3.11.7", "keras": "3.15.1", "backend": "jax", "device": "cpu"},
        "data": {
            "name": "fashion",
            "source": "debian",
            "location": "/usr/share/datasets/fashion-mnist",
            "files": [
                {
                    "role": "train_images",
                    "path": "/x/train.gz",
                    "sha256": "ab" * 32,
                    "verified": True,
                }
            ],
        },
        "engine": "compiled",
        "epochs_run": epochs,
        "parameters": 52650,
    }


def fake_history(epochs: int, validation: bool) -> dict[str, list[float]]:
    """Per-epoch columns as in history.csv (NaN validation when there is none)."""
    steps = np.arange(1, epochs + 1, dtype=float)
    missing = [math.nan] * epochs
    return {
        "epoch": steps.tolist(),
        "loss": (1.0 / steps).tolist(),
        "accuracy": (1 - 0.5 / steps).tolist(),
        "val_loss": (1.2 / steps).tolist() if validation else missing,
        "val_accuracy": (1 - 0.6 / steps).tolist() if validation else missing,
        "learning_rate": [0.01] * epochs,
        "seconds": [1.5] * epochs,
    }


def write_history_csv(path: Path, history: dict[str, list[float]]) -> None:
    lines = [",".join(history)]
    for row in zip(*history.values(), strict=True):
        lines.append(",".join("" if math.isnan(v) else f"{v:g}" for v in row))
    path.write_text("\n".join(lines) + "\n")


def make_fake_run(
    root: Path, folder: str = "20250101-000000-notebook", figures: bool = True, **settings
):
    """Write a complete fake run; returns (run_dir, data, history, metrics, probabilities)."""
    values = {**DEFAULT_SETTINGS, **settings}
    run_dir = root / folder
    run_dir.mkdir(parents=True)
    data = synthetic_dataset(200, 100)
    probabilities = fake_probabilities(data.y_test, data.num_classes, seed=len(folder))
    history = fake_history(int(values["epochs"]), validation=values["validation_split"] > 0)
    metrics = fake_metrics(data, probabilities, int(values["epochs"]))
    (run_dir / "config.toml").write_text(CONFIG_TEMPLATE.format(**values))
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    (run_dir / "summary.txt").write_text('Model: "mlp"\nTotal params: 52,650\n')
    write_history_csv(run_dir / "history.csv", history)
    if figures:
        write_run_figures(run_dir, data, history, metrics, probabilities)
    return run_dir, data, history, metrics, probabilities


class TagCollector(HTMLParser):
    """Every start tag with its attributes, and the page's visible text."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

        self.tables: list[list[list[str]]] = []  # table -> row -> cell text
        self.in_cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in {"td", "th"}:
            self.tables[-1][-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag):
        if tag in {"td", "th"}:
            self.in_cell = False

    def handle_data(self, data):
        self.text.append(data)
        if self.in_cell:
            self.tables[-1][-1][-1] += data


def parse(page: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(page)
    collector.close()
    return collector


def embedded_images(parsed: TagCollector) -> list[Image.Image]:
    """Decode every <img src="data:..."> with Pillow (fails the test if one does not decode)."""
    images = []
    for tag, attrs in parsed.tags:
        if tag == "img":
            header, payload = attrs["src"].split(",", 1)
            assert header == "data:image/png;base64"
            image = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
            image.load()
            images.append(image)
    return images


def assert_self_contained(page: str) -> TagCollector:
    """The page loads nothing from outside itself."""
    parsed = parse(page)
    tags = {tag for tag, _ in parsed.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed"}
    for _, attrs in parsed.tags:
        for name, value in attrs.items():
            if name in {"src", "href", "srcset", "action"}:
                assert value.startswith("data:"), (name, value[:40])
    lowered = re.sub(r"data:image/png;base64,[a-z0-9+/=]+", "", page.lower())  # base64 has //
    for marker in ("http:", "https:", "//", "<script", "<link", "@import", "url("):
        assert marker not in lowered, marker
    return parsed


@pytest.fixture
def fake_run(tmp_path):
    """A run without figures: most report tests do not need the seconds they take to draw."""
    return make_fake_run(tmp_path, figures=False)


@pytest.fixture
def fake_run_with_figures(tmp_path):
    return make_fake_run(tmp_path, figures=True)


def test_report_is_self_contained_and_embeds_every_figure(fake_run_with_figures):
    run_dir = fake_run_with_figures[0]
    page = write_run_page(run_dir).read_text(encoding="utf-8")
    parsed = assert_self_contained(page)
    images = embedded_images(parsed)
    assert len(images) == len(list(run_dir.glob("*.png"))) == 7
    assert all(image.format == "PNG" and min(image.size) > 100 for image in images)


def test_report_holds_config_summary_provenance_environment_history_and_metrics(fake_run):
    run_dir, data, history, metrics, _ = fake_run
    text = " ".join(parse(write_run_page(run_dir).read_text(encoding="utf-8")).text)
    assert run_dir.name in text
    assert "learning_rate" in text and "tanh" in text  # config
    assert "Total params: 52,650" in text  # summary.txt
    assert "ab" * 32 in text and "/usr/share/datasets/fashion-mnist" in text  # provenance
    assert "3.15.1" in text and "jax" in text  # environment
    assert f"{metrics['test_accuracy']:.4g}" in text
    assert all(name in text for name in data.class_names)
    assert f"{history['loss'][-1]:.4g}" in text  # history table


def test_report_confusion_table_matches_metrics(fake_run):
    run_dir, data, _, metrics, _ = fake_run
    parsed = parse(write_run_page(run_dir).read_text(encoding="utf-8"))
    header, *rows = next(table for table in parsed.tables if table[0][0] == "true \\ predicted")
    assert header[1:] == list(data.class_names)
    assert [row[0] for row in rows] == list(data.class_names)
    assert [[int(cell) for cell in row[1:]] for row in rows] == metrics["confusion_matrix"]


def test_report_escapes_run_text(tmp_path):
    run_dir = make_fake_run(tmp_path, figures=False, activation="<script>alert(1)</script>")[0]
    page = write_run_page(run_dir).read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_notes_missing_optional_files(fake_run):
    run_dir = fake_run[0]
    for name in ("summary.txt", "history.csv"):
        (run_dir / name).unlink()
    page = write_run_page(run_dir).read_text(encoding="utf-8")
    assert "summary.txt not found" in page and "history.csv not found" in page
    assert "no figures" in page


@pytest.mark.parametrize("missing", ["metrics.json", "config.toml"])
def test_report_without_required_file_is_a_run_error(fake_run, missing):
    run_dir = fake_run[0]
    (run_dir / missing).unlink()
    with pytest.raises(RunError, match=missing):
        write_run_page(run_dir)
    assert not (run_dir / "report.html").exists()


def test_report_of_a_missing_folder_is_a_run_error(tmp_path):
    with pytest.raises(RunError, match="does not exist"):
        write_run_page(tmp_path / "nope")


def test_corrupt_metrics_is_a_run_error(fake_run):
    run_dir = fake_run[0]
    (run_dir / "metrics.json").write_text("{not json")
    with pytest.raises(RunError, match="corrupt"):
        write_run_page(run_dir)


def test_report_says_when_each_validation_accuracy_was_reached(fake_run):
    run_dir, _, _, metrics, _ = fake_run
    metrics["time_to_accuracy"] = [
        {"val_accuracy": 0.85, "epoch": 2, "seconds": 4.06},
        {"val_accuracy": 0.9, "epoch": 3, "seconds": None},  # a history without its seconds
        {"val_accuracy": 0.91, "epoch": None, "seconds": None},
    ]
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    text = " ".join(parse(write_run_page(run_dir).read_text(encoding="utf-8")).text)
    assert (
        "Validation accuracy reached: 85 % at 4.1 s (epoch 2), 90 % at epoch 3, 91 %: not reached."
        in text
    )


def test_report_of_a_run_without_validation_shows_training_columns_only(tmp_path):
    run_dir = make_fake_run(tmp_path, figures=False, validation_split=0.0)[0]
    page = write_run_page(run_dir).read_text(encoding="utf-8")
    assert "Validation accuracy reached" not in page
    parsed = parse(page)
    header, *rows = next(table for table in parsed.tables if table[0][:2] == ["epoch", "loss"])
    assert "val_loss" not in header and "accuracy" in header
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert [row[1] for row in rows] == ["1", "0.5", "0.3333"]


def test_cli_report_rebuilds_only_the_report(fake_run_with_figures, capsys):
    run_dir = fake_run_with_figures[0]
    before = {path.name: path.read_bytes() for path in run_dir.iterdir()}
    assert main(["report", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "report.html")
    after = {path.name: path.read_bytes() for path in run_dir.iterdir()}
    assert set(after) == {*before, "report.html"}
    assert all(after[name] == content for name, content in before.items())
