# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import pytest
import torch
from mmengine.analysis import FlopAnalyzer

from mmpose.registry import MODELS
from samkr_mmpose import MultiBackendDeformConv2d
from samkr_mmpose.utils import model_complexity


def test_deform_conv_counts_as_a_convolution():
    conv = MultiBackendDeformConv2d(
        8, 6, 3, padding=1, groups=2, deform_groups=2, backend='mmcv')
    inputs = (torch.randn(2, 8, 5, 7), torch.randn(2, 36, 5, 7))
    stats = model_complexity(conv, inputs)
    assert stats['flops'] == 2 * 6 * (8 // 2) * 9 * 5 * 7
    assert stats['params'] == 6 * 4 * 9


@pytest.mark.parametrize('head_type', ['DEKRHead', 'SAMKRHead'])
def test_head_count_includes_its_deformable_convolutions(head_type):
    cfg = dict(type=head_type, in_channels=32, num_keypoints=17)
    if head_type == 'SAMKRHead':
        cfg['deform_backend'] = 'mmcv'
    head = MODELS.build(cfg).eval()
    feats = ((torch.randn(1, 32, 6, 6), ), )
    deform_convs = [
        m for m in head.modules()
        if m.__class__.__name__.endswith('DeformConv2d')
    ]
    assert len(deform_convs) == (2 if head_type == 'DEKRHead' else 1)
    macs = sum(m.weight.numel() * 36 for m in deform_convs)

    without = FlopAnalyzer(head, feats).unsupported_ops_warnings(False)
    assert model_complexity(head, feats)['flops'] == without.total() + macs
