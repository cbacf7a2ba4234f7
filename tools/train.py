# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""MMPose's ``tools/train.py`` with the SAMKR plugin loaded, taking the same
arguments::

    python tools/train.py configs/samkr/CONFIG.py [--work-dir DIR] [--amp]

``--amp`` trains in mixed precision: on a GPU as MMPose does (mmengine's
``AmpOptimWrapper``, float16 with dynamic loss scaling); without one, where
``AmpOptimWrapper`` refuses to start, in bfloat16 under CPU autocast
(``samkr_mmpose.engine.CPUAmpOptimWrapper``).
"""
import sys
from typing import List

from mmengine.device import get_device

from samkr_mmpose.utils import run_mmpose_tool


def cpu_amp_arguments(argv: List[str]) -> List[str]:
    """The command line for MMPose's ``train.py``: on a machine without an
    accelerator, ``--amp`` becomes ``CPUAmpOptimWrapper``.

    Args:
        argv (List[str]): The command line, ``sys.argv``.

    Returns:
        List[str]: The command line to run.
    """
    if '--amp' not in argv or get_device() != 'cpu':
        return argv
    # the config's other optim_wrapper settings stay: --cfg-options merges
    return [arg for arg in argv if arg != '--amp'
            ] + ['--cfg-options', 'optim_wrapper.type=CPUAmpOptimWrapper']


if __name__ == '__main__':
    sys.argv = cpu_amp_arguments(sys.argv)
    run_mmpose_tool('train.py')
