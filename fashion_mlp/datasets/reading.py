"""Reading a data set's files into a Dataset: the four IDX files or Keras's npz, verified
against the published checksums; any folder of IDX files, recognised when it is a known copy."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path

import numpy as np

from fashion_mlp.datasets.checksums import (
    cached_sha256,
    file_stamp,
    read_checksum_cache,
    remember_checksums,
)
from fashion_mlp.datasets.dataset import Dataset, FileRecord, Provenance, build_dataset
from fashion_mlp.datasets.registry import (
    CLASS_NAMES_FILE,
    DATASETS,
    DIGIT_CLASSES,
    IDX_FILES,
    DatasetSpec,
)
from fashion_mlp.datasets.search import find_files, missing_files
from fashion_mlp.errors import DatasetError
from fashion_mlp.idx import read_idx


def repair_hint(source: str, path: Path) -> str:
    """How to repair a bad file, depending on where it was found."""
    if source in ("keras_cache", "download"):
        return f"Delete {path} so that it downloads again."
    if source == "debian":
        return "Reinstall it: apt-get install --reinstall dataset-fashion-mnist."
    return f"Replace {path} with a good copy, or remove it to use another source."


def read_dataset(
    spec: DatasetSpec,
    files: dict[str, Path],
    source: str,
    folder: Path,
    allow_modified: bool = False,
) -> Dataset:
    """Read, verify and validate a known data set's files into a Dataset."""
    if "archive" in files:
        arrays, records = read_npz(spec, files["archive"], source)
    else:
        cache = read_checksum_cache()
        arrays, records, stamps = read_idx_files(files, source, cache)
        records = [replace(r, verified=spec.sha256.get(r.role) == r.sha256) for r in records]
        differing = [r for r in records if r.role in spec.sha256 and not r.verified]
        if differing and not allow_modified:
            raise checksum_error(spec, differing[0], source)
        remember_checksums(cache, records, stamps)
    provenance = Provenance(source, str(folder), tuple(records))
    return build_dataset(spec.name, arrays, spec.class_names, provenance)


def checksum_error(spec: DatasetSpec, record: FileRecord, source: str) -> DatasetError:
    """The error for a known data set's file whose checksum differs from the published one."""
    return DatasetError(
        f"{record.path}: checksum mismatch for {spec.name} {record.role}: SHA-256 of the "
        f"decompressed content is {record.sha256}, expected {spec.sha256[record.role]}. "
        f"The file is corrupt or a different data set. {repair_hint(source, Path(record.path))} "
        f"To use modified data on purpose, pass allow_modified=True (--allow-modified)."
    )


def read_idx_files(
    files: dict[str, Path], source: str, cache: dict | None = None
) -> tuple[dict[str, np.ndarray], list[FileRecord], dict[str, tuple]]:
    """Parse the four IDX files: arrays and an unverified record by role, and file stamps.

    A file whose stamp (resolved path, size, mtime) has a verified checksum in `cache` is
    validated as fully as any other, only not hashed again.
    """
    arrays, records, stamps = {}, [], {}
    for role, path in files.items():
        stamps[role] = file_stamp(path)
        known = cached_sha256(cache or {}, stamps[role])
        fix = repair_hint(source, path)
        parsed = read_idx(path, 3 if role.endswith("images") else 1, fix, sha256=known)
        arrays[role] = parsed.array
        records.append(FileRecord(role, str(path), parsed.sha256, verified=False))
    return arrays, records, stamps


def read_npz(
    spec: DatasetSpec, path: Path, source: str
) -> tuple[dict[str, np.ndarray], list[FileRecord]]:
    """Read Keras's single-archive copy (mnist.npz) after verifying its SHA-256."""
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    if digest != spec.npz[1]:
        raise DatasetError(
            f"{path}: checksum mismatch: SHA-256 is {digest}, expected {spec.npz[1]}. "
            f"{repair_hint(source, path)}"
        )
    keys = {"train_images": "x_train", "train_labels": "y_train"}
    keys |= {"test_images": "x_test", "test_labels": "y_test"}
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as archive:
            arrays = {role: archive[key] for role, key in keys.items()}
    except (KeyError, ValueError, OSError) as error:
        raise DatasetError(
            f"{path}: unreadable archive ({error}). {repair_hint(source, path)}"
        ) from None
    return arrays, [FileRecord("archive", str(path), digest, verified=True)]


def load_folder(folder: Path, allow_modified: bool = False) -> Dataset:
    """Load any folder holding the four IDX files: fully validated, checksummed if known.

    A copy of a known data set is recognised by its checksums; one with a known data set's
    shapes but other checksums is refused as modified unless `allow_modified`, and then loads
    as an unknown data set named after the folder, unverified.
    """
    folder = Path(folder)
    cache = read_checksum_cache()
    arrays, records, stamps = read_idx_files(folder_files(folder), "path", cache)
    for spec in DATASETS.values():  # a copy of a known data set is recognised and verified
        if spec.sha256 and all(spec.sha256[r.role] == r.sha256 for r in records):
            records = [replace(record, verified=True) for record in records]
            remember_checksums(cache, records, stamps)
            provenance = Provenance("path", str(folder), tuple(records))
            return build_dataset(spec.name, arrays, spec.class_names, provenance)
    if not allow_modified:
        refuse_modified_copy(folder, arrays, records)
    provenance = Provenance("path", str(folder), tuple(records))
    return build_dataset(folder.name, arrays, folder_class_names(folder), provenance)


def folder_files(folder: Path) -> dict[str, Path]:
    """The four IDX files of a folder named as the data set, or the error saying what is missing."""
    if not folder.is_dir():
        raise DatasetError(
            f"{str(folder)!r} is neither a known data set ({', '.join(DATASETS)}) nor a folder; "
            f"pass a name or a folder holding the four IDX files ({', '.join(IDX_FILES.values())})"
        )
    files = find_files(None, folder)
    if not files:
        raise DatasetError(
            f"{folder}: missing {', '.join(missing_files(folder))} (raw or .gz); an MNIST-format "
            f"folder holds all four IDX files"
        )
    return files


def refuse_modified_copy(
    folder: Path, arrays: dict[str, np.ndarray], records: list[FileRecord]
) -> None:
    """Raise when the files have a known data set's names and shapes but not its checksums."""
    for spec in DATASETS.values():
        shapes = {role: tuple(array.shape) for role, array in arrays.items()}
        if not spec.sha256 or shapes != spec.shapes:
            continue
        differing = [
            f"{Path(r.path).name} (SHA-256 {r.sha256}, expected {spec.sha256[r.role]})"
            for r in records
            if r.sha256 != spec.sha256[r.role]
        ]
        raise DatasetError(
            f"{folder}: the files have the names and shapes of the {spec.name!r} data set but "
            f"not its content; differing from {spec.name}: {'; '.join(differing)}. The folder "
            f"is a modified or damaged copy: replace the files with good copies, or load "
            f"{spec.name!r} by name to use a verified copy. To use modified data on purpose, "
            f"pass allow_modified=True or --allow-modified (it then loads unverified, as data set "
            f"{folder.name!r}). MNIST digits share this layout: load them with "
            f"load_dataset('mnist', data_dir=FOLDER)."
        )


def folder_class_names(folder: Path) -> tuple[str, ...]:
    """Class names from the folder's class_names.txt, else the ten digits."""
    path = folder / CLASS_NAMES_FILE
    if not path.is_file():
        return DIGIT_CLASSES
    names = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    if len(names) < 2:
        raise DatasetError(
            f"{path}: found {len(names)} class names, expected at least 2, one per line"
        )
    return names
