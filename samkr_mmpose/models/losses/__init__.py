# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .adaptive_heatmap_loss import AdaptiveHeatmapLoss
from .heatmap_scale_loss import HeatmapScaleLoss

__all__ = ['AdaptiveHeatmapLoss', 'HeatmapScaleLoss']
