"""The HTML toolkit of the self-contained pages (run report, comparison): escaped tables,
embedded figures, one inline style sheet, atomic writes. Pages open offline: no scripts,
no external links, every text taken from a run escaped."""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path

from fashion_mlp.files import write_text

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; display: block;
        max-width: 100%; overflow-x: auto; }  /* a wide table scrolls in its box on a phone */
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
code { font-size: 0.85em; } .note { color: #8a6d3b; font-style: italic; }
.headline { font-size: 1.2em; } figure { margin: 1em 0; } img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
"""


def flatten(mapping: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested tables as dotted keys: {"optimizer": {"name": "sgd"}} -> {"optimizer.name": "sgd"}."""
    flat: dict[str, object] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def format_value(value: object) -> str:
    """A short, readable text for a config or metric value (floats to 4 significant digits)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as TOML writes it
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)


def html_cell(value: object, tag: str = "td", style: str = "") -> str:
    """One escaped table cell; numbers right-aligned, text left-aligned."""
    kind = "" if isinstance(value, int | float) and not isinstance(value, bool) else ' class="text"'
    style_attribute = f' style="{escape(style)}"' if style else ""
    return f"<{tag}{kind}{style_attribute}>{escape(format_value(value))}</{tag}>"


def html_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """An HTML table of escaped, formatted values."""
    head = "".join(f'<th class="text">{escape(str(header))}</th>' for header in headers)
    body = "".join("<tr>" + "".join(html_cell(value) for value in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def png_data_uri(png: bytes) -> str:
    """PNG bytes as a `data:` URI for an <img src>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def html_figure(png: bytes, caption: str) -> str:
    """An embedded image with its caption."""
    return (
        f'<figure><img src="{png_data_uri(png)}" alt="{escape(caption)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def html_page(title: str, body: str) -> str:
    """A complete, self-contained HTML document."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def note(text: str) -> str:
    """A visible remark, e.g. that an optional file was missing."""
    return f'<p class="note">{escape(text)}</p>'


def write_page(path: str | os.PathLike, page: str) -> Path:
    """Write an HTML page atomically, as UTF-8 (model summaries hold box-drawing characters)."""
    return write_text(Path(path), page)
