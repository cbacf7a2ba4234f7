# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor


def resample(maps: Tensor, size: Sequence[int], scale: Union[float, Tensor],
             shift: Tensor) -> Tensor:
    """Bilinearly sample maps at ``scale * v + shift`` for every pixel ``v``
    of the output, replicating the border.

    DEKR resamples heatmaps in multi-scale testing (to the grid of the
    first scale) and before matching keypoints to heatmap peaks (to the
    input resolution); the NumPy twin is :func:`samkr_deploy.resample`.

    Args:
        maps (Tensor): Maps in shape (C, H, W).
        size (Sequence[int]): Output size (h, w).
        scale (float | Tensor): Scale, or scales (x, y).
        shift (Tensor): Shift (x, y) in pixels of ``maps``.

    Returns:
        Tensor: The sampled maps in shape (C, h, w).
    """
    height, width = maps.shape[-2:]
    factory = dict(dtype=maps.dtype, device=maps.device)
    scale = torch.as_tensor(scale, **factory).expand(2)
    shift = shift.to(maps)
    x = torch.arange(size[1], **factory) * scale[0] + shift[0]
    y = torch.arange(size[0], **factory) * scale[1] + shift[1]
    # grid_sample's [-1, 1] spans the pixel centres with align_corners
    grid = torch.stack(
        torch.broadcast_tensors(x[None] / (width - 1) * 2 - 1,
                                y[:, None] / (height - 1) * 2 - 1), -1)
    return F.grid_sample(
        maps[None], grid[None], padding_mode='border', align_corners=True)[0]
