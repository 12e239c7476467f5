"""Figures of a network's inside, from plain arrays: first-layer weight images and attribution
heat maps over their images (diverging colours centred on 0: red +, blue -), the test set's map."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from fashion_mlp.reports.figures import new_figure

DIVERGING_CMAP = "RdBu_r"  # red for positive, blue for negative, white at 0
WEIGHT_COLUMNS = 8
WEIGHTS_SHOWN = 64  # a readable grid; wide layers show their most important units
CLIP_PERCENTILE = 99  # colour limit per image: a few extreme pixels do not wash out the rest
OVERLAY_ALPHA = 0.75  # the heat map over the image, the image still visible beneath
MAP_DOT = 2  # points^2: 10,000 dots that overlap little


def symmetric_limit(values: np.ndarray) -> float:
    """A colour limit centred on 0: the 99th percentile of |values| (never 0)."""
    return float(np.percentile(np.abs(values), CLIP_PERCENTILE)) or 1.0


def weights_figure(
    images: np.ndarray, order: Sequence[int], title: str, shown: int = WEIGHTS_SHOWN
) -> Figure:
    """A grid of weight images (units, rows, columns) in `order`, each on its own colour scale."""
    units = list(order)[:shown]
    rows = math.ceil(len(units) / WEIGHT_COLUMNS)
    fig = new_figure(1.2 * WEIGHT_COLUMNS, 1.3 * rows + 0.4)
    fig.suptitle(title, fontsize=9)
    for position, unit in enumerate(units):
        ax = fig.add_subplot(rows, WEIGHT_COLUMNS, position + 1)
        limit = symmetric_limit(images[unit])
        ax.imshow(images[unit], cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit)
        ax.set_title(f"unit {unit}", fontsize=7)
        ax.set_axis_off()
    return fig


def attributions_figure(
    pixels: Sequence[np.ndarray], attributions: Sequence[np.ndarray], titles: Sequence[str]
) -> Figure:
    """Each image (top) and its attributions over it (bottom), one column per image."""
    count = len(pixels)
    fig = new_figure(max(2.0 * count, 3.0), 4.4)
    for column, (image, values, title) in enumerate(zip(pixels, attributions, titles, strict=True)):
        top = fig.add_subplot(2, count, column + 1)
        top.imshow(image, cmap="gray", vmin=0, vmax=255)
        top.set_title(title, fontsize=7)
        bottom = fig.add_subplot(2, count, count + column + 1)
        bottom.imshow(image, cmap="gray", vmin=0, vmax=255)
        limit = symmetric_limit(values)
        shown = bottom.imshow(
            values, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, alpha=OVERLAY_ALPHA
        )
        fig.colorbar(shown, ax=bottom, shrink=0.7)
        for ax in (top, bottom):
            ax.set_axis_off()
    return fig


def map_figure(
    points: np.ndarray, labels: np.ndarray, class_names: Sequence[str], title: str
) -> Figure:
    """The map of the test set: one dot per image at its 2-D point, coloured by its true class."""
    fig = new_figure(7.5, 6.2)
    ax = fig.add_subplot()
    colours = matplotlib.colormaps["tab10"]
    for label, name in enumerate(class_names):
        chosen = labels == label
        ax.scatter(*points[chosen].T, s=MAP_DOT, color=colours(label % 10), label=name, lw=0)
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8, markerscale=4, frameon=False)
    return fig
