# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import torch
from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType
from .multi_backend_deform_conv2d import MultiBackendDeformConv2d


@MODELS.register_module()
class AdaptiveConvBlock(BaseModule):
    r"""Adaptive convolution of each keypoint branch (SAMKR eq. 7-8).

    A grouped 3x3 convolution predicts, per pixel and per group (keypoint
    branch), an affine transform of the regular 3x3 sampling grid
    :math:`G_t`; a deformable 3x3 convolution (``groups = deform_groups =
    groups``) reads the input at the transformed positions, followed by a
    norm layer, a residual connection and an activation.

    The parametrisation, state-dict keys and output are those of MMPose's
    DEKR ``AdaptiveActivationBlock``, so its weights load unchanged. The
    convolution predicts :math:`M = [M_{2 \times 2} | t]` and the offsets
    are :math:`M [G_t; 1] = M_{2 \times 2} G_t + t`. The paper writes the
    same map as eq. 7-8, :math:`F' = A \otimes G_t \ominus G_t` and
    offsets :math:`F' \oplus t`, with a predicted :math:`A`; the two agree
    with :math:`A = M_{2 \times 2} + I`, so a zero-initialised convolution
    starts both at the regular grid.

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels; must equal
            ``in_channels`` for the residual connection.
        groups (int): Number of branches (keypoints). Defaults to 1.
        norm_cfg (Config): Config of the norm layer. Defaults to
            ``dict(type='BN')``.
        act_cfg (Config): Config of the activation. Defaults to
            ``dict(type='ReLU')``.
        backend (str): Deformable convolution kernel, see
            :class:`MultiBackendDeformConv2d`. Defaults to ``'auto'``.
        init_cfg (Config, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 groups: int = 1,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 backend: str = 'auto',
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if groups < 1 or in_channels % groups:
            raise ValueError(f'in_channels ({in_channels}) must be a '
                             f'multiple of groups ({groups})')
        if out_channels != in_channels:
            raise ValueError(f'out_channels ({out_channels}) must equal '
                             f'in_channels ({in_channels}) for the residual '
                             'connection')
        self.groups = groups

        # rows: dy, dx and 1 of the 3x3 taps in mmcv's offset order
        regular_matrix = torch.tensor([[-1, -1, -1, 0, 0, 0, 1, 1, 1],
                                       [-1, 0, 1, -1, 0, 1, -1, 0, 1],
                                       [1, 1, 1, 1, 1, 1, 1, 1, 1]])
        self.register_buffer('regular_matrix', regular_matrix.float())

        self.transform_matrix_conv = build_conv_layer(
            dict(type='Conv2d'),
            in_channels=in_channels,
            out_channels=6 * groups,
            kernel_size=3,
            padding=1,
            groups=groups,
            bias=True)
        self.adapt_conv = MultiBackendDeformConv2d(
            in_channels,
            out_channels,
            kernel_size=3,
            padding=1,
            groups=groups,
            deform_groups=groups,
            backend=backend)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1]
        self.act = build_activation_layer(act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """Forward function.

        Args:
            x (Tensor): Input of shape (B, C, H, W).

        Returns:
            Tensor: Output of shape (B, C, H, W).
        """
        B, _, H, W = x.shape
        affine = self.transform_matrix_conv(x).view(B, self.groups, 2, 3, H, W)
        # (B, G, 2, 3, H, W) x (3, 9) -> (B, G, 9 taps, (dy, dx), H, W)
        offset = torch.einsum('bgijhw,jk->bgkihw', affine,
                              self.regular_matrix.to(affine.dtype))
        offset = offset.reshape(B, self.groups * 18, H, W)
        return self.act(self.norm(self.adapt_conv(x, offset)) + x)
