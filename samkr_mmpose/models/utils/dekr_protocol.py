# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Official DEKR's test protocol, as ``test_cfg=dict(protocol='dekr')``.

MMPose's DEKR decoding (``protocol='mmpose'``, the default) and the
official DEKR code differ in four ways that move results:

1. Instance centres: MMPose keeps the peaks of a ``decode_nms_kernel``
   max pool (5x5 in its configs); DEKR's ``hierarchical_pool`` pools 3x3,
   5x5 or 7x7 as the mean side of the heatmap is at most 200, at most 300
   or more (:func:`dekr_centre_kernel`).
2. Keypoint scores: MMPose samples the heatmaps bilinearly at the keypoints
   (``SPR.get_keypoint_scores``); DEKR upsamples them to the input
   resolution (:func:`to_input_resolution`) and reads the pixel at the
   floored keypoint (``get_heat_value``, :func:`floored_scores`).
3. Multi-scale heatmaps: averaged on the heatmap grid of the first scale
   by MMPose, at the input resolution by DEKR; matching keypoints to
   heatmap peaks then uses this average as it is.
4. Pose NMS: MMPose visits the poses by decreasing mean keypoint score,
   DEKR's ``nms_core`` in decoding order (scale after scale, by decreasing
   centre score); see :func:`pose_nms` ``visit``.

Where each scale's input lies in the image is MMPose's ``BottomupResize``
in both protocols.
"""
import copy
from typing import Optional, Sequence

import torch
from torch import Tensor

from mmpose.codecs import SPR
from .resample import resample

PROTOCOLS = ('mmpose', 'dekr')
# DEKR's TEST.POOL_THRESHOLD1 and TEST.POOL_THRESHOLD2
POOL_THRESHOLDS = (300, 200)


def get_test_protocol(test_cfg: dict) -> str:
    """The ``protocol`` of a test config, checked.

    Args:
        test_cfg (dict): The runtime config for testing.

    Returns:
        str: ``'mmpose'`` (the default) or ``'dekr'``.

    Raises:
        ValueError: For another protocol.
    """
    protocol = test_cfg.get('protocol', 'mmpose')
    if protocol not in PROTOCOLS:
        raise ValueError(f'Unknown test_cfg protocol {protocol!r}; expected '
                         f'one of {PROTOCOLS}')
    return protocol


def dekr_centre_kernel(heatmap_size: Sequence[int]) -> int:
    """The max-pool kernel of DEKR's ``hierarchical_pool``.

    Args:
        heatmap_size (Sequence[int]): Heatmap size (h, w).

    Returns:
        int: 7 if the mean side exceeds 300, 5 if it exceeds 200, else 3.
    """
    mean_side = sum(heatmap_size) / 2
    if mean_side > POOL_THRESHOLDS[0]:
        return 7
    return 5 if mean_side > POOL_THRESHOLDS[1] else 3


def dekr_decoder(decoder: SPR, heatmap_size: Sequence[int]) -> SPR:
    """A copy of an SPR codec that finds centres as DEKR does.

    Args:
        decoder (SPR): The SPR codec.
        heatmap_size (Sequence[int]): Heatmap size (h, w) to decode.

    Returns:
        SPR: A shallow copy with ``decode_nms_kernel`` of
        :func:`dekr_centre_kernel`.
    """
    decoder = copy.copy(decoder)
    decoder.decode_nms_kernel = dekr_centre_kernel(heatmap_size)
    return decoder


def to_input_resolution(heatmaps: Tensor,
                        ratio: Sequence[float],
                        size: Sequence[int],
                        scale: float = 1.,
                        shift: Optional[Tensor] = None) -> Tensor:
    """Resample heatmaps to the input grid of the first scale, as DEKR's
    ``up_interpolate`` (heatmap pixel ``u`` at input pixel ``u * ratio``,
    bilinear, border replicated).

    Args:
        heatmaps (Tensor): Heatmaps (C, H, W) of input scale ``scale``.
        ratio (Sequence[float]): Input / heatmap size (x, y).
        size (Sequence[int]): Output size (h, w), the first scale's input.
        scale (float): The input scale of ``heatmaps``. Defaults to 1.
        shift (Tensor, optional): Their grid's shift (x, y) from ``scale``
            times that of the first scale, in heatmap pixels. Defaults to
            no shift.

    Returns:
        Tensor: The heatmaps (C, h, w).
    """
    if shift is None:
        shift = torch.zeros(2)
    return resample(heatmaps, size, torch.tensor([scale / r for r in ratio]),
                    shift)


def floored_scores(heatmaps: Tensor, keypoints: Tensor) -> Tensor:
    """Keypoint scores read at the floored, clamped keypoints (DEKR's
    ``get_heat_value``).

    Args:
        heatmaps (Tensor): Keypoint heatmaps (K, H, W) at the resolution of
            the keypoints.
        keypoints (Tensor): Keypoints (N, K, 2).

    Returns:
        Tensor: Scores (N, K); 0 for a keypoint that is not finite.
    """
    num_keypoints, height, width = heatmaps.shape
    finite = keypoints.isfinite().all(-1)
    keypoints = torch.where(finite[..., None], keypoints, 0)
    x = keypoints[..., 0].floor().clamp(0, width - 1).long()
    y = keypoints[..., 1].floor().clamp(0, height - 1).long()
    index = torch.arange(num_keypoints, device=heatmaps.device)
    return torch.where(finite, heatmaps[index, y, x], 0)
