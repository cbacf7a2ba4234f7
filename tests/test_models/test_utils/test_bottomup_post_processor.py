# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The test-time modules of the SAMKR head serve MMPose's DEKRHead too."""
import numpy as np
import pytest
import torch
from helpers import dataset_meta, make_batch, spr_codec

from mmpose.registry import MODELS
from samkr_mmpose.models.layers import DEKR_LAYOUT, DisplacementBranchLayout
from samkr_mmpose.models.utils import (BottomupPostProcessor, merge_flipped,
                                       resample)

pytestmark = pytest.mark.usefixtures('one_thread')
RESCORE = dict(in_channels=74, norm_indexes=(5, 6))


def dekr_head():
    """A stock MMPose DEKRHead with a rescore net and random weights."""
    head = MODELS.build(
        dict(
            type='DEKRHead',
            in_channels=32,
            num_keypoints=17,
            decoder=dict(spr_codec(), decode_thr=-1.),
            rescore_cfg=RESCORE)).eval()
    with torch.no_grad():
        for param in head.parameters():
            param.normal_(0, 0.1)
    return head


def post_processor(head):
    return BottomupPostProcessor(head.decoder, head.rescore_net,
                                 head.num_keypoints)


def test_dekr_head_decode_equals_post_processing():
    head = dekr_head()
    metainfo = dict(skeleton_links=dataset_meta(17)['skeleton_links'])
    with torch.no_grad():
        heatmaps, displacements = head.forward((torch.randn(2, 32, 16, 16), ))
        expected = head.decode([heatmaps], [displacements], {}, metainfo)
        preds = post_processor(head)([heatmaps], [displacements], {}, metainfo)
    assert len(preds) == 2
    for pred, reference in zip(preds, expected):
        assert len(pred.keypoints) > 0
        np.testing.assert_array_equal(pred.keypoints, reference.keypoints)
        np.testing.assert_array_equal(pred.keypoint_scores,
                                      reference.keypoint_scores)


def test_dekr_head_flip_multiscale_matching():
    """MMPose's DEKRHead outputs through merge_flipped, multi-scale merging,
    NMS, heatmap matching and rescoring."""
    head = dekr_head()
    meta = dataset_meta(17)
    metainfo = dict(
        skeleton_links=meta['skeleton_links'], aug_scales=[0.5, 2.])
    heatmaps, displacements = [], []
    with torch.no_grad():
        for size, scale in ((16, 1.), (8, .5), (32, 2.)):
            feats = torch.randn(1, 32, size, size)
            plain = head.forward((feats, ))
            flipped = head.forward((feats.flip(-1), ))
            heatmap, displacement = merge_flipped(plain[0], plain[1], *flipped,
                                                  meta['flip_indices'],
                                                  scale * 64)
            heatmaps.append(heatmap)
            displacements.append(displacement)
        (pred, ) = post_processor(head)(heatmaps, displacements,
                                        dict(
                                            multiscale_test=True,
                                            match_heatmap=True,
                                            nms_dist_thr=0.05,
                                            max_num_people=10), metainfo)
    assert len(pred.keypoints) > 0 and pred.keypoints.shape[1:] == (17, 2)
    assert pred.keypoint_scores.shape == pred.keypoints.shape[:2]
    assert np.isfinite(pred.keypoints).all()


def test_merge_flipped_equals_dekr_head_predict():
    head = dekr_head()
    (sample, ) = make_batch(17, batch_size=1)
    feats = torch.randn(1, 32, 16, 16)
    cfg = dict(flip_test=True, shift_heatmap=True, output_heatmaps=True)
    with torch.no_grad():
        _, (fields, ) = head.predict([(feats, ), (feats.flip(-1), )], [sample],
                                     cfg)
        heatmaps, displacements = merge_flipped(
            *head.forward((feats, )),
            *head.forward((feats.flip(-1), )),
            sample.metainfo['flip_indices'],
            64,
            shift_heatmap=True)
    assert torch.equal(fields.heatmaps, heatmaps[0])
    assert torch.equal(fields.displacements, displacements[0])
    with pytest.raises(ValueError, match='16 entries for 17 keypoints'):
        merge_flipped(heatmaps, displacements, heatmaps, displacements,
                      list(range(16)), 64)


def test_resample_identity_and_scale():
    maps = torch.rand(3, 6, 8)
    assert torch.allclose(
        resample(maps, (6, 8), 1., torch.zeros(2)), maps, atol=1e-6)
    half = resample(maps, (3, 4), 2., torch.zeros(2))
    assert torch.allclose(half, maps[:, ::2, ::2], atol=1e-6)


def test_layout_indices():
    layout = DisplacementBranchLayout(1)
    assert (layout.input_conv, list(layout.adaptive_blocks), layout.attention,
            layout.output_conv) == (0, [1], 2, 3)
    assert (DEKR_LAYOUT.attention, DEKR_LAYOUT.output_conv) == (None, 3)
    assert layout.prefix(3, 'head.') == 'head.displacement_conv_layers.3.'
    head = MODELS.build(dict(type='DEKRHead', in_channels=8, num_keypoints=2))
    keys = {
        k.split('.')[1]
        for k in head.state_dict() if k.startswith(DEKR_LAYOUT.prefix())
    }
    assert keys == {'0', '1', '2', '3'}
