# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Sequence, Tuple

from torch import Tensor

from mmpose.models.utils.tta import flip_heatmaps


def merge_flipped(heatmaps: Tensor,
                  displacements: Tensor,
                  flipped_heatmaps: Tensor,
                  flipped_displacements: Tensor,
                  flip_indices: Sequence[int],
                  input_width: float,
                  shift_heatmap: bool = False) -> Tuple[Tensor, Tensor]:
    """Average the outputs of an input and of its mirror image (DEKR's flip
    test), as :meth:`DEKRHead.predict` does; the NumPy twin is
    :func:`samkr_deploy.merge_flipped`.

    The outputs of the mirror image are mirrored back, their keypoint
    channels swapped by ``flip_indices`` (the centre heatmap stays last) and
    their x displacements negated; the heatmaps move one pixel right with
    ``shift_heatmap``. A heatmap pixel ``u`` covers input pixels
    ``[r u, r u + r)`` with ``r`` the input / heatmap ratio, so mirroring
    the heatmap grid misplaces x by ``(r - 1) / r`` heatmap pixels, which is
    added back to the x displacements.

    Args:
        heatmaps (Tensor): Heatmaps (B, K+1, H, W) of the inputs.
        displacements (Tensor): Displacements (B, 2K, H, W) of the inputs.
        flipped_heatmaps (Tensor): Heatmaps of the mirrored inputs.
        flipped_displacements (Tensor): Displacements of the mirrored
            inputs.
        flip_indices (Sequence[int]): The mirror keypoint of every keypoint.
        input_width (float): Width of the network input; at input scale
            ``s`` of a multi-scale test, ``s`` times that of scale 1.
        shift_heatmap (bool): Shift the mirrored heatmaps one pixel right.
            Defaults to ``False``.

    Returns:
        tuple: The averaged heatmaps (B, K+1, H, W) and displacements
        (B, 2K, H, W).
    """
    channels = flipped_displacements.shape[1]
    if len(flip_indices) * 2 != channels:
        raise ValueError(f'flip_indices has {len(flip_indices)} entries for '
                         f'{channels // 2} keypoints')
    flip_indices = list(flip_indices)
    flipped_heatmaps = flip_heatmaps(
        flipped_heatmaps,
        flip_mode='heatmap',
        flip_indices=flip_indices + [len(flip_indices)],
        shift_heatmap=shift_heatmap)
    flipped_displacements = flip_heatmaps(
        flipped_displacements,
        flip_mode='offset',
        flip_indices=flip_indices,
        shift_heatmap=False)
    ratio = input_width / heatmaps.shape[-1]
    flipped_displacements[:, ::2] += (ratio - 1) / ratio
    return ((heatmaps + flipped_heatmaps) / 2,
            (displacements + flipped_displacements) / 2)
