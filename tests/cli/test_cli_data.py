"""`fashion-mlp data`: the description, JSON, the samples grid, and clean errors."""

from __future__ import annotations

import json

import pytest
from conftest import write_idx_dataset
from PIL import Image

from fashion_mlp.cli import main


def test_table_names_source_and_counts(idx_folder, capsys):
    assert main(["data", "--data", str(idx_folder)]) == 0
    out = capsys.readouterr().out
    assert "from path" in out and "train: images (120, 28, 28) uint8" in out
    assert "images per class" in out


def test_json_description(idx_folder, capsys):
    assert main(["data", "--data", str(idx_folder), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["train"]["shape"] == [120, 28, 28] and info["test"]["shape"] == [40, 28, 28]
    assert sum(info["train"]["per_class"]) == 120 and len(info["test"]["per_class"]) == 10
    assert [record["role"] for record in info["files"]] == [
        "train_images",
        "train_labels",
        "test_images",
        "test_labels",
    ]
    assert all(len(record["sha256"]) == 64 for record in info["files"])


def test_samples_grid(idx_folder, tmp_path):
    path = tmp_path / "samples.png"
    assert main(["data", "--data", str(idx_folder), "--samples", str(path)]) == 0
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 300 and image.height > 300


def test_bad_data_set_exits_2_without_traceback(tmp_path, capsys, tiny_data):
    folder = write_idx_dataset(tmp_path / "bad", tiny_data)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08broken")
    assert main(["data", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "t10k-images-idx3-ubyte.gz" in err and "Traceback" not in err
    assert "--debug" in err


def test_debug_shows_the_traceback(tmp_path, capsys):
    assert main(["data", "--data", str(tmp_path / "missing"), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.realdata
def test_real_data_is_verified(real_data, capsys):
    assert main(["data", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["verified"] and info["train"]["per_class"] == [6000] * 10


def test_modified_copy_needs_allow_modified_and_says_so(tmp_path, capsys, tiny_data):
    folder = write_idx_dataset(tmp_path / "copy", tiny_data)  # "fashion" with other checksums
    args = ["data", "--data", "fashion", "--data-dir", str(folder)]
    assert main(args) == 2
    assert "checksum mismatch" in capsys.readouterr().err
    assert main([*args, "--allow-modified"]) == 0
    out = capsys.readouterr().out
    assert "checksums: modified copy of fashion, not verified" in out
    assert "no published checksum" not in out


def test_unknown_folder_has_no_published_checksum(idx_folder, capsys):
    assert main(["data", "--data", str(idx_folder)]) == 0
    assert "checksums: not verified (no published checksum)" in capsys.readouterr().out


def test_runs_load_modified_data_only_when_the_config_allows(tmp_path, tiny_data):
    import dataclasses

    from fashion_mlp.config import DataConfig
    from fashion_mlp.errors import DatasetError
    from fashion_mlp.subsets import load_run_data

    folder = write_idx_dataset(tmp_path / "copy", tiny_data)
    config = DataConfig(name="fashion", data_dir=str(folder), test_limit=5)
    with pytest.raises(DatasetError, match="--allow-modified"):
        load_run_data(config)
    data = load_run_data(dataclasses.replace(config, allow_modified=True))
    assert len(data.x_test) == 5 and not data.provenance.verified


def test_checksum_cache_is_not_the_users(checksum_cache_home):
    import os
    from pathlib import Path

    assert os.environ["XDG_CACHE_HOME"] == str(checksum_cache_home)
    assert not checksum_cache_home.is_relative_to(Path.home() / ".cache")
