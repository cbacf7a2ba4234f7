# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""SAMKR as an MMPose 1.x plugin.

Importing the package registers its modules in MMPose's ``MODELS`` registry,
so configs can use them after
``custom_imports = dict(imports=['samkr_mmpose'])``.
"""
from .models import (AdaptiveConvBlock, AdaptiveHeatmapLoss, HeatmapScaleLoss,
                     MultiBackendDeformConv2d, SAMKRHead, SubspaceAttention)
from .version import __version__

__all__ = [
    '__version__', 'AdaptiveConvBlock', 'AdaptiveHeatmapLoss',
    'HeatmapScaleLoss', 'MultiBackendDeformConv2d', 'SAMKRHead',
    'SubspaceAttention'
]
