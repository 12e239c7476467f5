"""Config files and layers: TOML round trips; a layer replaces only the keys it names, and its
sections must be tables (a string, list, number or null in their place is refused, never
taken as "reset this section to its defaults"); a file that is not UTF-8 or not TOML is one
clear error."""

from __future__ import annotations

import pytest

from fashion_mlp.config import build_config, read_toml, write_toml
from fashion_mlp.errors import ConfigError
from fashion_mlp.presets import preset


def test_toml_round_trip(tmp_path):
    config = build_config(
        preset("smoke"),
        {"model": {"hidden": [20, 10], "dropout": [0.1, 0.2], "style": "functional"}},
        {"optimizer": {"optimizer": "adam", "learning_rate": 0.002}},
    )
    path = tmp_path / "config.toml"
    path.write_text(write_toml(config))
    assert build_config(read_toml(path)) == config


def test_layers_replace_only_the_keys_they_name():
    layers = {"training": {"epochs": 3}}, {"training": {"seed": 7}}
    config = build_config(preset("notebook"), *layers)
    assert (config.training.epochs, config.training.seed, config.training.batch_size) == (3, 7, 16)


@pytest.mark.parametrize("value", ["x", [1], 3, None], ids=["string", "list", "number", "null"])
def test_a_section_that_is_not_a_table_is_refused_even_when_a_later_layer_sets_it(value):
    with pytest.raises(ConfigError, match=r"\[data\] must be a table"):
        build_config(preset("smoke"), {"data": value}, {"data": {"name": "fashion"}})


def test_smoke_keeps_its_limits_under_a_layer_of_tables():
    config = build_config(preset("smoke"), {"data": {}}, {"data": {"name": "fashion"}})
    assert config.data.train_limit == build_config(preset("smoke")).data.train_limit > 0


def test_config_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        read_toml(path)


def test_bad_toml_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[training\nepochs = 3")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        read_toml(path)
    with pytest.raises(ConfigError, match="does not exist"):
        read_toml(tmp_path / "missing.toml")


def test_a_distilled_config_round_trips_and_others_have_no_distill_table():
    assert "distill" not in build_config(preset("fast")).to_dict()
    config = build_config({"distill": {"teacher": "runs/x", "temperature": 2}})
    assert build_config(config.to_dict()) == config
    assert config.to_dict()["distill"] == {"teacher": "runs/x", "temperature": 2.0, "alpha": 0.5}
