# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Sequence, Tuple

import torch
from torch import Tensor

from .dekr_protocol import dekr_decoder, floored_scores, to_input_resolution
from .resample import resample


def merge_scales(decoder,
                 heatmaps: Sequence[Tensor],
                 displacements: Sequence[Tensor],
                 scales: Sequence[float],
                 num_keypoints: int,
                 score_decrease: float = 1.,
                 protocol: str = 'mmpose'
                 ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Decode every input scale of one image and merge them in the frame of
    the first scale (DEKR's multi-scale test).

    ``BottomupResize`` centres the resized image in its padded input, so a
    point ``x`` of scale ``s`` is ``(x - P_s / 2) / s + P_0 / 2`` in the
    first scale, with ``P`` the padded input size (heatmap size times the
    codec's input / heatmap ratio). The instance-centre scores of the other
    scales are scaled so that their highest one (if positive) is the
    highest one of the first scale (or 1 if it has none) times
    ``score_decrease`` (DEKR's ``TEST.DECREASE``). The heatmaps of all
    scales are resampled to the heatmap grid of the first scale and
    averaged; the keypoint scores of all poses are read from this average.
    With ``protocol='dekr'`` (see :mod:`.dekr_protocol`), centres are found
    with DEKR's kernel, the heatmaps are averaged at the input resolution
    of the first scale, the scores read at the floored keypoints and the
    poses listed by decreasing scale, as DEKR's NMS visits them; a single
    scale is then decoded here too.

    Args:
        decoder (SPR): The SPR codec of the head.
        heatmaps (Sequence[Tensor]): Heatmaps (K+1, H, W) of every scale.
        displacements (Sequence[Tensor]): Displacements (K*2, H, W) of
            every scale.
        scales (Sequence[float]): The scale of every input, 1 first.
        num_keypoints (int): Number of keypoints K.
        score_decrease (float): Factor of the instance-centre scores of
            the other scales. Defaults to 1.
        protocol (str): ``'mmpose'`` or ``'dekr'``. Defaults to
            ``'mmpose'``.

    Returns:
        tuple:
        - heatmap (Tensor): Average heatmaps (K+1, H, W) on the heatmap
          grid of the first scale (``'mmpose'``) or its input grid
          (``'dekr'``).
        - keypoints (Tensor): Poses (N, K, 2) of all scales in input pixels
          of the first scale.
        - root_scores (Tensor): Instance-centre scores (N, ).
        - keypoint_scores (Tensor): Keypoint scores (N, K) read from
          ``heatmap``.
    """
    dekr = protocol == 'dekr'
    ratio = torch.as_tensor(decoder.scale_factor.tolist())
    base_size = torch.tensor(heatmaps[0].shape[:0:-1], dtype=ratio.dtype)
    input_size = [round(float(n)) for n in (base_size * ratio).flip(0)]
    resampled, all_keypoints, all_root_scores = [], [], []
    for heatmap, displacement, scale in zip(heatmaps, displacements, scales):
        scale_decoder = (
            dekr_decoder(decoder, heatmap.shape[1:]) if dekr else decoder)
        keypoints, (root_scores,
                    _) = scale_decoder.decode(heatmap, displacement)
        # heatmap coordinate of this scale = scale * base one + shift
        shift = _shift(heatmap, scale, base_size)
        if scale != 1 or shift.any():
            keypoints = (keypoints - (shift * ratio).to(keypoints)) / scale
        if dekr:
            heatmap = to_input_resolution(heatmap, ratio.tolist(), input_size,
                                          scale, shift)
        elif scale != 1 or shift.any():
            heatmap = resample(heatmap, heatmaps[0].shape[1:], scale, shift)
        if all_root_scores and len(root_scores) > 0 and (root_scores.max()
                                                         > 0):
            base = all_root_scores[0]
            top = base.max() if len(base) > 0 else 1.
            root_scores = (
                root_scores / root_scores.max() * top * score_decrease)
        resampled.append(heatmap)
        all_keypoints.append(keypoints)
        all_root_scores.append(root_scores)

    heatmap = torch.stack(resampled).mean(0)
    if dekr:
        # DEKR concatenates the scales' poses by decreasing scale, the
        # order in which its NMS visits them
        order = sorted(range(len(scales)), key=lambda i: -scales[i])
        all_keypoints = [all_keypoints[i] for i in order]
        all_root_scores = [all_root_scores[i] for i in order]
    keypoints = torch.cat(all_keypoints)
    keypoint_scores = keypoints.new_zeros(keypoints.shape[:2])
    if len(keypoints) > 0 and dekr:
        keypoint_scores = floored_scores(heatmap[:num_keypoints], keypoints)
    elif len(keypoints) > 0:
        keypoint_scores = decoder.get_keypoint_scores(
            heatmap[:num_keypoints], keypoints / ratio.to(keypoints))
    return heatmap, keypoints, torch.cat(all_root_scores), keypoint_scores


def _shift(heatmap: Tensor, scale: float, base_size: Tensor) -> Tensor:
    """The shift (x, y) of the heatmap grid of input scale ``scale`` from
    ``scale`` times that of scale 1 (of size ``base_size``)."""
    size = torch.tensor(heatmap.shape[:0:-1], dtype=base_size.dtype)
    # BottomupResize('expand') fills the short side exactly; it is off the
    # nominal scale when it rounds up to its size_factor
    if abs(size.min() - scale * base_size.min()) > 0.5:
        raise ValueError(
            f'the input at scale {scale} has heatmaps of size '
            f'{tuple(size.int().tolist())}, not {scale} x '
            f'{tuple(base_size.int().tolist())} on the short side: choose '
            'input sizes and aug_scales whose products are multiples of '
            'the size_factor of BottomupResize')
    return (size - scale * base_size) / 2
