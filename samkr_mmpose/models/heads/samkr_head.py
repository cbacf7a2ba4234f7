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
from ..layers import (AdaptiveConvBlock, DisplacementBranchLayout,
                      SubspaceAttention, check_displacement_branch)
from ..utils import (BottomupPostProcessor, check_num_keypoints, input_scales,
                     merge_flipped, state_dict_differences)


@MODELS.register_module()
class SAMKRHead(DEKRHead):
    """Keypoint regression head with subspace attention (SAMKR, "SAMKR:
    Bottom-up Keypoint Regression Pose Estimation Method Based On Subspace
    Attention Module", Chen, Zhou, Liu and Zhang).

    MMPose's :class:`DEKRHead` with SAMKR's displacement branch (eq. 1-9,
    see :class:`DisplacementBranchLayout`), batched flip test
    (:func:`merge_flipped`) and DEKR's multi-scale test and heatmap
    matching (:class:`BottomupPostProcessor`). ``scale_loss`` adds SWAHR's
    scale branch, whose scale maps adapt the heatmap targets in training.
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
            # SWAHR's scale branch, one map per keypoint; zero scales: training
            # starts from the unadapted targets
            self.scale_conv_layers = Sequential(
                ConvModule(
                    in_channels, num_keypoints, 1, norm_cfg=dict(type='BN')),
                build_conv_layer(
                    dict(type='Conv2d'),
                    num_keypoints,
                    num_keypoints,
                    kernel_size=9,
                    padding=4,
                    groups=num_keypoints),
                init_cfg=dict(type='Constant', val=0, override=dict(name='1')))

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
        a SAMKR state dict (with :class:`SubspaceAttention` weights) whose
        shapes or displacement branch differ from this head's, which
        mmengine's non-strict loading would skip with a warning. Another
        head's, such as DEKR's, initialises the keys of equal shapes.

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
        branch = self.displacement_layout.prefix(head=prefix)
        # the attention's index depends on the config, its name does not
        if not any(
                key.startswith(branch) and '.pointwise.' in key
                for key in state_dict):
            return
        ours = {prefix + k: v for k, v in self.state_dict().items()}
        theirs = {k: v for k, v in state_dict.items() if k.startswith(prefix)}
        differences = state_dict_differences(ours, theirs, branch)
        if differences:
            raise ValueError(
                'the checkpoint holds a SAMKR head of another configuration '
                f'than this one (num_keypoints={self.num_keypoints}, '
                'num_channels_per_keypoint='
                f'{self.num_channels_per_keypoint}, num_subspaces='
                f'{self.num_subspaces}, num_adaptive_blocks='
                f'{self.num_adaptive_blocks}, per_keypoint_branches='
                f'{self.per_keypoint_branches}):\n' + '\n'.join(differences) +
                '\nUse the config it was trained with, or initialise only '
                'the backbone from it: model.backbone.init_cfg=dict('
                "type='Pretrained', prefix='backbone.', checkpoint=...)")

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> Predictions:
        """Predict the poses of a batch of images of one input size
        (:meth:`DEKRHead.predict` takes one image), forwarding the flipped
        features with the plain ones.

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): The multi-stage
                features, or a list of them per input scale.
            batch_data_samples (List[:obj:`PoseDataSample`]): The batch
                data samples.
            test_cfg (dict): The runtime config for testing, see
                :class:`BottomupPostProcessor`. Defaults to {}.

        Returns:
            Union[InstanceList | Tuple[InstanceList | PixelDataList]]: The
            poses of every image, and with ``test_cfg['output_heatmaps']``
            the heatmaps and displacements of the first input scale.
        """
        input_sizes = {
            tuple(sample.metainfo['input_size'])
            for sample in batch_data_samples
        }
        if len(input_sizes) > 1:
            raise ValueError(
                f'{type(self).__name__}.predict takes a batch of one input '
                f'size, got {sorted(input_sizes)}; '
                'BatchedBottomupPoseEstimator groups images by size')
        metainfo = batch_data_samples[0].metainfo
        scales = [1.]
        if test_cfg.get('multiscale_test', False):
            scales = input_scales(metainfo, len(feats))
        else:
            feats = [feats]

        heatmaps, displacements = [], []
        for feat, scale in zip(feats, scales):
            heatmap, displacement = (
                self._forward_flip(feat, scale, metainfo, test_cfg)
                if test_cfg.get('flip_test', False) else self.forward(feat))
            heatmaps.append(heatmap)
            displacements.append(displacement)

        preds = self.decode(heatmaps, displacements, test_cfg, metainfo)
        if not test_cfg.get('output_heatmaps', False):
            return preds
        return preds, [
            PixelData(heatmaps=heatmap, displacements=displacement)
            for heatmap, displacement in zip(heatmaps[0].detach(),
                                             displacements[0].detach())
        ]

    def _forward_flip(self, feats: Sequence[Features], scale: float,
                      metainfo: dict,
                      test_cfg: ConfigType) -> Tuple[Tensor, Tensor]:
        """Forward the plain and flipped features as one batch, merged by
        :func:`merge_flipped`.

        Args:
            feats (Sequence[Tuple[Tensor]]): The plain and the flipped
                multi-stage features.
            scale (float): The input scale of the features.
            metainfo (dict): The metainfo with ``flip_indices`` and
                ``input_size``.
            test_cfg (dict): The runtime config for testing.

        Returns:
            tuple: The flip-averaged heatmaps (B, K+1, H, W) and
            displacements (B, 2K, H, W).
        """
        if not isinstance(feats, (list, tuple)) or len(feats) != 2:
            raise ValueError(
                'flip_test needs a pair of the plain and the flipped '
                f'features, got {type(feats).__name__}')
        flip_indices = metainfo['flip_indices']
        check_num_keypoints(self.num_keypoints, len(flip_indices),
                            'flip_test got flip_indices of')
        heatmaps, displacements = self.forward(
            [torch.cat(pair) for pair in zip(*feats)])
        heatmaps, flipped_heatmaps = heatmaps.chunk(2)
        displacements, flipped_displacements = displacements.chunk(2)
        return merge_flipped(
            heatmaps,
            displacements,
            flipped_heatmaps,
            flipped_displacements,
            flip_indices,
            scale * metainfo['input_size'][0],
            shift_heatmap=test_cfg.get('shift_heatmap', False))

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
