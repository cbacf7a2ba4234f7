# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The PyTorch and NumPy twins (``heatmap_matching``, ``pose_nms``,
``resample``) give equal results on equal inputs, ties and edge cases
included.

The inputs derive from the annotated real photos of ``../shared/data``
(where they exist) and from generated crowds: Gaussian heatmaps at the
ground-truth keypoints at the codec's resolution (an input of 512 pixels on
the long side, 128 heatmap pixels), resampled to the input resolution, and
noisy regressed keypoints around the ground truth.
"""
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import ROOT

import samkr_deploy
from samkr_mmpose.datasets import render_synthetic_image
from samkr_mmpose.models.utils import heatmap_matching, pose_nms
from samkr_mmpose.models.utils import resample as torch_resample

ANN_FILES = sorted(
    glob.glob(osp.join(osp.dirname(ROOT), 'shared', 'data', '*', '*.json')))
RATIO = 4

pytestmark = pytest.mark.usefixtures('one_thread')


def annotated_scenes():
    """Ground-truth poses (N, K, 2) and visibilities (N, K) of every real
    photo scaled to 512 pixels on the long side, and of generated crowds."""
    scenes = []
    for ann_file in ANN_FILES:
        with open(ann_file) as f:
            data = json.load(f)
        for image in data['images']:
            anns = [
                a for a in data['annotations'] if a['image_id'] == image['id']
                and max(a['keypoints'][2::3], default=0) > 0
            ]
            if not anns:
                continue
            keypoints = np.array([a['keypoints'] for a in anns],
                                 np.float32).reshape(len(anns), -1, 3)
            scale = 512 / max(image['width'], image['height'])
            size = (round(image['width'] * scale),
                    round(image['height'] * scale))
            visible = keypoints[..., 2] > 0
            scenes.append((keypoints[..., :2] * scale, visible, size))
    rng = np.random.default_rng(0)
    for _ in range(3):
        _, keypoints, _ = render_synthetic_image(rng, (256, 192), (3, 6))
        visible = keypoints[..., 2] > 0
        scenes.append(
            (keypoints[..., :2].astype(np.float32), visible, (256, 192)))
    return scenes


SCENES = annotated_scenes()


def draw_heatmaps(keypoints, visible, size, rng):
    """Gaussian heatmaps (K, h, w) of sigma 2 at the visible keypoints, at
    1 / RATIO of the input ``size``, with a little noise."""
    width, height = (-(-n // RATIO) for n in size)
    rows, cols = np.mgrid[:height, :width].astype(np.float32)
    heatmaps = np.zeros((keypoints.shape[1], height, width), np.float32)
    for pose, seen in zip(keypoints / RATIO, visible):
        for k in np.flatnonzero(seen):
            x, y = pose[k]
            heatmaps[k] = np.maximum(
                heatmaps[k], np.exp(-((cols - x)**2 + (rows - y)**2) / 8))
    heatmaps += rng.uniform(-0.02, 0.02, heatmaps.shape).astype(np.float32)
    return heatmaps


def upsampled(heatmaps):
    """Both twins' heatmaps at the input resolution, asserted equal."""
    size = [n * RATIO for n in heatmaps.shape[1:]]
    expected = torch_resample(
        torch.from_numpy(heatmaps), size, torch.tensor([1 / RATIO] * 2),
        torch.zeros(2)).numpy()
    actual = samkr_deploy.resample(heatmaps, size, [1 / RATIO] * 2, (0, 0))
    np.testing.assert_array_equal(actual, expected)
    return actual


def assert_matching_equal(keypoints, scores, heatmaps, **kwargs):
    expected = heatmap_matching(
        torch.from_numpy(keypoints), torch.from_numpy(scores),
        torch.from_numpy(heatmaps), **kwargs).numpy()
    actual = samkr_deploy.heatmap_matching(keypoints, scores, heatmaps,
                                           **kwargs)
    assert actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-3)
    return actual


def assert_nms_equal(keypoints, scores, **kwargs):
    expected = pose_nms(
        torch.from_numpy(keypoints), torch.from_numpy(scores),
        **kwargs).tolist()
    actual = samkr_deploy.pose_nms(keypoints, scores, **kwargs).tolist()
    assert actual == expected
    return actual


@pytest.mark.parametrize('scene', range(len(SCENES)))
def test_matching_and_nms_on_annotated_scenes(scene):
    keypoints, visible, size = SCENES[scene]
    rng = np.random.default_rng(scene)
    heatmaps = upsampled(draw_heatmaps(keypoints, visible, size, rng))
    # two noisy detections of every person, the copies with equal scores
    noisy = np.concatenate(
        (keypoints + rng.normal(0, 3, keypoints.shape),
         keypoints + rng.normal(0, 3, keypoints.shape))).astype(np.float32)
    scores = rng.uniform(0, 0.2, keypoints.shape[:2]).astype(np.float32)
    scores = np.concatenate((scores, scores))
    kept = assert_nms_equal(noisy, scores, dist_thr=0.05)
    assert 0 < len(kept) < len(noisy)
    matched = assert_matching_equal(noisy[kept], scores[kept], heatmaps)
    assert (matched != noisy[kept]).any()
    # the crash of the NumPy twin: nothing to refine
    assert_matching_equal(noisy, scores, heatmaps, adjust_threshold=1.)
    # few peaks kept: the cut goes through ties at the replicated border
    assert_matching_equal(noisy, scores, heatmaps, max_peaks=3)


def test_matching_ties_at_the_peak_limit_and_equal_distances():
    heatmaps = np.zeros((2, 20, 24), np.float32)
    # channel 0: a plateau of four peaks of one height and a lower peak
    heatmaps[0, 2:4, 2:4] = 1
    heatmaps[0, 15, 20] = .5
    # channel 1: two equal peaks at distance 5 from (10, 10)
    heatmaps[1, 10, 5] = heatmaps[1, 10, 15] = 1
    keypoints = np.array([[[3.4, 3.6], [10., 10.]], [[19., 14.], [10., 4.]]],
                         np.float32)
    scores = np.zeros((2, 2), np.float32)
    for max_peaks in (1, 2, 3, 30):
        matched = assert_matching_equal(
            keypoints, scores, heatmaps, max_peaks=max_peaks)
    assert matched[0].tolist() == [[3., 3.], [5., 10.]]
    # the first of the plateau in pixel order: (2, 2)
    matched = assert_matching_equal(
        keypoints, scores, heatmaps, max_peaks=1, max_absorb_distance=100)
    assert matched[:, 0].tolist() == [[2., 2.], [2., 2.]]


@pytest.mark.parametrize(
    'case',
    ['all_zero', 'one_pixel', 'border', 'single', 'no_keypoints', 'uniform'])
def test_matching_edge_cases(case):
    rng = np.random.default_rng(0)
    heatmaps = rng.uniform(0, 1, (3, 12, 16)).astype(np.float32)
    keypoints = rng.uniform(0, 16, (4, 3, 2)).astype(np.float32)
    scores = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    if case == 'all_zero':
        heatmaps[:] = 0
    elif case == 'one_pixel':
        heatmaps = heatmaps[:, :1, :1].copy()
    elif case == 'border':
        keypoints[:, :, 0] = [-3, 0, 15.5]
        keypoints[:, :, 1] = [11.5, 20, -0.5]
    elif case == 'single':
        keypoints, scores = keypoints[:1], scores[:1]
    elif case == 'no_keypoints':
        keypoints, scores = keypoints[:0], scores[:0]
    else:
        heatmaps[:] = 0.5
    assert_matching_equal(keypoints, scores, heatmaps)
    assert_matching_equal(keypoints, scores, heatmaps, adjust_threshold=2.)


def test_matching_bad_max_peaks_raise():
    args = np.zeros((1, 2, 2)), np.zeros((1, 2)), np.ones((2, 4, 4))
    with pytest.raises(ValueError, match='max_peaks must be positive, got 0'):
        samkr_deploy.heatmap_matching(*args, max_peaks=0)
    with pytest.raises(ValueError, match='max_peaks must be positive, got 0'):
        heatmap_matching(*map(torch.from_numpy, args), max_peaks=0)


def test_nms_ties_by_index():
    rng = np.random.default_rng(0)
    pose = rng.normal(0, 30, (17, 2))
    # three copies of one pose, two far poses; equal scores throughout
    keypoints = np.stack([pose, pose + 200, pose + 0.1, pose - 200,
                          pose]).astype(np.float32)
    scores = np.full((5, 17), 0.5, np.float32)
    assert assert_nms_equal(keypoints, scores) == [0, 1, 3]
    assert assert_nms_equal(keypoints, scores, max_dets=2) == [0, 1]
    scores[4] = 0.9
    assert assert_nms_equal(keypoints, scores) == [4, 1, 3]


@pytest.mark.parametrize('num_people', [0, 1, 2])
def test_nms_edge_cases(num_people):
    keypoints = np.zeros((num_people, 17, 2), np.float32)
    # all keypoints of a pose at one point
    keypoints[1:] = 5
    assert_nms_equal(keypoints, np.ones((num_people, 17), np.float32))


def test_merge_flipped_of_an_empty_batch():
    maps = np.zeros((0, 18, 4, 5), np.float32)
    offsets = np.zeros((0, 34, 4, 5), np.float32)
    merged = samkr_deploy.merge_flipped(maps, offsets, maps, offsets,
                                        list(range(17)), 20)
    assert [m.shape for m in merged] == [maps.shape, offsets.shape]


@pytest.mark.parametrize('shape', [(1, 1), (1, 5), (6, 1), (13, 17)])
def test_resample_equals_torch(shape):
    maps = np.random.default_rng(0).uniform(-1, 1,
                                            (2, ) + shape).astype(np.float32)
    for size, scale, shift in (((7, 9), 0.3, (-0.5, 1.7)),
                               ((4 * shape[0], 4 * shape[1]), (.25, .25),
                                (0, 0))):
        expected = torch_resample(
            torch.from_numpy(maps), size, torch.tensor(scale),
            torch.tensor(shift)).numpy()
        actual = samkr_deploy.resample(maps, size, scale, shift)
        assert actual.dtype == np.float32
        np.testing.assert_array_equal(actual, expected)
