"""Hostile inputs cost little memory: gzip bombs and huge images, generated here at test time."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zlib

import numpy as np
import pytest
from conftest import idx_bytes
from PIL import Image, ImageDraw

from fashion_mlp import images
from fashion_mlp.errors import DatasetError
from fashion_mlp.idx import read_idx

MB = 1 << 20
BLOCK = 16 * MB  # zeros per repeated deflate block


def gzip_bomb(header_shape: tuple[int, ...], gigabytes: int, members: int) -> bytes:
    """A gzip file whose IDX header announces header_shape but which inflates to `gigabytes`
    GiB of zeros, its trailer (ISIZE) announcing just the header's size.

    After a full flush the compressor forgets its history, so the same block of zeros then
    compresses to the same bytes every time: one block is compressed, then repeated. The CRC
    is left wrong: a reader that stops early never gets that far.
    """
    header = idx_bytes(np.zeros(header_shape, np.uint8))[: 4 + 4 * len(header_shape)]
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    start = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(BLOCK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = gigabytes * 1024 * MB // BLOCK // members
    member = start + block * count + compressor.flush()
    member = member[:-4] + struct.pack("<I", len(header))  # the lying trailer
    return member * members


@pytest.mark.parametrize("members", [1, 8], ids=["one_member", "eight_members"])
def test_gzip_bomb_is_stopped_after_what_its_header_announces(tmp_path, members):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip_bomb((1000,), gigabytes=4, members=members))
    assert path.stat().st_size < 8 * MB
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=r"has trailing bytes: header says shape \(1000,\)"):
            read_idx(path, 1, "Replace it.")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB  # not the 4 GiB it inflates to


def test_gzip_bomb_announcing_a_large_array_costs_that_array_only(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip_bomb((60000, 28, 28), gigabytes=2, members=1))
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match="has trailing bytes"):
            read_idx(path, 3, "Replace it.")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60000 * 28 * 28 + 8 * MB  # one buffer of the announced size, not 2 GiB


# Peak resident memory from VmHWM, which starts afresh in the new process; ru_maxrss would
# carry over the peak of the pytest worker that started it.
CHILD = textwrap.dedent(
    """
    import json, sys
    from fashion_mlp.images import ImageError, load_image

    def peak_mb():
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    before = peak_mb()
    try:
        outcome = load_image(sys.argv[1]).shape
    except ImageError as error:
        outcome = str(error)
    print(json.dumps({"outcome": outcome, "peak_mb": peak_mb() - before}))
    """
)


def peak_of_loading(path) -> dict:
    """Load one image in a fresh process: its outcome and the peak memory the load added."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def garment_on_white(mode: str, side: int) -> Image.Image:
    """A dark garment-sized rectangle on a white (or transparent) page."""
    image = Image.new(mode, (side, side), (255, 255, 255, 0) if mode == "RGBA" else 255)
    fill = (40, 60, 90, 255) if mode == "RGBA" else 50
    ImageDraw.Draw(image).rectangle([side // 4, side // 8, side * 3 // 4, side * 7 // 8], fill)
    return image


linux_only = pytest.mark.skipif(sys.platform != "linux", reason="reads Linux's /proc/self/status")


@linux_only
def test_jpeg_just_under_pillows_limit_is_decoded_reduced(tmp_path):
    side = int(Image.MAX_IMAGE_PIXELS**0.5) - 10  # about 89 megapixels
    path = tmp_path / "huge.jpg"
    garment_on_white("L", side).save(path, quality=75)
    result = peak_of_loading(path)
    assert result["outcome"] == [28, 28]
    assert result["peak_mb"] < 100  # decoded at 1/4 size; it was 1.35 GB decoded whole


@linux_only
def test_widest_png_under_the_decoding_cap_stays_under_500_mb(tmp_path):
    side = int(images.MAX_DECODED_PIXELS**0.5) - 10
    path = tmp_path / "huge.png"
    garment_on_white("RGBA", side).save(path, compress_level=1)
    result = peak_of_loading(path)
    assert result["outcome"] == [28, 28]
    assert result["peak_mb"] < 500  # 4 bytes a pixel decoded, reduced before any float copy
