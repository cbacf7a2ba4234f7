# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import numpy as np
import pytest
import torch

from mmpose.evaluation.functional import nearby_joints_nms
from samkr_mmpose.models.utils import pose_nms


def clustered_poses(seed, num_people=20, num_keypoints=17):
    """Poses around a few centres, so that many of them overlap."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 200, (4, 1, 2))[rng.integers(0, 4, num_people)]
    shape = rng.normal(0, 30, (1, num_keypoints, 2))
    keypoints = centres + shape + rng.normal(0, rng.uniform(0.5, 4),
                                             (num_people, num_keypoints, 2))
    scores = rng.uniform(0, 1, (num_people, num_keypoints))
    return keypoints, scores


def mmpose_nms(keypoints, scores, dist_thr, joints_thr, max_dets):
    kpts_db = [dict(keypoints=k, score=s) for k, s in zip(keypoints, scores)]
    return nearby_joints_nms(
        kpts_db, dist_thr, joints_thr, score_per_joint=True, max_dets=max_dets)


@pytest.mark.parametrize('seed', range(12))
@pytest.mark.parametrize('dist_thr,joints_thr,max_dets', [(0.05, None, 30),
                                                          (0.1, 4, 30),
                                                          (0.2, None, 3),
                                                          (0.05, 0, 0)])
def test_equals_mmpose(seed, dist_thr, joints_thr, max_dets):
    keypoints, scores = clustered_poses(seed)
    expected = mmpose_nms(keypoints, scores, dist_thr, joints_thr, max_dets)
    kept = pose_nms(
        torch.from_numpy(keypoints), torch.from_numpy(scores), dist_thr,
        joints_thr, max_dets)
    assert kept.tolist() == list(expected)
    # the cases suppress some poses but not all
    assert 0 < len(expected) < len(keypoints)


def test_float32_equals_float64():
    keypoints, scores = clustered_poses(0)
    kept = [
        pose_nms(
            torch.from_numpy(keypoints).to(dtype),
            torch.from_numpy(scores).to(dtype)).tolist()
        for dtype in (torch.float32, torch.float64)
    ]
    assert kept[0] == kept[1]


def test_no_poses_and_degenerate_poses():
    assert pose_nms(torch.zeros(0, 17, 2), torch.zeros(0, 17)).numel() == 0
    # all keypoints of a pose at one point: MMPose's function fails on it
    keypoints = torch.zeros(2, 17, 2)
    keypoints[1] += 100
    with pytest.raises(ValueError):
        mmpose_nms(keypoints.numpy(), np.ones((2, 17)), 0.05, None, 30)
    kept = pose_nms(keypoints, torch.tensor([[0.5] * 17, [0.9] * 17]))
    assert kept.tolist() == [1, 0]


@pytest.mark.parametrize('kwargs,match', [
    (dict(dist_thr=0), 'dist_thr must be positive, got 0'),
    (dict(num_nearby_joints_thr=17), r'num_nearby_joints_thr must be in '
     r'\[0, 17\) for 17 keypoints, got 17'),
])
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pose_nms(torch.rand(3, 17, 2), torch.rand(3, 17), **kwargs)


def test_visit_order_is_checked():
    keypoints = torch.zeros(2, 17, 2)
    with pytest.raises(
            ValueError, match="visit must be 'score' or 'index', "
            "got 'random'"):
        pose_nms(keypoints, torch.ones(2, 17), visit='random')
