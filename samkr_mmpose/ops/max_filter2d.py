# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import torch
import torch.nn.functional as F
from torch import Tensor


def max_filter2d(x: Tensor, kernel_size: int) -> Tensor:
    """Maximum over the ``kernel_size`` x ``kernel_size`` window centred
    on every pixel, the window cut at the border.

    Equal to ``F.max_pool2d(x, kernel_size, 1, kernel_size // 2)``, which
    computes it on other devices. On CPU it is a separable filter of
    element-wise maxima of shifted views, about twice as fast as PyTorch's
    CPU max-pool at stride 1 on large maps, differentiable and traceable
    to ONNX; the gradient of a tie is then split between the tied inputs
    (max-pool gives it to one of them).

    Args:
        x (Tensor): Input of shape (..., H, W).
        kernel_size (int): Odd window side.

    Returns:
        Tensor: The filtered input, of the shape of ``x``.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f'kernel_size must be a positive odd integer, got {kernel_size}')
    if x.device.type != 'cpu':
        return F.max_pool2d(x, kernel_size, 1, kernel_size // 2)
    for dim in (-1, -2):
        # a window of 2r + 1 is r windows of 3, each cut at the border
        for _ in range(min(kernel_size // 2, x.shape[dim] - 1)):
            x = _max3(x, dim)
    return x


def _max3(x: Tensor, dim: int) -> Tensor:
    """Maximum over a window of 3 along ``dim``, cut at the border."""
    size = x.shape[dim]
    pairs = torch.maximum(
        x.narrow(dim, 0, size - 1), x.narrow(dim, 1, size - 1))
    inner = torch.maximum(
        pairs.narrow(dim, 0, size - 2), pairs.narrow(dim, 1, size - 2))
    return torch.cat(
        (pairs.narrow(dim, 0, 1), inner, pairs.narrow(dim, size - 2, 1)), dim)
