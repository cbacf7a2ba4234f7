# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmpose.registry import MODELS


@MODELS.register_module()
class AdaptiveHeatmapLoss(nn.Module):
    r"""Weight- and scale-adaptive heatmap loss of SWAHR.

    From `Rethinking the Heatmap Regression for Bottom-up Human Pose
    Estimation`_ (Luo et al., CVPR 2021), the heatmap loss of SAMKR's W32
    models. For a prediction :math:`P` and a target :math:`H`:

    - scale adaptation: given per-pixel scales :math:`s`, the target
      becomes :math:`H^{1+s}`, used through its second-order expansion
      :math:`H (1 + s \ln H + \frac{1}{2} s^2 \ln^2 H)` on the foreground
      (:math:`H > 0`);
    - weight adaptation: each pixel is weighted by
      :math:`H^\gamma |1 - P| + (1 - H^\gamma) |P|`, which balances
      foreground and background without a fixed background weight.

    With DEKR's heatmaps (K keypoint channels followed by the
    instance-centre channel) the weights apply to every channel and the
    scales to the keypoint channels only (the head passes a zero scale for
    the centre). By default the loss is the mean of the weighted squared
    errors over all K+1 channels, as DEKR averages its heatmap loss: each
    keypoint channel then gets K/(K+1) of the gradient it gets in SWAHR,
    whose HigherHRNet heatmaps have no centre channel (17/18 on COCO, 14/15
    on CrowdPose), and the balance with the scale regulariser shifts by as
    much. ``channel_mean='keypoints'`` divides the sum by the K keypoint
    channels instead, SWAHR's own normalisation of each keypoint channel,
    the centre channel weighing as one more of them. The weight
    replaces the SPR codec's fixed background weight, so the codec's
    ``heatmap_weights`` are ignored unless ``use_target_weight`` is set;
    the heatmap mask (ignored crowd regions) always applies.

    Args:
        gamma (float): Exponent of the target in the weight. Defaults to
            0.01, as in SWAHR.
        use_target_weight (bool): Also multiply by the target weights
            given to :meth:`forward`. Defaults to ``False``.
        channel_mean (str): The channels the loss is averaged over:
            ``'all'`` (DEKR's) or ``'keypoints'`` (SWAHR's: all but the last,
            instance-centre, channel). Defaults to ``'all'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.

    .. _`Rethinking the Heatmap Regression for Bottom-up Human Pose
        Estimation`: https://arxiv.org/abs/2012.15175
    """

    def __init__(self,
                 gamma: float = 0.01,
                 use_target_weight: bool = False,
                 channel_mean: str = 'all',
                 loss_weight: float = 1.) -> None:
        super().__init__()
        if gamma <= 0:
            raise ValueError(f'gamma must be positive, got {gamma}')
        if channel_mean not in ('all', 'keypoints'):
            raise ValueError("channel_mean must be 'all' or 'keypoints', "
                             f'got {channel_mean!r}')
        self.channel_mean = channel_mean
        self.gamma = gamma
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weights: Optional[Tensor] = None,
                mask: Optional[Tensor] = None,
                scales: Optional[Tensor] = None) -> Tensor:
        """Forward function.

        Args:
            output (Tensor): Predicted heatmaps of shape (B, K, H, W).
            target (Tensor): Target heatmaps of shape (B, K, H, W).
            target_weights (Tensor, optional): Weights of shape (B, K) or
                (B, K, H, W), used if ``use_target_weight``.
            mask (Tensor, optional): Valid pixels, of shape (B, K, H, W) or
                (B, 1, H, W).
            scales (Tensor, optional): Scale maps :math:`s` of shape
                (B, K, H, W). ``None`` means no scale adaptation.

        Returns:
            Tensor: The loss.
        """
        target_pow = target.pow(self.gamma)
        weight = (
            target_pow * (1 - output).abs() + (1 - target_pow) * output.abs())
        if scales is not None:
            log_target = torch.log(torch.where(target > 0, target, 1.))
            scaled_log = scales * log_target
            target = target * (1 + scaled_log + 0.5 * scaled_log**2)
        loss = weight * (output - target)**2

        if self.use_target_weight:
            if target_weights is None:
                raise ValueError('use_target_weight=True needs target_weights')
            loss = loss * target_weights.view(
                target_weights.shape + (1, ) *
                (loss.ndim - target_weights.ndim))
        if mask is not None:
            loss = loss * mask
        if self.channel_mean == 'all':
            return loss.mean() * self.loss_weight
        batch_size, channels, height, width = loss.shape
        if channels < 2:
            raise ValueError(
                "channel_mean='keypoints' needs keypoint channels followed "
                f'by the instance-centre channel, got {channels} channel')
        num_pixels = batch_size * (channels - 1) * height * width
        return loss.sum() / num_pixels * self.loss_weight
