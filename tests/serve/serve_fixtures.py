"""Shared by the server's tests: a small data set on disk and finished runs made in seconds
(a tiny model trained briefly and written with RunDir, not the whole `train` pipeline)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import keras
import numpy as np
from conftest import synthetic_arrays, write_idx_dataset
from PIL import Image, ImageDraw

from fashion_mlp.config import MLPSpec, build_config
from fashion_mlp.datasets import FASHION_CLASSES, Dataset
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.metrics import classification_metrics
from fashion_mlp.models import build_model
from fashion_mlp.presets import preset
from fashion_mlp.reports.run_page import write_run_page
from fashion_mlp.runs import RunDir

FLIPPED_TEST_LABELS = 0.1  # share of test labels changed, so the model makes mistakes to browse


def serve_dataset(folder: Path) -> Path:
    """A learnable synthetic set as IDX files with Fashion-MNIST's class names; some test
    labels are wrong on purpose."""
    x_train, y_train = synthetic_arrays(600, seed=0)
    x_test, y_test = synthetic_arrays(200, seed=1)
    rng = np.random.default_rng(2)
    flip = rng.random(len(y_test)) < FLIPPED_TEST_LABELS
    y_test = y_test.copy()
    y_test[flip] = (y_test[flip] + rng.integers(1, 10, flip.sum())) % 10
    data = Dataset("synthetic", x_train, y_train, x_test, y_test, FASHION_CLASSES)
    write_idx_dataset(folder, data)
    (folder / "class_names.txt").write_text("\n".join(FASHION_CLASSES) + "\n")
    return folder


def make_run(runs_dir: Path, data_folder: Path, name: str, hidden=(16,), epochs=2) -> RunDir:
    """A finished run folder (config, model, history, metrics, one figure, report)."""
    from fashion_mlp.subsets import load_run_data

    config = build_config(
        preset("smoke"),
        {"name": name, "data": {"name": str(data_folder)}, "model": {"hidden": list(hidden)}},
    )
    data = load_run_data(config.data)
    keras.utils.set_random_seed(0)
    model = build_model(MLPSpec(hidden=tuple(hidden)), style="sequential", data=data)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fit = model.fit(
        data.x_train, data.y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=0
    )
    run = RunDir(runs_dir / name)
    run.path.mkdir(parents=True)
    run.write_config(config)
    run.save_model(model)
    run.write_history({key: list(map(float, values)) for key, values in fit.history.items()})
    probabilities = Predictor(model, data.class_names).predict_proba(data.x_test)
    metrics = classification_metrics(data.y_test, probabilities, data.class_names)
    run.write_metrics(metrics | {"epochs_run": epochs, "timings": {"train_seconds": 1.0}})
    Image.new("RGB", (40, 30), "steelblue").save(run.path / "learning_curves.png")
    write_run_page(run)
    return run


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def photo_bytes() -> bytes:
    """A 'photo': a dark band on white, larger than 28x28, as PNG."""
    image = Image.new("RGB", (120, 90), "white")
    image.paste((20, 30, 90), (10, 30, 110, 45))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def wedge_photo_bytes() -> bytes:
    """A 'photo' unlike its mirror image: a dark wedge on white, tall on the right, as PNG."""
    image = Image.new("RGB", (120, 90), "white")
    ImageDraw.Draw(image).polygon([(10, 70), (110, 15), (110, 70)], fill=(20, 30, 90))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def oversized_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """A tiny PNG file whose header announces width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def copy_run(run: RunDir, name: str, changes: dict) -> RunDir:
    """A second run for comparing: `run`'s files with some config keys changed (no training)."""
    import shutil

    from fashion_mlp.config import merge

    copy = RunDir(shutil.copytree(run.path, run.path.parent / name))
    copy.write_config(build_config(merge(run.read_config_table(), {"name": name, **changes})))
    return copy
