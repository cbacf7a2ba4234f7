# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Pose estimation with an exported ONNX model and onnxruntime, NumPy and
OpenCV only.

The modules of this package import nothing of PyTorch, MMPose or the rest
of ``samkr_mmpose`` (only each other, relatively), so the folder can be
copied as a package of its own to a machine without them.
"""
from .bottomup_resize import bottomup_resize
from .grid_sample import grid_sample
from .heatmap_matching import heatmap_matching
from .merge_flipped import merge_flipped
from .onnx_bottomup_pose_estimator import (METADATA_KEY,
                                           OnnxBottomupPoseEstimator)
from .pose_nms import pose_nms
from .resample import resample
from .rescore_net import RescoreNet
from .spr_decode import spr_decode

__all__ = [
    'METADATA_KEY', 'OnnxBottomupPoseEstimator', 'RescoreNet',
    'bottomup_resize', 'grid_sample', 'heatmap_matching', 'merge_flipped',
    'pose_nms', 'resample', 'spr_decode'
]
