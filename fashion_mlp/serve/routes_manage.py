"""Keeping runs from the page: rename (a title; the folder keeps its name) and tag a run, delete
one that no training holds, and pick the default run that the page opens on."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from fashion_mlp.runs import RunDir
from fashion_mlp.serve.context import Context, Ctx
from fashion_mlp.serve.errors import ApiError, not_found
from fashion_mlp.serve.run_facts import jobs_by_run, page_row, read_default, write_default

router = APIRouter(prefix="/api", tags=["runs"])


class Labels(BaseModel):
    title: str | None = Field(
        None, max_length=400, description="shown instead of the folder name; null = none"
    )
    tags: list[str] | None = Field(None, max_length=100, description="replace the run's tags")


class DefaultRun(BaseModel):
    run: str | None = Field(description="a finished run's id; null = none (the best run)")


def listed_run(ctx: Context, run_id: str) -> tuple[RunDir, dict]:
    """The run folder of `run_id` and its row (404 for a folder that is not a run)."""
    run = ctx.run(run_id)
    row = run.row()
    if row is None:
        raise not_found(f"{run_id!r} is a folder without config.toml, not a run")
    return run, row


def described(ctx: Context, run: RunDir, row: dict) -> dict:
    """The run's row as GET /api/runs lists it."""
    runs_root = ctx.settings.runs_root
    return page_row(run, row, read_default(runs_root), jobs_by_run(ctx.trainings))


@router.patch("/runs/{run_id}", summary="Rename a run (its title) or replace its tags")
def label_run(run_id: str, body: Labels, ctx: Ctx):
    run, row = listed_run(ctx, run_id)
    given = body.model_dump(include=body.model_fields_set)
    current = described(ctx, run, row)
    labels = {key: given.get(key, current[key]) for key in ("title", "tags")}
    run.write_labels(labels["title"], labels["tags"] or [])
    return described(ctx, run, row)


@router.delete("/runs/{run_id}", summary="Delete a run folder (never one being trained)")
def delete_run(run_id: str, ctx: Ctx):
    run, row = listed_run(ctx, run_id)
    if described(ctx, run, row)["training"]:
        raise ApiError(
            409,
            f"run {run.name} is being trained; cancel its training (DELETE /api/trainings/ID, "
            "or Cancel on the page's Train tab), then delete it",
        )
    run.delete()
    if read_default(ctx.settings.runs_root) == run.name:
        write_default(ctx.settings.runs_root, None)
    return {"deleted": run.name}


@router.get("/default-run", summary="The run the page opens on (null: the best finished run)")
def default_run(ctx: Ctx):
    return {"run": read_default(ctx.settings.runs_root)}


@router.put("/default-run", summary="Pick the run the page opens on, or none (null)")
def pick_default_run(body: DefaultRun, ctx: Ctx):
    if body.run is not None:
        run, row = listed_run(ctx, body.run)
        if row["status"] != "finished":
            raise ApiError(409, f"run {run.name} is {row['status']}: only a finished run serves")
    write_default(ctx.settings.runs_root, body.run)
    return {"run": body.run}
