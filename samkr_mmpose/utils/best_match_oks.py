# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import numpy as np


def best_match_oks(keypoints: np.ndarray, gt_keypoints: np.ndarray,
                   gt_bboxes: np.ndarray, gt_areas: np.ndarray,
                   gt_ignore: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """The OKS of every predicted pose with its best-matching ground truth,
    the regression target of DEKR's rescore net.

    The OKS is COCO's (``xtcocotools`` ``COCOeval.computeOks``): the mean
    of ``exp(-d^2 / (2 * area * (2 * sigma)^2))`` over the labelled
    keypoints of the ground truth; against a ground truth without labelled
    keypoints, ``d`` is each keypoint's distance to its box grown by the
    box size on every side, averaged over all keypoints. The best match is
    the one DEKR's rescore data takes from ``COCOeval.evaluateImg``
    without the one-to-one assignment: the highest OKS with a ground truth
    that is not ignored, or with an ignored one (crowd, no labelled
    keypoints) when the image has no other.

    Args:
        keypoints (np.ndarray): Predicted keypoints (N, K, 2).
        gt_keypoints (np.ndarray): Ground-truth keypoints (M, K, 3) with
            COCO's visibility flags (0 means unlabelled).
        gt_bboxes (np.ndarray): Ground-truth boxes (M, 4) as (x, y, w, h).
        gt_areas (np.ndarray): Ground-truth areas (M, ) (COCO's ``area``;
            ``0.53 * w * h`` where the evaluator has ``use_area=False``).
        gt_ignore (np.ndarray): Whether each ground truth is ignored (M, ).
        sigmas (np.ndarray): The dataset's keypoint sigmas (K, ).

    Returns:
        np.ndarray: The best OKS of every prediction (N, ).
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    gt_keypoints = np.asarray(gt_keypoints, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    num_gts, num_keypoints = gt_keypoints.shape[:2]
    if num_gts == 0:
        raise ValueError('best_match_oks needs at least one ground truth, '
                         f'got gt_keypoints of shape {gt_keypoints.shape}')
    if (keypoints.shape[1:] != (num_keypoints, 2) or gt_keypoints.shape[2] != 3
            or sigmas.shape != (num_keypoints, )):
        raise ValueError(
            f'keypoints {keypoints.shape}, gt_keypoints {gt_keypoints.shape} '
            f'and sigmas {sigmas.shape} must be (N, K, 2), (M, K, 3) and '
            f'(K, ) for one K')

    labelled = gt_keypoints[..., 2] > 0
    x, y, w, h = np.asarray(gt_bboxes, dtype=np.float64).T
    low = np.stack([x - w, y - h], -1)[:, None]
    high = np.stack([x + 2 * w, y + 2 * h], -1)[:, None]
    # (N, M, K, 2) offsets: to the keypoint, or out of the grown box
    offsets = np.where(
        labelled.any(1)[:, None, None],
        keypoints[:, None] - gt_keypoints[None, ..., :2],
        np.maximum(low - keypoints[:, None], 0) +
        np.maximum(keypoints[:, None] - high, 0))
    scale = 2 * (2 * sigmas)**2 * (
        np.asarray(gt_areas, dtype=np.float64)[:, None] + np.spacing(1))
    similarity = np.exp(-(offsets**2).sum(-1) / scale)
    weights = np.where(labelled.any(1)[:, None], labelled, True)
    oks = (similarity * weights).sum(-1) / weights.sum(-1)

    ignore = np.asarray(gt_ignore, dtype=bool)
    candidates = ~ignore if (~ignore).any() else ignore
    return oks[:, candidates].max(1)
