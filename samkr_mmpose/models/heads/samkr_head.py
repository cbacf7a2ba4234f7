# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import inspect
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.model import Sequential
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmpose.models.heads import DEKRHead
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import (ConfigType, Features, InstanceList,
                                 OptConfigType, OptSampleList, Predictions)
from samkr_mmpose.ops import check_backend
from ..layers import AdaptiveConvBlock, SubspaceAttention
from ..utils import heatmap_matching, pose_nms


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

    At test time :meth:`decode` adds DEKR's matching of the regressed
    keypoints to the heatmap peaks (Sec. II.C, ``match_heatmap``) and
    multi-scale testing (``multiscale_test``).

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
        them, and refuse a SAMKR head of another configuration.

        :meth:`DEKRHead._load_state_dict_pre_hook` converts every state dict
        without version metadata (a plain ``dict``, a safetensors file),
        which would rotate the heatmap channels of a current one.

        mmengine loads checkpoints non-strictly: it skips the weights whose
        shapes differ with a warning. A state dict of a SAMKR head (it holds
        the weights of a :class:`SubspaceAttention`) must therefore match
        this head exactly in shapes and displacement branch, or a
        ``ValueError`` lists the keys that differ: it comes from another
        ``k``, ``c``, ``g``, number of adaptive blocks or branch layout.
        A state dict of another head, such as DEKR's, still initialises the
        weights of the same names and shapes (the heatmap branch and the
        rescore net): fine-tuning from DEKR is intended.

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

        branch = f'{prefix}displacement_conv_layers.'
        if not any(
                key.startswith(branch) and '.pointwise.' in key
                for key in state_dict):
            return
        ours = {
            prefix + k: tuple(v.shape)
            for k, v in self.state_dict().items()
        }
        theirs = {
            k: tuple(v.shape)
            for k, v in state_dict.items() if k.startswith(prefix)
        }
        differences = [
            f'{key}: {theirs[key]} in the checkpoint, {ours[key]} here'
            for key in sorted(ours.keys() & theirs.keys())
            if ours[key] != theirs[key]
        ]
        for keys, where in ((theirs.keys() - ours.keys(), 'the checkpoint'),
                            (ours.keys() - theirs.keys(), 'this head')):
            differences += [
                f'{key}: only in {where}' for key in sorted(keys)
                if key.startswith(branch)
            ]
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
        """Predict the poses of a batch of images, see
        :meth:`DEKRHead.predict`, which takes one image only.

        The forward runs once on the whole batch, flipped features
        included; decoding runs per image. The inputs of a batch must share
        one input size (:class:`BatchedBottomupPoseEstimator` groups images
        by size). With ``test_cfg['multiscale_test']`` the features are a
        list with one entry per input scale (a pair of the plain and the
        flipped features with ``flip_test``): the input size first, then
        the scales in ``metainfo['aug_scales']``, as
        ``BottomupResize(aug_scales=[...])`` and
        :class:`BottomupPoseEstimator` give them. Flip test runs at every
        scale; :meth:`decode` merges the scales.

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): The multi-stage
                features, or a list of them per input scale.
            batch_data_samples (List[:obj:`PoseDataSample`]): The batch
                data samples.
            test_cfg (dict): The runtime config for testing, see
                :meth:`decode`. Defaults to {}.

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
            scales = self._test_scales(metainfo, len(feats))
        else:
            feats = [feats]

        heatmaps, displacements = [], []
        for feat, scale in zip(feats, scales):
            if test_cfg.get('flip_test', False):
                heatmap, displacement = self._forward_flip(
                    feat, scale, metainfo, test_cfg)
            else:
                heatmap, displacement = self.forward(feat)
            heatmaps.append(heatmap)
            displacements.append(displacement)

        preds = self.decode(heatmaps, displacements, test_cfg, metainfo)
        if not test_cfg.get('output_heatmaps', False):
            return preds
        pred_fields = [
            PixelData(heatmaps=heatmap, displacements=displacement)
            for heatmap, displacement in zip(heatmaps[0].detach(),
                                             displacements[0].detach())
        ]
        return preds, pred_fields

    def _forward_flip(self, feats: Sequence[Features], scale: float,
                      metainfo: dict,
                      test_cfg: ConfigType) -> Tuple[Tensor, Tensor]:
        """Forward the plain and the flipped features in one batch and
        average the outputs as :meth:`DEKRHead.predict` does.

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
        heatmaps, displacements = self.forward(
            [_join_halves(*pair) for pair in zip(*feats)])
        heatmaps, heatmaps_flip = heatmaps.chunk(2)
        displacements, displacements_flip = displacements.chunk(2)

        flip_indices = list(metainfo['flip_indices'])
        heatmaps_flip = flip_heatmaps(
            heatmaps_flip,
            flip_mode='heatmap',
            flip_indices=flip_indices + [len(flip_indices)],
            shift_heatmap=test_cfg.get('shift_heatmap', False))
        displacements_flip = flip_heatmaps(
            displacements_flip,
            flip_mode='offset',
            flip_indices=flip_indices,
            shift_heatmap=False)
        # the mirrored x of the heatmap grid is off by this much
        ratio = scale * metainfo['input_size'][0] / heatmaps.shape[-1]
        displacements_flip[:, ::2] += (ratio - 1) / ratio
        return ((heatmaps + heatmaps_flip) / 2,
                (displacements + displacements_flip) / 2)

    def decode(self,
               heatmaps: Sequence[Tensor],
               displacements: Sequence[Tensor],
               test_cfg: ConfigType = {},
               metainfo: dict = {}) -> InstanceList:
        """Decode poses from heatmaps and displacements, in DEKR's order.

        1. SPR decoding: one pose per instance-centre peak.
        2. With ``multiscale_test``: every scale is decoded and its poses
           are moved to the input frame of the first scale (the scale of
           ``metainfo['input_size']``); ``BottomupResize`` centres the
           resized image in its padded input, so a point ``x`` of scale
           ``s`` is ``(x - P_s / 2) / s + P_0 / 2`` there, with ``P`` the
           padded input size (heatmap size times the codec's input /
           heatmap ratio). The instance-centre scores of the other scales
           are scaled so that their highest one (if positive) is the
           highest one of the first scale (or 1 if it has none) times
           ``multiscale_score_decrease`` (DEKR's ``TEST.DECREASE``). The
           heatmaps of all scales are resampled to the heatmap grid of the
           first scale and averaged; the keypoint scores of all poses are
           read from this average. (DEKR averages at the input resolution.)
        3. Pose NMS (``nms_dist_thr``), on the keypoint scores.
        4. With ``match_heatmap``: :func:`heatmap_matching` on the
           (averaged) keypoint heatmaps upsampled to the input resolution
           as DEKR does (bilinear, heatmap pixel ``u`` at input pixel
           ``u * ratio``, border replicated), so that
           ``max_absorb_distance`` and DEKR's peak, window and sigma sizes
           are input pixels of the first scale. A keypoint is refined when
           its instance-centre score times its keypoint score exceeds
           ``adjust_threshold``; keypoint scores are kept.
        5. Rescoring of the matched poses by the rescore net.

        Step 3 runs before the rescore net in DEKR (and after it in
        :meth:`DEKRHead.decode`); the NMS only compares keypoints and
        keypoint scores, so without matching both orders give the same
        poses.

        Args:
            heatmaps (Sequence[Tensor]): Heatmaps of every input scale, in
                shape (B, K+1, H, W) each.
            displacements (Sequence[Tensor]): Displacements of every input
                scale, in shape (B, K*2, H, W) each.
            test_cfg (dict): The runtime config for testing. Besides
                DEKR's keys (``nms_dist_thr``, ``nms_joints_thr``,
                ``max_num_people``, also the number of heatmap peaks kept
                per keypoint for matching):

                - ``multiscale_test`` (bool): Merge all scales. Defaults
                  to ``False``.
                - ``multiscale_score_decrease`` (float): See step 2.
                  Defaults to 1.0 (DEKR's COCO configs use 0.9).
                - ``match_heatmap`` (bool): Match keypoints to heatmap
                  peaks (DEKR's ``TEST.MATCH_HMP``). Defaults to ``False``.
                - ``max_absorb_distance`` (float): In input pixels.
                  Defaults to 75.
                - ``adjust_threshold`` (float): Defaults to 0.05.

                Defaults to {}.
            metainfo (dict): The metainfo of the data sample; with
                ``multiscale_test`` it needs ``aug_scales``. Defaults to {}.

        Returns:
            List[InstanceData]: The poses of every image, with
            ``keypoints`` (N, K, 2) in input pixels and ``keypoint_scores``
            (N, K).
        """
        if self.decoder is None:
            raise RuntimeError(
                f'The decoder has not been set in {type(self).__name__}. '
                'Please set the decoder configs in the init parameters to '
                'enable head methods `head.predict()` and `head.decode()`')
        multiscale_test = test_cfg.get('multiscale_test', False)
        match_heatmap = test_cfg.get('match_heatmap', False)
        if (multiscale_test or match_heatmap) and (
                not self.decoder.generate_keypoint_heatmaps
                or heatmaps[0].shape[1] != self.num_keypoints + 1):
            raise ValueError(
                'multiscale_test and match_heatmap need keypoint heatmaps '
                '(an SPR codec with generate_keypoint_heatmaps=True), got '
                f'{heatmaps[0].shape[1]} heatmap channels and '
                'generate_keypoint_heatmaps='
                f'{self.decoder.generate_keypoint_heatmaps}')
        scales = (
            self._test_scales(metainfo, len(heatmaps))
            if multiscale_test else [1.])

        preds = []
        for b in range(heatmaps[0].shape[0]):
            if multiscale_test:
                heatmap, keypoints, root_scores, keypoint_scores = \
                    self._merge_scales([h[b] for h in heatmaps],
                                       [d[b] for d in displacements],
                                       scales, test_cfg)
            else:
                heatmap = heatmaps[0][b]
                keypoints, (root_scores, keypoint_scores) = \
                    self.decoder.decode(heatmap, displacements[0][b])

            if test_cfg.get('nms_dist_thr', 0) > 0:
                keep = pose_nms(
                    keypoints,
                    keypoint_scores,
                    test_cfg['nms_dist_thr'],
                    test_cfg.get('nms_joints_thr', None),
                    max_dets=test_cfg.get('max_num_people', 30))
                keypoints, root_scores, keypoint_scores = (
                    keypoints[keep], root_scores[keep], keypoint_scores[keep])

            if match_heatmap and len(keypoints) > 0:
                keypoints = self._match_heatmap(
                    keypoints, root_scores[:, None] * keypoint_scores,
                    heatmap[:self.num_keypoints], test_cfg)

            skeleton = metainfo.get('skeleton_links', None)
            if self.rescore_net is not None and skeleton and len(
                    keypoints) > 0:
                instance_scores = self.rescore_net(keypoints, keypoint_scores,
                                                   skeleton)
                instance_scores[torch.isnan(instance_scores)] = 0
                root_scores = root_scores * instance_scores

            keypoints, keypoint_scores, root_scores = to_numpy(
                (keypoints, keypoint_scores, root_scores))
            preds.append(
                InstanceData(
                    keypoints=keypoints,
                    keypoint_scores=root_scores[:, None] * keypoint_scores))
        return preds

    @staticmethod
    def _test_scales(metainfo: dict, num_inputs: int) -> List[float]:
        """The input scales of a multi-scale test: 1, then ``aug_scales``.

        Args:
            metainfo (dict): The metainfo of the data sample.
            num_inputs (int): Number of inputs (features or heatmaps).

        Returns:
            List[float]: The scale of every input.
        """
        aug_scales = metainfo.get('aug_scales', None)
        if not isinstance(aug_scales, list) or not all(
                isinstance(s,
                           (int, float)) and not isinstance(s, bool) and s > 0
                for s in aug_scales):
            raise ValueError(
                'multiscale_test needs metainfo["aug_scales"], the list of '
                'positive extra input scales set by BottomupResize('
                'aug_scales=[...]) (add "aug_scales" to the meta_keys of '
                f'the packing transform), got {aug_scales!r}')
        if num_inputs != len(aug_scales) + 1:
            raise ValueError(
                f'multiscale_test got {num_inputs} inputs for the input size '
                f'and aug_scales={aug_scales}, expected '
                f'{len(aug_scales) + 1}')
        return [1.] + [float(s) for s in aug_scales]

    def _merge_scales(self, heatmaps: List[Tensor],
                      displacements: List[Tensor], scales: List[float],
                      test_cfg: ConfigType
                      ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Decode every input scale of one image and merge them in the frame
        of the first scale (step 2 of :meth:`decode`).

        Args:
            heatmaps (List[Tensor]): Heatmaps (K+1, H, W) of every scale.
            displacements (List[Tensor]): Displacements (K*2, H, W) of every
                scale.
            scales (List[float]): The scale of every input, 1 first.
            test_cfg (dict): The runtime config for testing.

        Returns:
            tuple:
            - heatmap (Tensor): Average heatmaps (K+1, H, W) on the
              heatmap grid of the first scale.
            - keypoints (Tensor): Poses (N, K, 2) of all scales in input
              pixels of the first scale.
            - root_scores (Tensor): Instance-centre scores (N, ).
            - keypoint_scores (Tensor): Keypoint scores (N, K) read from
              ``heatmap``.
        """
        ratio = torch.as_tensor(self.decoder.scale_factor.tolist())
        base_size = torch.tensor(heatmaps[0].shape[:0:-1], dtype=ratio.dtype)
        decrease = test_cfg.get('multiscale_score_decrease', 1.)
        resampled, all_keypoints, all_root_scores = [], [], []
        for heatmap, displacement, scale in zip(heatmaps, displacements,
                                                scales):
            keypoints, (root_scores,
                        _) = self.decoder.decode(heatmap, displacement)
            # heatmap coordinate of this scale = scale * base one + shift
            size = torch.tensor(heatmap.shape[:0:-1], dtype=ratio.dtype)
            # BottomupResize('expand') fills the short side exactly; it is
            # off the nominal scale when it rounds up to its size_factor
            if abs(size.min() - scale * base_size.min()) > 0.5:
                raise ValueError(
                    f'the input at scale {scale} has heatmaps of size '
                    f'{tuple(size.int().tolist())}, not {scale} x '
                    f'{tuple(base_size.int().tolist())} on the short side: '
                    'choose input sizes and aug_scales whose products are '
                    'multiples of the size_factor of BottomupResize')
            shift = (size - scale * base_size) / 2
            if scale != 1 or shift.any():
                heatmap = _resample(heatmap, heatmaps[0].shape[1:], scale,
                                    shift)
                keypoints = (keypoints - (shift * ratio).to(keypoints)) / scale
            if all_root_scores and len(root_scores) > 0 and (root_scores.max()
                                                             > 0):
                base = all_root_scores[0]
                top = base.max() if len(base) > 0 else 1.
                root_scores = root_scores / root_scores.max() * top * decrease
            resampled.append(heatmap)
            all_keypoints.append(keypoints)
            all_root_scores.append(root_scores)

        heatmap = torch.stack(resampled).mean(0)
        keypoints = torch.cat(all_keypoints)
        keypoint_scores = keypoints.new_zeros(keypoints.shape[:2])
        if len(keypoints) > 0:
            keypoint_scores = self.decoder.get_keypoint_scores(
                heatmap[:self.num_keypoints], keypoints / ratio.to(keypoints))
        return heatmap, keypoints, torch.cat(all_root_scores), keypoint_scores

    def _match_heatmap(self, keypoints: Tensor, scores: Tensor,
                       heatmaps: Tensor, test_cfg: ConfigType) -> Tensor:
        """Match keypoints to the peaks of the heatmaps upsampled to the
        input resolution (step 4 of :meth:`decode`).

        Args:
            keypoints (Tensor): Keypoints (N, K, 2) in input pixels.
            scores (Tensor): Keypoint scores (N, K) for the refinement
                threshold.
            heatmaps (Tensor): Keypoint heatmaps (K, H, W).
            test_cfg (dict): The runtime config for testing.

        Returns:
            Tensor: The matched keypoints (N, K, 2).
        """
        ratio = self.decoder.scale_factor.tolist()
        input_size = [
            round(n * r) for n, r in zip(heatmaps.shape[:0:-1], ratio)
        ]
        upsampled = _resample(heatmaps, input_size[::-1],
                              torch.tensor([1 / r for r in ratio]),
                              torch.zeros(2))
        return heatmap_matching(
            keypoints,
            scores,
            upsampled,
            max_absorb_distance=test_cfg.get('max_absorb_distance', 75.),
            adjust_threshold=test_cfg.get('adjust_threshold', 0.05),
            max_peaks=test_cfg.get('max_num_people', 30))


def _join_halves(first: Tensor, second: Tensor) -> Tensor:
    """``torch.cat((first, second))``, without copying when ``second``
    follows ``first`` in memory, as the halves of one batch do (see
    :class:`BatchedBottomupPoseEstimator`).

    Args:
        first (Tensor): The first batch.
        second (Tensor): The second batch, of the same shape.

    Returns:
        Tensor: Both batches in one.
    """
    if (first.shape == second.shape and first.is_contiguous()
            and second.is_contiguous() and first.untyped_storage().data_ptr()
            == second.untyped_storage().data_ptr() and second.storage_offset()
            == first.storage_offset() + first.numel()):
        shape = (2 * len(first), *first.shape[1:])
        # the strides of a contiguous layout: is_contiguous() ignores the
        # recorded strides of dimensions of size 1
        return first.as_strided(shape,
                                torch.empty(shape, device='meta').stride())
    return torch.cat((first, second))


def _resample(maps: Tensor, size: Sequence[int], scale: Union[float, Tensor],
              shift: Tensor) -> Tensor:
    """Bilinearly sample maps at ``scale * v + shift`` for every pixel ``v``
    of the output, replicating the border.

    Args:
        maps (Tensor): Maps in shape (C, H, W).
        size (Sequence[int]): Output size (h, w).
        scale (float | Tensor): Scale, or scales (x, y).
        shift (Tensor): Shift (x, y) in pixels of ``maps``.

    Returns:
        Tensor: The sampled maps in shape (C, h, w).
    """
    height, width = maps.shape[-2:]
    factory = dict(dtype=maps.dtype, device=maps.device)
    scale = torch.as_tensor(scale, **factory).expand(2)
    shift = shift.to(maps)
    x = torch.arange(size[1], **factory) * scale[0] + shift[0]
    y = torch.arange(size[0], **factory) * scale[1] + shift[1]
    # grid_sample's [-1, 1] spans the pixel centres with align_corners
    grid = torch.stack(
        torch.broadcast_tensors(x[None] / (width - 1) * 2 - 1,
                                y[:, None] / (height - 1) * 2 - 1), -1)
    return F.grid_sample(
        maps[None], grid[None], padding_mode='border', align_corners=True)[0]
