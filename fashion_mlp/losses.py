"""Losses that Keras lacks, registered so that a saved model that was compiled with them
loads wherever fashion_mlp.models is imported (`predict`, `evaluate`, the server), not only
where training code was imported first."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="fashion_mlp")
class SparseCategoricalCrossentropyWithSmoothing(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing (Keras's sparse loss has none).

    The labels become one-hot vectors of the output's width, smoothed to targets 1 - s + s/K
    and s/K for K classes as Keras's categorical cross-entropy would (it tests the smoothing
    in Python; here it may also be a traced value, one per member of a population).
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
        classes = keras.ops.cast(keras.ops.shape(y_pred)[-1], y_pred.dtype)
        smoothing = keras.ops.cast(self.label_smoothing, y_pred.dtype)
        targets = one_hot * (1.0 - smoothing) + smoothing / classes
        return keras.losses.categorical_crossentropy(targets, y_pred, from_logits=self.from_logits)

    def get_config(self):
        config = super().get_config()
        config.update(label_smoothing=self.label_smoothing, from_logits=self.from_logits)
        return config


def split_targets(y_true, classes):
    """A distilled run's target rows [one-hot labels | teacher probabilities] as the two halves."""
    return y_true[:, :classes], y_true[:, classes:]


def log_probabilities(outputs, from_logits: bool):
    """Log class probabilities of a model's outputs (probabilities clipped as Keras clips them)."""
    if from_logits:
        return keras.ops.log_softmax(outputs, axis=-1)
    epsilon = keras.config.epsilon()
    return keras.ops.log(keras.ops.clip(outputs, epsilon, 1.0))


@keras.saving.register_keras_serializable(package="fashion_mlp")
class DistillationLoss(SparseCategoricalCrossentropyWithSmoothing):
    """Hinton, Vinyals and Dean's distillation loss on target rows [one-hot | teacher p]:

        (1 - alpha) * CE(smoothed labels, model) + alpha * T^2 * KL(teacher_T || model_T)

    where p_T = softmax(log p / T) softens a distribution at temperature T (the teacher's
    probabilities stand for its logits: an ensemble's mean has none). T^2 keeps the teacher
    term's gradients on the labels' scale as T changes. Temperature, alpha and label
    smoothing may be traced values, one per member of a population.
    """

    def __init__(
        self,
        temperature: float = 2.0,
        alpha: float = 0.5,
        label_smoothing: float = 0.0,
        from_logits: bool = False,
        name: str = "distillation",
        **kwargs,
    ):
        super().__init__(label_smoothing, from_logits=from_logits, name=name, **kwargs)
        self.temperature = temperature
        self.alpha = alpha

    def call(self, y_true, y_pred):
        labels, teacher = split_targets(y_true, keras.ops.shape(y_pred)[-1])
        hard = super().call(keras.ops.argmax(labels, axis=-1), y_pred)
        temperature = keras.ops.cast(self.temperature, y_pred.dtype)
        alpha = keras.ops.cast(self.alpha, y_pred.dtype)
        model_t = keras.ops.log_softmax(log_probabilities(y_pred, self.from_logits) / temperature)
        teacher_logits = log_probabilities(keras.ops.cast(teacher, y_pred.dtype), False)
        teacher_t = keras.ops.log_softmax(teacher_logits / temperature)
        divergence = keras.ops.sum(keras.ops.exp(teacher_t) * (teacher_t - model_t), axis=-1)
        return (1.0 - alpha) * hard + alpha * temperature**2 * divergence

    def get_config(self):
        return super().get_config() | {"temperature": self.temperature, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="fashion_mlp")
class LabelAccuracy(keras.metrics.MeanMetricWrapper):
    """Accuracy against the labels of a distilled run's target rows [one-hot | teacher p]."""

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(label_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="fashion_mlp")
class LabelCrossEntropy(keras.metrics.MeanMetricWrapper):
    """Plain cross-entropy against the labels of a distilled run's target rows."""

    def __init__(self, name: str = "cross_entropy", dtype=None, from_logits: bool = False):
        super().__init__(label_cross_entropy, name=name, dtype=dtype, from_logits=from_logits)
        self.from_logits = from_logits

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits}


def label_accuracy(y_true, y_pred):
    labels, _ = split_targets(y_true, keras.ops.shape(y_pred)[-1])
    hits = keras.ops.argmax(labels, axis=-1) == keras.ops.argmax(y_pred, axis=-1)
    return keras.ops.cast(hits, y_pred.dtype)


def label_cross_entropy(y_true, y_pred, from_logits: bool = False):
    labels, _ = split_targets(y_true, keras.ops.shape(y_pred)[-1])
    return keras.losses.categorical_crossentropy(labels, y_pred, from_logits=from_logits)
