"""Property tests of the IDX reader: whatever the damage, a correct array or a DatasetError."""

from __future__ import annotations

import gzip
import math
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashion_mlp.errors import DatasetError
from fashion_mlp.idx import read_idx

FIX = "Replace the file."
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXTREME_SIZES = [0, 1, 28, 2**31 - 1, 2**31, 2**32 - 1]


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    """One file, rewritten by every example (a module-scoped path suits Hypothesis)."""
    return tmp_path_factory.mktemp("idx") / "file"


@st.composite
def idx_contents(draw) -> tuple[int, bytes]:
    """(dimensions, bytes) of a valid IDX file of labels or small images."""
    ndim = draw(st.sampled_from([1, 3]))
    shape = draw(st.lists(st.integers(0, 5), min_size=ndim, max_size=ndim))
    values = draw(st.binary(min_size=math.prod(shape), max_size=math.prod(shape)))
    return ndim, struct.pack(f">HBB{ndim}I", 0, 8, ndim, *shape) + values


@st.composite
def mutated(draw, content: bytes) -> bytes:
    """The content with header fields, bytes, its end or extra bytes changed."""
    data = bytearray(content)
    kind = draw(st.sampled_from(["size", "flip", "truncate", "append"]))
    fields = (len(data) - 4) // 4  # whole uint32 fields after the magic (sizes, or values)
    if kind == "size" and fields > 0:
        at = 4 + 4 * draw(st.integers(0, min(fields, 3) - 1))
        size = draw(st.sampled_from(EXTREME_SIZES) | st.integers(0, 2**32 - 1))
        data[at : at + 4] = struct.pack(">I", size)
    elif kind == "flip" and data:
        for _ in range(draw(st.integers(1, 3))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data))) :]
    else:
        data += draw(st.binary(min_size=1, max_size=20))
    return bytes(data)


@st.composite
def gzipped(draw, content: bytes) -> bytes:
    """The content as one gzip member or several (split anywhere)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(content)), max_size=3)))
    pieces = [content[a:b] for a, b in zip([0, *cuts], [*cuts, len(content)], strict=True)]
    level = draw(st.integers(0, 9))
    return b"".join(gzip.compress(piece, compresslevel=level) for piece in pieces)


@st.composite
def damaged(draw, compressed: bytes) -> bytes:
    """Gzip bytes with some bytes changed, cut short, or followed by junk or zero padding."""
    data = bytearray(compressed)
    kind = draw(st.sampled_from(["flip", "truncate", "append", "pad"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 3))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif kind == "append":
        data += draw(st.binary(min_size=1, max_size=20))
    else:
        data += bytes(draw(st.integers(1, 100)))
    return bytes(data)


def reference(file_bytes: bytes) -> bytes | None:
    """What Python's gzip module reads from the file (the raw bytes when not gzipped)."""
    if not file_bytes.startswith(b"\x1f\x8b"):
        return file_bytes
    try:
        return gzip.decompress(file_bytes)
    except (OSError, EOFError, zlib.error):
        return None


def check_outcome(path, file_bytes: bytes, ndim: int) -> bool:
    """Read the file: a correct array (True) or a DatasetError (False); anything else fails."""
    path.write_bytes(file_bytes)
    try:
        parsed = read_idx(path, ndim, FIX)
    except DatasetError as error:
        assert str(path) in str(error)
        return False
    content = reference(file_bytes)
    assert content is not None, "read a file Python's gzip module refuses"
    shape = struct.unpack(f">{ndim}I", content[4 : 4 + 4 * ndim])
    assert parsed.array.shape == shape and parsed.array.dtype == np.uint8
    assert parsed.array.tobytes() == content[4 + 4 * ndim :]
    return True


@SETTINGS
@given(data=st.data(), file=idx_contents(), compress=st.booleans())
def test_valid_files_read_back_exactly(path, data, file, compress):
    ndim, content = file
    file_bytes = data.draw(gzipped(content)) if compress else content
    assert check_outcome(path, file_bytes, ndim)


@SETTINGS
@given(
    data=st.data(), file=idx_contents(), compress=st.booleans(), expected=st.sampled_from([1, 3])
)
def test_mutated_content_is_an_array_or_a_dataset_error(path, data, file, compress, expected):
    _, content = file
    content = data.draw(mutated(content))
    file_bytes = data.draw(gzipped(content)) if compress else content
    check_outcome(path, file_bytes, expected)


@SETTINGS
@given(data=st.data(), file=idx_contents())
def test_damaged_gzip_is_an_array_or_a_dataset_error(path, data, file):
    ndim, content = file
    check_outcome(path, data.draw(damaged(data.draw(gzipped(content)))), ndim)
