"""ASGI middlewares: request bodies over the size limit get 413 before they are read whole;
with a token every request must carry it (Bearer header, or the cookie set by /?token=);
without one, only loopback Host names are answered (DNS rebinding gets 400).

Plain ASGI, not Starlette's BaseHTTPMiddleware, which would add a task per request.
"""

from __future__ import annotations

import hmac
import json
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

COOKIE = "fashion_mlp_token"


async def send_json(send, status: int, message: str, headers=()) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised into the app when a streamed request body passes the limit."""


class BodyLimit:
    """Refuse request bodies larger than `limit` bytes (`json_limit` for any body that is not a
    multipart upload): at once when Content-Length says so, else with 413 as soon as the
    streamed body passes it, whatever the app makes of the interrupted body."""

    def __init__(self, app, limit: int, json_limit: int):
        self.app, self.limit, self.json_limit = app, limit, json_limit

    def limit_of(self, headers: dict[bytes, bytes]) -> int:
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        return self.limit if multipart else self.json_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        limit = self.limit_of(headers)
        declared = headers.get(b"content-length")
        message = (
            f"the request body is larger than the limit of {limit:,} bytes; send fewer or "
            "smaller images"
        )
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await send_json(send, 413, message)
        received, refused = 0, False

        async def limited_receive():
            nonlocal received, refused
            event = await receive()
            received += len(event.get("body", b""))
            if received > limit:
                refused = True
                raise BodyTooLarge(message)
            return event

        async def refusing_send(event):
            if not refused:
                await send(event)
            elif event["type"] == "http.response.start":  # the app's answer to a cut body
                await send_json(send, 413, message)

        try:
            await self.app(scope, limited_receive, refusing_send)
        except BodyTooLarge:
            await send_json(send, 413, message)


class TokenGate:
    """Every request must carry `token`: `Authorization: Bearer <token>` or the cookie that
    visiting `/?token=<token>` sets (then redirected to `/`, so the token leaves the URL)."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token.encode()

    def matches(self, candidate: str | bytes | None) -> bool:
        if candidate is None:
            return False
        if isinstance(candidate, str):
            candidate = candidate.encode("utf-8", "replace")
        return hmac.compare_digest(candidate, self.token)

    def carried(self, headers: dict[bytes, bytes]) -> bool:
        authorization = headers.get(b"authorization", b"")
        if authorization[:7].lower() == b"bearer " and self.matches(authorization[7:].strip()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:  # a malformed Cookie header is just no cookie
            return False
        return COOKIE in cookie and self.matches(cookie[COOKIE].value)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if self.carried(headers):
            return await self.app(scope, receive, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if scope["path"] == "/" and self.matches((query.get("token") or [None])[0]):
            cookie = f"{COOKIE}={self.token.decode()}; HttpOnly; SameSite=Strict; Path=/"
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", b"/"),
                        (b"set-cookie", cookie.encode()),
                        (b"content-length", b"0"),
                    ],
                }
            )
            return await send({"type": "http.response.body", "body": b""})
        await send_json(
            send,
            401,
            "this server needs its token: send `Authorization: Bearer <token>`, or open "
            "/?token=<token> once in the browser",
            headers=[(b"www-authenticate", b"Bearer")],
        )


class LoopbackHosts:
    """Answer only requests whose Host header names this machine exactly (any port)."""

    def __init__(self, app, hosts: tuple[str, ...]):
        self.app, self.hosts = app, set(hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").strip().lower()
        if host_name(host) in self.hosts:
            return await self.app(scope, receive, send)
        await send_json(
            send,
            400,
            f"Host {host[:100] or '(none)'!r} is not this machine; open the page as "
            "http://127.0.0.1:PORT/ (or serve with --token to be reached by other names)",
        )


HOST = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[^:\[\]]+)(?::[0-9]{1,5})?")  # name[:port]


def host_name(host: str) -> str | None:
    """The name of a Host header `name`, `name:port`, `[v6]` or `[v6]:port`; None otherwise."""
    match = HOST.fullmatch(host)
    if match is not None:
        return match["name"]
    return host if ":" in host and "[" not in host else None  # a bare IPv6 address: ::1
