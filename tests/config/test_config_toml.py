"""A config layer's section must be a table: a string, list, number or null in its place is
refused, never taken as "reset this section to its defaults"."""

from __future__ import annotations

import pytest

from fashion_mlp.config import build_config
from fashion_mlp.errors import ConfigError
from fashion_mlp.presets import preset


@pytest.mark.parametrize("value", ["x", [1], 3, None], ids=["string", "list", "number", "null"])
def test_a_section_that_is_not_a_table_is_refused_even_when_a_later_layer_sets_it(value):
    with pytest.raises(ConfigError, match=r"\[data\] must be a table"):
        build_config(preset("smoke"), {"data": value}, {"data": {"name": "fashion"}})


def test_smoke_keeps_its_limits_under_a_layer_of_tables():
    config = build_config(preset("smoke"), {"data": {}}, {"data": {"name": "fashion"}})
    assert config.data.train_limit == build_config(preset("smoke")).data.train_limit > 0
