"""Folder plumbing: a folder being created and killed with SIGKILL leaves a hidden staged folder,
which the next folder created there removes; live processes' and other hosts' are kept."""

from __future__ import annotations

import os
import subprocess
import sys

from fashion_mlp.files import STAGED_PREFIX, remove_stale_staged_folders, staged_folder
from fashion_mlp.runs import RunDir

KILLED_WHILE_CREATING = """
import os, signal, sys
from fashion_mlp.runs import RunDir
with RunDir.creating(sys.argv[1], "killed") as run:
    (run.path / "config.toml").write_text("half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_folder_killed_while_created_is_cleaned_up_by_the_next(tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_CREATING, str(tmp_path)])
    assert killed.returncode == -9
    (left,) = tmp_path.glob(f"{STAGED_PREFIX}*")  # what SIGKILL leaves: no cleanup ran
    with RunDir.creating(tmp_path, "next") as run:
        (run.path / "config.toml").write_text("whole")
    assert not left.exists()
    assert [path.name.endswith("-next") for path in tmp_path.iterdir()] == [True]


def test_live_processes_other_hosts_and_unknown_staged_folders_are_kept(tmp_path):
    mine = staged_folder(tmp_path)  # this process is alive
    host = mine.name.split("-")[2]
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead = int(ended.stdout)
    parent = tmp_path / f"{STAGED_PREFIX}{os.getppid()}-{host}-x"
    other_host = tmp_path / f"{STAGED_PREFIX}{dead}-elsewhere-x"
    old_style = tmp_path / f"{STAGED_PREFIX}abc123"
    for folder in (parent, other_host, old_style):
        folder.mkdir()
    killed_here = tmp_path / f"{STAGED_PREFIX}{dead}-{host}-x"
    killed_here.mkdir()
    assert remove_stale_staged_folders(tmp_path) == [killed_here]
    assert all(path.exists() for path in (mine, parent, other_host, old_style))
