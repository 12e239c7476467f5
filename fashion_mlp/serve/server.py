"""Running the app with uvicorn: one process, or several workers sharing one listening socket
(each with its own warm models) and one training process."""

from __future__ import annotations

import uvicorn
from uvicorn.supervisors import Multiprocess

from fashion_mlp.serve.app import create_app
from fashion_mlp.serve.protocol import GuardedHttp, ServerConfig
from fashion_mlp.serve.settings import ServeSettings
from fashion_mlp.serve.shared_trainings import training_process

WORKER_START_S = 120  # a worker imports Keras and JAX first: seconds on a busy machine


def server_config(app, settings: ServeSettings, host: str, port: int, workers: int):
    """uvicorn's config with the server's connection limits and guarded protocol."""
    return ServerConfig(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=isinstance(app, str),
        http=GuardedHttp,
        timeout_keep_alive=settings.idle_timeout_s,
        limit_concurrency=settings.max_connections,
        request_timeout_s=settings.request_timeout_s,
        timeout_worker_healthcheck=WORKER_START_S,
        log_level="warning",
    )


def run_server(settings: ServeSettings, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted: in this process, or in `workers` worker processes."""
    if workers <= 1:
        uvicorn.Server(server_config(create_app(settings), settings, host, port, 1)).run()
        return
    app = "fashion_mlp.serve.shared_trainings:worker_app"
    config = server_config(app, settings, host, port, workers)
    with training_process(settings):
        Multiprocess(config, sockets=[config.bind_socket()]).run()
