"""Exports of trained models for other runtimes: ONNX graphs that take raw uint8 images and
return class probabilities, and onnxruntime forward passes of them (`pip install
'fashion-mlp[onnx]'`; onnx, onnxruntime and jax2onnx are imported only when used)."""

from fashion_mlp.export.extra import require_onnx
from fashion_mlp.export.onnx_file import export_onnx, export_run

__all__ = ["export_onnx", "export_run", "require_onnx"]
