"""`fashion-mlp explain RUN`: why a run's model answers for test images or image files
(probabilities, hidden activations, attributions), figures of it, and the test set's map."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from fashion_mlp.cli.tables import compact_table, console
from fashion_mlp.errors import FashionMLPError
from fashion_mlp.inference.predict_inputs import InputPrediction, file_inputs, test_inputs
from fashion_mlp.inspection.embedding import MAP_FILE, Placer, run_map
from fashion_mlp.inspection.explanations import Explanation, explain, image_json
from fashion_mlp.inspection.network import InspectionError, Network
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import load_run_data


def run(args: argparse.Namespace) -> int:
    if not (args.test_index or args.files or args.map):
        raise FashionMLPError(
            "nothing to explain: pass image files and/or --test-index N, or --map"
        )
    run_dir = RunDir(args.run_dir)
    network = Network.load(run_dir)
    inputs = (test_inputs(run_dir, args.test_index) if args.test_index else []) + file_inputs(
        args.files
    )
    ready = [item for item in inputs if item.error is None]
    explanation = None
    if ready:
        explanation = explain(
            network,
            np.stack([item.pixels for item in ready]),
            args.explained_class,
            method=args.method.replace("-", "_"),
            steps=args.steps,
            baseline=args.baseline,
        )
    rows = input_rows(inputs, explanation, network.class_names)
    summary = map_summary(run_dir, network, args.recompute, ready, rows) if args.map else None
    if args.json:
        print(json.dumps(rows if summary is None else {"map": summary, "inputs": rows}))
    else:
        print_results(summary, rows)
    if args.figures and explanation is not None:
        write_figures(args.figures, network, run_dir, ready, explanation)
    return 0 if len(ready) == len(inputs) else 1


def input_rows(inputs: list[InputPrediction], explanation: Explanation | None, names) -> list:
    """One JSON row per input: its source (and true class), then its explanation or error."""
    rows, position = [], 0
    for item in inputs:
        row = {"input": item.source}
        if item.true_label is not None:
            row["true_class"] = names[item.true_label]
        if item.error:
            row["error"] = item.error
        else:
            row |= image_json(explanation, position, names)
            position += 1
        rows.append(row)
    return rows


def map_summary(run_dir: RunDir, network: Network, recompute: bool, ready, rows) -> dict:
    """The run's map (computed or cached) in a few numbers; each input's place on it."""
    test_map, cached = run_map(run_dir, network, recompute=recompute)
    if ready:
        test_images = load_run_data(run_dir.read_config().data).x_test
        points = Placer(network, test_map, test_images).place([item.pixels for item in ready])
        placed = iter(np.round(points.astype(float), 5).tolist())
        for row in rows:
            if "error" not in row:
                row["map_point"] = next(placed)
    return {
        "file": str(run_dir.path / MAP_FILE),
        "cached": cached,
        "seconds": round(test_map.seconds, 2),
        "knn_accuracy": round(test_map.knn_accuracy, 4),
        "points": len(test_map.x),
        "layer": test_map.layer,
        "method": test_map.method,
    }


def print_results(summary: dict | None, rows: list[dict]) -> None:
    """The map's line, then a table of the explained inputs and a line per failed one."""
    out = console()
    if summary:
        how = "reused" if summary["cached"] else "computed"
        out.print(
            f"map: {summary['file']} ({how}; {summary['seconds']:.1f} s to compute), "
            f"{summary['points']} test images, 10-NN accuracy {summary['knn_accuracy']:.3f}",
            soft_wrap=True,
        )
    explained = [row for row in rows if "error" not in row]
    if explained:
        out.print(results_table(explained))
        first = explained[0]["explained"]
        out.print(
            f"F = log-probability of the explained class; {first['method']} "
            f"({first['steps']} steps) from {baseline_text(explained[0]['baseline'])}; "
            "--json gives the 28x28 attributions and the hidden activations",
            soft_wrap=True,
        )
    for row in rows:
        if "error" in row:
            out.print(f"[red]error:[/red] {row['error']}", soft_wrap=True)


def results_table(rows: list[dict]):
    table = compact_table(gap=1)
    for header in ("input", "true", "predicted", "explained"):
        table.add_column(header, overflow="fold")
    for header in ("F(x)", "F(base)", "sum", "error"):
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        explained = row["explained"]
        predicted = row["predicted"]
        table.add_row(
            Path(row["input"]).name,
            row.get("true_class", ""),
            f"{predicted['class']} {row['probabilities'][predicted['index']]:.0%}",
            explained["class"],
            f"{explained['value']:.3f}",
            f"{explained['baseline_value']:.3f}",
            f"{explained['attribution_sum']:.3f}",
            f"{explained['completeness_error']:.2%}",
        )
    return table


def baseline_text(baseline: dict) -> str:
    level = baseline.get("grey_level")
    return (
        "a given image"
        if level is None
        else f"the all-{level:g} image" + (" (black)" if level == 0 else "")
    )


def write_figures(folder: Path, network: Network, run_dir: RunDir, ready, explanation) -> None:
    """weights.png (when the model's first layer can be read) and attributions.png."""
    from fashion_mlp.inspection.weights import first_layer_weights
    from fashion_mlp.reports.figures import save_figure
    from fashion_mlp.reports.inside_figures import attributions_figure, weights_figure

    out = console()
    titles = [
        f"{Path(item.source).name}: {network.class_names[c]}"
        for item, c in zip(ready, explanation.attributions.classes, strict=True)
    ]
    figure = attributions_figure(
        [item.pixels for item in ready], explanation.attributions.values, titles
    )
    out.print(f"wrote {save_figure(figure, folder / 'attributions.png')}", soft_wrap=True)
    try:
        weights = first_layer_weights(network, load_run_data(run_dir.read_config().data).x_test)
    except InspectionError as error:
        out.print(f"weights.png not written: {error}", soft_wrap=True)
        return
    title = f"{weights.layer}: weights on the standardised pixels; units by {weights.ranking}"
    figure = weights_figure(weights.images, weights.order, title)
    out.print(f"wrote {save_figure(figure, folder / 'weights.png')}", soft_wrap=True)
