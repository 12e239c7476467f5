"""Compile a model: optimizer by name, learning-rate schedule, sparse cross-entropy loss.

Also maps the notebook's Keras 2 `decay` argument (removed in Keras 3) to the schedule that
gives the same learning rate.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from fashion_mlp.config import DistillConfig, OptimizerConfig, optimizer_config
from fashion_mlp.errors import ConfigError
from fashion_mlp.losses import (
    DistillationLoss,
    LabelAccuracy,
    LabelCrossEntropy,
    SparseCategoricalCrossentropyWithSmoothing,
)
from fashion_mlp.models import classify_outputs, probe_outputs

ONE_CYCLE_WARMUP_FRACTION = 0.3  # Smith's one-cycle rises for ~30 % of training
ONE_CYCLE_START_DIVISOR = 25.0  # ...from lr / 25 (fast.ai's div_factor)
ONE_CYCLE_FINAL_FRACTION = 1e-4  # ...and anneals to lr * 1e-4 (lr / 25 / 1e4 in fast.ai)


def compile_model(
    model: keras.Model,
    optimizer: str | OptimizerConfig = OptimizerConfig.optimizer,
    *,
    total_steps: int | None = None,
    from_logits: bool | None = None,
    metrics=("accuracy",),
    distill: DistillConfig | None = None,
    **settings,
) -> keras.Model:
    """Compile `model` with sparse categorical cross-entropy on integer labels; returns it.

    The settings and their defaults are `OptimizerConfig`'s (the notebook's SGD, learning
    rate 0.01, momentum 0.9, Nesterov); momentum and Nesterov apply to sgd only, so another
    optimizer starts without them. Schedules:
      - constant: `learning_rate` throughout, or, when `decay` > 0, Keras 2's legacy decay
        lr_t = learning_rate / (1 + decay * t) at update t (t = 0, 1, ...), which is exactly
        `InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)`;
      - cosine: linear warm-up from 0 for `warmup_steps`, then cosine decay to 0 at
        `total_steps`;
      - one_cycle: linear rise from learning_rate / 25 to learning_rate over `warmup_steps`
        (default 30 % of `total_steps`), then cosine down to learning_rate * 1e-4 (the
        learning-rate half of Smith's one-cycle policy; momentum is not cycled).

    Args:
        model: the Keras model to compile.
        optimizer: sgd, adam, adamw, rmsprop or nadam; or a whole OptimizerConfig.
        total_steps: training steps (epochs x batches per epoch), needed by cosine and one_cycle.
        from_logits: whether the model outputs logits; None = detect with a small probe batch.
        metrics: Keras metrics to track.
        distill: with a teacher, the distillation loss on target rows [one-hot | teacher
            probabilities] (`fashion_mlp.distillation`), and accuracy and cross-entropy
            against their labels, in place of the loss and `metrics`.
        **settings: any other OptimizerConfig field (learning_rate, momentum, nesterov,
            weight_decay, beta_1, beta_2, decay, schedule, warmup_steps, label_smoothing).

    Returns:
        The model, compiled.

    Raises:
        ConfigError: for an unknown setting or a value out of range, naming it.

    Examples:
        >>> compile_model(model, "sgd", learning_rate=0.01, momentum=0.9, nesterov=True)
        >>> compile_model(model, "adamw", learning_rate=2e-3, schedule="one_cycle",
        ...               total_steps=15 * 422)
    """
    if isinstance(optimizer, OptimizerConfig):
        settings = dataclasses.asdict(optimizer) | settings
    else:
        settings = {"optimizer": optimizer, **settings}
    config = optimizer_config(settings)
    if from_logits is None:
        from_logits = classify_outputs(probe_outputs(model)) == "logits"
    metrics = list(metrics)
    if config.label_smoothing:  # the loss is smoothed: also track the plain cross-entropy
        plain = keras.metrics.SparseCategoricalCrossentropy
        metrics.append(plain(name="cross_entropy", from_logits=from_logits))
    loss = make_loss(config.label_smoothing, from_logits)
    if distill is not None and distill.teacher is not None:
        loss = DistillationLoss(
            distill.temperature, distill.alpha, config.label_smoothing, from_logits=from_logits
        )
        metrics = [LabelAccuracy(), LabelCrossEntropy(from_logits=from_logits)]
    model.compile(
        optimizer=make_optimizer(config, learning_rate_schedule(config, total_steps)),
        loss=loss,
        metrics=metrics,
    )
    return model


def make_loss(label_smoothing: float = 0.0, from_logits: bool = False) -> keras.losses.Loss:
    """Sparse categorical cross-entropy, with label smoothing when it is > 0 (a validated rate)."""
    if label_smoothing == 0:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    return SparseCategoricalCrossentropyWithSmoothing(label_smoothing, from_logits=from_logits)


def make_optimizer(config: OptimizerConfig, learning_rate) -> keras.optimizers.Optimizer:
    """The Keras optimizer of a (validated) OptimizerConfig, at `learning_rate` (or schedule)."""
    decay_or_none = config.weight_decay or None  # None skips Keras's decay step entirely
    betas = {"beta_1": config.beta_1, "beta_2": config.beta_2, **ema_arguments(config)}
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(
            learning_rate,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=decay_or_none,
            **ema_arguments(config),
        )
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(
            learning_rate,
            momentum=config.momentum,
            weight_decay=decay_or_none,
            **ema_arguments(config),
        )
    if config.optimizer == "adamw":  # 0 here means none, not AdamW's own 0.004 default
        return keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay, **betas)
    optimizer_class = {"adam": keras.optimizers.Adam, "nadam": keras.optimizers.Nadam}
    return optimizer_class[config.optimizer](learning_rate, weight_decay=decay_or_none, **betas)


def ema_arguments(config: OptimizerConfig) -> dict:
    """Keras's weight-averaging arguments: the average replaces the weights when training ends."""
    return {"use_ema": True, "ema_momentum": config.ema} if config.ema else {}


def learning_rate_schedule(config: OptimizerConfig, total_steps: int | None = None):
    """The learning rate to give an optimizer: a float or a Keras schedule (see compile_model)."""
    if config.schedule == "constant":
        if config.decay > 0:
            return keras.optimizers.schedules.InverseTimeDecay(
                config.learning_rate, decay_steps=1, decay_rate=config.decay
            )
        return config.learning_rate
    if total_steps is None or total_steps < 1:
        raise ConfigError(
            f"schedule={config.schedule!r} needs total_steps (epochs x batches per epoch), "
            f"got {total_steps!r}"
        )
    if config.schedule == "one_cycle":
        return _one_cycle(config.learning_rate, config.warmup_steps, total_steps)
    return _cosine(0.0, config.learning_rate, config.warmup_steps, total_steps, alpha=0.0)


def _one_cycle(learning_rate: float, warmup_steps: int, total_steps: int):
    warmup = warmup_steps or int(ONE_CYCLE_WARMUP_FRACTION * total_steps)
    start = learning_rate / ONE_CYCLE_START_DIVISOR
    return _cosine(start, learning_rate, warmup, total_steps, alpha=ONE_CYCLE_FINAL_FRACTION)


def _cosine(start: float, peak: float, warmup_steps: int, total_steps: int, alpha: float):
    """Cosine decay to peak * alpha at total_steps, after a linear warm-up start -> peak."""
    if warmup_steps >= total_steps:
        raise ConfigError(f"warmup_steps={warmup_steps} must be below total_steps={total_steps}")
    if warmup_steps == 0:
        return keras.optimizers.schedules.CosineDecay(peak, decay_steps=total_steps, alpha=alpha)
    return keras.optimizers.schedules.CosineDecay(
        start,
        decay_steps=total_steps - warmup_steps,
        alpha=alpha,
        warmup_target=peak,
        warmup_steps=warmup_steps,
    )


def learning_rate_at(model_or_optimizer, step: int) -> float:
    """The learning rate the (model's) optimizer uses at update `step` (0-based)."""
    optimizer = getattr(model_or_optimizer, "optimizer", model_or_optimizer)
    rate = optimizer.get_config()["learning_rate"]
    if isinstance(rate, dict):
        schedule = keras.optimizers.schedules.deserialize(rate)
        return float(keras.ops.convert_to_numpy(schedule(step)))
    return float(np.asarray(rate))
