"""Every setting of an experiment, its default and valid values, and config files (no Keras).

The public face of `settings`, `validation` (the checks), `toml` (files, layers) and `sweep`."""

from fashion_mlp.config.settings import (
    ENGINES,
    OPTIMIZERS,
    SCHEDULES,
    STYLES,
    DataConfig,
    DistillConfig,
    ExperimentConfig,
    MLPSpec,
    ModelConfig,
    OptimizerConfig,
    TrainingConfig,
    optimizer_config,
)
from fashion_mlp.config.sweep import SweepConfig, sweep_config
from fashion_mlp.config.toml import build_config, merge, read_toml, write_toml
from fashion_mlp.config.validation import is_int, is_number, unknown_keys

__all__ = [
    "ENGINES",
    "OPTIMIZERS",
    "SCHEDULES",
    "STYLES",
    "DataConfig",
    "DistillConfig",
    "ExperimentConfig",
    "MLPSpec",
    "ModelConfig",
    "OptimizerConfig",
    "SweepConfig",
    "TrainingConfig",
    "build_config",
    "is_int",
    "is_number",
    "merge",
    "optimizer_config",
    "read_toml",
    "sweep_config",
    "unknown_keys",
    "write_toml",
]
