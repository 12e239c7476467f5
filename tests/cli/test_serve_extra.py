"""`fashion-mlp serve` without the `serve` extra: an error naming the pip install, not a raw
ModuleNotFoundError."""

from __future__ import annotations

import sys

import pytest

from fashion_mlp.cli import main


@pytest.mark.parametrize("module", ["uvicorn", "fastapi", "fastapi_offline"])
def test_serve_without_the_extra_names_the_pip_install(module, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails as if absent
    served = [name for name in sys.modules if name.startswith("fashion_mlp.serve")]
    for name in served:
        parent, _, child = name.rpartition(".")
        # importing it again rebinds its parent's attribute to the new module: restored after,
        # or a later test's monkeypatch.setattr("fashion_mlp.serve....") patches a stray copy
        monkeypatch.setattr(sys.modules[parent], child, sys.modules[name])
    for name in served:
        monkeypatch.delitem(sys.modules, name)
    assert main(["serve", "--runs-dir", str(tmp_path), "--port", "1"]) == 2
    error = capsys.readouterr().err
    assert 'pip install "fashion-mlp[serve]"' in error and module in error


def test_another_missing_module_is_not_blamed_on_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "fashion_mlp.serve", None)
    with pytest.raises(ModuleNotFoundError):
        main(["serve", "--runs-dir", str(tmp_path), "--port", "1"])
