"""Property tests of image preparation: any image becomes a 28x28 uint8 input or an ImageError."""

from __future__ import annotations

import io
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from fashion_mlp import images
from fashion_mlp.images import ImageError, fashion_input, load_image

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = [
    "1",
    "L",
    "P",
    "LA",
    "PA",
    "RGB",
    "RGBA",
    "CMYK",
    "YCbCr",
    "LAB",
    "HSV",
    "I",
    "F",
    "I;16",
    "I;16B",
    "La",
    "RGBa",
]
DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64, np.bool_]
SIDES = st.integers(1, 48)


@st.composite
def raw_images(draw) -> Image.Image:
    """An image of any mode and size whose stored bytes are arbitrary."""
    mode, size = draw(st.sampled_from(MODES)), (draw(SIDES), draw(SIDES))
    length = len(Image.new(mode, size).tobytes())
    image = Image.frombytes(mode, size, draw(st.binary(min_size=length, max_size=length)))
    if mode == "P" and draw(st.booleans()):
        image.info["transparency"] = draw(st.integers(0, 255))
    return image


@st.composite
def array_images(draw) -> tuple[Image.Image, bool]:
    """An image made from an array of any dtype (with NaN and infinities for floats), and
    whether every value is finite."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    channels = draw(st.sampled_from([None, 3, 4])) if dtype == np.uint8 else None
    shape = (draw(SIDES), draw(SIDES)) + ((channels,) if channels else ())
    elements = st.floats(width=32) if dtype.kind == "f" else None
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    if draw(st.booleans()):  # an object on a flat background, as real inputs are
        array = np.zeros_like(array)
        array[shape[0] // 4 : shape[0] // 2 + 1, shape[1] // 4 : shape[1] // 2 + 1] = 1
    try:
        image = Image.fromarray(array)
    except (TypeError, ValueError, KeyError):  # a dtype Pillow itself cannot hold
        image = Image.fromarray(array.astype(np.float32))
    finite = bool(np.isfinite(array.astype(np.float64)).all())
    return image, finite


def outcome(prepare) -> np.ndarray | None:
    """A valid 28x28 uint8 input, or None for an ImageError; any other exception fails."""
    try:
        pixels = prepare()
    except ImageError:
        return None
    assert isinstance(pixels, np.ndarray)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert pixels.max() == 255
    return pixels


@SETTINGS
@given(image=raw_images(), reduce=st.booleans())
def test_any_mode_and_size_gives_an_input_or_an_image_error(image, reduce):
    with mock.patch.object(images, "WORK_PIXELS", 60 if reduce else images.WORK_PIXELS):
        outcome(lambda: fashion_input(image))


@SETTINGS
@given(made=array_images(), reduce=st.booleans())
def test_any_dtype_gives_an_input_or_an_image_error(made, reduce):
    image, finite = made
    with mock.patch.object(images, "WORK_PIXELS", 60 if reduce else images.WORK_PIXELS):
        pixels = outcome(lambda: fashion_input(image))
    if not finite:
        assert pixels is None, "an image with NaN or infinite pixels was classified"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("images")


@pytest.mark.filterwarnings("ignore::UserWarning:PIL")  # Pillow warns of some cut files
@SETTINGS
@given(
    image=raw_images(),
    extension=st.sampled_from(["png", "tiff", "jpg", "bmp", "gif", "webp"]),
    cut=st.none() | st.floats(0.0, 1.0),
)
def test_saved_files_even_cut_short_give_an_input_or_an_image_error(folder, image, extension, cut):
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=Image.registered_extensions()[f".{extension}"])
    except (OSError, ValueError, KeyError, TypeError):  # Pillow cannot write this mode so
        return
    content = buffer.getvalue()
    path = folder / f"image.{extension}"
    path.write_bytes(content if cut is None else content[: int(len(content) * cut)])
    outcome(lambda: load_image(path))
