"""`fashion-mlp data`: where the data set came from, its checksums, shapes and class counts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console

from fashion_mlp.cli.tables import compact_table, console
from fashion_mlp.datasets import DATASETS, download_dataset, load_dataset


def describe(data) -> dict:
    """The data set's provenance, shapes and per-class counts as plain JSON types."""

    def counts(labels):
        return np.bincount(labels, minlength=data.num_classes).tolist()

    return {
        "name": data.name,
        **data.provenance.as_dict(),
        "class_names": list(data.class_names),
        "train": {
            "shape": list(data.x_train.shape),
            "dtype": str(data.x_train.dtype),
            "per_class": counts(data.y_train),
        },
        "test": {
            "shape": list(data.x_test.shape),
            "dtype": str(data.x_test.dtype),
            "per_class": counts(data.y_test),
        },
    }


def print_description(info: dict, out: Console) -> None:
    """Render describe()'s dict as tables."""
    status = checksum_status(info)
    out.print(
        f"[bold]{info['name']}[/bold] from {info['source']}: {info['location']}", soft_wrap=True
    )
    files = compact_table(title="files")
    files.add_column("file", overflow="fold")
    files.add_column("checksum", no_wrap=True)
    files.add_column("SHA-256 of the decompressed content", overflow="fold")
    for record in info["files"]:
        files.add_row(
            Path(record["path"]).name,
            "ok" if record["verified"] else "unverified",
            record["sha256"],
        )
    out.print(files)
    out.print(f"checksums: {status}")
    for split in ("train", "test"):
        out.print(f"{split}: images {tuple(info[split]['shape'])} {info[split]['dtype']}")
    classes = compact_table(title="images per class")
    for column in ("label", "class", "train", "test"):
        classes.add_column(column, justify="left" if column == "class" else "right")
    for label, name in enumerate(info["class_names"]):
        classes.add_row(
            str(label),
            name,
            f"{info['train']['per_class'][label]:,}",
            f"{info['test']['per_class'][label]:,}",
        )
    out.print(classes)


def checksum_status(info: dict) -> str:
    """'verified', or why not: a modified copy of a known data set, or no published checksum."""
    if info["verified"]:
        return "verified"
    original = modified_copy_of(info)
    if original:
        return (
            f"modified copy of {original}, not verified (its checksums differ from the "
            "published ones; loaded because of --allow-modified)"
        )
    return "not verified (no published checksum)"


def modified_copy_of(info: dict) -> str | None:
    """The known data set with published checksums that `info` has the name or shapes of."""
    shapes = {
        "train_images": tuple(info["train"]["shape"]),
        "test_images": tuple(info["test"]["shape"]),
    }
    for spec in DATASETS.values():
        same_shapes = all(spec.shapes.get(role) == shape for role, shape in shapes.items())
        if spec.sha256 and (info["name"] == spec.name or same_shapes):
            return spec.name
    return None


def run(args: argparse.Namespace) -> int:
    name = getattr(args, "data.name") or "fashion"
    data_dir = getattr(args, "data.data_dir")
    if args.download:
        data_dir = download_dataset(name, force=True)
    allow_modified = bool(getattr(args, "data.allow_modified"))
    data = load_dataset(name, data_dir=data_dir, allow_modified=allow_modified)
    info = describe(data)
    out = console()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print_description(info, out)
    if args.samples:
        from fashion_mlp.reports.figures import sample_grid, save_figure

        save_figure(sample_grid(data.x_train, data.y_train, data.class_names), args.samples)
        if not args.json:
            out.print(f"samples: {args.samples}")
    return 0
