# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Dict, Iterable, List, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from torch import Tensor, nn

from mmpose.models.pose_estimators import BottomupPoseEstimator
from .best_match_oks import best_match_oks


class _RescoreInputRecorder(nn.Module):
    """Stands in for the rescore net: keeps its inputs, scores 1."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: List[Tuple[Tensor, Tensor]] = []

    def forward(self, keypoints: Tensor, keypoint_scores: Tensor,
                skeleton: List[List[int]]) -> Tensor:
        self.calls.append((keypoints.detach().cpu().float(),
                           keypoint_scores.detach().cpu().float()))
        return keypoint_scores.new_ones(len(keypoints))


def _ground_truths(dataset, use_area: bool,
                   iou_type: str) -> Dict[int, Dict[str, np.ndarray]]:
    """The COCO annotations of every image of a bottom-up dataset, as
    ``xtcocotools`` ``COCOeval`` reads them (``ignore``: crowd, or no
    labelled keypoints; ``num_keypoints == 0`` for ``keypoints_crowd``)."""
    ground_truths = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        anns = [a for a in info.get('raw_ann_info') or [] if a is not None]
        if not anns:
            continue
        keypoints = np.array([a['keypoints'] for a in anns],
                             dtype=np.float64).reshape(len(anns), -1, 3)
        bboxes = np.array([a['bbox'] for a in anns], dtype=np.float64)
        areas = np.array([
            a['area'] if use_area and 'area' in a else 0.53 * b[2] * b[3]
            for a, b in zip(anns, bboxes)
        ])
        if iou_type == 'keypoints_crowd':
            labelled = np.array([a['num_keypoints'] for a in anns])
        else:
            labelled = (keypoints[..., 2] > 0).sum(1)
        ignore = np.array([bool(a.get('iscrowd', 0)) for a in anns])
        ground_truths[info['img_id']] = dict(
            keypoints=keypoints,
            bboxes=bboxes,
            areas=areas,
            ignore=ignore | (labelled == 0))
    return ground_truths


@torch.no_grad()
def collect_rescore_samples(model: BottomupPoseEstimator,
                            data_loader: Iterable,
                            use_area: bool = True,
                            iou_type: str = 'keypoints',
                            log_interval: int = 100) -> Dict[str, np.ndarray]:
    """Run a bottom-up model over a dataset and keep, for every predicted
    pose, what its rescore net sees at test time and the OKS it should
    predict: the data of DEKR's rescore net (``tools/train_scorenet.py``).

    The model runs as at test time with its ``test_cfg`` (flip test, NMS,
    heatmap matching, multi-scale test), with a stand-in for the rescore
    net that records its inputs, the keypoints in input pixels and the
    keypoint scores after NMS and matching, and leaves the poses and their
    scores as they are. The OKS is computed in image pixels against the
    dataset's own annotations, see :func:`best_match_oks`. Images without
    annotations are skipped.

    Args:
        model (BottomupPoseEstimator): The model in eval mode, with a head
            that calls ``rescore_net(keypoints, keypoint_scores,
            skeleton)`` when decoding (e.g. :class:`SAMKRHead`).
        data_loader (Iterable): Batches of one image through the test
            pipeline, which must pack ``img_id`` and ``skeleton_links``
            into the metainfo. Its ``dataset`` gives the annotations
            (``raw_ann_info``) and ``sigmas``.
        use_area (bool): OKS with the annotated ``area`` (COCO) or
            ``0.53 * w * h`` of the box (CrowdPose), as the ``use_area``
            of :class:`CocoMetric`. Defaults to ``True``.
        iou_type (str): The ``iou_type`` of :class:`CocoMetric`;
            ``'keypoints_crowd'`` ignores ground truths with
            ``num_keypoints == 0``. Defaults to ``'keypoints'``.
        log_interval (int): Log progress every this many images. Defaults
            to 100.

    Returns:
        dict: For the N poses:

        - ``keypoints`` (np.ndarray): The rescore net's keypoints (N, K, 2)
          in input pixels.
        - ``keypoint_scores`` (np.ndarray): Its keypoint scores (N, K).
        - ``scores`` (np.ndarray): The pose scores (N, ) without rescoring:
          the mean keypoint score of the prediction (the score of
          ``CocoMetric(score_mode='keypoint')``, DEKR's), which the rescore
          net multiplies.
        - ``oks`` (np.ndarray): The OKS with the best-matching ground
          truth (N, ).
        - ``img_ids`` (np.ndarray): The image of every pose (N, ).
    """
    dataset = data_loader.dataset
    ground_truths = _ground_truths(dataset, use_area, iou_type)
    sigmas = np.asarray(dataset.metainfo['sigmas'])
    recorder = _RescoreInputRecorder()
    samples = dict(
        keypoints=[], keypoint_scores=[], scores=[], oks=[], img_ids=[])
    head, rescore_net = model.head, model.head.rescore_net
    head.rescore_net = recorder
    try:
        for index, data_batch in enumerate(data_loader):
            if len(data_batch['data_samples']) != 1:
                raise ValueError(
                    'collect_rescore_samples needs batches of one image, got '
                    f'{len(data_batch["data_samples"])}')
            recorder.calls.clear()
            (sample, ) = model.test_step(data_batch)
            if (index + 1) % log_interval == 0:
                print_log(
                    f'rescore samples: {index + 1} / {len(data_loader)} '
                    f'images, {sum(map(len, samples["oks"]))} poses',
                    logger='current')
            pred = sample.pred_instances
            img_id = sample.metainfo['img_id']
            if len(pred) == 0 or img_id not in ground_truths:
                continue
            if len(recorder.calls) != 1:
                raise ValueError(
                    f'the head rescored {len(recorder.calls)} times for '
                    f'{len(pred)} poses of image {img_id}, expected once: '
                    'the test pipeline must pack "skeleton_links" into the '
                    'metainfo (PackPoseInputs meta_keys)')
            keypoints, keypoint_scores = recorder.calls[0]
            if len(keypoints) != len(pred):
                raise ValueError(
                    f'the head rescored {len(keypoints)} poses and predicted '
                    f'{len(pred)} for image {img_id}')
            gt = ground_truths[img_id]
            samples['keypoints'].append(keypoints.numpy())
            samples['keypoint_scores'].append(keypoint_scores.numpy())
            samples['scores'].append(np.mean(pred.keypoint_scores, 1))
            samples['oks'].append(
                best_match_oks(pred.keypoints, gt['keypoints'], gt['bboxes'],
                               gt['areas'], gt['ignore'], sigmas))
            samples['img_ids'].append(np.full(len(pred), img_id))
    finally:
        head.rescore_net = rescore_net
    if not samples['oks']:
        raise ValueError('the model predicted no pose on an annotated image')
    return {key: np.concatenate(value) for key, value in samples.items()}
