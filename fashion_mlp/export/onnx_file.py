"""`fashion-mlp export RUN --format onnx`: a run's model written as one ONNX file, atomically
(a model that cannot be converted leaves no file)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import keras

from fashion_mlp.export.onnx_graph import onnx_model
from fashion_mlp.files import atomic_path
from fashion_mlp.models import load_saved_model
from fashion_mlp.runs import RunDir

ONNX_FILE = "model.onnx"  # the export's default name, beside the run's model.keras


def export_onnx(
    model: keras.Model,
    class_names: Sequence[str],
    path: str | os.PathLike,
    temperature: float | None = None,
    source: str = "",
) -> Path:
    """Write `model` as an ONNX file at `path` (see onnx_graph.onnx_model); returns the path."""
    proto = onnx_model(model, class_names, temperature, source)
    with atomic_path(Path(path)) as temporary:
        temporary.write_bytes(proto.SerializeToString())
    return Path(path)


def export_run(
    run_dir: str | os.PathLike,
    output: str | os.PathLike | None = None,
    temperature: float | None = None,
) -> Path:
    """Export a finished run's model; `output` defaults to model.onnx in the run folder, and
    `temperature` to the run's calibration (calibration.json; none: the model's own outputs)."""
    run = RunDir(run_dir)
    class_names = run.class_names()  # first: a run without metrics.json is unfinished
    model = load_saved_model(run.model_path)
    if temperature is None:
        temperature = (run.read_calibration() or {}).get("temperature")
    path = run.path / ONNX_FILE if output is None else Path(output)
    return export_onnx(model, class_names, path, temperature, source=run.name)
