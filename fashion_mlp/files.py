"""Files written safely: atomic writes (a temporary file beside the target, then a rename) and
the lock file that keeps a second process out of a run folder. Keras-free.

Its errors are RunErrors (run folders are what it writes and locks), each naming the path and
the fix; a full disk is a DiskFullError naming the file and how to go on.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from fashion_mlp.errors import RunError

# atomic_path's temporary names: "." + stem + "." + mkstemp's 8 random characters + suffix
TEMPORARY_NAME = re.compile(r"\.(?P<stem>.+)\.[a-z0-9_]{8}(?P<suffix>\.[^.]+)?")


class DiskFullError(RunError):
    """No space left on the device: names what could not be written and how to go on."""

    AGAIN = "run the command again"  # the next step when nothing is left to resume

    def __init__(self, target: str | os.PathLike, then: str = AGAIN):
        self.target, self.then = str(target), then
        super().__init__(
            f"no space left on the device to write {target}: free some space, then {then}"
        )

    def __reduce__(self):
        return type(self), (self.target, self.then)


@contextmanager
def naming_disk_full(target: str | os.PathLike) -> Iterator[None]:
    """A full disk (ENOSPC, EDQUOT) met in the block becomes a DiskFullError naming `target`."""
    try:
        yield
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise DiskFullError(target) from error


@contextmanager
def resume_hint(command: str) -> Iterator[None]:
    """A DiskFullError raised in the block without a next step says to go on with `command`."""
    try:
        yield
    except DiskFullError as error:
        if error.then != DiskFullError.AGAIN:
            raise
        raise DiskFullError(error.target, f"continue with `{command}`") from error.__cause__


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces it only when the block succeeds."""
    path = Path(path)
    temporary = None
    try:
        with naming_disk_full(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix
            )
            os.close(descriptor)
            os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp's 0600 hides runs from others
            yield Path(temporary)
            os.replace(temporary, path)
    except IsADirectoryError:
        raise RunError(f"cannot write {path}: a folder is in its place; move it away") from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically; returns path."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: Path, value: Any) -> Path:
    """Write `value` as indented JSON atomically; returns path."""
    return write_text(path, json.dumps(value, indent=2) + "\n")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


# Run locks: a file per run folder holding its owner's pid and host, created with O_EXCL.
LOCK_ATTEMPTS = 3  # enough for two processes taking over the same stale lock at once
_held_locks: dict[Path, list[int]] = {}  # lock file -> [thread id, depth], held by this process
_held_guard = threading.Lock()


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold the lock file `path` for the block; re-entrant within the thread holding it."""
    key = Path(path).resolve()
    with _held_guard:
        held = _held_locks.get(key)
        if held is None:
            acquire_lock(key)
            held = _held_locks[key] = [threading.get_ident(), 0]
        elif held[0] != threading.get_ident():
            raise RunError(f"run {key.parent} is in use by another thread of this process; wait")
        held[1] += 1
    try:
        yield
    finally:
        with _held_guard:
            held[1] -= 1
            if held[1] == 0:
                del _held_locks[key]
                key.unlink(missing_ok=True)


def acquire_lock(path: Path) -> None:
    """Create the lock file with this process's pid and host; take over a stale one."""
    for _ in range(LOCK_ATTEMPTS):
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileNotFoundError:
            message = f"run {path.parent} does not exist; `fashion-mlp runs` lists the runs"
            raise RunError(message) from None
        except FileExistsError:
            owner = read_lock(path)
            if owner is not None and not lock_is_stale(path, owner):
                raise RunError(lock_held_message(path, owner)) from None
            if owner is not None:
                take_over_lock(path, owner)
            continue
        try:
            with naming_disk_full(path), os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(this_process(), file)
        except BaseException:
            path.unlink()  # an empty lock would hold the run for good: nothing can judge it
            raise
        return
    raise RunError(lock_held_message(path, read_lock(path) or {}))


def this_process() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(sys.argv)[:200],
    }


def read_lock(path: Path) -> dict[str, Any] | None:
    """The lock's owner (pid, host, since, command); {} when unreadable, None when absent."""
    try:
        owner = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):  # also a lock caught between its creation and its write
        return {}
    return owner if isinstance(owner, dict) else {}


def lock_is_stale(path: Path, owner: dict[str, Any]) -> bool:
    """True when the owner ran on this host and its process is gone. A lock naming this
    process's pid that this process does not hold was left by an earlier process."""
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False  # another machine's process, or unreadable: cannot tell
    if pid == os.getpid():
        return Path(path).resolve() not in _held_locks
    return not process_alive(pid)


def process_alive(pid: int) -> bool:
    """True when process `pid` runs on this host (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def take_over_lock(path: Path, owner: dict[str, Any]) -> None:
    """Remove the stale lock `owner`, unless another process replaced it since it was read."""
    aside = path.with_name(f"{path.name}.stale-{os.getpid()}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another process removed it first
    if read_lock(aside) != owner:  # a live process's lock: put it back
        with suppress(FileExistsError):
            os.link(aside, path)
    aside.unlink(missing_ok=True)


def lock_held_message(path: Path, owner: dict[str, Any]) -> str:
    if owner:
        who = f"process {owner.get('pid')} on host {owner.get('host')} since {owner.get('since')}"
        who += f" ({owner['command']})" if owner.get("command") else ""
    else:
        who = "a process that left no readable owner"
    return (
        f"run {path.parent} is in use by {who}; wait for it to end. If no such process runs "
        f"any more (a stale lock), delete {path} and try again"
    )


def folder_names(runs_dir: Path, name: str) -> Iterator[Path]:
    """`runs_dir/<YYYYmmdd-HHMMSS>-<name>`, then suffixed -2, -3...: a new folder's names."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "run"
    stem = f"{datetime.now():%Y%m%d-%H%M%S}-{slug}"
    for attempt in range(1, 1000):
        yield runs_dir / (stem if attempt == 1 else f"{stem}-{attempt}")


STAGED_PREFIX = ".new-"  # a folder being filled before it is renamed into place


def staged_folder(runs_dir: Path) -> Path:
    """A new hidden folder in runs_dir to fill before `publish_folder`, named after this process
    (`.new-<pid>-<host>-...`), so that a later one can tell it was left by a killed process."""
    prefix = f"{STAGED_PREFIX}{os.getpid()}-{_host_slug()}-"
    return Path(tempfile.mkdtemp(dir=runs_dir, prefix=prefix))


def remove_stale_staged_folders(runs_dir: Path) -> list[Path]:
    """Delete the staged folders of this host's processes that no longer run (killed while
    creating a folder: SIGKILL skips every cleanup); returns them. Another host's are kept."""
    pattern = re.compile(rf"^{re.escape(STAGED_PREFIX)}(\d+)-{re.escape(_host_slug())}-")
    removed = []
    for entry in runs_dir.glob(f"{STAGED_PREFIX}*"):
        match = pattern.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not process_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _host_slug() -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", socket.gethostname()) or "host"


def publish_folder(staged: Path, runs_dir: Path, name: str) -> Path:
    """Rename a filled folder to the first free one of `folder_names`; returns its path. No
    empty folder is made to reserve the name: a kill would leave it behind."""
    for candidate in folder_names(runs_dir, name):
        if candidate.exists():
            continue
        try:
            os.replace(staged, candidate)
            return candidate
        except OSError as error:  # taken meanwhile by another process's folder
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    raise RunError(f"could not create a new run folder under {runs_dir}")
