"""Mirror averaging for the user's own photos: the data set's shoes face left, a photo's may face
right. A photo's probabilities are averaged with its mirror image's where that scores higher on
validation images seen either way round (the data set's own images are never mirrored)."""

from __future__ import annotations

import numpy as np

from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.runs import RunDir


def mirrored(images: np.ndarray) -> np.ndarray:
    """Images (n, rows, columns) mirrored left-right."""
    return np.asarray(images)[..., ::-1]


def mirror_check(predictor: Predictor, x_val, y_val) -> dict:
    """Validation accuracy of images either way round (the mean over both), plain and averaged
    with their mirror; `average_photos` when averaging is higher. {} without a validation set
    or for flat inputs."""
    if x_val is None or len(predictor.input_shape) < 2:
        return {}
    plain = predictor.predict_proba(x_val)
    flipped = predictor.predict_proba(mirrored(x_val))
    scores = [float(np.mean(p.argmax(axis=1) == y_val)) for p in (plain, flipped)]
    averaged = float(np.mean(((plain + flipped) / 2).argmax(axis=1) == y_val))
    return {
        "validation_plain": float(np.mean(scores)),
        "validation_averaged": averaged,
        "average_photos": averaged > float(np.mean(scores)),
    }


def averages_photos(run: RunDir) -> bool:
    """Whether the run's validation chose mirror averaging for photos (older runs: no)."""
    choice = run.read_metrics().get("mirror")
    return isinstance(choice, dict) and choice.get("average_photos") is True


def photo_probabilities(
    predictor: Predictor, images, photos, average: bool, raw: bool = False
) -> np.ndarray:
    """Class probabilities of images (the model's own with `raw`, else calibrated); those marked
    in `photos` (the user's own, a boolean mask) averaged with their mirror images' when
    `average`."""
    images, photos = np.asarray(images), np.asarray(photos, dtype=bool)
    probabilities = predictor.predict_proba(images, raw=raw)
    if average and photos.any():
        flipped = predictor.predict_proba(mirrored(images[photos]), raw=raw)
        probabilities[photos] = (probabilities[photos] + flipped) / 2
    return probabilities
