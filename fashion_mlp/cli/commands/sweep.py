"""`fashion-mlp sweep`: train a sweep's trials as populations, here or on Ray, with one progress
display for the whole sweep, then print the ranking (by validation accuracy) and where
everything is."""

from __future__ import annotations

import argparse
import importlib

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fashion_mlp.cli.sweep_options import chosen_backend, ray_settings, sweep_table
from fashion_mlp.cli.tables import compact_table, console
from fashion_mlp.cli.tracking import open_tracker, report_tracking
from fashion_mlp.models import check_trusted_code
from fashion_mlp.sweeps.axis_figures import shown_setting
from fashion_mlp.sweeps.backends import ray_config
from fashion_mlp.sweeps.folder import SweepDir
from fashion_mlp.sweeps.local import resume_sweep, run_sweep
from fashion_mlp.sweeps.spec import read_sweep_file, sweep_spec
from fashion_mlp.tracking import SweepTracker

SHOWN_TRIALS = 10  # rows of the ranking printed at the end; results.csv has every trial


class SweepProgress:
    """One bar over every member-epoch of the sweep: trials done, best so far, time left."""

    def __init__(self, out):
        self.out = out
        self.progress = None
        self.folder = None
        self.done = self.total = 0
        self.best = None

    def __call__(self, kind, **details):
        getattr(self, f"on_{kind}")(**details)

    def on_start(self, folder, trials, finished, member_epochs):
        self.folder, self.total, self.done = folder, trials, finished
        note = f" ({finished} already finished)" if finished else ""
        self.out.print(f"sweep folder: {folder}\n{trials} trials{note}", soft_wrap=True)
        self.progress = Progress(
            TextColumn("{task.fields[trials]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("member-epochs  best val {task.fields[best]}"),
            TimeRemainingColumn(),
            console=self.out,
            transient=True,
            disable=not self.out.is_terminal,
        )
        self.task = self.progress.add_task(
            "sweep", total=member_epochs, trials=self._trials(), best="-"
        )
        self.progress.start()

    def _trials(self) -> str:
        return f"trials {self.done}/{self.total}"

    def on_population(self, number, members, node=None, pid=None, retry=0):
        where = "" if node is None else f" on Ray node {node[:8]} (pid {pid})"
        again = f", retry {retry}" if retry else ""
        self.out.print(f"population {number}: {members} members trained together{where}{again}")

    def on_epoch(self, member_epochs, best):
        if best is not None:
            self.best = best if self.best is None else max(self.best, best)
        self.progress.update(self.task, advance=member_epochs, best=f"{self.best:.2%}")

    def on_trial(self, trial, run, metrics, remaining_epochs):
        self.done += 1
        self.progress.update(self.task, advance=remaining_epochs, trials=self._trials())
        settings = "  ".join(
            f"{key.split('.')[-1]}={shown_setting(value)}" for key, value in trial.settings.items()
        )
        validation = metrics.get("validation", {}).get("accuracy")
        shown = "" if validation is None else f"val {validation:.2%}  "
        self.out.print(
            f"trial {trial.index:>3}  {settings}  {shown}test "
            f"{metrics['test_accuracy']:.2%}  {run.name}",
            soft_wrap=True,
        )

    def on_ensemble(self, run, metrics):
        mean = metrics["ensemble"]["mean_member_test_accuracy"]
        self.out.print(
            f"ensemble {run.name}: test {metrics['test_accuracy']:.2%} (members' mean {mean:.2%})",
            soft_wrap=True,
        )

    def stop(self):
        if self.progress is not None:
            self.progress.stop()


def ranking_table(rows, keys):
    table = compact_table(title="Trials by validation accuracy (test reported, not used)")
    for header in ("rank", *(key.split(".")[-1] for key in keys), "val acc", "test acc", "run"):
        table.add_column(header, justify="left" if header == "run" else "right")
    for row in rows[:SHOWN_TRIALS]:
        table.add_row(
            str(row["rank"]),
            *(shown_setting(row[key]) for key in keys),
            "" if row["val_accuracy"] is None else f"{row['val_accuracy']:.2%}",
            f"{row['test_accuracy']:.2%}",
            row["run"],
        )
    return table


def run(args: argparse.Namespace) -> int:
    out = console()
    progress = SweepProgress(out)
    tracker = open_tracker(args, out, SweepTracker)  # before training: an unreachable store fails
    events = tracker.chained(progress)
    try:
        result = resume(args, events) if args.resume else start(args, events)
    except KeyboardInterrupt:
        tracker.fail("KILLED")
        progress.stop()
        if progress.progress is not None:
            folder = args.resume or progress.folder
            out.print(
                "interrupted: finished trials are kept; continue with\n"
                f"  fashion-mlp sweep --resume {folder}",
                soft_wrap=True,
            )
        raise
    except Exception:
        tracker.fail()
        raise
    progress.stop()
    keys = [key for key in (result.rows[0] if result.rows else {}) if "." in key]
    out.print(ranking_table(result.rows, keys))
    out.print(f"results: {result.sweep_dir / 'results.csv'}", soft_wrap=True)
    out.print(f"report: {result.sweep_dir / 'report.html'}", soft_wrap=True)
    tracker.finish(result.sweep_dir)
    report_tracking(tracker, args, out, result.sweep_dir)
    return 0


def start(args: argparse.Namespace, progress: SweepProgress):
    """A new sweep from the sweep file and flags, on the chosen backend."""
    backend = chosen_backend(args)
    settings = ray_config({}, **ray_settings(args)) if backend == "ray" else None
    table = sweep_table(args)
    spec = read_sweep_file(args.sweep_file, table) if args.sweep_file else sweep_spec(table)
    if backend == "ray":
        return ray_backend().run_sweep_on_ray(
            spec, args.sweeps_dir, args.runs_dir, settings, on_event=progress
        )
    return run_sweep(spec, args.sweeps_dir, args.runs_dir, on_event=progress)


def resume(args: argparse.Namespace, progress: SweepProgress):
    """A killed sweep finished on the backend it ran on (or --backend), its settings kept
    unless flags change them."""
    folder = SweepDir(args.resume)
    spec = folder.read_spec()  # a clear error when it is not a sweep folder
    for reference in sorted({trial.config.model.user_model for trial in spec.trials()} - {None}):
        check_trusted_code(reference, folder.path, None, args.trust_run_code, kind="sweep")
    stored = folder.read_state().get("backend", {"name": "local"})  # older sweeps: local
    backend = chosen_backend(args, stored["name"])
    if backend == "ray":
        settings = ray_config(stored, **ray_settings(args))
        return ray_backend().resume_sweep_on_ray(args.resume, settings, on_event=progress)
    return resume_sweep(args.resume, on_event=progress)


def ray_backend():
    """The Ray backend module, imported only when asked for (it imports Ray)."""
    return importlib.import_module("fashion_mlp.sweeps.ray_backend")
