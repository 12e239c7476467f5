"""`fashion-mlp predict RUN`: classify test images by index or the user's own image files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="classify test images or your own image files",
        description="Classify test images (--test-index) or image files (any format Pillow "
        "reads, any size, colour or greyscale, light or dark background) with a run's model.",
    )  # fmt: skip
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="the run folder")
    parser.add_argument("files", type=Path, nargs="*", metavar="IMAGE", help="image files")
    parser.add_argument("--test-index", type=int, nargs="+", default=[], metavar="N",
                        help="indices of test images to classify (default: none)")  # fmt: skip
    parser.add_argument("--top", type=int, default=3, metavar="K",
                        help="number of most probable classes shown (default: 3)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", default=None,
                        help="write inputs beside their probabilities (default: none)")  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from fashion_mlp.classify import classify, require_inputs

    require_inputs(args.test_index, args.files)
    predictor, results = classify(args.run_dir, args.test_index, args.files)
    names = predictor.class_names
    if args.json:
        print(json.dumps([as_json(item, names, args.top) for item in results], indent=2))
    else:
        print_table(results, names, args.top)
    ok = [item for item in results if item.error is None]
    if args.plot and ok:
        from fashion_mlp.figures import prediction_figure, save_figure

        known = all(item.true_label is not None for item in ok)
        figure = prediction_figure(
            [item.pixels for item in ok], [item.probabilities for item in ok], names,
            true_labels=[item.true_label for item in ok] if known else None,
            titles=[Path(item.source).name for item in ok],
        )  # fmt: skip
        save_figure(figure, args.plot)
    return 0 if len(ok) == len(results) else 1


def as_json(item, class_names, k: int) -> dict:
    if item.error:
        return {"input": item.source, "error": item.error}
    result = {"input": item.source, "top": [{"class": name, "probability": p}
                                            for name, p in item.top(class_names, k)]}  # fmt: skip
    if item.true_label is not None:
        result["true_class"] = class_names[item.true_label]
    return result


def print_table(results, class_names, k: int) -> None:
    """The classified inputs as a table, then one line per input that failed."""
    console = Console()
    table = Table("input", "true class", *[f"#{rank + 1}" for rank in range(k)])
    for item in results:
        if item.error is None:
            true = class_names[item.true_label] if item.true_label is not None else ""
            top = [f"{name} {p:.1%}" for name, p in item.top(class_names, k)]
            table.add_row(item.source, true, *top)
    if table.row_count:
        console.print(table)
    for item in results:
        if item.error:
            console.print(f"[red]error:[/red] {item.error}", soft_wrap=True, highlight=False)
