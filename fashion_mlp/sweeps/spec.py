"""What a sweep is: a base config, axes of settings, grid or random trials. Keras-free.

A sweep file is TOML:

    name = "lr"                  # names the sweep and its runs (default: the preset's)
    preset = "notebook"          # where the base config starts (default: notebook)
    config = "base.toml"         # optional config file over the preset, relative to this file
    [base]                       # config keys over both, as in a config file
    training.epochs = 5
    [axes]                       # a dotted config key = its values
    "optimizer.learning_rate" = [0.003, 0.01, 0.03]
    "training.seed" = { range = [0, 3] }                # 0, 1, 2, 3 (integers, inclusive)
    "optimizer.weight_decay" = { log = [1e-5, 1e-3], num = 3 }    # 1e-5, 1e-4, 1e-3
    "optimizer.label_smoothing" = { linear = [0.0, 0.2], num = 3 }
    [sweep]                      # SweepConfig: samples, sample_seed, ensemble, ...
    samples = 0                  # 0 = the grid; N = N random trials (log axes drawn log-uniform)
    max_trials = 100000          # more trials (counted from the axes, before any is built): refused
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from fashion_mlp.config import (
    ExperimentConfig,
    SweepConfig,
    build_config,
    is_number,
    merge,
    read_toml,
    sweep_config,
    unknown_keys,
)
from fashion_mlp.errors import ConfigError
from fashion_mlp.presets import preset

RANGE_KINDS = ("range", "log", "linear")  # the table forms an axis may take besides a list
SWEEP_FILE_KEYS = {"name", "preset", "config", "base", "axes", "sweep"}


@dataclass(frozen=True)
class Axis:
    """One swept setting: explicit values, an integer range, or a linear or log range."""

    key: str  # dotted config key, e.g. "optimizer.learning_rate"
    values: tuple = ()  # explicit values (a list in the file)
    kind: str = "list"  # list | range | log | linear
    bounds: tuple = ()  # (low, high) of a range
    num: int = 0  # points of a log or linear range on the grid

    def size(self) -> int:
        """How many values the axis has on the grid, counted without listing them."""
        if self.kind == "list":
            return len(self.values)
        low, high = self.bounds
        if self.kind == "range":
            return high - low + 1
        if self.num < 1:
            raise ConfigError(
                f"axis {self.key!r}: a {self.kind} range needs num = N points for a grid "
                "(or use samples = N for random trials)"
            )
        return self.num

    def grid(self) -> list:
        """Every value of the axis, in order."""
        if self.kind == "list":
            return list(self.values)
        low, high = self.bounds
        if self.kind == "range":
            return list(range(low, high + 1))
        space = np.geomspace if self.kind == "log" else np.linspace
        return [float(v) for v in space(low, high, self.size())]

    def sample(self, rng: np.random.Generator):
        """One random value: a list's item, a range's integer, log-uniform or uniform."""
        if self.kind == "list":
            return self.values[int(rng.integers(len(self.values)))]
        low, high = self.bounds
        if self.kind == "range":
            return int(rng.integers(low, high + 1))
        if self.kind == "log":
            return float(math.exp(rng.uniform(math.log(low), math.log(high))))
        return float(rng.uniform(low, high))

    @property
    def is_log(self) -> bool:
        return self.kind == "log"

    def as_toml(self):
        if self.kind == "list":
            return list(self.values)
        table = {self.kind: list(self.bounds)}
        return table | ({"num": self.num} if self.num else {})


@dataclass(frozen=True)
class Trial:
    """One point of the sweep: its number, its settings (dotted key -> value), its config."""

    index: int
    settings: dict[str, Any]
    config: ExperimentConfig


@dataclass(frozen=True)
class SweepSpec:
    """A whole sweep: name, the base config layers, the axes and how trials are drawn."""

    name: str
    preset: str = "notebook"
    base: dict[str, Any] = field(default_factory=dict)  # config file + [base], merged
    axes: tuple[Axis, ...] = ()
    sweep: SweepConfig = field(default_factory=SweepConfig)

    def count(self) -> int:
        """How many trials the sweep has, computed from the axes without building any."""
        return self.sweep.samples or math.prod(axis.size() for axis in self.axes)

    def check_count(self) -> None:
        """Refuse a sweep of more trials than max_trials, before any is built."""
        count, limit = self.count(), self.sweep.max_trials
        if count > limit:
            raise ConfigError(
                f"the sweep has {count:,} trials, more than max_trials = {limit:,}: draw fewer "
                "(--samples N, samples = N in [sweep]) or give the axes fewer values; to run "
                f"them all, pass --max-trials {count} (max_trials in the sweep file's [sweep])"
            )

    def trials(self) -> list[Trial]:
        """Every trial: the grid of all axes, or `samples` random draws from them."""
        if self.sweep.samples:
            rng = np.random.default_rng(self.sweep.sample_seed)
            points = [[axis.sample(rng) for axis in self.axes] for _ in range(self.sweep.samples)]
        else:
            points = [list(point) for point in itertools.product(*(a.grid() for a in self.axes))]
        return [self.trial(index, point) for index, point in enumerate(points)]

    def trial(self, index: int, values: list) -> Trial:
        settings = {axis.key: value for axis, value in zip(self.axes, values, strict=True)}
        layer = {"name": f"{self.name}-{index:03d}"}
        for key, value in settings.items():
            section, name = key.split(".")
            layer.setdefault(section, {})[name] = value
        try:
            config = build_config(preset(self.preset), self.base, layer)
        except ConfigError as error:
            shown = ", ".join(f"{key} = {value!r}" for key, value in settings.items())
            raise ConfigError(f"sweep trial {index} ({shown}): {error}") from None
        if config.training.validation_split == 0:
            raise ConfigError(
                f"sweep trial {index}: validation_split = 0 holds out no validation split, but a "
                "sweep ranks its trials by validation accuracy (presets fast and best train on "
                "all training images); pass --validation-split 0.1 or set "
                "training.validation_split in the sweep file's [base]"
            )
        return Trial(index, settings, config)

    def to_toml(self) -> str:
        """The sweep as a self-contained sweep file (the base config inlined)."""
        table = {
            "name": self.name,
            "preset": self.preset,
            "base": self.base,
            "axes": {axis.key: axis.as_toml() for axis in self.axes},
            "sweep": asdict(self.sweep),
        }
        return tomli_w.dumps(table)


def read_sweep_file(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> SweepSpec:
    """A sweep file as a SweepSpec; `overrides` (same tables, e.g. from flags) win."""
    path = Path(path)
    table = read_toml(path)
    return sweep_spec(merge(table, overrides or {}), base_dir=path.parent)


def sweep_spec(table: dict[str, Any], base_dir: str | os.PathLike = ".") -> SweepSpec:
    """A SweepSpec from a sweep file's tables, each checked; every trial's config is validated."""
    unknown_keys(table, SWEEP_FILE_KEYS, "the sweep file")
    preset_name = table.get("preset", "notebook")
    preset(preset_name)  # an unknown preset is an error here, naming it
    base: dict[str, Any] = {}
    if table.get("config"):
        base = read_toml(Path(base_dir) / table["config"])
    base = merge(base, table.get("base", {}))
    base.pop("name", None)
    axes = tuple(parse_axis(key, value) for key, value in flatten_axes(table.get("axes", {})))
    if not axes:
        raise ConfigError(
            "the sweep has no axes: give [axes] in the sweep file, or flags with several "
            "values (e.g. --learning-rate 0.003 0.01 0.03 --seeds 0-3)"
        )
    keys = [axis.key for axis in axes]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"axes {keys}: each config key may be swept once")
    spec = SweepSpec(
        name=str(table.get("name") or preset_name),
        preset=preset_name,
        base=base,
        axes=axes,
        sweep=sweep_config(table.get("sweep", {})),
    )
    spec.check_count()
    spec.trials()  # every trial's config is built now: a bad value fails before any training
    return spec


def flatten_axes(axes: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """[axes] as (dotted key, axis value): nested tables (unquoted dotted keys) flattened."""
    if not isinstance(axes, dict):
        raise ConfigError(f"[axes] must be a table of config keys, got {axes!r}")
    flat = []
    for key, value in axes.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not set(value) & {*RANGE_KINDS, "num"}:
            flat += flatten_axes(value, f"{dotted}.")
        else:
            flat.append((dotted, value))
    return flat


def parse_axis(key: str, value: Any) -> Axis:
    """One axis from its sweep-file value: a list, or a {range|log|linear = [lo, hi]} table."""
    if key.count(".") != 1:
        raise ConfigError(
            f"axis {key!r}: expected a dotted config key SECTION.KEY such as "
            "'optimizer.learning_rate' or 'training.seed'"
        )
    if isinstance(value, list):
        if not value:
            raise ConfigError(f"axis {key!r}: the list of values is empty")
        return Axis(key, tuple(map(plain_setting, value)))
    if not isinstance(value, dict):
        raise ConfigError(
            f"axis {key!r} = {value!r}: expected a list of values or a table such as "
            "{ range = [0, 4] }, { log = [1e-4, 1e-2], num = 3 }, { linear = [0, 0.3], num = 4 }"
        )
    kinds = [kind for kind in RANGE_KINDS if kind in value]
    unknown_keys(value, {*RANGE_KINDS, "num"}, f"axis {key!r}")
    if len(kinds) != 1:
        raise ConfigError(f"axis {key!r}: give exactly one of {', '.join(RANGE_KINDS)}")
    kind = kinds[0]
    bounds = value[kind]
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(is_number, bounds))):
        raise ConfigError(f"axis {key!r}: {kind} = {bounds!r}, expected [low, high]")
    low, high = map(plain_setting, bounds)
    if low > high or (kind == "log" and low <= 0):
        raise ConfigError(
            f"axis {key!r}: {kind} = {bounds!r}, expected low <= high"
            + (" and low > 0 (a log range)" if kind == "log" else "")
        )
    if kind == "range" and not (isinstance(low, int) and isinstance(high, int)):
        raise ConfigError(f"axis {key!r}: range = {bounds!r} takes integers; use linear for floats")
    num = value.get("num", 0)
    if not isinstance(num, int) or num < 0:
        raise ConfigError(f"axis {key!r}: num = {num!r}, expected an integer >= 1")
    return Axis(key, kind=kind, bounds=(low, high), num=num)


def plain_setting(value: Any) -> Any:
    """A swept value as sweep.toml and trials.json can hold it: NumPy numbers become Python's
    (as a config keeps them), lists (layer sizes) tuples."""
    if isinstance(value, list | tuple):
        return tuple(map(plain_setting, value))
    return value.item() if isinstance(value, np.generic) else value


def parse_seeds(text: str) -> range:
    """'0-4' -> range(0, 5); '3' -> range(3, 4); for --seeds (a range, never listed here)."""
    low, separator, high = text.partition("-")
    try:
        seeds = range(int(low), int(high) + 1) if separator else range(int(text), int(text) + 1)
    except ValueError:
        raise ConfigError(
            f"--seeds {text!r}: expected seeds such as 0 1 2 or a range 0-4"
        ) from None
    if not seeds:
        raise ConfigError(f"--seeds {text!r}: a range LOW-HIGH needs LOW <= HIGH, e.g. 0-4")
    return seeds
