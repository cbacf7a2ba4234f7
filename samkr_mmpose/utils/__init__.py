# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .best_match_oks import best_match_oks
from .check_keypoint_annotation import check_keypoint_annotation
from .check_keypoint_consistency import check_keypoint_consistency
from .checkpoint_safe_globals import (CHECKPOINT_SAFE_GLOBALS,
                                      history_buffer_getattr,
                                      register_checkpoint_safe_globals)
from .complexity import (DEFORM_CONV_FLOP_HANDLES, PAPER_TABLE3,
                         config_complexity, model_complexity)
from .fit_rescore_net import fit_rescore_net
from .rescore_samples import collect_rescore_samples
from .run_mmpose_tool import run_mmpose_tool

__all__ = [
    'CHECKPOINT_SAFE_GLOBALS', 'DEFORM_CONV_FLOP_HANDLES', 'PAPER_TABLE3',
    'best_match_oks', 'check_keypoint_annotation',
    'check_keypoint_consistency', 'collect_rescore_samples', 'fit_rescore_net',
    'config_complexity', 'history_buffer_getattr', 'model_complexity',
    'register_checkpoint_safe_globals', 'run_mmpose_tool'
]
