"""Data sets in MNIST format: find the four IDX files, verify their checksums, parse them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))


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

    source: str  # "data_dir", "FASHION_MLP_DATA", "keras_cache", "debian", "download", "path", "arrays"
    location: str
    files: tuple[FileRecord, ...] = ()

    @property
    def verified(self) -> bool:
        return bool(self.files) and all(record.verified for record in self.files)


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
