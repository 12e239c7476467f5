"""A run killed before any of its atomic renames resumes (`train --resume`) to exactly what an
uninterrupted run gives: its files, history and test metrics."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Killed, renames_of, synthetic_dataset, write_idx_dataset

from fashion_mlp.config import build_config
from fashion_mlp.experiment import resume_experiment, run_experiment
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import load_run_data

pytestmark = pytest.mark.slow  # a training resumed after a kill at every rename


@pytest.fixture
def compilation_cache(tmp_path):
    """JAX's compilations kept in a persistent cache for the test: each run compiles only what
    no earlier one did (a new model is otherwise compiled anew)."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    settings = {
        "jax_compilation_cache_dir": str(tmp_path / "jit"),
        "jax_persistent_cache_min_compile_time_secs": 0,
        "jax_persistent_cache_min_entry_size_bytes": 0,
    }
    before = {name: getattr(jax.config, name) for name in settings}

    def use(values):
        for name, value in values.items():
            jax.config.update(name, value)
        compilation_cache.reset_cache()  # the cache is set up once, at the first compilation

    use(settings)
    yield
    use(before)


def run_files(run_dir) -> list[str]:
    return sorted(str(path.relative_to(run_dir)) for path in run_dir.rglob("*"))


def assert_same(result, expected) -> None:
    assert run_files(result.run_dir) == run_files(expected.run_dir)
    for key in ("test_accuracy", "confusion_matrix", "epochs_run"):
        assert result.metrics[key] == expected.metrics[key], key
    assert result.metrics["test_loss"] == pytest.approx(expected.metrics["test_loss"], abs=1e-6)
    for key, values in expected.history.items():
        if key != "seconds":
            np.testing.assert_allclose(result.history[key], values, rtol=1e-5, err_msg=key)


def test_a_kill_before_every_rename_resumes_as_if_uninterrupted(
    tmp_path, monkeypatch, compilation_cache
):
    data = write_idx_dataset(tmp_path / "data", synthetic_dataset(200, 50))
    config = build_config(preset("smoke"), {"data": {"name": str(data)}})
    load_run_data(config.data)  # its checksums cached now, not in the first counted run
    with monkeypatch.context() as patch:
        renames = renames_of(patch)
        expected = run_experiment(config, tmp_path / "whole", figures=False)
    for step in range(len(renames)):
        runs = tmp_path / f"killed-at-{step}"
        with monkeypatch.context() as patch, pytest.raises(Killed):
            renames_of(patch, kill_at=step)
            run_experiment(config, runs, figures=False)
        left = [path for path in runs.glob("[!.]*") if path.is_dir()] if runs.exists() else []
        if left:
            result = resume_experiment(left[0], figures=False)
        else:  # killed before its folder appeared: nothing to resume, start again
            result = run_experiment(config, runs, figures=False)
        assert RunDir(result.run_dir).is_finished, step
        assert_same(result, expected)
