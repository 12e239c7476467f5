"""Data sets in MNIST format: find the four IDX files, verify their checksums, parse them."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from fashion_mlp.backend import keras_home
from fashion_mlp.errors import DatasetError
from fashion_mlp.idx import read_idx

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
            "source": self.source, "location": self.location, "verified": self.verified,
            "files": [dataclasses.asdict(record) for record in self.files],
        }  # fmt: skip


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


IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
DOWNLOAD_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"  # Keras's mirror
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
DATA_ENV = "FASHION_MLP_DATA"
CLASS_NAMES_FILE = "class_names.txt"  # optional, one name per line, for folders given by path


@dataclass(frozen=True)
class DatasetSpec:
    """A known data set: its class names, the published checksums and where copies live."""

    name: str
    class_names: tuple[str, ...]
    sha256: dict[str, str]  # role -> SHA-256 of the decompressed IDX file
    cache_subdir: str  # under $KERAS_HOME/datasets, where Keras's own loader caches it
    debian_dir: Path | None = None
    npz: tuple[str, str] | None = None  # (file name, SHA-256) of Keras's single-archive copy


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
    ),
    "mnist": DatasetSpec(
        name="mnist",
        class_names=DIGIT_CLASSES,
        sha256={},  # no published checksums of the decompressed IDX files; the npz has one
        cache_subdir="mnist",
        npz=("mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    ),
}


def load_dataset(
    name_or_path: str | Path = "fashion", data_dir: str | Path | None = None, download: bool = True
) -> Dataset:
    """Load a data set by name ("fashion", "mnist") or from a folder holding the four IDX files.

    A known data set is looked for, in order, in `data_dir`, `$FASHION_MLP_DATA`, the Keras
    cache (`$KERAS_HOME` or `~/.keras`, under `datasets/`), Debian's package folder, and is
    otherwise downloaded into the Keras cache when `download` is true. Its files are verified
    against the published SHA-256 of their decompressed content.
    """
    spec = DATASETS.get(str(name_or_path))
    if spec is None:
        return load_folder(Path(name_or_path))
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DatasetError(
            f"data_dir {str(data_dir)!r} is not a folder: pass the folder that holds the four "
            f"IDX files ({', '.join(IDX_FILES.values())}, raw or .gz), or leave it out"
        )
    searched = []
    for source, folder in candidate_folders(spec, data_dir):
        files = find_files(spec, folder)
        if files:
            return read_dataset(spec, files, source, folder)
        searched.append(f"{source}: {folder} (not there)")
    if download:
        try:
            folder = download_dataset(spec.name)
        except DatasetError as error:
            searched.append(f"download into the Keras cache: failed ({error})")
        else:
            return read_dataset(spec, find_files(spec, folder), "download", folder)
    else:
        searched.append("download: not attempted (download=False)")
    raise DatasetError(not_found_message(spec, searched))


def candidate_folders(spec: DatasetSpec, data_dir: str | Path | None) -> list[tuple[str, Path]]:
    """The local places a known data set may be, in the order they are searched."""
    cache = keras_home() / "datasets"
    folders = []
    if data_dir is not None:
        folders.append(("data_dir", Path(data_dir)))
    if os.environ.get(DATA_ENV):
        folders.append((DATA_ENV, Path(os.environ[DATA_ENV])))
    folders.append(("keras_cache", cache / spec.cache_subdir))
    if spec.npz:
        folders.append(("keras_cache", cache))
    if spec.debian_dir:
        folders.append(("debian", spec.debian_dir))
    return folders


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


def download_dataset(name: str, force: bool = False) -> Path:
    """Download a known data set into the Keras cache (again when `force`); returns the folder."""
    import keras  # deferred: only downloads need it, and importing Keras takes seconds

    spec = DATASETS[name]
    if spec.npz:
        fname, file_hash, subdir = spec.npz[0], spec.npz[1], "datasets"
        names = [(fname, file_hash)]
    else:
        subdir = f"datasets/{spec.cache_subdir}"
        names = [(f"{name}.gz", None) for name in IDX_FILES.values()]
    paths = []
    for fname, file_hash in names:
        try:
            paths.append(
                keras.utils.get_file(
                    fname,
                    origin=DOWNLOAD_BASE + fname,
                    file_hash=file_hash,
                    cache_dir=str(keras_home()),
                    cache_subdir=subdir,
                    force_download=force,
                )
            )
        except Exception as error:  # get_file raises plain Exception for network failures
            raise DatasetError(f"could not download {DOWNLOAD_BASE + fname}: {error}") from None
    return Path(paths[0]).parent


def not_found_message(spec: DatasetSpec, searched: list[str]) -> str:
    """The error for a data set found nowhere: every place searched and the ways to get it."""
    places = "\n".join(f"  - {place}" for place in searched)
    ways = [
        "connect to the internet and run again (it downloads into the Keras cache once)",
        f"pass --data-dir FOLDER (or set {DATA_ENV}) to a folder holding the four IDX files",
    ]
    if spec.debian_dir:
        ways.insert(1, "on Debian/Ubuntu: apt-get install dataset-fashion-mnist")
    fixes = "\n".join(f"  - {way}" for way in ways)
    return f"data set {spec.name!r} not found. Searched:\n{places}\nTo get it:\n{fixes}"


def repair_hint(source: str, path: Path) -> str:
    """How to repair a bad file, depending on where it was found."""
    if source in ("keras_cache", "download"):
        return f"Delete {path} so that it downloads again."
    if source == "debian":
        return "Reinstall it: apt-get install --reinstall dataset-fashion-mnist."
    return f"Replace {path} with a good copy, or remove it to use another source."


def read_dataset(spec: DatasetSpec, files: dict[str, Path], source: str, folder: Path) -> Dataset:
    """Read, verify and validate a known data set's files into a Dataset."""
    if "archive" in files:
        arrays, records = read_npz(spec, files["archive"], source)
    else:
        arrays, records = read_idx_files(files, source)
        for record in records:
            expected = spec.sha256.get(record.role)
            if expected and record.sha256 != expected:
                raise DatasetError(
                    f"{record.path}: checksum mismatch for {spec.name} {record.role}: SHA-256 of "
                    f"the decompressed content is {record.sha256}, expected {expected}. "
                    f"The file is corrupt or a different data set. "
                    f"{repair_hint(source, Path(record.path))}"
                )
        records = [replace(record, verified=record.role in spec.sha256) for record in records]
    provenance = Provenance(source, str(folder), tuple(records))
    return build_dataset(spec.name, arrays, spec.class_names, provenance)


def read_idx_files(
    files: dict[str, Path], source: str
) -> tuple[dict[str, np.ndarray], list[FileRecord]]:
    """Parse the four IDX files; returns the arrays by role and an unverified record of each."""
    arrays, records = {}, []
    for role, path in files.items():
        parsed = read_idx(path, 3 if role.endswith("images") else 1, repair_hint(source, path))
        arrays[role] = parsed.array
        records.append(FileRecord(role, str(path), parsed.sha256, verified=False))
    return arrays, records


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


def load_folder(folder: Path) -> Dataset:
    """Load any folder holding the four IDX files: fully validated, checksummed if known."""
    if not folder.is_dir():
        raise DatasetError(
            f"{str(folder)!r} is neither a known data set ({', '.join(DATASETS)}) nor a folder; "
            f"pass a name or a folder holding the four IDX files ({', '.join(IDX_FILES.values())})"
        )
    files = find_files(None, folder)
    if not files:
        missing = [
            name for name in IDX_FILES.values()
            if not (folder / name).is_file() and not (folder / f"{name}.gz").is_file()
        ]  # fmt: skip
        raise DatasetError(
            f"{folder}: missing {', '.join(missing)} (raw or .gz); an MNIST-format folder holds "
            f"all four IDX files"
        )
    arrays, records = read_idx_files(files, "path")
    for spec in DATASETS.values():  # a copy of a known data set is recognised and verified
        if spec.sha256 and all(spec.sha256[r.role] == r.sha256 for r in records):
            records = [replace(record, verified=True) for record in records]
            return build_dataset(
                spec.name, arrays, spec.class_names, Provenance("path", str(folder), tuple(records))
            )
    provenance = Provenance("path", str(folder), tuple(records))
    return build_dataset(folder.name, arrays, folder_class_names(folder), provenance)


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
        name, arrays["train_images"], arrays["train_labels"],
        arrays["test_images"], arrays["test_labels"], class_names, provenance,
    )  # fmt: skip
