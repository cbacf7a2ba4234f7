# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .adaptive_conv_block import AdaptiveConvBlock
from .multi_backend_deform_conv2d import MultiBackendDeformConv2d
from .subspace_attention import SubspaceAttention

__all__ = [
    'AdaptiveConvBlock', 'MultiBackendDeformConv2d', 'SubspaceAttention'
]
