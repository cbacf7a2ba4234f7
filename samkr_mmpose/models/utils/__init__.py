# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .heatmap_matching import heatmap_matching

__all__ = ['heatmap_matching']
