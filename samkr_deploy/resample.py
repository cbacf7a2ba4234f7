# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Sequence, Union

import numpy as np

from .grid_sample import grid_sample


def resample(maps: np.ndarray, size: Sequence[int],
             scale: Union[float, Sequence[float]],
             shift: Sequence[float]) -> np.ndarray:
    """Bilinearly sample maps at ``scale * v + shift`` for every pixel ``v``
    of the output, replicating the border, in NumPy: the twin of
    :func:`samkr_mmpose.models.utils.resample`, with its float32 operations
    in its order, so that the results agree to the bit on x86-64 (see
    :func:`grid_sample`).

    Args:
        maps (np.ndarray): Maps (C, H, W), float32.
        size (Sequence[int]): Output size (h, w).
        scale (float | Sequence[float]): Scale, or scales (x, y).
        shift (Sequence[float]): Shift (x, y) in pixels of ``maps``.

    Returns:
        np.ndarray: The sampled maps (C, h, w), float32.
    """
    height, width = maps.shape[-2:]
    scale = np.broadcast_to(np.asarray(scale, np.float32), (2, ))
    shift = np.asarray(shift, np.float32)
    x = np.arange(size[1], dtype=np.float32) * scale[0] + shift[0]
    y = np.arange(size[0], dtype=np.float32) * scale[1] + shift[1]
    # a map of one pixel gives NaN (0 / 0), sampled as pixel 0 like PyTorch
    with np.errstate(divide='ignore', invalid='ignore'):
        return grid_sample(
            maps, (x / np.float32(width - 1) * 2 - 1)[None, None],
            (y / np.float32(height - 1) * 2 - 1)[None, :, None],
            align_corners=True)
