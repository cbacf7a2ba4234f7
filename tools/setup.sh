#!/usr/bin/env bash
# Idempotent set-up of a MMPose 1.3.2 stack with the samkr_mmpose plugin.
#
# Creates (or completes) a virtual environment, by default `.venv/` in the
# repository root, and installs torch, mmcv 2.1.0 with compiled ops, mmengine,
# mmdet, mmpose, openmim and this plugin (editable, with its test tools).
# Every step is skipped when its result is already there, so running it again
# costs seconds. The mmcv wheel (a 10-25 minute build on 2 cores) and the
# xtcocotools wheel are cached outside the repository, keyed by the Python,
# torch and CUDA versions they were built against.
#
# Environment variables:
#   PYTHON            interpreter used to create the venv (default: python3)
#   SAMKR_VENV        venv location (default: <repo>/.venv)
#   SAMKR_CACHE_DIR   wheel cache (default: ${XDG_CACHE_HOME:-~/.cache}/samkr_mmpose)
#   SAMKR_TORCH_SPEC  torch to install when the venv has none
#                     (default: "torch==2.14.1 torchvision==0.29.1")
#   MAX_JOBS          parallel compile jobs for mmcv (default: nproc)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
VENV=${SAMKR_VENV:-$ROOT/.venv}
CACHE_DIR=${SAMKR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/samkr_mmpose}
TORCH_SPEC=${SAMKR_TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
MMCV_VERSION=2.1.0
MMENGINE_VERSION=0.10.7
MMDET_VERSION=3.3.0
MMPOSE_VERSION=1.3.2
XTCOCOTOOLS_VERSION=1.14.3
STEP=0
START=$SECONDS

log() { echo "[setup $((SECONDS - START))s] $*"; }
step() { STEP=$((STEP + 1)); log "($STEP/9) $*"; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

PY=$VENV/bin/python
pip_install() { "$PY" -m pip install --progress-bar off -q "$@"; }
# True when the venv has distribution $1, at version $2 when given.
installed() {
  "$PY" - "$@" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    found = version(sys.argv[1])
except PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if len(sys.argv) < 3 or found == sys.argv[2] else 1)
EOF
}

step "checking the interpreter ($PYTHON)"
command -v "$PYTHON" >/dev/null || die "interpreter '$PYTHON' not found; set PYTHON=/path/to/python3.11"
"$PYTHON" - <<'EOF' || die "unsupported Python (see above); use Python 3.10, 3.11 or 3.12, e.g. PYTHON=python3.11 $0"
import sys
if not (3, 10) <= sys.version_info[:2] <= (3, 12):
    sys.exit(f'Python {sys.version.split()[0]} is not supported by '
             'mmcv 2.1.0 / MMPose 1.3.2 on current torch')
EOF

step "virtual environment at $VENV"
if [ ! -x "$PY" ]; then
  "$PYTHON" -m venv "$VENV"
  log "created $VENV"
fi
# torch 2.14 asks for setuptools >= 77; mmengine and mim still import
# pkg_resources, which setuptools 81 removes. ninja parallelises the builds.
pip_install 'pip>=23' 'setuptools>=77.0.3,<81' wheel ninja cython numpy

step "torch and torchvision"
if "$PY" -c 'import torch' 2>/dev/null; then
  TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)')
  log "keeping the installed torch $TORCH_VERSION"
  if ! "$PY" -c 'import torchvision' 2>/dev/null; then
    log "installing a torchvision that matches torch $TORCH_VERSION"
    pip_install torchvision "torch==$TORCH_VERSION"
  fi
else
  log "installing $TORCH_SPEC (a CUDA build of several GB)"
  # shellcheck disable=SC2086
  pip_install $TORCH_SPEC
fi
read -r TORCH_VERSION TORCH_CUDA HAS_GPU CXX_STD < <("$PY" - <<'EOF'
import os.path as osp
import torch
header = osp.join(osp.dirname(torch.__file__), 'include', 'torch', 'csrc',
                  'api', 'include', 'torch', 'all.h')
std = 'c++20' if '202002L' in open(header).read() else 'c++17'
print(torch.__version__, torch.version.cuda or 'none',
      int(torch.cuda.is_available()), std)
EOF
)
log "torch $TORCH_VERSION (CUDA runtime: $TORCH_CUDA, GPU visible: $HAS_GPU, headers need $CXX_STD)"

step "mmengine $MMENGINE_VERSION"
installed mmengine $MMENGINE_VERSION || pip_install "mmengine==$MMENGINE_VERSION"

step "mmcv $MMCV_VERSION with compiled ops"
PYVER=$("$PY" -c 'import sys; print("py%d%d" % sys.version_info[:2])')
MMCV_FLAVOUR=cpu
if [ "$HAS_GPU" = 1 ] && [ "$TORCH_CUDA" != none ] && command -v nvcc >/dev/null; then
  MMCV_FLAVOUR=cuda$(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
fi
MMCV_CACHE=$CACHE_DIR/mmcv-$MMCV_VERSION-$PYVER-torch$TORCH_VERSION-$MMCV_FLAVOUR
if installed mmcv $MMCV_VERSION && "$PY" -c 'import mmcv._ext' 2>/dev/null; then
  log "mmcv $MMCV_VERSION with ops already installed"
else
  if ! ls "$MMCV_CACHE"/mmcv-*.whl >/dev/null 2>&1; then
    log "no cached wheel in $MMCV_CACHE: building mmcv from the sdist ($MMCV_FLAVOUR ops, $CXX_STD; 10-25 minutes on 2 cores)"
    BUILD=$(mktemp -d)
    trap 'rm -rf "$BUILD"' EXIT
    # mmcv 2.1.0's setup.py imports pkg_resources APIs that setuptools >= 70
    # broke; an overlay keeps the venv's own (torch-compatible) setuptools.
    pip_install --no-warn-conflicts --target "$BUILD/overlay" 'setuptools<70'
    PYTHONPATH=$BUILD/overlay "$PY" -m pip download -q --no-deps \
      --no-binary :all: --no-build-isolation -d "$BUILD" "mmcv==$MMCV_VERSION"
    tar xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
    sed -i "s/-std=c++17/-std=$CXX_STD/g" "$BUILD/mmcv-$MMCV_VERSION/setup.py"
    mkdir -p "$MMCV_CACHE"
    FORCE_CUDA=0
    [ "$MMCV_FLAVOUR" = cpu ] || FORCE_CUDA=1
    (cd "$BUILD/mmcv-$MMCV_VERSION" &&
      PYTHONPATH=$BUILD/overlay MMCV_WITH_OPS=1 FORCE_CUDA=$FORCE_CUDA \
      MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PY" -m pip wheel --no-build-isolation \
      --no-deps -w "$BUILD/dist" .)
    mv "$BUILD"/dist/mmcv-*.whl "$MMCV_CACHE/"
    log "cached $(ls "$MMCV_CACHE")"
  else
    log "using the cached wheel in $MMCV_CACHE"
  fi
  pip_install --force-reinstall --no-deps "$MMCV_CACHE"/mmcv-*.whl
  pip_install addict packaging pillow pyyaml yapf opencv-python
fi

step "xtcocotools $XTCOCOTOOLS_VERSION built against the installed numpy"
NUMPY_MAJOR=$("$PY" -c 'import numpy; print(numpy.__version__.split(".")[0])')
XT_CACHE=$CACHE_DIR/xtcocotools-$XTCOCOTOOLS_VERSION-$PYVER-numpy$NUMPY_MAJOR
if "$PY" -c 'import xtcocotools.mask' 2>/dev/null; then
  log "xtcocotools already works"
else
  if ! ls "$XT_CACHE"/xtcocotools-*.whl >/dev/null 2>&1; then
    log "building xtcocotools from source (the PyPI wheel is built for numpy 1)"
    "$PY" -m pip wheel -q --no-deps --no-build-isolation \
      --no-binary xtcocotools -w "$XT_CACHE" "xtcocotools==$XTCOCOTOOLS_VERSION"
  else
    log "using the cached wheel in $XT_CACHE"
  fi
  pip_install --force-reinstall --no-deps "$XT_CACHE"/xtcocotools-*.whl
fi

step "mmdet $MMDET_VERSION, mmpose $MMPOSE_VERSION and openmim"
installed mmdet $MMDET_VERSION || pip_install "mmdet==$MMDET_VERSION"
if ! installed mmpose $MMPOSE_VERSION; then
  pip_install -r "$ROOT/requirements/mmpose.txt"
  pip_install --no-deps "mmpose==$MMPOSE_VERSION"
fi
if ! installed openmim; then
  # openmim's dataset downloader (opendatalab -> openxlab) pins setuptools
  # 60 and an old requests; `mim train/test/run` never import it.
  pip_install click colorama model-index pandas requests rich tabulate
  pip_install --no-deps openmim
fi

step "samkr_mmpose (editable) and its test tools"
pip_install -r "$ROOT/requirements/tests.txt"
installed samkr_mmpose || pip_install --no-deps --no-build-isolation -e "$ROOT"

step "checking the stack"
"$PY" - <<'EOF' || die "the installed stack does not import; see the traceback above"
import mmcv
import mmdet
import mmengine
import mmpose
import mmpose.apis  # noqa: F401
import mmpose.models  # noqa: F401
import torch
from mmcv.ops import DeformConv2d  # noqa: F401

import samkr_mmpose  # noqa: F401
print(f'torch {torch.__version__}, mmcv {mmcv.__version__} (ops), '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, '
      f'mmpose {mmpose.__version__}, samkr_mmpose {samkr_mmpose.__version__}')
EOF
log "done: activate with 'source ${VENV#"$ROOT"/}/bin/activate'"
