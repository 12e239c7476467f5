"""`fashion-mlp data`: where the data set came from, its checksums, shapes and class counts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that choose a data set; shared by every command that loads one."""
    parser.add_argument(
        "--data", dest="data_name", metavar="NAME_OR_FOLDER", default=None,
        help="data set: 'fashion', 'mnist' or a folder holding the four IDX files "
        "(default: fashion)",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="folder searched first for the data set's files (default: none; then "
        "$FASHION_MLP_DATA, the Keras cache, Debian's package, a download)",
    )  # fmt: skip


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "data", help="show, verify and sample the data set",
        description="Find (or download) the data set, verify its checksums and describe it.",
    )  # fmt: skip
    add_data_arguments(parser)
    parser.add_argument(
        "--json", action="store_true", help="print the description as JSON (default: a table)"
    )
    parser.add_argument(
        "--samples", type=Path, metavar="FILE.png", default=None,
        help="write a grid of random training images titled with their classes (default: none)",
    )  # fmt: skip
    parser.add_argument(
        "--download", action="store_true",
        help="download into the Keras cache even when another source has the files",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def describe(data) -> dict:
    """The data set's provenance, shapes and per-class counts as plain JSON types."""

    def counts(labels):
        return np.bincount(labels, minlength=data.num_classes).tolist()

    return {
        "name": data.name,
        **data.provenance.as_dict(),
        "class_names": list(data.class_names),
        "train": {"shape": list(data.x_train.shape), "dtype": str(data.x_train.dtype),
                  "per_class": counts(data.y_train)},
        "test": {"shape": list(data.x_test.shape), "dtype": str(data.x_test.dtype),
                 "per_class": counts(data.y_test)},
    }  # fmt: skip


def print_description(info: dict, console: Console) -> None:
    """Render describe()'s dict as tables."""
    status = "verified" if info["verified"] else "not verified (no published checksum)"
    console.print(f"[bold]{info['name']}[/bold] from {info['source']}: {info['location']}")
    files = Table("file", "checksum", title="files")
    files.add_column("SHA-256 of the decompressed content", overflow="fold")
    for record in info["files"]:
        files.add_row(Path(record["path"]).name,
                      "ok" if record["verified"] else "unverified", record["sha256"])  # fmt: skip
    console.print(files)
    console.print(f"checksums: {status}")
    for split in ("train", "test"):
        console.print(f"{split}: images {tuple(info[split]['shape'])} {info[split]['dtype']}")
    classes = Table("label", "class", "train", "test", title="images per class")
    for label, name in enumerate(info["class_names"]):
        classes.add_row(str(label), name, f"{info['train']['per_class'][label]:,}",
                        f"{info['test']['per_class'][label]:,}")  # fmt: skip
    console.print(classes)


def run(args: argparse.Namespace) -> int:
    from fashion_mlp.datasets import download_dataset, load_dataset

    name = args.data_name or "fashion"
    data_dir = args.data_dir
    if args.download:
        data_dir = download_dataset(name, force=True)
    data = load_dataset(name, data_dir=data_dir)
    info = describe(data)
    console = Console()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print_description(info, console)
    if args.samples:
        from fashion_mlp.figures import sample_grid, save_figure

        save_figure(sample_grid(data.x_train, data.y_train, data.class_names), args.samples)
        if not args.json:
            console.print(f"samples: {args.samples}")
    return 0
