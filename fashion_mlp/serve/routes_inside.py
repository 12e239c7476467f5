"""Inside a run's model: why it answers for a drawn or uploaded image or a test image
(probabilities, hidden layers, attributions), its first-layer weights, each class's mean
activations and the map of its test set. Arrays are compact: rounded, or quantised to integers
with their scale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool

from fashion_mlp.inspection.activations import class_means
from fashion_mlp.inspection.defaults import BASELINE, MAX_STEPS, STEPS
from fashion_mlp.inspection.explanations import explain, image_json
from fashion_mlp.inspection.weights import first_layer_weights
from fashion_mlp.runs import RunDir
from fashion_mlp.serve.context import Context, Ctx
from fashion_mlp.serve.errors import too_large
from fashion_mlp.serve.routes_predict import (
    PixelImages,
    check_count,
    pixel_batch,
    uploaded_image,
)
from fashion_mlp.serve.routes_testset import checked_index

router = APIRouter(prefix="/api/runs/{run_id}/inside", tags=["inside the model"])
MAP_SCALE = 65_535  # map coordinates as integers 0-65535 across the unit square (16 bits)
WEIGHT_SCALE = 127  # weight images as integers -127..127 times their unit's `scale`
WEIGHTS_SHOWN = 64  # units listed by default: the most important first


@dataclass
class ExplainOptions:
    """What the explain endpoints explain and how (query parameters)."""

    explained_class: Annotated[
        str | None,
        Query(alias="class", description="class explained, by name or number (default: predicted)"),
    ] = None
    method: Annotated[
        Literal["integrated_gradients", "gradient_x_input"],
        Query(description="integrated_gradients, or gradient_x_input (the instant variant)"),
    ] = "integrated_gradients"
    steps: Annotated[int, Query(description=f"integration intervals, 1 to {MAX_STEPS}")] = STEPS
    baseline: Annotated[
        float, Query(ge=0, le=255, description="grey level of the baseline image (0 = black)")
    ] = BASELINE
    map: Annotated[bool, Query(description="also place each image on the test set's map")] = False


Options = Annotated[ExplainOptions, Depends()]


def explained(run: RunDir, ctx: Context, images: list, names: list, options: ExplainOptions):
    """The explain endpoints' response: each image's explanation (and its point on the map)."""
    if len(images) > ctx.settings.max_explained_images:
        raise too_large(
            f"{len(images)} images to explain; at most {ctx.settings.max_explained_images} "
            "a request (each costs a pass per integration step): split them"
        )
    network = ctx.warm.network(run)
    batch = np.stack(images)
    explanation = explain(
        network,
        batch,
        options.explained_class,
        method=options.method,
        steps=options.steps,
        baseline=options.baseline,
    )
    results = [
        {"name": name} | image_json(explanation, index, network.class_names)
        for index, name in enumerate(names)
    ]
    if options.map:
        points = ctx.warm.test_map(run).placer.place(batch)
        for result, point in zip(results, points, strict=True):
            result["map_point"] = np.round(point * MAP_SCALE).astype(int).tolist()
    return {"classes": list(network.class_names), "results": results}


@router.post("/explain/pixels", summary="Explain 28x28 uint8 arrays sent as JSON (drawings)")
def explain_pixels(run_id: str, body: PixelImages, ctx: Ctx, options: Options):
    run = ctx.run(run_id)
    check_count(len(body.images), ctx)
    batch = pixel_batch(body.images, ctx.warm.predictor(run).input_shape)
    names = [f"image {index + 1}" for index in range(len(batch))]
    return explained(run, ctx, list(batch), names, options)


@router.post("/explain", summary="Explain one uploaded image file")
async def explain_file(
    run_id: str,
    ctx: Ctx,
    file: Annotated[UploadFile, File(description="an image: PNG, JPEG, GIF, BMP, WebP, TIFF")],
    options: Options,
):
    run = ctx.run(run_id)
    name = file.filename or "file"
    image = await uploaded_image(file, name, ctx)
    return await run_in_threadpool(explained, run, ctx, [image], [name], options)


@router.get("/test/{index}", summary="Explain one test image")
def explain_test_image(run_id: str, index: int, ctx: Ctx, options: Options):
    run = ctx.run(run_id)
    test = ctx.warm.test_set(run)
    checked_index(index, test)
    response = explained(run, ctx, [test.data.x_test[index]], [f"test[{index}]"], options)
    response["results"][0]["label"] = int(test.labels[index])
    return response


@router.get("/weights", summary="First-layer weight images, the most important units first")
def weights(
    run_id: str,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, description="units listed, most important first")] = (
        WEIGHTS_SHOWN
    ),
    folded: Annotated[
        bool,
        Query(description="weights on raw pixels through the normalisation (default: as stored)"),
    ] = False,
):
    run = ctx.run(run_id)
    found = first_layer_weights(
        ctx.warm.network(run), ctx.warm.test_set(run).data.x_test, folded=folded
    )
    units = found.order[:limit]
    flat = found.images[units].reshape(len(units), -1)
    scale = np.maximum(np.abs(flat).max(axis=1), np.finfo(np.float32).tiny)
    return {
        "layer": found.layer,
        "units": len(found.order),
        "folded": found.folded,
        "ranking": found.ranking,
        "order": found.order.tolist(),
        "importance": np.round(found.importance.astype(float), 6).tolist(),
        "shape": list(found.images.shape[1:]),
        "listed": units.tolist(),
        "scale": [float(value) for value in scale / WEIGHT_SCALE],
        "images": np.round(flat / scale[:, None] * WEIGHT_SCALE).astype(int).tolist(),
        "bias": np.round(found.bias[units].astype(float), 6).tolist(),
    }


@router.get("/activations/means", summary="Each class's mean hidden activations on the test set")
def activation_means(run_id: str, ctx: Ctx):
    run = ctx.run(run_id)
    test = ctx.warm.test_set(run)
    means = class_means(ctx.warm.network(run), test.data.x_test, test.labels)
    return {
        "class_names": list(test.data.class_names),
        "layers": {name: np.round(values, 5).tolist() for name, values in means.items()},
    }


@router.get("/map", summary="The test set's map: a point per test image (computed once, cached)")
def test_map(run_id: str, ctx: Ctx):
    points = ctx.warm.test_map(ctx.run(run_id)).points
    return {
        "count": len(points.x),
        "scale": MAP_SCALE,
        "x": np.round(points.x * MAP_SCALE).astype(int).tolist(),
        "y": np.round(points.y * MAP_SCALE).astype(int).tolist(),
        "labels": points.labels.tolist(),
        "predicted": points.predicted.tolist(),
        "confidence_permille": np.round(points.confidence * 1000).astype(int).tolist(),
        "layer": points.layer,
        "method": points.method,
        "knn_accuracy": points.knn_accuracy,
        "seconds": points.seconds,
    }
