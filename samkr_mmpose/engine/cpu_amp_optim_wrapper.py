# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from contextlib import contextmanager
from typing import Iterator

import torch
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from torch import nn

from mmpose.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """An optimiser wrapper running the forward pass and the losses under
    CPU autocast in bfloat16, the CPU's counterpart of mmengine's
    ``AmpOptimWrapper``.

    CPU autocast supports bfloat16, which has float32's exponent range, so
    the loss needs no scaling; the arguments are :class:`OptimWrapper`'s.
    """

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """The context of :class:`OptimWrapper` under bfloat16 autocast.

        Args:
            model (nn.Module): The model being trained.
        """
        with super().optim_context(model), autocast(
                device_type='cpu', dtype=torch.bfloat16):
            yield
