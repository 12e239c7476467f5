"""The CLI's side of tracking: open what the flags ask for before training, and say what
became of it afterwards (the run folder is complete either way)."""

from __future__ import annotations

import argparse

from fashion_mlp.errors import RunError
from fashion_mlp.tracking import open_store
from fashion_mlp.tracking.live import Tracker
from fashion_mlp.tracking.tensorboard import require_tensorboard


def open_tracker(args: argparse.Namespace, out, kind: type[Tracker]) -> Tracker:
    """The tracker of the flags (empty when none is given), checked before any training."""
    store = None
    if args.mlflow is not None:
        try:
            store = open_store(args.mlflow or None)
        except RunError as error:
            if not args.mlflow_optional:
                raise
            out.print(f"warning: {error}; going on without MLflow", soft_wrap=True)
    if args.tensorboard is not None:
        require_tensorboard()
    return kind(store, args.tensorboard, args.mlflow_model, preset_tag(args))


def preset_tag(args: argparse.Namespace) -> dict[str, str]:
    """{"preset": the --preset} for a new run or sweep (a resumed one keeps its config's)."""
    preset = getattr(args, "preset", None)
    return {"preset": preset} if preset and not args.resume else {}


def report_tracking(tracker: Tracker, args: argparse.Namespace, out, folder) -> None:
    """Where the results went; a RunError (or a warning with --mlflow-optional) when MLflow
    failed on the way, naming the complete local folder and how to log it later."""
    if tracker.store is not None and tracker.problem is None:
        out.print(f"MLflow: experiment 'fashion-mlp' in {tracker.store.uri}", soft_wrap=True)
    if tracker.tensorboard_dir is not None:
        out.print(f"TensorBoard: tensorboard --logdir {tracker.tensorboard_dir}", soft_wrap=True)
    if tracker.problem is None:
        return
    message = (
        f"MLflow logging failed ({type(tracker.problem).__name__}: {tracker.problem}); "
        f"{folder} is complete: log it later with `fashion-mlp runs --to-mlflow URI`"
    )
    if not args.mlflow_optional:
        raise RunError(message)
    out.print(f"warning: {message}", soft_wrap=True)
