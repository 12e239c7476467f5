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

    def __repr__(self) -> str:
        """One line: name, image counts and shape, classes, where it came from."""
        shape = "x".join(map(str, self.image_shape))
        checked = "verified" if self.provenance.verified else "not verified"
        return (
            f"<Dataset {self.name!r}: {len(self.x_train):,} training and {len(self.x_test):,} "
            f"test images of {shape} pixels, {self.num_classes} classes; "
            f"{self.provenance.source}, {checked}>"
        )

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
    for split in ("train", "test"):
        check_split(split, arrays, len(class_names), provenance)
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


def check_split(
    split: str, arrays: dict[str, np.ndarray], num_classes: int, provenance: Provenance
) -> None:
    """Raise unless the split's images are uint8 (count, rows, columns) with at least one pixel
    and one label each, every label naming one of the classes."""
    where = {record.role: record.path for record in provenance.files}
    images_file = where.get(f"{split}_images", provenance.location)
    labels_file = where.get(f"{split}_labels", provenance.location)
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if images.ndim != 3 or labels.ndim != 1 or images.dtype != np.uint8:
        raise DatasetError(
            f"{provenance.location}: {split} images have shape {images.shape} ({images.dtype}) "
            f"and labels {labels.shape}; expected uint8 (count, rows, columns) and (count,)"
        )
    if 0 in images.shape:
        raise DatasetError(
            f"{images_file}: holds no {split} pixels (shape {images.shape}); a data set needs "
            f"at least one training and one test image with at least one pixel. Replace the "
            f"file with one that holds images"
        )
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_file} holds {len(images):,} images but {labels_file} holds "
            f"{len(labels):,} labels; the two files of a split must have the same count"
        )
    if len(labels) and int(labels.max()) >= num_classes:
        raise DatasetError(
            f"{labels_file}: label {int(labels.max())} is outside the {num_classes} classes "
            f"0..{num_classes - 1}; for a folder with more classes, list their names in "
            f"{CLASS_NAMES_FILE}"
        )
