"""`fashion-mlp distill TEACHER_RUN`: `train` with a teacher, from the teacher's own recipe."""

from __future__ import annotations

import argparse
import dataclasses

from fashion_mlp.cli.commands import train
from fashion_mlp.cli.options import flag_overrides
from fashion_mlp.config import ExperimentConfig, build_config, read_toml
from fashion_mlp.distillation import teacher_run
from fashion_mlp.presets import preset

STUDENT_NAME = "student"  # the run's name without --name or a config file's


def run(args: argparse.Namespace) -> int:
    return train.run(args, student_config(args))


def student_config(args: argparse.Namespace) -> ExperimentConfig:
    """--preset, else the teacher's config.toml (an ensemble's is its first member's); then
    --config, the flags and the teacher, by its absolute path (the student re-runs anywhere)."""
    teacher = teacher_run(args.teacher)
    if args.preset:
        recipe = preset(args.preset)
    else:
        recipe = {k: v for k, v in teacher.read_config_table().items() if k != "distill"}
    file_layer = read_toml(args.config) if args.config else {}
    teacher_layer = {"distill": {"teacher": str(teacher.path.resolve())}}
    config = build_config(recipe, file_layer, flag_overrides(args), teacher_layer)
    name = args.name or file_layer.get("name") or STUDENT_NAME
    return dataclasses.replace(config, name=name)
