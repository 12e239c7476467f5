"""`fashion-mlp explain`: per image the probabilities, hidden activations and a 28x28
attribution array that sums to F(x) - F(baseline); the explained class; figures; the map;
inputs that fail and runs that cannot be explained."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset
from PIL import Image

from fashion_mlp.cli import main
from fashion_mlp.inspection.embedding import MAP_FILE
from fashion_mlp.runs import RunDir

pytestmark = pytest.mark.slow  # trains two runs to explain


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run trained by `fashion-mlp train` on a small synthetic set with Fashion's classes."""
    root = tmp_path_factory.mktemp("explain")
    data = write_idx_dataset(root / "data", synthetic_dataset())
    (data / "class_names.txt").write_text("\n".join(synthetic_dataset().class_names) + "\n")
    flags = ["--hidden", "16", "8", "--epochs", "2", "--runs-dir", str(root / "runs")]
    assert main(["train", "--data", str(data), "--name", "explained", *flags]) == 0
    (folder,) = (root / "runs").iterdir()
    return RunDir(folder)


def explain_json(capsys, *argv) -> list | dict:
    assert main(["explain", "--json", *map(str, argv)]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_gives_probabilities_activations_and_attributions_per_test_image(run, capsys):
    rows = explain_json(capsys, run.path, "--test-index", 0, 1, 2)
    assert [row["input"] for row in rows] == ["test[0]", "test[1]", "test[2]"]
    for row in rows:
        assert len(row["probabilities"]) == 10
        assert sum(row["probabilities"]) == pytest.approx(1, abs=1e-4)
        assert {name: len(values) for name, values in row["activations"].items()} == {
            "dense_1": 16,
            "dense_2": 8,
        }
        attributions = np.asarray(row["attributions"])
        assert attributions.shape == (28, 28)
        explained = row["explained"]
        change = explained["value"] - explained["baseline_value"]
        assert attributions.sum() == pytest.approx(change, rel=0.01, abs=0.01)
        assert explained["class"] == row["predicted"]["class"]
        assert explained["output"] == "log-probability"
        assert row["baseline"] == {"grey_level": 0.0}
        assert row["true_class"]


def test_a_class_baseline_and_method_are_chosen_by_flags(run, capsys):
    flags = ["--class", "bag", "--baseline", "20", "--method", "gradient-x-input"]
    (row,) = explain_json(capsys, run.path, "--test-index", 5, *flags)
    assert row["explained"]["class"] == "Bag"
    assert (row["explained"]["method"], row["explained"]["steps"]) == ("gradient_x_input", 1)
    assert row["baseline"] == {"grey_level": 20.0}


def test_image_files_are_explained_and_a_bad_input_fails_alone(run, capsys, tmp_path):
    image = tmp_path / "band.png"
    Image.fromarray(np.pad(np.full((3, 20), 200, np.uint8), ((10, 15), (4, 4)))).save(image)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert (
        main(["explain", "--json", str(run.path), str(image), str(broken), "--test-index", "9999"])
        == 1
    )
    rows = json.loads(capsys.readouterr().out)
    assert [("error" in row) for row in rows] == [True, False, True]
    assert "out of range" in rows[0]["error"]
    assert np.asarray(rows[1]["attributions"]).shape == (28, 28)


def test_the_table_fits_80_columns(run, capsys):
    assert main(["explain", str(run.path), "--test-index", "0", "1"]) == 0
    out = capsys.readouterr().out
    assert "log-probability of the explained class" in out
    assert max(len(line) for line in out.splitlines() if "│" in line or "─" in line) <= 80


def test_figures_are_written_on_request(run, tmp_path, capsys):
    assert main(["explain", str(run.path), "--test-index", "0", "--figures", str(tmp_path)]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["attributions.png", "weights.png"]


def test_map_is_computed_then_reused_and_places_the_inputs(run, capsys):
    first = explain_json(capsys, run.path, "--map", "--test-index", "3")
    assert not first["map"]["cached"] and (run.path / MAP_FILE).is_file()
    assert 0 <= first["map"]["knn_accuracy"] <= 1
    assert len(first["inputs"][0]["map_point"]) == 2
    assert main(["explain", str(run.path), "--map"]) == 0
    assert "map.json (reused" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--test-index", "0", "--class", "Hat"], "class 'Hat'"),
        (["--test-index", "0", "--steps", "0"], "steps=0"),
        ([], "nothing to explain"),
    ],
)
def test_bad_requests_are_one_line_errors(run, capsys, argv, message):
    assert main(["explain", str(run.path), *argv]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_a_missing_run_is_a_clear_error(tmp_path, capsys):
    assert main(["explain", str(tmp_path / "nothing"), "--test-index", "0"]) == 2
    assert "does not exist" in capsys.readouterr().err
