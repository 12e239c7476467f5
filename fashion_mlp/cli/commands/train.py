"""`fashion-mlp train`: the notebook's experiment (or any configured one) in one command."""

from __future__ import annotations

import argparse

import keras

from fashion_mlp.cli.options import config_from_args
from fashion_mlp.cli.progress import RichProgress
from fashion_mlp.cli.tables import console, metrics_table
from fashion_mlp.cli.tracking import open_tracker, report_tracking
from fashion_mlp.config import ExperimentConfig
from fashion_mlp.ensembles import resume_ensemble
from fashion_mlp.errors import RunError
from fashion_mlp.experiment import resume_experiment, run_experiment
from fashion_mlp.runs import RunDir
from fashion_mlp.tracking import RunTracker
from fashion_mlp.training import resolve_engine


def run(args: argparse.Namespace, config: ExperimentConfig | None = None) -> int:
    """Train `config` (default: the flags'), or resume `args.resume`; print and track it."""
    out = console()
    started: dict = {}
    tracker = open_tracker(args, out, RunTracker)  # before training: an unreachable store fails

    def on_start(run_dir, model, config):
        started["run_dir"] = run_dir
        tracker.start(run_dir)
        model.summary(print_fn=lambda line, *a, **k: out.print(line))
        engine = resolve_engine(config.training.engine)
        automatic = config.training.engine == "auto"
        chosen = f" (auto, on the {keras.backend.backend()} backend)" if automatic else ""
        out.print(f"engine: {engine}{chosen}")
        out.print(f"run folder: {run_dir}", soft_wrap=True)

    progress = [RichProgress(out), tracker.callback()]
    try:
        if args.resume and RunDir(args.resume).is_ensemble:
            result = resume_ensemble(args.resume)
        elif args.resume:
            result = resume_experiment(
                args.resume,
                callbacks=progress,
                on_start=on_start,
                user_model=getattr(args, "model.user_model"),
                trust_code=args.trust_run_code,
            )
        else:
            config = config or config_from_args(args)
            result = run_experiment(config, args.runs_dir, callbacks=progress, on_start=on_start)
    except KeyboardInterrupt:
        tracker.fail("KILLED")
        if "run_dir" in started:
            run_dir = started["run_dir"]
            saved = _what_was_saved(run_dir)
            out.print(
                f"interrupted: {saved}; continue with\n  fashion-mlp train --resume {run_dir}",
                soft_wrap=True,
            )
        raise
    except Exception:
        tracker.fail()
        raise
    tracker.finish(result.run_dir)
    metrics = result.metrics
    out.print(metrics_table(metrics))
    out.print(
        f"test accuracy {metrics['test_accuracy']:.2%} ({metrics['engine']} engine, "
        f"{metrics['timings']['train_seconds']:.1f} s training)"
    )
    out.print(f"run folder: {result.run_dir}", soft_wrap=True)
    out.print(f"report: {result.run_dir / 'report.html'}", soft_wrap=True)
    report_tracking(tracker, args, out, result.run_dir)
    return 0


def _what_was_saved(run_dir) -> str:
    """What an interrupted run kept: its last finished epoch, or only its config."""
    try:
        checkpoint = RunDir(run_dir).read_checkpoint()
    except RunError as error:
        return str(error)
    if checkpoint is None:
        return "no epoch had finished, so resuming starts it over from its saved config"
    return f"epoch {checkpoint.epoch} is saved"
