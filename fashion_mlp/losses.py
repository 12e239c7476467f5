"""Losses that Keras lacks, registered so that a saved model that was compiled with them
loads wherever fashion_mlp.models is imported (`predict`, `evaluate`, the server), not only
where training code was imported first."""

from __future__ import annotations

import keras


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
