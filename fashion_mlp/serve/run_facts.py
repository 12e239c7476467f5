"""What the page shows of a run beyond its `fashion-mlp runs` row: its title and tags, the sweep
or ensemble it belongs to, the epochs planned, whether it is the default run or being trained.

The default run (the one the page opens on) is named in the runs folder's serve.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fashion_mlp.errors import RunError
from fashion_mlp.files import write_json
from fashion_mlp.runs import RunDir

DEFAULT_FILE = "serve.json"  # in the runs folder: {"default_run": "<run folder name>"}
LIVE_JOBS = ("queued", "running")


def read_default(runs_root: Path) -> str | None:
    """The default run's name from serve.json (None when none was picked or the file is bad)."""
    try:
        text = (runs_root / DEFAULT_FILE).read_text(encoding="utf-8")
        name = json.loads(text).get("default_run")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def write_default(runs_root: Path, name: str | None) -> None:
    """Name `name` the default run (None: no default), atomically."""
    write_json(runs_root / DEFAULT_FILE, {"default_run": name})


def jobs_by_run(trainings) -> dict[str, str]:
    """The status of this server's latest training of each run folder."""
    summaries = [job.summary() for job in trainings.list()]
    return {job["run"]: job["status"] for job in summaries if job["run"]}


def origin(row: dict[str, Any]) -> dict[str, Any]:
    """kind: run, trial or ensemble, from what the row already says (`RunDir.row`: a trial's
    sweep, an ensemble's member count)."""
    if row["status"] != "finished":
        return {"kind": "run"}
    if row.get("sweep"):
        return {"kind": "trial"}
    return {"kind": "ensemble" if "members" in row else "run"}


def page_row(run: RunDir, row: dict[str, Any], default: str | None, jobs: dict[str, str]):
    """`row` with the page's facts of `run` added."""
    facts: dict[str, Any] = {"title": None, "tags": [], "default": run.name == default}
    try:
        facts |= run.read_labels() | origin(row)
    except RunError as error:
        facts |= {"kind": "run", "problem": str(error)}
    job = jobs.get(run.name)
    facts["training"] = row["status"] == "running" or job in LIVE_JOBS
    if job == "cancelled" and row["status"] == "unfinished":
        facts["status"] = "cancelled"
    return row | facts


def page_rows(runs_root: Path, rows: list[dict[str, Any]], trainings) -> list[dict[str, Any]]:
    """Each row of `fashion-mlp runs` with the page's facts."""
    default, jobs = read_default(runs_root), jobs_by_run(trainings)
    return [page_row(RunDir(runs_root / row["name"]), row, default, jobs) for row in rows]
