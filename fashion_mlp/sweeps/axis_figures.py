"""A sweep's figure per axis: validation accuracy of every trial against one setting, drawn as
the setting is: categories (seeds, names, layer sizes) as points, numbers on a linear or log
axis with the mean over the other settings as a line."""

from __future__ import annotations

import math

import numpy as np

from fashion_mlp.config import is_number
from fashion_mlp.reports.figures import new_figure
from fashion_mlp.sweeps.spec import Axis

POINT_COLOR = "#8da0cb"
MEAN_COLOR = "#d62728"
CATEGORY_KEYS = {"training.seed"}  # identifiers: their order and distances mean nothing
LOG_KEYS = {  # rates and penalties tried in orders of magnitude
    "optimizer.learning_rate",
    "optimizer.weight_decay",
    "optimizer.decay",
    "model.l2",
}
LOG_RATIO = 20  # any positive axis spanning this factor or more is drawn on a log scale
JITTER = 0.08  # categories: points spread sideways by up to this much, so ties stay visible


def shown_setting(value) -> str:
    """A swept value as people read it: 4 significant digits, layer sizes as 256-128."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "-".join(map(str, value))
    return str(value)


def axis_scale(axis: Axis, values: list) -> str:
    """'category', 'log' or 'linear': how the axis's values are drawn."""
    if axis.key in CATEGORY_KEYS or not all(map(is_number, values)):
        return "category"
    low, high = min(values), max(values)
    if low > 0 and (axis.is_log or axis.key in LOG_KEYS or high / low >= LOG_RATIO):
        return "log"
    return "linear"


def axis_figure(rows: list[dict], axis: Axis):
    """Validation accuracy of every trial against one axis; per value, the mean and the spread
    (min to max) over the other axes and seeds."""
    fig = new_figure(5.5, 3.6)
    ax = fig.add_subplot()
    values = [row[axis.key] for row in rows]
    ys = [row["val_accuracy"] for row in rows]
    scale = axis_scale(axis, values)
    if scale == "category":
        _draw_categories(ax, values, ys)
    else:
        _draw_numbers(ax, values, ys, scale)
    ax.set_xlabel(axis.key + (" (log scale)" if scale == "log" else ""))
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"Validation accuracy against {axis.key}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _draw_categories(ax, values: list, ys: list) -> None:
    """Each value its own column of points, with its mean and spread as a bar: no line joins
    values whose order means nothing."""
    labels = sorted({shown_setting(v): v for v in values}.items(), key=lambda item: _order(item[1]))
    column = {label: index for index, (label, _) in enumerate(labels)}
    xs = [column[shown_setting(v)] + _jitter(values[:i], v) for i, v in enumerate(values)]
    ax.scatter(xs, ys, color=POINT_COLOR, alpha=0.8, label="trials", zorder=3)
    for index, (label, _) in enumerate(labels):
        group = [y for v, y in zip(values, ys, strict=True) if shown_setting(v) == label]
        mean = float(np.mean(group))
        error = [[mean - min(group)], [max(group) - mean]]
        ax.errorbar(
            [index],
            [mean],
            yerr=error,
            fmt="_",
            markersize=18,
            color=MEAN_COLOR,
            capsize=4,
            label="mean, min to max" if index == 0 else None,
            zorder=4,
        )
    ax.set_xticks(range(len(labels)), labels=[label for label, _ in labels])
    ax.set_xlim(-0.5, len(labels) - 0.5)


def _jitter(before: list, value) -> float:
    """A point's sideways offset: the n-th trial of a value goes to the n-th of a few places."""
    seen = sum(shown_setting(other) == shown_setting(value) for other in before)
    return JITTER * ((seen % 5) - 2) / 2


def _order(value):
    """Sort key of a category: numbers and layer sizes by value, other text by its text."""
    if is_number(value):
        return (0, value, "")
    if isinstance(value, list | tuple):
        return (1, math.prod(value), str(value))
    return (2, 0, str(value))


def _draw_numbers(ax, values: list, ys: list, scale: str) -> None:
    """Points at their values; where values repeat (a grid), the mean per value as a line and
    the spread as a band. Ticks at the values tried (few) or the scale's own (many)."""
    levels = sorted(set(values))
    ax.scatter(values, ys, color=POINT_COLOR, alpha=0.8, label="trials", zorder=3)
    groups = [[y for v, y in zip(values, ys, strict=True) if v == level] for level in levels]
    if any(len(group) > 1 for group in groups):
        ax.fill_between(
            levels,
            [min(g) for g in groups],
            [max(g) for g in groups],
            color=MEAN_COLOR,
            alpha=0.12,
            label="spread",
        )
        ax.plot(
            levels, [float(np.mean(g)) for g in groups], color=MEAN_COLOR, marker="o", label="mean"
        )
    if scale == "log":
        ax.set_xscale("log")
    if len(levels) <= 8:
        ax.set_xticks(levels, labels=[shown_setting(level) for level in levels])
        ax.minorticks_off()
