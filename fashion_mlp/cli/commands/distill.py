"""`fashion-mlp distill TEACHER_RUN`: `train` with a teacher, from the teacher's own recipe."""

from __future__ import annotations

import argparse
import dataclasses

from fashion_mlp.cli.commands import train
from fashion_mlp.cli.options import flag_overrides
from fashion_mlp.config import ExperimentConfig, build_config, read_toml
from fashion_mlp.distillation import teacher_run
from fashion_mlp.errors import RunError
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir

STUDENT_NAME = "student"  # the run's name without --name or a config file's


def run(args: argparse.Namespace) -> int:
    return train.run(args, student_config(args))


def student_config(args: argparse.Namespace) -> ExperimentConfig:
    """--preset, else the teacher's config.toml (an ensemble's is its first member's); then
    --config, the flags and the teacher, by its absolute path (the student re-runs anywhere)."""
    teacher = teacher_run(args.teacher)
    file_layer = read_toml(args.config) if args.config else {}
    recipe = preset(args.preset) if args.preset else teacher_recipe(teacher, args, file_layer)
    teacher_layer = {"distill": {"teacher": str(teacher.path.resolve())}}
    config = build_config(recipe, file_layer, flag_overrides(args), teacher_layer)
    name = args.name or file_layer.get("name") or STUDENT_NAME
    return dataclasses.replace(config, name=name)


def teacher_recipe(teacher: RunDir, args: argparse.Namespace, file_layer: dict) -> dict:
    """The teacher's config table without its own teacher. A recipe naming code to import
    (model.user_model) is refused unless the user chose the model (--model, or a --config
    naming one) or vouched for the teacher's folder (--trust-run-code): a downloaded run
    could name any file."""
    recipe = {k: v for k, v in teacher.read_config_table().items() if k != "distill"}
    reference = recipe.get("model", {}).get("user_model")
    chosen = getattr(args, "model.user_model", None) or file_layer.get("model", {}).get(
        "user_model"
    )
    if reference and not chosen and not args.trust_run_code:
        raise RunError(
            f"teacher {teacher.path} names code to import: model.user_model = {reference!r}; "
            "a student of its recipe would run it. If you trust it, add --trust-run-code; "
            "else pass --model FILE.py:FUNCTION or --preset for the student"
        )
    return recipe
