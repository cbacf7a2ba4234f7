# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .bottomup_post_processor import BottomupPostProcessor
from .check_num_keypoints import check_num_keypoints
from .check_samkr_state_dict import check_samkr_state_dict
from .dekr_protocol import (dekr_centre_kernel, floored_scores,
                            get_test_protocol, to_input_resolution)
from .flip_forward import flip_forward
from .forward_test import forward_test
from .heatmap_matching import heatmap_matching
from .input_scales import input_scales
from .merge_flipped import merge_flipped
from .merge_scales import merge_scales
from .pose_nms import pose_nms
from .resample import resample
from .state_dict_differences import state_dict_differences

__all__ = [
    'BottomupPostProcessor', 'check_num_keypoints', 'check_samkr_state_dict',
    'dekr_centre_kernel', 'floored_scores', 'get_test_protocol',
    'to_input_resolution', 'flip_forward', 'forward_test', 'heatmap_matching',
    'input_scales', 'merge_flipped', 'merge_scales', 'pose_nms', 'resample',
    'state_dict_differences'
]
