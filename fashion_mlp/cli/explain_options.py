"""The flags of `fashion-mlp explain`. Keras-free, like the rest of the parser: the defaults
are quoted from `inspection/defaults.py`."""

from __future__ import annotations

import argparse
from pathlib import Path

from fashion_mlp.cli.options import add_input_arguments
from fashion_mlp.inspection.defaults import BASELINE, MAX_STEPS, METHODS, STEPS


def add_explain_arguments(parser: argparse.ArgumentParser) -> None:
    """RUN, the inputs, what is explained and how, and what is written."""
    add_input_arguments(parser, "explain")
    parser.add_argument(
        "--class",
        dest="explained_class",
        metavar="NAME_OR_INDEX",
        help="class whose log-probability is explained, by name or number (default: each "
        "image's predicted class)",
    )
    parser.add_argument(
        "--method",
        choices=[method.replace("_", "-") for method in METHODS],
        default=METHODS[0].replace("_", "-"),
        help=f"attribution method (default: {METHODS[0].replace('_', '-')}; gradient-x-input "
        "is the instant variant)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=STEPS,
        metavar="N",
        help=f"integration intervals of integrated gradients, 1 to {MAX_STEPS} (default: "
        f"{STEPS}: the sum of attributions within 1 %% of the explained change)",
    )
    parser.add_argument(
        "--baseline",
        type=float,
        default=BASELINE,
        metavar="LEVEL",
        help=f"grey level (0-255) of the baseline image the path starts from (default: "
        f"{BASELINE:g} = black)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print JSON with every array: a list, one item per input; with --map {"map": '
        '..., "inputs": [...]} (default: a table)',
    )
    parser.add_argument(
        "--figures",
        type=Path,
        metavar="FOLDER",
        help="write weights.png (first-layer units as stored, most important first) and "
        "attributions.png into FOLDER (default: none)",
    )
    parser.add_argument(
        "--map",
        action="store_true",
        help="compute the map of the test set (t-SNE of the last hidden layer) into "
        "RUN/map.json, or reuse it, and print its 10-NN accuracy and time (default: off)",
    )
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="with --map: compute the map again even when RUN/map.json is current (default: off)",
    )
