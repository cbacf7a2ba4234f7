# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .multi_scale_pose_data_preprocessor import MultiScalePoseDataPreprocessor

__all__ = ['MultiScalePoseDataPreprocessor']
