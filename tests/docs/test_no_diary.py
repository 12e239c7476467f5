"""The README, the docs and the package's code say what the software does, not how its
development went: none of them uses a phrase of a lab diary."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Phrases that only a development diary uses; "TODO" in capitals only (sweeps name a `todo`).
DIARY = re.compile(r"(?i:throwaway|not met|lack of time|not tried)|\bTODO\b")


def written_files() -> list[Path]:
    return [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted((ROOT / "fashion_mlp").rglob("*.py")),
    ]


def test_no_diary_phrases_in_the_readme_docs_or_code():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in written_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if DIARY.search(line)
    ]
    assert not found, "diary text (say what the code does, not how it was made):\n" + "\n".join(
        found
    )
