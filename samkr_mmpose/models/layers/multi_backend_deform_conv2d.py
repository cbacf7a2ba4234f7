# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from mmcv.ops import DeformConv2d
from torch import Tensor

from mmpose.registry import MODELS
from samkr_mmpose.ops import check_backend, deform_conv2d


@MODELS.register_module()
class MultiBackendDeformConv2d(DeformConv2d):
    """mmcv's :class:`~mmcv.ops.DeformConv2d` with a choice of kernels.

    Parameters, initialisation and state-dict keys are those of mmcv's
    module, so checkpoints move freely between the two; only the kernel that
    computes the convolution can be chosen.

    Args:
        *args: Positional arguments of :class:`~mmcv.ops.DeformConv2d`.
        backend (str): ``'mmcv'``, ``'torchvision'``, ``'torch'`` (pure
            PyTorch, exportable) or ``'auto'`` (the fastest one for the
            input's device). Defaults to ``'auto'``.
        **kwargs: Keyword arguments of :class:`~mmcv.ops.DeformConv2d`.
    """

    def __init__(self, *args, backend: str = 'auto', **kwargs) -> None:
        check_backend(backend)
        super().__init__(*args, **kwargs)
        self.backend = backend

    def forward(self, x: Tensor, offset: Tensor) -> Tensor:
        """Convolve ``x`` at the sampling positions moved by ``offset``.

        Args:
            x (Tensor): Input of shape (B, C, H, W).
            offset (Tensor): Offsets of shape (B, 2 * D * kh * kw, Ho, Wo),
                ``(dy, dx)`` per kernel tap as in mmcv.

        Returns:
            Tensor: Output of shape (B, out_channels, Ho, Wo).
        """
        return deform_conv2d(x, offset, self.weight, self.stride, self.padding,
                             self.dilation, self.groups, self.deform_groups,
                             self.backend)
