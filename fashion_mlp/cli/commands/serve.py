"""`fashion-mlp serve`: the web app and HTTP API of `fashion_mlp.serve`, run by uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
from contextlib import contextmanager

from fashion_mlp.errors import ConfigError

MIN_TOKEN_LENGTH = 16  # about 96 bits when random: not worth guessing over HTTP
TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9._~+/=-]+")  # safe in a header, a URL and a cookie
SERVE_EXTRA = {
    "uvicorn",
    "fastapi",
    "starlette",
    "multipart",
    "python_multipart",
    "fastapi_offline",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def check_token(host: str, token: str | None) -> None:
    if token is not None and (
        len(token) < MIN_TOKEN_LENGTH or not TOKEN_CHARACTERS.fullmatch(token)
    ):
        raise ConfigError(
            f"--token must be at least {MIN_TOKEN_LENGTH} characters of letters, digits and "
            "._~+/=- ; make one with: python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"--host {host} is reachable from other machines: pass --token SECRET (or set "
            "$FASHION_MLP_TOKEN) so every request must carry it, or serve on 127.0.0.1"
        )


def worker_count(requested: int) -> int:
    """--workers: 0 = one per core."""
    return requested if requested > 0 else os.cpu_count() or 1


@contextmanager
def serve_extra_required():
    """Turn a missing module of the `serve` extra into an error naming its `pip install`."""
    try:
        yield
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in SERVE_EXTRA:
            raise
        raise ConfigError(
            f"fashion-mlp serve needs the serve extra ({error.name} is not installed): "
            'pip install "fashion-mlp[serve]"'
        ) from None


def run(args: argparse.Namespace) -> int:
    check_token(args.host, args.token)
    if args.runtime == "onnx":  # before serving: not at the first request
        from fashion_mlp.export import require_onnx

        require_onnx("--runtime onnx")
    with serve_extra_required():
        from fashion_mlp.serve import ServeSettings
        from fashion_mlp.serve.server import run_server

    settings = ServeSettings(
        runs_dir=args.runs_dir,
        token=args.token,
        data_name=getattr(args, "data.name", None),
        data_dir=getattr(args, "data.data_dir", None),
        runtime=args.runtime,
    )
    workers = worker_count(args.workers)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"serving runs in {settings.runs_root} on http://{shown}:{args.port}/ (API docs: /docs) "
        f"with {workers} worker process{'es' if workers > 1 else ''}"
    )
    run_server(settings, args.host, args.port, workers)
    return 0
