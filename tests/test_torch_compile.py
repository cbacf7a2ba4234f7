# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The head compiles to one graph: no graph breaks for torch.compile and
no host round trips that would stop CUDA graph capture."""
import pytest
import torch

import samkr_mmpose  # noqa: F401  (registers the models)
from mmpose.registry import MODELS


@pytest.mark.parametrize('per_keypoint_branches', [True, False])
def test_head_forward_is_one_graph(per_keypoint_branches):
    head = MODELS.build(
        dict(
            type='SAMKRHead',
            in_channels=32,
            num_keypoints=17,
            num_channels_per_keypoint=16,
            num_subspaces=8 if per_keypoint_branches else 16,
            per_keypoint_branches=per_keypoint_branches,
            deform_backend='torch',
            heatmap_loss=dict(type='AdaptiveHeatmapLoss'),
            scale_loss=dict(type='HeatmapScaleLoss')))
    feats = (torch.randn(2, 32, 16, 16), )
    # fullgraph=True raises at the first graph break
    compiled = torch.compile(head.forward, fullgraph=True, backend='eager')

    head.eval()
    with torch.no_grad():
        for got, expected in zip(compiled(feats), head.forward(feats)):
            torch.testing.assert_close(got, expected, rtol=0, atol=0)

    head.train()
    grads = []
    for forward in (compiled, head.forward):
        head.zero_grad()
        sum(out.square().sum() for out in forward(feats)).backward()
        grads.append(
            [p.grad.clone() for p in head.parameters() if p.grad is not None])
    assert len(grads[0]) == len(grads[1]) > 0
    for got, expected in zip(*grads):
        torch.testing.assert_close(got, expected)
