# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional

import torch
from torch import Tensor


def pose_nms(keypoints: Tensor,
             scores: Tensor,
             dist_thr: float = 0.05,
             num_nearby_joints_thr: Optional[int] = None,
             max_dets: int = 30,
             visit: str = 'score') -> Tensor:
    """DEKR's nearby-joints pose NMS in tensor operations.

    The rule of :func:`mmpose.evaluation.functional.nearby_joints_nms`
    (with ``score_per_joint=True``), vectorised on the device of the
    inputs: pose ``j`` is close to pose ``i`` when
    more than ``num_nearby_joints_thr`` of their keypoints lie closer than
    ``dist_thr`` times the diagonal of the bounding box of pose ``i``.
    Visiting the poses by decreasing mean keypoint score (MMPose's order,
    ``visit='score'``) or by index (official DEKR's ``nms_core``, which
    visits them as decoded: scale after scale, by decreasing centre score;
    ``visit='index'``), each pose not yet suppressed keeps the
    best-scoring pose close to it, unless that one is suppressed, and then
    suppresses all poses close to it. At most ``max_dets`` poses of the
    highest scores are returned.

    Ties are decided by index, as by the stable sorts of the NumPy twin
    :func:`samkr_deploy.pose_nms`: poses of equal mean score are visited
    by increasing index, and the best-scoring close pose is the one of the
    lowest index among equals. MMPose's function visits equal scores in
    the reverse of NumPy's (unstable) ``argsort`` instead, so with ties its
    order differs; without ties the two agree. A pose always counts as
    close to itself; MMPose's function raises an ``IndexError`` on a pose
    whose keypoints all coincide instead.

    Args:
        keypoints (Tensor): Poses in shape (N, K, 2).
        scores (Tensor): Keypoint scores in shape (N, K).
        dist_thr (float): Distance threshold relative to the pose diagonal.
            Defaults to 0.05.
        num_nearby_joints_thr (int, optional): Close keypoints needed to
            call two poses close. Defaults to ``K // 2``.
        max_dets (int): Most poses kept; 0 or less keeps all. Defaults to
            30.
        visit (str): ``'score'`` or ``'index'``. Defaults to ``'score'``.

    Returns:
        Tensor: Indices of the kept poses in the order in which the pass
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
    if visit not in ('score', 'index'):
        raise ValueError(f"visit must be 'score' or 'index', got {visit!r}")
    if num_people == 0:
        return torch.zeros(0, dtype=torch.long, device=keypoints.device)

    scores = scores.mean(-1)
    diagonal = (keypoints.amax(1) - keypoints.amin(1)).norm(dim=-1)
    distances = (keypoints[:, None] - keypoints).norm(dim=-1)
    close = ((distances < diagonal[:, None, None] * dist_thr).sum(-1)
             > num_nearby_joints_thr)
    close.diagonal().fill_(True)

    # greedy pass, a fixed number of steps
    order = (
        scores.argsort(descending=True, stable=True) if visit == 'score' else
        torch.arange(num_people, device=scores.device))
    masked = torch.where(close, scores, -float('inf'))
    suppressed = torch.zeros_like(scores, dtype=torch.bool)
    kept, keeps = [], []
    for i in order.unbind():
        best = masked[i].argmax()
        keep = ~suppressed[i] & ~suppressed[best]
        suppressed = suppressed | (close[i] & keep)
        kept.append(best)
        keeps.append(keep)
    kept = torch.stack(kept)[torch.stack(keeps)]

    if 0 < max_dets < len(kept):
        kept = kept[scores[kept].argsort(descending=True,
                                         stable=True)[:max_dets]]
    return kept
