# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .load_any_image import LoadAnyImage
from .pack_multi_scale_pose_inputs import PackMultiScalePoseInputs

__all__ = ['LoadAnyImage', 'PackMultiScalePoseInputs']
