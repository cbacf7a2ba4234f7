# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .deform_conv2d import (BACKENDS, check_backend, deform_conv2d,
                            deform_conv2d_torch, resolve_backend)
from .max_filter2d import max_filter2d

__all__ = [
    'BACKENDS', 'check_backend', 'deform_conv2d', 'deform_conv2d_torch',
    'max_filter2d', 'resolve_backend'
]
