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


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize(
    "shape", [(2**31, 28, 28), (2**32 - 1,) * 3, (1, 2**32 - 1, 2**32 - 1)], ids=str
)
def test_overflowing_header_is_refused_before_allocating(tmp_path, gz, shape):
    content = struct.pack(">HBB3I", 0, 8, 3, *shape) + bytes(28 * 28)
    path = write_bytes(tmp_path, gzip.compress(content) if gz else content)
    announced = 16 + shape[0] * shape[1] * shape[2]
    with pytest.raises(DatasetError, match=rf"header says shape .*i\.e\. {announced:,} bytes"):
        read_idx(path, 3, FIX)


def test_header_announcing_more_than_gzip_can_hold_names_both_sizes(tmp_path):
    content = struct.pack(">HBBI", 0, 8, 1, 10**8) + bytes(100)
    path = write_bytes(tmp_path, gzip.compress(content))
    with pytest.raises(DatasetError, match="decompresses to at most") as error:
        read_idx(path, 1, FIX)
    assert "100,000,008 bytes" in str(error.value) and FIX in str(error.value)


@pytest.mark.parametrize("cuts", [[3], [2, 9], [200, 201], [0, 5, 700]], ids=str)
def test_multi_member_gzip_is_read_whole(tmp_path, cuts):
    labels = np.arange(1000, dtype=np.uint8)
    content = idx_bytes(labels)
    pieces = [content[a:b] for a, b in zip([0, *cuts], [*cuts, len(content)], strict=True)]
    path = write_bytes(tmp_path, b"".join(gzip.compress(piece) for piece in pieces))
    parsed = read_idx(path, 1, FIX)
    np.testing.assert_array_equal(parsed.array, labels)
    assert parsed.sha256 == read_idx(write_idx(tmp_path / "one", labels, gz=True), 1, FIX).sha256


def test_zero_padding_after_gzip_is_accepted(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = write_bytes(tmp_path, gzip.compress(idx_bytes(labels)) + bytes(100_000))
    np.testing.assert_array_equal(read_idx(path, 1, FIX).array, labels)


def test_garbage_after_gzip_is_refused(tmp_path):
    path = write_bytes(tmp_path, gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8))) + b"junk")
    with pytest.raises(DatasetError, match="not another gzip member"):
        read_idx(path, 1, FIX)


def test_gzip_content_longer_than_its_header_stops_early(tmp_path):
    content = idx_bytes(np.arange(10, dtype=np.uint8)) + bytes(5_000_000)
    path = write_bytes(tmp_path, gzip.compress(content))
    with pytest.raises(DatasetError, match=r"has trailing bytes: header says shape \(10,\)"):
        read_idx(path, 1, FIX)


def test_gzip_content_shorter_than_its_header(tmp_path):
    content = idx_bytes(np.arange(10, dtype=np.uint8))[:-3]
    path = write_bytes(tmp_path, gzip.compress(content))
    with pytest.raises(DatasetError, match="truncated: .* but the content is 15 bytes"):
        read_idx(path, 1, FIX)


def test_gzip_cut_inside_the_header(tmp_path):
    path = write_bytes(tmp_path, gzip.compress(b"\x00\x00\x08\x03\x00\x00\x00"))
    with pytest.raises(DatasetError, match=r"IDX header cut short \(7 bytes\)"):
        read_idx(path, 3, FIX)


def test_array_is_read_only_and_shape_uses_python_ints(tmp_path):
    parsed = read_idx(write_idx(tmp_path / "a", np.zeros((2, 3, 4), np.uint8), gz=True), 3, FIX)
    assert parsed.array.shape == (2, 3, 4)
    assert not parsed.array.flags.writeable


def test_known_checksum_skips_hashing_but_not_validation(tmp_path):
    path = write_idx(tmp_path / "a", np.arange(5, dtype=np.uint8), gz=False)
    assert read_idx(path, 1, FIX, sha256="f" * 64).sha256 == "f" * 64
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(DatasetError, match="has trailing bytes"):
        read_idx(path, 1, FIX, sha256="f" * 64)


def test_unreadable_path(tmp_path):
    with pytest.raises(DatasetError, match="cannot read the file") as error:
        read_idx(tmp_path, 1, FIX)
    assert FIX in str(error.value)
