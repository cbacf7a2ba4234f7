# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Sequence, Tuple

import numpy as np

from .grid_sample import grid_sample


def spr_decode(heatmaps: np.ndarray,
               displacements: np.ndarray,
               scale_factor: Sequence[float],
               nms_kernel: int = 5,
               max_instances: int = 30,
               decode_thr: float = 0.01
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode poses from the outputs of one image as MMPose's SPR codec
    (``SPR.decode`` and ``SPR.get_keypoint_scores``), in NumPy.

    The instance centres are the peaks of the last heatmap channel, kept
    where they equal the maximum of their ``nms_kernel`` window; the
    ``max_instances`` highest that exceed ``decode_thr`` each give one pose
    (SAMKR Sec. II.A, as DEKR): keypoint ``k`` is the centre's grid point
    plus its displacement ``k``. The keypoint scores are the keypoint
    heatmaps read at the keypoints by :func:`grid_sample` with the codec's
    arguments. Finally the keypoints are scaled from heatmap to input
    pixels.

    Args:
        heatmaps (np.ndarray): Keypoint and centre heatmaps (K+1, H, W).
        displacements (np.ndarray): Displacements (2K, H, W), ``(dx, dy)``
            per keypoint.
        scale_factor (Sequence[float]): Input size over heatmap size
            ``(x, y)``.
        nms_kernel (int): Odd window of the centre peak search. Defaults
            to 5.
        max_instances (int): Most poses. Defaults to 30.
        decode_thr (float): Centre score threshold. Defaults to 0.01.

    Returns:
        tuple:
        - keypoints (np.ndarray): Poses (N, K, 2) in input pixels.
        - root_scores (np.ndarray): Centre scores (N, ), decreasing.
        - keypoint_scores (np.ndarray): Keypoint scores (N, K).
    """
    num_keypoints = displacements.shape[0] // 2
    height, width = displacements.shape[1:]
    if heatmaps.shape != (num_keypoints + 1, height, width):
        raise ValueError(
            f'expected heatmaps of shape {(num_keypoints + 1, height, width)} '
            f'for displacements of shape {displacements.shape}, got '
            f'{heatmaps.shape}')
    if nms_kernel < 1 or nms_kernel % 2 == 0:
        raise ValueError(
            f'nms_kernel must be a positive odd integer, got {nms_kernel}')

    rows, cols = np.meshgrid(
        np.arange(height), np.arange(width), indexing='ij')
    grid = np.stack((cols, rows)).astype(displacements.dtype)
    posemaps = (grid + displacements.reshape(
        num_keypoints, 2, height, width)).reshape(num_keypoints, 2, -1)

    centres = heatmaps[-1]
    peaks = (centres * (centres == _max_filter(centres, nms_kernel))).ravel()
    # highest first; a tie keeps the order of the pixels
    index = np.argsort(-peaks, kind='stable')[:max_instances]
    index = index[peaks[index] > decode_thr]
    keypoints = posemaps[:, :, index].transpose(2, 0, 1)
    # the codec normalises by size - 1, then samples with
    # align_corners=False
    normalised = [
        keypoints[..., axis].T / (size - 1) * 2 - 1
        for axis, size in enumerate((width, height))
    ]
    keypoint_scores = grid_sample(heatmaps[:num_keypoints], *normalised).T
    keypoints = keypoints * np.asarray(scale_factor, dtype=keypoints.dtype)
    return keypoints, peaks[index], keypoint_scores


def _max_filter(heatmap: np.ndarray, kernel: int) -> np.ndarray:
    """Maximum over the ``kernel`` x ``kernel`` window centred on every
    pixel, cut at the border (a max-pool with stride 1)."""
    radius = kernel // 2
    padded = np.pad(heatmap, radius, constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded,
                                                       (kernel, kernel))
    return windows.max(axis=(-2, -1))
