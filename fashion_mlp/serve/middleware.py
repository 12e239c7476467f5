"""ASGI middlewares: request bodies over the size limit get 413 before they are read whole;
with a token every request must carry it (Bearer header, or the cookie set by /?token=);
without one, only loopback Host names are answered (DNS rebinding gets 400).

Plain ASGI, not Starlette's BaseHTTPMiddleware, which would add a task per request.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from fashion_mlp.serve.errors import ApiError

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


class BodyLimit:
    """Refuse request bodies larger than `limit` bytes: at once when Content-Length says so,
    else as soon as the streamed body passes it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        message = (
            f"the request body is larger than the limit of {self.limit:,} bytes; send fewer or "
            "smaller images"
        )
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await send_json(send, 413, message)
        received = 0

        async def limited_receive():
            nonlocal received
            event = await receive()
            received += len(event.get("body", b""))
            if received > self.limit:
                raise ApiError(413, message)
            return event

        await self.app(scope, limited_receive, send)


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
    """Answer only requests whose Host header names this machine (any port)."""

    def __init__(self, app, hosts: tuple[str, ...]):
        self.app, self.hosts = app, set(hosts)

    def host_of(self, headers: dict[bytes, bytes]) -> str:
        host = headers.get(b"host", b"").decode("latin-1").strip().lower()
        if host.startswith("["):  # [::1]:8000
            return host[: host.find("]") + 1]
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        host = self.host_of(dict(scope["headers"]))
        if host in self.hosts:
            return await self.app(scope, receive, send)
        await send_json(
            send,
            400,
            f"Host {host or '(none)'!r} is not this machine; open the page as "
            "http://127.0.0.1:PORT/ (or serve with --token to be reached by other names)",
        )
