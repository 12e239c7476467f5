"""Everything about why a model answered for given images at once: probabilities, hidden layers
and attributions, and each image's explanation as plain JSON for the CLI and the server."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fashion_mlp.inspection.activations import activations
from fashion_mlp.inspection.attributions import Attributions, gradient_x_input, integrated_gradients
from fashion_mlp.inspection.defaults import BASELINE, METHODS, STEPS
from fashion_mlp.inspection.network import InspectionError, Network

ATTRIBUTION_DECIMALS = 6  # rounding error at most 784 x 5e-7 on a sum of a few units
ACTIVATION_DECIMALS = 5


@dataclass(frozen=True)
class Explanation:
    """A batch of images explained: probabilities, hidden layers' values, attributions."""

    probabilities: np.ndarray  # (n, classes)
    activations: dict[str, np.ndarray] | None  # None when the hidden layers cannot be read
    activations_problem: str | None  # why not, then
    attributions: Attributions


def explain(
    network: Network,
    images,
    classes=None,
    *,
    method: str = METHODS[0],
    steps: int = STEPS,
    baseline=BASELINE,
) -> Explanation:
    """Probabilities, hidden activations and attributions of the images (see attributions.py)."""
    if method not in METHODS:
        raise InspectionError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    if method == "integrated_gradients":
        attributed = integrated_gradients(network, images, classes, baseline=baseline, steps=steps)
    else:
        attributed = gradient_x_input(network, images, classes, baseline=baseline)
    log_probabilities, _ = network.forward(images)
    try:
        hidden, problem = activations(network, images), None
    except InspectionError as error:
        hidden, problem = None, str(error)
    return Explanation(np.exp(log_probabilities), hidden, problem, attributed)


def image_json(explanation: Explanation, index: int, class_names) -> dict:
    """One image's explanation as JSON types: its probabilities, the explained class with F
    (the class's log-probability) on the image and the baseline, attributions, activations."""
    probabilities = explanation.probabilities[index]
    attributed = explanation.attributions
    explained = int(attributed.classes[index])
    predicted = int(probabilities.argmax())
    return {
        "predicted": {"class": class_names[predicted], "index": predicted},
        "probabilities": np.round(probabilities.astype(float), 6).tolist(),
        "explained": {
            "class": class_names[explained],
            "index": explained,
            "method": attributed.method,
            "steps": attributed.steps,
            "output": "log-probability",
            "value": float(attributed.target[index]),
            "baseline_value": float(attributed.baseline_target[index]),
            "attribution_sum": float(attributed.values[index].sum(dtype=np.float64)),
            "completeness_error": float(attributed.completeness_error[index]),
        },
        "baseline": baseline_json(attributed.baseline[index]),
        "attributions": np.round(attributed.values[index], ATTRIBUTION_DECIMALS).tolist(),
        "activations": None
        if explanation.activations is None
        else {
            name: np.round(values[index], ACTIVATION_DECIMALS).tolist()
            for name, values in explanation.activations.items()
        },
    }


def baseline_json(baseline: np.ndarray) -> dict:
    """A constant baseline as its grey level (0 = black), another as its pixels."""
    if (baseline == baseline.flat[0]).all():
        return {"grey_level": float(baseline.flat[0])}
    return {"pixels": baseline.tolist()}
