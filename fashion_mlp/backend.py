"""Choose Keras's backend before Keras is imported: JAX unless the user already chose one."""

from __future__ import annotations

import json
import os
from pathlib import Path

KERAS_WRITTEN_DEFAULT = "tensorflow"  # what Keras writes into a keras.json it creates
DEFAULT_BACKEND = "jax"  # the compiled engine needs it, and its steps beat TensorFlow's `fit`
MAX_CPU_DEVICES = 8  # each CPU device a population trains on holds its own copy of the data


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


def use_cpu_cores_as_devices() -> None:
    """Give JAX one CPU device per usable core (at most MAX_CPU_DEVICES), so that a population
    can train its members on every core at once (fashion_mlp/training/population/placement.py);
    one model still runs on the first device, its large matrix products on every core as before.
    Left alone when the user set the count (JAX_NUM_CPU_DEVICES, or XLA_FLAGS'
    --xla_force_host_platform_device_count). Read by JAX when it starts, so set on import."""
    if "JAX_NUM_CPU_DEVICES" in os.environ:
        return
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return
    os.environ["JAX_NUM_CPU_DEVICES"] = str(min(MAX_CPU_DEVICES, usable_cores()))


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no affinity masks
        return os.cpu_count() or 1
