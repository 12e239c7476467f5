"""Shared fixtures: small synthetic data sets, as arrays and as IDX files on disk."""

from __future__ import annotations

import gzip
import os
import struct
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fashion_mlp import files
from fashion_mlp.datasets import FASHION_CLASSES, Dataset

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def synthetic_arrays(n: int, seed: int, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Learnable images: each class lights its own horizontal band, plus noise."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % num_classes).astype(np.uint8)
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
    for label in range(num_classes):
        rows = slice(2 * label + 4, 2 * label + 7)
        images[labels == label, rows, 4:24] = 200
    return images, labels


def synthetic_dataset(n_train: int = 600, n_test: int = 200, seed: int = 0) -> Dataset:
    """A small learnable Dataset with Fashion-MNIST's class names."""
    x_train, y_train = synthetic_arrays(n_train, seed)
    x_test, y_test = synthetic_arrays(n_test, seed + 1)
    return Dataset("synthetic", x_train, y_train, x_test, y_test, FASHION_CLASSES)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format (magic 0x00000800 + ndim, big-endian sizes)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool) -> Path:
    """Write one IDX file, gzipped (adding .gz) or raw; returns its path."""
    data = idx_bytes(array)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def write_idx_dataset(folder: Path, dataset: Dataset, gz: bool = True) -> Path:
    """Write a Dataset's four IDX files into folder; returns folder."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": dataset.x_train,
        "train_labels": dataset.y_train,
        "test_images": dataset.x_test,
        "test_labels": dataset.y_test,
    }
    for role, name in IDX_NAMES.items():
        write_idx(folder / name, arrays[role], gz)
    return folder


@pytest.fixture
def tiny_data() -> Dataset:
    """600 training and 200 test images of a learnable synthetic problem."""
    return synthetic_dataset()


@pytest.fixture(params=[True, False], ids=["gz", "raw"])
def idx_folder(tmp_path: Path, request) -> Path:
    """A folder holding a small synthetic data set as IDX files, gzipped or raw."""
    return write_idx_dataset(tmp_path / "idx", synthetic_dataset(120, 40), gz=request.param)


@pytest.fixture(scope="session", autouse=True)
def checksum_cache_home(tmp_path_factory) -> Iterator[Path]:
    """$XDG_CACHE_HOME in a temporary folder for the whole session (child processes too): the
    data loader's checksum cache never writes into the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("xdg_cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def real_data(checksum_cache_home) -> Dataset:
    """The real Fashion-MNIST, loaded once; skipped when it cannot be found (never downloaded),
    except where FASHION_MLP_REQUIRE_REAL_DATA=1 (CI), where its absence fails."""
    from fashion_mlp.datasets import load_dataset
    from fashion_mlp.errors import DatasetError

    try:
        return load_dataset("fashion", download=False)
    except DatasetError as error:
        if os.environ.get("FASHION_MLP_REQUIRE_REAL_DATA") == "1":
            raise
        pytest.skip(f"real Fashion-MNIST not available: {error}")


class Killed(BaseException):
    """The process dying: nothing in the library catches it."""


def renames_of(monkeypatch, kill_at: int | None = None) -> list:
    """Count the atomic renames; with kill_at, die just before that one (0-based)."""
    done, rename = [], os.replace

    def counted(source, target):
        if len(done) == kill_at:
            raise Killed
        rename(source, target)
        done.append(target)

    monkeypatch.setattr(files.os, "replace", counted)
    return done


JAX_CACHE_LIMIT_BYTES = 2**30  # a limit turns on JAX's file lock: workers write at once


def pytest_configure(config):
    share_jax_compilations(config)


def share_jax_compilations(config) -> None:
    """One persistent JAX compilation cache for the session, its xdist workers and the processes
    tests start (Ray's workers, the CLI, the tutorial's kernel), through the environment they
    inherit: a program another test compiled already (the smoke preset's step, say) is read
    back, not compiled again, which cut the training tests' time by a third. Kept between
    sessions in pytest's cache folder; a cache folder the user set is left as it is."""
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    settings = {
        "jax_compilation_cache_dir": str(cache_folder(config, "jax-compilations")),
        "jax_persistent_cache_min_compile_time_secs": 0,
        "jax_persistent_cache_min_entry_size_bytes": 0,
        "jax_compilation_cache_max_size": JAX_CACHE_LIMIT_BYTES,
    }
    os.environ.update({name.upper(): str(value) for name, value in settings.items()})
    if "jax" in sys.modules:  # imported already (by a plugin): its settings read the environment
        import jax

        for name, value in settings.items():
            jax.config.update(name, value)


def cache_folder(config, name: str) -> Path:
    """A folder in pytest's cache, or a new temporary one when its cache plugin is off."""
    cache = getattr(config, "cache", None)
    return cache.mkdir(name) if cache is not None else Path(tempfile.mkdtemp(prefix=name))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Keep each module on one worker, start the long ones first, and keep xdist's grouping
    (all three below)."""
    modules_whole(items)
    long_modules_first(items)
    keep_xdist_groups(config, items)


def modules_whole(items) -> None:
    """Every test without an xdist_group of its own joins its module's group, so that
    `--dist loadgroup` runs a module on one worker: a module-scoped fixture (a real-data
    training, a server) is then built once, not once on each worker that took some of its tests."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            module = item.path.relative_to(item.config.rootpath).with_suffix("")
            item.add_marker(pytest.mark.xdist_group(".".join(module.parts)))


def long_modules_first(items) -> None:
    """Modules with a `ray` test run first (their group is the longest), then those with a
    `slow` one, then the others, each module's tests still together and in order (a stable
    sort): xdist hands groups out in this order, so the short ones fill the workers at the end
    instead of one worker finishing a long training alone."""
    marked = {
        marker: {item.path for item in items if item.get_closest_marker(marker)}
        for marker in ("ray", "slow")
    }
    items.sort(key=lambda item: (item.path not in marked["ray"], item.path not in marked["slow"]))


def keep_xdist_groups(config, items) -> None:
    """Keep `--dist loadgroup` grouping on pytest >= 9.2 (pytest-xdist issue 1386): xdist marks
    a grouped test by appending "@group" to its node id, but writes the old `_nodeid` field,
    which pytest 9.2 no longer reads, so every group was silently spread over the workers
    (two servers, two Rays at once). Does nothing once xdist appends the suffix itself."""
    if not getattr(config.option, "loadgroup", False):  # set in xdist's workers only
        return
    from _pytest.nodeid import NodeId  # pytest >= 9.2: node ids are structured

    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        suffix = "@" + "_".join(sorted(names))
        if names and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)
