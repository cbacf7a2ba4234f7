# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .deform_conv2d import (BACKENDS, check_backend, deform_conv2d,
                            deform_conv2d_torch, resolve_backend)

__all__ = [
    'BACKENDS', 'check_backend', 'deform_conv2d', 'deform_conv2d_torch',
    'resolve_backend'
]
