# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""SAMKR as an MMPose 1.x plugin.

Importing the package registers its modules in MMPose's registries, so
configs can use them after
``custom_imports = dict(imports=['samkr_mmpose'])``, lets torch's
weights-only ``torch.load`` read the checkpoints mmengine's runner saves
(see :mod:`samkr_mmpose.utils.checkpoint_safe_globals`), draws with
MMPose's ``PoseLocalVisualizer`` on numpy 2
(:class:`Numpy2PoseLocalVisualizer`) and makes ``Runner.from_cfg`` honour
a config's ``runner_type`` (:func:`enable_runner_type`).
"""
from .datasets import (CheckedCocoDataset, CheckedCrowdPoseDataset,
                       LoadAnyImage, PackMultiScalePoseInputs,
                       generate_synthetic_crowd, render_synthetic_image)
from .engine import (AtomicCheckpointHook, AtomicLocalBackend,
                     CPUAmpOptimWrapper, CPUDistributedDataParallel,
                     CPUSyncBatchNorm, KeypointConsistencyHook,
                     NonFiniteLossHook, ResumableEpochBasedTrainLoop,
                     SAMKRHardenedRunner, enable_runner_type)
from .models import (AdaptiveConvBlock, AdaptiveHeatmapLoss,
                     BatchedBottomupPoseEstimator, BottomupPostProcessor,
                     DisplacementBranchLayout, HeatmapScaleLoss,
                     MultiBackendDeformConv2d, MultiScaleBottomupPoseEstimator,
                     MultiScalePoseDataPreprocessor, SAMKRHead, ScaleBranch,
                     SubspaceAttention, flip_forward, forward_test,
                     heatmap_matching, merge_flipped, merge_scales, pose_nms,
                     resample)
from .utils import register_checkpoint_safe_globals
from .version import __version__
from .visualization import Numpy2PoseLocalVisualizer

register_checkpoint_safe_globals()
enable_runner_type()

__all__ = [
    '__version__', 'AdaptiveConvBlock', 'AdaptiveHeatmapLoss',
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'CPUDistributedDataParallel',
    'CPUSyncBatchNorm', 'ResumableEpochBasedTrainLoop',
    'BatchedBottomupPoseEstimator', 'BottomupPostProcessor',
    'CPUAmpOptimWrapper', 'DisplacementBranchLayout', 'CheckedCocoDataset',
    'CheckedCrowdPoseDataset', 'HeatmapScaleLoss', 'KeypointConsistencyHook',
    'LoadAnyImage', 'NonFiniteLossHook', 'MultiBackendDeformConv2d',
    'MultiScaleBottomupPoseEstimator', 'MultiScalePoseDataPreprocessor',
    'Numpy2PoseLocalVisualizer', 'PackMultiScalePoseInputs', 'SAMKRHead',
    'SAMKRHardenedRunner', 'ScaleBranch', 'SubspaceAttention', 'flip_forward',
    'forward_test', 'generate_synthetic_crowd', 'heatmap_matching',
    'merge_flipped', 'merge_scales', 'pose_nms', 'render_synthetic_image',
    'resample'
]
