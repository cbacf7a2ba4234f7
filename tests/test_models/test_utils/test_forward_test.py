# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""forward_test and flip_forward serve MMPose's stock DEKRHead: its own
predict is the reference."""
from unittest import mock

import pytest
import torch
from helpers import assert_close, make_batch, spr_codec

from mmpose.registry import MODELS
from samkr_mmpose.models.utils import flip_forward, forward_test

pytestmark = pytest.mark.usefixtures('one_thread')
SIZES = ((16, 1.), (8, .5), (32, 2.))


def dekr_head():
    """A stock MMPose DEKRHead with random weights."""
    head = MODELS.build(
        dict(
            type='DEKRHead',
            in_channels=32,
            num_keypoints=17,
            decoder=spr_codec())).eval()
    with torch.no_grad():
        for param in head.parameters():
            param.normal_(0, 0.1)
    return head


def dekr_outputs(head, feats, sample, test_cfg):
    """The heatmaps and displacements that DEKRHead.predict decodes."""
    with mock.patch.object(head, 'decode', return_value=[]) as decode:
        head.predict(feats, [sample], test_cfg)
    (heatmaps, displacements, _, _), _ = decode.call_args
    return heatmaps, displacements


@pytest.mark.parametrize('flip_test', [False, True])
@pytest.mark.parametrize('multiscale_test', [False, True])
def test_forward_test_equals_dekr_head_predict(flip_test, multiscale_test):
    head = dekr_head()
    (sample, ) = make_batch(17, batch_size=1)
    sample.set_metainfo(dict(aug_scales=[.5, 2.]))
    torch.manual_seed(0)
    feats = []
    for size, _ in SIZES if multiscale_test else SIZES[:1]:
        feat = torch.randn(1, 32, size, size)
        feats.append([(feat, ), (feat.flip(-1), )] if flip_test else (feat, ))
    feats = feats if multiscale_test else feats[0]
    test_cfg = dict(
        flip_test=flip_test,
        multiscale_test=multiscale_test,
        shift_heatmap=True)
    with torch.no_grad():
        expected = dekr_outputs(head, feats, sample, test_cfg)
        actual = forward_test(head.forward, feats, [sample], 17, test_cfg)
    for maps, reference in zip(actual, expected):
        assert len(maps) == len(reference) == (3 if multiscale_test else 1)
        for scale_maps, scale_reference in zip(maps, reference):
            assert_close(scale_maps, scale_reference, 1e-6)


def test_flip_forward_is_one_batched_forward():
    head = dekr_head()
    feats = torch.randn(2, 32, 16, 16)
    (sample, ) = make_batch(17, batch_size=1)
    flip_indices = sample.metainfo['flip_indices']
    with torch.no_grad(), mock.patch.object(
            head, 'forward', wraps=head.forward) as forward:
        heatmaps, displacements = flip_forward(head.forward,
                                               [(feats, ), (feats.flip(-1), )],
                                               flip_indices, 64)
    (batch, ), _ = forward.call_args
    assert forward.call_count == 1 and batch[0].shape == (4, 32, 16, 16)
    assert heatmaps.shape == (2, 18, 16, 16)
    assert displacements.shape == (2, 34, 16, 16)
    with pytest.raises(ValueError, match='pair of the plain.*got Tensor'):
        flip_forward(head.forward, feats, flip_indices, 64)


def test_forward_test_refuses_bad_batches():
    head = dekr_head()
    feats = torch.randn(2, 32, 16, 16)
    samples = make_batch(17, batch_size=2)
    samples[1].set_metainfo(dict(input_size=(96, 64)))
    with pytest.raises(ValueError, match=r'one input size, got \[\(64, 64\)'):
        forward_test(head.forward, (feats, ), samples, 17)
    pair = [(feats[:1], ), (feats[:1].flip(-1), )]
    with pytest.raises(ValueError, match='flip_indices of 14 keypoints'):
        forward_test(head.forward, pair, make_batch(14, batch_size=1), 17,
                     dict(flip_test=True))
