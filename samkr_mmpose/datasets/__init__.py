# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .checked_coco_style_dataset import (CheckedCocoDataset,
                                         CheckedCocoStyleDataset,
                                         CheckedCrowdPoseDataset)
from .synthetic_crowd import generate_synthetic_crowd, render_synthetic_image
from .transforms import LoadAnyImage, PackMultiScalePoseInputs

__all__ = [
    'CheckedCocoDataset', 'CheckedCocoStyleDataset', 'CheckedCrowdPoseDataset',
    'LoadAnyImage', 'PackMultiScalePoseInputs', 'generate_synthetic_crowd',
    'render_synthetic_image'
]
