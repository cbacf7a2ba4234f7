# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Sequence, Tuple

import numpy as np


def merge_flipped(heatmaps: np.ndarray,
                  displacements: np.ndarray,
                  flipped_heatmaps: np.ndarray,
                  flipped_displacements: np.ndarray,
                  flip_indices: Sequence[int],
                  input_width: int,
                  shift_heatmap: bool = False
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """Average the outputs of an input and of its mirror image (flip test)
    as :func:`samkr_mmpose.models.utils.flip_forward` does, in NumPy.

    The outputs of the mirror image are mirrored back, their keypoint
    channels swapped by ``flip_indices`` (the centre heatmap stays last) and
    their x displacements negated; the heatmaps move one pixel right with
    ``shift_heatmap``. A heatmap pixel ``u`` covers input pixels
    ``[r u, r u + r)`` with ``r`` the input / heatmap ratio, so mirroring
    the heatmap grid misplaces x by ``(r - 1) / r`` heatmap pixels, which is
    added back to the x displacements.

    Args:
        heatmaps (np.ndarray): Heatmaps (B, K+1, H, W) of the inputs.
        displacements (np.ndarray): Displacements (B, 2K, H, W) of the
            inputs.
        flipped_heatmaps (np.ndarray): Heatmaps of the mirrored inputs.
        flipped_displacements (np.ndarray): Displacements of the mirrored
            inputs.
        flip_indices (Sequence[int]): The mirror keypoint of every keypoint.
        input_width (int): Width of the network input.
        shift_heatmap (bool): Shift the mirrored heatmaps one pixel right.
            Defaults to ``False``.

    Returns:
        tuple: The averaged heatmaps (B, K+1, H, W) and displacements
        (B, 2K, H, W).
    """
    batch, channels, height, width = flipped_displacements.shape
    if len(flip_indices) * 2 != channels:
        raise ValueError(f'flip_indices has {len(flip_indices)} entries for '
                         f'{channels // 2} keypoints')
    flipped_heatmaps = flipped_heatmaps[:,
                                        list(flip_indices) +
                                        [len(flip_indices)], :, ::-1]
    if shift_heatmap:
        flipped_heatmaps = np.concatenate(
            (flipped_heatmaps[..., :1], flipped_heatmaps[..., :-1]), -1)
    flipped_displacements = flipped_displacements.reshape(
        batch, channels // 2, 2, height, width)[:, flip_indices, :, :, ::-1]
    ratio = input_width / width
    flipped_displacements = np.concatenate(
        (-flipped_displacements[:, :, :1] +
         (ratio - 1) / ratio, flipped_displacements[:, :, 1:]),
        2).reshape(batch, channels, height, width)
    return ((heatmaps + flipped_heatmaps) / 2,
            (displacements + flipped_displacements) / 2)
