"""Test accuracy against training seconds, one point per finished run (docs' performance page).

Each run is a point at its metrics.json's training seconds and test accuracy, one colour per
`--group LABEL RUN...`; an ensemble is drawn at its members' summed seconds, a distilled student
at its own (its teacher's are spent once, for any number of students). Train the runs first,
one at a time on an idle machine (seconds measured under load do not compare), then:

    python benchmarks/accuracy_seconds.py --group notebook runs/*-notebook-s* \\
        --group fast runs/*-fast-s* --group best runs/*-best-s* \\
        --output docs/accuracy_seconds.png
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter, ScalarFormatter

from fashion_mlp.runs import RunDir


def point(run: RunDir) -> tuple[float, float]:
    """(training seconds, test accuracy) of a finished run."""
    metrics = run.read_metrics()
    if run.is_ensemble:
        members = [RunDir(path).read_metrics() for path in run.read_ensemble()[0]]
        seconds = sum(member["timings"]["train_seconds"] for member in members)
    else:
        seconds = metrics["timings"]["train_seconds"]
    return float(seconds), float(metrics["test_accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--group",
        nargs="+",
        action="append",
        required=True,
        metavar=("LABEL", "RUN"),
        help="a legend label and its run folders (repeat for each group)",
    )
    parser.add_argument("--output", type=Path, default=Path("accuracy_seconds.png"))
    args = parser.parse_args()
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    print("| group | run | training s | test accuracy |\n|---|---|---|---|")
    for group, *paths in args.group:
        for path in map(Path, paths):
            seconds, accuracy = point(RunDir(path))
            groups[group].append((seconds, accuracy))
            print(f"| {group} | {path.name} | {seconds:.1f} | {accuracy:.2%} |")
    figure, axes = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for group, points in groups.items():
        seconds, accuracies = zip(*points, strict=True)
        axes.scatter(seconds, [100 * a for a in accuracies], label=group, s=28)
    axes.set_xscale("log")
    axes.set_xticks([5, 10, 25, 50, 100, 200, 500, 1000, 2000])
    axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.xaxis.set_minor_formatter(NullFormatter())
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
