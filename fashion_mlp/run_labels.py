"""A run's labels (labels.json): a title and tags a person gave it, checked before they are
kept. Keras-free."""

from __future__ import annotations

import re
from typing import Any

from fashion_mlp.errors import ConfigError

MAX_TITLE = 80  # characters: one line of a run selector
MAX_TAGS = 12
TAG = re.compile(r"\w[\w .+-]{0,31}")  # a word or a short phrase


def checked_labels(title: Any, tags: Any) -> dict[str, Any]:
    """{"title", "tags"} with spaces trimmed and repeated tags dropped, or a ConfigError."""
    if title is not None and not (
        isinstance(title, str) and len(title.strip()) <= MAX_TITLE and title.isprintable()
    ):
        raise ConfigError(
            f"title {title!r}: expected at most {MAX_TITLE} printable characters, or null for "
            "the folder name"
        )
    if not (
        isinstance(tags, list)
        and len(tags) <= MAX_TAGS
        and all(isinstance(tag, str) and TAG.fullmatch(tag.strip()) for tag in tags)
    ):
        raise ConfigError(
            f"tags {tags!r}: expected a list of at most {MAX_TAGS} tags, each 1 to 32 letters, "
            "digits, spaces or . + - _ starting with a letter or digit"
        )
    return {
        "title": (title or "").strip() or None,
        "tags": list(dict.fromkeys(map(str.strip, tags))),
    }
