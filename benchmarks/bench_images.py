"""Image preparation: `load_image_bytes` on product photos of real sizes, reduced (now) against
the same steps on every decoded pixel (before photos were reduced first).

Run by hand: `python benchmarks/bench_images.py`. Makes the photos (as bench_serve.py does), then
times each variant in its own process, interleaved over --rounds rounds; prints the median wall
and CPU milliseconds per image for each photo, and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"reduced": {}, "every pixel": {"WORK_SIDE": 10**9, "DRAFT_SIDE": 10**9}}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--seconds", type=float, default=1.0, help="timing per photo (1.0)")
    parser.add_argument("--output", default="bench_images.json", help="JSON results path")
    return parser.parse_args(argv)


def time_variant(name: str, seconds: float) -> dict[str, dict[str, float]]:
    """Run in a child process: median wall and CPU ms of each photo under variant `name`."""
    from bench_serve import PHOTOS, photo_file

    from fashion_mlp import images

    for constant, value in VARIANTS[name].items():
        setattr(images, constant, value)
    results = {}
    for photo in [name for name, size in PHOTOS.items() if size is not None]:
        content = photo_file(photo)
        images.load_image_bytes(content)  # warm up
        walls, cpus, started = [], [], time.perf_counter()
        while time.perf_counter() - started < seconds or len(walls) < 3:
            wall, cpu = time.perf_counter(), time.thread_time()
            images.load_image_bytes(content)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.thread_time() - cpu)
        results[photo] = {"wall_ms": 1e3 * sorted(walls)[len(walls) // 2]}
        results[photo]["cpu_ms"] = 1e3 * sorted(cpus)[len(cpus) // 2]
    return results


def run_variant(name: str, seconds: float) -> dict:
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import fashion_mlp;"
        "from bench_images import time_variant;"
        "print(json.dumps(time_variant(sys.argv[2], float(sys.argv[3]))))"
    )
    command = [sys.executable, "-c", code, str(ROOT / "benchmarks"), name, str(seconds)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def main(argv=None) -> None:
    args = parse_args(argv)
    rounds: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for number in range(args.rounds):
        for name in list(VARIANTS)[number % 2 :] + list(VARIANTS)[: number % 2]:
            rounds[name].append(run_variant(name, args.seconds))
    print(f"{'photo':>15} {'variant':>12} {'wall ms':>8} {'cpu ms':>7}  (medians of rounds)")
    table = []
    for photo in rounds["reduced"][0]:
        for name, results in rounds.items():
            wall = sorted(result[photo]["wall_ms"] for result in results)[len(results) // 2]
            cpu = sorted(result[photo]["cpu_ms"] for result in results)[len(results) // 2]
            table.append({"photo": photo, "variant": name, "wall_ms": wall, "cpu_ms": cpu})
            print(f"{photo:>15} {name:>12} {wall:>8.2f} {cpu:>7.2f}")
    Path(args.output).write_text(json.dumps({"arguments": vars(args), "results": table}, indent=2))
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
