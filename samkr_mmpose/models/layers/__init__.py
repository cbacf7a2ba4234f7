# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from .adaptive_conv_block import AdaptiveConvBlock
from .check_displacement_branch import check_displacement_branch
from .displacement_branch_layout import DEKR_LAYOUT, DisplacementBranchLayout
from .multi_backend_deform_conv2d import MultiBackendDeformConv2d
from .scale_branch import ScaleBranch
from .subspace_attention import SubspaceAttention

__all__ = [
    'AdaptiveConvBlock', 'DEKR_LAYOUT', 'DisplacementBranchLayout',
    'MultiBackendDeformConv2d', 'ScaleBranch', 'SubspaceAttention',
    'check_displacement_branch'
]
