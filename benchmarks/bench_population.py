"""Populations: models trained per second by K-member populations against one at a time.

Run by hand: `python benchmarks/bench_population.py` (about 15 minutes on 2 cores). Every variant
trains the notebook's model (784-64-32-10 tanh, SGD 0.01 momentum 0.9 Nesterov, batch 16,
the last 10 % for validation; `--preset best` or `fast`: that preset's network, optimizer and
batch size) on the full training set, in its own process: the single-model
compiled engine one member at a time, then populations of K = 1, 5, 8, 32, 128 members (seeds
0..K-1), each trained as the library splits it by default (on a CPU, programs of at most 4
members per core, in turn); "K/P" trains K members in programs of P (e.g. 32/32: one program).
The first call (compilation and one epoch) is reported apart; the rate is model-epochs per
second over the timed epochs, and peak memory is the process's VmHWM. Every variant runs once
per round, the rounds interleaved in a rotated order, and each figure is the median over the
rounds: single runs vary by a third between processes on a shared machine. Prints a table last
and writes every round as JSON. JAX's devices: one per core, as the package sets on import.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import fashion_mlp  # noqa: F401  (selects the JAX backend before Keras is imported)

# isort: split
import jax
import keras
from rich.console import Console
from rich.table import Table
from rounds import interleaved_rounds  # benchmarks/, the script's own folder

from fashion_mlp.config import ExperimentConfig, build_config
from fashion_mlp.datasets import load_dataset
from fashion_mlp.experiment import (
    build_configured_model,
    compile_configured_model,
    environment,
)
from fashion_mlp.models import build_model
from fashion_mlp.presets import preset
from fashion_mlp.subsets import integer_labels, split_validation
from fashion_mlp.training.compiled import fit_compiled
from fashion_mlp.training.population import train_population
from fashion_mlp.training.population.placement import padded_size
from fashion_mlp.training.population.planning import members_per_program_for

VALIDATION_SPLIT = 0.1  # the notebook's


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1,5,8,32,32/32,128",
        help="population sizes, K or K/P (1,5,8,32,32/32,128)",
    )
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per variant (1)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of every variant; medians (3)"
    )
    parser.add_argument(
        "--preset",
        default="notebook",
        help="the models: a preset's network, optimizer and batch size (notebook)",
    )
    parser.add_argument("--batch-size", type=int, help="default: the preset's (notebook: 16)")
    parser.add_argument(
        "--data-dir", default=None, help="folder of the IDX files (default: search)"
    )
    parser.add_argument("--output", default="bench_population.json", help="JSON results path")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # set for the child processes
    return parser.parse_args(argv)


def preset_config(args, seed: int) -> ExperimentConfig:
    """The preset's experiment with the notebook's validation split and the batch size used."""
    training = {"seed": seed, "validation_split": VALIDATION_SPLIT, "batch_size": args.batch_size}
    return build_config(preset(args.preset), {"training": training})


def preset_models(args, data, count: int) -> list[keras.Model]:
    """`count` models of the preset, seeds 0..count-1, compiled as its runs are (the notebook's:
    SGD 0.01, momentum 0.9, Nesterov); the input layer is adapted once and copied."""
    models = []
    for seed in range(count):
        config = preset_config(args, seed)
        keras.utils.set_random_seed(seed)
        if models:
            model = build_model(config.model.spec, config.model.style)
            layer = model.get_layer("normalization")
            layer.set_weights(models[0].get_layer("normalization").get_weights())
            layer.finalize_state()  # its mean and variance constants follow the weights
        else:
            model = build_configured_model(config, data)
        compile_configured_model(model, config, data)
        models.append(model)
    return models


def run_single(args, data) -> dict:
    """The single-model engine: one member, a first epoch, then the timed epochs."""
    model = preset_models(args, data, 1)[0]
    x, y, x_val, y_val = split_validation(
        data.x_train, integer_labels(data.y_train), VALIDATION_SPLIT
    )

    def train(epochs, initial_epoch):
        fit_compiled(
            model,
            x,
            y,
            epochs=epochs,
            initial_epoch=initial_epoch,
            batch_size=args.batch_size,
            validation_data=(x_val, y_val),
        )

    started = time.perf_counter()
    train(1, 0)
    first = time.perf_counter() - started
    started = time.perf_counter()
    train(1 + args.epochs, 1)
    return {"members": 1, "first_call_s": first, "seconds": time.perf_counter() - started}


def run_population(args, data, variant: str) -> dict:
    """A population "K" (programs as the library splits it) or "K/P" (programs of P): a first
    call (compiles, one epoch), then the timed epochs."""
    size, _, per_program = variant.partition("/")
    size = int(size)
    models = preset_models(args, data, size)
    per_program = int(per_program or members_per_program_for(models[0], args.batch_size))
    settings = {
        "seeds": range(size),
        "batch_size": args.batch_size,
        "validation_split": VALIDATION_SPLIT,
        "members_per_program": per_program,
    }
    started = time.perf_counter()
    train_population(models, data, epochs=1, **settings)
    first = time.perf_counter() - started
    started = time.perf_counter()
    train_population(models, data, epochs=args.epochs, **settings)
    return {
        "members": size,
        "per_program": min(size, per_program),
        "first_call_s": first,
        "seconds": time.perf_counter() - started,
        "devices": len(jax.devices()),
        "slots": padded_size(min(size, per_program), per_program, jax.devices()),
    }


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(args) -> None:
    data = load_dataset("fashion", data_dir=args.data_dir)
    if args.variant == "single":
        result = run_single(args, data)
    else:
        result = run_population(args, data, args.variant)
    result |= {"variant": args.variant, "peak_mb": peak_memory_mb()}
    result["model_epochs_per_s"] = result["members"] * args.epochs / result["seconds"]
    print(json.dumps(result))


def run_child(args, variant: str) -> dict:
    """One variant in a fresh process: its result."""
    command = [
        sys.executable,
        __file__,
        "--variant",
        variant,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--preset",
        args.preset,
    ]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def median_result(rounds: list[dict], epochs: int) -> dict:
    """A variant's rounds as one result: the median of each timing and of peak memory."""
    result = dict(rounds[0])
    for key in ("first_call_s", "seconds", "peak_mb"):
        result[key] = statistics.median(round_[key] for round_ in rounds)
    result["model_epochs_per_s"] = result["members"] * epochs / result["seconds"]
    return result


def main(argv=None) -> None:
    args = parse_args(argv)
    args.batch_size = args.batch_size or build_config(preset(args.preset)).training.batch_size
    if args.variant:
        child(args)
        return
    variants = ["single", *args.sizes.split(",")]
    rounds = interleaved_rounds(
        variants,
        args.rounds,
        lambda variant: run_child(args, variant),
        lambda result: f"{result['model_epochs_per_s']:.2f} model-epochs/s",
    )
    results = [median_result(rounds[variant], args.epochs) for variant in variants]
    single = results[0]["model_epochs_per_s"]
    Path(args.output).write_text(
        json.dumps({"environment": environment(), "rounds": rounds}, indent=2) + "\n"
    )
    devices = results[-1].get("devices", 1)
    table = Table(
        title=f"Populations, {args.preset} model, batch {args.batch_size}, full data, "
        f"{devices} JAX device(s), medians of {args.rounds} rounds"
    )
    for header in (
        "variant",
        "first call s",
        "s / epoch",
        "model-epochs / s",
        "vs one at a time",
        "peak MB",
    ):
        table.add_column(header, justify="right" if header != "variant" else "left")
    for result in results:
        name = (
            "single engine, one at a time"
            if result["variant"] == "single"
            else (
                f"population K = {result['members']}, {result['per_program']} per program"
                + (
                    f" (padded to {result['slots']})"
                    if result["slots"] > result["per_program"]
                    else ""
                )
            )
        )
        table.add_row(
            name,
            f"{result['first_call_s']:.2f}",
            f"{result['seconds'] / args.epochs:.2f}",
            f"{result['model_epochs_per_s']:.2f}",
            f"{result['model_epochs_per_s'] / single:.2f}x",
            f"{result['peak_mb']:.0f}",
        )
    Console(width=132).print(table)


if __name__ == "__main__":
    main()
