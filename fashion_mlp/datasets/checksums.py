"""The checksum cache: verified SHA-256 of files by (path, size, mtime), kept in
$XDG_CACHE_HOME/fashion-mlp/checksums.json so that unchanged files are not hashed again."""

from __future__ import annotations

import json
import os
from contextlib import suppress
from pathlib import Path

from fashion_mlp.datasets.dataset import FileRecord
from fashion_mlp.datasets.registry import DATASETS
from fashion_mlp.errors import RunError
from fashion_mlp.files import write_json

CHECKSUM_CACHE = "checksums.json"  # verified SHA-256 by file, under $XDG_CACHE_HOME/fashion-mlp
CHECKSUM_CACHE_VERSION = 1  # bump when the file's layout changes: older files are then ignored


def checksum_cache_path() -> Path | None:
    """Where verified checksums are remembered: $XDG_CACHE_HOME/fashion-mlp/checksums.json.

    None when there is no cache folder at all (no home directory): nothing is remembered then.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: relative or empty values are to be ignored
        try:
            base = Path.home() / ".cache"
        except RuntimeError:  # neither $HOME nor a password-database entry
            return None
    return Path(base) / "fashion-mlp" / CHECKSUM_CACHE


def file_stamp(path: Path) -> tuple[str, int, int] | None:
    """(resolved path, size, mtime_ns) identifying one version of a file; None if unstattable."""
    try:
        resolved = Path(path).resolve()
        stat = resolved.stat()
    except OSError:
        return None
    return str(resolved), stat.st_size, stat.st_mtime_ns


def read_checksum_cache() -> dict:
    """Remembered checksums by resolved path; empty when the file is missing or unreadable."""
    path = checksum_cache_path()
    try:
        content = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(content, dict) or content.get("version") != CHECKSUM_CACHE_VERSION:
        return {}
    files = content.get("files")
    return files if isinstance(files, dict) else {}


def cached_sha256(cache: dict, stamp: tuple[str, int, int] | None) -> str | None:
    """The remembered checksum of exactly this version of a file, if it is a published one."""
    entry = cache.get(stamp[0]) if stamp else None
    if not isinstance(entry, dict) or [entry.get("size"), entry.get("mtime_ns")] != [*stamp[1:]]:
        return None
    published = {sha for spec in DATASETS.values() for sha in spec.sha256.values()}
    return entry.get("sha256") if entry.get("sha256") in published else None


def remember_checksums(
    cache: dict, records: list[FileRecord], stamps: dict[str, tuple | None]
) -> None:
    """Add the verified records to the cache file, atomically; failing to write is harmless."""
    added = {
        stamps[r.role][0]: {
            "size": stamps[r.role][1],
            "mtime_ns": stamps[r.role][2],
            "sha256": r.sha256,
        }
        for r in records
        if r.verified and stamps.get(r.role)
    }
    if all(cache.get(key) == entry for key, entry in added.items()):
        return
    path = checksum_cache_path()
    if path is not None:
        kept = {key: entry for key, entry in cache.items() if Path(key).exists()}
        with suppress(OSError, RunError):  # unwritable, or a folder in its place: not cached
            write_json(path, {"version": CHECKSUM_CACHE_VERSION, "files": kept | added})
