# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional

import numpy as np


def pose_nms(keypoints: np.ndarray,
             scores: np.ndarray,
             dist_thr: float = 0.05,
             num_nearby_joints_thr: Optional[int] = None,
             max_dets: int = 30) -> np.ndarray:
    """DEKR's nearby-joints pose NMS in NumPy, the rule of
    :func:`samkr_mmpose.models.utils.pose_nms`.

    Pose ``j`` is close to pose ``i`` when more than
    ``num_nearby_joints_thr`` of their keypoints lie closer than
    ``dist_thr`` times the diagonal of the bounding box of pose ``i``; a
    pose is always close to itself. Visiting the poses by decreasing mean
    keypoint score, each pose not yet suppressed keeps the best-scoring pose
    close to it, unless that one is suppressed, and then suppresses all
    poses close to it. At most ``max_dets`` poses of the highest scores are
    returned. Ties are decided by index (stable sorts): equal mean scores
    are visited by increasing index, and the best close pose is the one of
    the lowest index among equals.

    Args:
        keypoints (np.ndarray): Poses in shape (N, K, 2).
        scores (np.ndarray): Keypoint scores in shape (N, K).
        dist_thr (float): Distance threshold relative to the pose diagonal.
            Defaults to 0.05.
        num_nearby_joints_thr (int, optional): Close keypoints needed to
            call two poses close. Defaults to ``K // 2``.
        max_dets (int): Most poses kept; 0 or less keeps all. Defaults to
            30.

    Returns:
        np.ndarray: Indices of the kept poses in the order in which the pass
        keeps them; when ``max_dets`` truncates, the ``max_dets`` of the
        highest mean scores, by decreasing score and equal scores in that
        order.
    """
    num_people, num_joints = keypoints.shape[:2]
    if dist_thr <= 0:
        raise ValueError(f'dist_thr must be positive, got {dist_thr}')
    if num_nearby_joints_thr is None:
        num_nearby_joints_thr = num_joints // 2
    if not 0 <= num_nearby_joints_thr < num_joints:
        raise ValueError(
            f'num_nearby_joints_thr must be in [0, {num_joints}) for '
            f'{num_joints} keypoints, got {num_nearby_joints_thr}')

    scores = scores.mean(-1)
    diagonal = np.linalg.norm(keypoints.max(1) - keypoints.min(1), axis=-1)
    distances = np.linalg.norm(keypoints[:, None] - keypoints, axis=-1)
    close = ((distances < diagonal[:, None, None] * dist_thr).sum(-1)
             > num_nearby_joints_thr)
    np.fill_diagonal(close, True)

    masked = np.where(close, scores, -np.inf)
    suppressed = np.zeros(num_people, dtype=bool)
    kept = []
    for i in np.argsort(-scores, kind='stable'):
        best = masked[i].argmax()
        if not suppressed[i] and not suppressed[best]:
            suppressed |= close[i]
            kept.append(best)
    kept = np.array(kept, dtype=np.int64)

    if 0 < max_dets < len(kept):
        kept = kept[np.argsort(-scores[kept], kind='stable')[:max_dets]]
    return kept
