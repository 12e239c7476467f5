"""Predictions: uploaded image files (any format `predict` takes) or 28x28 pixel arrays in
JSON; each result has the top k, every class's probability and the 28x28 the model saw. The
probabilities are calibrated by the run's temperature unless `raw` asks for the model's own.
Both kinds are the user's own images, as files are to `fashion-mlp predict`: averaged with their
mirror images where the run's validation chose that (the test set's images never are)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from fashion_mlp.images import ImageError, load_image_bytes
from fashion_mlp.inference.mirror import photo_probabilities
from fashion_mlp.inference.predictor import Predictor, top_classes
from fashion_mlp.runs import RunDir
from fashion_mlp.serve.context import Context, Ctx
from fashion_mlp.serve.errors import ApiError, bad_input, too_large
from fashion_mlp.serve.pixels import check_pixel_lists

router = APIRouter(prefix="/api", tags=["predict"])
RawQuery = Annotated[
    bool,
    Query(
        description="the model's own probabilities; default: calibrated by the run's "
        "temperature (calibration.json; a run without one has the model's own)"
    ),
]


class PixelImages(BaseModel):
    images: list = Field(
        ...,
        description="one or more images, each 28 rows of 28 integers from 0 to 255 "
        "(light object on black, as Fashion-MNIST)",
        examples=[[[[0] * 28] * 28]],
    )


def result(
    name: str,
    pixels: np.ndarray,
    probabilities: np.ndarray,
    predictor: Predictor,
    k: int,
    with_pixels: bool,
) -> dict:
    item = {
        "name": name,
        "top": [
            {"class": c, "probability": p}
            for c, p in top_classes(probabilities, predictor.class_names, k)
        ],
        "probabilities": [round(float(p), 6) for p in probabilities],
    }
    if with_pixels:
        item["pixels"] = pixels.tolist()
    return item


def answer(predictor: Predictor, raw: bool, results: list) -> dict:
    """The response: classes, whether the probabilities are calibrated, and the results."""
    return {
        "classes": list(predictor.class_names),
        "calibrated": predictor.calibrated and not raw,
        "temperature": 1.0 if raw else predictor.temperature,
        "results": results,
    }


def check_count(count: int, ctx: Context) -> None:
    if count == 0:
        raise bad_input("no images: send one or more")
    if count > ctx.settings.max_images_per_request:
        raise too_large(
            f"{count} images in one request; at most {ctx.settings.max_images_per_request}: "
            "split them over several requests"
        )


def check_k(k: int, predictor: Predictor) -> int:
    if not 1 <= k <= len(predictor.class_names):
        raise bad_input(f"k={k}: expected 1 to {len(predictor.class_names)} (the classes)")
    return k


def own_images_probabilities(
    ctx: Context, run: RunDir, predictor: Predictor, images: np.ndarray, raw: bool
) -> np.ndarray:
    """Probabilities of the user's own images, by the rule `fashion-mlp predict` applies to
    its files (`photo_probabilities`: each averaged with its mirror where the run chose that)."""
    photos = np.ones(len(images), dtype=bool)
    return photo_probabilities(predictor, images, photos, ctx.warm.averages_photos(run), raw=raw)


# Async on purpose: a small image is prepared and classified in less time than the hand-off to
# a worker thread costs. Loading a model and preparing large photos (slow, and they would
# stall every other request) go to worker threads.
INLINE_BYTES = 256 * 1024  # uploads up to this size are prepared on the event loop


async def warm_predictor(ctx: Context, run: RunDir) -> Predictor:
    return ctx.warm.loaded_predictor(run) or await run_in_threadpool(ctx.warm.predictor, run)


async def prepared_image(content: bytes, name: str) -> np.ndarray:
    if len(content) <= INLINE_BYTES:
        return load_image_bytes(content, name)
    return await run_in_threadpool(load_image_bytes, content, name)


async def uploaded_image(upload: UploadFile, name: str, ctx: Context) -> np.ndarray:
    """An uploaded file as the model's input; 413 past the upload limit, ImageError if bad."""
    content = await upload.read(ctx.settings.max_upload_bytes + 1)
    if len(content) > ctx.settings.max_upload_bytes:
        raise too_large(f"{name} is larger than {ctx.settings.max_upload_bytes:,} bytes; resize it")
    return await prepared_image(content, name)


@router.post("/runs/{run_id}/predict", summary="Classify uploaded image files")
async def predict_files(
    run_id: str,
    ctx: Ctx,
    files: Annotated[
        list[UploadFile], File(description="image files: PNG, JPEG, GIF, BMP, WebP, TIFF")
    ],
    k: Annotated[
        int, Query(description="most probable classes listed (1 to the number of classes)")
    ] = 3,
    pixels: Annotated[bool, Query(description="include the 28x28 the model saw")] = True,
    raw: RawQuery = False,
):
    check_count(len(files), ctx)
    run = ctx.run(run_id)
    predictor = await warm_predictor(ctx, run)
    check_k(k, predictor)
    prepared: list[tuple[str, np.ndarray | None, str | None]] = []
    for index, upload in enumerate(files):
        name = upload.filename or f"file {index + 1}"
        try:
            prepared.append((name, await uploaded_image(upload, name, ctx), None))
        except ImageError as error:
            if len(files) == 1:
                raise
            prepared.append((name, None, str(error)))
    ready = [(name, image) for name, image, error in prepared if error is None]
    if not ready:
        raise bad_input("; ".join(error for _, _, error in prepared if error))
    images = np.stack([image for _, image in ready])
    probabilities = iter(own_images_probabilities(ctx, run, predictor, images, raw))
    results = [
        {"name": name, "error": error}
        if error is not None
        else result(name, image, next(probabilities), predictor, k, pixels)
        for name, image, error in prepared
    ]
    return answer(predictor, raw, results)


def pixel_batch(images: list, shape: tuple[int, ...]) -> np.ndarray:
    """JSON images as a uint8 batch, or a 422 saying what is wrong."""
    check_pixel_lists(images, shape)
    try:
        values = np.asarray(images, dtype=np.float64)
    except OverflowError:  # an integer beyond float's range (10**400)
        raise bad_input("pixel values must be finite numbers from 0 to 255") from None
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 255:
        raise bad_input("pixel values must be finite numbers from 0 to 255")
    if not np.array_equal(values, np.rint(values)):
        raise bad_input("pixel values must be whole numbers from 0 to 255")
    return values.astype(np.uint8)


@router.post("/runs/{run_id}/predict/pixels", summary="Classify 28x28 uint8 arrays sent as JSON")
def predict_pixels(
    run_id: str,
    body: PixelImages,
    ctx: Ctx,
    k: Annotated[int, Query(description="most probable classes listed")] = 3,
    raw: RawQuery = False,
):
    if not isinstance(body.images, list):
        raise ApiError(422, "images must be a list of images")
    check_count(len(body.images), ctx)
    run = ctx.run(run_id)
    predictor = ctx.warm.predictor(run)
    check_k(k, predictor)
    batch = pixel_batch(body.images, predictor.input_shape)
    probabilities = own_images_probabilities(ctx, run, predictor, batch, raw)
    results = [
        result(f"image {index + 1}", image, row, predictor, k, with_pixels=False)
        for index, (image, row) in enumerate(zip(batch, probabilities, strict=True))
    ]
    return answer(predictor, raw, results)
