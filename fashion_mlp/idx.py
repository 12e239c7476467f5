"""Read IDX files (the MNIST format), gzipped or raw, validating every header field.

An IDX file is two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
one big-endian uint32 size per dimension, then the values in C order.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fashion_mlp.errors import DatasetError

GZIP_MAGIC = b"\x1f\x8b"
MAX_DEFLATE_RATIO = 1032  # deflate cannot expand more than this, so larger ISIZEs are bogus
UNSIGNED_BYTE = 0x08
TYPE_NAMES = {
    0x08: "uint8",
    0x09: "int8",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}


@dataclass(frozen=True)
class IdxArray:
    """A parsed IDX file: its array (read-only, sharing the decompressed buffer) and SHA-256."""

    array: np.ndarray
    sha256: str  # of the decompressed content, so any recompressed copy has the same value


def expected_size(raw: bytes) -> int:
    """The decompressed size the gzip trailer announces (ISIZE): the output buffer to start with.

    Decompressing into a buffer of the final size avoids the growing buffer's copies (peak
    memory of one array instead of two); a trailer that cannot be right (a truncated file)
    falls back to zlib's default start size.
    """
    announced = struct.unpack("<I", raw[-4:])[0] if len(raw) >= 18 else 0
    plausible = 0 < announced <= MAX_DEFLATE_RATIO * len(raw)
    return announced if plausible else zlib.DEF_BUF_SIZE


def read_content(path: Path, fix: str) -> bytes:
    """The file's bytes, decompressed when it is gzipped (detected by content, not by name)."""
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return zlib.decompress(raw, wbits=31, bufsize=expected_size(raw))
    except zlib.error as error:
        if "truncated" in str(error):  # zlib's Z_BUF_ERROR: the stream ends too early
            raise DatasetError(
                f"{path}: truncated gzip file ({len(raw):,} bytes end before the gzip stream "
                f"does). {fix}"
            ) from None
        raise DatasetError(f"{path}: corrupt gzip data ({error}). {fix}") from None


def parse_idx(content: bytes, path: Path, expected_ndim: int, fix: str) -> np.ndarray:
    """The array an IDX file holds, after checking magic, type code, dimensions and length."""
    if len(content) < 4:
        raise DatasetError(f"{path}: {len(content)} bytes is too short for an IDX header. {fix}")
    zeros, type_code, ndim = struct.unpack(">HBB", content[:4])
    if zeros != 0:
        raise DatasetError(
            f"{path}: not an IDX file (magic number starts 0x{zeros:04x}, expected 0x0000). {fix}"
        )
    if type_code != UNSIGNED_BYTE:
        found = TYPE_NAMES.get(type_code, "unknown")
        raise DatasetError(
            f"{path}: IDX type code 0x{type_code:02x} ({found}); MNIST-format files hold "
            f"unsigned bytes (0x08). {fix}"
        )
    if ndim != expected_ndim:
        raise DatasetError(
            f"{path}: IDX file has {ndim} dimensions, expected {expected_ndim} "
            f"({'images: count, rows, columns' if expected_ndim == 3 else 'labels: count'}). {fix}"
        )
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise DatasetError(f"{path}: IDX header cut short ({len(content)} bytes). {fix}")
    shape = struct.unpack(f">{ndim}I", content[4:header_size])
    expected_size = header_size + int(np.prod(shape, dtype=np.int64))
    if len(content) != expected_size:
        problem = "truncated" if len(content) < expected_size else "has trailing bytes"
        raise DatasetError(
            f"{path}: {problem}: header says shape {shape}, i.e. {expected_size:,} bytes, "
            f"but the content is {len(content):,} bytes. {fix}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def read_idx(path: Path, expected_ndim: int, fix: str) -> IdxArray:
    """Read, hash and parse one IDX file; `fix` tells the user how to repair a bad file."""
    content = read_content(path, fix)
    sha256 = hashlib.sha256(content).hexdigest()
    return IdxArray(parse_idx(content, path, expected_ndim, fix), sha256)
