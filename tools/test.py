# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""MMPose's ``tools/test.py`` with the SAMKR plugin loaded, taking the same
arguments::

    python tools/test.py configs/samkr/CONFIG.py CHECKPOINT [--work-dir DIR]
"""
from samkr_mmpose.utils import run_mmpose_tool

if __name__ == '__main__':
    run_mmpose_tool('test.py')
