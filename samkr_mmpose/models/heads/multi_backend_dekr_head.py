# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from mmcv.ops import DeformConv2d

from mmpose.models.heads import DEKRHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, Features, OptSampleList
from ..layers import MultiBackendDeformConv2d
from ..utils import get_test_protocol


@MODELS.register_module()
class MultiBackendDEKRHead(DEKRHead):
    """MMPose's :class:`DEKRHead` with a choice of deformable-convolution
    kernels.

    Every mmcv ``DeformConv2d`` of the head (the adaptive blocks of its
    offset branches) becomes a :class:`MultiBackendDeformConv2d`, which has
    the same parameters, initialisation and state-dict keys: checkpoints of
    ``DEKRHead`` load unchanged. With ``deform_backend='torch'`` DEKR runs
    on the kernel SAMKR uses, so that the two heads are timed and trained
    on equal terms (mmcv's CPU kernel is several times slower). It decodes
    as ``DEKRHead`` (MMPose's protocol, no heatmap matching) and refuses
    ``test_cfg['protocol']='dekr'`` rather than ignoring it.

    Args:
        *args: Positional arguments of :class:`DEKRHead`.
        deform_backend (str): The kernel, see
            :class:`MultiBackendDeformConv2d`. Defaults to ``'auto'``.
        **kwargs: Keyword arguments of :class:`DEKRHead`.
    """

    def __init__(self, *args, deform_backend: str = 'auto', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, module in list(self.named_modules()):
            if type(module) is DeformConv2d:
                self._swap(name, module, deform_backend)

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}):
        """:meth:`DEKRHead.predict`, after checking the protocol."""
        if get_test_protocol(test_cfg) != 'mmpose':
            raise ValueError(
                f'{type(self).__name__} decodes with MMPose\'s protocol, got '
                f"test_cfg protocol={test_cfg['protocol']!r}; use SAMKRHead "
                'or BottomupPostProcessor for DEKR\'s')
        return super().predict(feats, batch_data_samples, test_cfg)

    def _swap(self, name: str, module: DeformConv2d, backend: str) -> None:
        """Replace the submodule ``name`` by a multi-backend copy."""
        swapped = MultiBackendDeformConv2d(
            module.in_channels,
            module.out_channels,
            module.kernel_size,
            stride=module.stride,
            padding=module.padding,
            dilation=module.dilation,
            groups=module.groups,
            deform_groups=module.deform_groups,
            bias=False,
            backend=backend)
        swapped.load_state_dict(module.state_dict())
        parent, _, child = name.rpartition('.')
        setattr(self.get_submodule(parent), child, swapped)
