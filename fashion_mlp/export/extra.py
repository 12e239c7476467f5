"""The onnx extra: whether it is installed, checked without importing it (jax2onnx is slow)."""

from __future__ import annotations

import importlib.util

from fashion_mlp.errors import missing_extra

ONNX_PACKAGES = ("onnx", "onnxruntime", "jax2onnx")  # the onnx extra of pyproject.toml


def require_onnx(purpose: str = "ONNX export") -> None:
    """Raise ConfigError naming the pip install line unless every ONNX package is installed."""
    for package in ONNX_PACKAGES:
        if importlib.util.find_spec(package) is None:
            raise missing_extra(purpose, package, "onnx")
