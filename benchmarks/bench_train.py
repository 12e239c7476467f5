"""Training speed: Keras `fit` (default and with steps_per_execution) against the compiled engine.

Run by hand: `python benchmarks/bench_train.py --epochs 5`. The engines train the notebook's
model (784-64-32-10 tanh, SGD 0.01 momentum 0.9 Nesterov, batch 16, last 10 % for validation)
from the same initial weights, one epoch each in turn, so machine noise falls on all of them.
The first epoch (which includes compilation) is reported apart; seconds per epoch is the median
of the others. Prints a table last and writes the results as JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
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
from fashion_mlp.experiment import environment
from fashion_mlp.models import build_model
from fashion_mlp.training.compiled import fit_compiled


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per engine (default 5, >= 2)")
    parser.add_argument("--batch-size", type=int, default=16, help="default 16, the notebook's")
    parser.add_argument(
        "--steps-per-execution",
        default="100",
        help="comma-separated values to try for fit's steps_per_execution (default 100: on "
        "the 2-core machine 10 took 0.43 s per epoch, 100 0.36 s, 1000 0.35 s)",
    )
    parser.add_argument(
        "--engines",
        default="fit,fit_spe,compiled",
        help="comma-separated subset of fit, fit_spe, compiled (default all three)",
    )
    parser.add_argument("--tensorflow", action="store_true", help="also time TensorFlow's fit")
    parser.add_argument("--seed", type=int, default=0, help="initial weights and shuffling (0)")
    parser.add_argument(
        "--data-dir", default=None, help="folder of the IDX files (default: search)"
    )
    parser.add_argument(
        "--output", default="bench_train.json", help="JSON results path (default bench_train.json)"
    )
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch includes compilation")
    return args


def seed_model(x_train: np.ndarray, seed: int, steps_per_execution: int = 1) -> keras.Model:
    """The notebook's model, with the same initial weights for every engine."""
    keras.utils.set_random_seed(seed)
    model = build_model(MLPSpec(), style="functional", x_train=x_train)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def epoch_runners(args, train, validation) -> dict:
    """Engine name -> (model, function that trains it for one given epoch)."""
    runners = {}
    engines = args.engines.split(",")

    def fit_runner(model):
        def run(epoch):
            model.fit(
                *train,
                batch_size=args.batch_size,
                epochs=epoch + 1,
                initial_epoch=epoch,
                validation_data=validation,
                verbose=0,
            )

        return model, run

    if "fit" in engines:
        runners["keras fit"] = fit_runner(seed_model(train[0], args.seed))
    if "fit_spe" in engines:
        for steps in map(int, args.steps_per_execution.split(",")):
            model = seed_model(train[0], args.seed, steps)
            runners[f"keras fit spe={steps}"] = fit_runner(model)
    if "compiled" in engines:
        model = seed_model(train[0], args.seed)

        def run_compiled(epoch):
            fit_compiled(
                model,
                *train,
                epochs=epoch + 1,
                initial_epoch=epoch,
                batch_size=args.batch_size,
                validation_data=validation,
                seed=args.seed,
            )

        runners["compiled"] = (model, run_compiled)
    return runners


def benchmark(args) -> list[dict]:
    """Train every engine epoch by epoch in turn; time each epoch; then test accuracy."""
    data = load_dataset("fashion", data_dir=args.data_dir, download=False)
    split = int(len(data.x_train) * 0.9)  # fit's validation_split=0.1: the last 10 %, unshuffled
    train = data.x_train[:split], data.y_train[:split]
    validation = data.x_train[split:], data.y_train[split:]
    runners = epoch_runners(args, train, validation)
    seconds = {name: [] for name in runners}
    for epoch in range(args.epochs):
        for name, (_, run) in runners.items():
            start = time.perf_counter()
            run(epoch)
            seconds[name].append(time.perf_counter() - start)
            print(f"epoch {epoch + 1}: {name}: {seconds[name][-1]:.2f} s", flush=True)
    results = []
    for name, (model, _) in runners.items():
        _, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=1024, verbose=0)
        results.append(
            {
                "engine": name,
                "backend": keras.backend.backend(),
                "first_epoch_seconds": seconds[name][0],
                "seconds_per_epoch": statistics.median(seconds[name][1:]),
                "epoch_seconds": seconds[name],
                "test_accuracy": accuracy,
            }
        )
    return results


def tensorflow_results(args) -> list[dict]:
    """TensorFlow's fit, timed by this script in a child process with KERAS_BACKEND=tensorflow."""
    if importlib.util.find_spec("tensorflow") is None:
        print("TensorFlow is not installed: its fit is not timed")
        return []
    output = Path(args.output).with_suffix(".tensorflow.json")
    command = [sys.executable, __file__, "--engines", "fit", "--output", str(output)]
    command += ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size)]
    command += ["--seed", str(args.seed)] + (["--data-dir", args.data_dir] if args.data_dir else [])
    subprocess.run(command, check=True, env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    return json.loads(output.read_text())["results"]


def print_table(results: list[dict]) -> None:
    """Seconds per epoch and ratios against default fit and the best steps_per_execution."""
    jax_fits = [r for r in results if r["backend"] == "jax" and r["engine"].startswith("keras")]
    default = [r["seconds_per_epoch"] for r in jax_fits if r["engine"] == "keras fit"]
    tuned = [r["seconds_per_epoch"] for r in jax_fits if r["engine"] != "keras fit"]
    baselines = {"vs fit": min(default, default=None), "vs best spe": min(tuned, default=None)}
    table = Table(title="Seconds per epoch (median after the 1st, which includes compiling)")
    for column in ("engine", "backend", "1st epoch s", "s / epoch", *baselines, "test acc"):
        justify = "left" if column in ("engine", "backend") else "right"
        table.add_column(column, justify=justify, no_wrap=True)
    for r in results:
        ratios = [
            "-" if seconds is None else f"{seconds / r['seconds_per_epoch']:.2f}x"
            for seconds in baselines.values()
        ]
        table.add_row(
            r["engine"],
            r["backend"],
            f"{r['first_epoch_seconds']:.2f}",
            f"{r['seconds_per_epoch']:.3f}",
            *ratios,
            f"{r['test_accuracy']:.4f}",
        )
    Console(width=110).print(table)  # wide enough for the whole table, also when piped


def main(argv=None) -> None:
    args = parse_args(argv)
    results = benchmark(args)
    if args.tensorflow:
        results += tensorflow_results(args)
    report = {"machine": environment(), "arguments": vars(args), "results": results}
    Path(args.output).write_text(json.dumps(report, indent=2))
    print(f"results written to {args.output}")
    print_table(results)


if __name__ == "__main__":
    main()
