"""Figures: valid PNGs, and the data behind each plot is the data it claims to show."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_dataset
from matplotlib.colors import to_hex
from PIL import Image
from test_report import fake_history, fake_metrics, fake_probabilities

from fashion_mlp.errors import ConfigError, RunError
from fashion_mlp.reports import figures

RUN_FIGURES = {
    "samples.png",
    "curves.png",
    "confusion_counts.png",
    "confusion_normalized.png",
    "per_class.png",
    "mistakes.png",
    "prediction.png",
}


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(200, 100)


@pytest.fixture(scope="module")
def probabilities(data):
    return fake_probabilities(data.y_test, data.num_classes, seed=3)


@pytest.fixture(scope="module")
def metrics(data, probabilities):
    return fake_metrics(data, probabilities, epochs=3)


def test_write_run_figures_writes_every_figure_as_a_sensible_png(
    tmp_path, data, probabilities, metrics
):
    paths = figures.write_run_figures(
        tmp_path, data, fake_history(3, validation=True), metrics, probabilities
    )
    assert {path.name for path in paths} == RUN_FIGURES
    assert {path.name for path in tmp_path.iterdir()} == RUN_FIGURES  # no temp files left
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG"
            width, height = image.size
            assert 300 <= width <= 4000 and 200 <= height <= 4000, (path.name, image.size)
            low, high = image.convert("L").getextrema()
            assert high - low > 100, path.name  # something is drawn, not a blank canvas


def test_save_figure_replaces_an_existing_file(tmp_path):
    target = tmp_path / "curves.png"
    target.write_bytes(b"old")
    figures.save_figure(figures.learning_curves(fake_history(2, validation=False)), target)
    with Image.open(target) as image:
        assert image.format == "PNG"
    reference = tmp_path / "reference"
    reference.touch()  # a file made the ordinary way: same permissions expected (umask honoured)
    assert target.stat().st_mode == reference.stat().st_mode
    reference.unlink()
    assert [path.name for path in tmp_path.iterdir()] == ["curves.png"]


def test_counts_heatmap_draws_the_metrics_matrix_in_label_order(metrics):
    matrix = np.array(metrics["confusion_matrix"])
    names = metrics["class_names"]
    fig = figures.confusion_heatmap(matrix, names, normalize=False)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), matrix)
    assert [label.get_text() for label in ax.get_xticklabels()] == names
    assert [label.get_text() for label in ax.get_yticklabels()] == names
    # Row 0 (the first class) is drawn at the top, column 0 at the left.
    top, bottom = (ax.transData.transform((0, row))[1] for row in (0, len(names) - 1))
    left, right = (ax.transData.transform((column, 0))[0] for column in (0, len(names) - 1))
    assert top > bottom and left < right
    cell_texts = [text.get_text() for text in ax.texts]
    assert cell_texts == [str(count) for count in matrix.ravel()]


def test_normalised_heatmap_rows_are_recall_and_sum_to_one(metrics):
    matrix = np.array(metrics["confusion_matrix"])
    drawn = figures.confusion_heatmap(matrix, metrics["class_names"], normalize=True)
    plotted = np.asarray(drawn.axes[0].images[0].get_array())
    np.testing.assert_allclose(plotted, figures.confusion_data(matrix, normalize=True))
    np.testing.assert_allclose(plotted.sum(axis=1), 1.0)
    recalls = [entry["recall"] for entry in metrics["per_class"]]
    np.testing.assert_allclose(np.diag(plotted), recalls)


def test_confusion_data_leaves_absent_classes_at_zero():
    matrix = np.array([[3, 1, 0], [0, 0, 0], [1, 0, 4]])
    data = figures.confusion_data(matrix, normalize=True)
    np.testing.assert_allclose(data, [[0.75, 0.25, 0], [0, 0, 0], [0.2, 0, 0.8]])


def test_confusion_data_rejects_a_non_square_matrix():
    with pytest.raises(RunError, match="square"):
        figures.confusion_data(np.ones((3, 4)), normalize=False)


@pytest.mark.parametrize("validation", [True, False])
def test_learning_curves_plot_train_and_validation_when_present(validation):
    history = fake_history(4, validation=validation)
    fig = figures.learning_curves(history)
    loss_ax, accuracy_ax = fig.axes[:2]
    expected_lines = 2 if validation else 1
    assert len(loss_ax.lines) == len(accuracy_ax.lines) == expected_lines
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), history["loss"])
    np.testing.assert_allclose(accuracy_ax.lines[0].get_xdata(), [1, 2, 3, 4])


def test_learning_curves_of_an_empty_history_is_a_run_error():
    with pytest.raises(RunError, match="empty"):
        figures.learning_curves({"loss": [], "accuracy": []})


def test_per_class_scores_draws_each_score_per_class(metrics):
    fig = figures.per_class_scores(metrics["per_class"])
    ax = fig.axes[0]
    assert len(ax.containers) == 3
    for container, score in zip(ax.containers, ("precision", "recall", "f1"), strict=True):
        heights = [bar.get_height() for bar in container]
        assert heights == pytest.approx([entry[score] for entry in metrics["per_class"]])
    assert [label.get_text() for label in ax.get_xticklabels()] == metrics["class_names"]


def test_confident_mistakes_shows_the_most_confident_wrong_predictions_first():
    names = ("a", "b", "c")
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    y_true = np.array([0, 1, 2, 0, 1])
    probabilities = np.array(
        [
            [0.1, 0.7, 0.2],  # wrong, 0.7
            [0.1, 0.8, 0.1],  # right
            [0.95, 0.03, 0.02],  # wrong, 0.95
            [0.2, 0.2, 0.6],  # wrong, 0.6
            [0.1, 0.1, 0.8],  # wrong, 0.8
        ]
    )
    fig = figures.confident_mistakes(images, y_true, probabilities, names, n=3)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == [
        "true: c\npred: a (0.95)",
        "true: b\npred: c (0.80)",
        "true: a\npred: b (0.70)",
    ]


def test_confident_mistakes_without_mistakes_says_so():
    probabilities = np.eye(3)
    fig = figures.confident_mistakes(np.zeros((3, 28, 28)), np.arange(3), probabilities, "abc")
    assert "No mistakes" in fig.texts[0].get_text()


def test_prediction_figure_bars_follow_label_order_top_down():
    names = ("zero", "one", "two", "three")
    probabilities = np.array([[0.1, 0.2, 0.6, 0.1], [0.5, 0.2, 0.2, 0.1]])
    images = np.random.default_rng(0).integers(0, 255, (2, 28, 28), dtype=np.uint8)
    fig = figures.prediction_figure(images, probabilities, names, true_labels=[1, 0])
    image_ax, bar_ax = fig.axes[:2]
    np.testing.assert_array_equal(image_ax.images[0].get_array(), images[0])
    bars = sorted(bar_ax.patches, key=lambda bar: -bar_ax.transData.transform((0, bar.get_y()))[1])
    assert [bar.get_width() for bar in bars] == pytest.approx(probabilities[0])  # top first
    colors = [to_hex(bar.get_facecolor()) for bar in bars]
    assert colors[2] == figures.HIGHLIGHT_COLOR and colors.count(figures.HIGHLIGHT_COLOR) == 1
    labels = bar_ax.get_yticklabels()
    assert labels[1].get_text() == "one (true)" and labels[1].get_fontweight() == "bold"
    assert "predicted: two" in image_ax.get_title()


def test_prediction_figure_accepts_one_image_without_labels():
    fig = figures.prediction_figure(
        np.zeros((28, 28)), np.full(10, 0.1), [str(i) for i in range(10)]
    )
    assert len(fig.axes) == 2
    assert not any("(true)" in label.get_text() for label in fig.axes[1].get_yticklabels())


def test_prediction_figure_rejects_mismatched_probabilities():
    with pytest.raises(ConfigError, match=r"expected \(n, 3\)"):
        figures.prediction_figure(np.zeros((2, 28, 28)), np.full((2, 4), 0.25), "abc")


def test_sample_grid_shows_per_class_images_titled_with_their_class(data):
    fig = figures.sample_grid(data.x_train, data.y_train, data.class_names, per_class=2, seed=1)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 2 * data.num_classes
    for ax in shown:
        label = data.class_names.index(ax.get_title())
        image = np.asarray(ax.images[0].get_array())
        matches = np.flatnonzero((data.x_train == image).all(axis=(1, 2)))
        assert set(data.y_train[matches]) == {label}  # the image really is of the titled class
    again = figures.sample_grid(data.x_train, data.y_train, data.class_names, per_class=2, seed=1)
    first = [np.asarray(ax.images[0].get_array()) for ax in shown]
    second = [np.asarray(ax.images[0].get_array()) for ax in again.axes if ax.images]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_sample_grid_rejects_zero_per_class(data):
    with pytest.raises(ConfigError, match="per_class"):
        figures.sample_grid(data.x_train, data.y_train, data.class_names, per_class=0)
