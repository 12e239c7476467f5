"""`fashion-mlp predict RUN`: classify test images by index or the user's own image files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fashion_mlp.cli.tables import compact_table, console
from fashion_mlp.inference.predict_inputs import predict_inputs


def run(args: argparse.Namespace) -> int:
    predictor, results = predict_inputs(args.run_dir, args.test_index, args.files, raw=args.raw)
    names = predictor.class_names
    calibrated = predictor.calibrated and not args.raw
    if args.json:
        items = [as_json(item, names, args.top, calibrated) for item in results]
        print(json.dumps(items, indent=2))
    else:
        print_table(results, names, args.top)
        console().print(
            f"probabilities calibrated (temperature {predictor.temperature:.3f})"
            if calibrated
            else "the model's own probabilities (not calibrated)"
        )
    ok = [item for item in results if item.error is None]
    if args.plot and ok:
        from fashion_mlp.reports.figures import prediction_figure, save_figure

        figure = prediction_figure(
            [item.pixels for item in ok],
            [item.probabilities for item in ok],
            names,
            true_labels=[item.true_label for item in ok],  # None for the user's files
            titles=[Path(item.source).name for item in ok],
        )
        save_figure(figure, args.plot)
    return 0 if len(ok) == len(results) else 1


def as_json(item, class_names, k: int, calibrated: bool) -> dict:
    if item.error:
        return {"input": item.source, "error": item.error}
    result = {
        "input": item.source,
        "top": [{"class": name, "probability": p} for name, p in item.top(class_names, k)],
        "calibrated": calibrated,
    }
    if item.true_label is not None:
        result["true_class"] = class_names[item.true_label]
    return result


def print_table(results, class_names, k: int) -> None:
    """The classified inputs as a table, then one line per input that failed."""
    out = console()
    table = compact_table()
    table.add_column("input", overflow="fold")
    table.add_column("true class", overflow="fold")
    for rank in range(k):
        table.add_column(f"#{rank + 1}", overflow="fold")
    for item in results:
        if item.error is None:
            true = class_names[item.true_label] if item.true_label is not None else ""
            top = [f"{name} {p:.1%}" for name, p in item.top(class_names, k)]
            table.add_row(item.source, true, *top)
    if table.row_count:
        out.print(table)
    for item in results:
        if item.error:
            out.print(f"[red]error:[/red] {item.error}", soft_wrap=True)
