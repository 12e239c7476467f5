"""Server load: `fashion-mlp serve` answering predict requests for photos of real sizes.

Run by hand: `python benchmarks/bench_serve.py [--run-dir runs/<id>] [--workers 1 2]`. For each
--workers value, starts the server in its own process on a free 127.0.0.1 port (without a run:
the notebook's untrained model saved into a temporary run folder; speed does not depend on the
weights), then, for each image (a 28x28 test PNG, and product photos made here: PNG and JPEG,
300 px to 12 megapixels), times one request alone (--lone times, one after another) and
--requests requests from --clients concurrent keep-alive connections (fewer for the largest
photos, the same bytes in all). The client is a minimal asyncio HTTP/1.1 client, so that the
cores mostly serve. Prints a table of errors, p50, p99 and requests/s, and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=None, help="a run to serve (default: seed model)")
    parser.add_argument("--requests", type=int, default=1000, help="concurrent requests (1000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections (32)")
    parser.add_argument("--lone", type=int, default=200, help="lone requests timed (200)")
    parser.add_argument("--output", default="bench_serve.json", help="JSON results path")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="server processes, each a variant"
    )
    parser.add_argument(
        "--images", nargs="+", default=list(PHOTOS), help=f"of {', '.join(PHOTOS)} (all)"
    )
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


def test_png() -> bytes:
    """A test image as a PNG file, as a user would upload it."""
    from fashion_mlp.datasets import load_dataset

    return encoded(Image.fromarray(load_dataset("fashion", download=False).x_test[0]), "PNG")


def flat_dress(width: int, height: int) -> Image.Image:
    """A flat dark dress on a flat light background: it compresses to almost nothing."""
    image = Image.new("RGB", (width, height), (238, 236, 232))
    outline = [(0.35, 0.05), (0.65, 0.05), (0.9, 0.95), (0.1, 0.95)]
    ImageDraw.Draw(image).polygon([(x * width, y * height) for x, y in outline], (90, 30, 50))
    return image


def product_photo(width: int, height: int) -> Image.Image:
    """A dark dress on a light, slightly uneven studio background with sensor noise."""
    noise = Image.effect_noise((width, height), 2.0).convert("RGB")  # around 128
    return ImageChops.add(flat_dress(width, height), noise, offset=-128)


def encoded(image: Image.Image, kind: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **({"quality": 90} if kind == "JPEG" else {}))
    return buffer.getvalue()


PHOTOS = {  # name -> (width, height, format); None = the 28x28 test image
    "28x28-png": None,
    "300-png": (300, 300, "PNG"),
    "400-jpeg": (400, 400, "JPEG"),
    "402x389-png": (402, 389, "PNG"),
    "560x420-png": (560, 420, "PNG"),
    "1600x1200-jpeg": (1600, 1200, "JPEG"),
    "12mp-jpeg": (4000, 3000, "JPEG"),
}


def photo_file(name: str) -> bytes:
    size = PHOTOS[name]
    return test_png() if size is None else encoded(product_photo(*size[:2]), size[2])


def predict_request(run: str, port: int, content: bytes) -> bytes:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="item"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
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


def wait_until_up(port: int, process: subprocess.Popen, seconds: float = 300) -> None:
    """Wait until /health answers (every worker process imports Keras first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer /health within {seconds:.0f} s")


def start_server(run_dir: Path, port: int, workers: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "fashion_mlp", "serve", "--runs-dir", str(run_dir.parent)]
    command += ["--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    try:
        wait_until_up(port, server)
    except BaseException:  # SystemExit included: no server is left behind
        server.terminate()
        server.wait(30)
        raise
    return server


def process_stats() -> dict[int, list[str]]:
    """Every process's /proc/PID/stat fields after its name (state, parent, ...)."""
    stats = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
    return stats


def family(pid: int, stats: dict[int, list[str]]) -> set[int]:
    """The process and all its descendants."""
    members, added = {pid}, {pid}
    while added:
        added = {child for child, fields in stats.items() if int(fields[1]) in added}
        members |= added
    return members


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of a process and all its descendants, from /proc."""
    ticks, stats = os.sysconf("SC_CLK_TCK"), process_stats()
    return sum(
        (int(stats[member][11]) + int(stats[member][12])) / ticks
        for member in family(pid, stats)
        if member in stats
    )


def measure(server: subprocess.Popen, port: int, request: bytes, args, size: int) -> dict:
    """One image's figures on a running server: lone latency, then concurrent throughput and
    the server's CPU time per request (which a busy machine does not inflate as much)."""
    requests = scaled(args.requests, size)
    asyncio.run(concurrent(port, request, 8 * args.clients, args.clients))  # every worker warm
    alone = asyncio.run(lone(port, request, scaled(args.lone, size * 4) // 4)) * 1e3
    cpu = cpu_seconds(server.pid)
    latencies, errors, wall = asyncio.run(concurrent(port, request, requests, args.clients))
    cpu = cpu_seconds(server.pid) - cpu
    return {
        "server_cpu_ms_per_request": 1e3 * cpu / requests,
        "lone_p50_ms": float(np.percentile(alone, 50)),
        "lone_p99_ms": float(np.percentile(alone, 99)),
        "requests": requests,
        "errors": int(errors),
        "p50_ms": float(np.percentile(latencies * 1e3, 50)),
        "p99_ms": float(np.percentile(latencies * 1e3, 99)),
        "requests_per_second": requests / wall,
    }


def scaled(count: int, size: int) -> int:
    """Fewer requests for large files: at most about 256 MB uploaded per measurement."""
    return max(64, min(count, 256 * 2**20 // size))


def benchmark(args, run_dir: Path, files: dict[str, bytes]) -> list[dict]:
    rows = []
    for workers in args.workers:
        port = free_port()
        server = start_server(run_dir, port, workers)
        try:
            for name, content in files.items():
                request = predict_request(run_dir.name, port, content)
                figures = measure(server, port, request, args, len(content))
                rows.append({"workers": workers, "image": name, "bytes": len(content), **figures})
                print(row_line(rows[-1]), flush=True)
        finally:
            server.terminate()
            server.wait(30)
    return rows


def row_line(row: dict) -> str:
    return (
        f"{row['workers']:>7} {row['image']:>15} {row['bytes']:>10,} {row['lone_p50_ms']:>9.2f} "
        f"{row['requests_per_second']:>7.0f} {row['errors']:>6} {row['p50_ms']:>7.1f} "
        f"{row['p99_ms']:>7.1f} {row['server_cpu_ms_per_request']:>8.2f}"
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    run_dir = Path(args.run_dir) if args.run_dir else seed_run(Path(tempfile.mkdtemp()) / "seed")
    files = {name: photo_file(name) for name in args.images}
    print(f"{args.clients} connections; lone = one request at a time; ms are milliseconds")
    print(
        f"{'workers':>7} {'image':>15} {'bytes':>10} {'lone p50':>9} {'req/s':>7} {'errors':>6} "
        f"{'p50':>7} {'p99':>7} {'cpu ms':>8}"
    )
    rows = benchmark(args, run_dir, files)
    results = {"rows": rows, "cpu_count": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    Path(args.output).write_text(
        json.dumps({"arguments": vars(args), "results": results}, indent=2)
    )
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
