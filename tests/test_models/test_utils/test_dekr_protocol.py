# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""``test_cfg=dict(protocol='dekr')`` against a reference written from the
official DEKR code (``lib/core/inference.py``, ``lib/core/nms.py``,
``lib/utils/transforms.py`` of HRNet/DEKR): centre peaks, keypoint scores,
multi-scale averaging and the poses NMS keeps."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import spr_codec

import samkr_mmpose  # noqa: F401  (registers the models)
from mmpose.registry import KEYPOINT_CODECS
from samkr_mmpose.models.utils import (BottomupPostProcessor,
                                       dekr_centre_kernel, floored_scores,
                                       get_test_protocol, merge_scales,
                                       to_input_resolution)
from samkr_mmpose.models.utils.dekr_protocol import dekr_decoder

K = 17
RATIO = 4

pytestmark = pytest.mark.usefixtures('one_thread')

# --- the reference, from DEKR's code -----------------------------------------


def ref_up_interpolate(x, size):
    """DEKR's ``up_interpolate``: align-corners bilinear to ``size`` less
    the integer ratio plus one, then the right and bottom replicated."""
    height, width = x.shape[-2:]
    ratio_h, ratio_w = int(size[0] / height), int(size[1] / width)
    inter = F.interpolate(
        x[None],
        size=[size[0] - ratio_h + 1, size[1] - ratio_w + 1],
        align_corners=True,
        mode='bilinear')
    return F.pad(inter, (0, ratio_w - 1, 0, ratio_h - 1), mode='replicate')[0]


def ref_centres(centre_heatmap, max_people, threshold):
    """DEKR's ``get_maximum_from_heatmap`` with ``hierarchical_pool``."""
    map_size = (centre_heatmap.shape[-2] + centre_heatmap.shape[-1]) / 2
    kernel = 7 if map_size > 300 else 5 if map_size > 200 else 3
    maxm = F.max_pool2d(centre_heatmap[None], kernel, 1, kernel // 2)[0]
    peaks = centre_heatmap * (maxm == centre_heatmap).float()
    scores, index = peaks.view(-1).topk(max_people)
    keep = scores > threshold
    return index[keep], scores[keep]


def ref_heat_value(pose_coord, heatmap):
    """DEKR's ``get_heat_value``: the pixel at the floored keypoint."""
    _, height, width = heatmap.shape
    flat = heatmap[:-1].flatten(1, 2).transpose(0, 1)
    y = torch.clamp(torch.floor(pose_coord[..., 1]), 0, height - 1).long()
    x = torch.clamp(torch.floor(pose_coord[..., 0]), 0, width - 1).long()
    return torch.gather(flat, 0, y * width + x)


def ref_nms(pose_coord, heat_score, nms_thre, nms_num_thre):
    """DEKR's ``nms_core``."""
    num_people = len(pose_coord)
    extent = (pose_coord.amax(1) - pose_coord.amin(1)).pow(2).sum(-1)
    dist = (pose_coord[:, None] - pose_coord).pow(2).sum(-1).sqrt()
    near = (dist < nms_thre * extent.sqrt()[:, None, None]).sum(2)
    groups = near > nms_num_thre
    ignored, kept = set(), []
    for i in range(num_people):
        if i in ignored:
            continue
        members = groups[i].nonzero()[:, 0].tolist()
        best = members[int(torch.argmax(heat_score[members]))]
        if best in ignored:
            continue
        kept.append(best)
        ignored |= set(members)
    return kept


def ref_poses(heatmaps, displacements, scales, max_people=30, thr=0.01):
    """DEKR's ``aggregate_results`` over the scales by decreasing scale (as
    its ``valid.py`` loops; top-left aligned, as inputs whose sizes are
    exact multiples are), then the scores of its ``pose_nms`` before the
    NMS itself, normalised to the scale-1 poses."""
    size = [n * RATIO for n in heatmaps[scales.index(1.)].shape[1:]]
    heatmap_sum, poses = 0, []
    order = sorted(range(len(scales)), key=lambda i: -scales[i])
    for i in order:
        heatmap, displacement, scale = heatmaps[i], displacements[i], scales[i]
        height, width = heatmap.shape[1:]
        grid = torch.stack(
            torch.meshgrid(
                torch.arange(width, dtype=torch.float32),
                torch.arange(height, dtype=torch.float32),
                indexing='xy'))
        posemap = (grid + displacement.view(K, 2, height, width)).flatten(2)
        heatmap_sum = heatmap_sum + ref_up_interpolate(heatmap, size)
        index, ctr_score = ref_centres(heatmap[-1:], max_people, thr)
        pose = RATIO / scale * posemap[:, :, index].permute(2, 0, 1)
        poses.append((pose, ctr_score))
    heatmap_avg = heatmap_sum / len(scales)
    scale1 = [scales[i] for i in order].index(1.)
    base = poses[scale1][1]
    top = base.max() if len(base) else 1
    ctr_scores = [
        s if j == scale1 else s / (s.max() if len(s) else 1) * top
        for j, (_, s) in enumerate(poses)
    ]
    coords = torch.cat([p for p, _ in poses])
    heatval = ref_heat_value(coords, heatmap_avg)
    return heatmap_avg, coords, torch.cat(ctr_scores), heatval


# --- inputs ------------------------------------------------------------------


def codec(heatmap_size):
    cfg = spr_codec(heatmap_size * RATIO, heatmap_size)
    return KEYPOINT_CODECS.build({**cfg, 'decode_max_instances': 30})


def scene(size, seed, num_centres=12):
    """Heatmaps (K+1, h, w) with separated Gaussian centre peaks and random
    keypoint heatmaps, and smooth displacements (2K, h, w)."""
    generator = torch.Generator().manual_seed(seed)
    height, width = size
    heatmaps = torch.rand(K + 1, height, width, generator=generator) * 0.3
    y, x = torch.meshgrid(
        torch.arange(height), torch.arange(width), indexing='ij')
    heatmaps[-1] = 0
    for _ in range(num_centres):
        cy, cx = (torch.rand(2, generator=generator) *
                  torch.tensor([height, width])).tolist()
        peak = 0.2 + 0.8 * torch.rand(1, generator=generator)
        heatmaps[-1] = torch.maximum(
            heatmaps[-1], peak * torch.exp(-((y - cy)**2 + (x - cx)**2) / 8.))
    displacements = F.interpolate(
        torch.randn(1, 2 * K, 4, 4, generator=generator) * 6,
        size=size,
        mode='bilinear',
        align_corners=False)[0]
    return heatmaps, displacements


# --- the tests ---------------------------------------------------------------


@pytest.mark.parametrize('size,kernel', [((128, 128), 3), ((200, 200), 3),
                                         ((200, 202), 5), ((300, 300), 5),
                                         ((300, 302), 7)])
def test_centre_kernel(size, kernel):
    assert dekr_centre_kernel(size) == kernel


def test_protocol_is_checked():
    assert get_test_protocol({}) == 'mmpose'
    assert get_test_protocol(dict(protocol='dekr')) == 'dekr'
    with pytest.raises(ValueError, match=r"Unknown test_cfg protocol 'DEKR'"):
        get_test_protocol(dict(protocol='DEKR'))


@pytest.mark.parametrize('size', [(32, 40), (210, 230), (310, 320)])
def test_centres_as_dekr(size):
    """The same centres, scores and poses as DEKR's, at all three kernels;
    MMPose's 5x5 pool finds other centres on the small heatmap."""
    heatmaps, displacements = scene(size, seed=sum(size), num_centres=40)
    spr = codec(size[0])
    keypoints, (root_scores,
                _) = dekr_decoder(spr, size).decode(heatmaps, displacements)
    index, scores = ref_centres(heatmaps[-1:], 30, 0.01)
    _, coords, _, _ = ref_poses([heatmaps], [displacements], [1.])
    torch.testing.assert_close(root_scores, scores, rtol=0, atol=0)
    torch.testing.assert_close(keypoints, coords, rtol=0, atol=1e-4)
    assert len(index) > 5
    if size == (32, 40):
        _, (mmpose_scores, _) = spr.decode(heatmaps, displacements)
        assert len(mmpose_scores) != len(scores) or not torch.equal(
            mmpose_scores, scores)


def test_floored_scores_of_non_finite_keypoints():
    heatmaps = torch.rand(K, 8, 8)
    keypoints = torch.full((2, K, 2), 3.)
    keypoints[0, 0, 0] = float('nan')
    keypoints[1, 1, 1] = float('inf')
    scores = floored_scores(heatmaps, keypoints)
    assert scores[0, 0] == 0 and scores[1, 1] == 0
    assert scores[0, 1] == heatmaps[1, 3, 3]


def test_floored_scores_as_dekr():
    """Scores read at the floored keypoints of heatmaps upsampled as DEKR
    does, keypoints off the map included; MMPose's bilinear read differs."""
    heatmaps, _ = scene((32, 40), seed=1)
    generator = torch.Generator().manual_seed(2)
    keypoints = torch.rand(
        6, K, 2, generator=generator) * torch.tensor([180., 150.]) - 10
    upsampled = to_input_resolution(heatmaps, [RATIO, RATIO], (128, 160))
    torch.testing.assert_close(
        upsampled, ref_up_interpolate(heatmaps, (128, 160)), rtol=0, atol=1e-6)
    scores = floored_scores(upsampled[:K], keypoints)
    expected = ref_heat_value(keypoints,
                              ref_up_interpolate(heatmaps, (128, 160)))
    torch.testing.assert_close(scores, expected, rtol=0, atol=1e-6)
    bilinear = codec(32).get_keypoint_scores(heatmaps[:K], keypoints / RATIO)
    assert (bilinear - scores).abs().max() > 1e-2


@pytest.mark.parametrize('scales', [[1.], [1., 2.], [1., 0.5, 2.]])
def test_merge_scales_as_dekr(scales):
    """Heatmaps averaged at the input resolution, poses of every scale in
    the first scale's input pixels, normalised centre scores and floored
    keypoint scores: all as DEKR's."""
    base = (32, 40)
    heatmaps, displacements = [], []
    for i, scale in enumerate(scales):
        h, d = scene([round(n * scale) for n in base], seed=10 + i)
        heatmaps.append(h)
        displacements.append(d * scale)
    heatmap, keypoints, root_scores, keypoint_scores = merge_scales(
        codec(base[0]), heatmaps, displacements, scales, K, protocol='dekr')
    expected = ref_poses(heatmaps, displacements, scales)
    assert heatmap.shape == (K + 1, 128, 160)
    torch.testing.assert_close(heatmap, expected[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(keypoints, expected[1], rtol=0, atol=1e-4)
    torch.testing.assert_close(root_scores, expected[2], rtol=1e-6, atol=0)
    torch.testing.assert_close(keypoint_scores, expected[3], rtol=0, atol=1e-6)


@pytest.mark.parametrize('multiscale', [False, True])
def test_kept_poses_as_dekr(multiscale):
    """The post-processor's poses with protocol='dekr' and DEKR's NMS:
    the kept poses, their keypoints and keypoint scores (centre score times
    heat value) are DEKR's."""
    base = (32, 40)
    scales = [1., 2.] if multiscale else [1.]
    heatmaps, displacements = [], []
    for i, scale in enumerate(scales):
        h, d = scene([round(n * scale) for n in base],
                     seed=20 + i,
                     num_centres=20)
        heatmaps.append(h[None])
        displacements.append(d[None] * scale)
    test_cfg = dict(
        protocol='dekr',
        multiscale_test=multiscale,
        nms_dist_thr=0.3,
        nms_joints_thr=8,
        max_num_people=30)
    metainfo = dict(aug_scales=scales[1:]) if multiscale else {}
    (pred, ) = BottomupPostProcessor(codec(base[0]), None,
                                     K)(heatmaps, displacements, test_cfg,
                                        metainfo)
    _, coords, ctr_scores, heatval = ref_poses([h[0] for h in heatmaps],
                                               [d[0] for d in displacements],
                                               scales)
    kept = ref_nms(coords, heatval.mean(1), 0.3, 8)
    assert 3 <= len(kept) < len(coords)
    expected_keypoints = coords[kept].numpy()
    expected_scores = (ctr_scores[:, None] * heatval)[kept].numpy()
    order = np.argsort(-pred.keypoint_scores.mean(1), kind='stable')
    expected_order = np.argsort(-expected_scores.mean(1), kind='stable')
    np.testing.assert_allclose(
        pred.keypoints[order],
        expected_keypoints[expected_order],
        rtol=0,
        atol=1e-4)
    np.testing.assert_allclose(
        pred.keypoint_scores[order],
        expected_scores[expected_order],
        rtol=1e-5,
        atol=1e-6)


def test_protocols_differ_and_mmpose_is_the_default():
    """Without ``protocol`` the post-processor is MMPose's; 'dekr' moves
    scores."""
    heatmaps, displacements = scene((32, 40), seed=3)
    processor = BottomupPostProcessor(codec(32), None, K)
    default, = processor([heatmaps[None]], [displacements[None]], {})
    mmpose, = processor([heatmaps[None]], [displacements[None]],
                        dict(protocol='mmpose'))
    dekr, = processor([heatmaps[None]], [displacements[None]],
                      dict(protocol='dekr'))
    np.testing.assert_array_equal(default.keypoint_scores,
                                  mmpose.keypoint_scores)
    assert (len(dekr.keypoints) != len(mmpose.keypoints) or
            np.abs(dekr.keypoint_scores - mmpose.keypoint_scores).max() > 1e-3)
