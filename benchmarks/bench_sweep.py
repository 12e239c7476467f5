"""Sweep backends: the same 16-trial smoke sweep on the local backend and on a local Ray.

Run by hand: `python benchmarks/bench_sweep.py` (a few minutes on 2 cores; needs the `ray`
extra). The sweep is the smoke preset (784-32-10, 2 epochs, 2000 training images) on
Fashion-MNIST, label smoothing 0, 0.05, 0.1, 0.15 x seeds 0-3: 16 trials, grouped as 4
populations of 4 members, or as 16 populations of 1 (`--members-per-population 1`). Each
variant is one `fashion-mlp sweep` in its own process, timed end to end (imports, Ray's start,
training, run folders, report). Ray's overhead per Tune trial is (Ray's wall - local's wall) /
Tune trials (one per population). Prints a table last and writes the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

SWEEP = ["--preset", "smoke", "--label-smoothing", "0", "0.05", "0.1", "0.15", "--seeds", "0-3"]
VARIANTS = [  # (backend, members per population)
    ("local", 4),
    ("ray", 4),
    ("local", 1),
    ("ray", 1),
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="bench_sweep.json", help="JSON results path")
    return parser.parse_args(argv)


def time_sweep(backend: str, members: int, folder: Path) -> float:
    """Wall seconds of one `fashion-mlp sweep` in a fresh process."""
    command = [
        sys.executable,
        "-m",
        "fashion_mlp",
        "sweep",
        *SWEEP,
        "--backend",
        backend,
        "--members-per-population",
        str(members),
        "--runs-dir",
        str(folder / "runs"),
        "--sweeps-dir",
        str(folder / "sweeps"),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv=None) -> int:
    args = parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as temporary:
        for number, (backend, members) in enumerate(VARIANTS):
            seconds = time_sweep(backend, members, Path(temporary) / str(number))
            results.append(
                {
                    "backend": backend,
                    "members_per_population": members,
                    "populations": 16 // members,
                    "wall_seconds": seconds,
                }
            )
            print(f"{backend} {members}: {seconds:.1f} s", flush=True)
    table = Table(title="16-trial smoke sweep, wall time end to end (each in its own process)")
    for header in ("populations", "local s", "Ray s", "Ray - local s", "per Tune trial s"):
        table.add_column(header, justify="right")
    for local, on_ray in zip(results[::2], results[1::2], strict=True):
        extra = on_ray["wall_seconds"] - local["wall_seconds"]
        table.add_row(
            f"{local['populations']} x {local['members_per_population']}",
            f"{local['wall_seconds']:.1f}",
            f"{on_ray['wall_seconds']:.1f}",
            f"{extra:+.1f}",
            f"{extra / on_ray['populations']:+.2f}",
        )
    Console(width=100).print(table)
    Path(args.output).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
