"""The inspection methods' defaults and limits, in one place; Keras-free, so that the CLI's
parser can quote them in its help."""

from __future__ import annotations

METHODS = ("integrated_gradients", "gradient_x_input")  # attribution methods; the first default
STEPS = 512  # trapezoid intervals: ReLU kinks need many for completeness within 1 % everywhere
MAX_STEPS = 1024  # the path's images are a batch of steps x images: keep it in memory
BASELINE = 0.0  # grey level of the baseline image: 0 = black, Fashion-MNIST's background
