"""The real server (uvicorn with the guarded protocol) on loopback against slow and silent
clients: connections that never finish a request are closed, and /health still answers when
more of them are open than the server allows."""

from __future__ import annotations

import socket
import threading
import time

import pytest

pytest.importorskip("uvicorn")
import uvicorn
from serve_fixtures import make_run, serve_dataset

from fashion_mlp.serve import ServeSettings, create_app
from fashion_mlp.serve.server import server_config

pytestmark = pytest.mark.xdist_group("serve-connections")
CAP = 40  # connections the test server allows
SLOW_CLIENTS = 150  # more than the cap, few enough for any machine
PATIENCE_S = 60  # how long a test waits for the server to act before it fails


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server on a free loopback port, with a small cap and a 1 s request deadline."""
    root = tmp_path_factory.mktemp("connections")
    data_folder = serve_dataset(root / "data")
    make_run(root / "runs", data_folder, "first", epochs=1)
    settings = ServeSettings(
        runs_dir=root / "runs", max_connections=CAP, request_timeout_s=1.0, idle_timeout_s=1
    )
    config = server_config(create_app(settings), settings, "127.0.0.1", 0, 1)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + PATIENCE_S
    while not instance.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = instance.servers[0].sockets[0].getsockname()[1]
    yield port
    instance.should_exit = True
    thread.join(PATIENCE_S)


def health(port: int) -> int:
    """The status of GET /health on a new connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE_S) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return int(sock.makefile("rb").readline().split()[1])


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (waits up to PATIENCE_S for it)."""
    sock.settimeout(PATIENCE_S)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_silent_connection_is_closed_after_the_request_deadline(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        assert closed_by_server(sock)


def test_slow_clients_over_the_cap_leave_room_for_health_and_are_closed(server):
    slow = []
    try:
        for _ in range(SLOW_CLIENTS):  # each sends a request line and one header, never the end
            sock = socket.create_connection(("127.0.0.1", server))
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(sock)
        assert health(server) == 200
        assert all(closed_by_server(sock) for sock in slow)
    finally:
        for sock in slow:
            sock.close()


def test_a_request_still_arriving_slowly_is_cut_at_the_deadline(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(
            b"POST /api/trainings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
        )
        for _ in range(3):  # a byte a second: slower than the 1 s deadline allows
            try:
                sock.sendall(b"{")
            except OSError:
                break
            time.sleep(1.0)
        assert closed_by_server(sock)
