# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import pytest
import torch
import torch.nn as nn
from helpers import assert_close

from samkr_mmpose import SubspaceAttention


class LoopSubspace(nn.Module):
    """One ULSAM subspace written out as in eq. 9, for reference."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(channels, channels, 1, groups=channels, bias=False)
        self.dw_bn = nn.BatchNorm2d(channels)
        self.pw = nn.Conv2d(channels, 1, 1, bias=False)
        self.pw_bn = nn.BatchNorm2d(1)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.dw_bn(self.dw(f)))
        a = nn.functional.max_pool2d(a, 3, stride=1, padding=1)
        a = torch.relu(self.pw_bn(self.pw(a)))
        b, _, h, w = a.shape
        a = torch.softmax(a.reshape(b, -1), dim=1).reshape(b, 1, h, w)
        return a * f + f


def loop_reference(sam: SubspaceAttention) -> nn.ModuleList:
    """Per-subspace modules holding the slices of ``sam``'s parameters."""
    g = sam.num_subspaces
    c = sam.depthwise.conv.in_channels
    s = c // g
    subspaces = nn.ModuleList(LoopSubspace(s) for _ in range(g))
    for j, sub in enumerate(subspaces):
        part = slice(j * s, (j + 1) * s)
        sub.dw.weight.data.copy_(sam.depthwise.conv.weight[part])
        sub.pw.weight.data.copy_(sam.pointwise.conv.weight[j:j + 1])
        for ref, bn, idx in ((sub.dw_bn, sam.depthwise.bn, part),
                             (sub.pw_bn, sam.pointwise.bn, slice(j, j + 1))):
            ref.weight.data.copy_(bn.weight[idx])
            ref.bias.data.copy_(bn.bias[idx])
            ref.running_mean.copy_(bn.running_mean[idx])
            ref.running_var.copy_(bn.running_var[idx])
    return subspaces


def loop_forward(subspaces: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
    chunks = x.chunk(len(subspaces), dim=1)  # eq. 3
    return torch.cat([sub(f) for sub, f in zip(subspaces, chunks)], dim=1)


def randomise(sam: SubspaceAttention) -> None:
    for bn in (sam.depthwise.bn, sam.pointwise.bn):
        bn.weight.data.uniform_(0.5, 2)
        bn.bias.data.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2)


@pytest.mark.parametrize('channels,num_subspaces', [(16, 8),
                                                    (272, 136), (16, 1),
                                                    (16, 16), (48, 24)])
@pytest.mark.parametrize('training', [True, False])
def test_equals_per_subspace_loop(channels, num_subspaces, training):
    sam = SubspaceAttention(channels, num_subspaces)
    randomise(sam)
    # float64: the two sum the gradients in other orders, and float32
    # sums of terms that cancel differ in their last bits
    ref = loop_reference(sam).double()
    sam.double().train(training)
    ref.train(training)
    # sharp inputs so that the attention maps are far from uniform
    x = torch.randn(2, channels, 9, 11, dtype=torch.float64) * 4
    x_ref = x.clone().requires_grad_()
    x.requires_grad_()

    out, out_ref = sam(x), loop_forward(ref, x_ref)
    assert out.shape == x.shape
    assert_close(out - x, out_ref - x_ref, 1e-5)
    assert_close(out, out_ref, 1e-6)

    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (out_ref * weights).sum().backward()
    assert_close(x.grad, x_ref.grad, 1e-5)
    pairs = ((sam.depthwise.conv.weight,
              'dw.weight'), (sam.depthwise.bn.weight, 'dw_bn.weight'),
             (sam.depthwise.bn.bias, 'dw_bn.bias'), (sam.pointwise.conv.weight,
                                                     'pw.weight'),
             (sam.pointwise.bn.weight, 'pw_bn.weight'), (sam.pointwise.bn.bias,
                                                         'pw_bn.bias'))
    for param, name in pairs:
        expected = torch.cat([sub.get_parameter(name).grad for sub in ref])
        assert_close(param.grad, expected, 1e-4)
    if training:
        assert_close(sam.depthwise.bn.running_mean,
                     torch.cat([sub.dw_bn.running_mean for sub in ref]), 1e-6)


def test_one_map_per_subspace_shared_by_its_channels():
    sam = SubspaceAttention(8, 4).eval()
    x = torch.rand(1, 8, 5, 5) + 0.1
    gain = sam(x) / x - 1  # the attention map of each channel
    maps = gain.view(1, 4, 2, 25)
    assert torch.allclose(maps[:, :, 0], maps[:, :, 1], atol=1e-6)
    assert torch.allclose(maps.sum(-1), torch.ones(1, 4, 2), atol=1e-5)


def test_softmax_is_stable_for_large_activations():
    sam = SubspaceAttention(16, 8).eval()
    x = (torch.rand(1, 16, 8, 8) + 0.5) * 1e4
    out = sam(x)
    assert torch.isfinite(out).all()
    maps = (out - x) / x
    assert torch.allclose(
        maps.view(1, 8, 2, 64).sum(-1), torch.ones(1, 8, 2), atol=1e-3)


@pytest.mark.parametrize('channels,num_subspaces', [(16, 3), (16, 0), (8, -2)])
def test_impossible_subspaces_raise(channels, num_subspaces):
    with pytest.raises(
            ValueError, match=rf'\({channels}\).*'
            rf'\({num_subspaces}\)'):
        SubspaceAttention(channels, num_subspaces)
