"""Compile a model: optimizer by name, learning-rate schedule, sparse cross-entropy loss.

Also maps the notebook's Keras 2 `decay` argument (removed in Keras 3) to the schedule that
gives the same learning rate.
"""

from __future__ import annotations

import keras
import numpy as np

from fashion_mlp.errors import ConfigError
from fashion_mlp.models import classify_outputs, probe_outputs

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "nadam")
SCHEDULES = ("constant", "cosine", "one_cycle")
ONE_CYCLE_WARMUP_FRACTION = 0.3  # Smith's one-cycle rises for ~30 % of training
ONE_CYCLE_START_DIVISOR = 25.0  # ...from lr / 25 (fast.ai's div_factor)
ONE_CYCLE_FINAL_FRACTION = 1e-4  # ...and anneals to lr * 1e-4 (lr / 25 / 1e4 in fast.ai)
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")  # the Keras optimizers with a `momentum` argument
BETA_OPTIMIZERS = ("adam", "adamw", "nadam")  # the ones with beta_1 / beta_2


@keras.saving.register_keras_serializable(package="fashion_mlp")
class SparseCategoricalCrossentropyWithSmoothing(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing (Keras's sparse loss has none).

    The labels become one-hot vectors of the output's width, then Keras's categorical
    cross-entropy applies the smoothing: targets 1 - s + s/K and s/K for K classes.
    """

    def __init__(
        self,
        label_smoothing: float = 0.1,
        from_logits: bool = False,
        name: str = "sparse_categorical_crossentropy_smoothed",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        one_hot = keras.ops.one_hot(labels, keras.ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        config = super().get_config()
        config.update(label_smoothing=self.label_smoothing, from_logits=self.from_logits)
        return config


def compile_model(
    model: keras.Model,
    optimizer: str = "sgd",  # the notebook's optimizer
    learning_rate: float = 0.01,  # Keras's SGD default, which the notebook used
    momentum: float = 0.0,  # Keras's default; the notebook's tuned cell used 0.9
    nesterov: bool = False,  # Keras's default; the notebook's tuned cell used True
    weight_decay: float = 0.0,  # decoupled weight decay; 0 = none (the notebook had none)
    beta_1: float = 0.9,  # Keras's Adam default
    beta_2: float = 0.999,  # Keras's Adam default
    decay: float = 0.0,  # the Keras 2 argument (notebook: 1e-6); 0 = constant rate
    schedule: str = "constant",  # the notebook's fixed learning rate
    warmup_steps: int = 0,  # steps of linear warm-up for cosine; 0 = none
    total_steps: int | None = None,  # training steps, needed by cosine and one_cycle
    label_smoothing: float = 0.0,  # the notebook's plain cross-entropy
    from_logits: bool | None = None,  # None = detect from the model's outputs
    metrics=("accuracy",),
) -> keras.Model:
    """Compile `model` with sparse categorical cross-entropy on integer labels; returns it.

    `optimizer` is one of sgd, adam, adamw, rmsprop, nadam. `schedule`:
      - constant: `learning_rate` throughout, or, when `decay` > 0, Keras 2's legacy decay
        lr_t = learning_rate / (1 + decay * t) at update t (t = 0, 1, ...), which is exactly
        `InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)`;
      - cosine: linear warm-up from 0 for `warmup_steps`, then cosine decay to 0 at
        `total_steps`;
      - one_cycle: linear rise from learning_rate / 25 to learning_rate over `warmup_steps`
        (default 30 % of `total_steps`), then cosine down to learning_rate * 1e-4 (the
        learning-rate half of Smith's one-cycle policy; momentum is not cycled).
    `from_logits=None` runs a small probe batch to see whether the model ends in a softmax.
    """
    learning_rate_value = learning_rate_schedule(
        learning_rate, schedule, decay=decay, warmup_steps=warmup_steps, total_steps=total_steps
    )
    keras_optimizer = make_optimizer(
        optimizer,
        learning_rate_value,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
        beta_1=beta_1,
        beta_2=beta_2,
    )
    if from_logits is None:
        from_logits = classify_outputs(probe_outputs(model)) == "logits"
    model.compile(
        optimizer=keras_optimizer,
        loss=make_loss(label_smoothing, from_logits),
        metrics=list(metrics),
    )
    return model


def make_loss(label_smoothing: float = 0.0, from_logits: bool = False) -> keras.losses.Loss:
    """Sparse categorical cross-entropy, with label smoothing when it is > 0."""
    if not 0 <= label_smoothing < 1:
        raise ConfigError(f"label_smoothing={label_smoothing!r}: expected a number in [0, 1)")
    if label_smoothing == 0:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    return SparseCategoricalCrossentropyWithSmoothing(label_smoothing, from_logits=from_logits)


def make_optimizer(
    name: str,
    learning_rate,
    *,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
) -> keras.optimizers.Optimizer:
    """A Keras optimizer by name; settings an optimizer does not have are an error."""
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer={name!r}: expected one of {', '.join(OPTIMIZERS)}")
    if momentum and name not in MOMENTUM_OPTIMIZERS:
        raise ConfigError(
            f"momentum={momentum!r} with optimizer={name!r}: only "
            f"{' and '.join(MOMENTUM_OPTIMIZERS)} take a momentum; remove it or change optimizer"
        )
    if nesterov and name != "sgd":
        raise ConfigError(f"nesterov=True with optimizer={name!r}: only sgd takes nesterov")
    if not 0 <= momentum < 1:
        raise ConfigError(f"momentum={momentum!r}: expected a number in [0, 1)")
    if weight_decay < 0:
        raise ConfigError(f"weight_decay={weight_decay!r}: expected a number >= 0 (0 = none)")
    decay_or_none = weight_decay or None  # None skips Keras's decay step entirely
    if name == "sgd":
        return keras.optimizers.SGD(
            learning_rate, momentum=momentum, nesterov=nesterov, weight_decay=decay_or_none
        )
    if name == "rmsprop":
        return keras.optimizers.RMSprop(
            learning_rate, momentum=momentum, weight_decay=decay_or_none
        )
    if name == "adamw":  # 0 here means none, not AdamW's own 0.004 default
        return keras.optimizers.AdamW(
            learning_rate, weight_decay=weight_decay, beta_1=beta_1, beta_2=beta_2
        )
    optimizer_class = keras.optimizers.Adam if name == "adam" else keras.optimizers.Nadam
    return optimizer_class(learning_rate, beta_1=beta_1, beta_2=beta_2, weight_decay=decay_or_none)


def learning_rate_schedule(
    learning_rate: float,
    schedule: str = "constant",
    *,
    decay: float = 0.0,
    warmup_steps: int = 0,
    total_steps: int | None = None,
):
    """The learning rate to give an optimizer: a float or a Keras schedule (see compile_model)."""
    if not learning_rate > 0:
        raise ConfigError(f"learning_rate={learning_rate!r}: expected a number > 0")
    if schedule not in SCHEDULES:
        raise ConfigError(f"schedule={schedule!r}: expected one of {', '.join(SCHEDULES)}")
    if decay < 0:
        raise ConfigError(f"decay={decay!r}: expected a number >= 0 (0 = no legacy decay)")
    if warmup_steps < 0:
        raise ConfigError(f"warmup_steps={warmup_steps!r}: expected an integer >= 0")
    if schedule == "constant":
        if warmup_steps:
            raise ConfigError(
                f"warmup_steps={warmup_steps} with schedule='constant': warm-up needs "
                "schedule 'cosine' or 'one_cycle'"
            )
        if decay > 0:
            return keras.optimizers.schedules.InverseTimeDecay(
                learning_rate, decay_steps=1, decay_rate=decay
            )
        return learning_rate
    if decay > 0:
        raise ConfigError(
            f"decay={decay} with schedule={schedule!r}: the legacy decay is its own schedule; "
            "use one or the other"
        )
    if total_steps is None or total_steps < 1:
        raise ConfigError(
            f"schedule={schedule!r} needs total_steps (epochs x batches per epoch), "
            f"got {total_steps!r}"
        )
    if schedule == "one_cycle":
        return _one_cycle(learning_rate, warmup_steps, total_steps)
    return _cosine(0.0, learning_rate, warmup_steps, total_steps, alpha=0.0)


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
