# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .batched_bottomup_pose_estimator import BatchedBottomupPoseEstimator
from .multi_scale_bottomup_pose_estimator import \
    MultiScaleBottomupPoseEstimator

__all__ = ['BatchedBottomupPoseEstimator', 'MultiScaleBottomupPoseEstimator']
