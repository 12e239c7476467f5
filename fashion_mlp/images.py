"""Turn a user's image file into a Fashion-MNIST-like 28x28 uint8 input, as the data set was made.

Zalando made Fashion-MNIST from product photos on white: trim the edges close to the background
colour, fit the longest side into 28 pixels, centre, negate, 8-bit greyscale. `load_image` does
the same to any image Pillow reads, whatever its size, colour mode, alpha or background.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from fashion_mlp.errors import FashionMLPError

SIDE = 28  # Fashion-MNIST's image side; its objects' longest side fills it
OBJECT_THRESHOLD = 0.05  # Fashion-MNIST trimmed pixels within 5 % of the background's intensity
# Modes whose values are not 8-bit: scaled by their own range instead of 255.
WIDE_MODES = {"I", "F", "I;16", "I;16L", "I;16B", "I;16N"}
ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
# What Pillow raises while decoding a damaged file (its plugins use all of these).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)
# Most pixels decoded at full size. Pillow keeps RGB(A), I and F at 4 bytes a pixel, and a
# palette image with transparency becomes RGBA, then premultiplied RGBa, before it is reduced:
# 9 bytes a pixel, 450 MB at this limit, the worst case (docs: performance, serving), so no
# input costs more than about 500 MB. Larger images are refused before decoding, except JPEGs,
# which libjpeg decodes at 1/2, 1/4 or 1/8 size (Pillow's own limit, 89 megapixels, applies).
MAX_DECODED_PIXELS = 50_000_000
# Larger images are box-reduced to about this many pixels before any float copy is made: each
# float32 copy is then 8 MB, and the object, which ends 28 pixels long, keeps 50 times that.
WORK_PIXELS = 2_000_000
# Images are also box-reduced until their object's longest side is about this long: 6 pixels for
# each of the 28 it ends at keep the Lanczos result within a few grey levels of full resolution,
# and a photo of any size is then worked on as a small array.
WORK_SIDE = 6 * SIDE
# JPEGs are decoded reduced (libjpeg's 1/2, 1/4, 1/8) to keep this longest side, as if the object
# filled the frame (product photos do): a smaller object is then prepared from fewer pixels.
DRAFT_SIDE = WORK_SIDE
ORIENTATION_TAG = 0x0112  # EXIF Orientation: how to turn the stored pixels to display them
TRANSPOSES = {  # orientation -> the turn that shows the image upright (ImageOps.exif_transpose's)
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Modes whose values cannot be averaged as they are, and what they become first.
REDUCE_AS = {"1": "L", "I;16": "I", "I;16L": "I", "I;16B": "I", "I;16N": "I"}


class ImageError(FashionMLPError):
    """An image file cannot be read or holds no object to classify."""


class ImageTooLargeError(ImageError):
    """An image has too many pixels to decode safely (refused before decoding)."""


@dataclass(frozen=True)
class PreparedImage:
    """One file's outcome: its 28x28 pixels, or the error that stopped it."""

    path: str
    pixels: np.ndarray | None
    error: ImageError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file and return it as a Fashion-MNIST-like (28, 28) uint8 array."""
    path = Path(path)
    with _open_image(path) as image:
        try:
            return fashion_input(image)
        except ImageError as error:
            raise ImageError(f"{path}: {error}") from None


def load_image_bytes(content: bytes, name: str = "upload") -> np.ndarray:
    """An image file's bytes (an upload) as a (28, 28) uint8 array, exactly as `load_image`.

    `name` only labels error messages; nothing is read from disk.
    """
    if not content:
        raise ImageError(f"{name}: the file is empty (0 bytes); pass a saved image file")
    with _decode(io.BytesIO(content), name) as image:
        try:
            return fashion_input(image)
        except ImageError as error:
            raise ImageError(f"{name}: {error}") from None


def prepare_images(paths: list[str | Path]) -> list[PreparedImage]:
    """Load every file in order; a file that fails carries its error and the others still load."""
    results = []
    for path in paths:
        try:
            results.append(PreparedImage(str(path), load_image(path), None))
        except ImageError as error:
            results.append(PreparedImage(str(path), None, error))
    return results


def fashion_input(image: Image.Image) -> np.ndarray:
    """Convert a decoded Pillow image: light object centred on black, longest side 28, max 255."""
    if image.width == 0 or image.height == 0:
        raise ImageError(
            f"the image has zero size ({image.width}x{image.height}); pass an image with pixels"
        )
    orientation = _orientation(image)  # photos from phones store their rotation in EXIF
    try:
        grey, box = _object_at_work_size(image, orientation)
    except ImageError:
        raise
    except ValueError as error:  # Pillow cannot convert a few rare modes (LAB, La) to greyscale
        raise ImageError(
            f"colour mode {image.mode} is not supported ({error}); save the image as RGB or grey"
        ) from None
    if box is None:
        raise ImageError(
            "no object found: the image is a single flat colour; "
            "pass a photo or drawing of one garment on a plain background"
        )
    top, bottom, left, right = box
    return _centre_on_canvas(_fit_longest_side(grey[top:bottom, left:right]))


def _open_image(path: Path) -> Image.Image:
    """Open and fully decode a file, turning every way it can fail into an ImageError."""
    if not path.exists():
        raise ImageError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise ImageError(f"{path}: is a directory; pass the image files inside it")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty (0 bytes); pass a saved image file")
    return _decode(path, path)


def _decode(source: Path | io.BytesIO, path: Path | str) -> Image.Image:
    """Open and fully decode `source` (a file or bytes), named `path` in errors."""
    with warnings.catch_warnings():
        # Keep Pillow's pixel limit, and refuse what it only warns about as well.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except UnidentifiedImageError:
            raise ImageError(
                f"{path}: not an image Pillow can read; pass a PNG, JPEG, GIF, BMP, WebP or TIFF"
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooLargeError(
                f"{path}: the image is too large to decode safely ({error}); "
                "resize it to a few thousand pixels a side"
            ) from None
        except DECODE_ERRORS as error:
            raise ImageError(
                f"{path}: cannot read the image ({error}); re-save or re-export it"
            ) from None
    try:
        _draft(image)
        _refuse_oversized(image, path)
        image.load()  # decode every pixel now, so truncated and corrupt files fail here
    except ImageError:  # before DECODE_ERRORS: an ImageError is a ValueError too
        image.close()
        raise
    except DECODE_ERRORS as error:
        image.close()
        raise ImageError(
            f"{path}: the image is truncated or corrupt ({error}); re-save or re-export it"
        ) from None
    return image


def _draft(image: Image.Image) -> None:
    """Ask the decoder for a reduced image of at least DRAFT_SIDE (or WORK_PIXELS, the smaller);
    only JPEG's decoder can do it."""
    scale = min(
        DRAFT_SIDE / max(image.width, image.height),
        math.sqrt(WORK_PIXELS / (image.width * image.height)),
    )
    if scale < 1:
        image.draft(None, (max(1, int(image.width * scale)), max(1, int(image.height * scale))))


def _refuse_oversized(image: Image.Image, path: Path | str) -> None:
    """Refuse, before decoding, an image with more than MAX_DECODED_PIXELS to decode."""
    pixels = image.width * image.height
    if pixels > MAX_DECODED_PIXELS:
        raise ImageTooLargeError(
            f"{path}: the image is too large to decode safely ({image.width}x{image.height} = "
            f"{pixels:,} pixels, more than {MAX_DECODED_PIXELS:,}); resize it to a few "
            "thousand pixels a side, or save it as JPEG (decoded reduced)"
        )


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 = as stored); a damaged EXIF block counts as no rotation."""
    try:
        orientation = image.getexif().get(ORIENTATION_TAG, 1)
    except DECODE_ERRORS:
        return 1
    return orientation if isinstance(orientation, int) else 1


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """The image turned as its EXIF orientation says it is displayed."""
    method = TRANSPOSES.get(orientation)
    return image.transpose(method) if method is not None else image


def _object_at_work_size(image: Image.Image, orientation: int):
    """The grey image, reduced until its object keeps about WORK_SIDE pixels a side, and the
    object's box (first looked for as if the object filled the image)."""
    guess = _reduction(image, max(image.width, image.height))
    grey = _grey_on_black(image, guess, orientation)
    box = _object_box(grey)
    if box is None:
        return grey, None
    top, bottom, left, right = box
    factor = _reduction(image, max(bottom - top, right - left) * guess)
    if factor == guess:
        return grey, box
    grey = _grey_on_black(image, factor, orientation)
    return grey, _object_box(grey)


def _grey_on_black(image: Image.Image, factor: int, orientation: int) -> np.ndarray:
    """The image reduced by `factor`, upright, as intensities with the object light on black."""
    return _dark_background(_greyscale(_upright(_reduced(image, factor), orientation)))


def _reduction(image: Image.Image, object_side: int) -> int:
    """The whole factor that keeps WORK_SIDE pixels of `object_side`, at most WORK_PIXELS."""
    cap = math.ceil(math.sqrt(image.width * image.height / WORK_PIXELS))
    return max(1, cap, object_side // WORK_SIDE)


def _reduced(image: Image.Image, factor: int) -> Image.Image:
    """The image box-reduced by a whole factor (palette and 1-bit images converted first)."""
    if factor <= 1:
        return image
    if image.mode in ("P", "PA") or "transparency" in image.info:
        # Palette indices and transparent colour keys cannot be averaged: real colours first.
        has_alpha = image.mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif image.mode in REDUCE_AS:
        image = image.convert(REDUCE_AS[image.mode])
    return image.reduce(factor)


def _greyscale(image: Image.Image) -> np.ndarray:
    """Intensities in [0, 1] with transparent pixels composited onto the background."""
    if image.mode in WIDE_MODES:
        with np.errstate(invalid="ignore"):  # signalling NaNs warn when widened; refused next
            return _unit_range(np.asarray(image, dtype=np.float64))
    if image.mode not in ALPHA_MODES and "transparency" not in image.info:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    rgba = image.convert("RGBA")
    grey = np.asarray(rgba.convert("RGB").convert("L"), dtype=np.float32) / 255.0
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
    if alpha.sum() == 0:
        return np.zeros_like(grey)
    # Transparent means background: the shade that contrasts with the visible object.
    background = 0.0 if np.average(grey, weights=alpha) >= 0.5 else 1.0
    return alpha * grey + (1.0 - alpha) * background


def _unit_range(values: np.ndarray) -> np.ndarray:
    """Values of a 16/32-bit or float image scaled to [0, 1] by their own range, as float32."""
    finite = np.isfinite(values)
    if not finite.all():
        raise ImageError(
            f"{values.size - int(finite.sum()):,} pixel values are not finite numbers (NaN or "
            "infinity); save the image with finite values, e.g. as an 8- or 16-bit PNG"
        )
    low, high = values.min(), values.max()
    if high <= low:
        return np.zeros(values.shape, dtype=np.float32)
    return ((values - low) / (high - low)).astype(np.float32)


def _dark_background(grey: np.ndarray) -> np.ndarray:
    """Make the object light on exactly black: invert a light border, then subtract its level."""
    border = np.concatenate([grey[0, :], grey[-1, :], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        grey, background = 1.0 - grey, 1.0 - background
    grey = grey - background
    grey[grey <= OBJECT_THRESHOLD] = 0.0
    return grey


def _object_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) bounds of the non-black pixels, or None when there are none."""
    rows = np.flatnonzero(grey.any(axis=1))
    cols = np.flatnonzero(grey.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _fit_longest_side(grey: np.ndarray) -> np.ndarray:
    """Resize so the longer side is 28 pixels, keeping the aspect ratio (Lanczos, then clipped)."""
    height, width = grey.shape
    scale = SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(grey.astype(np.float32, copy=False)).resize(
        size, Image.Resampling.LANCZOS
    )
    return np.clip(np.asarray(resized, dtype=np.float64), 0.0, None)


def _centre_on_canvas(grey: np.ndarray) -> np.ndarray:
    """Paste onto a black 28x28 canvas at the centre and stretch so the brightest pixel is 255."""
    canvas = np.zeros((SIDE, SIDE), dtype=np.float64)
    height, width = grey.shape
    top, left = (SIDE - height) // 2, (SIDE - width) // 2
    canvas[top : top + height, left : left + width] = grey
    peak = canvas.max()
    if peak <= 0:
        raise ImageError("the object vanished when shrunk to 28x28; crop the image closer to it")
    return np.rint(canvas * (255.0 / peak)).astype(np.uint8)
