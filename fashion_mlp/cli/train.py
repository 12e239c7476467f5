"""`fashion-mlp train`: the notebook's experiment (or any configured one) in one command."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from rich.console import Console

from fashion_mlp.cli.experiment_options import add_experiment_arguments, config_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train, evaluate and save a run (default: the notebook's experiment)",
        description="Train a model, evaluate it on the test set and write a run folder "
        "(config, model, history, metrics, figures, report). With no flags: the notebook's "
        "784-64-32-10 tanh MLP, SGD lr 0.01 momentum 0.9 Nesterov, batch 16, 10 epochs, "
        "validation split 0.1, seed 0.",
    )  # fmt: skip
    add_experiment_arguments(parser)
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"),
                        help="folder that holds the run folders (default: runs)")  # fmt: skip
    parser.add_argument(
        "--name", default=None,
        help="name in the run folder runs/<timestamp>-<name> (default: the preset's name)",
    )  # fmt: skip
    parser.add_argument(
        "--resume", type=Path, metavar="RUN", default=None,
        help="continue an interrupted run from its last checkpoint (other flags are ignored: "
        "the run's own config.toml is used)",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import keras

    from fashion_mlp.evaluation import format_report
    from fashion_mlp.experiment import resume_experiment, run_experiment
    from fashion_mlp.progress import RichProgress
    from fashion_mlp.training import resolve_engine

    console = Console()
    started: dict = {}

    def on_start(run_dir, model, config):
        started["run_dir"] = run_dir
        model.summary(print_fn=lambda line, *a, **k: console.print(line, highlight=False))
        engine = resolve_engine(config.training.engine)
        chosen = (
            f" (auto, on the {keras.backend.backend()} backend)"
            if config.training.engine == "auto"
            else ""
        )
        console.print(f"engine: {engine}{chosen}")
        console.print(f"run folder: {run_dir}", soft_wrap=True)

    progress = [RichProgress(console)]
    try:
        if args.resume:
            result = resume_experiment(args.resume, callbacks=progress, on_start=on_start)
        else:
            config = config_from_args(args)
            if args.name:
                config = dataclasses.replace(config, name=args.name)
            result = run_experiment(config, args.runs_dir, callbacks=progress, on_start=on_start)
    except KeyboardInterrupt:
        if "run_dir" in started:
            console.print(
                f"interrupted: the last finished epoch is saved; continue with\n"
                f"  fashion-mlp train --resume {started['run_dir']}"
            )
        raise
    console.print(format_report(result.metrics))
    console.print(
        f"test accuracy {result.metrics['test_accuracy']:.2%} "
        f"({result.metrics['engine']} engine, {result.metrics['timings']['train_seconds']:.1f} s "
        f"training)"
    )
    console.print(f"run folder: {result.run_dir}", soft_wrap=True)
    console.print(f"report: {result.run_dir / 'report.html'}", soft_wrap=True)
    return 0
