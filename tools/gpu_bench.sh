#!/usr/bin/env bash
# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Benchmark SAMKR against MMPose's DEKR on a CUDA machine with torch and
# torchvision but no OpenMMLab packages and no network.
#
# Usage: bash tools/gpu_bench.sh WHEEL_DIR OUT_DIR [tools/benchmark.py args]
#
# WHEEL_DIR holds wheels of mmengine, mmcv (its CPU ops are enough), mmdet,
# mmpose and their pure-Python requirements for the machine's Python (see
# docs/benchmarks.md). They are installed with --no-index --no-deps into a
# scratch folder put on PYTHONPATH; the plugin is used from this checkout.
# The tables, the raw figures, the log and the machine's description are
# written to OUT_DIR.
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '5,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
WHEELS=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}

shopt -s nullglob
wheels=("$WHEELS"/*.whl)
if [ ${#wheels[@]} -eq 0 ]; then
    echo "no wheels in $WHEELS" >&2
    exit 1
fi
SITE=$(mktemp -d)/site
echo "[gpu_bench] installing ${#wheels[@]} wheels into $SITE"
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
    --target "$SITE" "${wheels[@]}"
export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"

cd "$ROOT"
"$PYTHON" - <<'EOF' | tee "$OUT/environment.txt"
import platform

import mmcv
import mmengine
import torch
import torchvision
from mmcv.ops import get_compiling_cuda_version

import mmpose
import samkr_mmpose

if not torch.cuda.is_available():
    raise SystemExit('[gpu_bench] torch sees no CUDA device')
print(f'python {platform.python_version()}, torch {torch.__version__}, '
      f'torchvision {torchvision.__version__}, CUDA {torch.version.cuda}')
print(f'mmengine {mmengine.__version__}, mmcv {mmcv.__version__} (CUDA ops: '
      f'{get_compiling_cuda_version()}), mmpose {mmpose.__version__}, '
      f'samkr_mmpose {samkr_mmpose.__version__}')
print(f'device: {torch.cuda.get_device_name()}')
EOF
if command -v nvidia-smi > /dev/null; then
    nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
fi

echo "[gpu_bench] running tools/benchmark.py $*"
"$PYTHON" tools/benchmark.py --device cuda --compile --out-dir "$OUT" "$@" \
    2>&1 | tee "$OUT/benchmark.log"
