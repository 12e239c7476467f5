"""The test set's map: 2-D embeddings of a run's last hidden layer, method against method.

Run by hand on a finished run (the issue's figures are for the notebook preset's):
    python benchmarks/bench_map.py RUN [--variants pca sklearn-tsne ...] [--rounds 1]
The features (the last hidden layer of the 10,000 test images) are computed once; each variant
then embeds them in its own process, its seconds timed there (the embedding alone, as
fashion-mlp's map times it less the forward pass), and the table gives each one's seconds, CPU
seconds and 10-NN accuracy on its 2-D points (5-fold cross-validated), beside the 10-NN
accuracy on the features themselves. Timings on a shared machine are noisy: the load average
around each run is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
from rounds import interleaved_rounds  # benchmarks/, the script's own folder

VARIANTS = ("pca", "sklearn-tsne", "opentsne-defaults", "fashion-mlp")


def embedder(variant: str) -> Callable[[np.ndarray], np.ndarray]:
    """One method's features -> 2-D points, its libraries imported now (before the timing)."""
    if variant == "pca":
        from sklearn.decomposition import PCA

        return PCA(2, random_state=0).fit_transform
    if variant == "sklearn-tsne":
        from sklearn.manifold import TSNE

        return TSNE(2, random_state=0, n_jobs=-1).fit_transform
    import openTSNE

    if variant == "opentsne-defaults":
        return lambda features: np.asarray(openTSNE.TSNE(n_jobs=-1, random_state=0).fit(features))
    from fashion_mlp.inspection.embedding import embed

    return embed


def child(variant: str, features_file: Path) -> None:
    """Time one variant on the saved features; print its result as a JSON line."""
    saved = np.load(features_file)
    embed = embedder(variant)
    start, cpu = time.perf_counter(), time.process_time()
    points = embed(saved["features"])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    from fashion_mlp.inspection.embedding import knn_accuracy

    accuracy = knn_accuracy(points, saved["labels"])
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "knn_accuracy": accuracy}))


def save_features(run: str, path: Path) -> float:
    """The run's last hidden layer on its test set into `path`; the 10-NN accuracy on it."""
    from fashion_mlp.inspection.activations import activations
    from fashion_mlp.inspection.embedding import knn_accuracy
    from fashion_mlp.inspection.network import Network
    from fashion_mlp.runs import RunDir
    from fashion_mlp.subsets import load_run_data

    network = Network.load(run)
    data = load_run_data(RunDir(run).read_config().data)
    features = activations(network, data.x_test)[network.hidden_names[-1]]
    np.savez(path, features=features, labels=data.y_test)
    return knn_accuracy(features, data.y_test)


def run_child(variant: str, features_file: Path) -> dict:
    command = [sys.executable, __file__, "--child", variant, str(features_file)]
    load_before = os.getloadavg()[0]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return result | {"load_before": load_before, "load_after": os.getloadavg()[0]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", metavar="RUN", help="a finished run folder")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant (default: 1)")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "FEATURES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if not args.run:
        parser.error("RUN is required: a finished run, e.g. `fashion-mlp train` makes one")
    with tempfile.TemporaryDirectory() as folder:
        features_file = Path(folder) / "features.npz"
        features_accuracy = save_features(args.run, features_file)
        rounds = interleaved_rounds(
            args.variants,
            args.rounds,
            lambda variant: run_child(variant, features_file),
            lambda result: f"{result['seconds']:.1f} s (load {result['load_before']:.1f})",
        )
    print_table(rounds, features_accuracy, argv)


def print_table(rounds: dict[str, list[dict]], features_accuracy: float, argv) -> None:
    """The docs' table: medians over the rounds, with the command, machine and date."""
    command = " ".join(["python benchmarks/bench_map.py", *(argv or sys.argv[1:])])
    print(f"\n`{command}` on {platform.node()} ({os.cpu_count()} CPUs), {date.today()}")
    print(f"10-NN accuracy on the last hidden layer itself: {features_accuracy:.4f}\n")
    print(f"| {'method':<18} | seconds | CPU seconds | 10-NN accuracy | load average |")
    print(f"|{'-' * 20}|---------|-------------|----------------|--------------|")
    for variant, results in rounds.items():
        median = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(
            f"| {variant:<18} | {median['seconds']:7.1f} | {median['cpu_seconds']:11.1f} | "
            f"{median['knn_accuracy']:14.4f} | {median['load_before']:4.1f} -> "
            f"{median['load_after']:4.1f} |"
        )


if __name__ == "__main__":
    main()
