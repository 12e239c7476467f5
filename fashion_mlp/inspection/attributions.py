"""Which pixels made the model answer: Integrated Gradients (Sundararajan et al., 2017) and
gradient x input, on the raw pixels (0-255) the user gave, in one compiled call per batch.

The explained output F is the log-probability of one class (log-softmax of the logits where
the model exposes them: better conditioned than the probability). IG integrates the gradient of
F along the straight path from a baseline image (default: all black, raw zeros) to the image
with the trapezoid rule, so the attributions sum to F(image) - F(baseline) (completeness) up to
the rule's error. Gradient x input is the gradient at the image alone, times image - baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fashion_mlp.inspection.defaults import BASELINE, MAX_STEPS, STEPS
from fashion_mlp.inspection.network import InspectionError, Network, in_buckets

BUCKETS = (1, 8, 32)  # images per compiled call, each x (steps + 1) path points: 3 compilations
PREDICTED = -1  # a class of -1 explains the class the model predicts


@dataclass(frozen=True)
class Attributions:
    """Each raw pixel's share of F(image) - F(baseline), F the explained class's log-probability."""

    values: np.ndarray  # (n, *input_shape) float32, in units of log-probability
    classes: np.ndarray  # (n,) the explained class of each image
    target: np.ndarray  # (n,) F(image): log-probability of the explained class
    baseline_target: np.ndarray  # (n,) F(baseline)
    baseline: np.ndarray  # (n, *input_shape) the baseline image of each image, raw pixels
    method: str  # "integrated_gradients" or "gradient_x_input"
    steps: int  # trapezoid intervals (1 for gradient x input)

    @property
    def completeness_error(self) -> np.ndarray:
        """|sum of attributions - (F(image) - F(baseline))| / max(|F(image) - F(baseline)|, 1).

        Relative to the change F(image) - F(baseline), or, for a change under 1 (the class
        about as likely on the baseline), absolute: 0.01 is then a 1 % probability ratio.
        """
        change = self.target - self.baseline_target
        total = self.values.reshape(len(self.values), -1).sum(axis=1)
        return np.abs(total - change) / np.maximum(np.abs(change), 1.0)


def integrated_gradients(
    network: Network, images, classes=None, *, baseline=BASELINE, steps: int = STEPS
) -> Attributions:
    """Integrated Gradients of the explained class (default: the predicted one) per image.

    Args:
        network: the model to explain.
        images: raw images (n, 28, 28) or one (28, 28), 0-255.
        classes: one class per image (number or name), one for all, or None = predicted.
        baseline: the image the path starts from: a grey level or an image (default 0: black).
        steps: trapezoid intervals along the path (more = closer completeness, slower).
    """
    if not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise InspectionError(f"steps={steps!r}: expected a whole number from 1 to {MAX_STEPS}")
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, dtype=np.float32)
    weights[[0, -1]] /= 2
    path = Quadrature("integrated_gradients", steps, alphas, weights)
    return attribute(network, images, classes, baseline, path)


def gradient_x_input(network: Network, images, classes=None, *, baseline=BASELINE) -> Attributions:
    """The instant variant: gradient of F at the image times (image - baseline)."""
    one = np.ones(1, dtype=np.float32)
    return attribute(
        network, images, classes, baseline, Quadrature("gradient_x_input", 1, one, one)
    )


@dataclass(frozen=True)
class Quadrature:
    """Where along the straight path the gradient is taken, and each point's weight."""

    method: str
    steps: int
    alphas: np.ndarray  # 0 = the baseline, 1 = the image
    weights: np.ndarray  # summing to 1


def attribute(network: Network, images, classes, baseline, path: Quadrature) -> Attributions:
    """Attributions along `path` in one compiled call per fixed-size batch of images."""
    batch = network.as_batch(images)
    baselines = baseline_batch(network, baseline, len(batch))
    wanted = class_batch(network, classes, len(batch))
    function = network.compiled((path.method, path.steps), lambda: compile_path(network, path))
    values, chosen, target, start = in_buckets(
        lambda *arrays: function(network.params, *arrays), [batch, baselines, wanted], BUCKETS
    )
    return Attributions(values, chosen, target, start, baselines, path.method, path.steps)


def baseline_batch(network: Network, baseline, count: int) -> np.ndarray:
    """The baseline (a grey level or one image) as one image per input image."""
    value = np.asarray(baseline, dtype=np.float32)
    if value.shape not in ((), network.input_shape) or not np.isfinite(value).all():
        raise InspectionError(
            f"baseline of shape {value.shape}: expected a grey level (0-255) or one image of "
            f"shape {network.input_shape}"
        )
    return np.broadcast_to(value, (count, *network.input_shape)).copy()


def class_batch(network: Network, classes, count: int) -> np.ndarray:
    """The explained class of each image as numbers; PREDICTED where the model chooses."""
    if classes is None:
        return np.full(count, PREDICTED, dtype=np.int32)
    if isinstance(classes, str | int | np.integer):
        classes = [classes] * count
    if len(classes) != count:
        raise InspectionError(f"{len(classes)} classes for {count} images: give one per image")
    return np.asarray([network.class_index(value) for value in classes], dtype=np.int32)


def compile_path(network: Network, path: Quadrature):
    """A jitted function: (params, images, baselines, classes) -> attributions, classes, F's."""
    import jax
    import jax.numpy as jnp

    alphas, weights = jnp.asarray(path.alphas), jnp.asarray(path.weights)

    def explained(params, images, classes):
        log_probabilities = network.call(params, images)[0]
        return jnp.take_along_axis(log_probabilities, classes[:, None], axis=1)[:, 0]

    def attributions(params, images, baselines, classes):
        predicted = jnp.argmax(network.call(params, images)[0], axis=1).astype(classes.dtype)
        classes = jnp.where(classes == PREDICTED, predicted, classes)
        count, shape = images.shape[0], images.shape[1:]
        steps = alphas.reshape(-1, 1, *[1] * len(shape))
        points = (baselines + steps * (images - baselines)).reshape(-1, *shape)
        point_weights = jnp.repeat(weights, count)

        def weighted_total(points):
            return jnp.sum(
                point_weights * explained(params, points, jnp.tile(classes, len(alphas)))
            )

        gradients = jax.grad(weighted_total)(points).reshape(len(alphas), count, *shape)
        values = gradients.sum(axis=0) * (images - baselines)
        return (
            values,
            classes,
            explained(params, images, classes),
            explained(params, baselines, classes),
        )

    return jax.jit(attributions)
