# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Deformable 2D convolution (DCNv1) with interchangeable backends.

All backends share mmcv's conventions: the offset tensor has
``2 * deform_groups * kh * kw`` channels laid out as ``(dy, dx)`` pairs per
kernel position (row-major) per deformable group, and a sample that falls
outside the image reads zeros through bilinear interpolation.
"""
import math
from functools import lru_cache, partial
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.utils import _pair

from .fastest_backend import fastest_backend

IntOrPair = Union[int, Tuple[int, int]]

BACKENDS = ('auto', 'mmcv', 'torchvision', 'torch')
# where ``'auto'`` times the kernels instead of taking resolve_backend's
MEASURED_DEVICE_TYPES = ('cuda', )


def check_backend(backend: str) -> None:
    """Raise a ``ValueError`` unless ``backend`` is one of :data:`BACKENDS`.

    Args:
        backend (str): The backend name to check.
    """
    if backend not in BACKENDS:
        raise ValueError(f'Unknown deformable convolution backend '
                         f'{backend!r}; expected one of {BACKENDS}')


def resolve_backend(backend: str, device: torch.device) -> str:
    """Turn ``backend`` into a concrete backend for tensors on ``device``
    without measuring: ``'auto'`` is ``'torch'`` on CPU and
    ``'torchvision'`` elsewhere (see :func:`deform_conv2d` for when
    ``'auto'`` measures instead).

    Args:
        backend (str): One of :data:`BACKENDS`.
        device (torch.device): The device of the input tensor.

    Returns:
        str: ``'mmcv'``, ``'torchvision'`` or ``'torch'``.
    """
    check_backend(backend)
    if backend != 'auto':
        return backend
    # On CPU the compiled im2col kernels of mmcv and torchvision are 6-13x
    # slower than one grid_sample plus a batched matmul (docs/benchmarks.md);
    # torchvision's CUDA kernel works with any mmcv build, CPU-only ones too.
    return 'torchvision' if device.type == 'cuda' else 'torch'


def deform_conv2d_torch(x: Tensor,
                        offset: Tensor,
                        weight: Tensor,
                        stride: IntOrPair = 1,
                        padding: IntOrPair = 0,
                        dilation: IntOrPair = 1,
                        groups: int = 1,
                        deform_groups: int = 1) -> Tensor:
    """Deformable convolution in plain PyTorch operators.

    Every kernel tap is bilinearly sampled with one ``grid_sample`` call over
    all taps and deformable groups, then the grouped convolution becomes one
    batched matrix product. Only differentiable, exportable operators are
    used, so it runs on any device and traces to ONNX. Outputs and gradients
    equal mmcv's, except the offset gradient at sampling positions exactly
    on the pixel grid: bilinear interpolation has a kink there, and the two
    kernels may return the derivatives of different sides.

    Args:
        x (Tensor): Input of shape (B, C, H, W).
        offset (Tensor): Offsets of shape (B, 2 * D * kh * kw, Ho, Wo).
        weight (Tensor): Weight of shape (O, C / groups, kh, kw).
        stride (int | Tuple[int, int]): Convolution stride.
        padding (int | Tuple[int, int]): Zero padding on each side.
        dilation (int | Tuple[int, int]): Spacing between kernel taps.
        groups (int): Convolution groups.
        deform_groups (int): Groups of channels sharing one offset field.

    Returns:
        Tensor: Output of shape (B, O, Ho, Wo).
    """
    stride, padding, dilation = map(_pair, (stride, padding, dilation))
    B, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    K = kh * kw
    Ho, Wo = ((size + 2 * pad - dil * (k - 1) - 1) // step + 1
              for size, pad, dil, k, step in zip((H, W), padding, dilation, (
                  kh, kw), stride))
    expected = (B, 2 * deform_groups * K, Ho, Wo)
    if tuple(offset.shape) != expected:
        raise ValueError(f'offset has shape {tuple(offset.shape)}, expected '
                         f'{expected} for input {tuple(x.shape)}')
    if C != Cg * groups or C % deform_groups or O % groups:
        raise ValueError(
            f'input channels ({C}), weight {tuple(weight.shape)}, groups '
            f'({groups}) and deform_groups ({deform_groups}) do not match')
    # sampling coordinates need more than half precision: at 128 px a
    # float16 coordinate is only good to 1/16 px
    dtype = torch.promote_types(
        torch.promote_types(x.dtype, offset.dtype), torch.float32)
    arange = partial(torch.arange, device=x.device, dtype=dtype)

    # regular sampling grid of every tap, normalised for grid_sample with
    # align_corners=False (which also holds for inputs one pixel wide):
    # pixel x is at (2x + 1) / W - 1; (K, 1, Wo) and (K, Ho, 1)
    tap_y = (arange(kh) * dilation[0]).repeat_interleave(kw)
    tap_x = (arange(kw) * dilation[1]).repeat(kh)
    rows = arange(Ho) * stride[0] - padding[0]
    cols = arange(Wo) * stride[1] - padding[1]
    base_x = (2 * (tap_x[:, None, None] + cols) + 1) / W - 1
    base_y = (2 * (tap_y[:, None, None] + rows[:, None]) + 1) / H - 1

    offset = offset.to(dtype).view(B, deform_groups, K, 2, Ho, Wo)
    grid = torch.stack((torch.add(base_x, offset[:, :, :, 1], alpha=2 / W),
                        torch.add(base_y, offset[:, :, :, 0], alpha=2 / H)),
                       dim=-1)
    grid = grid.view(B * deform_groups, K * Ho, Wo, 2)

    sampled = F.grid_sample(
        x.to(dtype).reshape(B * deform_groups, C // deform_groups, H, W),
        grid,
        mode='bilinear',
        padding_mode='zeros',
        align_corners=False)
    # the product runs in the input's precision, as a convolution would
    columns = sampled.to(x.dtype).view(B, groups, Cg * K, Ho * Wo)
    weight = weight.reshape(groups, O // groups, Cg * K)
    return torch.matmul(weight, columns).view(B, O, Ho, Wo)


def deform_conv2d(x: Tensor,
                  offset: Tensor,
                  weight: Tensor,
                  stride: IntOrPair = 1,
                  padding: IntOrPair = 0,
                  dilation: IntOrPair = 1,
                  groups: int = 1,
                  deform_groups: int = 1,
                  backend: str = 'auto') -> Tensor:
    """Deformable convolution computed by the chosen backend.

    Args:
        x (Tensor): Input of shape (B, C, H, W).
        offset (Tensor): Offsets of shape (B, 2 * D * kh * kw, Ho, Wo).
        weight (Tensor): Weight of shape (O, C / groups, kh, kw).
        stride (int | Tuple[int, int]): Convolution stride.
        padding (int | Tuple[int, int]): Zero padding on each side.
        dilation (int | Tuple[int, int]): Spacing between kernel taps.
        groups (int): Convolution groups.
        deform_groups (int): Groups of channels sharing one offset field.
        backend (str): ``'mmcv'`` (mmcv.ops), ``'torchvision'``
            (torchvision.ops), ``'torch'`` (:func:`deform_conv2d_torch`) or
            ``'auto'``: on CUDA the kernel measured fastest (forward, and
            backward when gradients are needed) for these shapes, dtype and
            settings, once per process; otherwise, while ``torch.compile``
            traces, and while a CUDA graph captures a call not measured
            before, :func:`resolve_backend`'s.

    Returns:
        Tensor: Output of shape (B, O, Ho, Wo).
    """
    if (backend == 'auto' and x.device.type in MEASURED_DEVICE_TYPES
            and not torch.compiler.is_compiling()):
        backend = _fastest_backend(x, offset, weight, stride, padding,
                                   dilation, groups, deform_groups) or backend
    backend = resolve_backend(backend, x.device)
    if backend == 'torch':
        return deform_conv2d_torch(x, offset, weight, stride, padding,
                                   dilation, groups, deform_groups)
    if backend == 'torchvision':
        from torchvision.ops import deform_conv2d as tv_deform_conv2d

        # torchvision infers groups and deform_groups from the shapes
        return tv_deform_conv2d(
            x,
            offset,
            weight,
            stride=stride,
            padding=padding,
            dilation=dilation)
    return _mmcv_deform_conv2d(x, offset, weight, stride, padding, dilation,
                               groups, deform_groups)


def _fastest_backend(x: Tensor, offset: Tensor, weight: Tensor,
                     stride: IntOrPair, padding: IntOrPair,
                     dilation: IntOrPair, groups: int,
                     deform_groups: int) -> Optional[str]:
    """The backend measured fastest for this call's signature, or ``None``
    if it was not measured and cannot be now."""
    tensors = (x, offset, weight)
    backward = torch.is_grad_enabled() and any(t.requires_grad
                                               for t in tensors)
    key = (x.device, x.dtype, torch.is_autocast_enabled(x.device.type),
           backward, *(tuple(t.shape) for t in tensors),
           *map(_pair, (stride, padding, dilation)), groups, deform_groups)
    candidates = _candidates(x.device.type)

    def run(backend: str) -> None:
        inputs = [t.detach().requires_grad_(t.requires_grad) for t in tensors]
        out = deform_conv2d(*inputs, stride, padding, dilation, groups,
                            deform_groups, backend)
        if backward:
            out.sum().backward()

    return fastest_backend(run, candidates, key, x.device)


@lru_cache
def _candidates(device_type: str) -> Tuple[str, ...]:
    """The kernels that run on ``device_type``: mmcv's only where it was
    built with them (its CUDA ops are optional)."""
    from mmcv.ops import get_compiling_cuda_version

    if device_type == 'cuda' and (get_compiling_cuda_version()
                                  == 'not available'):
        return 'torch', 'torchvision'
    return 'torch', 'torchvision', 'mmcv'


def _mmcv_deform_conv2d(x: Tensor, offset: Tensor, weight: Tensor,
                        stride: IntOrPair, padding: IntOrPair,
                        dilation: IntOrPair, groups: int,
                        deform_groups: int) -> Tensor:
    """mmcv's kernel, given what it needs: contiguous tensors, an input no
    smaller than the kernel (zero-padded at the bottom and right, as mmcv's
    module does) and a batch that its im2col step of 32 divides."""
    from mmcv.ops import deform_conv2d as mmcv_deform_conv2d

    pad_h = max(weight.size(2) - x.size(2), 0)
    pad_w = max(weight.size(3) - x.size(3), 0)
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h))
        offset = F.pad(offset, (0, pad_w, 0, pad_h))
    out = mmcv_deform_conv2d(x.contiguous(), offset.contiguous(),
                             weight.contiguous(), stride, padding, dilation,
                             groups, deform_groups, False,
                             math.gcd(x.size(0), 32))
    return out[:, :, :out.size(2) - pad_h, :out.size(3) - pad_w]
