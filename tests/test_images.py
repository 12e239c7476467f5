"""User images become Fashion-MNIST-like inputs; each way a file can be bad is a clear error."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps, features

from fashion_mlp import images
from fashion_mlp.errors import FashionMLPError
from fashion_mlp.images import ImageError, fashion_input, load_image, prepare_images


def make_garment() -> np.ndarray:
    """A T-shirt drawn like a data-set item: light, textured, on black, its height filling 28."""
    image = Image.new("L", (28, 28), 0)
    draw = ImageDraw.Draw(image)
    body = [(9, 0), (18, 0), (27, 6), (23, 11), (21, 9), (21, 27), (6, 27), (6, 9), (4, 11), (0, 6)]
    draw.polygon(body, fill=170)
    draw.polygon([(11, 0), (16, 0), (13, 4)], fill=90)  # collar
    for row in range(8, 27, 4):
        draw.line([(7, row), (20, row)], fill=255)  # stripes
    return np.asarray(image)


GARMENT = make_garment()


def similarity(expected: np.ndarray, actual: np.ndarray) -> float:
    """Pearson correlation at the best alignment within a pixel (centring may round either way)."""
    best = -1.0
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shifted = np.roll(actual.astype(float), (dy, dx), axis=(0, 1))
            best = max(best, float(np.corrcoef(expected.ravel(), shifted.ravel())[0, 1]))
    return best


def save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


def grey() -> Image.Image:
    return Image.fromarray(GARMENT)


def tinted() -> Image.Image:
    """A coloured garment: each channel a different share of the intensity."""
    rgb = np.stack([GARMENT, GARMENT * 0.8, GARMENT * 0.5], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8))


def with_transparent_background(mode: str) -> Image.Image:
    """The garment opaque, its background transparent and white underneath (so alpha must win)."""
    alpha = np.where(GARMENT > 0, 255, 0).astype(np.uint8)
    colour = np.where(GARMENT > 0, GARMENT, 255).astype(np.uint8)
    if mode == "LA":
        return Image.fromarray(np.stack([colour, alpha], axis=-1), mode="LA")
    return Image.fromarray(np.stack([colour, colour, colour, alpha], axis=-1))


def palette_with_transparency() -> Image.Image:
    """A palette image whose background index is white in the palette but marked transparent."""
    image = tinted().quantize(32)
    background = image.getpixel((0, 0))
    palette = image.getpalette()
    palette[3 * background : 3 * background + 3] = [255, 255, 255]
    image.putpalette(palette)
    image.info["transparency"] = background
    return image


def on_canvas(item: Image.Image, size: tuple[int, int], at: tuple[int, int], fill) -> Image.Image:
    canvas = Image.new(item.mode, size, fill)
    canvas.paste(item, at)
    return canvas


def upscaled(factor: float) -> Image.Image:
    size = (round(28 * factor), round(28 * factor))
    return grey().resize(size, Image.Resampling.BICUBIC)


VARIANTS: dict[str, Callable[[Path], Path]] = {
    "grey_png": lambda d: save(grey(), d / "a.png"),
    "rgb": lambda d: save(tinted(), d / "a.png"),
    "rgba_transparent": lambda d: save(with_transparent_background("RGBA"), d / "a.png"),
    "la_transparent": lambda d: save(with_transparent_background("LA"), d / "a.png"),
    "light_background": lambda d: save(
        on_canvas(ImageOps.invert(upscaled(2)), (100, 80), (10, 20), 255), d / "a.png"
    ),
    "large_non_square": lambda d: save(
        on_canvas(upscaled(9).convert("RGB"), (500, 300), (200, 24), (0, 0, 0)), d / "a.png"
    ),
    "tiny": lambda d: save(grey().resize((10, 10), Image.Resampling.LANCZOS), d / "a.png"),
    "wide_canvas": lambda d: save(on_canvas(grey(), (70, 28), (3, 0), 0), d / "a.png"),
    "jpeg": lambda d: save(tinted(), d / "a.jpg", quality=90),
    "jpeg_light_photo": lambda d: save(
        on_canvas(ImageOps.invert(upscaled(5)).convert("RGB"), (200, 160), (40, 10), "white"),
        d / "a.jpg",
        quality=85,
    ),
    "palette": lambda d: save(tinted().quantize(64), d / "a.png"),
    "palette_transparent": lambda d: save(palette_with_transparency(), d / "a.png"),
    "uint16": lambda d: save(Image.fromarray(GARMENT.astype(np.uint16) * 257), d / "a.png"),
    "gif": lambda d: save(grey(), d / "a.gif"),
    "bmp": lambda d: save(tinted(), d / "a.bmp"),
    "tiff": lambda d: save(grey(), d / "a.tiff"),
}
if features.check("webp"):
    VARIANTS["webp"] = lambda d: save(tinted(), d / "a.webp", lossless=True)

BLURRED = {"tiny": 0.85, "jpeg_light_photo": 0.93}  # lossy variants: lower bar than 0.97


def test_data_set_like_image_passes_through_unchanged(tmp_path):
    pixels = load_image(save(grey(), tmp_path / "a.png"))
    assert pixels.dtype == np.uint8 and pixels.shape == (28, 28)
    assert np.abs(pixels.astype(int) - GARMENT).max() <= 1


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_becomes_the_original_item(tmp_path, variant):
    path = VARIANTS[variant](tmp_path)
    pixels = load_image(path)
    assert pixels.dtype == np.uint8 and pixels.shape == (28, 28)
    assert pixels.max() == 255
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    assert np.median(border) < 0.05 * 255  # dark background (a 10x10 source blurs its edges)
    assert similarity(GARMENT, pixels) >= BLURRED.get(variant, 0.97)


def test_exif_rotation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    stored = grey().transpose(Image.Transpose.ROTATE_90)
    pixels = load_image(save(stored, tmp_path / "a.jpg", exif=exif, quality=95))
    assert similarity(GARMENT, pixels) >= 0.95


def test_bright_object_on_light_grey_background_keeps_its_shape(tmp_path):
    paper = on_canvas(ImageOps.invert(grey()).point(lambda v: v * 0.6 + 80), (40, 40), (6, 6), 233)
    pixels = load_image(save(paper, tmp_path / "a.png"))
    assert similarity(GARMENT, pixels) >= 0.97


def test_wide_object_on_noisy_paper_is_fitted_centred_on_pure_black(tmp_path):
    rng = np.random.default_rng(0)
    paper = 235 + rng.integers(-8, 9, (90, 120))  # texture under Fashion-MNIST's 5 % trim
    paper[50:70, 20:100] = 60  # a dark bag 80 wide, 20 high
    pixels = load_image(save(Image.fromarray(paper.astype(np.uint8)), tmp_path / "bag.png"))
    rows = np.flatnonzero(pixels.any(axis=1))
    cols = np.flatnonzero(pixels.any(axis=0))
    assert (cols[0], cols[-1]) == (0, 27)  # the longer side fills the frame
    assert (rows[0], rows[-1]) == (10, 16)  # 80:20 kept as 28:7, centred: 10 rows above, 11 below
    assert pixels[rows[0] : rows[-1] + 1].min() > 200  # a uniform object stays uniform


def test_truncated_png(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt") as error:
        load_image(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "nope.png", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: save_bytes(d / "empty.png", b""), "file is empty"),
        (lambda d: save_bytes(d / "notes.png", b"just some text\n"), "not an image"),
        (lambda d: save(Image.new("L", (50, 40), 255), d / "white.png"), "no object found"),
        (lambda d: save(Image.new("RGB", (50, 40), "navy"), d / "navy.jpg"), "no object found"),
        (lambda d: save(Image.new("RGBA", (9, 9), (9, 9, 9, 0)), d / "clear.png"), "no object"),
    ],
    ids=["missing", "directory", "empty", "text", "white", "flat_colour", "transparent"],
)
def test_bad_files_give_their_own_clear_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ImageError, match=message) as error:
        load_image(path)
    assert str(path) in str(error.value)
    assert isinstance(error.value, FashionMLPError)


def save_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_zero_size_image_is_refused():
    with pytest.raises(ImageError, match="zero size"):
        fashion_input(Image.new("L", (0, 5)))


def test_unsupported_colour_mode_is_refused():
    with pytest.raises(ImageError, match="colour mode LAB is not supported"):
        fashion_input(Image.new("LAB", (5, 5)))


@pytest.mark.parametrize("side", [40, 100], ids=["over_limit_warning", "over_twice_limit_error"])
def test_decompression_bomb_is_refused(tmp_path, monkeypatch, side):
    path = save(Image.new("L", (side, side)), tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageError, match="too large"):
        load_image(path)


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    good = save(grey(), tmp_path / "good.png")
    other = save(tinted(), tmp_path / "other.jpg")
    text = save_bytes(tmp_path / "text.png", b"hello")
    results = prepare_images([good, text, tmp_path / "missing.png", other])
    assert [result.ok for result in results] == [True, False, False, True]
    assert [result.path for result in results] == [str(p) for p in (good, text)] + [
        str(tmp_path / "missing.png"),
        str(other),
    ]
    np.testing.assert_array_equal(results[0].pixels, load_image(good))
    np.testing.assert_array_equal(results[3].pixels, load_image(other))
    assert results[1].pixels is None and "not an image" in str(results[1].error)
    assert "no such file" in str(results[2].error)


def png_claiming_size(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims width x height (its pixel data is far too short)."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    path.write_bytes(bytes(data))
    return path


def test_image_over_the_decoded_pixel_cap_is_refused_before_decoding(tmp_path):
    side = int((images.MAX_DECODED_PIXELS + 1) ** 0.5) + 1
    assert side * side < Image.MAX_IMAGE_PIXELS  # under Pillow's own limit: ours must stop it
    path = png_claiming_size(tmp_path / "bomb.png", side, side)
    with pytest.raises(ImageError, match="too large to decode safely") as error:
        load_image(path)  # "truncated" if it had started decoding
    assert f"{side}x{side}" in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_non_finite_float_pixels_are_refused(tmp_path, value):
    pixels = GARMENT.astype(np.float32)
    pixels[3, 4] = value
    path = save(Image.fromarray(pixels, mode="F"), tmp_path / "float.tiff")
    with pytest.raises(ImageError, match="1 pixel values are not finite") as error:
        load_image(path)
    assert str(path) in str(error.value)


def test_float_image_with_extreme_finite_values_is_scaled(tmp_path):
    pixels = GARMENT.astype(np.float32) * np.float32(1e36) - np.float32(3e38)
    result = fashion_input(Image.fromarray(pixels, mode="F"))
    assert similarity(GARMENT, result) >= 0.97


REDUCED_VARIANTS = [
    "grey_png",
    "rgb",
    "rgba_transparent",
    "la_transparent",
    "palette",
    "palette_transparent",
    "uint16",
    "jpeg",
    "jpeg_light_photo",
    "large_non_square",
    "tiff",
]


@pytest.mark.parametrize("variant", REDUCED_VARIANTS)
def test_large_images_are_reduced_first_to_the_same_result(tmp_path, monkeypatch, variant):
    path = VARIANTS[variant](tmp_path)
    full = load_image(path)
    monkeypatch.setattr(images, "WORK_PIXELS", 200)  # every variant is now "large"
    reduced = load_image(path)
    assert reduced.shape == (28, 28) and reduced.dtype == np.uint8
    assert similarity(full, reduced) >= 0.8  # from ~200 pixels: the same garment, blurred


def test_one_bit_image_is_reduced(monkeypatch):
    monkeypatch.setattr(images, "WORK_PIXELS", 100)
    result = fashion_input(grey().point(lambda v: 255 if v > 100 else 0).convert("1"))
    assert result.max() == 255


def test_large_jpeg_is_decoded_reduced(tmp_path, monkeypatch):
    path = save(upscaled(8).convert("RGB"), tmp_path / "big.jpg", quality=90)  # 224x224
    opened = []
    real_open = Image.open

    def spy(*args, **kwargs):
        opened.append(real_open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(Image, "open", spy)
    monkeypatch.setattr(images, "WORK_PIXELS", 3000)
    pixels = load_image(path)
    assert opened[0].size == (56, 56)  # 1/4 of each side: libjpeg's draft mode
    assert similarity(GARMENT, pixels) >= 0.9


def test_exif_rotation_is_applied_after_reducing(tmp_path, monkeypatch):
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = upscaled(4).transpose(Image.Transpose.ROTATE_90)
    path = save(stored, tmp_path / "a.jpg", exif=exif, quality=95)
    monkeypatch.setattr(images, "WORK_PIXELS", 4000)
    assert similarity(GARMENT, load_image(path)) >= 0.9


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_damaged_exif_counts_as_no_rotation(tmp_path):
    path = save(grey(), tmp_path / "a.jpg", exif=b"Exif\x00\x00MM\x00*garbage", quality=95)
    assert similarity(GARMENT, load_image(path)) >= 0.95
