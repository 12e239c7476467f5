"""The flags of `fashion-mlp sweep` and `fashion-mlp ensemble`, and their translation into a
sweep file's tables. Keras-free, like the rest of the parser.

Every swept flag takes one or more values: one value sets the base config, several make an
axis (`--learning-rate 0.003 0.01 0.03 --seeds 0-3` is a 3 x 4 grid).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fashion_mlp.cli.options import add_data_arguments
from fashion_mlp.config import OPTIMIZERS, SweepConfig
from fashion_mlp.errors import ConfigError
from fashion_mlp.presets import PRESETS
from fashion_mlp.sweeps.backends import BACKENDS, SCHEDULERS, RayConfig
from fashion_mlp.sweeps.spec import parse_seeds

SWEEPS_DIR = Path("sweeps")  # where sweep folders go, beside runs/
AXIS_PREFIX = "axis:"  # dest prefix of the swept flags: "axis:optimizer.learning_rate"


def layer_sizes(text: str) -> list[int]:
    """--hidden's value: '256-128' is two hidden layers, 256 then 128 units; '64' is one."""
    try:
        sizes = [int(size) for size in text.split("-")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected units per layer joined by '-', such as 64 or 256-128"
        )
    return sizes


# flag, config key, value type, help
AXIS_FLAGS = (
    (
        "--hidden",
        "model.hidden",
        layer_sizes,
        "hidden layers, one network per value: units per layer joined by '-', input side "
        "first (64 128 = two trials of one layer; 256-128 = one trial of two layers)",
    ),
    ("--learning-rate", "optimizer.learning_rate", float, "learning rates (LR ...)"),
    ("--seeds", "training.seed", str, "seeds: a list and/or ranges, e.g. 0-4 or 0 3 7"),
    ("--momentum", "optimizer.momentum", float, "momentum values, sgd and rmsprop"),
    ("--weight-decay", "optimizer.weight_decay", float, "decoupled weight decay rates"),
    ("--label-smoothing", "optimizer.label_smoothing", float, "label smoothing values"),
    ("--optimizer", "optimizer.optimizer", str, f"optimizers ({', '.join(OPTIMIZERS)})"),
    ("--dropout", "model.dropout", float, "dropout rates (one per trial, every layer)"),
    ("--activation", "model.activation", str, "hidden activations (Keras names)"),
    ("--l2", "model.l2", float, "L2 penalty factors"),
    ("--teacher", "distill.teacher", str, "teacher runs to distill from (RUN ...)"),
    ("--temperature", "distill.temperature", float, "distillation temperatures (with --teacher)"),
    ("--alpha", "distill.alpha", float, "weights of the teacher's term (with --teacher)"),
    ("--epochs", "training.epochs", int, "epochs"),
    ("--batch-size", "training.batch_size", int, "batch sizes"),
    ("--train-limit", "data.train_limit", int, "training images used (0 = all)"),
    ("--test-limit", "data.test_limit", int, "test images used (0 = all)"),
    ("--early-stopping", "training.early_stopping_patience", int, "patience (-1 = off)"),
    (
        "--validation-split",
        "training.validation_split",
        float,
        "fractions held out for validation, which ranks the trials (0 is refused)",
    ),
)

# flag, RayConfig field, value type, help (each flag's default: RayConfig's, or the resumed sweep's)
RAY_FLAGS = (
    (
        "--address",
        "address",
        str,
        "Ray cluster to join: auto (the one this machine joined with "
        "`ray start`) or HOST:PORT of its head node; none = start a Ray on this machine",
    ),
    ("--cpus-per-trial", "cpus_per_trial", float, "CPUs Ray reserves per population"),
    ("--gpus-per-trial", "gpus_per_trial", float, "GPUs per population; 0.25 shares one by four"),
    (
        "--scheduler",
        "scheduler",
        str,
        f"{' or '.join(SCHEDULERS)}: asha stops poor populations "
        "early (their runs keep the partial history, marked stopped_early)",
    ),
    ("--grace-period", "grace_period", int, "asha: epochs before a population may be stopped"),
    ("--reduction-factor", "reduction_factor", int, "asha: 1 in N populations go on per rung"),
    ("--max-failures", "max_failures", int, "retries of a population whose worker died"),
)


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Sweep file, base config, the swept flags, trial drawing and outputs."""
    parser.add_argument(
        "sweep_file",
        nargs="?",
        type=Path,
        metavar="SWEEP.toml",
        help="sweep file: preset, base config, [axes], [sweep] (default: none, flags only)",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="base configuration (default: the sweep file's, else notebook)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="config file over the preset (default: none)",
    )
    parser.add_argument("--name", help="sweep name, also in its runs' names (default: preset)")
    add_data_arguments(parser.add_argument_group("data"))
    group = parser.add_argument_group(
        "swept settings", "one value sets it for every trial; several values make an axis"
    )
    for flag, key, kind, what in AXIS_FLAGS:
        group.add_argument(
            flag,
            dest=f"{AXIS_PREFIX}{key}",
            nargs="+",
            type=kind,
            metavar="V",
            help=f"{what} (config key {key}; default: the base config's)",
        )
    drawing = parser.add_argument_group("trials and outputs")
    for flag, key, what in (
        ("--samples", "samples", "random trials drawn from the axes; 0 = the whole grid"),
        ("--sample-seed", "sample_seed", "seed of that draw"),
        (
            "--members-per-population",
            "members_per_population",
            "most members trained in one program; 0 = as many as memory allows",
        ),
        ("--ensemble", "ensemble", "also ensemble the top K trials by validation; 0 = none"),
        (
            "--figures-top",
            "figures_top",
            "draw run figures for the top N by validation; 0 = none (report --figures later)",
        ),
        (
            "--max-trials",
            "max_trials",
            "refuse sweeps of more trials (counted before any is built)",
        ),
    ):
        drawing.add_argument(
            flag,
            dest=f"sweep.{key}",
            type=int,
            metavar="N",
            help=f"{what} (default: {getattr(SweepConfig, key)})",
        )
    drawing.add_argument(
        "--sweeps-dir",
        type=Path,
        default=SWEEPS_DIR,
        metavar="FOLDER",
        help=f"folder that holds sweep folders (default: {SWEEPS_DIR})",
    )
    drawing.add_argument(
        "--resume",
        type=Path,
        metavar="SWEEP_DIR",
        help="finish a killed sweep: finished trials are kept, the rest continue (other flags "
        "are ignored: the sweep folder's sweep.toml is used; the backend flags may change how)",
    )
    drawing.add_argument(
        "--trust-run-code",
        action="store_true",
        help="with --resume: import the model code the sweep's sweep.toml names "
        "(model.user_model); only for sweep folders you trust (default: off, refused)",
    )
    where = parser.add_argument_group(
        "where populations train",
        "each population (trials that share a compiled program) "
        "trains in this process (local) or as one Ray Tune trial (ray: pip install "
        "'fashion-mlp[ray]'); runs/ and sweeps/ must be reachable from every Ray node",
    )
    add_backend_arguments(where)


def add_backend_arguments(group) -> None:
    """--backend and the Ray backend's flags (used with --backend ray only)."""
    group.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="local: one population after another here; ray: on Ray Tune, several at once, "
        "on this machine or a cluster (default: local, or the resumed sweep's)",
    )
    for flag, key, kind, what in RAY_FLAGS:
        default = getattr(RayConfig, key)
        group.add_argument(
            flag,
            dest=f"ray.{key}",
            type=kind,
            metavar={int: "N", float: "X"}.get(kind, key.upper()),
            choices=SCHEDULERS if key == "scheduler" else None,
            help=f"{what} (default: {'none' if default is None else default})",
        )


def ray_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Ray flags given (RayConfig field -> value)."""
    return {
        dest.removeprefix("ray."): value
        for dest, value in vars(args).items()
        if dest.startswith("ray.") and value is not None
    }


def chosen_backend(args: argparse.Namespace, stored: str = "local") -> str:
    """--backend, else `stored` (the resumed sweep's); Ray flags without Ray are an error."""
    backend = args.backend or stored
    given = ray_settings(args)
    if given and backend != "ray":
        flags = ", ".join(flag for flag, key, *_ in RAY_FLAGS if key in given)
        raise ConfigError(f"{flags}: for --backend ray only (this sweep runs on {backend})")
    return backend


def seed_values(texts: list[str], max_trials: int | None) -> list[int] | dict:
    """--seeds as values: listed up to max_trials; one longer range stays a { range = [low,
    high] } axis (to draw from with --samples), never listed; several longer ones are refused."""
    ranges = [parse_seeds(text) for text in texts]
    count, limit = sum(map(len, ranges)), max_trials or SweepConfig.max_trials
    if count <= limit:
        return [seed for seeds in ranges for seed in seeds]
    if len(ranges) == 1:
        return {"range": [ranges[0].start, ranges[0].stop - 1]}
    raise ConfigError(
        f"--seeds {' '.join(texts)}: {count:,} seeds, more than max_trials = {limit:,}; give "
        "one range alone (drawn from with --samples N) or pass --max-trials"
    )


def sweep_table(args: argparse.Namespace) -> dict[str, Any]:
    """The flags given, as a sweep file's tables (name, preset, base, axes, sweep)."""
    table: dict[str, Any] = {"base": {}, "axes": {}, "sweep": {}}
    for dest, values in vars(args).items():
        if values is None:
            continue
        if dest.startswith(AXIS_PREFIX):
            key = dest.removeprefix(AXIS_PREFIX)
            if key == "training.seed":
                values = seed_values(values, getattr(args, "sweep.max_trials", None))
            if isinstance(values, dict) or len(values) > 1:
                table["axes"][key] = values if isinstance(values, dict) else list(values)
            else:
                section, name = key.split(".")
                table["base"].setdefault(section, {})[name] = values[0]
        elif dest.startswith("data."):
            table["base"].setdefault("data", {})[dest.removeprefix("data.")] = values
        elif dest.startswith("sweep."):
            table["sweep"][dest.removeprefix("sweep.")] = values
    for key in ("name", "preset"):
        if getattr(args, key, None):
            table[key] = getattr(args, key)
    if getattr(args, "config", None):
        table["config"] = str(args.config.resolve())
    return {key: value for key, value in table.items() if value != {}}
