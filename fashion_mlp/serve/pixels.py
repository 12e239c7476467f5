"""JSON pixel images checked as parsed lists, before any array is made from them: their shape,
and that every value is a JSON number (not a string or a boolean, which NumPy would convert)."""

from __future__ import annotations

from fashion_mlp.serve.errors import bad_input

NUMBERS = (int, float)  # exact types: bool is an int subclass and is refused


def check_pixel_lists(images: list, shape: tuple[int, ...]) -> None:
    """Raise a 422 unless `images` holds lists of `shape` each, whose values are all numbers."""
    level = images
    for depth, size in enumerate(shape, start=1):
        items = []
        for item in level:
            if type(item) is not list or len(item) != size:
                raise bad_input(
                    f"images of another shape, or ragged: expected {shape} each "
                    f"({' rows of '.join(map(str, shape))} numbers); at depth {depth} found "
                    f"{describe(item)} where a list of {size} belongs"
                )
            items.extend(item)
        level = items
    wrong = [value for value in level if type(value) not in NUMBERS][:1]
    if wrong:
        raise bad_input(
            f"pixel values must be numbers from 0 to 255; found a non-numeric value, "
            f"{describe(wrong[0])} (send numbers, not strings or booleans)"
        )


def describe(value: object) -> str:
    """A short description of a JSON value for an error message (never the whole value)."""
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    return f"{type(value).__name__} {value!r}"[:60]
