"""What every route reaches: the settings, the warm caches and the training queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from fashion_mlp.runs import RunDir
from fashion_mlp.serve.jobs import Trainings
from fashion_mlp.serve.paths import resolve_run
from fashion_mlp.serve.settings import ServeSettings
from fashion_mlp.serve.warm import Warm


@dataclass
class Context:
    settings: ServeSettings
    warm: Warm
    trainings: Trainings

    def run(self, run_id: str) -> RunDir:
        """The run folder of `run_id`, checked to lie inside the runs folder (else 404)."""
        return resolve_run(self.settings.runs_root, run_id)


def context(request: Request) -> Context:
    """FastAPI dependency: the app's Context."""
    return request.app.state.context


Ctx = Annotated[Context, Depends(context)]  # a route's `ctx: Ctx` parameter
