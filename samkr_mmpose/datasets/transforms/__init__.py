# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .pack_multi_scale_pose_inputs import PackMultiScalePoseInputs

__all__ = ['PackMultiScalePoseInputs']
