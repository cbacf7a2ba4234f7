# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .checkpoint_safe_globals import (CHECKPOINT_SAFE_GLOBALS,
                                      history_buffer_getattr,
                                      register_checkpoint_safe_globals)
from .complexity import DEFORM_CONV_FLOP_HANDLES, model_complexity
from .run_mmpose_tool import run_mmpose_tool

__all__ = [
    'CHECKPOINT_SAFE_GLOBALS', 'DEFORM_CONV_FLOP_HANDLES',
    'history_buffer_getattr', 'model_complexity',
    'register_checkpoint_safe_globals', 'run_mmpose_tool'
]
