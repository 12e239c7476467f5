"""The known data sets, declared in one table: class names, published checksums, file names
and where copies live (Keras's mirror and cache, Debian's package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CLASS_NAMES_FILE = "class_names.txt"  # optional, one name per line, for folders given by path
DOWNLOAD_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"  # Keras's mirror
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


@dataclass(frozen=True)
class DatasetSpec:
    """A known data set: its class names, the published checksums and where copies live."""

    name: str
    class_names: tuple[str, ...]
    sha256: dict[str, str]  # role -> SHA-256 of the decompressed IDX file
    cache_subdir: str  # under $KERAS_HOME/datasets, where Keras's own loader caches it
    debian_dir: Path | None = None
    npz: tuple[str, str] | None = None  # (file name, SHA-256) of Keras's single-archive copy
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # role -> array shape


DATASETS = {
    "fashion": DatasetSpec(
        name="fashion",
        class_names=FASHION_CLASSES,
        sha256={
            "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        cache_subdir="fashion-mnist",
        debian_dir=DEBIAN_DIR,
        shapes={
            "train_images": (60000, 28, 28),
            "train_labels": (60000,),
            "test_images": (10000, 28, 28),
            "test_labels": (10000,),
        },
    ),
    "mnist": DatasetSpec(
        name="mnist",
        class_names=DIGIT_CLASSES,
        sha256={},  # no published checksums of the decompressed IDX files; the npz has one
        cache_subdir="mnist",
        npz=("mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    ),
}
