#!/usr/bin/env bash
# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# Train on a Slurm cluster, one task per GPU:
#
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR \
#       [tools/train.py arguments]
#
# GPUS (default 8) tasks in all, GPUS_PER_NODE (default 8) per node, each
# with CPUS_PER_TASK (default 5) cores; SRUN_ARGS adds srun options (e.g.
# "--time=72:00:00"), MASTER_PORT the rendezvous port (default 29500).
# A job stopped by its time limit goes on with the same command plus
# --resume, from the last checkpoint in WORK_DIR.
set -e

if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
PYTHON=${PYTHON:-python}
TOOLS=$(dirname "$0")

# SRUN_ARGS is a list of options: split on spaces
# shellcheck disable=SC2086
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
srun --partition="$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$TOOLS/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher=slurm "${@:5}"
