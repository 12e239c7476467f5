"""The report's "Inside the network" section: the figures `fashion_mlp.inside_run` drew into
the run (weights, attributions, map), or why a figure is missing and how to draw it."""

from __future__ import annotations

from collections.abc import Mapping

from fashion_mlp.reports.html import html_figure, note
from fashion_mlp.runs import RunDir

WEIGHTS_PNG = "inside_weights.png"
ATTRIBUTIONS_PNG = "inside_attributions.png"
MAP_PNG = "inside_map.png"
CAPTIONS = {  # in reading order
    WEIGHTS_PNG: "First hidden layer: each unit's weights as an image of the input (red raises "
    "the unit, blue lowers it; each on its own colour scale), the units that matter most first",
    MAP_PNG: "The test set mapped in 2-D by the last hidden layer, coloured by true class: "
    "classes the network keeps apart form separate islands",
    ATTRIBUTIONS_PNG: "Integrated Gradients of the predicted class, from the all-black image: "
    "red pixels raised its log-probability, blue ones lowered it (first test images, then the "
    "most confident mistakes)",
}
ENSEMBLE_NOTE = (
    "An ensemble averages its members' probabilities: it has no single first layer or last "
    "hidden layer, so its weights and map are its members' (in their reports). Attributions "
    "apply to any model and are the ensemble's own."
)


def inside_section(run: RunDir, metrics: Mapping) -> str:
    """<h2>Inside the network</h2> with each figure found, and a note per missing one."""
    found = run.figure_paths()
    parts = [
        "<h2>Inside the network</h2>",
        "<p>The reliability diagram under Calibration, above, shows how far the probabilities "
        "can be trusted; these figures show what the network computes.</p>",
    ]
    if isinstance(metrics.get("ensemble"), Mapping):
        parts.append(note(ENSEMBLE_NOTE))
    for name, caption in CAPTIONS.items():
        if name in found:
            parts.append(html_figure(found[name].read_bytes(), caption))
        elif not isinstance(metrics.get("ensemble"), Mapping) or name == ATTRIBUTIONS_PNG:
            parts.append(note(missing_text(run, name)))
    return "".join(parts)


def missing_text(run: RunDir, name: str) -> str:
    """Why a figure is not in the report and the command that draws it."""
    if name == MAP_PNG:
        return (
            "No map yet: computing it takes seconds, more than the end of a training should. "
            f"`fashion-mlp report {run.path} --figures` computes it (map.json) and draws it."
        )
    return (
        f"{name} not drawn: the run's figures were skipped, or its model cannot be opened up "
        f"(`fashion-mlp explain {run.path} --test-index 0 --figures DIR` says why). "
        f"`fashion-mlp report {run.path} --figures` draws it."
    )
