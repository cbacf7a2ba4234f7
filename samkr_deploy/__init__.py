# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Pose estimation with an exported ONNX model and onnxruntime, NumPy and
OpenCV only.

The modules of this package import nothing of PyTorch, MMPose or the rest
of ``samkr_mmpose`` (only each other, relatively), so the folder can be
copied as a package of its own to a machine without them. onnxruntime is
imported with :class:`OnnxBottomupPoseEstimator`, on first use: the NumPy
functions (which ``samkr_mmpose`` shares, e.g. :func:`check_input_size`)
need only NumPy and OpenCV.
"""
from .bottomup_resize import bottomup_resize
from .check_image import check_image
from .check_input_size import MAX_INPUT_SIDE, check_input_size
from .deploy_settings import (METADATA_KEY, SCHEMA_VERSION, check_settings,
                              dump_settings, load_settings)
from .grid_sample import grid_sample
from .heatmap_matching import heatmap_matching
from .merge_flipped import merge_flipped
from .pose_nms import pose_nms
from .resample import resample
from .rescore_net import RescoreNet
from .spr_decode import spr_decode

__all__ = [
    'MAX_INPUT_SIDE', 'METADATA_KEY', 'OnnxBottomupPoseEstimator',
    'RescoreNet', 'SCHEMA_VERSION', 'bottomup_resize', 'check_image',
    'check_input_size', 'check_settings', 'dump_settings', 'grid_sample',
    'heatmap_matching', 'load_settings', 'merge_flipped', 'pose_nms',
    'resample', 'spr_decode'
]


def __getattr__(name: str):
    """Import :class:`OnnxBottomupPoseEstimator`, and so onnxruntime, on
    first use."""
    if name == 'OnnxBottomupPoseEstimator':
        from .onnx_bottomup_pose_estimator import OnnxBottomupPoseEstimator
        return OnnxBottomupPoseEstimator
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
