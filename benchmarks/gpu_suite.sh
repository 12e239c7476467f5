#!/usr/bin/env bash
# The GPU benchmarks in one go (issue 22): bench_train, bench_population up to K = 1,024
# notebook models (the goal: 1,000 models x 10 epochs in under 15 s on one H200), and the
# `fast` and `best` presets; each step has its own time limit, about 8 minutes in all.
#
#   pip install -e '.[cuda]' && bash benchmarks/gpu_suite.sh [OUTPUT_FOLDER]
#
# It refuses (exit 2) where JAX sees no GPU: the CPU figures come from the scripts themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
OUT=${1:-gpu_suite}

backend=$("$PYTHON" -c 'import fashion_mlp, jax; print(jax.default_backend())' 2>/dev/null) \
    || backend="unavailable (fashion_mlp or jax did not import)"
if [ "$backend" != "gpu" ]; then
    echo "gpu_suite.sh: no GPU: JAX's backend here is $backend, not gpu." >&2
    echo "Run it on a machine with an NVIDIA GPU, after: pip install -e '.[cuda]'" >&2
    exit 2
fi

mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
step() {  # step SECONDS NAME COMMAND...: run one benchmark, its output also in OUT/NAME.txt
    local seconds=$1 name=$2
    shift 2
    echo "== $name (at most ${seconds} s)"
    timeout "$seconds" "$@" 2>&1 | tee "$OUT/$name.txt" || echo "== $name: stopped or failed"
}
step 90 bench_train "$PYTHON" benchmarks/bench_train.py --epochs 3 --rounds 1 \
    --steps-per-execution 100 --output "$OUT/bench_train.json"
step 210 bench_population "$PYTHON" benchmarks/bench_population.py --epochs 10 --rounds 1 \
    --sizes 32,128,1024,1024/1024 --output "$OUT/bench_population.json"
step 45 preset_fast "$PYTHON" -m fashion_mlp train --preset fast --runs-dir "$OUT/runs"
step 120 preset_best "$PYTHON" -m fashion_mlp train --preset best --runs-dir "$OUT/runs"

"$PYTHON" - "$OUT" <<'PY'
"""The presets' line of the table: test accuracy and training seconds of each run."""
import json
import sys
from pathlib import Path

print(f"{'preset run':<40} {'test acc':>9} {'train s':>8}")
for metrics in sorted(Path(sys.argv[1], "runs").glob("*/metrics.json")):
    values = json.loads(metrics.read_text())
    accuracy, seconds = values["test_accuracy"], values["timings"]["train_seconds"]
    print(f"{metrics.parent.name:<40} {accuracy:>9.2%} {seconds:>8.1f}")
PY
