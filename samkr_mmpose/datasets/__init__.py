# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .synthetic_crowd import generate_synthetic_crowd, render_synthetic_image
from .transforms import PackMultiScalePoseInputs

__all__ = [
    'generate_synthetic_crowd', 'render_synthetic_image',
    'PackMultiScalePoseInputs'
]
