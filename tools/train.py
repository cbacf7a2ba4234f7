# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""MMPose's ``tools/train.py`` with the SAMKR plugin loaded, taking the same
arguments::

    python tools/train.py configs/samkr/CONFIG.py [--work-dir DIR]
"""
from samkr_mmpose.utils import run_mmpose_tool

if __name__ == '__main__':
    run_mmpose_tool('train.py')
