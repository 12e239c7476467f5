"""The reference pages that docs/hooks/reference.py generates cover what the code has: every
command, every config key, every public name and route; the hand-written folder page names
every file that RunDir and SweepDir write."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import pytest

from fashion_mlp.cli.parser import build_parser
from fashion_mlp.config import settings, sweep

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def reference():
    spec = importlib.util.spec_from_file_location("reference", DOCS / "hooks" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_page_has_every_command_and_flag(reference):
    page = reference.cli_page()
    (commands,) = [action for action in build_parser()._actions if action.choices and action.dest]
    for name, subparser in commands.choices.items():
        assert f"\n## {name}\n" in page
        for action in subparser._actions:
            for flag in action.option_strings:
                assert flag in page, f"{name} {flag}"


def test_the_config_page_has_every_key_with_its_meaning(reference):
    page = reference.config_page()
    classes = [settings.DataConfig, settings.MLPSpec, settings.OptimizerConfig]
    classes += [settings.TrainingConfig, sweep.SweepConfig]
    for cls in classes:
        for field in dataclasses.fields(cls):
            if field.name in settings.DATA_SHAPED_SPEC_FIELDS:
                continue
            (row,) = [line for line in page.splitlines() if line.startswith(f"| `{field.name}` |")][
                :1
            ]
            meaning = row.rstrip(" |").rsplit("|", 1)[-1].strip()
            assert meaning, f"{cls.__name__}.{field.name} has no comment to explain it"


def test_a_continued_comment_stays_with_its_field(reference):
    comments = reference.field_comments(settings.DataConfig)
    assert comments["allow_modified"].endswith("unverified (data changed on purpose)")


def test_the_python_api_page_has_every_public_name(reference):
    import fashion_mlp

    page = reference.python_api_page()
    for name in fashion_mlp._PUBLIC_API:
        defined_in = getattr(fashion_mlp, name).__module__  # the object, not a same-named module
        assert f"::: {defined_in}.{name}" in page


def test_the_http_page_has_every_route(reference):
    pytest.importorskip("fastapi")
    schema = reference.openapi_schema()
    page = reference.http_page()
    for path, methods in schema["paths"].items():
        for method in methods:
            assert f"### `{method.upper()} {path}`" in page


def test_the_folders_page_names_every_file_of_a_run_and_a_sweep():
    from fashion_mlp.runs import RunDir
    from fashion_mlp.sweeps.folder import SweepDir

    page = (DOCS / "reference" / "folders.md").read_text(encoding="utf-8")
    for cls in (RunDir, SweepDir):
        names = [
            value for key, value in vars(cls).items() if key.isupper() and isinstance(value, str)
        ]
        assert names
        for name in names:
            for part in name.split("/"):  # checkpoints/state.json: the folder, then its file
                assert re.search(rf"`{re.escape(part)}/?`", page), f"{cls.__name__}: {name}"
