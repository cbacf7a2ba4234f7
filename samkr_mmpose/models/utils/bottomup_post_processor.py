# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import List, Optional, Sequence

import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, InstanceList
from .dekr_protocol import get_test_protocol, to_input_resolution
from .heatmap_matching import heatmap_matching
from .input_scales import input_scales
from .merge_scales import merge_scales
from .pose_nms import pose_nms


class BottomupPostProcessor:
    """DEKR's test-time post-processing of heatmaps and displacements into
    poses, in DEKR's order, one image after the other.

    1. SPR decoding: one pose per instance-centre peak.
    2. With ``multiscale_test``: every input scale is decoded, its poses
       moved to the input frame of the first scale (the scale of
       ``metainfo['input_size']``) and its heatmaps averaged with the
       others', see :func:`merge_scales`.
    3. Pose NMS (``nms_dist_thr``), on the keypoint scores.
    4. With ``match_heatmap``: :func:`heatmap_matching` (DEKR Sec. 3.4,
       SAMKR Sec. II.C) on the (averaged) keypoint heatmaps upsampled to
       the input resolution as DEKR does (bilinear, heatmap pixel ``u`` at
       input pixel ``u * ratio``, border replicated), so that
       ``max_absorb_distance`` and DEKR's peak, window and sigma sizes are
       input pixels of the first scale. A keypoint is refined when its
       instance-centre score times its keypoint score exceeds
       ``adjust_threshold``; keypoint scores are kept.
    5. Rescoring of the matched poses by the rescore net.

    Step 3 runs before the rescore net in DEKR (and after it in
    :meth:`DEKRHead.decode`); the NMS only compares keypoints and keypoint
    scores, so without matching both orders give the same poses.

    ``test_cfg['protocol']`` chooses MMPose's decoding (``'mmpose'``, the
    default) or official DEKR's (``'dekr'``: its centre pooling, keypoint
    scores read at the floored keypoints of heatmaps at the input
    resolution, multi-scale heatmaps averaged there, and the NMS visiting
    the poses in decoding order; see :mod:`.dekr_protocol`).

    It serves :class:`SAMKRHead` and MMPose's :class:`DEKRHead` alike:
    ``BottomupPostProcessor(head.decoder, head.rescore_net,
    head.num_keypoints)(heatmaps, displacements, test_cfg, metainfo)``.

    Args:
        decoder (SPR): The SPR codec of the head.
        rescore_net (nn.Module, optional): DEKR's rescore net.
        num_keypoints (int): Number of keypoints K.
    """

    def __init__(self, decoder, rescore_net: Optional[nn.Module],
                 num_keypoints: int) -> None:
        self.decoder = decoder
        self.rescore_net = rescore_net
        self.num_keypoints = num_keypoints

    def __call__(self,
                 heatmaps: Sequence[Tensor],
                 displacements: Sequence[Tensor],
                 test_cfg: ConfigType = {},
                 metainfo: dict = {}) -> InstanceList:
        """Decode the poses of every image of a batch.

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
                - ``protocol`` (str): ``'mmpose'`` or ``'dekr'``. Defaults
                  to ``'mmpose'``.

                Defaults to {}.
            metainfo (dict): The metainfo of the data sample; with
                ``multiscale_test`` it needs ``aug_scales``. Defaults to {}.

        Returns:
            List[InstanceData]: The poses of every image, with
            ``keypoints`` (N, K, 2) in input pixels and ``keypoint_scores``
            (N, K).
        """
        multiscale_test = test_cfg.get('multiscale_test', False)
        needs_heatmaps = (
            multiscale_test or test_cfg.get('match_heatmap', False)
            or get_test_protocol(test_cfg) == 'dekr')
        if needs_heatmaps and (not self.decoder.generate_keypoint_heatmaps or
                               heatmaps[0].shape[1] != self.num_keypoints + 1):
            raise ValueError(
                "multiscale_test, match_heatmap and protocol='dekr' need "
                'keypoint heatmaps '
                '(an SPR codec with generate_keypoint_heatmaps=True), got '
                f'{heatmaps[0].shape[1]} heatmap channels and '
                'generate_keypoint_heatmaps='
                f'{self.decoder.generate_keypoint_heatmaps}')
        scales = (
            input_scales(metainfo, len(heatmaps)) if multiscale_test else [1.])
        return [
            self.process_image([h[b] for h in heatmaps],
                               [d[b] for d in displacements], scales, test_cfg,
                               metainfo) for b in range(heatmaps[0].shape[0])
        ]

    def process_image(self, heatmaps: List[Tensor],
                      displacements: List[Tensor], scales: List[float],
                      test_cfg: ConfigType, metainfo: dict) -> InstanceData:
        """Decode the poses of one image (steps 1-5).

        Args:
            heatmaps (List[Tensor]): Heatmaps (K+1, H, W) of every scale.
            displacements (List[Tensor]): Displacements (K*2, H, W) of
                every scale.
            scales (List[float]): The scale of every input, 1 first.
            test_cfg (dict): The runtime config for testing.
            metainfo (dict): The metainfo of the data sample.

        Returns:
            InstanceData: The poses, ``keypoints`` and ``keypoint_scores``.
        """
        protocol = get_test_protocol(test_cfg)
        if test_cfg.get('multiscale_test', False) or protocol == 'dekr':
            heatmap, keypoints, root_scores, keypoint_scores = merge_scales(
                self.decoder, heatmaps, displacements, scales,
                self.num_keypoints,
                test_cfg.get('multiscale_score_decrease', 1.), protocol)
        else:
            heatmap = heatmaps[0]
            keypoints, (root_scores, keypoint_scores) = \
                self.decoder.decode(heatmap, displacements[0])

        if test_cfg.get('nms_dist_thr', 0) > 0:
            keep = pose_nms(
                keypoints,
                keypoint_scores,
                test_cfg['nms_dist_thr'],
                test_cfg.get('nms_joints_thr', None),
                max_dets=test_cfg.get('max_num_people', 30),
                visit='index' if protocol == 'dekr' else 'score')
            keypoints, root_scores, keypoint_scores = (keypoints[keep],
                                                       root_scores[keep],
                                                       keypoint_scores[keep])

        if test_cfg.get('match_heatmap', False) and len(keypoints) > 0:
            keypoints = self.match_heatmap(
                keypoints,
                root_scores[:, None] * keypoint_scores,
                heatmap[:self.num_keypoints],
                test_cfg,
                upsample=protocol == 'mmpose')

        skeleton = metainfo.get('skeleton_links', None)
        if self.rescore_net is not None and skeleton and len(keypoints) > 0:
            instance_scores = self.rescore_net(keypoints, keypoint_scores,
                                               skeleton)
            instance_scores[torch.isnan(instance_scores)] = 0
            root_scores = root_scores * instance_scores

        keypoints, keypoint_scores, root_scores = to_numpy(
            (keypoints, keypoint_scores, root_scores))
        return InstanceData(
            keypoints=keypoints,
            keypoint_scores=root_scores[:, None] * keypoint_scores)

    def match_heatmap(self,
                      keypoints: Tensor,
                      scores: Tensor,
                      heatmaps: Tensor,
                      test_cfg: ConfigType,
                      upsample: bool = True) -> Tensor:
        """Match keypoints to the peaks of the heatmaps upsampled to the
        input resolution (step 4).

        Args:
            keypoints (Tensor): Keypoints (N, K, 2) in input pixels.
            scores (Tensor): Keypoint scores (N, K) for the refinement
                threshold.
            heatmaps (Tensor): Keypoint heatmaps (K, H, W).
            test_cfg (dict): The runtime config for testing.
            upsample (bool): Whether ``heatmaps`` are at the heatmap
                resolution, to upsample; else at the input resolution.
                Defaults to ``True``.

        Returns:
            Tensor: The matched keypoints (N, K, 2).
        """
        if upsample:
            ratio = self.decoder.scale_factor.tolist()
            input_size = [
                round(n * r) for n, r in zip(heatmaps.shape[:0:-1], ratio)
            ]
            heatmaps = to_input_resolution(heatmaps, ratio, input_size[::-1])
        return heatmap_matching(
            keypoints,
            scores,
            heatmaps,
            max_absorb_distance=test_cfg.get('max_absorb_distance', 75.),
            adjust_threshold=test_cfg.get('adjust_threshold', 0.05),
            max_peaks=test_cfg.get('max_num_people', 30))
