"""Inference speed: Predictor's fast paths and onnxruntime against `model.predict` and `model(x)`.

Run by hand: `python benchmarks/bench_predict.py [--run-dir runs/<id>]`. Without a run, the
notebook's model (784-64-32-10 tanh, standardised on the training images) is built untrained
(speed does not depend on the weights) and saved into a temporary run folder: either way the
Predictor measured is one loaded from a run folder, as `predict` and `serve` load it. Reports
p50/p99 latency of one image and throughput on 1,024 images for each method (onnxruntime on
the model exported to ONNX when the onnx extra is installed); prints a table last and writes
the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import fashion_mlp  # noqa: F401  (selects the JAX backend before Keras is imported)

# isort: split
import keras
import numpy as np
from rich.console import Console
from rich.table import Table

from fashion_mlp.config import MLPSpec
from fashion_mlp.datasets import load_dataset
from fashion_mlp.errors import ConfigError
from fashion_mlp.experiment import environment
from fashion_mlp.inference.forward import jax_forward, numpy_forward
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.models import build_model
from fashion_mlp.runs import RunDir

WARMUP_CALLS = 20  # compiles and fills caches before timing


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=None, help="a run to load (default: the seed model)")
    parser.add_argument("--repeats", type=int, default=1000, help="single-image calls (1000)")
    parser.add_argument("--batch", type=int, default=1024, help="images per batch call (1024)")
    parser.add_argument("--batch-repeats", type=int, default=30, help="batch calls timed (30)")
    parser.add_argument(
        "--data-dir", default=None, help="folder of the IDX files (default: search)"
    )
    parser.add_argument(
        "--output", default="bench_predict.json", help="JSON results path (bench_predict.json)"
    )
    return parser.parse_args(argv)


def timings(function, images: np.ndarray, repeats: int) -> np.ndarray:
    """Seconds of each of `repeats` calls of function(images), after a warm-up."""
    for _ in range(WARMUP_CALLS):
        function(images)
    seconds = np.empty(repeats)
    for index in range(repeats):
        start = time.perf_counter()
        function(images)
        seconds[index] = time.perf_counter() - start
    return seconds


def methods(model: keras.Model, predictor: Predictor) -> dict:
    """Method name -> a function of a uint8 batch returning probabilities."""
    found = {"Predictor.predict_proba": predictor.predict_proba}
    numpy_pass, jitted = numpy_forward(model), jax_forward(model)
    if numpy_pass is not None:
        found["NumPy forward pass"] = numpy_pass
    if jitted is not None:
        found["jitted stateless_call"] = jitted
    onnx_pass = onnxruntime_pass(model, predictor.class_names)
    if onnx_pass is not None:
        found["onnxruntime (ONNX export)"] = onnx_pass
    found["model.predict"] = lambda images: model.predict(images, verbose=0)
    found["model(x)"] = lambda images: keras.ops.convert_to_numpy(model(images, training=False))
    return found


def onnxruntime_pass(model: keras.Model, class_names):
    """onnxruntime on the exported model, or None (with a note) without the onnx extra."""
    from fashion_mlp.export.extra import require_onnx

    try:
        require_onnx("the onnxruntime row")
    except ConfigError as error:
        print(f"skipped: {error}")
        return None
    from fashion_mlp.export.onnx_runtime import onnx_forward

    return onnx_forward(model, class_names)


def seed_model_run(data, folder: Path) -> RunDir:
    """A run folder holding the notebook's (untrained) Sequential model and class names."""
    run = RunDir(folder)
    run.save_model(build_model(MLPSpec(), style="sequential", data=data))
    run.write_metrics({"class_names": list(data.class_names)})
    return run


def benchmark(args) -> list[dict]:
    data = load_dataset("fashion", data_dir=args.data_dir, download=False)
    if args.run_dir:
        predictor = Predictor.load(args.run_dir)
    else:
        predictor = Predictor.load(seed_model_run(data, Path(tempfile.mkdtemp())))
    one, batch = data.x_test[:1], data.x_test[: args.batch]
    results = []
    for name, function in methods(predictor.model, predictor).items():
        single = timings(function, one, args.repeats) * 1e6
        batched = timings(function, batch, args.batch_repeats)
        results.append(
            {
                "method": name,
                "p50_us": float(np.percentile(single, 50)),
                "p99_us": float(np.percentile(single, 99)),
                "images_per_second": len(batch) / float(np.median(batched)),
            }
        )
        print(f"{name}: p50 {results[-1]['p50_us']:.1f} us", flush=True)
    return results


def print_table(results: list[dict], batch: int) -> None:
    table = Table(title=f"Latency of one image; throughput on batches of {batch}")
    for column in ("method", "p50 µs", "p99 µs", "images / s"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for r in results:
        table.add_row(
            r["method"],
            f"{r['p50_us']:.1f}",
            f"{r['p99_us']:.1f}",
            f"{r['images_per_second']:,.0f}",
        )
    Console(width=110).print(table)  # wide enough for the whole table, also when piped


def main(argv=None) -> None:
    args = parse_args(argv)
    results = benchmark(args)
    report = {"machine": environment(), "arguments": vars(args), "results": results}
    Path(args.output).write_text(json.dumps(report, indent=2))
    print(f"results written to {args.output}")
    print_table(results, args.batch)


if __name__ == "__main__":
    main()
