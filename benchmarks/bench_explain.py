"""Attribution latency for one drawn image: the library call, and the server answering it.

Run by hand: `python benchmarks/bench_explain.py [--run-dir runs/<id>] [--lone 200]`. Without a
run: the notebook's untrained model in a temporary run folder (the speed does not depend on the
weights). Each variant in its own process: integrated gradients of one test image by the
library (`integrated_gradients`, default steps), then `fashion-mlp serve` answering
POST /api/runs/RUN/inside/explain/pixels with that image as JSON, alone and with ?map=true as
the Inside view asks once it has the map (placing the image on it; the map is fetched first, as
the page does: computed once, seconds, then cached in the run), and /predict/pixels beside them
for scale, one request at a time on a keep-alive connection. Prints p50 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from bench_serve import free_port, lone, seed_run, wait_until_up


def pixels_request(path: str, port: int, image: list) -> bytes:
    body = json.dumps({"images": [image]}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def test_image() -> list:
    from fashion_mlp.datasets import load_dataset

    return load_dataset("fashion", download=False).x_test[0].tolist()


def library_child(run_dir: str, count: int) -> None:
    """Time the library's integrated gradients of one image; print the milliseconds as JSON."""
    from fashion_mlp.inspection.attributions import integrated_gradients
    from fashion_mlp.inspection.network import Network

    network, image = Network.load(run_dir), np.asarray(test_image(), dtype=np.uint8)
    milliseconds = []
    for _ in range(count + 20):  # the first 20 warm up (and compile)
        started = time.perf_counter()
        integrated_gradients(network, image)
        milliseconds.append((time.perf_counter() - started) * 1e3)
    print(json.dumps(milliseconds[20:]))


def served_milliseconds(run_dir: Path, count: int) -> dict[str, np.ndarray]:
    """Lone requests to a server in its own process: explain and predict, one image as JSON."""
    port = free_port()
    command = [sys.executable, "-m", "fashion_mlp", "serve", "--runs-dir", str(run_dir.parent)]
    server = subprocess.Popen(
        [*command, "--port", str(port)], env=os.environ | {"PYTHONUNBUFFERED": "1"}
    )
    image, run = test_image(), run_dir.name
    try:
        wait_until_up(port, server)
        inside = f"/api/runs/{run}/inside"
        urllib.request.urlopen(f"http://127.0.0.1:{port}{inside}/map", timeout=600).close()
        paths = {
            "server: inside/explain/pixels": f"{inside}/explain/pixels",
            "server: inside/explain/pixels?map=true": f"{inside}/explain/pixels?map=true",
            "server: predict/pixels": f"/api/runs/{run}/predict/pixels",
        }
        return {
            name: asyncio.run(lone(port, pixels_request(path, port, image), count)) * 1e3
            for name, path in paths.items()
        }
    finally:
        server.terminate()
        server.wait(10)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=None, help="a run (default: untrained notebook)")
    parser.add_argument("--lone", type=int, default=200, help="timed calls of each (200)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        library_child(args.run_dir, args.lone)
        return
    run_dir = Path(args.run_dir) if args.run_dir else seed_run(Path(tempfile.mkdtemp()) / "seed")
    command = [sys.executable, __file__, "--child", "--run-dir", str(run_dir), "--lone"]
    output = subprocess.run([*command, str(args.lone)], check=True, capture_output=True, text=True)
    results = {
        "library: integrated_gradients": np.asarray(json.loads(output.stdout.splitlines()[-1]))
    }
    results |= served_milliseconds(run_dir, args.lone)
    print(
        f"one image, {args.lone} calls each, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    for name, milliseconds in results.items():
        p50, p99 = np.percentile(milliseconds, [50, 99])
        print(f"{name:<40} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


if __name__ == "__main__":
    main()
