"""Server load: `fashion-mlp serve` answering single-PNG predict requests over HTTP.

Run by hand: `python benchmarks/bench_serve.py [--run-dir runs/<id>]`. Starts the server in
its own process on a free 127.0.0.1 port (without a run: the notebook's untrained model saved
into a temporary run folder; speed does not depend on the weights), then times one request
alone (--lone times, one after another) and --requests requests from --clients concurrent
keep-alive connections. The client is a minimal asyncio HTTP/1.1 client, so that the 2 cores
mostly serve. Prints errors, p50, p99 and requests/s, and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=None, help="a run to serve (default: seed model)")
    parser.add_argument("--requests", type=int, default=1000, help="concurrent requests (1000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections (32)")
    parser.add_argument("--lone", type=int, default=200, help="lone requests timed (200)")
    parser.add_argument("--output", default="bench_serve.json", help="JSON results path")
    return parser.parse_args(argv)


def seed_run(folder: Path) -> Path:
    """A run folder with the notebook's untrained Sequential model (in a child process)."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[2]);"
        "from bench_predict import seed_model_run; from fashion_mlp.datasets import load_dataset;"
        "seed_model_run(load_dataset('fashion', download=False), Path(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", code, str(folder), str(ROOT / "benchmarks")], check=True)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def photo_png() -> bytes:
    """A test image as a PNG file, as a user would upload it."""
    import io

    from PIL import Image

    from fashion_mlp.datasets import load_dataset

    buffer = io.BytesIO()
    Image.fromarray(load_dataset("fashion", download=False).x_test[0]).save(buffer, "PNG")
    return buffer.getvalue()


def predict_request(run: str, port: int, png: bytes) -> bytes:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="item.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST /api/runs/{run}/predict?pixels=false HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(reader, writer, request: bytes) -> int:
    """Send one request on a keep-alive connection; returns the status code."""
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def lone(port: int, request: bytes, count: int) -> np.ndarray:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seconds = []
    for _ in range(count + 20):  # the first 20 warm up
        started = time.perf_counter()
        assert await exchange(reader, writer, request) == 200
        seconds.append(time.perf_counter() - started)
    writer.close()
    return np.array(seconds[20:])


async def concurrent(port: int, request: bytes, total: int, clients: int):
    remaining = iter(range(total))
    latencies, errors = [], 0

    async def client():
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in remaining:
            started = time.perf_counter()
            try:
                ok = await exchange(reader, writer, request) == 200
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                ok = False
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            latencies.append(time.perf_counter() - started)
            errors += not ok
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return np.array(latencies), errors, time.perf_counter() - started


def wait_until_up(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start within a minute")


def main(argv=None) -> None:
    args = parse_args(argv)
    run_dir = Path(args.run_dir) if args.run_dir else seed_run(Path(tempfile.mkdtemp()) / "seed")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "fashion_mlp",
        "serve",
        "--runs-dir",
        str(run_dir.parent),
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    try:
        wait_until_up(port, server)
        request = predict_request(run_dir.name, port, photo_png())
        alone = asyncio.run(lone(port, request, args.lone)) * 1e3
        latencies, errors, wall = asyncio.run(
            concurrent(port, request, args.requests, args.clients)
        )
    finally:
        server.terminate()
        server.wait(10)
    latencies *= 1e3
    results = {
        "lone_p50_ms": float(np.percentile(alone, 50)),
        "lone_p99_ms": float(np.percentile(alone, 99)),
        "requests": args.requests,
        "clients": args.clients,
        "errors": int(errors),
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
        "requests_per_second": args.requests / wall,
        "cpu_count": os.cpu_count(),
    }
    Path(args.output).write_text(
        json.dumps({"arguments": vars(args), "results": results}, indent=2)
    )
    print(f"results written to {args.output}")
    print(
        f"one request alone: p50 {results['lone_p50_ms']:.2f} ms, "
        f"p99 {results['lone_p99_ms']:.2f} ms"
    )
    print(
        f"{args.requests} requests from {args.clients} clients: {errors} errors, "
        f"p50 {results['p50_ms']:.1f} ms, p99 {results['p99_ms']:.1f} ms, "
        f"{results['requests_per_second']:.0f} requests/s"
    )


if __name__ == "__main__":
    main()
