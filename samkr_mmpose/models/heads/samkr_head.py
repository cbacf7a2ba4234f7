# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import inspect
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.model import Sequential
from mmengine.structures import PixelData
from torch import Tensor

from mmpose.models.heads import DEKRHead
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, Features, InstanceList,
                                 OptConfigType, OptSampleList, Predictions)
from samkr_mmpose.ops import check_backend
from ..layers import (AdaptiveConvBlock, DisplacementBranchLayout, ScaleBranch,
                      SubspaceAttention, check_displacement_branch)
from ..utils import (BottomupPostProcessor, check_num_keypoints,
                     check_samkr_state_dict, forward_test)


@MODELS.register_module()
class SAMKRHead(DEKRHead):
    """Keypoint regression head with subspace attention (SAMKR, "SAMKR:
    Bottom-up Keypoint Regression Pose Estimation Method Based On Subspace
    Attention Module", Chen, Zhou, Liu and Zhang).

    MMPose's :class:`DEKRHead` with SAMKR's displacement branch (eq. 1-9,
    see :class:`DisplacementBranchLayout`), batched flip test
    (:func:`forward_test`) and DEKR's multi-scale test and heatmap
    matching (:class:`BottomupPostProcessor`). ``scale_loss`` adds SWAHR's
    :class:`ScaleBranch`, whose scale maps adapt the heatmap targets in
    training.
    DEKR checkpoints initialise the heatmap branch and the rescore net.

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
        heatmap_loss (Config): Config of the heatmap loss; SWAHR's is
            ``dict(type='AdaptiveHeatmapLoss')``. Defaults to DEKR's.
        displacement_loss (Config): Config of the displacement loss.
            Defaults to DEKR's.
        scale_loss (Config, optional): Config of SWAHR's scale regulariser
            (``dict(type='HeatmapScaleLoss')``); adds the scale branch.
            Defaults to ``None``.
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
        check_displacement_branch(num_keypoints, num_channels_per_keypoint,
                                  num_subspaces, num_adaptive_blocks,
                                  per_keypoint_branches)
        check_backend(deform_backend)
        # DEKRHead.__init__ builds the displacement branch (our override
        # reads these) between its other modules: building it there keeps
        # the order of random initialisation, i.e. the weights of a seed
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
        # a pretrained net the pose losses never reach: frozen, it is no
        # unused parameter that stops DistributedDataParallel
        if self.rescore_net is not None:
            self.rescore_net.requires_grad_(False)
        self.scale_conv_layers = None
        if scale_loss is not None:
            criterion = self.loss_module['heatmap']
            if 'scales' not in inspect.signature(criterion.forward).parameters:
                raise ValueError(
                    'scale_loss needs a heatmap loss that adapts its targets '
                    'to scale maps (e.g. AdaptiveHeatmapLoss), got '
                    f'{type(criterion).__name__}')
            self.loss_module['scale'] = MODELS.build(scale_loss)
            self.scale_conv_layers = ScaleBranch(in_channels, num_keypoints)

    @property
    def displacement_layout(self) -> DisplacementBranchLayout:
        """DisplacementBranchLayout: The displacement branch's layout."""
        return DisplacementBranchLayout(self.num_adaptive_blocks)

    def _make_displacement_conv_layers(self, in_channels: int,
                                       out_channels: int, num_filters: int,
                                       groups: int) -> Sequential:
        """SAMKR's displacement branch: a 1x1 convolution + BN + ReLU to
        ``k * c`` channels (eq. 1), the adaptive blocks with a group per
        branch (eq. 2, 7-8), the subspace attention with ``g`` subspaces per
        branch (eq. 3-5, 9) and a 1x1 convolution grouped by branch to the
        2k offsets (eq. 6); one branch of ``k * c`` channels without
        ``per_keypoint_branches`` (Table 1, first row).

        Args:
            in_channels (int): Number of input channels.
            out_channels (int): Number of offset channels (2k).
            num_filters (int): Channels of all branches together (k * c).
            groups (int): Number of keypoints k.

        Returns:
            Sequential: The displacement branch.
        """
        branches = groups if self.per_keypoint_branches else 1
        return self.displacement_layout.build(
            ConvModule(in_channels, num_filters, 1, norm_cfg=dict(type='BN')),
            [
                AdaptiveConvBlock(
                    num_filters,
                    num_filters,
                    groups=branches,
                    backend=self.deform_backend)
                for _ in range(self.num_adaptive_blocks)
            ], SubspaceAttention(num_filters, branches * self.num_subspaces),
            build_conv_layer(
                dict(type='Conv2d'),
                in_channels=num_filters,
                out_channels=out_channels,
                kernel_size=1,
                groups=branches))

    def loss(self,
             feats: Tuple[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """Calculate losses: :meth:`DEKRHead.loss`, or with a scale branch
        SWAHR's heatmap loss on the targets adapted to the predicted scales
        and its scale regulariser (``loss/heatmap_scale``).

        Args:
            feats (Tuple[Tensor]): The multi-stage features.
            batch_data_samples (List[:obj:`PoseDataSample`]): The batch
                data samples.
            train_cfg (dict): The runtime config for training process.
                Defaults to {}.

        Returns:
            dict: A dictionary of losses.
        """
        fields = [d.gt_fields for d in batch_data_samples]
        check_num_keypoints(self.num_keypoints,
                            fields[0].displacements.shape[0] // 2,
                            'the training targets have')
        if self.scale_conv_layers is None:
            return super().loss(feats, batch_data_samples, train_cfg)

        pred_heatmaps, pred_displacements = self.forward(feats)
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
        """Convert MMPose 0.x DEKR keys only in a state dict that has them
        (DEKRHead's hook converts all without version metadata), and refuse
        a SAMKR state dict whose shapes or displacement branch differ from
        this head's (:func:`check_samkr_state_dict`). Another head's, such
        as DEKR's, initialises the keys of equal shapes.

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
        check_samkr_state_dict(
            self.state_dict(), state_dict, prefix,
            self.displacement_layout.prefix(head=prefix),
            dict(
                num_keypoints=self.num_keypoints,
                num_channels_per_keypoint=self.num_channels_per_keypoint,
                num_subspaces=self.num_subspaces,
                num_adaptive_blocks=self.num_adaptive_blocks,
                per_keypoint_branches=self.per_keypoint_branches))

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> Predictions:
        """Predict the poses of a batch of images of one input size
        (:meth:`DEKRHead.predict` takes one image) from the outputs of
        :func:`forward_test`, which forwards the flipped features with the
        plain ones.

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): The multi-stage
                features, or a list of them per input scale.
            batch_data_samples (List[:obj:`PoseDataSample`]): The batch
                data samples.
            test_cfg (dict): The runtime config for testing, see
                :func:`forward_test` and :class:`BottomupPostProcessor`.
                Defaults to {}.

        Returns:
            Union[InstanceList | Tuple[InstanceList | PixelDataList]]: The
            poses of every image, and with ``test_cfg['output_heatmaps']``
            the heatmaps and displacements of the first input scale.
        """
        heatmaps, displacements = forward_test(self.forward, feats,
                                               batch_data_samples,
                                               self.num_keypoints, test_cfg)
        preds = self.decode(heatmaps, displacements, test_cfg,
                            batch_data_samples[0].metainfo)
        if not test_cfg.get('output_heatmaps', False):
            return preds
        return preds, [
            PixelData(heatmaps=heatmap, displacements=displacement)
            for heatmap, displacement in zip(heatmaps[0].detach(),
                                             displacements[0].detach())
        ]

    def decode(self,
               heatmaps: Sequence[Tensor],
               displacements: Sequence[Tensor],
               test_cfg: ConfigType = {},
               metainfo: dict = {}) -> InstanceList:
        """Decode poses from heatmaps and displacements of every input
        scale with :class:`BottomupPostProcessor`, whose call takes the
        same arguments."""
        if self.decoder is None:
            raise RuntimeError(
                f'The decoder has not been set in {type(self).__name__}. '
                'Please set the decoder configs in the init parameters to '
                'enable head methods `head.predict()` and `head.decode()`')
        return BottomupPostProcessor(self.decoder, self.rescore_net,
                                     self.num_keypoints)(heatmaps,
                                                         displacements,
                                                         test_cfg, metainfo)
