# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional

import torch
import torch.distributed as dist
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm


class _AllReduceSum(torch.autograd.Function):
    """The sum of a tensor over the processes of a group, whose gradient
    is the sum of the gradients over the processes."""

    @staticmethod
    def forward(ctx, tensor: Tensor, group: dist.ProcessGroup) -> Tensor:
        ctx.group = group
        tensor = tensor.clone()
        dist.all_reduce(tensor, group=group)
        return tensor

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple:
        grad = grad.clone()
        dist.all_reduce(grad, group=ctx.group)
        return grad, None


class CPUSyncBatchNorm(_BatchNorm):
    """Synchronised batch normalisation that also runs on the CPU.

    torch's ``SyncBatchNorm`` refuses CPU inputs (its statistics kernels
    exist only for GPUs), and ``DistributedDataParallel`` refuses it in a
    CPU model, so a CPU run with the gloo backend cannot train with SyncBN.
    This layer normalises a training batch of N x C x ... values by the
    mean and the biased variance of the batches of all processes, computed
    with differentiable all-reduces (the sums and the counts, then the sums
    of squared deviations from the mean), and updates its running
    statistics with the unbiased variance: as one process holding all the
    batches would. Without a process group of several processes, or in
    evaluation mode, it is ``BatchNorm``.

    Args:
        num_features (int): The number of channels C.
        eps (float): Added to the variance. Defaults to 1e-5.
        momentum (float, optional): The weight of a batch's statistics in
            the running ones; ``None`` averages all batches. Defaults to
            0.1.
        affine (bool): Whether to learn a scale and a shift. Defaults to
            True.
        track_running_stats (bool): Whether to keep running statistics.
            Defaults to True.
        process_group (dist.ProcessGroup, optional): The processes to
            synchronise; ``None`` is all. Defaults to None.
    """

    def __init__(self,
                 num_features: int,
                 eps: float = 1e-5,
                 momentum: Optional[float] = 0.1,
                 affine: bool = True,
                 track_running_stats: bool = True,
                 process_group: Optional[dist.ProcessGroup] = None) -> None:
        super().__init__(num_features, eps, momentum, affine,
                         track_running_stats)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(
                f'expected an input of 2 or more dimensions (N, C, ...), '
                f'got {input.dim()}')

    def forward(self, input: Tensor) -> Tensor:
        """Normalise ``input`` of shape (N, C, ...) by the statistics of
        the batches of all processes when training.

        Args:
            input (Tensor): The input batch.

        Returns:
            Tensor: The normalised batch.
        """
        group = self.process_group or dist.group.WORLD
        if (not self.training or not dist.is_initialized()
                or dist.get_world_size(group) == 1):
            return super().forward(input)
        self._check_input_dim(input)

        # statistics in float32, also for bfloat16 inputs under autocast
        x = input.float()
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        local_count = x.new_full((1, ), x.numel() / x.size(1))
        totals = _AllReduceSum.apply(
            torch.cat([x.sum(dims), local_count]), group)
        count = totals[-1]
        mean = totals[:-1] / count
        centred = x - mean.view(shape)
        var = _AllReduceSum.apply(centred.pow(2).sum(dims), group) / count
        output = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            output = output * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), count)
        return output.to(input.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: Tensor, var: Tensor,
                              count: Tensor) -> None:
        """Update the running mean and the running unbiased variance as
        ``F.batch_norm`` does.

        Args:
            mean (Tensor): The mean over all processes, shape (C, ).
            var (Tensor): The biased variance over all processes, (C, ).
            count (Tensor): The number of values per channel, shape ().
        """
        self.num_batches_tracked.add_(1)
        momentum: Optional[float] = self.momentum
        if momentum is None:
            momentum = 1.0 / self.num_batches_tracked.item()
        unbiased = var * count / (count - 1).clamp(min=1)
        self.running_mean.lerp_(mean, momentum)
        self.running_var.lerp_(unbiased, momentum)
