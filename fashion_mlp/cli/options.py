"""The flags that describe an experiment, one per config key, and their translation into a
config: preset, then --config file, then flags.

A flag's `dest` is its config key ("training.epochs"), so the flags given become a config layer
without a table of names. Every flag defaults to None ("not given": the preset or file
decides), and its help shows the default the notebook preset uses, and any other preset's.
Keras-free, like the rest of the parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fashion_mlp.config import (
    ENGINES,
    OPTIMIZERS,
    SCHEDULES,
    STYLES,
    ExperimentConfig,
    build_config,
    read_toml,
)
from fashion_mlp.presets import PRESETS, preset
from fashion_mlp.run_names import preset_config

PRESET_CONFIGS = {name: build_config(preset(name)) for name in PRESETS}
DEFAULT_PRESET = "notebook"


def config_value(config: ExperimentConfig, key: str) -> Any:
    """The value of a dotted config key ("model.hidden", "training.epochs") in `config`."""
    section, name = key.split(".")
    table = getattr(config, section)
    if section == "model" and name not in ("style", "user_model"):
        table = table.spec
    return getattr(table, name)


def shown(value: Any) -> str:
    """A config value as a flag would take it: on/off, space-separated lists, none."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return " ".join(map(str, value))
    return "none" if value is None else str(value)


def default_text(key: str, meaning: str = "", after: str = "") -> str:
    """'(default: 0.9)' for the notebook preset, with `meaning` ("0 = none"), `after` it, and
    the other presets' values where they differ ("; smoke: 2")."""
    value = shown(config_value(PRESET_CONFIGS[DEFAULT_PRESET], key))
    text = f"default: {value}" + (f" = {meaning}" if meaning else "") + after
    others = [
        f"{name}: {shown(config_value(config, key))}"
        for name, config in PRESET_CONFIGS.items()
        if name != DEFAULT_PRESET
        and config_value(config, key) != config_value(PRESET_CONFIGS[DEFAULT_PRESET], key)
    ]
    return f"({text}{'; ' if others else ''}{'; '.join(others)})"


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--data and --data-dir: the flags that choose a data set, for every command loading one."""
    parser.add_argument(
        "--data",
        dest="data.name",
        metavar="NAME_OR_FOLDER",
        help="data set: 'fashion', 'mnist' or a folder holding the four IDX files "
        f"{default_text('data.name')}",
    )
    parser.add_argument(
        "--data-dir",
        dest="data.data_dir",
        metavar="FOLDER",
        help="folder searched first for the data set's files (default: none; then "
        "$FASHION_MLP_DATA, the Keras cache, Debian's package, a download)",
    )
    parser.add_argument(
        "--allow-modified",
        dest="data.allow_modified",
        action=argparse.BooleanOptionalAction,
        help="load a copy of a known data set whose checksums differ from the published ones, "
        f"unverified (data changed on purpose) {default_text('data.allow_modified', 'refuse')}",
    )


def add_input_arguments(parser: argparse.ArgumentParser, verb: str) -> None:
    """RUN, then the inputs a command `verb`s: image files and --test-index N ..."""
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="the run folder")
    parser.add_argument("files", type=Path, nargs="*", metavar="IMAGE", help="image files")
    parser.add_argument(
        "--test-index",
        type=int,
        nargs="+",
        default=[],
        metavar="N",
        help=f"indices of test images to {verb}; negative ones count from the end (default: none)",
    )


def add_preset_arguments(
    parser: argparse.ArgumentParser, default: str | None = DEFAULT_PRESET, otherwise: str = ""
) -> None:
    """--preset and --config: where a config starts (`otherwise`: where without --preset,
    when `default` is None)."""
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=default,
        help="starting configuration: notebook = the notebook's experiment, smoke = the whole "
        "pipeline in seconds, fast = 90%% in under half a minute, best = the best plain MLP in "
        f"a few minutes (default: {default or otherwise})",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="TOML config applied over the preset (a run's config.toml re-runs it; default: none)",
    )


def add_experiment_arguments(parser: argparse.ArgumentParser, teacher_flag: bool = True) -> None:
    """Every flag of an experiment: preset, config file, data, model, optimizer, training,
    distillation. Without `teacher_flag` (`distill`, whose first argument is the teacher):
    no --teacher, and no preset unless --preset names one (the teacher's recipe is used)."""
    if teacher_flag:
        add_preset_arguments(parser)
    else:
        add_preset_arguments(parser, default=None, otherwise="the teacher's own recipe")
    group = parser.add_argument_group("data")
    add_data_arguments(group)
    group.add_argument(
        "--train-limit",
        dest="data.train_limit",
        type=int,
        metavar="N",
        help=f"train on the first N images only {default_text('data.train_limit', 'all')}",
    )
    group.add_argument(
        "--test-limit",
        dest="data.test_limit",
        type=int,
        metavar="N",
        help=f"evaluate on the first N test images {default_text('data.test_limit', 'all')}",
    )
    add_model_arguments(parser)
    add_optimizer_arguments(parser)
    add_training_arguments(parser)
    add_distill_arguments(parser, teacher_flag)


def add_distill_arguments(parser: argparse.ArgumentParser, teacher_flag: bool) -> None:
    """--temperature and --alpha of distillation, and --teacher where it is a flag (`distill`
    takes the teacher as its first argument)."""
    group = parser.add_argument_group("distillation (learning from a teacher run's answers)")
    if teacher_flag:
        group.add_argument(
            "--teacher",
            dest="distill.teacher",
            metavar="RUN",
            help="a finished run (an ensemble, typically) whose probabilities the model learns "
            "from beside the labels (default: none; `fashion-mlp distill RUN` also starts "
            "from the teacher's own recipe)",
        )
    group.add_argument(
        "--temperature",
        dest="distill.temperature",
        type=float,
        metavar="T",
        help="softens the teacher's and the model's probabilities in the teacher's term; "
        f"higher shares more of the teacher's second guesses {default_text('distill.temperature')}",
    )
    group.add_argument(
        "--alpha",
        dest="distill.alpha",
        type=float,
        metavar="A",
        help="weight of the teacher's term against the labels', from 0 (labels only) to 1 "
        f"(teacher only) {default_text('distill.alpha')}",
    )


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The network flags (--hidden, --activation, ..., --style, --model)."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--hidden",
        dest="model.hidden",
        type=int,
        nargs="+",
        metavar="UNITS",
        help=f"units of each hidden layer, input side first {default_text('model.hidden')}",
    )
    group.add_argument(
        "--activation",
        dest="model.activation",
        metavar="NAME",
        help="activation of the hidden layers, any Keras name such as relu, gelu, selu "
        f"{default_text('model.activation')}",
    )
    group.add_argument(
        "--dropout",
        dest="model.dropout",
        type=float,
        nargs="+",
        metavar="RATE",
        help="fraction of units dropped in training, in [0, 1): one rate for every hidden "
        f"layer or one per layer {default_text('model.dropout', 'none')}",
    )
    group.add_argument(
        "--batch-norm",
        dest="model.batch_norm",
        action=argparse.BooleanOptionalAction,
        help="batch normalisation between each hidden Dense and its activation "
        f"{default_text('model.batch_norm')}",
    )
    group.add_argument(
        "--initializer",
        dest="model.kernel_initializer",
        metavar="NAME",
        help="Keras initializer of every kernel, such as he_normal "
        f"{default_text('model.kernel_initializer')}",
    )
    group.add_argument(
        "--l2",
        dest="model.l2",
        type=float,
        metavar="FACTOR",
        help="L2 penalty added to the loss: FACTOR x sum of squared kernel weights "
        f"{default_text('model.l2', 'none')}",
    )
    group.add_argument(
        "--input-dropout",
        dest="model.input_dropout",
        type=float,
        metavar="RATE",
        help="fraction of the standardised pixels dropped in training, in [0, 1) "
        f"{default_text('model.input_dropout', 'none')}",
    )
    group.add_argument(
        "--shift",
        dest="model.shift",
        type=int,
        metavar="PIXELS",
        help="training-time augmentation: move each image by up to PIXELS pixels each way "
        f"{default_text('model.shift', 'none')}",
    )
    group.add_argument(
        "--flip",
        dest="model.flip",
        action=argparse.BooleanOptionalAction,
        help="training-time augmentation: mirror half the images left-right "
        f"{default_text('model.flip')}",
    )
    group.add_argument(
        "--style",
        dest="model.style",
        choices=STYLES,
        help=f"Keras API that builds the network; all give the same model "
        f"{default_text('model.style')}",
    )
    group.add_argument(
        "--model",
        dest="model.user_model",
        metavar="FILE.py:FUNCTION",
        help="use your own Keras model: FUNCTION(input_shape=..., num_classes=...) in FILE.py "
        "(default: none = the MLP described by the flags above)",
    )


def add_optimizer_arguments(parser: argparse.ArgumentParser) -> None:
    """The optimizer, schedule and loss flags (--optimizer, --learning-rate, ...)."""
    group = parser.add_argument_group("optimizer")
    group.add_argument(
        "--optimizer",
        dest="optimizer.optimizer",
        choices=OPTIMIZERS,
        help=f"optimizer {default_text('optimizer.optimizer')}",
    )
    group.add_argument(
        "--learning-rate",
        dest="optimizer.learning_rate",
        type=float,
        metavar="LR",
        help="step size per update, or the peak of a schedule "
        f"{default_text('optimizer.learning_rate')}",
    )
    group.add_argument(
        "--momentum",
        dest="optimizer.momentum",
        type=float,
        metavar="M",
        help="momentum in [0, 1), sgd and rmsprop only "
        f"{default_text('optimizer.momentum', after=' with sgd; 0 = none with the others')}",
    )
    group.add_argument(
        "--nesterov",
        dest="optimizer.nesterov",
        action=argparse.BooleanOptionalAction,
        help="Nesterov momentum, sgd only "
        f"{default_text('optimizer.nesterov', after=' with sgd, off with the others')}",
    )
    group.add_argument(
        "--weight-decay",
        dest="optimizer.weight_decay",
        type=float,
        metavar="RATE",
        help="decoupled weight decay per update, as AdamW's "
        f"{default_text('optimizer.weight_decay', 'none')}",
    )
    for beta, what in (("1", "first"), ("2", "second")):
        group.add_argument(
            f"--beta-{beta}",
            dest=f"optimizer.beta_{beta}",
            type=float,
            metavar="BETA",
            help=f"decay rate of the {what}-moment estimate, in [0, 1); adam, adamw and nadam "
            f"only {default_text(f'optimizer.beta_{beta}')}",
        )
    group.add_argument(
        "--ema",
        dest="optimizer.ema",
        type=float,
        metavar="MOMENTUM",
        help="keep an exponential moving average of the weights (e.g. 0.999) and save it as the "
        f"final weights {default_text('optimizer.ema', 'off')}",
    )
    group.add_argument(
        "--decay",
        dest="optimizer.decay",
        type=float,
        metavar="DECAY",
        help="Keras 2's legacy decay: LR / (1 + DECAY x update), constant schedule only "
        f"{default_text('optimizer.decay', 'none; the notebook wrote 1e-6')}",
    )
    group.add_argument(
        "--schedule",
        dest="optimizer.schedule",
        choices=SCHEDULES,
        help="learning-rate schedule over the whole training; cosine decays to 0, one_cycle "
        f"rises from LR/25 then decays {default_text('optimizer.schedule')}",
    )
    group.add_argument(
        "--warmup-steps",
        dest="optimizer.warmup_steps",
        type=int,
        metavar="STEPS",
        help="updates of linear warm-up, cosine and one_cycle only "
        f"{default_text('optimizer.warmup_steps', 'none; one_cycle: 30%% of training')}",
    )
    group.add_argument(
        "--label-smoothing",
        dest="optimizer.label_smoothing",
        type=float,
        metavar="S",
        help="spread S of each target over all classes, in [0, 1) "
        f"{default_text('optimizer.label_smoothing', 'none')}",
    )


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The training flags (--epochs, --batch-size, ..., --engine, --early-stopping)."""
    group = parser.add_argument_group("training")
    group.add_argument(
        "--epochs",
        dest="training.epochs",
        type=int,
        metavar="N",
        help=f"passes over the data {default_text('training.epochs')}",
    )
    group.add_argument(
        "--batch-size",
        dest="training.batch_size",
        type=int,
        metavar="N",
        help=f"images per gradient step {default_text('training.batch_size')}",
    )
    group.add_argument(
        "--validation-split",
        dest="training.validation_split",
        type=float,
        metavar="FRACTION",
        help="fraction of the training set held out for validation, taken from its END, "
        "unshuffled, as Keras does "
        f"{default_text('training.validation_split', after='; 0 = none')}",
    )
    group.add_argument(
        "--seed",
        dest="training.seed",
        type=int,
        metavar="SEED",
        help=f"seed of weights, shuffling and dropout, 0 to 2^32-1 {default_text('training.seed')}",
    )
    group.add_argument(
        "--engine",
        dest="training.engine",
        choices=ENGINES,
        help="training engine: compiled = JAX-compiled epochs, keras = model.fit, auto = "
        f"compiled on the JAX backend, else keras {default_text('training.engine')}",
    )
    group.add_argument(
        "--early-stopping",
        dest="training.early_stopping_patience",
        type=int,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without val_loss improvement "
        f"{default_text('training.early_stopping_patience', 'disable')}",
    )
    group.add_argument(
        "--restore-best",
        dest="training.restore_best_weights",
        action=argparse.BooleanOptionalAction,
        help="on early stopping, keep the best epoch's weights "
        f"{default_text('training.restore_best_weights')}",
    )


def flag_overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The config values given as flags, as a layer for build_config."""
    layer: dict[str, dict[str, Any]] = {}
    for dest, value in vars(args).items():
        if "." in dest and value is not None:
            section, key = dest.split(".")
            if key == "dropout" and len(value) == 1:
                value = value[0]  # one rate for every layer
            layer.setdefault(section, {})[key] = value
    return layer


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """preset, then --config file, then flags; named by `--name`, the file, or the model
    (`preset_config`)."""
    file_layer = read_toml(args.config) if args.config else {}
    name_layer = {"name": args.name} if getattr(args, "name", None) else {}
    return preset_config(args.preset, file_layer, flag_overrides(args), name_layer)
