"""Run ids -> run folders inside the runs folder, and nothing else.

A run id is one folder name: no separators, no `..`, no absolute path, no NUL, nothing that
resolves (through links) outside the runs folder. Figures are served only by the names the
run itself lists.
"""

from __future__ import annotations

import re
from pathlib import Path

from fashion_mlp.runs import RunDir
from fashion_mlp.serve.errors import not_found

RUN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}")  # what RunDir.create makes, and more


def resolve_run(runs_root: Path, run_id: str) -> RunDir:
    """The run folder named `run_id` directly inside `runs_root` (absolute and resolved).

    Raises:
        ApiError 404: for any id that is not a plain folder name inside runs_root, without
            saying whether a path outside exists.
    """
    if not RUN_ID.fullmatch(run_id) or run_id in (".", ".."):
        raise not_found(f"no run {run_id!r}: a run id is a folder name from GET /api/runs")
    if not inside(runs_root, run_id):
        raise not_found(f"no run {run_id!r} in the runs folder; GET /api/runs lists the runs")
    return RunDir((runs_root / run_id).resolve())


def inside(runs_root: Path, name: str) -> bool:
    """Whether runs_root/name is a folder directly inside runs_root, links resolved."""
    folder = (runs_root / name).resolve()
    return folder.parent == runs_root and folder.is_dir()


def run_figure(run: RunDir, name: str) -> Path:
    """A figure the run lists (RunDir.figure_paths), resolved inside the run folder."""
    path = run.figure_paths().get(name)
    if path is None or path.resolve().parent != run.path:
        raise not_found(
            f"run {run.name} has no figure {name!r}; GET /api/runs/{run.name} lists them"
        )
    return path


def run_report_path(run: RunDir) -> Path:
    """The run's report.html, resolved inside the run folder (a link out of it is refused)."""
    path = run.report_path
    if not path.is_file() or path.resolve().parent != run.path:
        raise not_found(f"run {run.name} has no report.html; `fashion-mlp report RUN` writes it")
    return path
