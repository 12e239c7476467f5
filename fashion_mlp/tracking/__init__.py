"""Experiment tracking beyond the run folder: MLflow runs (params, per-epoch metrics, test
metrics, tags, artifacts; a sweep as a parent with nested trials) and TensorBoard scalars.
Optional extras (`pip install 'fashion-mlp[mlflow]'`, `'fashion-mlp[tensorboard]'`),
imported only when used; the run folder stays the record, written whatever tracking does."""

from fashion_mlp.tracking.live import RunTracker, SweepTracker
from fashion_mlp.tracking.mlflow_store import MlflowStore, export_runs, open_store

__all__ = ["MlflowStore", "RunTracker", "SweepTracker", "export_runs", "open_store"]
