"""The search behind the `best` and `fast` presets: recipes ranked by VALIDATION accuracy only.

Each recipe trains once (seed 0) with `fashion-mlp train` in its own process, on the training
split minus its last 10 % (the validation split, as Keras holds it out); the table ranks by the
last epoch's validation accuracy and never reads the test set. Run by hand (minutes each):

    python benchmarks/search_best.py --recipes wide,wide_shift,wide_flip_shift --output search.json

`--mirrored RUN...` instead scores finished search runs on their validation split alone and
averaged with each image's mirror (what `ensemble --mirror` does), to see if mirroring pays.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDE = (
    "--hidden 1024 1024 --activation relu --dropout 0.3 --optimizer adamw --learning-rate 2e-3 "
    "--weight-decay 1e-4 --schedule one_cycle --label-smoothing 0.1 --batch-size 128"
)
RECIPES = {  # name -> flags; every recipe keeps the notebook's validation split (0.1)
    "wide": f"{WIDE} --epochs 15",
    "wide_shift": f"{WIDE} --epochs 15 --shift 1",
    "wide_flip": f"{WIDE} --epochs 15 --flip",
    "wide_flip_shift": f"{WIDE} --epochs 15 --flip --shift 1",
    "wide_flip_shift_indrop": f"{WIDE} --epochs 15 --flip --shift 1 --input-dropout 0.1",
    "wide_40": f"{WIDE} --epochs 40",
    "wide_flip_shift_40": f"{WIDE} --epochs 40 --flip --shift 1",
    "wide_80": f"{WIDE} --epochs 80",
    "wide_flip_shift_30": f"{WIDE} --epochs 30 --flip --shift 1",
    "wide_flip_shift_60": f"{WIDE} --epochs 60 --flip --shift 1",
    "wide_flip_shift_ema_30": f"{WIDE} --epochs 30 --flip --shift 1 --ema 0.999",
    "wide_12": f"{WIDE} --epochs 12",
    "wide_flip_12": f"{WIDE} --epochs 12 --flip",
    "wide_ema_40": f"{WIDE} --epochs 40 --ema 0.999",
    "wide_b256_40": f"{WIDE} --epochs 40 --batch-size 256 --learning-rate 3e-3",
    "wide_indrop_40": f"{WIDE} --epochs 40 --input-dropout 0.1",
    "wide_d02_flip_40": f"{WIDE} --epochs 40 --dropout 0.2 --flip",
    "wide_indrop2_40": f"{WIDE} --epochs 40 --input-dropout 0.2",
    "wide_d02_flip_indrop_40": f"{WIDE} --epochs 40 --dropout 0.2 --flip --input-dropout 0.1",
    "wide_d02_flip_wd05_40": f"{WIDE} --epochs 40 --dropout 0.2 --flip --weight-decay 0.05",
    "wide_d03_flip_40": f"{WIDE} --epochs 40 --flip",
    "wide_d02_flip_bn_40": f"{WIDE} --epochs 40 --dropout 0.2 --flip --batch-norm",
}
MID = WIDE.replace("1024 1024", "512 512")
RECIPES |= {  # the 25-second search behind `fast` (issue 25): every idea within the time budget
    "mid_10": f"{MID} --epochs 10",
    "mid_b256_12": f"{MID} --epochs 12 --batch-size 256 --learning-rate 3e-3",
    "mid_bn_10": f"{MID} --epochs 10 --batch-norm",
    "mid_b256_bn_12": f"{MID} --epochs 12 --batch-size 256 --learning-rate 3e-3 --batch-norm",
    "mid_b256_bn_10": f"{MID} --epochs 10 --batch-size 256 --learning-rate 3e-3 --batch-norm",
    "mid_b512_bn_16": f"{MID} --epochs 16 --batch-size 512 --learning-rate 5e-3 --batch-norm",
    "mid_b256_bn_d02_12": f"{MID} --epochs 12 --batch-size 256 --learning-rate 3e-3 --batch-norm "
    "--dropout 0.2",
    "w768_b256_bn_8": f"{MID} --epochs 8 --batch-size 256 --learning-rate 3e-3 --batch-norm "
    "--hidden 768 768",
    "mid_b256_bn_flip_12": f"{MID} --epochs 12 --batch-size 256 --learning-rate 3e-3 "
    "--batch-norm --flip",
    "mid_b512_bn_d02_16": f"{MID} --epochs 16 --batch-size 512 --learning-rate 5e-3 --batch-norm "
    "--dropout 0.2",
    "mid_b512_bn_20": f"{MID} --epochs 20 --batch-size 512 --learning-rate 5e-3 --batch-norm",
    "mid_b1024_bn_20": f"{MID} --epochs 20 --batch-size 1024 --learning-rate 8e-3 --batch-norm",
    "w1024_b512_bn_10": f"{MID} --epochs 10 --batch-size 512 --learning-rate 5e-3 --batch-norm "
    "--hidden 1024 1024",
    "mid_b512_bn_nols_16": f"{MID} --epochs 16 --batch-size 512 --learning-rate 5e-3 "
    "--batch-norm --label-smoothing 0",
    "mid_b512_bn_12": f"{MID} --epochs 12 --batch-size 512 --learning-rate 5e-3 --batch-norm",
    "mid_b512_bn_d02_12": f"{MID} --epochs 12 --batch-size 512 --learning-rate 5e-3 --batch-norm "
    "--dropout 0.2",
    "mid_b512_bn_lr8_12": f"{MID} --epochs 12 --batch-size 512 --learning-rate 8e-3 --batch-norm",
    "mid_b512_bn_14": f"{MID} --epochs 14 --batch-size 512 --learning-rate 5e-3 --batch-norm",
    "mid_15": f"{MID} --epochs 15",
}


def train(name: str, flags: str, runs_dir: Path, seed: int) -> dict:
    """Train one recipe in its own process; its last epoch's validation metrics and time."""
    command = [sys.executable, "-m", "fashion_mlp", "train", *flags.split()]
    command += ["--seed", str(seed), "--name", name, "--runs-dir", str(runs_dir)]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    run_dir = max(runs_dir.glob(f"*-{name}"), key=lambda path: path.stat().st_mtime)
    history = read_history(run_dir / "history.csv")
    return {
        "recipe": name,
        "flags": flags,
        "seed": seed,
        "val_accuracy": history["val_accuracy"][-1],
        "best_val_accuracy": max(history["val_accuracy"]),
        "train_seconds": sum(history["seconds"]),
        "wall_seconds": wall,
        "run_dir": str(run_dir),
    }


def read_history(path: Path) -> dict[str, list[float]]:
    import csv

    columns: dict[str, list[float]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            for key, value in row.items():
                if value:
                    columns.setdefault(key, []).append(float(value))
    return columns


def mirrored_validation(run_dir: Path) -> dict:
    """A finished run's validation accuracy, alone and averaged with the mirrored images'."""
    import numpy as np

    from fashion_mlp.models import load_saved_model
    from fashion_mlp.runs import RunDir
    from fashion_mlp.subsets import integer_labels, load_run_data, split_validation

    run = RunDir(run_dir)
    config = run.read_config()
    data = load_run_data(config.data)
    _, _, x_val, y_val = split_validation(
        data.x_train, integer_labels(data.y_train), config.training.validation_split
    )
    model = load_saved_model(run.model_path)
    plain = model.predict(x_val, batch_size=2000, verbose=0)
    mirrored = model.predict(x_val[:, :, ::-1], batch_size=2000, verbose=0)
    return {
        "run": run.name,
        "val_accuracy": float(np.mean(plain.argmax(axis=1) == y_val)),
        "val_accuracy_mirror_averaged": float(np.mean((plain + mirrored).argmax(axis=1) == y_val)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated names")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default: 0)")
    parser.add_argument("--runs-dir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--output", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument(
        "--mirrored",
        nargs="+",
        type=Path,
        metavar="RUN",
        help="score these finished runs with mirror averaging; train nothing",
    )
    args = parser.parse_args()
    if args.mirrored:
        print("| run | val acc | mirror-averaged | gain |\n|---|---|---|---|")
        for run_dir in args.mirrored:
            row = mirrored_validation(run_dir)
            gain = row["val_accuracy_mirror_averaged"] - row["val_accuracy"]
            print(
                f"| {row['run']} | {row['val_accuracy']:.4f} | "
                f"{row['val_accuracy_mirror_averaged']:.4f} | {gain:+.4f} |"
            )
        return
    runs_dir = args.runs_dir or Path(tempfile.mkdtemp(prefix="search-"))
    rows = []
    for name in args.recipes.split(","):
        rows.append(train(name, RECIPES[name], runs_dir, args.seed))
        print(json.dumps(rows[-1]), flush=True)
        if args.output:
            args.output.write_text(json.dumps(rows, indent=2))
    print("\n| recipe | val acc (last epoch) | train s |\n|---|---|---|")
    for row in sorted(rows, key=lambda row: -row["val_accuracy"]):
        print(f"| {row['recipe']} | {row['val_accuracy']:.4f} | {row['train_seconds']:.0f} |")


if __name__ == "__main__":
    main()
