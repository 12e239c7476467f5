"""uvicorn's HTTP protocol with two guards it lacks: a request (headers and body) must arrive
whole within a deadline, and a connection that makes the cap closes the oldest connection still
sending its request, so idle, half-open and slow clients cannot keep /health out."""

from __future__ import annotations

import asyncio

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class ServerConfig(uvicorn.Config):
    """uvicorn's Config plus the request deadline that GuardedHttp reads."""

    def __init__(self, app, *, request_timeout_s: float, **options):
        super().__init__(app, **options)
        self.request_timeout_s = request_timeout_s


class GuardedHttp(HttpToolsProtocol):
    """httptools' protocol with a request deadline and room kept under `limit_concurrency`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.opened = self.loop.time()
        self.deadline: asyncio.TimerHandle | None = None
        self.expect_request()
        self.make_room()

    def expect_request(self) -> None:
        """Start the deadline of the next request: closed if it has not arrived whole by then."""
        self.end_deadline()
        self.receiving = True
        self.deadline = self.loop.call_later(
            self.config.request_timeout_s, self.timeout_keep_alive_handler
        )

    def end_deadline(self) -> None:
        self.receiving = False
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def make_room(self) -> None:
        """Below the cap, uvicorn answers 503 to nobody: close the oldest connection that is
        still sending its request (or idle) when this one reaches the cap."""
        if self.limit_concurrency is None or len(self.connections) < self.limit_concurrency:
            return
        waiting = [
            other
            for other in self.connections
            if isinstance(other, GuardedHttp) and other is not self and other.receiving
        ]
        if waiting:
            oldest = min(waiting, key=lambda other: other.opened)
            oldest.end_deadline()
            oldest.transport.close()
            self.connections.discard(oldest)

    def on_message_complete(self) -> None:
        self.end_deadline()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self.opened = self.loop.time()  # idle since now: the oldest idle goes first
            self.expect_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self.end_deadline()
        super().connection_lost(exc)
