"""`load_dataset`: a data set by name or folder, from the folder the user named, else the
usual places, else a download."""

from __future__ import annotations

from pathlib import Path

from fashion_mlp.datasets.dataset import Dataset
from fashion_mlp.datasets.download import download_dataset
from fashion_mlp.datasets.reading import load_folder, read_dataset
from fashion_mlp.datasets.registry import DATASETS, DatasetSpec
from fashion_mlp.datasets.search import (
    DATA_ENV,
    candidate_folders,
    chosen_folder,
    find_files,
    required_files,
)
from fashion_mlp.errors import DatasetError


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

    Examples:
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
