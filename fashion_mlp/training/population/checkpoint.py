"""A population's after-epoch checkpoint: its members' stacked state (state.npz) and their
histories and early-stopping records (state.json), so a later call continues exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fashion_mlp.errors import ConfigError
from fashion_mlp.files import atomic_path, write_json

CHECKPOINT_RECORD = "state.json"
CHECKPOINT_ARRAYS = "state.npz"


def save_checkpoint(folder: Path, parts: dict[str, list], members: int, record: dict) -> None:
    """Write each part's arrays (their first `members` rows: without padding, any core count
    resumes) and `record` (JSON: epochs_done, seeds, histories, stops)."""
    arrays = {
        f"{name}_{position}": np.asarray(value)[:members]
        for name, values in parts.items()
        for position, value in enumerate(values)
    }
    with atomic_path(folder / CHECKPOINT_ARRAYS) as temporary:
        np.savez(temporary, **arrays)  # the name ends in .npz, so savez adds nothing
    write_json(folder / CHECKPOINT_RECORD, record)


def load_checkpoint(
    folder: Path, seeds: list[int], counts: dict[str, int]
) -> tuple[dict[str, list[np.ndarray]], dict] | None:
    """The parts (`counts`: name -> arrays in it) and the record saved in `folder`, or None
    when there is no checkpoint; a ConfigError when it is for other members (seeds)."""
    if not (folder / CHECKPOINT_RECORD).is_file():
        return None
    record = json.loads((folder / CHECKPOINT_RECORD).read_text(encoding="utf-8"))
    if record.get("seeds") != seeds:
        raise ConfigError(
            f"the population checkpoint in {folder} is for seeds {record.get('seeds')}, "
            f"not {seeds}; resume with the same members or remove that folder"
        )
    with np.load(folder / CHECKPOINT_ARRAYS, allow_pickle=False) as arrays:
        parts = {
            name: [arrays[f"{name}_{position}"][: len(seeds)] for position in range(count)]
            for name, count in counts.items()
        }
    return parts, record
