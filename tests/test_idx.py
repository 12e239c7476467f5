"""The IDX reader: round trips and one clear error for each kind of malformed file."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from conftest import idx_bytes, write_idx

from fashion_mlp.errors import DatasetError
from fashion_mlp.idx import read_idx

FIX = "Replace the file."


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_round_trip(tmp_path, gz):
    images = np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28)
    path = write_idx(tmp_path / "images", images, gz)
    parsed = read_idx(path, 3, FIX)
    np.testing.assert_array_equal(parsed.array, images)
    assert parsed.array.dtype == np.uint8


def test_checksum_is_of_decompressed_content(tmp_path):
    labels = np.array([1, 2, 3], dtype=np.uint8)
    gz = read_idx(write_idx(tmp_path / "a", labels, gz=True), 1, FIX)
    raw = read_idx(write_idx(tmp_path / "b", labels, gz=False), 1, FIX)
    recompressed = tmp_path / "c"
    recompressed.write_bytes(gzip.compress(idx_bytes(labels), compresslevel=1))
    assert gz.sha256 == raw.sha256 == read_idx(recompressed, 1, FIX).sha256


def write_bytes(tmp_path, content: bytes):
    path = tmp_path / "bad"
    path.write_bytes(content)
    return path


def test_bad_magic(tmp_path):
    path = write_bytes(tmp_path, b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(DatasetError, match=r"not an IDX file \(magic number starts 0x1234"):
        read_idx(path, 1, FIX)


def test_unsupported_type_code(tmp_path):
    path = write_bytes(tmp_path, b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 4)
    with pytest.raises(DatasetError, match=r"type code 0x0d \(float32\).*unsigned bytes"):
        read_idx(path, 1, FIX)


def test_wrong_number_of_dimensions(tmp_path):
    path = write_idx(tmp_path / "labels", np.zeros((2, 3), np.uint8), gz=False)
    with pytest.raises(DatasetError, match="has 2 dimensions, expected 1"):
        read_idx(path, 1, FIX)


def test_truncated_content(tmp_path):
    content = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    path = write_bytes(tmp_path, content[:-100])
    with pytest.raises(DatasetError, match=r"truncated: header says shape \(4, 28, 28\)"):
        read_idx(path, 3, FIX)


def test_trailing_bytes(tmp_path):
    path = write_bytes(tmp_path, idx_bytes(np.zeros(5, np.uint8)) + b"junk")
    with pytest.raises(DatasetError, match="has trailing bytes"):
        read_idx(path, 1, FIX)


def test_header_cut_short(tmp_path):
    path = write_bytes(tmp_path, b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(DatasetError, match="IDX header cut short"):
        read_idx(path, 3, FIX)


def test_too_short_for_a_header(tmp_path):
    with pytest.raises(DatasetError, match="too short for an IDX header"):
        read_idx(write_bytes(tmp_path, b"\x00"), 1, FIX)


def test_truncated_gzip(tmp_path):
    compressed = gzip.compress(idx_bytes(np.random.default_rng(0).integers(0, 255, 5000)))
    path = write_bytes(tmp_path, compressed[: len(compressed) // 2])
    with pytest.raises(DatasetError, match="truncated gzip file") as error:
        read_idx(path, 1, FIX)
    assert FIX in str(error.value)


def test_corrupt_gzip(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8))))
    compressed[12:20] = b"\xff" * 8  # inside the deflate stream
    with pytest.raises(DatasetError, match="corrupt gzip data"):
        read_idx(write_bytes(tmp_path, bytes(compressed)), 1, FIX)
