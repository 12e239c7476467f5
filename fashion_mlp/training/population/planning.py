"""How many members one compiled population program trains: the device's free memory over one
member's estimated need, capped per CPU core."""

from __future__ import annotations

import math
import os

import jax
import keras

MAX_MEMBERS_PER_PROGRAM = 128  # beyond this a population is split: compile time grows, no gain
CPU_MEMBERS_PER_DEVICE = 4  # per core: larger programs gain nothing on a CPU, whose cache a
# member's first-layer state already fills (docs: explanation/performance.md, populations)
MEMORY_FRACTION = 0.5  # share of the free device memory one population plans to use
STATE_COPIES = 8  # per member: weights, 2 optimizer slots, gradients, new state, best, 2 spare
ACTIVATION_COPIES = 4  # per member and sample: activations, their gradients, gathered input


def members_per_program_for(
    model: keras.Model, batch_size: int, free_bytes=None, data_bytes: int = 0
) -> int:
    """How many members of `model`'s kind one program trains: MEMORY_FRACTION of the free
    device memory, less the data's copies (`data_bytes` on each CPU device: they share the
    host's memory), over one member's estimated need, at most MAX_MEMBERS_PER_PROGRAM, and on
    a CPU at most CPU_MEMBERS_PER_DEVICE per CPU device (core)."""
    devices = jax.devices()
    copies = len(devices) if devices[0].platform == "cpu" else 1
    free = available_memory_bytes() if free_bytes is None else free_bytes
    fitting = int((free - copies * data_bytes) * MEMORY_FRACTION // member_bytes(model, batch_size))
    most = MAX_MEMBERS_PER_PROGRAM
    if devices[0].platform == "cpu":
        most = min(most, CPU_MEMBERS_PER_DEVICE * len(devices))
    return max(1, min(most, fitting))


def member_bytes(model: keras.Model, batch_size: int) -> int:
    """One member's estimated device memory: its state copies and a batch's activations."""
    weights = sum(math.prod(weight.shape) for weight in model.weights)
    activations = sum(_output_size(layer) for layer in model.layers) + _input_size(model)
    return 4 * (STATE_COPIES * weights + ACTIVATION_COPIES * batch_size * activations)


def available_memory_bytes() -> int:
    """Free memory of the first JAX device: the accelerator's, or the host's available RAM."""
    stats = jax.devices()[0].memory_stats()
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def is_out_of_memory(error: Exception) -> bool:
    """Whether `error` says the device ran out of memory (XLA's runtime error, or the host's)."""
    return isinstance(error, MemoryError) or "RESOURCE_EXHAUSTED" in str(error)


def _output_size(layer) -> int:
    try:
        return math.prod(size for size in layer.output.shape[1:] if size)
    except (AttributeError, ValueError, TypeError):
        return 0


def _input_size(model: keras.Model) -> int:
    inputs = getattr(model, "inputs", None)
    if inputs:
        return math.prod(size for size in inputs[0].shape[1:] if size)
    return 0
