"""The `summary` command: the network the flags describe, without a data set."""

from __future__ import annotations

import pytest

from fashion_mlp.cli import main


@pytest.mark.parametrize("style", ["sequential", "subclassed"])
def test_summary_prints_the_notebook_networks_parameter_count_and_size(style, capsys):
    assert main(["summary", "--style", style]) == 0
    output = capsys.readouterr().out
    assert "Trainable parameters: 52,650" in output
    assert "dense_2" in output  # the Keras layer table
    size = int(output.split("saved .keras file: ")[1].split(" bytes")[0].replace(",", ""))
    assert size > 52_650 * 4  # at least the float32 weights


def test_summary_follows_the_flags(capsys):
    assert main(["summary", "--hidden", "10", "--activation", "relu"]) == 0
    assert "Trainable parameters: 7,960" in capsys.readouterr().out  # 784*10+10 + 10*10+10


def test_summary_follows_the_preset(capsys):
    assert main(["summary", "--preset", "smoke"]) == 0
    assert "Trainable parameters: 25,450" in capsys.readouterr().out  # 784*32+32 + 32*10+10


def test_summary_of_a_user_model(tmp_path, capsys):
    path = tmp_path / "net.py"
    path.write_text(
        "import keras\n"
        "def build(input_shape, num_classes):\n"
        "    return keras.Sequential([keras.Input(shape=input_shape), keras.layers.Flatten(),\n"
        "                             keras.layers.Dense(num_classes)])\n"
    )
    assert main(["summary", "--model", f"{path}:build"]) == 0
    assert "Trainable parameters: 7,850" in capsys.readouterr().out


def test_summary_reports_an_unknown_activation(capsys):
    assert main(["summary", "--activation", "nope"]) == 2
    assert "activation='nope'" in capsys.readouterr().err
