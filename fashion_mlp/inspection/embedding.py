"""A map of the test set: every test image's last hidden layer in 2-D (openTSNE's t-SNE), with
its label, prediction and confidence, cached in the run folder; new images placed on it.

openTSNE was chosen by `benchmarks/bench_map.py` (against PCA, scikit-learn's t-SNE and
openTSNE's defaults): with exact neighbours, a coarser FFT grid and fewer iterations it keeps
t-SNE's neighbourhoods (10-NN accuracy on the map) at a fraction of the time.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields, replace

import numpy as np

from fashion_mlp.files import file_sha256, write_text
from fashion_mlp.inspection.activations import activations
from fashion_mlp.inspection.network import Network
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import load_run_data

MAP_FILE = "map.json"  # in the run folder
FORMAT = 1  # map.json's layout; another number is recomputed
PCA_DIMENSIONS = 50  # wider layers are reduced first (usual for t-SNE): exact neighbours stay cheap
TSNE = {  # openTSNE's settings: see the module's docstring
    "perplexity": 30,  # openTSNE's default
    "neighbors": "exact",  # exact search on <= 50 dimensions beats Annoy's index at this size
    "ints_in_interval": 3,  # a coarser FFT grid than the default 1: a third of the time
    "early_exaggeration_iter": 100,  # default 250: the clusters form in fewer
    "n_iter": 150,  # default 500: the neighbourhoods are kept; the map is less spread out
}
NEIGHBOURS = 10  # k of the map's k-NN accuracy and of placing a new image
ARRAYS = {  # map.json's arrays and their types
    "x": np.float32,
    "y": np.float32,
    "labels": np.int64,
    "predicted": np.int64,
    "confidence": np.float32,
}
DIGITS = {"x": 5, "y": 5, "confidence": 4}  # decimals kept in map.json: finer than any screen


@dataclass(frozen=True)
class PointMap:
    """The test set in 2-D: one point per image, in the unit square (aspect ratio kept)."""

    x: np.ndarray  # (n,) float32, 0-1
    y: np.ndarray  # (n,) float32, 0-1
    labels: np.ndarray  # (n,) true class
    predicted: np.ndarray  # (n,) the model's class
    confidence: np.ndarray  # (n,) the predicted class's probability
    layer: str  # the hidden layer mapped (the last one)
    method: str  # how the points were computed, in words
    seconds: float  # time to compute the points (features, t-SNE)
    knn_accuracy: float  # 10-NN accuracy on the 2-D points (5-fold cross-validated)
    model_sha256: str  # the model.keras it was computed from ("" when not from a run)

    @property
    def points(self) -> np.ndarray:
        return np.stack([self.x, self.y], axis=1)


def embed(features: np.ndarray, seed: int = 0, n_jobs: int = -1) -> np.ndarray:
    """2-D t-SNE points (n, 2) of features (n, d), scaled into the unit square."""
    from openTSNE import TSNE as OpenTSNE
    from sklearn.decomposition import PCA

    features = np.asarray(features, dtype=np.float64)
    if features.shape[1] > PCA_DIMENSIONS:
        features = PCA(PCA_DIMENSIONS, random_state=seed).fit_transform(features)
    points = OpenTSNE(**TSNE, n_jobs=n_jobs, random_state=seed).fit(features)
    return unit_square(np.asarray(points))


def unit_square(points: np.ndarray) -> np.ndarray:
    """Points moved and scaled into [0, 1]^2, centred, keeping their aspect ratio."""
    low, high = points.min(axis=0), points.max(axis=0)
    extent = max(float((high - low).max()), np.finfo(np.float32).tiny)
    return ((points - (low + high) / 2) / extent + 0.5).astype(np.float32)


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = NEIGHBOURS) -> float:
    """Accuracy of a k-nearest-neighbour classifier on the points, 5-fold cross-validated."""
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    return float(cross_val_score(KNeighborsClassifier(k), points, labels, cv=5).mean())


def compute_map(network: Network, images, labels, *, seed: int = 0) -> PointMap:
    """The map of labelled images through `network`'s last hidden layer."""
    network.require_hidden("the map")
    start = time.perf_counter()
    log_probabilities = network.forward(images)[0]
    layer = network.hidden_names[-1]
    points = embed(activations(network, images)[layer], seed)
    seconds = time.perf_counter() - start
    labels = np.asarray(labels).astype(np.int64)
    return PointMap(
        x=points[:, 0],
        y=points[:, 1],
        labels=labels,
        predicted=log_probabilities.argmax(axis=1),
        confidence=np.exp(log_probabilities.max(axis=1)),
        layer=layer,
        method="openTSNE " + ", ".join(f"{key}={value}" for key, value in TSNE.items()),
        seconds=seconds,
        knn_accuracy=knn_accuracy(points, labels),
        model_sha256="",
    )


def run_map(run: RunDir, network: Network | None = None, *, recompute: bool = False):
    """The run's map of its test set and whether it came from the cache (RUN/map.json).

    Computed and written (atomically, holding the run's lock) when missing, unreadable, of
    another model.keras, or when `recompute`.
    """
    digest = model_sha256(run)
    cached = None if recompute else read_map(run, digest)
    if cached is not None:
        return cached, True
    network = network or Network.load(run)
    data = load_run_data(run.read_config().data)
    test_map = replace(compute_map(network, data.x_test, data.y_test), model_sha256=digest)
    with run.lock():
        write_text(run.path / MAP_FILE, map_json(test_map))
    return test_map, False


def model_sha256(run: RunDir) -> str:
    return file_sha256(run.require(run.MODEL, "its trained model"))


def map_json(test_map: PointMap) -> str:
    """map.json's text: compact, coordinates to 5 decimals, confidences to 4."""
    value = {"format": FORMAT} | {
        field.name: getattr(test_map, field.name) for field in fields(test_map)
    }
    for name in ARRAYS:
        value[name] = np.round(value[name], DIGITS.get(name, 0)).tolist()
    return json.dumps(value, separators=(",", ":")) + "\n"


def read_map(run: RunDir, digest: str) -> PointMap | None:
    """The cached map when it is readable and of this model, else None."""
    try:
        value = json.loads((run.path / MAP_FILE).read_text(encoding="utf-8"))
        if value.get("format") != FORMAT or value.get("model_sha256") != digest:
            return None
        loaded = {name: np.asarray(value[name], dtype=kind) for name, kind in ARRAYS.items()}
        others = {
            field.name: value[field.name] for field in fields(PointMap) if field.name not in ARRAYS
        }
        if len({array.shape for array in loaded.values()}) != 1:
            return None
        return PointMap(**loaded, **others)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # missing or damaged: computed again


class Placer:
    """Places new images on a map: each at the distance-weighted mean of its 10 nearest test
    images' points, neighbours found in the mapped hidden layer (t-SNE has no inverse map)."""

    def __init__(self, network: Network, test_map: PointMap, test_images):
        from sklearn.neighbors import NearestNeighbors

        self.network, self.test_map = network, test_map
        features = activations(network, test_images)[test_map.layer]
        # A k-d tree answers one drawing in one thread; the brute-force default opens an OpenMP
        # region per query, which in the server's worker threads cost far more than the search.
        self.index = NearestNeighbors(n_neighbors=NEIGHBOURS, algorithm="kd_tree").fit(features)

    def place(self, images) -> np.ndarray:
        """Points (n, 2) in the map's unit square for raw images."""
        features = activations(self.network, images)[self.test_map.layer]
        distances, neighbours = self.index.kneighbors(features)
        weights = 1.0 / np.maximum(distances, 1e-6)
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("nk,nkd->nd", weights, self.test_map.points[neighbours]).astype(np.float32)
