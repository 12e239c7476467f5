"""Choose Keras's backend before Keras is imported: JAX unless the user already chose one."""

from __future__ import annotations

import json
import os
from pathlib import Path

KERAS_WRITTEN_DEFAULT = "tensorflow"  # what Keras writes into a keras.json it creates
DEFAULT_BACKEND = "jax"  # 5x faster per step than TensorFlow here; the compiled engine needs it


def keras_home() -> Path:
    """Keras's home folder (config file and download cache): `$KERAS_HOME` or `~/.keras`."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def keras_config_backend() -> str | None:
    """The backend named in Keras's own config file (`$KERAS_HOME/keras.json`), if any."""
    try:
        return json.loads((keras_home() / "keras.json").read_text()).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def select_default_backend() -> None:
    """Set `KERAS_BACKEND` to JAX unless the environment or Keras's config already names one.

    Keras writes "tensorflow" into a new keras.json on its first import, so that value cannot
    tell a choice from the default: to train with TensorFlow, set KERAS_BACKEND=tensorflow.
    """
    configured = keras_config_backend()
    if "KERAS_BACKEND" not in os.environ and configured in (None, KERAS_WRITTEN_DEFAULT):
        os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
