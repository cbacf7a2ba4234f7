# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Run a training or test script in a process that ``torchrun`` started::

    torchrun --nproc_per_node=N -m samkr_mmpose.engine.run_distributed \\
        tools/train.py CONFIG --launcher pytorch [ARGS]

``tools/dist_train.sh`` and ``tools/dist_test.sh`` call it so.
"""
import os
import runpy
import sys
from typing import List

import torch
import torch.distributed as dist

from .cpu_distributed_data_parallel import CPUDistributedDataParallel


def run_distributed(argv: List[str]) -> None:
    """Run a script in a ``torchrun`` worker, on machines without CUDA
    first joining the job's process group with the gloo backend.

    On a GPU machine the script runs unchanged: mmengine's runner joins
    the process group (``env_cfg.dist_cfg``, NCCL by default). mmengine
    0.10 cannot do so without CUDA: it calls ``torch.cuda.set_device``
    first. So there the process joins with gloo before the script starts,
    which mmengine then uses, and the script gets ``--cfg-options
    model_wrapper_cfg.type=CPUDistributedDataParallel``, the wrapper that
    trains CPU models and synchronises ``sync_bn='torch'`` layers on the
    CPU. The script must take ``--cfg-options``, as MMPose's tools do.

    Args:
        argv (List[str]): The script's path and its arguments.
    """
    if not argv:
        raise ValueError('run_distributed needs the script to run, got no '
                         'arguments')
    script, *args = argv
    if 'LOCAL_RANK' not in os.environ:
        raise ValueError(f'run_distributed runs {script!r} in a process '
                         'that torchrun started, but LOCAL_RANK is not set')
    if not torch.cuda.is_available() and not dist.is_initialized():
        dist.init_process_group(backend='gloo')
        args += [
            '--cfg-options',
            f'model_wrapper_cfg.type={CPUDistributedDataParallel.__name__}'
        ]
    sys.argv = [script, *args]
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    run_distributed(sys.argv[1:])
