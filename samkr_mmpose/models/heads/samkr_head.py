# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import inspect
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.model import Sequential
from torch import Tensor

from mmpose.models.heads import DEKRHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from samkr_mmpose.ops import check_backend
from ..layers import AdaptiveConvBlock, SubspaceAttention


@MODELS.register_module()
class SAMKRHead(DEKRHead):
    """Keypoint regression head with subspace attention (SAMKR).

    From "SAMKR: Bottom-up Keypoint Regression Pose Estimation Method Based
    On Subspace Attention Module" (Chen, Zhou, Liu and Zhang).

    DEKR's head (heatmap and instance-centre branch, losses, decoding, flip
    test and rescore net are inherited from :class:`DEKRHead`) with the
    displacement branch of SAMKR:

    - eq. 1: a 1x1 convolution (+ BN + ReLU) maps the features to
      ``k * c`` channels, ``c`` per keypoint branch;
    - eq. 2, 7-8: ``num_adaptive_blocks`` :class:`AdaptiveConvBlock` with
      one group per branch;
    - eq. 3-5, 9: a :class:`SubspaceAttention` splits every branch into
      ``g`` subspaces of ``s = c / g`` channels, one attention map each;
    - eq. 6: a 1x1 convolution grouped by branch gives the 2k offsets.

    With ``per_keypoint_branches=False`` the ``m = k * c`` channels form a
    single branch (Table 1, first row: ``c = m = 272``, ``g = 8``).

    The heatmap loss of the W32 models is SWAHR's: give
    ``heatmap_loss=dict(type='AdaptiveHeatmapLoss')`` and
    ``scale_loss=dict(type='HeatmapScaleLoss')``; the latter adds SWAHR's
    scale branch (1x1 convolution + BN + ReLU, then a zero-initialised 9x9
    depthwise convolution) predicting one scale map per keypoint, used only
    in training to adapt the keypoint heatmap targets.

    The heatmap branch and the rescore net keep DEKR's names and shapes, so
    a DEKR checkpoint initialises them (and the backbone); the first
    displacement convolution keeps DEKR's name with ``k * c`` channels.

    Args:
        in_channels (int | Sequence[int]): Number of input channels.
        num_keypoints (int): Number of keypoints ``k``.
        num_heatmap_filters (int): Channels of the heatmap branch.
            Defaults to 32.
        num_channels_per_keypoint (int): Channels ``c`` of each keypoint
            branch. Defaults to 16.
        num_subspaces (int): Subspaces ``g`` of each branch; must divide
            ``c`` (``k * c`` for a single branch). Defaults to 8.
        num_adaptive_blocks (int): Number of adaptive convolution blocks.
            Defaults to 1 (MMPose's DEKR head has 2).
        per_keypoint_branches (bool): One branch per keypoint (SAMKR) or a
            single shared branch. Defaults to ``True``.
        deform_backend (str): Deformable convolution kernel, see
            :class:`MultiBackendDeformConv2d`. Defaults to ``'auto'``.
        heatmap_loss (Config): Config of the heatmap loss. Defaults to
            DEKR's :class:`KeypointMSELoss`.
        displacement_loss (Config): Config of the displacement loss.
            Defaults to DEKR's :class:`SoftWeightSmoothL1Loss`.
        scale_loss (Config, optional): Config of SWAHR's scale regulariser;
            setting it adds the scale branch. Defaults to ``None``.
        decoder (Config, optional): The SPR codec config for decoding.
        rescore_cfg (Config, optional): Config of DEKR's rescore net.
        init_cfg (Config, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 num_keypoints: int,
                 num_heatmap_filters: int = 32,
                 num_channels_per_keypoint: int = 16,
                 num_subspaces: int = 8,
                 num_adaptive_blocks: int = 1,
                 per_keypoint_branches: bool = True,
                 deform_backend: str = 'auto',
                 heatmap_loss: ConfigType = dict(
                     type='KeypointMSELoss', use_target_weight=True),
                 displacement_loss: ConfigType = dict(
                     type='SoftWeightSmoothL1Loss',
                     use_target_weight=True,
                     supervise_empty=False),
                 scale_loss: OptConfigType = None,
                 decoder: OptConfigType = None,
                 rescore_cfg: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        self._check_arithmetic(num_keypoints, num_channels_per_keypoint,
                               num_subspaces, num_adaptive_blocks,
                               per_keypoint_branches)
        check_backend(deform_backend)
        # DEKRHead.__init__ builds the displacement branch by calling
        # _make_displacement_conv_layers, which reads these settings
        self.num_channels_per_keypoint = num_channels_per_keypoint
        self.num_subspaces = num_subspaces
        self.num_adaptive_blocks = num_adaptive_blocks
        self.per_keypoint_branches = per_keypoint_branches
        self.deform_backend = deform_backend
        super().__init__(
            in_channels=in_channels,
            num_keypoints=num_keypoints,
            num_heatmap_filters=num_heatmap_filters,
            num_displacement_filters_per_keypoint=num_channels_per_keypoint,
            heatmap_loss=heatmap_loss,
            displacement_loss=displacement_loss,
            decoder=decoder,
            rescore_cfg=rescore_cfg,
            init_cfg=init_cfg)

        self.scale_conv_layers = None
        if scale_loss is not None:
            criterion = self.loss_module['heatmap']
            if 'scales' not in inspect.signature(criterion.forward).parameters:
                raise ValueError(
                    'scale_loss needs a heatmap loss that adapts its targets '
                    'to scale maps (e.g. AdaptiveHeatmapLoss), got '
                    f'{type(criterion).__name__}')
            self.loss_module['scale'] = MODELS.build(scale_loss)
            self.scale_conv_layers = self._make_scale_conv_layers(
                in_channels, num_keypoints)

    @staticmethod
    def _check_arithmetic(num_keypoints: int, num_channels_per_keypoint: int,
                          num_subspaces: int, num_adaptive_blocks: int,
                          per_keypoint_branches: bool) -> None:
        """Raise a ``ValueError`` naming the numbers of an impossible
        displacement branch.

        Args:
            num_keypoints (int): Number of keypoints ``k``.
            num_channels_per_keypoint (int): Channels ``c`` per branch.
            num_subspaces (int): Subspaces ``g`` per branch.
            num_adaptive_blocks (int): Number of adaptive blocks.
            per_keypoint_branches (bool): One branch per keypoint or one.
        """
        minimums = dict(
            num_keypoints=(num_keypoints, 1),
            num_channels_per_keypoint=(num_channels_per_keypoint, 1),
            num_subspaces=(num_subspaces, 1),
            num_adaptive_blocks=(num_adaptive_blocks, 0))
        for name, (value, low) in minimums.items():
            is_int = isinstance(value, int) and not isinstance(value, bool)
            if not is_int or value < low:
                raise ValueError(
                    f'{name} must be an integer >= {low}, got {value!r}')
        if not isinstance(per_keypoint_branches, bool):
            raise ValueError('per_keypoint_branches must be a bool, got '
                             f'{per_keypoint_branches!r}')
        c, g = num_channels_per_keypoint, num_subspaces
        if per_keypoint_branches and c % g:
            raise ValueError(
                f'num_channels_per_keypoint (c={c}) is not divisible by '
                f'num_subspaces (g={g}): every subspace needs s = c / g '
                'channels')
        if not per_keypoint_branches and (num_keypoints * c) % g:
            raise ValueError(
                f'the single branch of m = num_keypoints x '
                f'num_channels_per_keypoint = {num_keypoints} x {c} channels '
                f'is not divisible by num_subspaces (g={g})')

    def _make_displacement_conv_layers(self, in_channels: int,
                                       out_channels: int, num_filters: int,
                                       groups: int) -> Sequential:
        """Create SAMKR's displacement branch (eq. 1-9).

        Args:
            in_channels (int): Number of input channels.
            out_channels (int): Number of offset channels (2k).
            num_filters (int): Channels of all branches together (k * c).
            groups (int): Number of keypoints k.

        Returns:
            Sequential: The displacement branch.
        """
        branches = groups if self.per_keypoint_branches else 1
        layers = [
            ConvModule(
                in_channels=in_channels,
                out_channels=num_filters,
                kernel_size=1,
                norm_cfg=dict(type='BN'))
        ]
        layers += [
            AdaptiveConvBlock(
                num_filters,
                num_filters,
                groups=branches,
                backend=self.deform_backend)
            for _ in range(self.num_adaptive_blocks)
        ]
        layers += [
            SubspaceAttention(num_filters, branches * self.num_subspaces),
            build_conv_layer(
                dict(type='Conv2d'),
                in_channels=num_filters,
                out_channels=out_channels,
                kernel_size=1,
                groups=branches)
        ]
        return Sequential(*layers)

    def _make_scale_conv_layers(self, in_channels: int,
                                num_keypoints: int) -> Sequential:
        """Create SWAHR's scale branch: one scale map per keypoint.

        Args:
            in_channels (int): Number of input channels.
            num_keypoints (int): Number of keypoints.

        Returns:
            Sequential: The scale branch.
        """
        return Sequential(
            ConvModule(
                in_channels,
                num_keypoints,
                kernel_size=1,
                norm_cfg=dict(type='BN')),
            build_conv_layer(
                dict(type='Conv2d'),
                num_keypoints,
                num_keypoints,
                kernel_size=9,
                padding=4,
                groups=num_keypoints),
            # zero scales: training starts from the unadapted targets
            init_cfg=dict(type='Constant', val=0, override=dict(name='1')))

    def loss(self,
             feats: Tuple[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """Calculate losses from a batch of inputs and data samples.

        Without a scale branch this is :meth:`DEKRHead.loss`; with one, the
        keypoint heatmap targets are adapted to the predicted scales and the
        scales are regularised (``loss/heatmap_scale``).

        Args:
            feats (Tuple[Tensor]): The multi-stage features.
            batch_data_samples (List[:obj:`PoseDataSample`]): The batch
                data samples.
            train_cfg (dict): The runtime config for training process.
                Defaults to {}.

        Returns:
            dict: A dictionary of losses.
        """
        if self.scale_conv_layers is None:
            return super().loss(feats, batch_data_samples, train_cfg)

        pred_heatmaps, pred_displacements = self.forward(feats)
        fields = [d.gt_fields for d in batch_data_samples]
        gt_heatmaps = torch.stack([f.heatmaps for f in fields])
        heatmap_weights = torch.stack([f.heatmap_weights for f in fields])
        gt_displacements = torch.stack([f.displacements for f in fields])
        displacement_weights = torch.stack(
            [f.displacement_weights for f in fields])
        heatmap_mask = (
            torch.stack([f.heatmap_mask for f in fields])
            if 'heatmap_mask' in fields[0] else None)

        scales = self.scale_conv_layers(feats[-1])
        # the instance-centre channel (last) keeps its target: s = 0
        heatmap_loss = self.loss_module['heatmap'](
            pred_heatmaps,
            gt_heatmaps,
            heatmap_weights,
            heatmap_mask,
            scales=F.pad(scales, (0, 0, 0, 0, 0, 1)))
        scale_loss = self.loss_module['scale'](
            scales, gt_heatmaps[:, :self.num_keypoints], heatmap_mask)
        displacement_loss = self.loss_module['displacement'](
            pred_displacements, gt_displacements, displacement_weights)
        return {
            'loss/heatmap': heatmap_loss,
            'loss/heatmap_scale': scale_loss,
            'loss/displacement': displacement_loss,
        }

    def _load_state_dict_pre_hook(self, state_dict: dict, prefix: str,
                                  local_meta: dict, *args, **kwargs) -> None:
        """Convert MMPose 0.x DEKR keys, but only in a state dict that has
        them.

        :meth:`DEKRHead._load_state_dict_pre_hook` converts every state dict
        without version metadata (a plain ``dict``, a safetensors file),
        which would rotate the heatmap channels of a current one.

        Args:
            state_dict (dict): The state dict being loaded.
            prefix (str): The prefix of this head's keys.
            local_meta (dict): The version metadata of this head.
        """
        if any(
                key.startswith(prefix) and 'offset_conv_layers' in key
                for key in state_dict):
            super()._load_state_dict_pre_hook(state_dict, prefix, local_meta,
                                              *args, **kwargs)
