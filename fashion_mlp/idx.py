"""Read IDX files (the MNIST format), gzipped or raw, validating every header field.

An IDX file is two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
one big-endian uint32 size per dimension, then the values in C order. The header is checked
against the file's length before anything is allocated, and gzip data is decompressed in
bounded steps straight into one buffer of the announced size, so a lying header or a gzip bomb
is refused after reading little and allocating little.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from fashion_mlp.errors import DatasetError

GZIP_MAGIC = b"\x1f\x8b"
MAX_DEFLATE_RATIO = 1032  # deflate cannot expand more than this, so larger sizes are bogus
INPUT_CHUNK = 1 << 16  # compressed bytes given to zlib at a time (64 KiB)
OUTPUT_CHUNK = 1 << 20  # most bytes zlib may return from one call (1 MiB): bounds the overshoot
MAX_HEADER_SIZE = 4 + 4 * 255  # magic, then one uint32 per dimension, 255 dimensions at most
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


@dataclass(frozen=True)
class IdxHeader:
    """What an IDX header announces: the array's shape and the whole file's length in bytes."""

    shape: tuple[int, ...]
    header_size: int

    @property
    def size(self) -> int:
        """Header plus values, in Python ints, so no announced shape can overflow."""
        return self.header_size + math.prod(self.shape)


class GzipReader:
    """The decompressed bytes of a gzip file, all members in turn, read in bounded steps."""

    def __init__(self, file: BinaryIO, path: Path, fix: str):
        self.file, self.path, self.fix = file, path, fix
        self.inflater = zlib.decompressobj(wbits=31)
        self.pending = b""  # compressed bytes read from the file but not yet inflated
        self.finished = False

    def readinto(self, view: memoryview) -> int:
        """Fill view from the start; fewer bytes than its length only at the end of the data."""
        filled = 0
        while filled < len(view) and not self.finished:
            if self.inflater.eof:
                self.next_member()
                continue
            exhausted = False
            if not self.pending:
                self.pending = self.file.read(INPUT_CHUNK)
                exhausted = not self.pending
            chunk = self.inflate(min(len(view) - filled, OUTPUT_CHUNK))
            if exhausted and not chunk and not self.inflater.eof:
                raise DatasetError(
                    f"{self.path}: truncated gzip file ({self.file.tell():,} bytes end before "
                    f"the gzip stream does). {self.fix}"
                )
            view[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        return filled

    def read(self, size: int) -> bytes:
        """Up to size bytes (fewer only at the end of the data)."""
        buffer = bytearray(size)
        return bytes(buffer[: self.readinto(memoryview(buffer))])

    def inflate(self, max_length: int) -> bytes:
        """At most max_length decompressed bytes of the pending input."""
        try:
            chunk = self.inflater.decompress(self.pending, max_length)
        except zlib.error as error:
            raise DatasetError(f"{self.path}: corrupt gzip data ({error}). {self.fix}") from None
        self.pending = self.inflater.unconsumed_tail
        return chunk

    def next_member(self) -> None:
        """After a member ends: start the next one, or finish at the end (or zero padding)."""
        rest = self.inflater.unused_data or self.file.read(INPUT_CHUNK)
        if len(rest) == 1:
            rest += self.file.read(1)
        if rest.startswith(GZIP_MAGIC):  # gzip tools read every member, one after the other
            self.inflater = zlib.decompressobj(wbits=31)
            self.pending = rest
            return
        while rest and not rest.strip(b"\x00"):  # and accept zero padding at the end
            rest = self.file.read(INPUT_CHUNK)
        if rest:
            raise DatasetError(
                f"{self.path}: bytes after the end of the gzip data that are not another gzip "
                f"member (the file is corrupt or two files were joined). {self.fix}"
            )
        self.finished = True


def parse_header(head: bytes, path: Path, expected_ndim: int, fix: str) -> IdxHeader:
    """Check an IDX header's magic, type code and dimensions; head is the file's first bytes."""
    if len(head) < 4:
        raise DatasetError(f"{path}: {len(head)} bytes is too short for an IDX header. {fix}")
    zeros, type_code, ndim = struct.unpack(">HBB", head[:4])
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
    if len(head) < header_size:
        raise DatasetError(f"{path}: IDX header cut short ({len(head)} bytes). {fix}")
    return IdxHeader(struct.unpack(f">{ndim}I", head[4:header_size]), header_size)


def size_error(path: Path, problem: str, header: IdxHeader, found: str, fix: str) -> DatasetError:
    """The error for content whose length is not the header's: what was announced and found."""
    return DatasetError(
        f"{path}: {problem}: header says shape {header.shape}, i.e. {header.size:,} bytes, "
        f"but {found}. {fix}"
    )


def check_raw_size(path: Path, header: IdxHeader, file_size: int, fix: str) -> None:
    """A raw file's length must be exactly what its header announces."""
    if file_size != header.size:
        problem = "truncated" if file_size < header.size else "has trailing bytes"
        raise size_error(path, problem, header, f"the file is {file_size:,} bytes", fix)


def check_gzip_size(path: Path, header: IdxHeader, file_size: int, fix: str) -> None:
    """A gzip file cannot hold more than MAX_DEFLATE_RATIO times its own length."""
    most = MAX_DEFLATE_RATIO * file_size
    if header.size > most:
        raise size_error(
            path,
            "truncated or corrupt header",
            header,
            f"a gzip file of {file_size:,} bytes decompresses to at most {most:,} bytes",
            fix,
        )


def read_header(reader, path: Path, expected_ndim: int, fix: str) -> tuple[IdxHeader, bytes]:
    """The parsed header and its bytes, reading only as many bytes as the header needs."""
    head = reader.read(4)
    if len(head) == 4:
        head += reader.read(4 * head[3])
    return parse_header(head, path, expected_ndim, fix), head


def read_values(reader, path: Path, header: IdxHeader, head: bytes, fix: str) -> np.ndarray:
    """The whole decompressed file in one buffer of the announced size, its header included."""
    content = np.empty(header.size, dtype=np.uint8)
    content[: len(head)] = np.frombuffer(head, dtype=np.uint8)
    filled = len(head) + reader.readinto(memoryview(content)[len(head) :])
    if filled < header.size:
        raise size_error(path, "truncated", header, f"the content is {filled:,} bytes", fix)
    if reader.read(1):
        raise size_error(
            path,
            "has trailing bytes",
            header,
            "the content goes on past them (reading stopped there: a gzip bomb or a damaged file)",
            fix,
        )
    return content


def read_content(path: Path, expected_ndim: int, fix: str) -> tuple[IdxHeader, np.ndarray]:
    """The header and the decompressed file (gzip detected by content, not by name)."""
    try:
        with path.open("rb") as file:
            file_size = os.fstat(file.fileno()).st_size
            gzipped = file.read(2) == GZIP_MAGIC
            file.seek(0)
            reader = GzipReader(file, path, fix) if gzipped else file
            header, head = read_header(reader, path, expected_ndim, fix)
            check = check_gzip_size if gzipped else check_raw_size
            check(path, header, file_size, fix)
            return header, read_values(reader, path, header, head, fix)
    except OSError as error:
        raise DatasetError(f"{path}: cannot read the file ({error.strerror}). {fix}") from None


def read_idx(path: Path, expected_ndim: int, fix: str, sha256: str | None = None) -> IdxArray:
    """Read, hash and parse one IDX file; `fix` tells the user how to repair a bad file.

    `sha256`, when given, is a checksum already known for this very file (a cache hit): the
    file is still read and fully validated, only the hashing is skipped.
    """
    header, content = read_content(Path(path), expected_ndim, fix)
    digest = sha256 or hashlib.sha256(content).hexdigest()
    content.flags.writeable = False
    array = content[header.header_size :].reshape(header.shape)
    return IdxArray(array, digest)
