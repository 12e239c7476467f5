"""On the real Fashion-MNIST: accuracy thresholds of the notebook's network, and predict on
generated image files of a test item."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from fashion_mlp.config import build_config
from fashion_mlp.experiment import run_experiment
from fashion_mlp.inference.predict_inputs import predict_inputs
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.presets import preset

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def one_epoch_run(real_data, tmp_path_factory):
    """The notebook's network trained for one epoch on the real data (compiled engine)."""
    config = build_config(preset("notebook"), {"training": {"epochs": 1}})
    return run_experiment(config, tmp_path_factory.mktemp("runs"), figures=False)


def test_one_epoch_of_the_notebook_network_reaches_80_percent(one_epoch_run):
    assert one_epoch_run.metrics["test_accuracy"] >= 0.80
    assert one_epoch_run.metrics["parameters"] == 52_650
    assert one_epoch_run.metrics["num_test"] == 10_000


def confident_item(run, data) -> int:
    """A test item the model gets right with high confidence, away from the frame's edges and
    at least half the frame tall (a flat sandal shrunk to 20x20 loses its straps: information
    gone, not a fault of the preparation)."""
    _, results = predict_inputs(run.run_dir, test_indices=range(200))
    for index, item in enumerate(results):
        rows = np.flatnonzero(data.x_test[index].max(axis=1) > 30)
        inside = rows.min() > 0 and rows.max() < 27 and rows.max() - rows.min() >= 14
        right = item.probabilities.argmax() == item.true_label
        if right and item.probabilities.max() > 0.95 and inside:
            return index
    pytest.fail("no confidently classified test item among the first 200")


def variants(item: np.ndarray) -> dict[str, Image.Image]:
    """The item as users might photograph or draw it."""
    grey = Image.fromarray(item)
    light = Image.fromarray(255 - item)
    rgba = Image.merge("RGBA", (grey, grey, grey, grey))  # dark background fully transparent
    return {
        "rgb": Image.merge("RGB", (grey, grey, grey)),
        "rgba": rgba,
        "light_background": light.convert("RGB"),
        "large": grey.resize((560, 560), Image.Resampling.BICUBIC),
        "tiny": grey.resize((20, 20), Image.Resampling.LANCZOS),
        "non_square": Image.fromarray(np.pad(item, ((10, 10), (60, 5)))).resize((186, 96)),
    }


def test_generated_images_of_a_test_item_are_classified_like_it(one_epoch_run, real_data, tmp_path):
    index = confident_item(one_epoch_run, real_data)
    item = real_data.x_test[index]
    files = []
    for name, image in variants(item).items():
        path = tmp_path / f"{name}.png"
        image.save(path)
        files.append(path)
    _, results = predict_inputs(one_epoch_run.run_dir, test_indices=[index], files=files)
    expected = results[0].probabilities.argmax()
    for result in results[1:]:
        assert result.error is None, result.error
        assert result.probabilities.argmax() == expected, result.source


def test_broken_files_get_clear_errors_and_do_not_stop_others(one_epoch_run, tmp_path):
    text, empty, truncated = tmp_path / "a.txt", tmp_path / "b.png", tmp_path / "c.png"
    text.write_text("a text file")
    empty.write_bytes(b"")
    noise = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    Image.fromarray(noise).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    files = [text, empty, truncated]
    _, results = predict_inputs(one_epoch_run.run_dir, test_indices=[0], files=files)
    assert results[0].error is None
    assert "not an image" in results[1].error
    assert "empty" in results[2].error
    assert "truncated" in results[3].error or "corrupt" in results[3].error


@pytest.fixture(scope="module")
def notebook_seeds(real_data, tmp_path_factory):
    """The notebook preset's seeds 0-2 (about 5 s of training each)."""
    folder = tmp_path_factory.mktemp("notebook")
    runs = []
    for seed in (0, 1, 2):
        config = build_config(preset("notebook"), {"training": {"seed": seed}})
        config = dataclasses.replace(config, name=f"seed{seed}")
        runs.append(run_experiment(config, folder, figures=False))  # figures: 5 s a run
    return runs


@pytest.mark.slow
def test_notebook_preset_accuracy_over_three_seeds(notebook_seeds):
    """The notebook got 86.5-87.1 %: seed 0 must reach 86.0 %, the mean of seeds 0-2 86.5 %."""
    accuracies = [run.metrics["test_accuracy"] for run in notebook_seeds]
    assert accuracies[0] >= 0.860, accuracies
    assert np.mean(accuracies) >= 0.865, accuracies


@pytest.fixture(scope="module")
def fast_run(real_data, tmp_path_factory):
    """The fast preset's seed 0 (about 21 s of training on an idle 2-core machine)."""
    config = build_config(preset("fast"), {"training": {"seed": 0}})
    folder = tmp_path_factory.mktemp("fast")
    return run_experiment(dataclasses.replace(config, name="fast"), folder, figures=False)


def accuracy_of(run) -> float:
    return run.metrics["test_accuracy"]


@pytest.mark.slow
def test_the_fast_preset_reaches_90_percent(fast_run):
    """Seed 0 measured 90.09 % (seeds 0-2: a 90.11 % mean, docs' performance page, with the
    command); another CPU's arithmetic moves it a little."""
    assert accuracy_of(fast_run) >= 0.895
    assert "cross_entropy" in fast_run.history  # the plain loss beside the smoothed one
    assert "val_accuracy" not in fast_run.history  # trained on all 60,000 training images


@pytest.mark.slow
def test_a_student_learns_its_teachers_answers_on_images_it_never_saw(
    notebook_seeds, fast_run, real_data, tmp_path
):
    """The notebook's network distilled from a fast run (alpha 0.9) agrees with that teacher on
    the test set more than the same notebook run without it (94.5 against 90.9 % measured) and
    is more accurate (88.2 against 86.4 %): it learned more than the labels say."""
    distill = {"teacher": str(fast_run.run_dir), "alpha": 0.9}
    config = build_config(preset("notebook"), {"training": {"seed": 0}, "distill": distill})
    student = run_experiment(dataclasses.replace(config, name="student"), tmp_path, figures=False)
    plain = notebook_seeds[0]
    answers = {
        name: Predictor.load(run.run_dir).predict_proba(real_data.x_test).argmax(axis=1)
        for name, run in [("teacher", fast_run), ("student", student), ("plain", plain)]
    }
    follows = np.mean(answers["student"] == answers["teacher"])
    alone = np.mean(answers["plain"] == answers["teacher"])
    assert follows > alone + 0.015, (follows, alone)
    assert accuracy_of(student) > accuracy_of(plain) + 0.005
    assert student.metrics["distilled_from"]["test_accuracy"] == accuracy_of(fast_run)
