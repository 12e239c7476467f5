"""The checksum cache: unchanged files are not hashed again; a touched file, a corrupt cache
or an entry with an unpublished checksum is never believed; an unwritable cache does not
stop loading."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest
from conftest import write_idx_dataset
from dataset_sources import SMALL, isolated_sources, one_byte_changed, own_checksum_cache

from fashion_mlp.datasets import load_dataset
from fashion_mlp.datasets.checksums import checksum_cache_path
from fashion_mlp.errors import DatasetError


@pytest.fixture(autouse=True)
def checksum_cache(tmp_path, monkeypatch):
    """Every test gets its own empty checksum cache, never the user's."""
    return own_checksum_cache(tmp_path, monkeypatch)


@pytest.fixture
def sources(tmp_path, monkeypatch):
    return isolated_sources(tmp_path, monkeypatch)


@pytest.fixture
def hash_calls(monkeypatch):
    """Count SHA-256 computations of IDX content."""
    calls = []
    real = hashlib.sha256

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "sha256", counting)
    return calls


def test_second_load_of_unchanged_files_does_not_hash(sources, checksum_cache, hash_calls):
    write_idx_dataset(sources["debian"], SMALL)
    first = load_dataset("fashion")
    assert len(hash_calls) == 4 and checksum_cache.is_file()
    second = load_dataset("fashion")
    assert len(hash_calls) == 4
    assert second.provenance.as_dict() == first.provenance.as_dict()
    np.testing.assert_array_equal(second.x_train, SMALL.x_train)
    assert [p.name for p in checksum_cache.parent.iterdir()] == [checksum_cache.name]  # no temps


def test_cache_is_keyed_by_size_and_mtime(sources, hash_calls):
    folder = write_idx_dataset(sources["debian"], SMALL, gz=False)
    load_dataset("fashion")
    path = folder / "t10k-labels-idx1-ubyte"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))  # touched, same content
    load_dataset("fashion")
    assert len(hash_calls) == 5
    one_byte_changed(folder)  # same size, new mtime: hashed again and caught
    with pytest.raises(DatasetError, match="checksum mismatch"):
        load_dataset("fashion")


def test_cache_hit_still_validates_the_file(sources):
    folder = write_idx_dataset(sources["debian"], SMALL, gz=False)
    load_dataset("fashion")
    path = folder / "t10k-labels-idx1-ubyte"
    stat = path.stat()
    content = bytearray(path.read_bytes())
    content[0] = 0x12  # the magic number, same size
    path.write_bytes(bytes(content))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime: a cache hit
    with pytest.raises(DatasetError, match="not an IDX file"):
        load_dataset("fashion")


@pytest.mark.parametrize("junk", ["", "{not json", "[1, 2]", '{"version": 1, "files": 3}'])
def test_corrupt_cache_is_ignored_and_rebuilt(sources, checksum_cache, hash_calls, junk):
    write_idx_dataset(sources["debian"], SMALL)
    checksum_cache.parent.mkdir(parents=True)
    checksum_cache.write_text(junk)
    assert load_dataset("fashion").provenance.verified
    assert len(json.loads(checksum_cache.read_text())["files"]) == 4
    load_dataset("fashion")
    assert len(hash_calls) == 4


def test_cache_entry_with_an_unpublished_checksum_is_not_trusted(sources, checksum_cache):
    folder = write_idx_dataset(sources["debian"], SMALL)
    load_dataset("fashion")
    content = json.loads(checksum_cache.read_text())
    for entry in content["files"].values():
        entry["sha256"] = "0" * 64
    checksum_cache.write_text(json.dumps(content))
    assert load_dataset("fashion").provenance.verified
    assert str((folder / "train-images-idx3-ubyte.gz").resolve()) in checksum_cache.read_text()


def test_unwritable_cache_does_not_stop_loading(sources, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    write_idx_dataset(sources["debian"], SMALL)
    assert load_dataset("fashion").provenance.verified


def test_relative_xdg_cache_home_is_ignored(monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert checksum_cache_path().is_absolute()


def test_folder_copy_of_known_data_set_uses_the_cache(sources, tmp_path, hash_calls):
    folder = write_idx_dataset(tmp_path / "copy", SMALL, gz=False)
    load_dataset(folder)
    assert load_dataset(folder).provenance.verified
    assert len(hash_calls) == 4
