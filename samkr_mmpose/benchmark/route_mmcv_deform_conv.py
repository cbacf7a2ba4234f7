# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""mmcv's deformable convolution on torchvision's CUDA kernel."""
import contextlib

import torch

from samkr_mmpose.ops import deform_conv2d
from .patched import patched


def _routed(x,
            offset,
            weight,
            stride,
            padding,
            dilation,
            groups,
            deform_groups,
            bias=False,
            im2col_step=32):
    """``mmcv.ops.deform_conv.deform_conv2d``'s signature on
    torchvision's kernel."""
    return deform_conv2d(x, offset, weight, stride, padding, dilation, groups,
                         deform_groups, 'torchvision')


@contextlib.contextmanager
def route_mmcv_deform_conv(device: torch.device):
    """While the block runs, run mmcv's ``DeformConv2d`` on CUDA tensors
    with torchvision's kernel when mmcv was built without CUDA kernels (the
    wheels of the GPU runs); the layouts are the same. mmcv's function is
    restored afterwards.

    Args:
        device (torch.device): The benchmark's device.

    Yields:
        bool: Whether mmcv's kernel is routed.
    """
    from mmcv.ops import deform_conv, get_compiling_cuda_version

    if device.type != 'cuda' or (get_compiling_cuda_version()
                                 != 'not available'):
        yield False
        return
    with patched(deform_conv, 'deform_conv2d', _routed):
        yield True
