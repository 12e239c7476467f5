"""Test accuracy against training seconds, one point per finished run (docs' performance page).

Each run is a point at its metrics.json's training seconds and test accuracy, coloured by its
config's name (the preset, or `--name`); an ensemble is drawn at its members' summed seconds.
Train the runs first, one at a time on an idle machine (seconds measured under load do not
compare), then:

    python benchmarks/accuracy_seconds.py runs/*-notebook runs/*-fast* runs/*-best \\
        --output docs/accuracy_seconds.png
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from fashion_mlp.runs import RunDir


def point(run: RunDir) -> tuple[str, float, float]:
    """(group, training seconds, test accuracy) of a finished run."""
    metrics = run.read_metrics()
    group = run.read_config_table().get("name", run.name)
    if run.is_ensemble:
        members = [RunDir(path).read_metrics() for path in run.read_ensemble()[0]]
        seconds = sum(member["timings"]["train_seconds"] for member in members)
    else:
        seconds = metrics["timings"]["train_seconds"]
    return group, float(seconds), float(metrics["test_accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN")
    parser.add_argument("--output", type=Path, default=Path("accuracy_seconds.png"))
    args = parser.parse_args()
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    print("| run | group | training s | test accuracy |\n|---|---|---|---|")
    for path in args.runs:
        group, seconds, accuracy = point(RunDir(path))
        groups[group].append((seconds, accuracy))
        print(f"| {path.name} | {group} | {seconds:.1f} | {accuracy:.2%} |")
    figure, axes = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for group, points in groups.items():
        seconds, accuracies = zip(*points, strict=True)
        axes.scatter(seconds, [100 * a for a in accuracies], label=group, s=28)
    axes.set_xscale("log")
    axes.set_xlabel("training seconds (2 CPU cores, log scale)")
    axes.set_ylabel("test accuracy (%)")
    axes.axhline(90, color="grey", linewidth=0.8, linestyle=":")
    axes.axvline(25, color="grey", linewidth=0.8, linestyle=":")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.savefig(args.output, dpi=120)
    print(f"figure: {args.output}")


if __name__ == "__main__":
    main()
