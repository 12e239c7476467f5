"""The server's memory under hostile requests: `fashion-mlp serve` in its own process, its
resident memory (RSS, all its processes summed) sampled every 10 ms while each probe runs.

Run by hand: `python benchmarks/bench_hostile.py [--workers 1]`. Starts the server as
bench_serve.py does (the notebook's untrained model in a temporary run folder), then sends, one
probe at a time: a normal 28x28 upload, the hostile cases of the server's limits (a 14 MB JSON
pixel body, a wrongly shaped one, an endless chunked upload, a 50-megapixel RGB PNG, eight 12 MP
JPEGs at once, a training of 500,000 hidden units, a pixel of 10**400, 2,000 connections that
never finish their headers, then /health) and prints, for each, the answers' status codes, the
RSS after it and the highest RSS seen while it ran, in MB.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serve import (
    encoded,
    family,
    flat_dress,
    free_port,
    photo_file,
    predict_request,
    process_stats,
    seed_run,
    start_server,
)

MB = 2**20


def rss_bytes(pid: int) -> int:
    """The resident memory of a process and its descendants, summed."""
    total = 0
    for member in family(pid, process_stats()):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


class PeakSampler:
    """The highest family RSS seen while the `with` block runs, sampled every 10 ms."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.running = pid, 0, True

    def __enter__(self):
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while self.running:
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.01)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))


def exchange(port: int, request: bytes, timeout: float = 120) -> int:
    """Send one request on its own connection; the response's status code (0: cut off)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):  # answered early (413), closed
            sock.sendall(request)
        try:
            line = sock.makefile("rb").readline()
        except ConnectionResetError:
            return 0
        return int(line.split()[1]) if line else 0


def post(port: int, path: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def chunked_upload(port: int, path: str, total: int) -> bytes:
    """A multipart upload sent in chunks with no length announced, `total` bytes in all."""
    part = b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'
    body = part + b"0" * (total - len(part))
    chunks = b"".join(
        f"{len(body[i : i + 2**16]):x}\r\n".encode() + body[i : i + 2**16] + b"\r\n"
        for i in range(0, len(body), 2**16)
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + chunks + b"0\r\n\r\n"


def pixels(value: str, columns: int = 28) -> bytes:
    row = "[" + ",".join([value] * columns) + "]"
    return ('{"images": [[' + ",".join([row] * 28) + "]]}").encode()


def half_open(port: int, count: int) -> int:
    """Open `count` connections that send half a request line and never finish, then ask
    /health on a new one; the status of /health (the half-open ones are closed after)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(b"GET /health HT")
            sockets.append(sock)
        return exchange(
            port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
    finally:
        for sock in sockets:
            sock.close()


def probes(port: int, run: str) -> dict:
    """Each probe: a function sending it and returning its status codes."""
    predict, pixel_path = f"/api/runs/{run}/predict", f"/api/runs/{run}/predict/pixels"
    big_png = encoded(flat_dress(7071, 7071), "PNG")  # 50 megapixels in RGB, a few hundred KB
    twelve = photo_file("12mp-jpeg")
    training = json.dumps({"preset": "smoke", "overrides": {"model": {"hidden": [500_000]}}})

    def eight_at_once():
        with ThreadPoolExecutor(8) as pool:
            request = predict_request(run, port, twelve)
            return sorted(pool.map(lambda _: exchange(port, request), range(8)))

    return {
        "28x28 PNG upload": lambda: [
            exchange(port, predict_request(run, port, photo_file("28x28-png")))
        ],
        "JSON pixels (28, 250000), 14 MB": lambda: [
            exchange(port, post(port, pixel_path, pixels("0", 250_000)))
        ],
        "JSON pixels (28, 20000), 1.7 MB": lambda: [
            exchange(port, post(port, pixel_path, pixels("0", 20_000)))
        ],
        "chunked upload, 33 MB": lambda: [exchange(port, chunked_upload(port, predict, 33 * MB))],
        f"50 MP PNG ({len(big_png) // 1024} KB)": lambda: [
            exchange(port, predict_request(run, port, big_png))
        ],
        "eight 12 MP JPEGs at once": eight_at_once,
        "training, 500,000 hidden units": lambda: [
            exchange(port, post(port, "/api/trainings", training.encode()))
        ],
        "a pixel of 10**400": lambda: [
            exchange(port, post(port, pixel_path, pixels("1" + "0" * 400)))
        ],
        "2,000 half-open connections, /health": lambda: [half_open(port, 2000)],
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=None, help="a run to serve (default: seed model)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (1)")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir) if args.run_dir else seed_run(Path(tempfile.mkdtemp()) / "seed")
    port = free_port()
    server = start_server(run_dir, port, args.workers)
    try:
        print(f"server started: RSS {rss_bytes(server.pid) / MB:.0f} MB ({args.workers} worker(s))")
        print(f"{'probe':<40} {'status':<22} {'RSS after':>9} {'peak':>6}")
        for name, probe in probes(port, run_dir.name).items():
            with PeakSampler(server.pid) as sampler:
                statuses = probe()
            after = rss_bytes(server.pid)
            shown = ",".join(map(str, sorted(set(statuses))))
            print(
                f"{name:<40} {shown:<22} {after / MB:>9.0f} {sampler.peak / MB:>6.0f}", flush=True
            )
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
