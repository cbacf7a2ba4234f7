# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .multi_scale_bottomup_pose_estimator import \
    MultiScaleBottomupPoseEstimator

__all__ = ['MultiScaleBottomupPoseEstimator']
