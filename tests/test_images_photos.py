"""Photos of real sizes are prepared from reduced copies, within a stated tolerance of the same
steps at full resolution (the preparation before the reduction existed)."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from fashion_mlp import images
from fashion_mlp.images import load_image_bytes

# How far the reduced preparation may be from full resolution, for a product filling the frame:
# grey levels of 255 (3.8 and 25 measured at most; the brightest pixel, stretched to 255, moves a
# little), and the correlation of the two 28x28 (0.9992 measured at least).
MEAN_TOLERANCE = 5.0
MAX_TOLERANCE = 32
MIN_CORRELATION = 0.998


def product_photo(width: int, height: int, fill: float = 0.9) -> Image.Image:
    """A striped shirt on an off-white studio background, with a soft edge and sensor noise."""
    image = Image.new("RGB", (width, height), (242, 240, 236))
    w, h = width * fill, height * fill
    x0, y0 = (width - w) / 2, (height - h) / 2
    outline = [(0.3, 0), (0.7, 0), (1, 0.25), (0.88, 0.38), (0.78, 0.3), (0.78, 1), (0.22, 1)]
    outline += [(0.22, 0.3), (0.12, 0.38), (0, 0.25)]
    draw = ImageDraw.Draw(image)
    draw.polygon([(x0 + x * w, y0 + y * h) for x, y in outline], fill=(40, 70, 140))
    for row in np.linspace(y0 + 0.35 * h, y0 + 0.95 * h, 8):
        draw.line([(x0 + 0.23 * w, row), (x0 + 0.77 * w, row)], (200, 60, 60), max(1, height // 80))
    rng = np.random.default_rng(width * height)  # the same photo on every machine and every run
    noise = rng.normal(128, 1.0, (height, width, 1)).round().clip(0, 255).astype(np.uint8)
    noise = Image.fromarray(noise.repeat(3, axis=2))  # around 128, grey like a sensor's
    return ImageChops.add(image.filter(ImageFilter.GaussianBlur(1)), noise, offset=-128)


@cache
def encoded(width: int, height: int, kind: str, fill: float = 0.9) -> bytes:
    """The product photo as a file's bytes (made once per test session)."""
    buffer = io.BytesIO()
    options = {"quality": 90} if kind == "JPEG" else {}
    product_photo(width, height, fill).save(buffer, kind, **options)
    return buffer.getvalue()


def full_resolution(content: bytes, monkeypatch) -> np.ndarray:
    """The preparation without reduction: every pixel decoded and worked on."""
    with monkeypatch.context() as patch:
        patch.setattr(images, "WORK_SIDE", 10**9)
        patch.setattr(images, "DRAFT_SIDE", 10**9)
        patch.setattr(images, "WORK_PIXELS", 10**9)
        return load_image_bytes(content).astype(int)


SIZES = [(300, 300, "PNG"), (402, 389, "PNG"), (560, 420, "PNG"), (400, 400, "JPEG")]
SIZES += [(1200, 1600, "JPEG"), (4000, 3000, "JPEG")]


@pytest.mark.parametrize(("width", "height", "kind"), SIZES)
def test_a_product_photo_is_prepared_as_at_full_resolution(width, height, kind, monkeypatch):
    content = encoded(width, height, kind)
    reduced = load_image_bytes(content).astype(int)
    full = full_resolution(content, monkeypatch)
    difference = np.abs(reduced - full)
    assert difference.mean() <= MEAN_TOLERANCE and difference.max() <= MAX_TOLERANCE
    assert np.corrcoef(reduced.ravel(), full.ravel())[0, 1] >= MIN_CORRELATION


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_a_small_object_in_a_photo_is_still_the_same_garment(kind, monkeypatch):
    """A JPEG is decoded reduced as if its object filled the frame: a quarter-size one is
    prepared from fewer pixels, so only the correlation is held (0.99 measured)."""
    content = encoded(800, 600, kind, fill=0.25)
    reduced = load_image_bytes(content).astype(float).ravel()
    full = full_resolution(content, monkeypatch).astype(float).ravel()
    assert np.corrcoef(reduced, full)[0, 1] >= 0.95


def test_a_twelve_megapixel_jpeg_is_decoded_at_an_eighth(monkeypatch):
    content = encoded(4000, 3000, "JPEG")
    decoded = []
    real_open = Image.open

    def spy(*args, **kwargs):
        decoded.append(real_open(*args, **kwargs))
        return decoded[-1]

    monkeypatch.setattr(Image, "open", spy)
    load_image_bytes(content)
    assert decoded[0].size == (500, 375)


def test_a_png_is_worked_on_at_about_work_side(monkeypatch):
    sizes = []
    real_greyscale = images._greyscale

    def spy(image):
        sizes.append(image.size)
        return real_greyscale(image)

    monkeypatch.setattr(images, "_greyscale", spy)
    load_image_bytes(encoded(1600, 1200, "PNG"))
    assert sizes and max(sizes[-1]) < 2 * images.WORK_SIDE
