# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""SAMKR as an MMPose 1.x plugin.

Importing the package registers its modules in MMPose's registries, so
configs can use them after
``custom_imports = dict(imports=['samkr_mmpose'])``, and lets torch's
weights-only ``torch.load`` read the checkpoints mmengine's runner saves
(see :mod:`samkr_mmpose.utils.checkpoint_safe_globals`).
"""
from .datasets import (PackMultiScalePoseInputs, generate_synthetic_crowd,
                       render_synthetic_image)
from .models import (AdaptiveConvBlock, AdaptiveHeatmapLoss, HeatmapScaleLoss,
                     MultiBackendDeformConv2d, MultiScaleBottomupPoseEstimator,
                     MultiScalePoseDataPreprocessor, SAMKRHead,
                     SubspaceAttention, heatmap_matching)
from .utils import register_checkpoint_safe_globals
from .version import __version__

register_checkpoint_safe_globals()

__all__ = [
    '__version__', 'AdaptiveConvBlock', 'AdaptiveHeatmapLoss',
    'HeatmapScaleLoss', 'MultiBackendDeformConv2d',
    'MultiScaleBottomupPoseEstimator', 'MultiScalePoseDataPreprocessor',
    'PackMultiScalePoseInputs', 'SAMKRHead', 'SubspaceAttention',
    'generate_synthetic_crowd', 'heatmap_matching', 'render_synthetic_image'
]
