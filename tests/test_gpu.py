"""GPU machines, checked on the CPU: populations sized from a GPU's free memory (its JAX
memory statistics), and benchmarks/gpu_suite.sh refusing clearly where there is no GPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax
import keras
import pytest

from fashion_mlp.training.population import planning

SUITE = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_suite.sh"
GIB = 2**30


class FakeGpu:
    """A JAX device as a GPU reports itself: its allocator's limit and what is in use."""

    platform = "gpu"

    def __init__(self, limit: int, in_use: int):
        self.stats = {"bytes_limit": limit, "bytes_in_use": in_use}

    def memory_stats(self):
        return self.stats


def notebook_model() -> keras.Model:
    inputs = keras.Input((28, 28))
    hidden = keras.layers.Dense(64)(keras.layers.Flatten()(inputs))
    outputs = keras.layers.Dense(10)(keras.layers.Dense(32)(hidden))
    return keras.Model(inputs, outputs)


def test_a_gpus_free_memory_sizes_the_population(monkeypatch):
    model, batch = notebook_model(), 16
    one = planning.member_bytes(model, batch)
    gpu = FakeGpu(limit=100 * one + 3 * GIB, in_use=3 * GIB)
    monkeypatch.setattr(planning.jax, "devices", lambda: [gpu])
    assert planning.available_memory_bytes() == 100 * one
    assert planning.members_per_program_for(model, batch) == 50  # MEMORY_FRACTION of it
    gpu.stats["bytes_in_use"] = gpu.stats["bytes_limit"] - 10 * one  # another job took the rest
    assert planning.members_per_program_for(model, batch) == 5
    gpu.stats["bytes_in_use"] = 0  # a large GPU: the cap, not the per-core limit of CPUs
    gpu.stats["bytes_limit"] = 10**6 * one
    assert planning.members_per_program_for(model, batch) == planning.MAX_MEMBERS_PER_PROGRAM


@pytest.mark.skipif(jax.default_backend() == "gpu", reason="this machine has a GPU")
def test_the_gpu_suite_refuses_clearly_without_a_gpu(tmp_path):
    environment = os.environ | {"PYTHON": sys.executable}
    finished = subprocess.run(
        ["bash", str(SUITE), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert finished.returncode == 2
    assert "no GPU: JAX's backend here is cpu" in finished.stderr
    assert "pip install -e '.[cuda]'" in finished.stderr
    assert not (tmp_path / "out").exists()  # refused before running anything
