"""Importing fashion_mlp gives JAX one CPU device per usable core (at most eight), so that
populations can train on every core, unless the user chose the count."""

from __future__ import annotations

import os
import subprocess
import sys

from fashion_mlp import backend


def test_jax_gets_one_cpu_device_per_usable_core_at_most_eight(monkeypatch):
    monkeypatch.delenv("JAX_NUM_CPU_DEVICES", raising=False)
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.setattr(backend, "usable_cores", lambda: 2)
    backend.use_cpu_cores_as_devices()
    assert os.environ["JAX_NUM_CPU_DEVICES"] == "2"
    monkeypatch.delenv("JAX_NUM_CPU_DEVICES")
    monkeypatch.setattr(backend, "usable_cores", lambda: 64)
    backend.use_cpu_cores_as_devices()
    assert os.environ["JAX_NUM_CPU_DEVICES"] == str(backend.MAX_CPU_DEVICES)


def test_a_count_the_user_chose_is_kept(monkeypatch):
    monkeypatch.setenv("JAX_NUM_CPU_DEVICES", "1")
    backend.use_cpu_cores_as_devices()
    assert os.environ["JAX_NUM_CPU_DEVICES"] == "1"
    monkeypatch.delenv("JAX_NUM_CPU_DEVICES")
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
    backend.use_cpu_cores_as_devices()
    assert "JAX_NUM_CPU_DEVICES" not in os.environ


def test_a_fresh_process_importing_the_package_has_those_devices():
    env = {key: value for key, value in os.environ.items() if key != "JAX_NUM_CPU_DEVICES"}
    env["JAX_PLATFORMS"] = "cpu"
    script = "import fashion_mlp, jax; print(len(jax.devices()))"
    shown = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert int(shown) == min(backend.MAX_CPU_DEVICES, backend.usable_cores())
