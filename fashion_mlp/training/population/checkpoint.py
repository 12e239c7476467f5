"""A population's after-epoch checkpoint: its members' stacked state, histories and
early-stopping records in one file (state.npz), valid in one rename, so a kill at any moment
leaves either the previous epoch's checkpoint or the new one, never half of each."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fashion_mlp.errors import ConfigError
from fashion_mlp.files import atomic_path

CHECKPOINT_ARRAYS = "state.npz"
RECORD_ARRAY = "record"  # the JSON record (epochs_done, seeds, histories, stops) as UTF-8 bytes
LEGACY_RECORD = "state.json"  # earlier versions wrote the record beside the arrays


def save_checkpoint(folder: Path, parts: dict[str, list], members: int, record: dict) -> None:
    """Write each part's arrays (their first `members` rows: without padding, any core count
    resumes) and `record` (epochs_done, seeds, histories, stops) into one file."""
    arrays = {
        f"{name}_{position}": np.asarray(value)[:members]
        for name, values in parts.items()
        for position, value in enumerate(values)
    }
    arrays[RECORD_ARRAY] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    with atomic_path(folder / CHECKPOINT_ARRAYS) as temporary:
        np.savez(temporary, **arrays)  # the name ends in .npz, so savez adds nothing
    (folder / LEGACY_RECORD).unlink(missing_ok=True)  # superseded: the record is inside


def load_checkpoint(
    folder: Path, seeds: list[int], counts: dict[str, int]
) -> tuple[dict[str, list[np.ndarray]], dict] | None:
    """The parts (`counts`: name -> arrays in it) and the record saved in `folder`, or None
    when there is no checkpoint; a ConfigError when it is for other members (seeds)."""
    if not (folder / CHECKPOINT_ARRAYS).is_file():
        return None
    with np.load(folder / CHECKPOINT_ARRAYS, allow_pickle=False) as arrays:
        record = _record(folder, arrays)
        if record is None:
            return None
        if record.get("seeds") != seeds:
            raise ConfigError(
                f"the population checkpoint in {folder} is for seeds {record.get('seeds')}, "
                f"not {seeds}; resume with the same members or remove that folder"
            )
        parts = {
            name: [arrays[f"{name}_{position}"][: len(seeds)] for position in range(count)]
            for name, count in counts.items()
        }
    return parts, record


def _record(folder: Path, arrays) -> dict | None:
    """The checkpoint's record: inside the file, or (earlier versions) in state.json beside it;
    None for arrays an earlier version wrote without their record (a kill between the two)."""
    if RECORD_ARRAY in arrays.files:
        return json.loads(arrays[RECORD_ARRAY].tobytes().decode())
    if (folder / LEGACY_RECORD).is_file():
        return json.loads((folder / LEGACY_RECORD).read_text(encoding="utf-8"))
    return None
