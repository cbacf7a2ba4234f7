# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""MMPose's DEKR head on the kernel SAMKR uses gives mmcv's outputs and
gradients, with DEKRHead's parameters and checkpoints."""
import os.path as osp

import pytest
import torch
from helpers import ROOT, spr_codec
from mmengine.config import Config

import samkr_mmpose  # noqa: F401  (registers the models)
from mmpose.registry import MODELS
from samkr_mmpose.models import MultiBackendDeformConv2d

pytestmark = pytest.mark.usefixtures('one_thread')


def build(type_, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type=type_,
            in_channels=16,
            num_keypoints=17,
            decoder=spr_codec(),
            **kwargs))


def outputs_and_grads(head, feats):
    feats = feats.clone().requires_grad_()
    heatmaps, displacements = head.forward((feats, ))
    (heatmaps.square().sum() + displacements.square().sum()).backward()
    grads = {n: p.grad.clone() for n, p in head.named_parameters()}
    return heatmaps, displacements, feats.grad, grads


def test_same_parameters_as_dekr_head():
    stock = build('DEKRHead')
    head = build('MultiBackendDEKRHead', deform_backend='torch')
    convs = [
        m for m in head.modules() if isinstance(m, MultiBackendDeformConv2d)
    ]
    # two adaptive blocks, each one deformable conv grouped by keypoint
    assert len(convs) == 2
    assert all(m.backend == 'torch' for m in convs)
    stock_state, state = stock.state_dict(), head.state_dict()
    assert list(state) == list(stock_state)
    for key in state:
        torch.testing.assert_close(
            state[key], stock_state[key], rtol=0, atol=0)
    head.load_state_dict(stock_state, strict=True)


@pytest.mark.parametrize('backend,tol', [('mmcv', 0), ('torch', 1e-4)])
def test_outputs_and_gradients_equal_mmcv(backend, tol):
    stock = build('DEKRHead')
    head = build('MultiBackendDEKRHead', deform_backend=backend)
    feats = torch.randn(
        2, 16, 16, 16, generator=torch.Generator().manual_seed(1))
    expected = outputs_and_grads(stock, feats)
    actual = outputs_and_grads(head, feats)
    for out, ref in zip(actual[:3], expected[:3]):
        torch.testing.assert_close(out, ref, rtol=tol, atol=tol)
    for name, grad in actual[3].items():
        torch.testing.assert_close(
            grad, expected[3][name], rtol=tol, atol=tol * 10)


def test_same_kernel_config_builds():
    """The benchmark's DEKR-W32 on SAMKR's kernel."""
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'dekr',
                 'dekr-torchkernel_hrnet-w32_8xb10-140e_coco-512x512.py'))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert type(model.head).__name__ == 'MultiBackendDEKRHead'
    backends = {
        m.backend
        for m in model.modules() if isinstance(m, MultiBackendDeformConv2d)
    }
    assert backends == {'torch'}


def test_dekr_protocol_is_refused():
    head = build('MultiBackendDEKRHead', deform_backend='torch')
    with pytest.raises(
            ValueError,
            match="MultiBackendDEKRHead decodes with MMPose's protocol, got "
            "test_cfg protocol='dekr'"):
        head.predict((torch.zeros(1, 16, 16, 16), ), [], dict(protocol='dekr'))
