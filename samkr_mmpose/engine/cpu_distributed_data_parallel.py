# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS
from torch import nn

from .cpu_sync_batch_norm import CPUSyncBatchNorm


# mmengine's runner looks wrappers up in its own registry, not in MMPose's
@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's ``MMDistributedDataParallel`` for models on the CPU,
    e.g. a run with the gloo backend on machines without GPUs.

    mmengine's runner gives the wrapper ``device_ids=[LOCAL_RANK]``, which
    torch's ``DistributedDataParallel`` refuses for a CPU model, and
    converts the BatchNorm layers to ``torch.nn.SyncBatchNorm`` for
    ``sync_bn='torch'``, which refuses CPU inputs and which torch's wrapper
    refuses in a CPU model. This wrapper drops the device ids (a one-device
    model runs where its parameters are) and turns those layers into
    :class:`CPUSyncBatchNorm`. Like the runner's default wrapper, it does
    not broadcast the buffers of rank 0 before each forward pass unless
    ``broadcast_buffers=True``.

    Select it with
    ``model_wrapper_cfg=dict(type='CPUDistributedDataParallel')``;
    ``tools/dist_train.sh`` and ``tools/dist_test.sh`` do on machines
    without CUDA.

    Args:
        module (nn.Module): The model to wrap.
        **kwargs: The other arguments of ``MMDistributedDataParallel``;
            ``device_ids`` is ignored.
    """

    def __init__(self, module: nn.Module, **kwargs) -> None:
        kwargs['device_ids'] = None
        kwargs.setdefault('broadcast_buffers', False)
        super().__init__(module=_to_cpu_sync_batch_norm(module), **kwargs)


def _to_cpu_sync_batch_norm(module: nn.Module) -> nn.Module:
    """Replace the ``torch.nn.SyncBatchNorm`` layers of a model by
    :class:`CPUSyncBatchNorm` layers holding the same parameters and
    buffers.

    Args:
        module (nn.Module): The model, changed in place.

    Returns:
        nn.Module: The model, or its replacement if it is such a layer.
    """
    if type(module) is nn.SyncBatchNorm:
        layer = CPUSyncBatchNorm(module.num_features, module.eps,
                                 module.momentum, module.affine,
                                 module.track_running_stats,
                                 module.process_group)
        layer.train(module.training)
        # the same tensors: nothing is copied, optimisers see no change
        for name, value in [
                *module.named_parameters(recurse=False),
                *module.named_buffers(recurse=False)
        ]:
            setattr(layer, name, value)
        return layer
    for name, child in module.named_children():
        setattr(module, name, _to_cpu_sync_batch_norm(child))
    return module
