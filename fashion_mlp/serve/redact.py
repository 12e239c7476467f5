"""Server folders taken out of messages sent to clients: a run's files are named from the runs
folder, other folders by a short label, so no error tells a client where the server keeps things."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from fashion_mlp.serve.settings import ServeSettings


def server_folders(settings: ServeSettings) -> list[tuple[str, str]]:
    """(absolute folder with its separator, what it becomes), the longest first."""
    folders = {
        settings.runs_root: "",  # first/metrics.json, as the run's id and file
        Path.home(): "~/",
        Path.cwd(): "./",
        Path(sys.prefix): "<python>/",
        Path(tempfile.gettempdir()): "<tmp>/",
    }
    for data in (settings.data_name, settings.data_dir):
        if data and Path(data).is_absolute():
            folders[Path(data)] = "<data>/"
    pairs = {
        f"{form}/": label
        for folder, label in folders.items()
        for form in (folder, folder.resolve())
        if form.parent != form  # not the root folder
    }
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def redacted(message: str, settings: ServeSettings) -> str:
    """`message` with the server's folders replaced (see server_folders)."""
    for folder, label in server_folders(settings):
        message = message.replace(folder, label)
    return message
