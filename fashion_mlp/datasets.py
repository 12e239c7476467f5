"""Data sets in MNIST format: find the four IDX files, verify their checksums, parse them."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from fashion_mlp.backend import keras_home
from fashion_mlp.errors import DatasetError
from fashion_mlp.idx import read_idx

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
CHECKSUM_CACHE = "checksums.json"  # verified SHA-256 by file, under $XDG_CACHE_HOME/fashion-mlp
CHECKSUM_CACHE_VERSION = 1  # bump when the file's layout changes: older files are then ignored


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


def load_dataset(
    name_or_path: str | Path = "fashion",
    data_dir: str | Path | None = None,
    download: bool = True,
    allow_modified: bool = False,
) -> Dataset:
    """Load a data set by name ("fashion", "mnist") or from a folder holding the four IDX files.

    A folder the user names is used as it is or is an error: `data_dir` when given, else
    `$FASHION_MLP_DATA` when set (an environment variable is the user's explicit choice too),
    must hold the files; nothing else is then searched. Otherwise a known data set is looked
    for in the Keras cache (`$KERAS_HOME` or `~/.keras`, under `datasets/`), then Debian's
    package folder, and is downloaded into the Keras cache when `download` is true. Its files
    are verified against the published SHA-256 of their decompressed content (remembered per
    file in `$XDG_CACHE_HOME/fashion-mlp/`, so unchanged files are not hashed again).
    `allow_modified` accepts files whose checksums differ from the known data set's (loaded
    unverified), for data changed on purpose.

    Args:
        name_or_path: "fashion", "mnist", or a folder holding the four IDX files.
        data_dir: the folder to read a known data set from (nothing else is searched).
        download: whether a known data set found nowhere may be downloaded.
        allow_modified: accept files whose checksums differ from the published ones.

    Returns:
        A Dataset: uint8 images (n, 28, 28), integer labels, class names, provenance.

    Raises:
        DatasetError: missing, truncated, corrupt or modified files, naming the file and fix.

    Example:
        >>> data = load_dataset("fashion")
        >>> data.x_train.shape, data.class_names[0], data.provenance.verified
        ((60000, 28, 28), 'T-shirt/top', True)
    """
    spec = DATASETS.get(str(name_or_path))
    if spec is None:
        return load_folder(Path(name_or_path), allow_modified=allow_modified)
    chosen = chosen_folder(data_dir)
    if chosen is not None:
        source, folder = chosen
        return read_dataset(
            spec, required_files(spec, source, folder), source, folder, allow_modified
        )
    searched = []
    for source, folder in candidate_folders(spec):
        files = find_files(spec, folder)
        if files:
            return read_dataset(spec, files, source, folder, allow_modified)
        searched.append(f"{source}: {folder} (not there)")
    if download:
        try:
            folder = download_dataset(spec.name)
        except DatasetError as error:
            searched.append(f"download into the Keras cache: failed ({error})")
        else:
            files = find_files(spec, folder)
            return read_dataset(spec, files, "download", folder, allow_modified)
    else:
        searched.append("download: not attempted (download=False)")
    raise DatasetError(not_found_message(spec, searched))


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
    cache = read_checksum_cache()
    arrays, records, stamps = read_idx_files(files, "path", cache)
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


def checksum_cache_path() -> Path | None:
    """Where verified checksums are remembered: $XDG_CACHE_HOME/fashion-mlp/checksums.json.

    None when there is no cache folder at all (no home directory): nothing is remembered then.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: relative or empty values are to be ignored
        try:
            base = Path.home() / ".cache"
        except RuntimeError:  # neither $HOME nor a password-database entry
            return None
    return Path(base) / "fashion-mlp" / CHECKSUM_CACHE


def file_stamp(path: Path) -> tuple[str, int, int] | None:
    """(resolved path, size, mtime_ns) identifying one version of a file; None if unstattable."""
    try:
        resolved = Path(path).resolve()
        stat = resolved.stat()
    except OSError:
        return None
    return str(resolved), stat.st_size, stat.st_mtime_ns


def read_checksum_cache() -> dict:
    """Remembered checksums by resolved path; empty when the file is missing or unreadable."""
    path = checksum_cache_path()
    try:
        content = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(content, dict) or content.get("version") != CHECKSUM_CACHE_VERSION:
        return {}
    files = content.get("files")
    return files if isinstance(files, dict) else {}


def cached_sha256(cache: dict, stamp: tuple[str, int, int] | None) -> str | None:
    """The remembered checksum of exactly this version of a file, if it is a published one."""
    entry = cache.get(stamp[0]) if stamp else None
    if not isinstance(entry, dict) or [entry.get("size"), entry.get("mtime_ns")] != [*stamp[1:]]:
        return None
    published = {sha for spec in DATASETS.values() for sha in spec.sha256.values()}
    return entry.get("sha256") if entry.get("sha256") in published else None


def remember_checksums(
    cache: dict, records: list[FileRecord], stamps: dict[str, tuple | None]
) -> None:
    """Add the verified records to the cache file, atomically; failing to write is harmless."""
    added = {
        stamps[r.role][0]: {
            "size": stamps[r.role][1],
            "mtime_ns": stamps[r.role][2],
            "sha256": r.sha256,
        }
        for r in records
        if r.verified and stamps.get(r.role)
    }
    if all(cache.get(key) == entry for key, entry in added.items()):
        return
    path = checksum_cache_path()
    if path is not None:
        kept = {key: entry for key, entry in cache.items() if Path(key).exists()}
        write_json_atomically(path, {"version": CHECKSUM_CACHE_VERSION, "files": kept | added})


def write_json_atomically(path: Path, content: dict) -> None:
    """Write JSON through a temporary file and os.replace; give up quietly on OSError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(content, file, indent=1)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
