"""Sweeps count before they build: a sweep of too many trials is refused with its count and the
flag that allows it, random draws never list the grid, and every trial's data is checked before
the first population trains."""

from __future__ import annotations

import gzip
import time

import pytest
from conftest import IDX_NAMES, synthetic_dataset, write_idx_dataset

from fashion_mlp.cli.parser import build_parser
from fashion_mlp.cli.sweep_options import sweep_table
from fashion_mlp.errors import ConfigError, DatasetError
from fashion_mlp.sweeps.spec import Axis, SweepSpec, sweep_spec

BILLION = 1_000_000_000


def billion_seeds(**sweep) -> dict:
    return {
        "preset": "smoke",
        "axes": {"training.seed": {"range": [0, BILLION - 1]}},
        "sweep": sweep,
    }


def test_a_billion_trial_grid_is_refused_with_its_count_and_the_flag_that_allows_it():
    with pytest.raises(ConfigError, match=r"1,000,000,000 trials.*--max-trials 1000000000"):
        sweep_spec(billion_seeds())


def test_a_billion_samples_are_refused_at_once():
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="1,000,000,000 trials, more than max_trials = 100,000"):
        sweep_spec(
            {"preset": "smoke", "axes": {"training.seed": [0, 1]}, "sweep": {"samples": BILLION}}
        )
    assert time.perf_counter() - started < 5


def test_the_count_comes_from_the_axes_without_building_them():
    axes = (
        Axis("training.seed", kind="range", bounds=(0, BILLION - 1)),
        Axis("optimizer.weight_decay", kind="log", bounds=(1e-5, 1e-3), num=BILLION),
        Axis("model.activation", ("tanh", "relu")),
    )
    assert SweepSpec("huge", axes=axes).count() == 2 * BILLION**2


def test_max_trials_allows_a_bigger_sweep():
    table = {"preset": "smoke", "axes": {"training.seed": [0, 1, 2]}}
    with pytest.raises(ConfigError, match="3 trials, more than max_trials = 2"):
        sweep_spec(table | {"sweep": {"max_trials": 2}})
    assert len(sweep_spec(table | {"sweep": {"max_trials": 3}}).trials()) == 3


def test_samples_drawn_from_a_billion_seeds_never_list_them():
    started = time.perf_counter()
    args = build_parser().parse_args(["sweep", "--preset", "smoke", "--seeds", f"0-{BILLION - 1}"])
    args_drawn = build_parser().parse_args(
        ["sweep", "--preset", "smoke", "--seeds", f"0-{BILLION - 1}", "--samples", "3"]
    )
    trials = sweep_spec(sweep_table(args_drawn)).trials()
    assert len(trials) == 3 and all(0 <= t.settings["training.seed"] < BILLION for t in trials)
    with pytest.raises(ConfigError, match="1,000,000,000 trials"):
        sweep_spec(sweep_table(args))
    assert time.perf_counter() - started < 5


def test_several_seed_ranges_beyond_the_limit_are_refused_before_they_are_listed():
    args = build_parser().parse_args(["sweep", "--seeds", "7", f"0-{BILLION}"])
    with pytest.raises(ConfigError, match="one range alone"):
        sweep_table(args)


def truncated_copy(folder):
    """A copy of a data folder whose test labels lost their last bytes."""
    (labels,) = folder.glob(IDX_NAMES["test_labels"] + "*")
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-5]))
    return folder


@pytest.mark.parametrize(
    ("bad_folder", "error"),
    [
        (lambda folder: folder, "missing. is neither a known data set"),
        (
            lambda folder: truncated_copy(write_idx_dataset(folder, synthetic_dataset(60, 20))),
            r"t10k-labels-idx1-ubyte.gz: truncated",
        ),
    ],
    ids=["missing", "truncated"],
)
def test_a_data_axis_naming_a_bad_folder_fails_before_any_population_trains(
    tmp_path, monkeypatch, bad_folder, error
):
    import fashion_mlp.sweeps.local as local

    def trained(*args, **kwargs):
        raise AssertionError("a population trained before the bad data set was found")

    monkeypatch.setattr(local, "train_runs", trained)
    good = write_idx_dataset(tmp_path / "good", synthetic_dataset(60, 20))
    bad = bad_folder(tmp_path / "missing")
    spec = sweep_spec(
        {
            "preset": "smoke",
            "base": {"data": {"train_limit": 0, "test_limit": 0}},
            "axes": {"data.name": [str(good), str(bad)]},
        }
    )
    with pytest.raises(DatasetError, match=error):
        local.run_sweep(spec, tmp_path / "sweeps", tmp_path / "runs")
    assert not (tmp_path / "sweeps").exists()  # nothing was created either
