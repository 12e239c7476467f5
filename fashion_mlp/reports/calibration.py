"""The report's Calibration section: the test set's reliability diagram before and after
temperature scaling, and the ECE and NLL it changed, drawn from the run's calibration.json."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import numpy as np
from matplotlib.figure import Figure

from fashion_mlp.errors import RunError
from fashion_mlp.metrics import Reliability
from fashion_mlp.reports.figures import BAR_COLOR, VALIDATION_COLOR, figure_png, new_figure
from fashion_mlp.reports.html import html_figure, html_table, note
from fashion_mlp.runs import RunDir

SCORE_HEADERS = ["images", "accuracy", "ECE raw", "ECE calibrated", "NLL raw", "NLL calibrated"]


def reliability_diagram(raw: Reliability, calibrated: Reliability, temperature: float) -> Figure:
    """Accuracy against confidence per bin, the model's own probabilities beside the calibrated
    ones (bars on the diagonal are calibrated; the hatched gap is the miscalibration), with each
    bin's number of images below."""
    fig = new_figure(9, 5.2)
    axes = fig.subplots(2, 2, sharex=True, sharey="row", height_ratios=[3, 1])
    panels = (
        ("The model's own probabilities", raw),
        (f"Calibrated, T = {temperature:.3f}", calibrated),
    )
    for (top, bottom), (title, bins) in zip(axes.T, panels, strict=True):
        draw_reliability(top, bins)
        top.set_title(f"{title}\nECE {bins.ece:.2%}", fontsize=10)
        draw_counts(bottom, bins)
    axes[0, 0].set_ylabel("accuracy")
    axes[0, 0].legend(loc="upper left", fontsize=8)
    axes[1, 0].set_ylabel("images")
    return fig


def bin_centres(bins: Reliability) -> tuple[np.ndarray, float]:
    width = 1 / len(bins.counts)
    return (np.arange(len(bins.counts)) + 0.5) * width, width


def draw_reliability(ax, bins: Reliability) -> None:
    """Per non-empty bin, its accuracy as a bar and the gap to its mean confidence."""
    centres, width = bin_centres(bins)
    filled = bins.counts > 0
    accuracy = bins.accuracy[filled]
    ax.bar(centres[filled], accuracy, width, color=BAR_COLOR, edgecolor="white", label="accuracy")
    ax.bar(
        centres[filled],
        bins.confidence[filled] - accuracy,
        width,
        bottom=accuracy,
        color="none",
        edgecolor=VALIDATION_COLOR,
        hatch="//",
        label="gap to confidence",
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)


def draw_counts(ax, bins: Reliability) -> None:
    """Each bin's number of images, on a log scale: most sit in the last bins."""
    centres, width = bin_centres(bins)
    ax.bar(centres, bins.counts, width, color="grey", edgecolor="white")
    ax.set_yscale("log")
    ax.set_xlabel("confidence (top probability)")
    ax.grid(alpha=0.3)


def calibration_section(run: RunDir, metrics: Mapping) -> str:
    """<h2>Calibration</h2>: the temperature, its scores and the reliability diagram, or why
    the run has none and how to calibrate it."""
    heading = "<h2>Calibration</h2>"
    try:
        record = run.read_calibration()
    except RunError as error:
        return heading + note(str(error))
    if record is None:
        how = (metrics.get("calibration") or {}).get("how") or "it was never calibrated"
        return heading + note(
            f"The probabilities are the model's own: {how}. "
            f"`fashion-mlp calibrate {run.path}` fits a temperature."
        )
    try:
        return heading + calibration_body(record)
    except (KeyError, TypeError, ValueError, IndexError):
        return heading + note(
            f"{run.path / run.CALIBRATION} lacks its scores or reliability bins: fit it again "
            f"with `fashion-mlp calibrate {run.path}`."
        )


def calibration_body(record: Mapping) -> str:
    """What the temperature was fitted on, the scores table and the reliability diagram."""
    fitted_on = record["fitted_on"]
    caveat = " (optimistic: the model trained on them)" if fitted_on.get("optimistic") else ""
    summary = (
        f"<p>Temperature <b>T = {record['temperature']:.3f}</b> divides the logits, fitted on "
        f"{fitted_on['images']:,} {escape(str(fitted_on['split']))} images{escape(caveat)} by "
        "minimising the NLL; the test set only measures it. predict, evaluate and serve show "
        "calibrated probabilities unless asked for raw ones.</p>"
    )
    rows = [
        [
            name,
            pair["raw"]["accuracy"],
            pair["raw"]["ece"],
            pair["calibrated"]["ece"],
            pair["raw"]["nll"],
            pair["calibrated"]["nll"],
        ]
        for name, pair in record["scores"].items()
    ]
    bins = record["reliability_test"]
    raw, calibrated = Reliability.from_dict(bins["raw"]), Reliability.from_dict(bins["calibrated"])
    figure = reliability_diagram(raw, calibrated, record["temperature"])
    caption = "Reliability on the test set (15 confidence bins), before and after calibration"
    return summary + html_table(SCORE_HEADERS, rows) + html_figure(figure_png(figure), caption)
