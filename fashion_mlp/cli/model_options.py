"""Model and optimizer flags shared by the commands that build or train a model.

Every flag defaults to None, meaning "not given", so a preset or config file can supply the
value; the help texts show the library default that applies when nothing does.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect

from fashion_mlp.models import STYLES, MLPSpec, build_model
from fashion_mlp.optimizers import OPTIMIZERS, SCHEDULES, compile_model

SPEC_DEFAULTS = {field.name: field.default for field in dataclasses.fields(MLPSpec)}
COMPILE_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(compile_model).parameters.items()
    if parameter.default is not inspect.Parameter.empty
}
DEFAULT_STYLE = inspect.signature(build_model).parameters["style"].default
MODEL_KEYS = ("hidden", "activation", "dropout", "batch_norm", "kernel_initializer", "l2")
MODEL_KEYS += ("style", "user_model")
OPTIMIZER_KEYS = ("optimizer", "learning_rate", "momentum", "nesterov", "weight_decay", "decay")
OPTIMIZER_KEYS += ("schedule", "warmup_steps", "label_smoothing")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the network flags (--hidden, --activation, ..., --style, --model) to `parser`."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        metavar="UNITS",
        help="units of each hidden layer, input side first "
        f"(default: {' '.join(map(str, SPEC_DEFAULTS['hidden']))})",
    )
    group.add_argument(
        "--activation",
        metavar="NAME",
        help="activation of the hidden layers, any Keras name such as relu, gelu, selu "
        f"(default: {SPEC_DEFAULTS['activation']})",
    )
    group.add_argument(
        "--dropout",
        type=float,
        nargs="+",
        metavar="RATE",
        help="fraction of units dropped in training, in [0, 1): one rate for every hidden "
        f"layer or one per layer (default: {SPEC_DEFAULTS['dropout']} = none)",
    )
    group.add_argument(
        "--batch-norm",
        action=argparse.BooleanOptionalAction,
        help="batch normalisation between each hidden Dense and its activation "
        f"(default: {'on' if SPEC_DEFAULTS['batch_norm'] else 'off'})",
    )
    group.add_argument(
        "--initializer",
        dest="kernel_initializer",
        metavar="NAME",
        help="Keras initializer of every kernel, such as he_normal "
        f"(default: {SPEC_DEFAULTS['kernel_initializer']})",
    )
    group.add_argument(
        "--l2",
        type=float,
        metavar="FACTOR",
        help="L2 penalty added to the loss: FACTOR x sum of squared kernel weights "
        f"(default: {SPEC_DEFAULTS['l2']} = none)",
    )
    group.add_argument(
        "--style",
        choices=STYLES,
        help="Keras API that builds the network; all give the same model "
        f"(default: {DEFAULT_STYLE})",
    )
    group.add_argument(
        "--model",
        dest="user_model",
        metavar="FILE.py:FUNCTION",
        help="use your own Keras model: FUNCTION(input_shape=..., num_classes=...) in FILE.py "
        "(default: none = the MLP described by the flags above)",
    )


def add_optimizer_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the optimizer, schedule and loss flags (--optimizer, --learning-rate, ...)."""
    group = parser.add_argument_group("optimizer")
    defaults = COMPILE_DEFAULTS
    group.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        help=f"optimizer (default: {defaults['optimizer']})",
    )
    group.add_argument(
        "--learning-rate",
        type=float,
        metavar="LR",
        help="step size per update, or the peak of a schedule "
        f"(default: {defaults['learning_rate']})",
    )
    group.add_argument(
        "--momentum",
        type=float,
        help="momentum in [0, 1), sgd and rmsprop only "
        f"(default: {defaults['momentum']} = none; the notebook's tuned SGD used 0.9)",
    )
    group.add_argument(
        "--nesterov",
        action=argparse.BooleanOptionalAction,
        help=f"Nesterov momentum, sgd only (default: {'on' if defaults['nesterov'] else 'off'})",
    )
    group.add_argument(
        "--weight-decay",
        type=float,
        metavar="RATE",
        help="decoupled weight decay per update, also for adamw "
        f"(default: {defaults['weight_decay']} = none)",
    )
    group.add_argument(
        "--decay",
        type=float,
        help="Keras 2's legacy decay: LR / (1 + DECAY x update), constant schedule only "
        f"(default: {defaults['decay']} = none; the notebook used 1e-6)",
    )
    group.add_argument(
        "--schedule",
        choices=SCHEDULES,
        help="learning-rate schedule over the whole training; cosine decays to 0, one_cycle "
        f"rises from LR/25 then decays (default: {defaults['schedule']})",
    )
    group.add_argument(
        "--warmup-steps",
        type=int,
        metavar="STEPS",
        help="updates of linear warm-up, cosine and one_cycle only "
        f"(default: {defaults['warmup_steps']} = none; one_cycle: 30%% of training)",
    )
    group.add_argument(
        "--label-smoothing",
        type=float,
        metavar="S",
        help="spread S of each target over all classes, in [0, 1) "
        f"(default: {defaults['label_smoothing']} = none)",
    )


def model_overrides(args: argparse.Namespace) -> dict:
    """The model flags that were given: MLPSpec field names plus 'style' and 'user_model'."""
    overrides = _given(args, MODEL_KEYS)
    if "hidden" in overrides:
        overrides["hidden"] = tuple(overrides["hidden"])
    if "dropout" in overrides:
        rates = overrides["dropout"]
        overrides["dropout"] = rates[0] if len(rates) == 1 else tuple(rates)
    return overrides


def optimizer_overrides(args: argparse.Namespace) -> dict:
    """The optimizer flags that were given, keyed by `compile_model` argument names."""
    return _given(args, OPTIMIZER_KEYS)


def _given(args: argparse.Namespace, keys: tuple[str, ...]) -> dict:
    return {key: value for key in keys if (value := getattr(args, key, None)) is not None}
