# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .heatmap_matching import heatmap_matching
from .pose_nms import pose_nms

__all__ = ['heatmap_matching', 'pose_nms']
