"""Loading Fashion-MNIST: fashion-mlp's verified loader against keras.datasets.fashion_mnist.

Both read the same four gz files (a Keras cache made of links to the found copy), alternating,
and the table gives median seconds and peak traced memory, and their ratios. Run by hand:
    python benchmarks/bench_load.py [--repeats 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import fashion_mlp  # noqa: F401  (selects the backend before Keras is imported)
from fashion_mlp.datasets import IDX_FILES, load_dataset


def measure(load) -> tuple[float, int]:
    """Seconds and peak traced bytes of one call."""
    tracemalloc.start()
    started = time.perf_counter()
    load()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each loader (default: 5)")
    parser.add_argument(
        "--json", type=Path, default=None, help="write results here (default: none)"
    )
    args = parser.parse_args()

    source = Path(load_dataset("fashion").provenance.location)
    with tempfile.TemporaryDirectory() as home:
        cache = Path(home) / "datasets" / "fashion-mnist"
        cache.mkdir(parents=True)
        for name in IDX_FILES.values():
            (cache / f"{name}.gz").symlink_to(source / f"{name}.gz")
        os.environ["KERAS_HOME"] = home
        import keras

        loaders = {
            "keras load_data": keras.datasets.fashion_mnist.load_data,
            "fashion-mlp load_dataset": lambda: load_dataset("fashion", data_dir=cache),
        }
        results = {name: {"seconds": [], "peak_bytes": []} for name in loaders}
        for _ in range(args.repeats):
            for name, load in loaders.items():
                seconds, peak = measure(load)
                results[name]["seconds"].append(seconds)
                results[name]["peak_bytes"].append(peak)

    arrays_bytes = 70_000 * 28 * 28 + 70_000
    keras_seconds = statistics.median(results["keras load_data"]["seconds"])
    print(f"files: {source}  (arrays: {arrays_bytes / 1e6:.1f} MB)")
    print(f"{'loader':<26}{'median s':>10}{'vs keras':>10}{'peak MB':>10}{'x arrays':>10}")
    for name, values in results.items():
        seconds = statistics.median(values["seconds"])
        peak = max(values["peak_bytes"])
        values |= {"median_seconds": seconds, "peak_vs_arrays": peak / arrays_bytes}
        print(
            f"{name:<26}{seconds:>10.3f}{seconds / keras_seconds:>10.2f}"
            f"{peak / 1e6:>10.1f}{peak / arrays_bytes:>10.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
