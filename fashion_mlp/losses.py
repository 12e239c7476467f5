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
