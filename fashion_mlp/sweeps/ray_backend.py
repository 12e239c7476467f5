"""Run a sweep on Ray (Ray Tune): each population one Tune trial, trained on a worker by the
same `train_runs` as the local backend. The only module that imports Ray.

Storage: trials write their run folders and population checkpoints straight into runs/ and
the sweep folder, so every node must reach those folders at the same absolute path (one
machine, or shared storage such as NFS); the driver writes trials.json (creating every run
folder before a trial starts), then results.csv, the figures and report.html, as locally.
Tune's own state and logs go to the sweep folder's ray/ folder.

Early stopping (`scheduler="asha"`): ASHA compares populations by their best member's
validation accuracy after each epoch and ends the poor ones; the driver then finishes their
runs from their last checkpoint, with the partial history, marked `stopped_early`.
Retries: a population whose worker dies is retried (`max_failures`) from its checkpoint.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

from fashion_mlp.errors import ConfigError, RunError
from fashion_mlp.sweeps.backends import RAY_MISSING, RayConfig

try:
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
except ImportError as error:  # the optional extra is not installed
    raise ConfigError(RAY_MISSING) from error

from fashion_mlp.files import process_alive, resume_hint
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import load_run_data
from fashion_mlp.sweeps.folder import SweepDir, create_runs, new_sweep, unfinished_populations
from fashion_mlp.sweeps.local import Event, check_data, emit_start, emit_trial
from fashion_mlp.sweeps.results import SweepResult, write_sweep_outputs
from fashion_mlp.sweeps.spec import SweepSpec, Trial
from fashion_mlp.sweeps.trial_runs import epoch_scores, train_runs

SCORE = "score"  # what each trial reports per epoch and ASHA compares: best member's val acc
TUNE_FOLDER = "ray"  # Tune's experiment state and trial logs, inside the sweep folder
WORKER_EXIT_SECONDS = 30  # how long an interrupted driver waits for its killed workers to end


def run_sweep_on_ray(
    spec: SweepSpec,
    sweeps_dir: str | os.PathLike = "sweeps",
    runs_dir: str | os.PathLike = "runs",
    settings: RayConfig | None = None,
    on_event: Event | None = None,
) -> SweepResult:
    """Train every trial of `spec` on Ray, one Tune trial per population; write each run and
    the sweep folder as `run_sweep` does (settings: RayConfig's defaults when None)."""
    settings = settings or RayConfig()
    check_grace_period(spec, settings)
    check_data(spec.trials())
    folder, state = new_sweep(spec, sweeps_dir, runs_dir, backend(settings))
    with resume_hint(f"fashion-mlp sweep --resume {folder.path} --backend ray"):
        return _run(folder, spec, state, settings, on_event)


def resume_sweep_on_ray(
    sweep_dir: str | os.PathLike, settings: RayConfig, on_event: Event | None = None
) -> SweepResult:
    """Finish a sweep whose driver was killed: finished trials are kept, every other
    population continues from its checkpoint on Ray."""
    folder = SweepDir(sweep_dir)
    spec, state = folder.read_spec(), folder.read_state()
    check_grace_period(spec, settings)
    state["backend"] = backend(settings)
    with resume_hint(f"fashion-mlp sweep --resume {folder.path} --backend ray"):
        return _run(folder, spec, state, settings, on_event)


def check_grace_period(spec: SweepSpec, settings: RayConfig) -> None:
    """ASHA cannot wait longer than the longest population trains."""
    epochs = max(trial.config.training.epochs for trial in spec.trials())
    if settings.scheduler == "asha" and settings.grace_period > epochs:
        raise ConfigError(
            f"--grace-period {settings.grace_period}: the sweep's trials train at most {epochs} "
            "epochs; give a grace period up to that"
        )


def backend(settings: RayConfig) -> dict:
    """trials.json's backend table of a Ray sweep."""
    return {"name": "ray", **settings.to_dict()}


def _run(folder: SweepDir, spec: SweepSpec, state: dict, settings: RayConfig, on_event):
    emit = on_event or (lambda kind, **details: None)
    trials = spec.trials()
    left = unfinished_populations(trials, state)
    emit_start(emit, folder, trials, left)
    attempts = {
        number: Attempt(todo, create_runs(folder, todo, state)) for number, todo in left.items()
    }
    if attempts:
        with connected(settings):
            _tune(folder, state, attempts, settings, emit)
    failed = _settle(folder, spec, state, attempts, emit)
    result = write_sweep_outputs(folder, spec, trials, state, emit)
    if failed:
        shown = "; ".join(f"population {number}: {error}" for number, error in failed.items())
        raise RunError(
            f"{len(failed)} population(s) did not finish, each tried {settings.max_failures + 1} "
            f"times at most ({shown}); their trials are unfinished. Fix the cause and run: "
            f"fashion-mlp sweep --resume {folder.path}"
        )
    return result


@contextmanager
def connected(settings: RayConfig):
    """Ray for the sweep: the one this process already joined, else a new local Ray (no
    address) or the cluster at `settings.address`, left again at the end."""
    if ray.is_initialized():
        yield
        return
    # a population's members split over as many JAX CPU devices as the cores Ray gives it
    env = {"JAX_NUM_CPU_DEVICES": str(max(1, int(settings.cpus_per_trial)))}
    if 0 < settings.gpus_per_trial < 1:  # JAX would take 75 % of the GPU in each population
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{0.9 * settings.gpus_per_trial:.3f}"
    try:
        ray.init(
            address=settings.address or "local",  # "local": a new Ray, even where one runs
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            runtime_env={"env_vars": env},
        )
    except ConnectionError as error:
        raise ConfigError(
            f"--address {settings.address}: no Ray cluster answered ({error}); start one with "
            "`ray start --head` or give the head node's HOST:PORT"
        ) from None
    try:
        yield
    finally:
        ray.shutdown()


class Attempt:
    """One population's Tune trial as the driver sees it: its trials and runs, where each
    attempt trained, the last epoch it reported, its retries and its error."""

    def __init__(self, trials: list[Trial], runs: list[RunDir]):
        self.trials, self.runs = trials, runs
        self.nodes: list[str] = []  # the Ray node of each attempt (a retry may move)
        self.pid = None
        self.epoch = 0
        self.failures = 0
        self.error: str | None = None
        self.completed = False  # Tune ended it without error: trained out, or stopped by ASHA
        self.shown = False  # its trials were emitted

    @property
    def finished(self) -> bool:
        return all(run.is_finished for run in self.runs)

    def record(self, folder: SweepDir, state: dict) -> None:
        """Its nodes and retries into each of its trials' entries in trials.json."""
        for trial in self.trials:
            entry = state["trials"][trial.index]
            entry["ray"] = {"nodes": self.nodes, "failures": self.failures}
        folder.write_state(state)

    def emit_trials(self, emit) -> None:
        for trial, run in zip(self.trials, self.runs, strict=True):
            emit_trial(emit, trial, run.path, run.read_metrics())
        self.shown = True


def _tune(
    folder: SweepDir, state: dict, attempts: dict[int, Attempt], settings: RayConfig, emit
) -> None:
    """Run every population left as a Tune trial; what each reports lands in `attempts`."""
    os.environ["RAY_CHDIR_TO_TRIAL_DIR"] = "0"  # Tune passes it on: relative data paths work
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"  # with verbose=0, Tune prints no tables of its own
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # Ctrl-C interrupts the driver, as locally
    members = {
        number: [trial.index for trial in attempt.trials] for number, attempt in attempts.items()
    }
    trainable = tune.with_resources(
        partial(population_trial, sweep_dir=str(folder.path), members=members),
        {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial},
    )
    scheduler = None
    if settings.scheduler == "asha":
        scheduler = ASHAScheduler(
            time_attr="epoch",
            metric=SCORE,
            mode="max",
            max_t=max(a.trials[0].config.training.epochs for a in attempts.values()),
            grace_period=settings.grace_period,
            reduction_factor=settings.reduction_factor,
            stop_last_trials=False,  # a population that trains all its epochs finishes itself
        )
    tuner = tune.Tuner(
        trainable,
        param_space={"population": tune.grid_search(list(attempts))},
        tune_config=tune.TuneConfig(scheduler=scheduler, reuse_actors=True),
        run_config=tune.RunConfig(
            name=f"tune-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str(folder.path / TUNE_FOLDER),
            failure_config=tune.FailureConfig(max_failures=settings.max_failures),
            callbacks=[_Progress(attempts, emit, folder, state)],
            verbose=0,
        ),
    )
    try:
        tuner.fit()
    except BaseException:  # Ctrl-C or a driver error: no worker may train on unseen
        stop_local_workers(attempts)
        for attempt in attempts.values():  # where each trained, also one that just finished
            if attempt.nodes:
                attempt.record(folder, state)
        raise


def stop_local_workers(attempts: dict[int, Attempt]) -> None:
    """Kill the workers of unfinished populations on this machine and wait until they are gone,
    so that none writes into the sweep after the driver returns (one can outlive
    `ray.shutdown()` by seconds and race a resumed sweep). Workers on other nodes end when Ray
    sees the driver leave; their run locks keep a resumed sweep from training alongside."""
    here = ray.get_runtime_context().get_node_id()
    pids = [
        attempt.pid
        for attempt in attempts.values()
        if attempt.pid and not attempt.completed and attempt.nodes[-1:] == [here]
    ]
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + WORKER_EXIT_SECONDS
    while any(process_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def population_trial(config: dict, sweep_dir: str, members: dict[int, list[int]]) -> None:
    """One Tune trial, on a worker: population config["population"] of the sweep, trained
    and finished by `train_runs` (continuing from its checkpoint after a retry); reports its
    best validation accuracy after every epoch (first, with no score, its node)."""
    folder = SweepDir(sweep_dir)
    spec, state = folder.read_spec(), folder.read_state()
    number = config["population"]
    every_trial = spec.trials()
    trials = [every_trial[index] for index in members[number]]
    runs = [RunDir(state["trials"][trial.index]["run"]) for trial in trials]
    node = ray.get_runtime_context().get_node_id()
    tune.report({"epoch": 0, SCORE: 0.0, "node": node})  # where this attempt runs, first
    # (Tune wants the score in every report; ASHA judges none before epoch 1)

    def report(epoch, logs):
        active, best = epoch_scores(logs)
        tune.report({"epoch": epoch + 1, SCORE: best, "member_epochs": active, "node": node})

    data = load_run_data(trials[0].config.data)
    train_runs(folder, number, trials, runs, data, spec, on_epoch_end=report)


class _Progress(tune.Callback):
    """Tune's events as the sweep's (population: where it trains, epoch, trial), what each
    attempt reported, and each ended population's nodes and retries in trials.json."""

    def __init__(self, attempts: dict[int, Attempt], emit: Callable, folder, state: dict):
        self.attempts, self.emit, self.folder, self.state = attempts, emit, folder, state

    def __getstate__(self):  # Tune saves its callbacks with the experiment; not the display
        return {"attempts": self.attempts}

    def __setstate__(self, state):
        self.attempts, self.emit, self.folder, self.state = state["attempts"], _ignore, None, {}

    def on_trial_result(self, iteration, trials, trial, result, **info):
        attempt = self.attempts[trial.config["population"]]
        if result.get("pid") != attempt.pid:
            attempt.nodes.append(result["node"])
            attempt.pid = result.get("pid")
            self.emit(
                "population",
                number=trial.config["population"],
                members=len(attempt.runs),
                node=result["node"],
                pid=attempt.pid,
                retry=trial.num_failures,
            )
        if result["epoch"]:  # an epoch's report, not the first one (the node)
            attempt.epoch = result["epoch"]
            self.emit("epoch", member_epochs=result["member_epochs"], best=result[SCORE])

    def on_trial_complete(self, iteration, trials, trial, **info):
        attempt = self.attempts[trial.config["population"]]
        attempt.failures, attempt.completed = trial.num_failures, True
        attempt.record(self.folder, self.state)
        if attempt.finished:
            attempt.emit_trials(self.emit)

    def on_trial_error(self, iteration, trials, trial, **info):
        attempt = self.attempts[trial.config["population"]]
        attempt.failures = trial.num_failures
        attempt.error = _last_line(trial.error_file) or "its worker failed"
        attempt.record(self.folder, self.state)


def _settle(folder, spec, state, attempts: dict[int, Attempt], emit) -> dict[int, str]:
    """After Tune: record each population's node and retries in trials.json, finish the
    populations ASHA stopped (from their checkpoints); returns the failed ones' errors."""
    failed = {}
    for number, attempt in attempts.items():
        attempt.record(folder, state)
        if attempt.finished:
            if not attempt.shown:
                attempt.emit_trials(emit)
            continue
        if not (attempt.completed and attempt.epoch):
            failed[number] = attempt.error or "its trial ended before it finished"
            continue
        epochs = attempt.trials[0].config.training.epochs  # stopped by ASHA, or at its end
        stopped = {"by": "asha", "epoch": attempt.epoch} if attempt.epoch < epochs else None
        data = load_run_data(attempt.trials[0].config.data)
        train_runs(folder, number, attempt.trials, attempt.runs, data, spec, stopped_early=stopped)
        attempt.emit_trials(emit)
    return failed


def _ignore(kind, **details) -> None:
    """An event nobody shows."""


def _last_line(path) -> str | None:
    """The last line of a trial's error file (the exception), if Tune wrote one."""
    try:
        lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
    except (OSError, TypeError):
        return None
    return lines[-1] if lines else None
