"""Distillation with a transfer set: does a student learn more from its teacher when the teacher
also answers images it never trained on (mixtures of two training images), beside the training
images themselves?

Hinton et al. (2015) distil on a "transfer set"; Beyer et al. (2022) find that a student learns
its teacher's function best on many views of the data that the teacher answers. The teacher
(any finished run, typically an ensemble; it must not have seen the validation split) answers
the training images and `--extra` times as many mixtures of random training pairs, once,
before training: mixup (pixels blended with weight lam ~ U(0.5, 1) on the first image) or CutMix
(a 7-14 pixel rectangle of the second image pasted in). A mixture's label is its first image's.
The student trains on both with `fashion_mlp.losses.DistillationLoss` and is scored on the
VALIDATION split only. Run by hand (about a minute per student with `fast` on 2 cores):

    python benchmarks/distill_transfer.py TEACHER_RUN --mode mixup --extra 1.0 --alpha 0.5
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time

import fashion_mlp  # noqa: F401  (selects the JAX backend before Keras is imported)

# isort: split
import numpy as np

from fashion_mlp.config import build_config
from fashion_mlp.distillation import checked_teacher, target_rows
from fashion_mlp.experiment import build_configured_model
from fashion_mlp.presets import preset
from fashion_mlp.subsets import load_run_data, split_validation
from fashion_mlp.training.compiled import fit_compiled
from fashion_mlp.training.optimizers import compile_model

VALIDATION_SPLIT = 0.1


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("teacher", help="a finished run that never saw the validation split")
    parser.add_argument("--preset", default="fast", help="the student's preset (fast)")
    parser.add_argument("--mode", choices=("mixup", "cutmix", "none"), default="mixup")
    parser.add_argument("--extra", type=float, default=1.0, help="mixtures per image (1.0)")
    parser.add_argument("--alpha", type=float, default=0.5, help="teacher's weight (0.5)")
    parser.add_argument("--temperature", type=float, default=2.0, help="(2.0)")
    parser.add_argument("--seed", type=int, default=0, help="the student's seed; mixtures' too (0)")
    return parser.parse_args(argv)


def mixtures(images: np.ndarray, count: int, mode: str, rng: np.random.Generator):
    """`count` mixtures of random pairs of `images`, and the index of each one's first image."""
    first = rng.integers(0, len(images), count)
    second = rng.integers(0, len(images), count)
    if mode == "mixup":
        weight = rng.uniform(0.5, 1.0, (count, 1, 1))
        blend = weight * images[first] + (1 - weight) * images[second]
        return np.rint(blend).astype(images.dtype), first
    mixed = images[first].copy()
    rows, columns = images.shape[1:]
    for index in range(count):
        height, width = rng.integers(7, 15, 2)
        top, left = rng.integers(0, rows - height), rng.integers(0, columns - width)
        patch = (slice(top, top + height), slice(left, left + width))
        mixed[index][patch] = images[second[index]][patch]
    return mixed, first


def main(argv=None) -> None:
    args = parse_args(argv)
    distill = {"teacher": args.teacher, "alpha": args.alpha, "temperature": args.temperature}
    overrides = {
        "training": {"seed": args.seed, "validation_split": VALIDATION_SPLIT},
        "distill": distill,
    }
    config = build_config(preset(args.preset), overrides)
    data = load_run_data(config.data)
    x_train, y_train, x_val, y_val = split_validation(data.x_train, data.y_train, VALIDATION_SPLIT)
    count = 0 if args.mode == "none" else round(args.extra * len(x_train))
    if count:
        rng = np.random.default_rng([args.seed, 1])
        mixed, first = mixtures(x_train, count, args.mode, rng)
        x_train = np.concatenate([x_train, mixed])
        y_train = np.concatenate([y_train, y_train[first]])
    teacher = checked_teacher(config, data)
    mirror = bool(config.model.spec.flip)
    started = time.perf_counter()
    train_targets = target_rows(teacher, x_train, y_train, data.num_classes, mirror=mirror)
    val_targets = target_rows(teacher, x_val, y_val, data.num_classes, mirror=mirror)
    teacher_seconds = time.perf_counter() - started
    student_data = dataclasses.replace(data, x_train=x_train, y_train=y_train)
    student_config = dataclasses.replace(
        config, training=dataclasses.replace(config.training, validation_split=0.0)
    )
    model = build_configured_model(student_config, student_data)
    training = config.training
    steps = training.epochs * math.ceil(len(x_train) / training.batch_size)
    compile_model(model, config.optimizer, total_steps=steps, distill=config.distill)
    started = time.perf_counter()
    history = fit_compiled(
        model,
        x_train,
        train_targets,
        epochs=training.epochs,
        batch_size=training.batch_size,
        validation_data=(x_val, val_targets),
        seed=training.seed,
    )
    training_seconds = time.perf_counter() - started
    print(
        f"{args.preset} student, {args.mode} x{args.extra if count else 0}, alpha {args.alpha}, "
        f"T {args.temperature}, seed {args.seed}: validation accuracy "
        f"{history.history['val_accuracy'][-1]:.4f} ({len(x_train):,} training images; teacher "
        f"answers {teacher_seconds:.1f} s, training {training_seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
