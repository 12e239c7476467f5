"""A run's "Inside the network" figures, drawn into its folder for the report: first-layer
weights, attributions of a few test images and of the most confident mistakes, the test map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fashion_mlp.datasets import Dataset
from fashion_mlp.inspection.attributions import integrated_gradients
from fashion_mlp.inspection.embedding import model_sha256, read_map, run_map
from fashion_mlp.inspection.network import InspectionError, Network
from fashion_mlp.inspection.weights import first_layer_weights
from fashion_mlp.reports.figures import save_figure
from fashion_mlp.reports.inside_figures import attributions_figure, map_figure, weights_figure
from fashion_mlp.reports.inside_section import ATTRIBUTIONS_PNG, MAP_PNG, WEIGHTS_PNG
from fashion_mlp.runs import RunDir

FIRST_IMAGES = 3  # test images 0, 1, 2: the ones `explain --test-index 0 1 2` shows
MISTAKES = 3  # the most confident mistakes beside them: where an explanation helps most
WEIGHTS_SHOWN = 32  # the most important units: each subplot costs time at every training's end


def write_inside_figures(
    run: RunDir, model, data: Dataset, probabilities, *, compute_map: bool = False
) -> list[Path]:
    """Draw the figures the model allows; the map only when cached, or when `compute_map`
    (t-SNE takes seconds: too long for the end of every training)."""
    try:
        network = Network(model, data.class_names)
    except InspectionError:
        return []  # another backend than JAX: the report says how to draw them
    drawers = {
        WEIGHTS_PNG: lambda: weights_png(network, data),
        ATTRIBUTIONS_PNG: lambda: attributions_png(network, data, probabilities),
        MAP_PNG: lambda: map_png(run, network, compute_map),
    }
    written = []
    for name, draw in drawers.items():
        try:
            figure = draw()
        except InspectionError:
            continue  # the report says which figures a model like this has, and why
        if figure is not None:
            written.append(save_figure(figure, run.path / name))
    return written


def weights_png(network: Network, data: Dataset):
    weights = first_layer_weights(network, data.x_test)
    title = f"{weights.layer}: weights on the standardised pixels; units by {weights.ranking}"
    return weights_figure(weights.images, weights.order, title, shown=WEIGHTS_SHOWN)


def attributions_png(network: Network, data: Dataset, probabilities):
    """Integrated Gradients of the predicted class for the first test images and the mistakes."""
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != data.y_test)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:MISTAKES]
    chosen = [*range(min(FIRST_IMAGES, len(data.y_test))), *worst.tolist()]
    attributed = integrated_gradients(network, data.x_test[chosen])
    names = network.class_names
    titles = [
        f"test {index}: {names[data.y_test[index]]}\n"
        f"{'wrong:' if index in worst else 'predicted'} "
        f"{names[predicted[index]]} {confidence[index]:.0%}"
        for index in chosen
    ]
    return attributions_figure(data.x_test[chosen], attributed.values, titles)


def map_png(run: RunDir, network: Network, compute: bool):
    """The map's scatter from map.json (computed first when `compute`), or None without one."""
    network.require_hidden("the map")
    test_map = run_map(run, network)[0] if compute else read_map(run, model_sha256(run))
    if test_map is None:
        return None
    title = (
        f"{len(test_map.x):,} test images by their layer {test_map.layer!r} (t-SNE); "
        f"10-NN accuracy on the map {test_map.knn_accuracy:.3f}"
    )
    return map_figure(test_map.points, test_map.labels, network.class_names, title)
