"""Training speed: Keras `fit` (default and with steps_per_execution) against the compiled engine.

Run by hand: `python benchmarks/bench_train.py` (about 5 minutes on 2 cores). Every variant
trains the notebook's model (784-64-32-10 tanh, SGD 0.01 momentum 0.9 Nesterov, batch 16, the
last 10 % for validation) from the same initial weights, in ITS OWN PROCESS: in one process,
after `fit` with steps_per_execution had run, the compiled engine ran 60 % slower. A round runs
every variant once, in a rotated order; the rounds interleave so that a busy machine slows all
variants alike, and each figure is the median over the rounds. Within a run, an epoch is timed
from `on_epoch_begin` to `on_epoch_end` (validation included); the first epoch (compilation
included) is reported apart, seconds per epoch is the median of the others. Prints a table last
and writes the results, every round's included, as JSON.
"""

from __future__ import annotations

import argparse
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
from rounds import interleaved_rounds  # benchmarks/, the script's own folder

from fashion_mlp.config import MLPSpec
from fashion_mlp.datasets import load_dataset
from fashion_mlp.experiment import environment
from fashion_mlp.models import build_model
from fashion_mlp.subsets import integer_labels, split_validation
from fashion_mlp.training.compiled import fit_compiled

VALIDATION_SPLIT = 0.1  # the notebook's
FIT = "keras fit"
COMPILED = "compiled engine"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (default 5, >= 2)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of every variant (default 3)"
    )
    parser.add_argument("--batch-size", type=int, default=16, help="default 16, the notebook's")
    parser.add_argument(
        "--steps-per-execution",
        default="10,100,1000",
        help="comma-separated values of fit's steps_per_execution to time (default 10,100,1000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="initial weights and shuffling (0)")
    parser.add_argument(
        "--data-dir", default=None, help="folder of the IDX files (default: search)"
    )
    parser.add_argument(
        "--output", default="bench_train.json", help="JSON results path (default bench_train.json)"
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # set for the child processes
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch includes compilation")
    return args


def variant_names(args) -> list[str]:
    """Default fit, fit with each steps_per_execution, the compiled engine."""
    tuned = [f"{FIT} spe={steps}" for steps in args.steps_per_execution.split(",")]
    return [FIT, *tuned, COMPILED]


def seed_model(x_train: np.ndarray, seed: int, steps_per_execution: int = 1) -> keras.Model:
    """The notebook's model, with the same initial weights in every process."""
    keras.utils.set_random_seed(seed)
    model = build_model(MLPSpec(), style="functional", x_train=x_train)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


class EpochTimer(keras.callbacks.Callback):
    """Seconds from each epoch's begin to its end (training and validation)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


def run_variant(args, name: str) -> dict:
    """Train one variant for args.epochs epochs in this process; its timings and test accuracy."""
    data = load_dataset("fashion", data_dir=args.data_dir, download=False)
    x, y, x_val, y_val = split_validation(
        data.x_train, integer_labels(data.y_train), VALIDATION_SPLIT
    )
    steps = int(name.split("=")[1]) if "spe=" in name else 1
    model = seed_model(x, args.seed, steps)
    timer = EpochTimer()
    settings = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "validation_data": (x_val, y_val),
        "callbacks": [timer],
    }
    if name == COMPILED:
        fit_compiled(model, x, y, seed=args.seed, **settings)
    else:
        model.fit(x, y, shuffle=True, verbose=0, **settings)
    _, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=1024, verbose=0)
    return {
        "variant": name,
        "first_epoch_seconds": timer.seconds[0],
        "seconds_per_epoch": statistics.median(timer.seconds[1:]),
        "epoch_seconds": timer.seconds,
        "test_accuracy": accuracy,
    }


def run_child(args, name: str) -> dict:
    """Run one variant in a fresh process; its result, with the load average around it."""
    command = [
        sys.executable,
        __file__,
        "--variant",
        name,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--seed",
        str(args.seed),
    ]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    load_before = os.getloadavg()[0]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return result | {"load_before": load_before, "load_after": os.getloadavg()[0]}


def benchmark(args) -> dict[str, list[dict]]:
    """Every variant once per round, the rounds interleaved; variant -> its rounds."""
    return interleaved_rounds(
        variant_names(args),
        args.rounds,
        lambda name: run_child(args, name),
        lambda result: (
            f"{result['seconds_per_epoch']:.3f} s/epoch (load {result['load_before']:.1f})"
        ),
    )


def summarize(rounds: dict[str, list[dict]]) -> list[dict]:
    """Per variant, the median over rounds of each figure, and its ratios to the fit baselines."""
    summary = []
    for name, results in rounds.items():
        row = {"variant": name}
        for key in ("first_epoch_seconds", "seconds_per_epoch", "test_accuracy"):
            row[key] = statistics.median(result[key] for result in results)
        summary.append(row)
    fit_seconds = next(row["seconds_per_epoch"] for row in summary if row["variant"] == FIT)
    tuned = [row for row in summary if "spe=" in row["variant"]]
    best = min(tuned, key=lambda row: row["seconds_per_epoch"], default=None)
    for row in summary:
        row["vs_fit"] = fit_seconds / row["seconds_per_epoch"]
        row["vs_best_spe_fit"] = best and best["seconds_per_epoch"] / row["seconds_per_epoch"]
        row["best_spe"] = row is best
    return summary


def print_table(summary: list[dict], rounds: int, load: tuple[float, float]) -> None:
    """The table the docs quote: first epoch, seconds per epoch, ratios, test accuracy."""
    title = (
        f"Notebook model, batch 16: medians of {rounds} rounds, a process per run "
        f"(load average {load[0]:.1f} -> {load[1]:.1f})"
    )
    table = Table(title=title)
    for column in ("variant", "1st epoch s", "s / epoch", "vs fit", "vs best-spe fit", "test acc"):
        table.add_column(column, justify="left" if column == "variant" else "right", no_wrap=True)
    for row in summary:
        best = row["vs_best_spe_fit"]
        table.add_row(
            row["variant"] + (" (best spe)" if row["best_spe"] else ""),
            f"{row['first_epoch_seconds']:.2f}",
            f"{row['seconds_per_epoch']:.3f}",
            f"{row['vs_fit']:.2f}x",
            "-" if best is None else f"{best:.2f}x",
            f"{row['test_accuracy']:.4f}",
        )
    Console(width=120).print(table)  # wide enough for the whole table, also when piped


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.variant:
        print(json.dumps(run_variant(args, args.variant)))
        return
    load_before = os.getloadavg()[0]
    rounds = benchmark(args)
    load = (load_before, os.getloadavg()[0])
    summary = summarize(rounds)
    report = {
        "machine": environment(),
        "arguments": vars(args),
        "load_average": load,
        "summary": summary,
        "rounds": rounds,
    }
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {args.output}")
    print_table(summary, args.rounds, load)


if __name__ == "__main__":
    main()
