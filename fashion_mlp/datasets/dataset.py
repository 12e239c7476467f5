"""A loaded data set (`Dataset`), where it came from (`Provenance`), and the checks that make
four arrays one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from fashion_mlp.datasets.registry import CLASS_NAMES_FILE
from fashion_mlp.errors import DatasetError


@dataclass(frozen=True)
class FileRecord:
    """One file a data set was read from, with the SHA-256 of its decompressed content."""

    role: str  # train_images, train_labels, test_images or test_labels
    path: str
    sha256: str
    verified: bool  # True when sha256 matched the published value


@dataclass(frozen=True)
class Provenance:
    """Where a data set came from: the source searched, the folder and each file's checksum."""

    source: (
        str  # "data_dir", "FASHION_MLP_DATA", "keras_cache", "debian", "download", "path", "arrays"
    )
    location: str
    files: tuple[FileRecord, ...] = ()

    @property
    def verified(self) -> bool:
        return bool(self.files) and all(record.verified for record in self.files)

    def as_dict(self) -> dict:
        """Source, location, verified and each file's record, as plain JSON types."""
        return {
            "source": self.source,
            "location": self.location,
            "verified": self.verified,
            "files": [dataclasses.asdict(record) for record in self.files],
        }


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images as uint8 (n, 28, 28), integer labels (n,), class names in label order, provenance."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    provenance: Provenance = field(default_factory=lambda: Provenance("arrays", "memory"))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def build_dataset(
    name: str, arrays: dict[str, np.ndarray], class_names: tuple[str, ...], provenance: Provenance
) -> Dataset:
    """Check that the four arrays agree with each other and the classes; returns the Dataset."""
    where = {record.role: record.path for record in provenance.files}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or images.dtype != np.uint8:
            raise DatasetError(
                f"{provenance.location}: {split} images have shape {images.shape} ({images.dtype}) "
                f"and labels {labels.shape}; expected uint8 (count, rows, columns) and (count,)"
            )
        if 0 in images.shape:
            raise DatasetError(
                f"{where.get(f'{split}_images', provenance.location)}: holds no {split} pixels "
                f"(shape {images.shape}); a data set needs at least one training and one test "
                f"image with at least one pixel. Replace the file with one that holds images"
            )
        if len(images) != len(labels):
            raise DatasetError(
                f"{where.get(f'{split}_images', provenance.location)} holds {len(images):,} "
                f"images but {where.get(f'{split}_labels', provenance.location)} holds "
                f"{len(labels):,} labels; the two files of a split must have the same count"
            )
        if len(labels) and int(labels.max()) >= len(class_names):
            raise DatasetError(
                f"{where.get(f'{split}_labels', provenance.location)}: label {int(labels.max())} "
                f"is outside the {len(class_names)} classes 0..{len(class_names) - 1}; "
                f"for a folder with more classes, list their names in {CLASS_NAMES_FILE}"
            )
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise DatasetError(
            f"{provenance.location}: training images are {arrays['train_images'].shape[1:]} "
            f"pixels but test images are {arrays['test_images'].shape[1:]}; they must agree"
        )
    return Dataset(
        name,
        arrays["train_images"],
        arrays["train_labels"],
        arrays["test_images"],
        arrays["test_labels"],
        class_names,
        provenance,
    )
