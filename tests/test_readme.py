"""The README stays a front door of at most 150 lines (the manual is the docs site), and its
Python API block runs as written, on the smoke preset's amount of work: the real data set cut
to the smoke preset's images, one epoch instead of ten."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import fashion_mlp.datasets
import fashion_mlp.presets

README = Path(__file__).resolve().parent.parent / "README.md"
MAX_README_LINES = 150
QUICKER = {  # what the block trains -> the same call with the smoke preset's work
    'fm.preset("notebook")': 'fm.preset("smoke")',
    "epochs=10": "epochs=1",
}


def api_block() -> str:
    """The README's Python block that trains (the one calling fm.fit)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (block,) = [block for block in blocks if "fm.fit(" in block]
    return block


def test_the_readme_is_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, (
        f"README.md has {lines} lines, over {MAX_README_LINES}: move the detail to docs/"
    )


@pytest.mark.realdata
def test_the_readmes_python_block_runs(real_data, monkeypatch, tmp_path):
    code = api_block()
    for written, quicker in QUICKER.items():
        assert written in code, f"the README's block no longer has {written!r}"
        code = code.replace(written, quicker)
    smoke = fashion_mlp.presets.PRESETS["smoke"]["data"]
    cut = dataclasses.replace(
        real_data,
        x_train=real_data.x_train[: smoke["train_limit"]],
        y_train=real_data.y_train[: smoke["train_limit"]],
        x_test=real_data.x_test[: smoke["test_limit"]],
        y_test=real_data.y_test[: smoke["test_limit"]],
    )
    monkeypatch.setattr(fashion_mlp.datasets, "load_dataset", lambda *args, **kwargs: cut)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert len(namespace["histories"]) == 8
    assert namespace["metrics"]["num_test"] == smoke["test_limit"]
    assert (tmp_path / "runs").is_dir()
