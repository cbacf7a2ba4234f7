# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType
from samkr_mmpose.ops import max_filter2d


@MODELS.register_module()
class SubspaceAttention(BaseModule):
    r"""Subspace attention module (SAM) of SAMKR, eq. 9, after ULSAM.

    The channels are split into ``num_subspaces`` contiguous subspaces of
    ``s = in_channels / num_subspaces`` channels (eq. 3). Each subspace
    :math:`f_j` gets its own single attention map, shared by its channels:

    .. math::

        O_j = \mathrm{softmax}(PW^1(\mathrm{maxpool}(DW^1(f_j))))
        \otimes f_j \oplus f_j

    with a depthwise 1x1 convolution (+ norm + activation), a 3x3 max-pool
    (stride 1, padding 1), a pointwise convolution to one map (+ norm +
    activation) and a softmax over all H x W positions. All subspaces are
    computed at once: the pointwise convolutions of the subspaces are one
    grouped convolution with ``groups = num_subspaces``. Several keypoint
    branches of ``c`` channels with ``g`` subspaces each are one module with
    ``in_channels = k * c`` and ``num_subspaces = k * g``.

    Note:
        A flat map is ``1 / (H * W)`` everywhere (6e-5 at 128 x 128), below
        the rounding step of float16 and bfloat16 activations: with those
        (half precision or autocast) only peaked maps change the features,
        though gradients still reach every map.

    Args:
        in_channels (int): Number of input (and output) channels.
        num_subspaces (int): Number of subspaces; must divide
            ``in_channels``.
        norm_cfg (Config): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
        act_cfg (Config): Config of the activations. Defaults to
            ``dict(type='ReLU')``.
        init_cfg (Config, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_subspaces: int,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_subspaces < 1 or in_channels % num_subspaces:
            raise ValueError(f'in_channels ({in_channels}) must be a '
                             f'positive multiple of num_subspaces '
                             f'({num_subspaces})')
        self.num_subspaces = num_subspaces

        self.depthwise = ConvModule(
            in_channels,
            in_channels,
            kernel_size=1,
            groups=in_channels,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.pointwise = ConvModule(
            in_channels,
            num_subspaces,
            kernel_size=1,
            groups=num_subspaces,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """Forward function.

        Args:
            x (Tensor): Input of shape (B, C, H, W).

        Returns:
            Tensor: Output of shape (B, C, H, W).
        """
        B, C, H, W = x.shape
        maps = self.pointwise(max_filter2d(self.depthwise(x), 3))
        maps = maps.flatten(2).softmax(dim=-1)
        maps = maps.view(B, self.num_subspaces, 1, H, W)
        subspaces = x.reshape(B, self.num_subspaces, -1, H, W)
        # autocast runs the softmax in float32; keep the input's precision
        out = torch.addcmul(subspaces, subspaces, maps.to(x.dtype))
        return out.view(B, C, H, W)
