"""A run's test set seen through its model: the confusion matrix and per-class scores, images
by index, by class, by confusion-matrix cell, and the most confident mistakes."""

from __future__ import annotations

import io
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query, Response
from PIL import Image

from fashion_mlp.metrics import classification_metrics
from fashion_mlp.serve.context import Ctx
from fashion_mlp.serve.errors import bad_input, not_found
from fashion_mlp.serve.warm import TestSet

router = APIRouter(prefix="/api/runs/{run_id}/test", tags=["test set"])
PNG_CACHE_SECONDS = 3600  # test images never change for a given run id


@router.get("", summary="Accuracy, confusion matrix (rows = true class) and per-class scores")
def test_summary(run_id: str, ctx: Ctx):
    test = ctx.warm.test_set(ctx.run(run_id))
    metrics = classification_metrics(test.labels, test.probabilities, test.data.class_names)
    keep = (
        "test_accuracy",
        "test_loss",
        "num_test",
        "class_names",
        "confusion_matrix",
        "per_class",
        "macro_avg",
    )
    return {key: metrics[key] for key in keep}


def item(test: TestSet, index: int) -> dict:
    row = test.probabilities[index]
    predicted = int(row.argmax())
    label = int(test.labels[index])
    return {
        "index": index,
        "label": label,
        "predicted": predicted,
        "confidence": round(float(row[predicted]), 6),
        "true_probability": round(float(row[label]), 6),
    }


def checked_class(value: int | None, test: TestSet, what: str) -> int | None:
    classes = len(test.data.class_names)
    if value is not None and not 0 <= value < classes:
        raise bad_input(f"{what}={value}: expected a class number from 0 to {classes - 1}")
    return value


def select(test: TestSet, true: int | None, predicted: int | None, mistakes: bool) -> np.ndarray:
    """Indices of the test images matching the filters."""
    keep = np.ones(len(test.labels), dtype=bool)
    if true is not None:
        keep &= test.labels == true
    if predicted is not None:
        keep &= test.predicted == predicted
    if mistakes:
        keep &= test.labels != test.predicted
    return np.flatnonzero(keep)


@router.get("/images", summary="Test images by true class, predicted class and/or mistakes")
def test_images(
    run_id: str,
    ctx: Ctx,
    true: Annotated[
        int | None, Query(description="true class number (a confusion-matrix row)")
    ] = None,
    predicted: Annotated[int | None, Query(description="predicted class number (a column)")] = None,
    mistakes: Annotated[bool, Query(description="only images the model got wrong")] = False,
    sort: Annotated[
        Literal["index", "confidence"],
        Query(description="confidence = the model's most confident first"),
    ] = "index",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, description="at most the server's listing limit (200)")] = 48,
):
    if limit > ctx.settings.max_listed_images:
        raise bad_input(f"limit={limit}: at most {ctx.settings.max_listed_images} a page")
    test = ctx.warm.test_set(ctx.run(run_id))
    checked_class(true, test, "true")
    checked_class(predicted, test, "predicted")
    indices = select(test, true, predicted, mistakes)
    if sort == "confidence":
        confidence = test.probabilities[indices, test.predicted[indices]]
        indices = indices[np.argsort(-confidence, kind="stable")]
    page = indices[offset : offset + limit]
    return {
        "total": len(indices),
        "class_names": list(test.data.class_names),
        "items": [item(test, int(index)) for index in page],
    }


@router.get("/mistakes", summary="The model's most confident mistakes")
def test_mistakes(run_id: str, ctx: Ctx, limit: Annotated[int, Query(ge=1)] = 24):
    return test_images(run_id, ctx, None, None, True, "confidence", 0, limit)


@router.get("/confusion/{true}/{predicted}", summary="A confusion-matrix cell's images")
def confusion_cell(
    run_id: str, true: int, predicted: int, ctx: Ctx, limit: Annotated[int, Query(ge=1)] = 48
):
    return test_images(run_id, ctx, true, predicted, False, "confidence", 0, limit)


def checked_index(index: int, test: TestSet) -> int:
    count = len(test.labels)
    if not 0 <= index < count:
        raise not_found(
            f"test image {index} does not exist: the test set has {count} (0 to {count - 1})"
        )
    return index


@router.get("/images/{index}", summary="One test image: label, prediction, probabilities, pixels")
def test_image(run_id: str, index: int, ctx: Ctx):
    test = ctx.warm.test_set(ctx.run(run_id))
    checked_index(index, test)
    return {
        **item(test, index),
        "probabilities": [round(float(p), 6) for p in test.probabilities[index]],
        "pixels": test.data.x_test[index].tolist(),
    }


@router.get("/images/{index}/png", summary="One test image as a 28x28 PNG")
def test_image_png(run_id: str, index: int, ctx: Ctx):
    test = ctx.warm.test_set(ctx.run(run_id))
    checked_index(index, test)
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(test.data.x_test[index], dtype=np.uint8)).save(buffer, "PNG")
    headers = {"Cache-Control": f"private, max-age={PNG_CACHE_SECONDS}"}
    return Response(buffer.getvalue(), media_type="image/png", headers=headers)
