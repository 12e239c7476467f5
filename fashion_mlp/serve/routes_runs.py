"""Runs: the list (as `fashion-mlp runs`), one run's config, metrics, calibration, history,
figures, report, and two runs compared."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse

from fashion_mlp.inspection.calibration import uncalibrated_entry
from fashion_mlp.reports.compare import comparison_table, differing_settings, load_compared_run
from fashion_mlp.runs import RUN_COLUMNS, list_runs
from fashion_mlp.serve.context import Ctx
from fashion_mlp.serve.errors import bad_input
from fashion_mlp.serve.paths import inside, run_figure, run_report_path
from fashion_mlp.serve.run_facts import page_rows

router = APIRouter(prefix="/api", tags=["runs"])
MAX_COMPARED = 8  # curves still tell apart in one chart
SortColumn = Literal[RUN_COLUMNS]  # type: ignore[valid-type]


@router.get(
    "/runs",
    summary="Every run, as `fashion-mlp runs --json` lists them, with its title, tags, sweep "
    "or ensemble, and whether it is the default or being trained",
)
def runs(ctx: Ctx, sort: SortColumn = "date", descending: bool = False):
    rows = list_runs(ctx.settings.runs_root, sort_by=sort, descending=descending)
    rows = [row for row in rows if inside(ctx.settings.runs_root, row["name"])]
    return page_rows(ctx.settings.runs_root, rows, ctx.trainings)


@router.get("/runs/{run_id}", summary="One run: its row, figures and whether it has a report")
def run_overview(run_id: str, ctx: Ctx):
    run = ctx.run(run_id)
    return {
        **(run.row() or {"name": run.name, "status": "not a run"}),
        "figures": sorted(run.figure_paths()),
        "report": run.report_path.is_file(),
    }


@router.get("/runs/{run_id}/config", summary="config.toml as written")
def run_config(run_id: str, ctx: Ctx):
    return ctx.run(run_id).read_config_table()


@router.get("/runs/{run_id}/metrics", summary="metrics.json")
def run_metrics(run_id: str, ctx: Ctx):
    return ctx.run(run_id).read_metrics()


@router.get(
    "/runs/{run_id}/calibration",
    summary="calibration.json: temperature, ECE and NLL raw and calibrated, reliability bins",
)
def run_calibration(run_id: str, ctx: Ctx):
    run = ctx.run(run_id)
    record = run.read_calibration()
    if record is None:
        how = (run.read_metrics().get("calibration") or {}).get("how")
        return uncalibrated_entry(how or f"never calibrated: `fashion-mlp calibrate {run.name}`")
    return record


@router.get("/runs/{run_id}/history", summary="history.csv as columns per epoch")
def run_history(run_id: str, ctx: Ctx):
    return ctx.run(run_id).read_history()


@router.get("/runs/{run_id}/figures/{name}", summary="A figure the run lists (PNG)")
def run_figure_file(run_id: str, name: str, ctx: Ctx):
    return FileResponse(run_figure(ctx.run(run_id), name), media_type="image/png")


@router.get("/runs/{run_id}/report", response_class=HTMLResponse, summary="report.html")
def run_report(run_id: str, ctx: Ctx):
    return FileResponse(run_report_path(ctx.run(run_id)), media_type="text/html")


@router.get("/compare", summary="Settings that differ and the metrics of two or more runs")
def compare(run: Annotated[list[str], Query(description="run ids, two or more")], ctx: Ctx):
    if not 2 <= len(run) <= MAX_COMPARED:
        raise bad_input(f"compare takes 2 to {MAX_COMPARED} runs (?run=A&run=B); got {len(run)}")
    compared = [load_compared_run(ctx.run(run_id).path) for run_id in run]
    return {
        "runs": [item.name for item in compared],
        "settings": differing_settings(compared),
        "rows": comparison_table(compared),
        "histories": {item.name: item.history for item in compared},
    }
