# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional

import torch.nn as nn
from torch import Tensor

from mmpose.registry import MODELS


@MODELS.register_module()
class HeatmapScaleLoss(nn.Module):
    r"""Regulariser of SWAHR's scale maps on the heatmap foreground.

    The mean of :math:`s^2` over the pixels where the target heatmap is
    positive (the pixels where the scale changes the target of
    :class:`AdaptiveHeatmapLoss`), zero elsewhere, as in SWAHR. It keeps the
    adapted targets :math:`H^{1+s}` close to the original ones.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                scales: Tensor,
                target: Tensor,
                mask: Optional[Tensor] = None) -> Tensor:
        """Forward function.

        Args:
            scales (Tensor): Scale maps of shape (B, K, H, W).
            target (Tensor): Target heatmaps of shape (B, K, H, W).
            mask (Tensor, optional): Valid pixels, of shape (B, K, H, W) or
                (B, 1, H, W).

        Returns:
            Tensor: The loss.
        """
        loss = scales.pow(2) * (target > 0)
        if mask is not None:
            loss = loss * mask
        return loss.mean() * self.loss_weight
