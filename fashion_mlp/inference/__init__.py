"""Inference: `Predictor` (fast probabilities of raw images), its forward passes, evaluation
of a model or a run on a test set, and predictions for the inputs a user names."""

from fashion_mlp.inference.evaluate import evaluate, evaluate_run
from fashion_mlp.inference.predictor import Predictor

__all__ = ["Predictor", "evaluate", "evaluate_run"]
