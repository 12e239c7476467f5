"""Where a data set's files are looked for: the folder the user named, else the Keras cache and
Debian's folder; and which of the files a folder holds."""

from __future__ import annotations

import os
from pathlib import Path

from fashion_mlp.backend import keras_home
from fashion_mlp.datasets.registry import IDX_FILES, DatasetSpec
from fashion_mlp.errors import DatasetError

DATA_ENV = "FASHION_MLP_DATA"


def chosen_folder(data_dir: str | Path | None) -> tuple[str, Path] | None:
    """The folder the user named, data_dir first, then $FASHION_MLP_DATA; None if neither."""
    if data_dir is not None:
        return "data_dir", Path(data_dir)
    if os.environ.get(DATA_ENV):
        return DATA_ENV, Path(os.environ[DATA_ENV])
    return None


def required_files(spec: DatasetSpec, source: str, folder: Path) -> dict[str, Path]:
    """The data set's files in a folder the user named; their absence is an error, no fallback."""
    named = f"data_dir {str(folder)!r}" if source == "data_dir" else f"${DATA_ENV}={str(folder)!r}"
    leave_out = "leave it out" if source == "data_dir" else f"unset {DATA_ENV}"
    if not folder.is_dir():
        raise DatasetError(
            f"{named} is not a folder: pass the folder that holds the four IDX files "
            f"({', '.join(IDX_FILES.values())}, raw or .gz), or {leave_out}"
        )
    files = find_files(spec, folder)
    if not files:
        archive = f", or {spec.npz[0]}" if spec.npz else ""
        raise DatasetError(
            f"{named} lacks {', '.join(missing_files(folder))} (raw or .gz{archive}); a folder "
            f"you name is used as it is, never replaced by another source: add the files, or "
            f"{leave_out} to search the usual places"
        )
    return files


def candidate_folders(spec: DatasetSpec) -> list[tuple[str, Path]]:
    """The usual places a known data set may be, in the order they are searched."""
    cache = keras_home() / "datasets"
    folders = [("keras_cache", cache / spec.cache_subdir)]
    if spec.npz:
        folders.append(("keras_cache", cache))
    if spec.debian_dir:
        folders.append(("debian", spec.debian_dir))
    return folders


def missing_files(folder: Path) -> list[str]:
    """The IDX file names found in folder neither raw nor gzipped."""
    return [
        name
        for name in IDX_FILES.values()
        if not (folder / name).is_file() and not (folder / f"{name}.gz").is_file()
    ]


def find_files(spec: DatasetSpec | None, folder: Path) -> dict[str, Path]:
    """The data set's files in folder: the four IDX files (raw or .gz), else the npz; or {}."""
    found = {}
    for role, name in IDX_FILES.items():
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                found[role] = candidate
                break
    if len(found) == len(IDX_FILES):
        return found
    if spec is not None and spec.npz and (folder / spec.npz[0]).is_file():
        return {"archive": folder / spec.npz[0]}
    return {}
