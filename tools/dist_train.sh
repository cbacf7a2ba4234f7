#!/usr/bin/env bash
# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Train on NPROC processes per machine with torchrun, one per GPU:
#
#   bash tools/dist_train.sh CONFIG NPROC [tools/train.py arguments]
#
# On several machines, start it on each with the same NNODES, MASTER_ADDR
# (the address of the machine of NODE_RANK=0) and PORT, and its NODE_RANK:
#
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 \
#       bash tools/dist_train.sh CONFIG 8
#
# Without CUDA, the processes train on the CPU over gloo
# (samkr_mmpose/engine/run_distributed.py). PYTHON picks the interpreter.
set -e

if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NPROC [tools/train.py arguments]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
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
    "$TOOLS/train.py" "$CONFIG" --launcher pytorch "${@:3}"
