"""Kinds of valid value (a range, choices, a flag...) and `validate`, which checks a settings
class's `CONSTRAINTS` table once, when an object is made (scikit-learn's `_parameter_constraints`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar

from fashion_mlp.errors import ConfigError

ENDS = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}  # which ends are in range


class Constraint:
    """A kind of valid value: what it `accepts`, the value it keeps (`normalized`), `expected`."""

    expected: str  # what a valid value is, for the error message

    def accepts(self, value: object) -> bool:
        raise NotImplementedError

    def normalized(self, value: Any) -> Any:
        return value


def is_int(value: object) -> bool:
    """True for an integer (NumPy's too), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """True for a real number (int, float or a NumPy scalar), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def plain(value: Any) -> Any:
    """TOML-writable form: tuples become lists."""
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Interval(Constraint):
    """An int, or a finite float, from `low` to `high` (None: unbounded); `note` names sentinels."""

    kind: type  # int or float; an int is accepted for a float
    low: float
    high: float | None = None
    closed: str = "both"  # the ends that belong to the range: both, left, right or neither
    note: str = ""  # what special values mean, e.g. "0 = all"

    def accepts(self, value: object) -> bool:
        if not (is_int(value) if self.kind is int else is_number(value) and math.isfinite(value)):
            return False
        left, right = ENDS[self.closed]
        above = value >= self.low if left == "[" else value > self.low
        below = self.high is None or (value <= self.high if right == "]" else value < self.high)
        return above and below

    def normalized(self, value: Any) -> Any:
        return self.kind(value)  # NumPy scalars become Python numbers

    @property
    def expected(self) -> str:
        left, right = ENDS[self.closed]
        if self.high is None:
            number = "an integer" if self.kind is int else "a finite number"
            text = f"{number} {'>=' if left == '[' else '>'} {self.low}"
        else:
            number = "an integer" if self.kind is int else "a number"
            text = f"{number} in {left}{self.low}, {self.high}{right}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class Options(Constraint):
    """One of a few names."""

    choices: tuple[str, ...]

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and value in self.choices

    @property
    def expected(self) -> str:
        return f"one of {', '.join(self.choices)}"


@dataclass(frozen=True)
class Flag(Constraint):
    """True or false (not 0 or 1)."""

    def accepts(self, value: object) -> bool:
        return isinstance(value, bool)

    @property
    def expected(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Text(Constraint):
    """A string; `nonempty` refuses "", `optional` accepts None (unset)."""

    expected: str  # what the string names, e.g. "the name of a Keras activation"
    nonempty: bool = False
    optional: bool = False

    def accepts(self, value: object) -> bool:
        if value is None:
            return self.optional
        return isinstance(value, str) and not (self.nonempty and value == "")


@dataclass(frozen=True)
class Sizes(Constraint):
    """A non-empty list (or tuple) of at most `max_length` values, each valid for `item`."""

    item: Interval
    max_length: int | None = None  # None: any length
    example: str = ""  # e.g. "[64, 32]"

    def accepts(self, value: object) -> bool:
        if not isinstance(value, list | tuple) or not value:
            return False
        short_enough = self.max_length is None or len(value) <= self.max_length
        return short_enough and all(self.item.accepts(each) for each in value)

    def normalized(self, value: Any) -> Any:
        return tuple(self.item.normalized(each) for each in value)

    @property
    def expected(self) -> str:
        items = self.item.expected.replace("an integer", "integers").replace("a number", "numbers")
        count = "a non-empty list of" if self.max_length is None else f"1 to {self.max_length}"
        example = f", e.g. {self.example}" if self.example else ""
        return f"{count} {items}{example}"


@dataclass(frozen=True)
class Either(Constraint):
    """Valid for `first` or for `second` (a rate, or one rate per layer)."""

    first: Constraint
    second: Constraint

    def accepts(self, value: object) -> bool:
        return self.first.accepts(value) or self.second.accepts(value)

    def normalized(self, value: Any) -> Any:
        kind = self.first if self.first.accepts(value) else self.second
        return kind.normalized(value)

    @property
    def expected(self) -> str:
        return f"{self.first.expected}, or {self.second.expected}"


@dataclass(frozen=True)
class Instance(Constraint):
    """An object of a class: a settings section inside another."""

    cls: type

    def accepts(self, value: object) -> bool:
        return isinstance(value, self.cls)

    @property
    def expected(self) -> str:
        return f"a {self.cls.__name__}"


class Settings:
    """A settings dataclass: made only with valid values, checked against its CONSTRAINTS table."""

    CONSTRAINTS: ClassVar[dict[str, Constraint]]  # each field's valid values

    def __post_init__(self) -> None:
        validate(self)


def validate(settings: Settings) -> None:
    """Check every field of a settings dataclass against its class's `CONSTRAINTS`, once.

    Valid values are normalised in place (NumPy scalars to Python numbers, lists to tuples).

    Raises:
        ConfigError: naming each bad field, its value and what was expected, e.g.
            "epochs = 0: expected an integer >= 1".
    """
    constraints = type(settings).CONSTRAINTS
    problems = []
    for settings_field in dataclasses.fields(settings):
        name, value = settings_field.name, getattr(settings, settings_field.name)
        constraint = constraints[name]
        if constraint.accepts(value):
            object.__setattr__(settings, name, constraint.normalized(value))
        else:
            problems.append(f"{name} = {plain(value)!r}: expected {constraint.expected}")
    if problems:
        raise ConfigError("; ".join(problems))


def unknown_keys(values: dict[str, Any], known: set[str], where: str) -> None:
    """Raise ConfigError naming any key of `values` not in `known`."""
    extra = sorted(set(values) - known)
    if extra:
        raise ConfigError(
            f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))} in {where}; "
            f"expected some of: {', '.join(sorted(known))}"
        )


def field_names(cls: type) -> set[str]:
    """The names of a settings dataclass's fields."""
    return {settings_field.name for settings_field in dataclasses.fields(cls)}
