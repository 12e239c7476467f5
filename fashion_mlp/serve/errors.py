"""Errors as JSON: `{"error": message, "status": code}` with the right status code.

Library errors keep their messages (they already say what was found and how to fix it), less
the server's folders; anything unexpected becomes a 500 with its type, and the server goes on
serving.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fashion_mlp.errors import ConfigError, DatasetError, FashionMLPError, RunError
from fashion_mlp.images import ImageError, ImageTooLargeError
from fashion_mlp.serve.redact import redacted
from fashion_mlp.serve.settings import ServeSettings

log = logging.getLogger("fashion_mlp.serve")


class ApiError(Exception):
    """An error with its HTTP status, raised by routes."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def bad_input(message: str) -> ApiError:
    return ApiError(422, message)


def too_large(message: str) -> ApiError:
    return ApiError(413, message)


# Library errors -> status, most specific first.
LIBRARY_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (ImageTooLargeError, 413),
    (ImageError, 422),
    (ConfigError, 422),
    (DatasetError, 503),  # the run's data set is not on this machine
    (RunError, 409),  # the run exists but is unfinished or damaged
    (FashionMLPError, 422),
)


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def validation_message(error: RequestValidationError) -> str:
    """Pydantic's errors as one line: 'query.k: Input should be ...; body.images: ...'."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def settings_of(request: Request) -> ServeSettings:
    return request.app.state.context.settings


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError):
        return error_response(error.status, redacted(error.message, settings_of(request)))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        return error_response(422, validation_message(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        return error_response(error.status_code, str(error.detail))

    @app.exception_handler(FashionMLPError)
    async def library_error(request: Request, error: FashionMLPError):
        status = next(code for kind, code in LIBRARY_STATUS if isinstance(error, kind))
        return error_response(status, redacted(str(error), settings_of(request)))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(error).__name__}); see the server log")
