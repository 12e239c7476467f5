"""The `fashion-mlp` command line: every subcommand's flags, and nothing else.

Building the parser imports no Keras, JAX, scikit-learn or matplotlib (an import-linter
contract holds it), so `--help` is instant. Each command's work is in `cli/commands/<name>.py`,
imported by `main` only once that command runs. Options may come before or after positionals.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from fashion_mlp import __version__, member_settings
from fashion_mlp.cli.explain_options import add_explain_arguments
from fashion_mlp.cli.options import (
    add_data_arguments,
    add_experiment_arguments,
    add_input_arguments,
    add_model_arguments,
    add_preset_arguments,
)
from fashion_mlp.cli.sweep_options import add_sweep_arguments
from fashion_mlp.cli.tracking_options import add_tracking_arguments
from fashion_mlp.runs import RUN_COLUMNS

RUNS_DIR = Path("runs")  # where run folders go, relative to the working directory
SERVE_HOST = "127.0.0.1"  # loopback only: another address must also set a token
SERVE_PORT = 8000  # uvicorn's and most tutorials' port
EXPORT_FORMATS = ("onnx",)  # what `export --format` writes
SERVE_RUNTIMES = ("auto", "onnx")  # Predictor's RUNTIMES (a test keeps them equal)
TOKEN_ENV = "FASHION_MLP_TOKEN"  # --token's default: keeps the token out of `ps` listings
DEBUG_HELP = "show full tracebacks on errors (default: off)"


class IntermixedArgumentParser(argparse.ArgumentParser):
    """A subcommand parser that takes options before, between or after its positionals.

    argparse stops filling positionals at the first option ("predict RUN --json IMAGE" would
    leave IMAGE unrecognised); `parse_known_intermixed_args` does not. The guard keeps the
    intermixed parse, which calls `parse_known_args` itself on Python 3.11/3.12, from recursing.
    """

    _intermixing = False

    def parse_known_args(self, args=None, namespace=None):
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand; `args.command` names the one chosen."""
    parser = argparse.ArgumentParser(
        prog="fashion-mlp",
        description="Train, evaluate, explain and serve MLP classifiers on Fashion-MNIST.",
    )
    parser.add_argument("--version", action="version", version=f"fashion-mlp {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=IntermixedArgumentParser
    )
    for add_command in (
        add_data_command,
        add_summary_command,
        add_train_command,
        add_evaluate_command,
        add_predict_command,
        add_calibrate_command,
        add_explain_command,
        add_runs_command,
        add_report_command,
        add_compare_command,
        add_serve_command,
        add_sweep_command,
        add_ensemble_command,
        add_distill_command,
        add_export_command,
    ):
        subparser = add_command(commands)
        subparser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    return parser


def add_runs_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=RUNS_DIR,
        metavar="FOLDER",
        help=f"folder that holds the run folders (default: {RUNS_DIR})",
    )


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print JSON for programs (default: a table)"
    )


def add_data_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "data",
        help="show, verify and sample the data set",
        description="Find (or download) the data set, verify its checksums and describe it.",
    )
    add_data_arguments(parser)
    add_json_argument(parser)
    parser.add_argument(
        "--samples",
        type=Path,
        metavar="FILE.png",
        help="write a grid of random training images titled with their classes (default: none)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="download into the Keras cache even when another source has the files",
    )
    return parser


def add_summary_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "summary",
        help="print a model's layers, trainable parameters and size",
        description="Print the Keras summary of the model the flags describe, its number of "
        "trainable parameters and the size of its saved .keras file. Needs no data set.",
    )
    add_preset_arguments(parser)
    add_model_arguments(parser)
    return parser


def add_train_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "train",
        help="train, evaluate and save a run (default: the notebook's experiment)",
        description="Train a model, evaluate it on the test set and write a run folder "
        "(config, model, history, metrics, figures, report). With no flags: the notebook's "
        "784-64-32-10 tanh MLP, SGD lr 0.01 momentum 0.9 Nesterov, batch 16, 10 epochs, "
        "validation split 0.1, seed 0.",
    )
    add_experiment_arguments(parser)
    group = add_run_folder_arguments(parser)
    group.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue an interrupted run from its last checkpoint (other flags are ignored: "
        "the run's own config.toml is used; a run naming its own model code needs --model "
        "FILE.py:FUNCTION again, the same, or --trust-run-code)",
    )
    group.add_argument(
        "--trust-run-code",
        action="store_true",
        help="with --resume: import the model code the run's config.toml names without "
        "--model; only for run folders you trust (default: off, the code is not imported)",
    )
    add_tracking_arguments(parser)
    return parser


def add_run_folder_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """--runs-dir and --name of a command that trains a run."""
    group = parser.add_argument_group("run folder")
    add_runs_dir_argument(group)
    group.add_argument(
        "--name",
        help="name in the run folder runs/<timestamp>-<name> (default: the config file's name, "
        "else the preset's; when flags change the preset's model, the model's, e.g. "
        "mlp-256-128-relu)",
    )
    return group


def add_distill_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "distill",
        help="train one model on a teacher run's answers: an ensemble's accuracy at one "
        "model's cost",
        description="Knowledge distillation (Hinton, Vinyals and Dean, 2015): train a student "
        "on the training images with the teacher run's class probabilities, softened by "
        "--temperature, mixed with the true labels by --alpha. The teacher (any finished run, "
        "typically an ensemble) answers every training image once, before training; for a "
        "student trained with mirrored images, with the mean of its answers for the image "
        "and its mirror. The student starts from the teacher's own recipe (an ensemble's: its "
        "members') unless --preset or --config says otherwise, and every train flag applies. "
        "It is an ordinary run (report, predict, serve, export) whose metrics.json names the "
        "teacher; `sweep --teacher RUN --temperature 2 4 8` tunes T and alpha on validation.",
    )
    parser.add_argument(
        "teacher", type=Path, metavar="TEACHER_RUN", help="the finished run to learn from"
    )
    add_experiment_arguments(parser, teacher_flag=False)
    parser.set_defaults(resume=None)  # what `train` reads of it
    group = add_run_folder_arguments(parser)
    group.add_argument(
        "--trust-run-code",
        action="store_true",
        help="start from a teacher whose config.toml names model code (model.user_model) and "
        "import that code; only for run folders you trust (default: refused)",
    )
    add_tracking_arguments(parser)
    return parser


def add_evaluate_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "evaluate",
        help="re-evaluate a run's model on the test set",
        description="Load a run's model and print its test accuracy, loss and per-class scores "
        "on the run's own test set, or on another MNIST-format data set's (--data), and its "
        "calibration: expected calibration error (15 bins) and NLL of the model's own "
        "probabilities and of the calibrated ones.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="the run folder")
    add_data_arguments(parser)
    add_json_argument(parser)
    return parser


def add_predict_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "predict",
        help="classify test images or your own image files",
        description="Classify test images (--test-index) or image files (any format Pillow "
        "reads, any size, colour or greyscale, light or dark background) with a run's model.",
    )
    add_input_arguments(parser, "classify")
    parser.add_argument(
        "--top",
        type=int,
        default=3,
        metavar="K",
        help="number of most probable classes shown (default: 3)",
    )
    add_json_argument(parser)
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="write inputs beside their probabilities (default: none)",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="show the model's own probabilities (default: calibrated by the run's temperature, "
        "when `fashion-mlp calibrate` or training fitted one)",
    )
    return parser


def add_calibrate_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "calibrate",
        help="fit a run's temperature so that its probabilities match its accuracy",
        description="Fit temperature scaling (one number T > 0 dividing the logits) on the "
        "run's validation split by minimising the negative log-likelihood, store it in "
        "RUN/calibration.json (predict, evaluate, serve and Predictor.load then use it), rebuild "
        "the report and print T with the expected calibration error (15 bins) and NLL before and "
        "after, on the validation split and on the test set. The test set is never used to fit. "
        "Runs trained with a validation split are calibrated when trained.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="the run folder")
    parser.add_argument(
        "--split",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="for a run trained without a validation split: fit on this fraction of its "
        "training images, the last ones, e.g. 0.1; optimistic, as the model trained on them "
        "(default: 0 = the run's validation split)",
    )
    add_json_argument(parser)
    return parser


def add_explain_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "explain",
        help="why a run's model answers: activations, attributions, weights, the test-set map",
        description="For test images (--test-index) or image files: the class probabilities, "
        "every hidden layer's values and each pixel's attribution (integrated gradients of the "
        "explained class's log-probability from a baseline image). --map computes (or reuses) "
        "the map of the test set and places the inputs on it; --figures draws the first-layer "
        "weights and the attributions.",
    )
    add_explain_arguments(parser)
    return parser


def add_runs_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "runs", help="list the runs as a table", description="List the runs in the runs folder."
    )
    add_runs_dir_argument(parser)
    parser.add_argument(
        "--sort", choices=RUN_COLUMNS, default="date", help="column to sort by (default: date)"
    )
    parser.add_argument(
        "--descending", action="store_true", help="largest first (default: smallest first)"
    )
    add_json_argument(parser)
    parser.add_argument(
        "--to-mlflow",
        nargs="?",
        const="",
        metavar="URI",
        help="log the finished runs not yet in MLflow (URI: MLflow's default, a store in the "
        "current folder, when omitted; needs pip install 'fashion-mlp[mlflow]') (default: off)",
    )
    return parser


def add_report_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "report",
        help="rebuild a run's report.html",
        description="Rebuild RUN/report.html from the run's config, metrics, history, summary "
        "and figures, and print its path.",
    )
    parser.add_argument("run", metavar="RUN", help="run folder, e.g. runs/<timestamp>-<name>")
    parser.add_argument(
        "--figures",
        action="store_true",
        help="draw the figures again from the saved model and the data first (default: use "
        "the figures already in the run)",
    )
    return parser


def add_compare_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "compare",
        help="compare runs: differing settings and metrics",
        description="Print a table of the settings that differ between the runs and each run's "
        "test accuracy, test loss, epochs and training seconds.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="two or more run folders to compare")
    parser.add_argument(
        "--html", metavar="FILE", help="also write a self-contained comparison page (default: none)"
    )
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also write the runs' validation curves overlaid, as PNG (default: none)",
    )
    return parser


def add_serve_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "serve",
        help="serve the web app and HTTP API (predict, test set, runs, training)",
        description="Serve a web page and a JSON API (docs at /docs) on one port: draw or upload "
        "images and see the model's probabilities, browse the test set, compare runs, start and "
        "watch trainings. Binding to a non-loopback address requires --token.",
    )
    add_runs_dir_argument(parser)
    parser.add_argument(
        "--host",
        default=SERVE_HOST,
        help=f"address to listen on (default: {SERVE_HOST}, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=SERVE_PORT,
        help=f"TCP port (default: {SERVE_PORT}; 0 = any free port)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        metavar="SECRET",
        help="every request must carry it (Authorization: Bearer SECRET, or open "
        f"/?token=SECRET once in a browser); required off loopback (default: ${TOKEN_ENV}, "
        "else none)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="server processes answering requests, each with its own warm models; trainings "
        "run one at a time in one more process, seen from every worker (default: 0 = one per "
        "core; 1 = everything in one process)",
    )
    parser.add_argument(
        "--runtime",
        choices=SERVE_RUNTIMES,
        default="auto",
        help="what runs the models: auto (the fastest in-process pass) or onnx (onnxruntime on "
        "the model exported to ONNX; pip install 'fashion-mlp[onnx]') (default: auto)",
    )
    add_data_arguments(parser)
    return parser


def add_sweep_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "sweep",
        help="train many trials as populations; rank them by validation accuracy",
        description="Train every trial of a sweep (a sweep file, or flags with several values: "
        "--learning-rate 0.003 0.01 0.03 --seeds 0-3) as populations of models trained "
        "together, each trial an ordinary run folder; write a sweep folder with results.csv, a "
        "figure per axis and report.html ranking the trials by validation accuracy. Trials "
        f"that differ only in their {member_settings.described()} train as one population.",
    )
    add_sweep_arguments(parser)
    add_runs_dir_argument(parser)
    add_tracking_arguments(parser)
    return parser


def add_ensemble_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "ensemble",
        help="average finished runs into one ensemble run",
        description="Build one model averaging the runs' class probabilities, evaluate it on "
        "their test set and validation split, and save it as a new run folder.",
    )
    parser.add_argument(
        "runs",
        nargs="+",
        type=Path,
        metavar="RUN",
        help="two or more finished runs on the same data",
    )
    parser.add_argument("--name", help="name of the ensemble run (default: ensemble-<count>)")
    parser.add_argument(
        "--mirror",
        action="store_true",
        help="also average each member's prediction of the left-right mirrored image (pays "
        "for members trained with --flip; twice the inference)",
    )
    add_runs_dir_argument(parser)
    return parser


def add_export_command(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "export",
        help="write a run's model for another runtime (ONNX)",
        description="Write a finished run's model as one ONNX graph that takes raw uint8 images "
        "(any batch size) and returns class probabilities, with the class names in its "
        "metadata. Needs the onnx extra: pip install 'fashion-mlp[onnx]'.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="the run folder")
    parser.add_argument(
        "--format", choices=EXPORT_FORMATS, default="onnx", help="file format (default: onnx)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="file to write (default: model.onnx in the run folder)",
    )
    return parser
