# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Callable, Sequence, Tuple

import torch
from torch import Tensor

from mmpose.utils.typing import Features
from .merge_flipped import merge_flipped


def flip_forward(forward: Callable[[Features], Tuple[Tensor, Tensor]],
                 feats: Sequence[Features],
                 flip_indices: Sequence[int],
                 input_width: float,
                 shift_heatmap: bool = False) -> Tuple[Tensor, Tensor]:
    """DEKR's flip test in one forward pass: the plain and the flipped
    features go through ``forward`` as one batch, whose halves
    :func:`merge_flipped` averages.

    Args:
        forward (Callable): The head's forward, e.g. ``head.forward`` of a
            :class:`SAMKRHead` or of MMPose's :class:`DEKRHead`, mapping
            multi-stage features to heatmaps and displacements.
        feats (Sequence[Tuple[Tensor]]): The plain and the flipped
            multi-stage features.
        flip_indices (Sequence[int]): The mirror keypoint of every keypoint.
        input_width (float): Width of the network input at this input
            scale, see :func:`merge_flipped`.
        shift_heatmap (bool): Shift the mirrored heatmaps one pixel right.
            Defaults to ``False``.

    Returns:
        tuple: The flip-averaged heatmaps (B, K+1, H, W) and
        displacements (B, 2K, H, W).
    """
    if not isinstance(feats, (list, tuple)) or len(feats) != 2:
        raise ValueError('flip_test needs a pair of the plain and the flipped '
                         f'features, got {type(feats).__name__}')
    heatmaps, displacements = forward(
        [torch.cat(pair) for pair in zip(*feats)])
    heatmaps, flipped_heatmaps = heatmaps.chunk(2)
    displacements, flipped_displacements = displacements.chunk(2)
    return merge_flipped(
        heatmaps,
        displacements,
        flipped_heatmaps,
        flipped_displacements,
        flip_indices,
        input_width,
        shift_heatmap=shift_heatmap)
