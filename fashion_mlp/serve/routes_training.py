"""Trainings: start one from a preset plus overrides, list them, follow one live (server-sent
events), cancel one."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from fashion_mlp.config import build_config
from fashion_mlp.presets import PRESETS, preset
from fashion_mlp.serve.context import Context, Ctx
from fashion_mlp.serve.errors import ApiError, not_found
from fashion_mlp.serve.jobs import Job, training_config

router = APIRouter(prefix="/api", tags=["training"])
POLL_SECONDS = 0.1  # how often an event stream looks for new events
HEARTBEAT_SECONDS = 15.0  # a comment line keeps idle streams open through proxies


class TrainingRequest(BaseModel):
    preset: str = Field("smoke", description=f"one of {', '.join(PRESETS)}")
    name: str | None = Field(
        None,
        max_length=80,
        description="run folder name (default: the preset's while the model is the preset's, "
        "else the model's, e.g. mlp-256-128-relu)",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="config tables over the preset, as in a TOML config: "
        '{"training": {"epochs": 5}, "optimizer": {"learning_rate": 0.01}}',
    )


@router.get("/presets", summary="Presets and their settings, for the training form")
def presets():
    return {name: build_config(preset(name)).to_dict() for name in PRESETS}


@router.post(
    "/trainings", status_code=202, summary="Queue a training; it starts when its turn comes"
)
def start_training(body: TrainingRequest, ctx: Ctx):
    overrides = dict(body.overrides)
    if body.name:
        overrides["name"] = body.name
    config = training_config(ctx.settings, body.preset, overrides)
    job = ctx.trainings.submit(config)
    if job is None:
        raise ApiError(
            429,
            f"{ctx.settings.max_queued_trainings} trainings already wait; "
            "try again when one has started",
        )
    return {**job.summary(), "config": config.to_dict()}


@router.get("/trainings", summary="Trainings of this server, oldest first")
def trainings(ctx: Ctx):
    return [job.summary() for job in ctx.trainings.list()]


def job_of(ctx: Context, job_id: str) -> Job:
    job = ctx.trainings.get(job_id)
    if job is None:
        raise not_found(f"no training {job_id!r}; GET /api/trainings lists them")
    return job


@router.get("/trainings/{job_id}", summary="One training: status, run, every event so far")
def training(job_id: str, ctx: Ctx):
    job = job_of(ctx, job_id)
    events, _ = job.events_since(0)
    return {**job.summary(), "events": events}


@router.delete("/trainings/{job_id}", summary="Cancel a queued or running training")
def cancel_training(job_id: str, ctx: Ctx):
    job = job_of(ctx, job_id)
    ctx.trainings.cancel(job)
    return job.summary()


def sse(event: dict) -> str:
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"


@router.get(
    "/trainings/{job_id}/events",
    summary="Progress as server-sent events",
    response_class=StreamingResponse,
)
async def training_events(
    job_id: str,
    request: Request,
    ctx: Ctx,
    last_event_id: Annotated[int | None, Header(description="resume after this event")] = None,
):
    job = job_of(ctx, job_id)
    first = 0 if last_event_id is None else last_event_id + 1

    async def stream():
        nonlocal first
        quiet = 0.0
        while True:
            events, ended = job.events_since(first)
            for event in events:
                yield sse(event)
            first += len(events)
            if ended and not events:
                return
            if await request.is_disconnected():
                return
            quiet = 0.0 if events else quiet + POLL_SECONDS
            if quiet >= HEARTBEAT_SECONDS:
                quiet = 0.0
                yield ": still training\n\n"
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
