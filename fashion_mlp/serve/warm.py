"""What the server keeps warm: each run's Predictor, its test set with predictions, the model
opened up for inspection (a Network over the Predictor's own Keras model), its test set's map
and whether it averages the user's images with their mirrors.

All are bounded LRU caches keyed by the run folder and its model and calibration files'
mtimes (the mirror choice: its metrics file's), so a run trained or calibrated again under the
same name is reloaded. Loading happens once per key even when many requests ask at the same
moment (a lock per key).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from fashion_mlp.datasets import Dataset
from fashion_mlp.inference.mirror import averages_photos
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.inspection.embedding import Placer, PointMap, run_map
from fashion_mlp.inspection.network import Network
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import load_run_data

Value = TypeVar("Value")


class LRUCache(Generic[Value]):
    """At most `size` values by key; the least recently used is dropped first."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self._values: OrderedDict[tuple, Value] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple, load: Callable[[], Value]) -> Value:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:  # one load per key; the others wait for it
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = load()
            with self._lock:
                self._values[key] = value
                self._loading.pop(key, None)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
            return value

    def peek(self, key: tuple) -> Value | None:
        """The value if it is loaded, else None (never loads)."""
        with self._lock:
            return self._values.get(key)

    def __len__(self) -> int:
        return len(self._values)


def model_key(run: RunDir) -> tuple:
    """The run folder and its model's and calibration's modification times (None if absent)."""
    return (str(run.path), *(modified(run.path / name) for name in (run.MODEL, run.CALIBRATION)))


def modified(path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@dataclass(frozen=True)
class TestSet:
    """A run's test images and labels with its model's predictions on them."""

    data: Dataset
    probabilities: np.ndarray  # (n, classes)

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.data.y_test).astype(np.int64)


@dataclass(frozen=True)
class TestMap:
    """A run's map of its test set, and what places new images on it."""

    points: PointMap
    placer: Placer


class Warm:
    """The server's warm Predictors, test sets, inspected Networks and maps."""

    def __init__(self, predictors: int, test_sets: int, maps: int, runtime: str = "auto"):
        self.runtime = runtime  # Predictor's runtime: "auto" or "onnx"
        self.predictors: LRUCache[Predictor] = LRUCache(predictors)
        self.test_sets: LRUCache[TestSet] = LRUCache(test_sets)
        self.networks: LRUCache[Network] = LRUCache(predictors)
        self.maps: LRUCache[TestMap] = LRUCache(maps)
        self.mirror_choices: LRUCache[bool] = LRUCache(predictors)

    def predictor(self, run: RunDir) -> Predictor:
        return self.predictors.get(model_key(run), lambda: Predictor.load(run, self.runtime))

    def loaded_predictor(self, run: RunDir) -> Predictor | None:
        """The run's Predictor when it is already warm, else None."""
        return self.predictors.peek(model_key(run))

    def averages_photos(self, run: RunDir) -> bool:
        """Whether the run averages the user's images with their mirrors (`averages_photos`)."""
        key = (str(run.path), modified(run.path / run.METRICS))
        return self.mirror_choices.get(key, lambda: averages_photos(run))

    def test_set(self, run: RunDir) -> TestSet:
        def load() -> TestSet:
            predictor = self.predictor(run)
            data = load_run_data(run.read_config().data)
            return TestSet(data, predictor.predict_proba(data.x_test))

        return self.test_sets.get(model_key(run), load)

    def network(self, run: RunDir) -> Network:
        """The run's model opened for inspection (its jitted functions are kept with it)."""

        def load() -> Network:
            predictor = self.predictor(run)
            return Network(predictor.model, predictor.class_names)

        return self.networks.get(model_key(run), load)

    def test_map(self, run: RunDir) -> TestMap:
        """The run's map: read from RUN/map.json, or computed and written there first."""

        def load() -> TestMap:
            network = self.network(run)
            points = run_map(run, network)[0]
            return TestMap(points, Placer(network, points, self.test_set(run).data.x_test))

        return self.maps.get(model_key(run), load)
