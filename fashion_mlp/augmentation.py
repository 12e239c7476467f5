"""Training-time augmentation inside the model: random shifts and horizontal mirrors of the
raw images, drawn per image in every training step and off at inference.

Being a Keras layer, it runs inside the compiled engine's jitted step, is saved with the model
(so a run re-runs exactly), and its random state is reseeded per (seed, epoch) like dropout.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="fashion_mlp")
class RandomShiftFlip(keras.layers.Layer):
    """Shift each image (n, rows, columns) by up to `shift` pixels each way (zeros fill the
    edge) and, with `flip`, mirror it left-right with probability 1/2; identity at inference.

    Args:
        shift: largest shift in pixels, vertically and horizontally; 0 = none.
        flip: mirror half the images left-right.
        seed: seed of the layer's SeedGenerator (runs reseed it per epoch anyway).
    """

    def __init__(self, shift: int = 0, flip: bool = False, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.shift = int(shift)
        self.flip = bool(flip)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        images = inputs
        batch = keras.ops.shape(images)[0]
        if self.flip:
            draw = keras.random.uniform((batch, 1, 1), seed=self.seed_generator)
            images = keras.ops.where(draw < 0.5, keras.ops.flip(images, axis=2), images)
        if self.shift:
            images = self._shifted(images, batch)
        return images

    def _shifted(self, images, batch):
        """Each image moved by its own (rows, columns) offset in [-shift, shift]."""
        shift = self.shift
        _, rows, columns = images.shape
        offsets = keras.random.randint(
            (batch, 2), -shift, shift + 1, dtype="int32", seed=self.seed_generator
        )
        padded = keras.ops.pad(images, [[0, 0], [shift, shift], [shift, shift]])
        row_index = keras.ops.arange(rows, dtype="int32")[None, :] + shift + offsets[:, :1]
        column_index = keras.ops.arange(columns, dtype="int32")[None, :] + shift + offsets[:, 1:]
        picked_rows = keras.ops.take_along_axis(padded, row_index[:, :, None], axis=1)
        return keras.ops.take_along_axis(picked_rows, column_index[:, None, :], axis=2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "shift": self.shift, "flip": self.flip, "seed": self.seed}


@keras.saving.register_keras_serializable(package="fashion_mlp")
class MirrorImages(keras.layers.Layer):
    """Every image (n, rows, columns[, channels]) mirrored left-right, in training and at
    inference alike: the second view of an ensemble that averages each image with its mirror."""

    COLUMNS = 2  # the axis of the columns, after the batch and the rows

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=self.COLUMNS)

    def compute_output_shape(self, input_shape):
        return input_shape
