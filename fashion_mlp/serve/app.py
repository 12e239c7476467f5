"""`create_app`: the API routers, the page and its static files, the safety middlewares."""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from fashion_mlp import __version__
from fashion_mlp.serve import (
    routes_inside,
    routes_manage,
    routes_predict,
    routes_runs,
    routes_testset,
    routes_training,
)
from fashion_mlp.serve.context import Context
from fashion_mlp.serve.docs import install_docs
from fashion_mlp.serve.errors import install_error_handlers
from fashion_mlp.serve.jobs import Trainings
from fashion_mlp.serve.middleware import BodyLimit, LoopbackHosts, TokenGate
from fashion_mlp.serve.settings import ServeSettings
from fashion_mlp.serve.warm import Warm

STATIC = resources.files("fashion_mlp.serve") / "static"


def create_app(settings: ServeSettings | None = None, trainings=None) -> FastAPI:
    """The server's ASGI application for `settings` (runs folder, token, limits); `trainings`
    is its own training queue unless given (a worker process's RemoteTrainings)."""
    settings = settings or ServeSettings()
    ctx = Context(
        settings,
        Warm(
            settings.predictor_cache_size,
            settings.test_set_cache_size,
            settings.map_cache_size,
            settings.runtime,
        ),
        trainings or Trainings(settings),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        ctx.trainings.close()

    app = FastAPI(
        title="fashion-mlp",
        version=__version__,
        description="Runs, predictions, the test set, the inside of the models (activations, "
        "attributions, weights, the map) and trainings of fashion-mlp models.",
        lifespan=lifespan,
        docs_url=None,  # install_docs serves them without a CDN
        redoc_url=None,
    )
    app.state.context = ctx
    install_error_handlers(app)
    install_docs(app)
    routers = (routes_runs, routes_manage, routes_predict, routes_testset, routes_inside)
    for module in (*routers, routes_training):
        app.include_router(module.router)

    @app.get("/health", tags=["server"], summary="Liveness and what the server holds")
    def health():
        return {
            "status": "ok",
            "version": __version__,
            "warm_models": len(ctx.warm.predictors),
            "trainings": {
                state: sum(job.status == state for job in ctx.trainings.list())
                for state in ("queued", "running")
            },
        }

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(
        BodyLimit, limit=settings.max_request_bytes, json_limit=settings.max_json_bytes
    )
    if settings.token:
        app.add_middleware(TokenGate, token=settings.token)  # outermost: checked first
    else:
        app.add_middleware(LoopbackHosts, hosts=settings.loopback_hosts)
    return app
