"""Knowledge distillation: a teacher run's class probabilities as a student run's targets.

The teacher (any finished run; typically an ensemble run) answers every training image once,
before training, in its fastest forward pass. A student that trains with mirrored images gets,
for an image and its mirror alike, the mean of the teacher's answers for both views: its target
fits whichever view it draws (random shifts keep the unshifted image's answer). The targets are
rows [one-hot label | teacher probabilities]; `fashion_mlp.losses.DistillationLoss` softens the
teacher's half at the configured temperature, so one set of targets serves every temperature.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fashion_mlp.config import DistillConfig, ExperimentConfig
from fashion_mlp.datasets import Dataset
from fashion_mlp.errors import RunError
from fashion_mlp.inference.mirror import mirrored
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import integer_labels

TEACHER_BATCH = 4096  # images per forward pass: an ensemble's activations stay small


def teacher_run(teacher: str | Path) -> RunDir:
    """The teacher's run folder, or a RunError saying why it cannot teach."""
    run = RunDir(Path(teacher).expanduser())
    if not run.path.is_dir():
        raise RunError(
            f"teacher {teacher}: no such run folder; pass a finished run's folder, e.g. one that "
            "`fashion-mlp runs` lists"
        )
    if not run.is_finished:
        raise RunError(
            f"teacher {run.path} is not finished; finish it first (fashion-mlp train --resume "
            f"{run.path}) or choose another run"
        )
    return run


def teacher_probabilities(teacher: RunDir, images: np.ndarray, *, mirror: bool) -> np.ndarray:
    """The teacher's own (uncalibrated) class probabilities of `images`; with `mirror`, the
    mean of its answers for each image and its mirror."""
    predictor = Predictor.load(teacher)
    parts = []
    for start in range(0, len(images), TEACHER_BATCH):
        batch = images[start : start + TEACHER_BATCH]
        probabilities = predictor.predict_proba(batch, raw=True)
        if mirror:
            probabilities = (probabilities + predictor.predict_proba(mirrored(batch), raw=True)) / 2
        parts.append(probabilities)
    return np.concatenate(parts).astype(np.float32)


def checked_teacher(config: ExperimentConfig, data: Dataset) -> RunDir | None:
    """The run that teaches `config` (None for a run without a teacher), or a RunError if it
    cannot teach on `data`: not a finished run, or trained on other classes. Runs and sweeps
    call it before their first folder exists, so that a wrong teacher leaves nothing behind."""
    if config.distill.teacher is None:
        return None
    teacher = teacher_run(config.distill.teacher)
    if list(teacher.class_names()) != list(data.class_names):
        raise RunError(
            f"teacher {teacher.path} knows the classes {', '.join(teacher.class_names())}, the "
            f"data set {config.data.name!r} has {', '.join(data.class_names)}: a teacher must "
            "have been trained on the same classes"
        )
    return teacher


def distillation_targets(config: ExperimentConfig, data: Dataset) -> np.ndarray | None:
    """Target rows [one-hot label | teacher probabilities] for every training image of a
    distilled run (validation split included: its loss is measured the same way); None for a
    run without a teacher."""
    teacher = checked_teacher(config, data)
    if teacher is None:
        return None
    mirror = bool(config.model.spec.flip) and config.model.user_model is None
    return target_rows(teacher, data.x_train, data.y_train, data.num_classes, mirror=mirror)


def target_rows(
    teacher: RunDir, images: np.ndarray, labels: np.ndarray, num_classes: int, *, mirror: bool
) -> np.ndarray:
    """DistillationLoss's rows [one-hot label | teacher probabilities] for `images`."""
    probabilities = teacher_probabilities(teacher, images, mirror=mirror)
    one_hot = np.eye(num_classes, dtype=np.float32)[integer_labels(labels)]
    return np.concatenate([one_hot, probabilities], axis=1)


def teacher_facts(distill: DistillConfig) -> dict:
    """metrics.json's `distilled_from`: the teacher run, its test accuracy and members, and
    the temperature and weight it taught with."""
    teacher = teacher_run(distill.teacher)
    metrics = teacher.read_metrics()
    facts = {
        "run": teacher.name,
        "path": str(teacher.path.resolve()),
        "test_accuracy": metrics.get("test_accuracy"),
        "temperature": distill.temperature,
        "alpha": distill.alpha,
    }
    if teacher.is_ensemble:
        facts["members"] = len(teacher.read_ensemble()[0])
    return facts
