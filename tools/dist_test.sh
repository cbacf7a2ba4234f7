#!/usr/bin/env bash
# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Test a checkpoint on NPROC processes per machine with torchrun:
#
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [tools/test.py arguments]
#
# NNODES, NODE_RANK, MASTER_ADDR and PORT as for tools/dist_train.sh.
# Without CUDA, the processes run on the CPU over gloo. PYTHON picks the
# interpreter.
set -e

if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT NPROC [tools/test.py arguments]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
TOOLS=$(dirname "$0")

PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROC" \
    -m samkr_mmpose.engine.run_distributed \
    "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
