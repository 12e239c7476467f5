"""Training: `fit` on the compiled engine or `model.fit`, compiling a model from its optimizer
settings, seeding, callbacks, and the one module that touches Keras internals."""

from fashion_mlp.training.fit import fit, resolve_engine
from fashion_mlp.training.optimizers import compile_model

__all__ = ["compile_model", "fit", "resolve_engine"]
