"""`fit`: train a compiled model the way the notebook's `model.fit` does, on the engine chosen.

Two engines with the same semantics: "compiled" (jitted epochs, JAX backend only; see
compiled.py) and "keras" (`model.fit` itself, any backend). "auto" picks compiled on JAX.
"""

from __future__ import annotations

import keras

from fashion_mlp.config import TrainingConfig
from fashion_mlp.datasets import Dataset
from fashion_mlp.models import require_jax
from fashion_mlp.subsets import integer_labels, split_validation
from fashion_mlp.training.callbacks import LogSecondsAndLearningRate
from fashion_mlp.training.compiled import fit_compiled
from fashion_mlp.training.seeding import ReseedEachEpoch

DEFAULTS = TrainingConfig()


def resolve_engine(engine: str) -> str:
    """The engine a validated `engine` setting stands for ("auto": compiled on JAX, else keras)."""
    if engine == "auto":
        return "compiled" if keras.backend.backend() == "jax" else "keras"
    if engine == "compiled":
        require_jax("engine 'compiled'", instead="use --engine keras")
    return engine


def fit(
    model: keras.Model,
    data: Dataset,
    *,
    epochs: int = DEFAULTS.epochs,
    batch_size: int = DEFAULTS.batch_size,
    validation_split: float = DEFAULTS.validation_split,
    seed: int = DEFAULTS.seed,
    engine: str = DEFAULTS.engine,
    callbacks=(),
    initial_epoch: int = 0,
    verbose: int = 0,
    targets=None,
) -> keras.callbacks.History:
    """Train a compiled model on `data.x_train` like the notebook's `fit` call.

    The validation set is the LAST `validation_split` of the training data, unshuffled (as
    Keras's `validation_split`); training batches are shuffled each epoch from `seed`, and
    dropout masks follow (seed, epoch), so `initial_epoch=k` resumes exactly.

    Args:
        model: a compiled Keras model taking raw images (see `compile_model`).
        data: the Dataset; labels may be integers or one-hot rows.
        epochs: passes over the training part (the notebook's 10).
        batch_size: images per gradient step (the notebook's 16).
        validation_split: fraction held out from the END of x_train; 0 = none.
        seed: seed of the shuffle order and dropout masks.
        engine: "auto", "compiled" or "keras" (see the module docstring).
        callbacks: Keras callbacks, run between epochs on either engine.
        initial_epoch: epoch to start from (0-based), to resume a run.
        verbose: Keras's progress display, in a terminal or a notebook: 0 = none, 1 = a
            progress bar, 2 = one line per epoch.
        targets: what the loss trains on in place of the labels, one row per training image
            (a distilled run's [one-hot | teacher probabilities]: `fashion_mlp.distillation`).

    Returns:
        Keras's History; its `history` gains `seconds` and `learning_rate` per epoch.

    Raises:
        ConfigError: for a setting out of range, as a TrainingConfig or config file says it.

    Examples:
        >>> history = fit(model, data, epochs=10, batch_size=16, validation_split=0.1)
        >>> history.history["val_accuracy"][-1]
        0.873...
    """
    settings = TrainingConfig(
        epochs=epochs,
        batch_size=batch_size,
        validation_split=validation_split,
        seed=seed,
        engine=engine,
    )
    labels = integer_labels(data.y_train) if targets is None else targets
    x_train, y_train, x_val, y_val = split_validation(
        data.x_train, labels, settings.validation_split
    )
    validation_data = None if x_val is None else (x_val, y_val)
    callbacks = [LogSecondsAndLearningRate(), *callbacks]
    if resolve_engine(settings.engine) == "compiled":
        return fit_compiled(
            model,
            x_train,
            y_train,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            validation_data=validation_data,
            seed=settings.seed,
            callbacks=callbacks,
            initial_epoch=initial_epoch,
            verbose=verbose,
        )
    return model.fit(
        x_train,
        y_train,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_data=validation_data,
        shuffle=True,
        callbacks=[ReseedEachEpoch(settings.seed), *callbacks],
        initial_epoch=initial_epoch,
        verbose=verbose,
    )
