#!/usr/bin/env bash
# Idempotent set-up of a MMPose 1.3.2 stack with the samkr_mmpose plugin.
#
# Creates (or completes) a virtual environment, by default `.venv/` in the
# repository root, and installs torch, mmcv 2.1.0 with compiled ops, mmengine,
# mmdet, mmpose, openmim and this plugin (editable, with its test tools).
# Every step is skipped when its result is already there, so running it again
# costs seconds and needs no network. The mmcv wheel (a 10-25 minute build on
# 2 cores) and the xtcocotools wheel are cached outside the repository, keyed
# by the Python, torch and CUDA versions (and GPU architectures) they were
# built for.
#
# Environment variables:
#   PYTHON            interpreter used to create the venv (default: python3)
#   SAMKR_VENV        environment to use (default: <repo>/.venv); an existing
#                     one, e.g. a conda env, keeps its torch
#   SAMKR_CACHE_DIR   wheel cache (default: ${XDG_CACHE_HOME:-~/.cache}/samkr_mmpose)
#   SAMKR_TORCH_SPEC  torch to install when the venv has none
#                     (default: "torch==2.14.1 torchvision==0.29.1")
#   TORCH_CUDA_ARCH_LIST  GPU architectures of a CUDA build of mmcv
#                     (default: those of the visible GPUs)
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
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT

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
check_python() {
  "$1" - <<'EOF' || die "unsupported Python (see above); use Python 3.10, 3.11 or 3.12, e.g. PYTHON=python3.11 $0"
import sys
if not (3, 10) <= sys.version_info[:2] <= (3, 12):
    sys.exit(f'Python {sys.version.split()[0]} ({sys.executable}) is not '
             'supported by mmcv 2.1.0 / MMPose 1.3.2 on current torch')
EOF
}
# Copy the wheels in $1 to the cache folder $2 in one rename, so that an
# interrupted run never leaves a truncated wheel that looks cached.
publish() {
  mkdir -p "$(dirname "$2")"
  rm -rf "$2.partial.$$"
  cp -r "$1" "$2.partial.$$"
  rm -rf "$2"
  mv "$2.partial.$$" "$2"
  log "cached $(ls "$2")"
}

step "checking the interpreter ($PYTHON) and the compiler"
command -v "$PYTHON" >/dev/null || die "interpreter '$PYTHON' not found; set PYTHON=/path/to/python3.11"
check_python "$PYTHON"
command -v "${CXX:-g++}" >/dev/null || command -v c++ >/dev/null ||
  die "no C++ compiler found (install g++): mmcv's ops and xtcocotools are compiled here"

step "environment at $VENV"
if [ ! -x "$PY" ]; then
  "$PYTHON" -m venv "$VENV" ||
    die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
  log "created $VENV"
elif ! "$PY" -m pip --version >/dev/null 2>&1; then
  [ "$VENV" = "$ROOT/.venv" ] || die "$PY has no working pip"
  log "$VENV has no working pip: creating it anew"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" ||
    die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
fi
check_python "$PY"
# torch 2.14 asks for setuptools >= 77; mmengine and mim still import
# pkg_resources, which setuptools 81 removes. ninja parallelises the builds.
pip_install 'pip>=23' 'setuptools>=77.0.3,<81' wheel ninja 'cython<4' 'numpy<3'

step "torch and torchvision"
if "$PY" -c 'import torch' 2>/dev/null; then
  TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)')
  log "keeping the installed torch $TORCH_VERSION"
  if ! "$PY" -c 'import torchvision' 2>/dev/null; then
    log "installing a torchvision that matches torch $TORCH_VERSION"
    pip_install torchvision "torch==$TORCH_VERSION" ||
      die "no torchvision for torch $TORCH_VERSION found; install a matching one and re-run"
  fi
else
  log "installing $TORCH_SPEC (a CUDA build of several GB)"
  # shellcheck disable=SC2086
  pip_install $TORCH_SPEC
fi
TORCH_INFO=$("$PY" - <<'EOF'
import os.path as osp

import torch

header = osp.join(osp.dirname(torch.__file__), 'include', 'torch', 'csrc',
                  'api', 'include', 'torch', 'all.h')
std = 'c++20' if '202002L' in open(header).read() else 'c++17'
gpu = torch.cuda.is_available() and torch.version.cuda is not None
cuda_home, archs = None, []
if gpu:
    from torch.utils.cpp_extension import CUDA_HOME as cuda_home
    archs = sorted({'%d.%d' % torch.cuda.get_device_capability(i)
                    for i in range(torch.cuda.device_count())})
print(torch.__version__, std, int(gpu), cuda_home or 'none',
      ';'.join(archs) or 'none')
EOF
) || die "torch does not import (see above)"
read -r TORCH_VERSION CXX_STD HAS_GPU CUDA_HOME_DIR GPU_ARCHS <<<"$TORCH_INFO"
log "torch $TORCH_VERSION (GPU usable: $HAS_GPU, CUDA toolkit: $CUDA_HOME_DIR, headers need $CXX_STD)"

step "mmengine $MMENGINE_VERSION"
installed mmengine $MMENGINE_VERSION || pip_install "mmengine==$MMENGINE_VERSION"

step "mmcv $MMCV_VERSION with compiled ops"
PYVER=$("$PY" -c 'import sys; print("py%d%d" % sys.version_info[:2])')
BUILD_ENV=(CUDA_VISIBLE_DEVICES= FORCE_CUDA=0)  # mmcv builds CUDA ops for any visible GPU
MMCV_FLAVOUR=cpu
if [ "$HAS_GPU" = 1 ] && [ "$CUDA_HOME_DIR" != none ]; then
  ARCHS=${TORCH_CUDA_ARCH_LIST:-$GPU_ARCHS}
  NVCC=$("$CUDA_HOME_DIR/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
  BUILD_ENV=(FORCE_CUDA=1 "TORCH_CUDA_ARCH_LIST=$ARCHS")
  MMCV_FLAVOUR=cuda$NVCC-sm${ARCHS//[^0-9A-Za-z]/_}
fi
MMCV_CACHE=$CACHE_DIR/mmcv-$MMCV_VERSION-$PYVER-torch$TORCH_VERSION-$MMCV_FLAVOUR
if installed mmcv $MMCV_VERSION && "$PY" -c 'import mmcv._ext' 2>/dev/null; then
  log "mmcv $MMCV_VERSION with ops already installed"
else
  if ! ls "$MMCV_CACHE"/mmcv-*.whl >/dev/null 2>&1; then
    log "no cached wheel in $MMCV_CACHE: building mmcv from the sdist ($MMCV_FLAVOUR ops, $CXX_STD; 10-25 minutes on 2 cores)"
    # mmcv 2.1.0's setup.py imports pkg_resources APIs that setuptools >= 70
    # broke; an overlay keeps the venv's own (torch-compatible) setuptools.
    pip_install --no-warn-conflicts --target "$BUILD/overlay" 'setuptools<70'
    PYTHONPATH=$BUILD/overlay "$PY" -m pip download -q --no-deps \
      --no-binary :all: --no-build-isolation -d "$BUILD" "mmcv==$MMCV_VERSION"
    tar xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
    sed -i "s/-std=c++17/-std=$CXX_STD/g" "$BUILD/mmcv-$MMCV_VERSION/setup.py"
    (cd "$BUILD/mmcv-$MMCV_VERSION" &&
      env "${BUILD_ENV[@]}" PYTHONPATH="$BUILD/overlay" MMCV_WITH_OPS=1 \
      MAX_JOBS="${MAX_JOBS:-$(nproc)}" "$PY" -m pip wheel \
      --no-build-isolation --no-deps -w "$BUILD/mmcv-dist" .)
    publish "$BUILD/mmcv-dist" "$MMCV_CACHE"
  else
    log "using the cached wheel in $MMCV_CACHE"
  fi
  pip_install --force-reinstall --no-deps "$MMCV_CACHE"/mmcv-*.whl
  pip_install addict packaging pillow pyyaml yapf opencv-python
fi

step "xtcocotools $XTCOCOTOOLS_VERSION built against the installed numpy"
NUMPY_MAJOR=$("$PY" -c 'import numpy; print(numpy.__version__.split(".")[0])')
XT_CACHE=$CACHE_DIR/xtcocotools-$XTCOCOTOOLS_VERSION-owndata-$PYVER-numpy$NUMPY_MAJOR
# decoding an RLE mask (COCO's crowd regions, BottomupGetHeatmapMask) is
# what breaks on numpy 2, so that is what is checked
XT_CHECK='import numpy as np, xtcocotools.mask as m
m.decode(m.encode(np.asfortranarray(np.ones((2, 2, 1), np.uint8))))'
if "$PY" -c "$XT_CHECK" 2>/dev/null; then
  log "xtcocotools already works"
else
  if ! ls "$XT_CACHE"/xtcocotools-*.whl >/dev/null 2>&1; then
    log "building xtcocotools from source (the PyPI wheel is built for numpy 1)"
    "$PY" -m pip download -q --no-deps --no-build-isolation \
      --no-binary :all: -d "$BUILD/xt-sdist" "xtcocotools==$XTCOCOTOOLS_VERSION"
    tar -xzf "$BUILD"/xt-sdist/xtcocotools-*.tar.gz -C "$BUILD/xt-sdist"
    # numpy 2's Cython declarations only have the NPY_ARRAY_ name (numpy 1's
    # have both); the old one compiles to a Python lookup that fails in decode
    sed -i 's/np\.NPY_OWNDATA/np.NPY_ARRAY_OWNDATA/' \
      "$BUILD"/xt-sdist/xtcocotools-*/xtcocotools/_mask.pyx
    "$PY" -m pip wheel -q --no-deps --no-build-isolation \
      -w "$BUILD/xt-dist" "$BUILD"/xt-sdist/xtcocotools-*/
    publish "$BUILD/xt-dist" "$XT_CACHE"
  else
    log "using the cached wheel in $XT_CACHE"
  fi
  pip_install --force-reinstall --no-deps "$XT_CACHE"/xtcocotools-*.whl
  "$PY" -c "$XT_CHECK" || die "xtcocotools cannot decode masks after its build"
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

step "samkr_mmpose (editable), its test tools and ONNX Runtime"
pip_install -r "$ROOT/requirements/tests.txt" -r "$ROOT/requirements/deploy.txt"
# asked from / : from the repository root the package imports uninstalled
PLUGIN_ROOT=$(cd / && "$PY" -c 'import os.path as osp, samkr_mmpose
print(osp.dirname(osp.dirname(osp.realpath(samkr_mmpose.__file__))))' \
  2>/dev/null || true)
if [ "$PLUGIN_ROOT" != "$(realpath "$ROOT")" ]; then
  pip_install --no-deps --no-build-isolation -e "$ROOT"
fi

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
