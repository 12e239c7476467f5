"""Every hidden layer's values for given images, and each class's mean pattern over a data set."""

from __future__ import annotations

import numpy as np

from fashion_mlp.inspection.network import InspectionError, Network


def activations(network: Network, images) -> dict[str, np.ndarray]:
    """Each hidden layer's values (n, units) for raw images, by the layer's (Dense's) name."""
    network.require_hidden("activations")
    hidden = network.forward(images)[1]
    return {
        name: values.reshape(len(values), -1)
        for name, values in zip(network.hidden_names, hidden, strict=True)
    }


def class_means(network: Network, images, labels) -> dict[str, np.ndarray]:
    """Each hidden layer's mean values per class (classes, units) over labelled images."""
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    classes = len(network.class_names)
    if len(labels) != len(np.asarray(images)) or labels.min() < 0 or labels.max() >= classes:
        raise InspectionError(
            f"{len(labels)} labels for {len(np.asarray(images))} images: expected one label "
            f"per image, each from 0 to {classes - 1}"
        )
    counts = np.bincount(labels, minlength=classes)[:, None]
    return {
        name: np.stack([values[labels == label].sum(axis=0) for label in range(classes)])
        / np.maximum(counts, 1)
        for name, values in activations(network, images).items()
    }
