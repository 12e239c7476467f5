"""An MLflow tracking store, reached through `MlflowClient` with explicit run ids (no global
active run): opened and checked before training, then one MLflow run per run folder.

`export_runs` logs finished run folders after the fact; a run folder already logged (its
name in the `fashion_mlp.run` tag of a finished MLflow run) is skipped, so exports repeat safely.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fashion_mlp.errors import RunError, missing_extra
from fashion_mlp.runs import RunDir, list_runs
from fashion_mlp.tracking.run_values import (
    RUN_TAG,
    artifact_paths,
    final_metrics,
    flat_params,
    history_steps,
    run_tags,
)

EXPERIMENT = "fashion-mlp"  # the MLflow experiment every run and sweep goes into
PARENT_TAG = "mlflow.parentRunId"  # MLflow's own tag that nests a run under another
CHECK_ENV = {  # while checking the store: fail in seconds, not after MLflow's minutes of retries
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}
BATCH = 100  # values per log_batch call: MLflow's limit for params (metrics allow 1,000)


def open_store(uri: str | None = None) -> MlflowStore:
    """The store at `uri` (None: MLflow's default, a local store in the current folder),
    checked by finding or creating the experiment; a RunError when it cannot be reached."""
    try:
        import mlflow
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise missing_extra("--mlflow", "mlflow", "mlflow") from None
    uri = uri or mlflow.get_tracking_uri()
    try:
        with environment(CHECK_ENV):
            client = MlflowClient(tracking_uri=uri)
            experiment = client.get_experiment_by_name(EXPERIMENT)
            found = experiment.experiment_id if experiment else None
            experiment_id = found or client.create_experiment(EXPERIMENT)
    except Exception as error:  # MLflow raises many kinds for a store it cannot reach
        first = (str(error).strip().splitlines() or [""])[0][:300]
        raise RunError(
            f"MLflow tracking store {uri} cannot be used ({type(error).__name__}: {first}); "
            "start the server or fix --mlflow URI, or add --mlflow-optional to go on without it"
        ) from error
    return MlflowStore(client, experiment_id, uri)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Environment variables set for the block, restored after it."""
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class MlflowStore:
    """One MLflow experiment: start runs, log epochs and whole run folders, end runs."""

    def __init__(self, client, experiment_id: str, uri: str):
        self.client, self.experiment_id, self.uri = client, experiment_id, uri

    def start(self, name: str, tags: dict[str, str], parent: str | None = None) -> str:
        """A new MLflow run named `name`; nested under `parent` when given. Returns its id."""
        tags = tags | ({PARENT_TAG: parent} if parent else {})
        return self.client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id

    def log_epoch(self, run_id: str, step: int, values: dict[str, float]) -> None:
        """One epoch's values as metrics at `step`."""
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        metrics = [Metric(key, value, stamp, step) for key, value in values.items()]
        self.client.log_batch(run_id, metrics=metrics)

    def log_history(self, run_id: str, history: dict[str, list[float]]) -> None:
        """Every epoch of a history, each at its step."""
        for step, values in history_steps(history):
            self.log_epoch(run_id, step, values)

    def log_run_folder(
        self, run_id: str, run: RunDir, model: bool = False, tags: dict | None = None
    ) -> None:
        """A finished run's params, tags (`tags` over the run's own), test metrics and
        artifacts (and model.keras)."""
        from mlflow.entities import Metric, Param, RunTag

        params = [Param(k, v) for k, v in flat_params(run.read_config().to_dict()).items()]
        for start in range(0, len(params), BATCH):
            self.client.log_batch(run_id, params=params[start : start + BATCH])
        stamp = int(time.time() * 1000)
        metrics = [Metric(k, v, stamp, 0) for k, v in final_metrics(run.read_metrics()).items()]
        tags = [RunTag(key, value) for key, value in (run_tags(run) | (tags or {})).items()]
        self.client.log_batch(run_id, metrics=metrics, tags=tags)
        for path in artifact_paths(run, model):
            self.client.log_artifact(run_id, str(path))

    def end(self, run_id: str, status: str = "FINISHED") -> None:
        """Close the run: FINISHED, FAILED or KILLED."""
        self.client.set_terminated(run_id, status)

    def logged(self, run_name: str) -> bool:
        """Whether a finished MLflow run of this experiment holds the run folder `run_name`."""
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{RUN_TAG}` = '{run_name}' and attributes.status = 'FINISHED'",
            max_results=1,
        )
        return bool(found)

    def log_finished(
        self, run: RunDir, parent: str | None = None, model: bool = False, tags=None
    ) -> str:
        """A finished run folder as one MLflow run, history included; returns its id."""
        run_id = self.start(run.name, {RUN_TAG: run.name}, parent)
        self.log_history(run_id, run.read_history())
        self.log_run_folder(run_id, run, model, tags)
        self.end(run_id)
        return run_id


def export_runs(
    store: MlflowStore, runs_dir: str | os.PathLike, model: bool = False
) -> tuple[list[str], list[str]]:
    """Log every finished run under runs_dir not yet in the store: (logged, skipped) names."""
    logged, skipped = [], []
    for row in list_runs(runs_dir):
        if row["status"] != "finished" or store.logged(row["name"]):
            skipped.append(row["name"])
            continue
        store.log_finished(RunDir(Path(runs_dir) / row["name"]), model=model)
        logged.append(row["name"])
    return logged, skipped
